"""The one description of a GAN's networks: everything needed to rebuild them from config.json."""
from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, field, fields

KINDS = ("vanilla", "dcgan", "cgan", "acgan", "wgan-gp", "toy", "examples-dcgan")
NOISES = ("gaussian", "uniform")
MAX_CLASSES = 1000          # ImageNet's count; a config.json asking for more is refused before anything is built
MAX_MLP_SIDE = 128          # the vanilla MLP GAN's largest image side (its last layer grows with H * W)
# The default softmax temperature of a self-conditioned G's cluster code (models.dcgan). The code stays a
# continuous function of z, so interpolations blend clusters instead of jumping; but the lower the
# temperature, the fewer z fall near a tie and get a blend of two clusters (with 30 clusters: 22% of z at
# 0.05, 9% at 0.02 have no entry above 0.9).
CLUSTER_TEMPERATURE = 0.05


def check_int(name: str, value, lo: int, hi: int) -> int:
    """``value`` as an int in [lo, hi], or a ValueError a student understands (64.5, "8" and True are refused:
    a config.json is read as JSON, so a wrong type means a wrong file)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number, got {value!r}.")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, got {value}.")
    return int(value)


def check_shape(value) -> tuple:
    """An image shape (C, H, W) of whole numbers, or (2,) for toy points."""
    if not isinstance(value, (list, tuple)) or len(value) not in (1, 3):
        raise ValueError(f"img_shape must be (channels, height, width), got {value!r}.")
    return tuple(check_int("img_shape", v, 1, 4096) for v in value)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a generator/discriminator pair.

    Args:
        kind: which family of networks; one of ``KINDS``. "cgan" gives the class to G and D (Mirza & Osindero
            2014); "acgan" gives it to G only, and D must name it (Odena et al. 2017). "examples-dcgan" is the
            64x64 DCGAN of the PyTorch examples repository (``width`` = its ngf), brought in by `gan-core import`.
        z_dim: size of the noise vector z fed to the generator.
        num_classes: number of class labels the networks are conditioned on (0 = unconditional).
        img_shape: (channels, height, width) of generated images; (2,) style toy data uses (2,).
        width: base width: channels of the first conv layer, or hidden units of an MLP.
        depth: hidden layers of the toy MLPs (images use a fixed depth per resolution).
        spectral_norm: wrap the discriminator's layers in spectral normalisation (Miyato et al. 2018).
        noise: distribution of z: "gaussian" N(0, I) or "uniform" U(-1, 1).
        clusters: self-conditioning (after Liu et al. 2020, "Diverse Image Generation via Self-Conditioned
            GANs"): the real images are split into this many k-means clusters without using any labels; D is
            told each image's cluster and G draws the cluster from its own z, so G stays unconditional
            (0 = off). Only for the unconditional convolutional kinds ("dcgan", "wgan-gp", "acgan" without
            classes).
        cluster_temperature: softmax temperature of G's cluster code (0.001 to 1). Lower: fewer z near a
            tie between two clusters, so fewer blended, ambiguous samples; interpolations switch cluster faster.
        minibatch_std: D gets one more feature, the spread of its features across the batch (Karras et al.
            2018), so a batch of look-alikes stands out. For the DCGAN family and toy models.
        minibatch_disc: kernels of minibatch discrimination in D (Salimans et al. 2016; 0 = off, 16 typical).
        pack: D judges this many samples at once, all real or all fake (PacGAN, Lin et al. 2018; 1 = off).
            Unconditional models only (packed samples carry no labels).

    Example:
        >>> ModelConfig(kind="cgan", num_classes=10).img_shape
        (1, 28, 28)
    """

    kind: str = "dcgan"
    z_dim: int = 64          # DCGAN used 100; 64 trains as well on 28x28 digits and is faster
    num_classes: int = 0     # 10 for MNIST conditional models
    img_shape: tuple = (1, 28, 28)
    width: int = 32          # 32 channels is enough for digits on a 2-core CPU
    depth: int = 3           # toy MLPs only
    spectral_norm: bool = False
    noise: str = "gaussian"
    clusters: int = 0        # k-means clusters for self-conditioning; 0 = a plain unconditional GAN
    cluster_temperature: float = CLUSTER_TEMPERATURE
    minibatch_std: bool = False
    minibatch_disc: int = 0
    pack: int = 1

    def __post_init__(self):
        object.__setattr__(self, "img_shape", check_shape(self.img_shape))
        if self.kind not in KINDS:
            raise ValueError(f"Unknown model kind {self.kind!r}; choose one of {', '.join(KINDS)}.")
        if self.noise not in NOISES:
            raise ValueError(f"Unknown noise {self.noise!r}; choose 'gaussian' or 'uniform'.")
        for name, lo, hi in (("z_dim", 1, 1024), ("width", 1, 2048), ("depth", 1, 16),
                             ("num_classes", 0, MAX_CLASSES), ("clusters", 0, 1024), ("minibatch_disc", 0, 64),
                             ("pack", 1, 4)):
            object.__setattr__(self, name, check_int(name, getattr(self, name), lo, hi))
        t = self.cluster_temperature
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not 0.001 <= t <= 1:
            raise ValueError(f"cluster_temperature must be a number from 0.001 to 1, got {t!r}.")
        object.__setattr__(self, "cluster_temperature", float(t))
        for flag in ("spectral_norm", "minibatch_std"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"{flag} must be true or false, got {getattr(self, flag)!r}.")
        if (self.minibatch_std or self.minibatch_disc or self.pack > 1) and \
                self.kind not in ("dcgan", "cgan", "acgan", "wgan-gp", "toy"):
            raise ValueError("Minibatch std, minibatch discrimination and packing are built into the DCGAN family's "
                             "and the toy models' discriminators.")
        if self.pack > 1 and (self.num_classes or self.clusters):
            raise ValueError("Packing (PacGAN) is for unconditional models: packed samples carry no labels.")
        if self.kind == "acgan" and self.clusters and not self.num_classes:
            pass  # self-conditioned AC-GAN: D's class head names the k-means cluster; G stays unconditional
        elif self.kind in ("cgan", "acgan") and self.num_classes < 2:
            raise ValueError(f"A conditional GAN ({self.kind!r}) needs num_classes >= 2 (10 for digits).")
        if self.clusters:
            if self.kind not in ("dcgan", "wgan-gp", "acgan") or self.num_classes:
                raise ValueError("Self-conditioning on clusters is for the unconditional convolutional models "
                                 "('dcgan', 'wgan-gp', and 'acgan' without classes): a conditional model already "
                                 "has real classes.")
            if not 2 <= self.clusters <= self.z_dim:
                raise ValueError(f"clusters must be between 2 and z_dim ({self.z_dim}): G draws the cluster "
                                 f"from the first `clusters` entries of z; got {self.clusters}.")
        if self.kind == "toy":
            if self.img_shape != (2,):
                raise ValueError("Toy models generate 2D points: img_shape must be (2,).")
        else:
            if len(self.img_shape) != 3:
                raise ValueError(f"img_shape must be (channels, height, width), got {self.img_shape}.")
            c, h, w = self.img_shape
            if c not in (1, 3):
                raise ValueError(f"Images must have 1 or 3 channels, got {c}.")
            if self.kind == "examples-dcgan":
                if (h, w) != (64, 64) or self.num_classes:
                    raise ValueError(f"The PyTorch-examples DCGAN makes unconditional 64x64 images, got {h}x{w}.")
            elif self.kind != "vanilla" and (h, w) not in ((28, 28), (32, 32)):
                raise ValueError(f"Convolutional models support 28x28 or 32x32 images, got {h}x{w}.")
            if max(h, w) > MAX_MLP_SIDE:
                raise ValueError(f"Images are at most {MAX_MLP_SIDE}x{MAX_MLP_SIDE} pixels, got {h}x{w}.")

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["img_shape"] = list(self.img_shape)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"Unknown model settings: {', '.join(sorted(unknown))}.")
        return cls(**d)


@dataclass(frozen=True)
class ClassifierConfig:
    """The digit classifier used as the feature space of the metrics."""

    num_classes: int = 10
    img_shape: tuple = (1, 28, 28)
    width: int = 32
    feature_dim: int = 128   # size of the penultimate layer that FID/KID/PR/PPL measure in
    kind: str = field(default="classifier")

    def __post_init__(self):
        object.__setattr__(self, "img_shape", check_shape(self.img_shape))
        if self.kind != "classifier":
            raise ValueError("ClassifierConfig.kind must be 'classifier'.")
        for name, lo, hi in (("num_classes", 2, MAX_CLASSES), ("width", 1, 512), ("feature_dim", 1, 4096)):
            object.__setattr__(self, name, check_int(name, getattr(self, name), lo, hi))
        if len(self.img_shape) != 3 or self.img_shape[0] not in (1, 3) or max(self.img_shape[1:]) > 64 \
                or min(self.img_shape[1:]) < 4:
            raise ValueError(f"The classifier reads (1 or 3, 4..64, 4..64) images, got {self.img_shape}.")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["img_shape"] = list(self.img_shape)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ClassifierConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
