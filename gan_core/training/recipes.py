"""The starting point of each model ("recipes"): the CLI's ``--model`` and /train's Model choice.

Example:
    >>> default_config("wgan-gp", seed=3).n_critic
    5
"""
from __future__ import annotations

from gan_core.models import ModelConfig
from gan_core.training.config import TrainConfig

# Starting points per model ("recipes": the CLI's --model and /train's Model choice); anything can be
# overridden. Sources: DCGAN (Radford et al. 2015) for lr 2e-4 and beta1 0.5; WGAN-GP (Gulrajani et al. 2017)
# for lr 1e-4, betas (0, 0.9), n_critic 5, lambda 10.
RECIPES: dict[str, dict] = {
    "vanilla": dict(label="Vanilla MLP (2014)", model=dict(architecture="mlp", width=128, z_dim=64),
                    loss="nonsaturating", batch_size=64),
    "dcgan": dict(label="DCGAN", model=dict(architecture="dcgan"), loss="nonsaturating"),
    "cgan": dict(label="Conditional DCGAN", model=dict(architecture="dcgan", conditioning="class", num_classes=10),
                 loss="nonsaturating"),
    "acgan": dict(label="Conditional DCGAN, D names the class (AC-GAN)",
                  model=dict(architecture="dcgan", conditioning="aux-class", num_classes=10), loss="nonsaturating"),
    "wgan-gp": dict(label="DCGAN + WGAN-GP critic", model=dict(architecture="dcgan", critic="plain"), loss="wgan-gp",
                    lr_g=1e-4, lr_d=1e-4, beta1=0.0, beta2=0.9, n_critic=5),
    # StyleGAN2 (Karras et al. 2020): Adam with betas (0, 0.99), style mixing 0.9, lazy R1; the learning rate and
    # R1 weight are lowered for 28x28 digits on a CPU (the paper: 0.0025 and 10 at 1024 px).
    "stylegan": dict(label="StyleGAN2 (style-based)",
                     model=dict(architecture="stylegan", z_dim=64, w_dim=64, width=16), loss="nonsaturating",
                     lr_g=1e-3, lr_d=1e-3, beta1=0.0, beta2=0.99, style_mixing=0.9, r1_gamma=1.0, batch_size=32),
    "toy": dict(label="2D toy MLP", model=dict(architecture="toy", img_shape=(2,), z_dim=2, width=64, depth=3),
                dataset="ring8", loss="nonsaturating", lr_g=1e-3, lr_d=1e-3, beta1=0.5, batch_size=256,
                ema_decay=0.0),
}


def recipe_of(model: ModelConfig) -> str:
    """The name in ``RECIPES`` whose networks ``model`` has (architecture, class conditioning, critic form);
    a self-conditioned model counts as its unconditional recipe.

    Example:
        >>> recipe_of(ModelConfig(clusters=50))
        'dcgan'
    """
    cond = {"clusters": "none"}.get(model.conditioning, model.conditioning)
    for name, p in RECIPES.items():
        m = ModelConfig(**{k: v for k, v in p["model"].items() if k in ("architecture", "conditioning", "critic",
                                                                        "num_classes", "img_shape")})
        if (m.architecture, m.conditioning, m.critic) == (model.architecture, cond, model.critic):
            return name
    raise ValueError(f"No recipe trains a {model.architecture} with {model.conditioning!r} conditioning and a "
                     f"{model.critic} critic.")


def default_config(kind: str, model: dict | None = None, **overrides) -> TrainConfig:
    """The preset for a model kind, with ``overrides`` applied (and ``model`` entries merged).

    Example:
        >>> default_config("wgan-gp", seed=3).n_critic
        5
    """
    if kind not in RECIPES:
        raise ValueError(f"Unknown model {kind!r}; choose one of {', '.join(RECIPES)}.")
    preset = {k: v for k, v in RECIPES[kind].items() if k not in ("label", "on_train_page")}
    mdict = {**preset.pop("model"), **(model or {})}
    return TrainConfig(model=ModelConfig(**mdict), **{**preset, **overrides})
