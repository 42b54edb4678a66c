"""Small MLPs for 2D toy data, the playground's networks (architecture "toy", task noise -> points)."""
from __future__ import annotations

import torch
from torch import nn

from gan_core.models.common import Discriminator, Generator, maybe_sn
from gan_core.models.registry import Family, register
from gan_core.models.minibatch import pack, remedy_layers, unpack_scores


class ToyGenerator(Generator):
    """Small MLP mapping 1D or 2D noise to points in the plane (for the playground)."""
    task = "noise->points"

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


register(Family(
    name="toy", task="noise->points", label="2D toy MLP", critics=("plain",), remedies=True,
    generator=lambda cfg: ToyGenerator(cfg.z_dim, cfg.width, cfg.depth),
    discriminator=lambda cfg: ToyDiscriminator(cfg.width, cfg.depth, spectral_norm=cfg.spectral_norm,
                                               minibatch_std=cfg.minibatch_std, minibatch_disc=cfg.minibatch_disc,
                                               pack=cfg.pack)))
