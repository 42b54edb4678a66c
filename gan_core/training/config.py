"""TrainConfig: everything about a training run except the data itself, checked when it is made."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from gan_core.data import drawn_points as drawn

from gan_core.training import losses
from gan_core.data.toy import TOY_DATASETS
from gan_core.models import ModelConfig

OPTIMIZERS = ("adam", "sgd")
AUX_CLASS_WEIGHT = 1.0  # default TrainConfig.aux_weight: AC-GAN's class loss counts as much as the real/fake loss (Odena et al. 2017)
AUGMENTS = ("none", "translation")


@dataclass(frozen=True)
class TrainConfig:
    """Everything about a training run except the data itself.

    Example:
        >>> TrainConfig(loss="hinge").n_critic
        1
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    dataset: str = "mnist-5k"       # an image dataset name (see gan_core.data.datasets) or a toy 2D one for the "toy" architecture
    loss: str = "nonsaturating"     # see gan_core.training.losses.LOSSES
    optimizer: str = "adam"
    lr_g: float = 2e-4              # DCGAN paper's learning rate
    lr_d: float = 2e-4
    beta1: float = 0.5              # DCGAN paper: 0.5 instead of Adam's 0.9 steadies training
    beta2: float = 0.999
    batch_size: int = 64
    n_critic: int = 1               # D updates per G update (5 is usual for WGAN-GP)
    label_smoothing: float = 0.0    # one-sided: real targets become 1 - this
    gp_weight: float = 10.0         # WGAN-GP lambda (Gulrajani et al. 2017)
    ema_decay: float = 0.999        # EMA of G's weights; 0 turns it off
    seed: int = 0
    device: str = "auto"            # "auto" picks CUDA when present, else CPU
    max_grad_norm: float = 1e6      # a gradient norm above this counts as divergence
    augment: str = "none"           # "translation": DiffAugment (Zhao et al. 2020) shifts for D; helps on small data
    feature_matching: bool = False  # G matches the mean of D's features on real data (Salimans et al. 2016)
    unrolled_steps: int = 0         # G is scored by D trained k steps ahead (Metz et al. 2017); 2D: in full
    aux_weight: float = AUX_CLASS_WEIGHT  # AC-GAN: weight of the class (or cluster) term in D's and G's loss
    clustering: str = "kmeans"      # how model.clusters are found: a key of gan_core.training.clusters.CLUSTERINGS
    style_mixing: float = 0.0       # style-based models: share of fakes whose later layers take a second z's w
    r1_gamma: float = 0.0           # style-based models: weight of R1 on real images (lazy, every r1_every D steps)
    r1_every: int = 16              # StyleGAN2's lazy regularisation interval
    points: tuple = ()              # dataset "drawn": the user's own 2D points ((x, y), ...); see gan_core.data.drawn_points

    def __post_init__(self):
        if isinstance(self.model, dict):
            object.__setattr__(self, "model", ModelConfig.from_dict(self.model))
        if self.loss not in losses.LOSSES:
            raise ValueError(f"Unknown loss {self.loss!r}; choose one of {', '.join(losses.LOSSES)}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}; choose 'adam' or 'sgd'.")
        for name in ("lr_g", "lr_d"):
            v = getattr(self, name)
            if not (0 < v <= 1):
                raise ValueError(f"{name} must be between 0 and 1 (typical: 1e-4 to 1e-3), got {v}.")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1).")
        if not 1 <= self.batch_size <= 4096:
            raise ValueError(f"batch_size must be between 1 and 4096, got {self.batch_size}.")
        if not 1 <= self.n_critic <= 20:
            raise ValueError(f"n_critic (D steps per G step) must be between 1 and 20, got {self.n_critic}.")
        if not 0 <= self.label_smoothing < 0.5:
            raise ValueError("label_smoothing must be in [0, 0.5); 0.1 is typical.")
        if not 0 <= self.ema_decay < 1:
            raise ValueError("ema_decay must be in [0, 1); 0.999 is typical, 0 turns EMA off.")
        if self.augment not in AUGMENTS:
            raise ValueError(f"augment must be one of {', '.join(AUGMENTS)}.")
        makes_points = self.model.task == "noise->points"
        if self.augment != "none" and makes_points:
            raise ValueError("Augmentation applies to images, not to toy 2D data.")
        if not 0 <= self.unrolled_steps <= 10:
            raise ValueError("unrolled_steps must be between 0 and 10 (Metz et al. used 1 to 10).")
        from gan_core.training.clusters import CLUSTERINGS

        if self.clustering not in CLUSTERINGS:
            raise ValueError(f"clustering must be one of {', '.join(CLUSTERINGS)}, got {self.clustering!r}.")
        if self.clustering == "spectral-deskewed" and self.model.img_shape[0] != 1:
            raise ValueError("Deskewed clustering straightens handwriting: it needs single-channel images.")
        if not isinstance(self.feature_matching, bool):
            raise ValueError("feature_matching must be true or false.")
        if self.model.pack > 1 and self.loss == "wgan-gp":
            raise ValueError("Packing (PacGAN) and the WGAN-GP penalty do not mix: the penalty is defined per "
                             "sample, and a packed critic scores several samples at once.")
        if not 0 <= self.aux_weight <= 10:
            raise ValueError("aux_weight (the AC-GAN class term's weight) must be between 0 and 10; 1 is usual.")
        if not 0 <= self.style_mixing <= 1:
            raise ValueError("style_mixing is a probability, from 0 to 1 (StyleGAN used 0.9).")
        if not 0 <= self.r1_gamma <= 100:
            raise ValueError("r1_gamma must be between 0 and 100 (StyleGAN2: 0.01 to 10, by resolution).")
        if not 1 <= self.r1_every <= 64:
            raise ValueError("r1_every must be between 1 and 64 (StyleGAN2: 16).")
        if (self.style_mixing or self.r1_gamma) and self.model.architecture != "stylegan":
            raise ValueError("Style mixing and R1 here belong to the style-based model (architecture 'stylegan').")
        if self.gp_weight < 0:
            raise ValueError("gp_weight cannot be negative.")
        if self.device not in ("auto", "cpu") and not self.device.startswith("cuda"):
            raise ValueError("device must be 'auto', 'cpu' or 'cuda[:N]'.")
        if self.loss == "wgan-gp" and self.model.critic == "batchnorm":
            raise ValueError("WGAN-GP needs a critic without BatchNorm: use the critic form 'plain' (the "
                             "'wgan-gp' model), or the 'vanilla' / 'toy' models.")
        if makes_points != (self.dataset in TOY_DATASETS or self.dataset == drawn.USER_DATASET):
            raise ValueError("Toy models train on toy 2D data (ring8, grid25, moons, spiral, line, or your own "
                             "points: 'drawn') and image models on image datasets.")
        object.__setattr__(self, "points", tuple((float(x), float(y)) for x, y in self.points))
        if (self.dataset == drawn.USER_DATASET) != bool(self.points):
            raise ValueError("Your own points go with dataset 'drawn', and dataset 'drawn' needs points.")
        if self.points and not 2 <= len(self.points) <= drawn.MAX_POINTS:
            raise ValueError(f"Your own data needs between 2 and {drawn.MAX_POINTS:,} points.")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def replace(self, **changes) -> "TrainConfig":
        return replace(self, **changes)
