"""Networks and a registry that builds them by name from a ``ModelConfig``."""
from __future__ import annotations

import torch
from torch import nn

from .classifier import DigitClassifier
from .config import KINDS, ClassifierConfig, ModelConfig
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .pt_dcgan import ExamplesDCGANDiscriminator, ExamplesDCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator, ToyDiscriminator, ToyGenerator

__all__ = ["ModelConfig", "ClassifierConfig", "KINDS", "build_generator", "build_discriminator",
           "build_classifier", "DCGANGenerator", "DCGANDiscriminator", "MLPGenerator", "MLPDiscriminator",
           "ToyGenerator", "ToyDiscriminator", "ExamplesDCGANGenerator", "ExamplesDCGANDiscriminator", "DigitClassifier", "count_parameters", "MAX_PARAMETERS"]

MAX_PARAMETERS = 50_000_000  # 200 MB of float32 per network; the shipped ones have under 2 M


def count_parameters(cfg: ModelConfig | ClassifierConfig) -> int:
    """Parameters (weights and buffers) of the networks ``cfg`` describes, counted without allocating them:
    they are built on PyTorch's "meta" device, which records shapes only. A config.json that sizes a network
    too large for this machine is caught by this before a byte of memory is spent on it.

    Example:
        >>> count_parameters(ModelConfig(kind="dcgan")) > 0
        True
    """
    with torch.device("meta"):
        nets = [build_classifier(cfg)] if isinstance(cfg, ClassifierConfig) else \
            [build_generator(cfg), build_discriminator(cfg)]
    return sum(t.numel() for net in nets for t in list(net.parameters()) + list(net.buffers()))


def build_generator(cfg: ModelConfig) -> nn.Module:
    """The generator described by ``cfg`` (freshly initialised), with ``G.noise``: how its z is drawn, so
    samplers and metrics draw z the way training did."""
    G = _generator(cfg)
    G.noise = cfg.noise
    return G


def _generator(cfg: ModelConfig) -> nn.Module:
    if cfg.kind == "vanilla":
        return MLPGenerator(cfg.z_dim, cfg.img_shape, cfg.width, cfg.num_classes)
    if cfg.kind in ("dcgan", "cgan", "acgan", "wgan-gp"):
        return DCGANGenerator(cfg.z_dim, cfg.img_shape, cfg.width, cfg.num_classes, cfg.clusters,
                              cfg.cluster_temperature)
    if cfg.kind == "toy":
        return ToyGenerator(cfg.z_dim, cfg.width, cfg.depth)
    if cfg.kind == "examples-dcgan":
        return ExamplesDCGANGenerator(cfg.z_dim, cfg.img_shape, cfg.width)
    raise ValueError(f"Unknown model kind {cfg.kind!r}.")


def build_discriminator(cfg: ModelConfig) -> nn.Module:
    """The discriminator (or WGAN critic) described by ``cfg``."""
    sn = cfg.spectral_norm
    rem = dict(minibatch_std=cfg.minibatch_std, minibatch_disc=cfg.minibatch_disc, pack=cfg.pack)
    if cfg.kind == "vanilla":
        return MLPDiscriminator(cfg.img_shape, cfg.width, cfg.num_classes, spectral_norm=sn)
    if cfg.kind in ("dcgan", "cgan"):
        return DCGANDiscriminator(cfg.img_shape, cfg.width, cfg.num_classes, batchnorm=True, spectral_norm=sn,
                                  clusters=cfg.clusters, **rem)
    if cfg.kind == "acgan":  # D sees only the image, and names its class with a second head
        return DCGANDiscriminator(cfg.img_shape, cfg.width, 0, batchnorm=True, spectral_norm=sn,
                                  aux_classes=cfg.num_classes or cfg.clusters, **rem)
    if cfg.kind == "wgan-gp":
        return DCGANDiscriminator(cfg.img_shape, cfg.width, cfg.num_classes, batchnorm=False, spectral_norm=sn,
                                  clusters=cfg.clusters, **rem)
    if cfg.kind == "toy":
        return ToyDiscriminator(cfg.width, cfg.depth, spectral_norm=sn, **rem)
    if cfg.kind == "examples-dcgan":
        return ExamplesDCGANDiscriminator(cfg.img_shape, cfg.width)
    raise ValueError(f"Unknown model kind {cfg.kind!r}.")


def build_classifier(cfg: ClassifierConfig) -> DigitClassifier:
    return DigitClassifier(cfg.num_classes, cfg.img_shape, cfg.width, cfg.feature_dim)
