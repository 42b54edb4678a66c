"""The one description of a GAN's networks: everything needed to rebuild them from config.json."""
from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, field, fields

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


# The one place where the single "kind" of earlier versions' config.json files is read: each old kind becomes
# an architecture, a conditioning and a critic form (runs saved before, the shipped pretrained/*, imported
# examples DCGANs all still load).
LEGACY_KINDS = {
    "vanilla": dict(architecture="mlp"),
    "dcgan": dict(architecture="dcgan"),
    "cgan": dict(architecture="dcgan", conditioning="class"),
    "acgan": dict(architecture="dcgan", conditioning="aux-class"),
    "wgan-gp": dict(architecture="dcgan", critic="plain"),
    "toy": dict(architecture="toy"),
    "examples-dcgan": dict(architecture="examples-dcgan"),
}


def upgrade_legacy(d: dict) -> dict:
    """A model dict with an old ``kind`` turned into today's fields (a dict without one is returned as is).

    Example:
        >>> upgrade_legacy({"kind": "cgan", "num_classes": 10})["conditioning"]
        'class'
    """
    if "kind" not in d:
        return d
    d = dict(d)
    kind = d.pop("kind")
    if kind not in LEGACY_KINDS:
        raise ValueError(f"Unknown model kind {kind!r} (a config.json of an older version names one of "
                         f"{', '.join(LEGACY_KINDS)}).")
    return {**LEGACY_KINDS[kind], **d}


@dataclass(frozen=True)
class ModelConfig:
    """The networks of a GAN: an architecture (a registered family, see ``models.registry``), how they are
    conditioned, the critic's form and their sizes.

    Args:
        architecture: a name in ``registry.FAMILIES``: "mlp" (the 2014 GAN), "dcgan", "toy" (2D points for
            the playground), "examples-dcgan" (the 64x64 DCGAN of the PyTorch examples repository, ``width`` =
            its ngf, brought in by `gan-core import`).
        conditioning: one of ``registry.CONDITIONINGS``: "none"; "class" gives the class to G and D (Mirza &
            Osindero 2014); "aux-class" gives it to G only, and D must name it (Odena et al. 2017; with
            ``clusters`` and no classes, D names the cluster); "clusters" is self-conditioning (below).
            Left empty, it follows from the sizes: "class" with ``num_classes``, "clusters" with ``clusters``,
            else "none".
        critic: the discriminator's form, one of ``registry.CRITICS``: "batchnorm" (DCGAN) or "plain" (no
            BatchNorm, as the WGAN-GP penalty needs). Left empty: the architecture's usual one.
        z_dim: size of the noise vector z fed to the generator.
        num_classes: number of class labels (0 = unconditional).
        img_shape: (channels, height, width) of generated images; toy 2D data uses (2,).
        width: base width: channels of the first conv layer, or hidden units of an MLP.
        depth: hidden layers of the toy MLPs (images use a fixed depth per resolution).
        spectral_norm: wrap the discriminator's layers in spectral normalisation (Miyato et al. 2018).
        noise: distribution of z: "gaussian" N(0, I) or "uniform" U(-1, 1). Samplers and metrics draw z
            the way training did.
        clusters: self-conditioning (after Liu et al. 2020, "Diverse Image Generation via Self-Conditioned
            GANs"): the real images are split into this many clusters without using any labels; D is told
            each image's cluster and G draws the cluster from its own z, so G stays unconditional (0 = off).
        cluster_temperature: softmax temperature of G's cluster code (0.001 to 1). Lower: fewer z near a
            tie between two clusters, so fewer blended, ambiguous samples; interpolations switch cluster faster.
        minibatch_std: D gets one more feature, the spread of its features across the batch (Karras et al.
            2018), so a batch of look-alikes stands out.
        minibatch_disc: kernels of minibatch discrimination in D (Salimans et al. 2016; 0 = off, 16 typical).
        pack: D judges this many samples at once, all real or all fake (PacGAN, Lin et al. 2018; 1 = off).
            Unconditional models only (packed samples carry no labels).
        The three remedies exist for the architectures whose family says ``remedies`` (dcgan, toy).
        w_dim, mapping_depth: the style-based generator's w size (0: z_dim) and mapping layers (0: its default).

    Example:
        >>> ModelConfig(num_classes=10).conditioning, ModelConfig(num_classes=10).task
        ('class', 'noise->image')
    """

    architecture: str = "dcgan"
    conditioning: str = ""
    critic: str = ""
    z_dim: int = 64          # DCGAN used 100; 64 trains as well on 28x28 digits and is faster
    num_classes: int = 0     # 10 for MNIST conditional models
    img_shape: tuple = (1, 28, 28)
    width: int = 32          # 32 channels is enough for digits on a 2-core CPU
    depth: int = 3           # toy MLPs only
    spectral_norm: bool = False
    noise: str = "gaussian"
    clusters: int = 0        # clusters for self-conditioning; 0 = a plain unconditional GAN
    cluster_temperature: float = CLUSTER_TEMPERATURE
    minibatch_std: bool = False
    minibatch_disc: int = 0
    pack: int = 1
    w_dim: int = 0           # style-based models: size of w (0: z_dim)
    mapping_depth: int = 0   # style-based models: layers of the mapping network (0: the family's default)
    channels: tuple = ()     # imported StyleGAN2: channels per resolution from 4x4 (read from the checkpoint)
    conv_clamp: float = 0.0  # imported StyleGAN2: the activations' clamp (NVlabs' conv_clamp; 0: none)
    mapping_lr: float = 0.0  # imported StyleGAN2: the mapping layers' learning-rate multiplier (0: 0.01)

    def __post_init__(self):
        from gan_core.models.registry import CONDITIONINGS, CRITICS, FAMILIES, family

        object.__setattr__(self, "img_shape", check_shape(self.img_shape))
        fam = family(self.architecture)
        if self.noise not in NOISES:
            raise ValueError(f"Unknown noise {self.noise!r}; choose 'gaussian' or 'uniform'.")
        for name, lo, hi in (("z_dim", 1, 1024), ("width", 1, 2048), ("depth", 1, 16),
                             ("num_classes", 0, MAX_CLASSES), ("clusters", 0, 1024), ("minibatch_disc", 0, 64),
                             ("pack", 1, 4), ("w_dim", 0, 1024), ("mapping_depth", 0, 16)):
            object.__setattr__(self, name, check_int(name, getattr(self, name), lo, hi))
        ch = self.channels
        if not isinstance(ch, (list, tuple)) or len(ch) > 10:
            raise ValueError(f"channels must be a list of at most 10 channel counts, got {ch!r}.")
        object.__setattr__(self, "channels", tuple(check_int("channels", c, 1, 1024) for c in ch))
        for name, hi in (("conv_clamp", 1e6), ("mapping_lr", 1.0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 <= v <= hi:
                raise ValueError(f"{name} must be a number from 0 to {hi:g}, got {v!r}.")
            object.__setattr__(self, name, float(v))
        t = self.cluster_temperature
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not 0.001 <= t <= 1:
            raise ValueError(f"cluster_temperature must be a number from 0.001 to 1, got {t!r}.")
        object.__setattr__(self, "cluster_temperature", float(t))
        for flag in ("spectral_norm", "minibatch_std"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"{flag} must be true or false, got {getattr(self, flag)!r}.")
        if not self.conditioning:
            object.__setattr__(self, "conditioning", "class" if self.num_classes else
                               "clusters" if self.clusters else "none")
        if not self.critic:
            object.__setattr__(self, "critic", fam.critics[0])
        if self.conditioning not in CONDITIONINGS:
            raise ValueError(f"Unknown conditioning {self.conditioning!r}; choose one of {', '.join(CONDITIONINGS)}.")
        if self.critic not in CRITICS:
            raise ValueError(f"Unknown critic form {self.critic!r}; choose one of {', '.join(CRITICS)}.")
        if self.critic not in fam.critics:
            raise ValueError(f"The {fam.label} comes with a {' or '.join(fam.critics)} discriminator, not {self.critic!r}.")
        if (self.minibatch_std or self.minibatch_disc or self.pack > 1) and not fam.remedies:
            raise ValueError("Minibatch std, minibatch discrimination and packing are built into the DCGAN family's "
                             "and the toy models' discriminators.")
        if self.pack > 1 and (self.num_classes or self.clusters):
            raise ValueError("Packing (PacGAN) is for unconditional models: packed samples carry no labels.")
        self._check_conditioning(fam)
        for other in {f for fm in FAMILIES.values() for f in fm.fields} - set(fam.fields):
            if getattr(self, other) != type(self).__dataclass_fields__[other].default:
                raise ValueError(f"{other} is a setting of other architectures; the {fam.label} does not read it.")
        if fam.task == "noise->points":
            if self.img_shape != (2,):
                raise ValueError("Toy models generate 2D points: img_shape must be (2,).")
        else:
            if len(self.img_shape) != 3:
                raise ValueError(f"img_shape must be (channels, height, width), got {self.img_shape}.")
            c, h, w = self.img_shape
            if c not in (1, 3):
                raise ValueError(f"Images must have 1 or 3 channels, got {c}.")
            if max(h, w) > MAX_MLP_SIDE:
                raise ValueError(f"Images are at most {MAX_MLP_SIDE}x{MAX_MLP_SIDE} pixels, got {h}x{w}.")
        if fam.check is not None:
            fam.check(self)

    def _check_conditioning(self, fam) -> None:
        c, k, n = self.conditioning, self.clusters, self.num_classes
        if k and (c not in ("clusters", "aux-class") or n or "clusters" not in fam.conditionings):
            raise ValueError("Self-conditioning on clusters is for the unconditional convolutional models "
                             "(DCGAN, with or without a class head in D): a conditional model already has real "
                             "classes.")
        if k and not 2 <= k <= self.z_dim:
            raise ValueError(f"clusters must be between 2 and z_dim ({self.z_dim}): G draws the cluster "
                             f"from the first `clusters` entries of z; got {k}.")
        if c not in fam.conditionings:
            raise ValueError(f"The {fam.label} cannot be conditioned that way ({c!r}); it takes "
                             f"{', '.join(fam.conditionings)}.")
        if c in ("class", "aux-class") and not k and n < 2:
            raise ValueError(f"A conditional GAN ({c!r}) needs num_classes >= 2 (10 for digits).")
        if c == "none" and n:
            raise ValueError("An unconditional model has no classes: set num_classes to 0, or conditioning 'class'.")

    @property
    def conditional(self) -> bool:
        """G is given a class label."""
        return self.num_classes > 0

    @property
    def task(self) -> str:
        """What the generator maps from and to: one of ``registry.TASKS``."""
        from gan_core.models.registry import family

        return family(self.architecture).task

    def to_dict(self) -> dict:
        d = asdict(self)
        d["img_shape"] = list(self.img_shape)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        """From a config.json's "model" entry (an older version's single ``kind`` is read as well)."""
        d = upgrade_legacy(d)
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
