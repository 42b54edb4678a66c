"""Networks, built by name from a ``ModelConfig``: each architecture module registers its family in
``registry.FAMILIES`` when it is imported here."""
from __future__ import annotations

import torch

from gan_core.models import dcgan, examples_dcgan, mlp, stylegan, stylegan2, toy  # noqa: F401  (each registers its family)
from gan_core.models.classifier import DigitClassifier
from gan_core.models.common import Discriminator, Generator
from gan_core.models.config import LEGACY_KINDS, ClassifierConfig, ModelConfig
from gan_core.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_core.models.mlp import MLPDiscriminator, MLPGenerator
from gan_core.models.examples_dcgan import ExamplesDCGANDiscriminator, ExamplesDCGANGenerator
from gan_core.models.registry import CONDITIONINGS, CRITICS, FAMILIES, TASKS, Family, family, register
from gan_core.models.toy import ToyDiscriminator, ToyGenerator

__all__ = ["ModelConfig", "ClassifierConfig", "LEGACY_KINDS", "build_generator", "build_discriminator",
           "build_classifier", "Generator", "Discriminator", "Family", "FAMILIES", "TASKS", "CONDITIONINGS",
           "CRITICS", "family", "register", "DCGANGenerator", "DCGANDiscriminator", "MLPGenerator",
           "MLPDiscriminator", "ToyGenerator", "ToyDiscriminator", "ExamplesDCGANGenerator",
           "ExamplesDCGANDiscriminator", "DigitClassifier", "count_parameters", "MAX_PARAMETERS"]

MAX_PARAMETERS = 50_000_000  # 200 MB of float32 per network; the shipped ones have under 2 M


def count_parameters(cfg: ModelConfig | ClassifierConfig) -> int:
    """Parameters (weights and buffers) of the networks ``cfg`` describes, counted without allocating them:
    they are built on PyTorch's "meta" device, which records shapes only. A config.json that sizes a network
    too large for this machine is caught by this before a byte of memory is spent on it.

    Example:
        >>> count_parameters(ModelConfig()) > 0
        True
    """
    with torch.device("meta"):
        fam = None if isinstance(cfg, ClassifierConfig) else family(cfg.architecture)
        nets = [build_classifier(cfg)] if fam is None else [fam.build(n, cfg) for n in fam.networks]
    return sum(t.numel() for net in nets for t in list(net.parameters()) + list(net.buffers()))


def build_generator(cfg: ModelConfig) -> Generator:
    """The generator described by ``cfg`` (freshly initialised); its ``noise`` is the config's, so samplers
    and metrics draw z the way training did."""
    return family(cfg.architecture).build("G", cfg)


def build_discriminator(cfg: ModelConfig) -> Discriminator:
    """The discriminator (or WGAN critic) described by ``cfg``."""
    return family(cfg.architecture).build("D", cfg)


def build_classifier(cfg: ClassifierConfig) -> DigitClassifier:
    return DigitClassifier(cfg.num_classes, cfg.img_shape, cfg.width, cfg.feature_dim)
