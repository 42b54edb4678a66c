"""Fully connected networks: the 2014 GAN on flattened images, and small MLPs for 2D toy data."""
from __future__ import annotations

import math

import torch
from torch import nn

from .common import Discriminator, Generator, as_onehot, maybe_sn
from .remedies import pack, remedy_layers, unpack_scores


class MLPGenerator(Generator):
    """The original GAN generator (Goodfellow et al. 2014): an MLP from z to a flattened image.

    Example:
        >>> G = MLPGenerator(z_dim=64, img_shape=(1, 28, 28))
        >>> G(torch.randn(2, 64)).shape
        torch.Size([2, 1, 28, 28])
    """

    def __init__(self, z_dim: int, img_shape: tuple, width: int = 128, num_classes: int = 0):
        super().__init__()
        self.z_dim, self.num_classes, self.img_shape = z_dim, num_classes, tuple(img_shape)
        in_dim = z_dim + num_classes  # labels enter as one-hot, concatenated to z
        dims = [in_dim, width, width * 2, width * 4]
        layers = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
        layers += [nn.Linear(dims[-1], math.prod(self.img_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def latent_weight(self) -> torch.Tensor:
        """Weight of the first layer restricted to z, (out, z_dim), for closed-form directions."""
        return self.net[0].weight[:, : self.z_dim]

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = z if not self.num_classes else torch.cat([z, as_onehot(y, self.num_classes, z)], 1)
        return self.net(h).view(z.shape[0], *self.img_shape)  # (B, C, H, W) in [-1, 1]


class MLPDiscriminator(Discriminator):
    """The original GAN discriminator: an MLP with dropout, returning one logit per image."""

    def __init__(self, img_shape: tuple, width: int = 128, num_classes: int = 0,
                 spectral_norm: bool = False):
        super().__init__()
        self.num_classes, self.img_shape = num_classes, tuple(img_shape)
        dims = [math.prod(self.img_shape) + num_classes, width * 4, width * 2, width]
        layers = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [maybe_sn(nn.Linear(a, b), spectral_norm), nn.LeakyReLU(0.2), nn.Dropout(0.3)]
        layers += [maybe_sn(nn.Linear(dims[-1], 1), spectral_norm)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = x.flatten(1)
        if self.num_classes:
            h = torch.cat([h, as_onehot(y, self.num_classes, h)], 1)
        return self.net(h).squeeze(1)  # (B,) logits


class ToyGenerator(Generator):
    """Small MLP mapping 1D or 2D noise to points in the plane (for the playground)."""

    def __init__(self, z_dim: int = 2, width: int = 64, depth: int = 3):
        super().__init__()
        self.z_dim, self.num_classes, self.img_shape = z_dim, 0, (2,)
        layers, d = [], z_dim
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.ReLU()]
            d = width
        layers.append(nn.Linear(d, 2))
        self.net = nn.Sequential(*layers)

    def latent_weight(self) -> torch.Tensor:
        return self.net[0].weight

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z)  # (B, 2), unbounded: toy data is not scaled to [-1, 1]


class ToyDiscriminator(Discriminator):
    """Small MLP from a 2D point (or ``pack`` points side by side, PacGAN) to one logit; the remedy layers
    (minibatch std, minibatch discrimination) sit before the last linear layer."""

    def __init__(self, width: int = 64, depth: int = 3, spectral_norm: bool = False, minibatch_std: bool = False,
                 minibatch_disc: int = 0, pack: int = 1):
        super().__init__()
        self.num_classes, self.img_shape, self.pack = 0, (2,), pack
        layers, d = [], 2 * pack
        for _ in range(depth):
            layers += [maybe_sn(nn.Linear(d, width), spectral_norm), nn.LeakyReLU(0.2)]
            d = width
        self.remedies, extra = remedy_layers(d, minibatch_std, minibatch_disc)
        layers.append(maybe_sn(nn.Linear(d + extra, 1), spectral_norm))
        self.net = nn.Sequential(*layers)

    def penultimate(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net[:-1](pack(x, self.pack, self.training))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        s = self.net[-1](self.remedies(self.penultimate(x))).squeeze(1)
        return unpack_scores(s, self.pack, len(x), self.training)   # (B,)
