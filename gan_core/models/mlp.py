"""The 2014 GAN (Goodfellow et al.): fully connected networks on flattened images (architecture "mlp")."""
from __future__ import annotations

import math

import torch
from torch import nn

from gan_core.models.common import Discriminator, Generator, as_onehot, maybe_sn
from gan_core.models.registry import Family, register


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


register(Family(
    name="mlp", task="noise->image", label="Vanilla MLP (2014)", conditionings=("none", "class"), critics=("plain",),
    generator=lambda cfg: MLPGenerator(cfg.z_dim, cfg.img_shape, cfg.width, cfg.num_classes),
    discriminator=lambda cfg: MLPDiscriminator(cfg.img_shape, cfg.width, cfg.num_classes,
                                               spectral_norm=cfg.spectral_norm)))
