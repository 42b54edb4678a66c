"""The live-training presets of the /train page: each a gan_core.training.trainer preset ("base") with the settings
that make it teach one thing, and the sentence the page shows to say why.

Example:
    >>> preset_config("Fast digits").model.conditioning
    'aux-class'
"""
from __future__ import annotations

from gan_core.training.config import TrainConfig
from gan_core.training.recipes import default_config

# Live-training presets, each with the sentence the page shows. "base" is a gan_core.training.trainer preset.
# "idle_rate": training steps per second measured on an idle 2-core machine of the kind the app is made for
# (sgemm about 200 GFLOP/s on 2 threads; Trainer.step alone, 2 torch threads; 2026-12-01): /train compares
# the live rate with it and says when the machine is busy.
PRESETS: dict[str, dict] = {
    "Fast digits": dict(
        idle_rate=40,
        base="acgan", model=dict(width=32), batch_size=64, lr_g=5e-4, lr_d=5e-4, ema_decay=0.99,
        augment="translation",
        why="A small conditional DCGAN (each column of the sample grid is one digit, 0 to 9) whose D must also name the digit "
            "(AC-GAN), random shifts of every image D sees (DiffAugment) and an averaged copy of G: clear "
            "digits of all ten classes in under a minute on a laptop CPU, then they keep sharpening."),
    "The 2014 original": dict(
        idle_rate=100,
        base="vanilla", why="Goodfellow et al.'s fully connected GAN: slower and blurrier — the baseline "
                            "every later idea improved on."),
    "Conditional": dict(
        idle_rate=45,
        base="cgan", why="The class label goes into G and D, so you can ask for a 7 (Mirza & Osindero 2014); "
                         "the DCGAN paper's learning rates, no augmentation — compare with Fast digits."),
    "Self-conditioned (no labels)": dict(
        idle_rate=40,
        base="dcgan", model=dict(clusters=50),
        why="An unconditional DCGAN whose D is told which of 50 k-means clusters of the real digits each image "
            "belongs to, while G picks a cluster from its own z (after Liu et al. 2020). No labels are used, yet "
            "the shipped DCGAN trained this way is far cleaner than without clusters (its card, and the README, "
            "give the figures)."),
    "Fast digits, no labels": dict(
        idle_rate=42,
        base="acgan", model=dict(width=32, num_classes=0, clusters=30, cluster_temperature=0.02), batch_size=64,
        lr_g=1e-3, lr_d=1e-3, ema_decay=0.99, augment="translation", aux_weight=5.0, clustering="spectral",
        why="Fast digits without a single label: G is unconditional (it picks one of 30 clusters of the real "
            "digits from its own z) and D must name each image's cluster (AC-GAN on self-found clusters, after "
            "Liu et al. 2020 and Odena et al. 2017), with a strong class term (5x). The clusters come from a "
            "nearest-neighbour graph of the digits (spectral clustering), which keeps 4s and 9s apart far "
            "better than k-means on pixels, and G's cluster code is sharp (temperature 0.02), so few samples "
            "fall between two clusters. With learning rates twice Fast digits' (1e-3): digits of every class in "
            "well under a minute on a laptop CPU (bench/time_to_digits.py)."),
    "StyleGAN": dict(
        idle_rate=12,
        base="stylegan", model=dict(clusters=50), lr_g=2e-3, lr_d=2e-3, augment="translation",
        why="A style-based generator (StyleGAN2, Karras et al. 2020), small enough for a laptop. A mapping network "
            "turns z into w; w sets a style for each layer of a synthesis network that starts from a learned 7x7 "
            "constant (not from z); each 3x3 convolution is modulated by its style and demodulated, and adds "
            "per-pixel noise with a learned strength. Style mixing (90% of fakes take a second w from a random "
            "layer on) keeps coarse and fine styles apart, and a lazy R1 penalty keeps D smooth. Like the shipped "
            "mnist-stylegan it is self-conditioned on 50 clusters of the real digits (no labels) and D sees "
            "randomly shifted images. After training, /latent mixes styles, redraws the noise and edits w layer "
            "by layer."),
    "WGAN-GP": dict(
        idle_rate=10,
        base="wgan-gp", why="A critic that scores instead of classifying, kept smooth by a gradient penalty "
                            "(Gulrajani et al. 2017): steadier, but 5 critic steps per G step make it slower."),
    "Mode collapse on purpose": dict(
        idle_rate=53,
        base="dcgan", model=dict(width=32, z_dim=8), batch_size=64, lr_g=2e-3, lr_d=1e-4, beta1=0.9,
        ema_decay=0.0,
        why="G learns 20x faster than D, so it keeps jumping to whatever fools D today: watch the class "
            "coverage shrink to a few digits."),
    "Vanishing gradients on purpose": dict(
        idle_rate=16,
        base="dcgan", model=dict(width=32), loss="minimax", lr_d=1e-3, lr_g=2e-4, n_critic=5,
        ema_decay=0.0,
        why="The original saturating loss log(1 - D(G(z))) against a strong D (5 steps per G step, 5x the "
            "learning rate): D wins, and G's gradient norm drops towards zero."),
}
DEFAULT_PRESET = "Fast digits"


def preset_config(name: str, model: dict | None = None, **overrides) -> TrainConfig:
    """The TrainConfig of a live preset, with ``overrides`` applied (``model`` entries merged).

    Example:
        >>> preset_config("Vanishing gradients on purpose").loss
        'minimax'
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; choose one of {', '.join(PRESETS)}.")
    p = {k: v for k, v in PRESETS[name].items() if k not in ("base", "why", "idle_rate")}
    m = {**p.pop("model", {}), **(model or {})}
    return default_config(PRESETS[name]["base"], model=m, **{**p, **overrides})
