"""The one table of network families: each architecture module registers itself here, by name.

A family says which task it serves, how to build its generator and discriminator from a ``ModelConfig``,
which conditionings and critic forms it supports, and what else it checks. ``build_generator`` and
``build_discriminator`` look the family up; the CLI's and the pages' choices are read from ``FAMILIES``.

Adding an architecture: write ``gan_core/models/<name>.py`` with its networks (subclasses of
``models.common.Generator`` / ``Discriminator``, declaring what they offer) and end it with
``register(Family(name=..., task=..., generator=..., discriminator=...))``; import the module in
``models/__init__.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from torch import nn

    from gan_core.models.config import ModelConfig

TASKS = ("noise->image", "noise->points", "image->image")
CONDITIONINGS = {
    "none": "unconditional",
    "class": "G and D are given the class (Mirza & Osindero 2014)",
    "aux-class": "G is given the class (or its cluster); D must name it with a second head (AC-GAN, Odena et al. 2017)",
    "clusters": "self-conditioned: D is given the k-means cluster, G draws it from its own z (after Liu et al. 2020)",
}
CRITICS = {
    "batchnorm": "a discriminator with BatchNorm after its convolutions (DCGAN)",
    "plain": "no normalisation across the batch, as a gradient penalty needs (WGAN-GP, Gulrajani et al. 2017)",
}


@dataclass(frozen=True)
class Family:
    """One architecture.

    Args:
        name: the ``ModelConfig.architecture`` that selects it.
        task: one of ``TASKS``.
        label: how pages name it.
        generator, discriminator: ``cfg -> nn.Module``.
        conditionings: the ``CONDITIONINGS`` its networks implement.
        critics: the ``CRITICS`` forms its discriminator comes in (the first is the default).
        remedies: its discriminator has the minibatch std / minibatch discrimination / packing layers.
        check: ``cfg -> None``, raising ValueError for settings this family cannot build (sizes, ...).
        networks: the names its checkpoints store (``G.safetensors``, ``D.safetensors``, ...).
        objective: ``(trainer, dataset) -> Objective``, the game it plays, when not its task's
            (``gan_core.training.objectives.OBJECTIVES``).
        fields: the ``ModelConfig`` settings only this family reads (they must stay at their defaults for the
            others).
    """

    name: str
    task: str
    label: str
    generator: Callable[["ModelConfig"], "nn.Module"]
    discriminator: Callable[["ModelConfig"], "nn.Module"]
    conditionings: tuple = ("none",)
    critics: tuple = ("batchnorm",)
    remedies: bool = False
    check: Callable[["ModelConfig"], None] | None = None
    networks: tuple = ("G", "D")
    objective: Callable | None = None
    fields: tuple = ()

    def build(self, net: str, cfg: "ModelConfig") -> "nn.Module":
        """Network ``net`` (one of ``networks``) for ``cfg``, freshly initialised. A generator's ``noise`` is the
        config's, so samplers and metrics draw z the way training did."""
        if net == "G":
            G = self.generator(cfg)
            G.noise = cfg.noise
            return G
        if net == "D":
            return self.discriminator(cfg)
        raise ValueError(f"The {self.label} has no network {net!r}; it has {', '.join(self.networks)}.")


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    """Add ``family`` to ``FAMILIES`` (its module calls this once, at import)."""
    if family.task not in TASKS:
        raise ValueError(f"{family.name}: unknown task {family.task!r}")
    if not set(family.conditionings) <= set(CONDITIONINGS) or not set(family.critics) <= set(CRITICS):
        raise ValueError(f"{family.name}: unknown conditioning or critic form")
    if family.name in FAMILIES and FAMILIES[family.name] != family:
        raise ValueError(f"an architecture called {family.name!r} is registered already")
    FAMILIES[family.name] = family
    return family


def family(name: str) -> Family:
    """The registered family ``name``, or a ValueError listing the known ones."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"Unknown architecture {name!r}; choose one of {', '.join(FAMILIES)}.") from None


def for_task(task: str) -> list[str]:
    """Names of the architectures that serve ``task``, in registration order."""
    return [name for name, f in FAMILIES.items() if f.task == task]
