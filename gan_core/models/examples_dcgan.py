"""The DCGAN of the PyTorch examples repository (examples/dcgan/main.py): 64x64 images, the model people most
often train while learning GANs. Same layer layout (``main``), so its saved ``netG`` state dict loads as is."""
from __future__ import annotations

import torch
from torch import nn

from gan_core.models.common import Discriminator, Generator, relu_layers
from gan_core.models.registry import Family, register


class ExamplesDCGANGenerator(Generator):
    """z (B, nz) -> 4x4 -> 8 -> 16 -> 32 -> 64 by transposed convolutions, BatchNorm and ReLU, then Tanh.

    Example:
        >>> G = ExamplesDCGANGenerator(z_dim=100, img_shape=(3, 64, 64), width=8)
        >>> G(torch.randn(2, 100)).shape
        torch.Size([2, 3, 64, 64])
    """

    def __init__(self, z_dim: int = 100, img_shape: tuple = (3, 64, 64), width: int = 64):
        super().__init__()
        self.z_dim, self.img_shape = z_dim, tuple(img_shape)
        ngf, nc = width, self.img_shape[0]
        self.main = nn.Sequential(
            nn.ConvTranspose2d(z_dim, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def latent_weight(self) -> torch.Tensor:
        """The first layer as a linear map from z, (ngf*8*4*4, nz), for closed-form directions (SeFa)."""
        w = self.main[0].weight                                               # (nz, ngf*8, 4, 4)
        return w.permute(1, 2, 3, 0).reshape(-1, self.z_dim)

    def inside_layers(self) -> dict[str, nn.Module]:
        return relu_layers(self.main)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        assert z.dim() == 2 and z.shape[1] == self.z_dim, f"z must be (B, {self.z_dim}), got {tuple(z.shape)}"
        return self.main(z[:, :, None, None])                               # (B, nc, 64, 64) in [-1, 1]


class ExamplesDCGANDiscriminator(Discriminator):
    """The examples' netD: 64 -> 32 -> 16 -> 8 -> 4 by strided convolutions, then one 4x4 conv to a logit
    (the examples end with a Sigmoid and BCELoss; this returns the logit, as every D here does)."""

    def __init__(self, img_shape: tuple = (3, 64, 64), width: int = 64):
        super().__init__()
        self.img_shape = tuple(img_shape)
        ndf, nc = width, self.img_shape[0]
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.main(x).flatten()                                        # (B,) logits


def _check(cfg) -> None:
    h, w = cfg.img_shape[1:]
    if (h, w) != (64, 64) or cfg.num_classes:
        raise ValueError(f"The PyTorch-examples DCGAN makes unconditional 64x64 images, got {h}x{w}.")


register(Family(
    name="examples-dcgan", task="noise->image", label="DCGAN of the PyTorch examples", check=_check,
    generator=lambda cfg: ExamplesDCGANGenerator(cfg.z_dim, cfg.img_shape, cfg.width),
    discriminator=lambda cfg: ExamplesDCGANDiscriminator(cfg.img_shape, cfg.width)))
