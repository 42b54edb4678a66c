"""DCGAN (Radford et al. 2015) for 28x28 and 32x32 images, conditional or not, and the WGAN-GP critic."""
from __future__ import annotations

import torch
from torch import nn

from gan_core.models.common import (ClusterCode, Discriminator, Generator, NearestCluster, as_onehot, maybe_sn,
                                    relu_layers)
from gan_core.models.config import CLUSTER_TEMPERATURE
from gan_core.models.registry import Family, register
from gan_core.models.minibatch import pack, remedy_layers, unpack_scores


def _plan(img_shape: tuple) -> tuple[int, int]:
    """(base resolution, number of 2x up/down-samplings) for a supported image size."""
    h = img_shape[1]
    if h == 28:
        return 7, 2    # 7 -> 14 -> 28
    if h == 32:
        return 4, 3    # 4 -> 8 -> 16 -> 32
    raise ValueError(f"DCGAN supports 28x28 or 32x32 images, got {img_shape}.")


class DCGANGenerator(ClusterCode, Generator):
    """Project z to a small feature map, then upsample with strided transposed convolutions.

    A conditional generator concatenates the one-hot class (or a soft blend of classes) to z. A
    self-conditioned one (``clusters`` > 0) stays unconditional: it reads a cluster from its own z
    (the largest of the first ``clusters`` entries, shifted by ``cluster_offset`` so that clusters come
    up as often as in the real data) and concatenates that cluster's (nearly) one-hot code to z.

    Example:
        >>> G = DCGANGenerator(z_dim=64, img_shape=(1, 28, 28), num_classes=10)
        >>> G(torch.randn(4, 64), torch.tensor([0, 1, 2, 3])).shape
        torch.Size([4, 1, 28, 28])
    """

    def __init__(self, z_dim: int, img_shape: tuple, width: int = 32, num_classes: int = 0, clusters: int = 0,
                 cluster_temperature: float = CLUSTER_TEMPERATURE):
        super().__init__()
        self.z_dim, self.num_classes, self.img_shape = z_dim, num_classes, tuple(img_shape)
        self.clusters, self.cluster_temperature = clusters, cluster_temperature
        if clusters:
            assert clusters <= z_dim, "the cluster is read from the first `clusters` entries of z"
            self.register_buffer("cluster_offset", torch.zeros(clusters))  # set by the trainer (gan_core.training.clusters)
        self.base, n_up = _plan(self.img_shape)
        ch = width * 2 ** (n_up - 1)
        self.base_ch = ch
        self.project = nn.Linear(z_dim + num_classes + clusters, ch * self.base * self.base, bias=False)
        self.project_bn = nn.BatchNorm1d(ch * self.base * self.base)
        self.project_act = nn.ReLU()  # a module (no weights) so gan_core.latent.dissection can read and switch its units
        # one stride-1 conv at the base resolution before upsampling (as in the TensorFlow DCGAN MNIST
        # tutorial's generator): it lets G shape strokes before they are enlarged
        blocks = [nn.Conv2d(ch, ch, 3, 1, 1, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
        for _ in range(n_up - 1):
            blocks += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        blocks += [nn.ConvTranspose2d(ch, self.img_shape[0], 4, 2, 1), nn.Tanh()]
        self.blocks = nn.Sequential(*blocks)

    def latent_weight(self) -> torch.Tensor:
        """First-layer weight restricted to z, (out, z_dim): SeFa factorises this."""
        return self.project.weight[:, : self.z_dim]

    def inside_layers(self) -> dict[str, nn.Module]:
        """The projection (a 7x7 or 4x4 plan of the image), then every ReLU of the blocks."""
        return {"projection": self.project_act, **relu_layers(self.blocks)}

    def as_maps(self, name: str, out: torch.Tensor) -> torch.Tensor:
        if name == "projection":   # flat until forward reshapes it
            return out.view(out.shape[0], self.base_ch, self.base, self.base)
        return out

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        assert z.dim() == 2 and z.shape[1] == self.z_dim, f"z must be (B, {self.z_dim}), got {tuple(z.shape)}"
        h = z
        if self.num_classes:
            h = torch.cat([h, as_onehot(y, self.num_classes, z)], 1)
        if self.clusters:
            h = torch.cat([h, self.cluster_code(z)], 1)                # (B, z_dim + clusters)
        h = self.project_act(self.project_bn(self.project(h)))          # (B, ch*base*base)
        h = h.view(z.shape[0], self.base_ch, self.base, self.base)    # (B, ch, base, base)
        return self.blocks(h)                                           # (B, C, H, W) in [-1, 1]


class DCGANDiscriminator(NearestCluster, Discriminator):
    """Strided convolutions with LeakyReLU down to a logit.

    Args:
        batchnorm: BatchNorm after every conv but the first (DCGAN). A WGAN-GP critic must not use it:
            the gradient penalty is defined per sample, and BatchNorm mixes samples.
        num_classes: when > 0, the class is given as an extra image channel (a learned map per class).
        clusters: when > 0 (self-conditioning), the same, for one of this many k-means clusters of the real
            images; ``centroids`` holds their centres, so ``forward(x)`` without ``y`` judges an image as a
            member of its nearest cluster. ``num_classes`` stays 0: to its users the model is unconditional.
        aux_classes: when > 0, a second head on the same features names the image's class (AC-GAN,
            Odena et al. 2017); read it with ``scores_and_classes``. ``forward`` still returns the score only.
        minibatch_std, minibatch_disc, pack: remedies for mode collapse (see ``remedies``).
    """

    def __init__(self, img_shape: tuple, width: int = 32, num_classes: int = 0,
                 batchnorm: bool = True, spectral_norm: bool = False, aux_classes: int = 0, clusters: int = 0,
                 minibatch_std: bool = False, minibatch_disc: int = 0, pack: int = 1):
        super().__init__()
        assert not (num_classes and clusters), "a discriminator is told classes or clusters, not both"
        assert pack == 1 or not (num_classes or clusters), "packed samples carry no labels"
        self.pack = pack
        self.num_classes, self.aux_classes, self.img_shape = num_classes, aux_classes, tuple(img_shape)
        self.clusters = clusters
        c, h, w = self.img_shape
        base, n_down = _plan(self.img_shape)
        if num_classes or clusters:
            self.label_map = nn.Linear(num_classes or clusters, h * w, bias=False)
        if clusters:
            self.register_buffer("centroids", torch.zeros(clusters, c * h * w))  # set by the trainer
        layers, in_ch, ch = [], (c + (1 if num_classes or clusters else 0)) * pack, width
        for i in range(n_down):
            layers.append(maybe_sn(nn.Conv2d(in_ch, ch, 4, 2, 1, bias=not batchnorm or i == 0), spectral_norm))
            if batchnorm and i > 0:
                layers.append(nn.BatchNorm2d(ch))
            layers.append(nn.LeakyReLU(0.2, True))
            in_ch, ch = ch, ch * 2
        self.features = nn.Sequential(*layers)
        self.remedies, extra = remedy_layers(in_ch * base * base, minibatch_std, minibatch_disc)
        self.head = maybe_sn(nn.Linear(in_ch * base * base + extra, 1), spectral_norm)
        if aux_classes:
            self.classify = maybe_sn(nn.Linear(in_ch * base * base + extra, aux_classes), spectral_norm)

    def penultimate(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The features D's head reads, before any remedy layer (B or B/pack, F): feature matching uses them."""
        assert x.shape[1:] == self.img_shape, f"expected images {self.img_shape}, got {tuple(x.shape[1:])}"
        if self.clusters and y is None:
            y = self.cluster_of(x)
        if self.num_classes or self.clusters:
            onehot = as_onehot(y, self.num_classes or self.clusters, x)
            lm = self.label_map(onehot).view(x.shape[0], 1, *self.img_shape[1:])
            x = torch.cat([x, lm], 1)                                   # (B, C+1, H, W)
        return self.features(pack(x, self.pack, self.training)).flatten(1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        s = self.head(self.remedies(self.penultimate(x, y))).squeeze(1)
        return unpack_scores(s, self.pack, len(x), self.training)      # (B,) logits / critic scores

    def scores_and_classes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Real/fake scores (B,) and class logits (B, aux_classes) from one pass over the images."""
        if not self.aux_classes:
            raise ValueError("this discriminator has no class head (aux_classes=0)")
        h = self.remedies(self.penultimate(x))
        return self.head(h).squeeze(1), self.classify(h)


def _check(cfg) -> None:
    if cfg.img_shape[1:] not in ((28, 28), (32, 32)):
        h, w = cfg.img_shape[1:]
        raise ValueError(f"Convolutional models support 28x28 or 32x32 images, got {h}x{w}.")


def _discriminator(cfg) -> DCGANDiscriminator:
    aux = cfg.conditioning == "aux-class"   # AC-GAN: D sees only the image, and names its class with a second head
    return DCGANDiscriminator(cfg.img_shape, cfg.width, 0 if aux else cfg.num_classes,
                              batchnorm=cfg.critic == "batchnorm", spectral_norm=cfg.spectral_norm,
                              aux_classes=(cfg.num_classes or cfg.clusters) if aux else 0,
                              clusters=0 if aux else cfg.clusters, minibatch_std=cfg.minibatch_std,
                              minibatch_disc=cfg.minibatch_disc, pack=cfg.pack)


register(Family(
    name="dcgan", task="noise->image", label="DCGAN", conditionings=("none", "class", "aux-class", "clusters"),
    critics=("batchnorm", "plain"), remedies=True, check=_check, discriminator=_discriminator,
    generator=lambda cfg: DCGANGenerator(cfg.z_dim, cfg.img_shape, cfg.width, cfg.num_classes, cfg.clusters,
                                         cfg.cluster_temperature)))
