"""Networks and a registry that builds them by name from a ``ModelConfig``."""
from __future__ import annotations

from torch import nn

from .classifier import DigitClassifier
from .config import KINDS, ClassifierConfig, ModelConfig
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator, ToyDiscriminator, ToyGenerator

__all__ = ["ModelConfig", "ClassifierConfig", "KINDS", "build_generator", "build_discriminator",
           "build_classifier", "DCGANGenerator", "DCGANDiscriminator", "MLPGenerator", "MLPDiscriminator",
           "ToyGenerator", "ToyDiscriminator", "DigitClassifier"]


def build_generator(cfg: ModelConfig) -> nn.Module:
    """The generator described by ``cfg`` (freshly initialised)."""
    if cfg.kind == "vanilla":
        return MLPGenerator(cfg.z_dim, cfg.img_shape, cfg.width, cfg.num_classes)
    if cfg.kind in ("dcgan", "cgan", "acgan", "wgan-gp"):
        return DCGANGenerator(cfg.z_dim, cfg.img_shape, cfg.width, cfg.num_classes, cfg.clusters)
    if cfg.kind == "toy":
        return ToyGenerator(cfg.z_dim, cfg.width, cfg.depth)
    raise ValueError(f"Unknown model kind {cfg.kind!r}.")


def build_discriminator(cfg: ModelConfig) -> nn.Module:
    """The discriminator (or WGAN critic) described by ``cfg``."""
    sn = cfg.spectral_norm
    if cfg.kind == "vanilla":
        return MLPDiscriminator(cfg.img_shape, cfg.width, cfg.num_classes, spectral_norm=sn)
    if cfg.kind in ("dcgan", "cgan"):
        return DCGANDiscriminator(cfg.img_shape, cfg.width, cfg.num_classes, batchnorm=True, spectral_norm=sn,
                                  clusters=cfg.clusters)
    if cfg.kind == "acgan":  # D sees only the image, and names its class with a second head
        return DCGANDiscriminator(cfg.img_shape, cfg.width, 0, batchnorm=True, spectral_norm=sn,
                                  aux_classes=cfg.num_classes)
    if cfg.kind == "wgan-gp":
        return DCGANDiscriminator(cfg.img_shape, cfg.width, cfg.num_classes, batchnorm=False, spectral_norm=sn,
                                  clusters=cfg.clusters)
    if cfg.kind == "toy":
        return ToyDiscriminator(cfg.width, cfg.depth, spectral_norm=sn)
    raise ValueError(f"Unknown model kind {cfg.kind!r}.")


def build_classifier(cfg: ClassifierConfig) -> DigitClassifier:
    return DigitClassifier(cfg.num_classes, cfg.img_shape, cfg.width, cfg.feature_dim)
