"""gan_core: GAN models, training, sampling and metrics for GAN Studio. No Streamlit in here.

Example:
    >>> import gan_core
    >>> G = gan_core.load_generator("mnist-dcgan")                    # doctest: +SKIP
    >>> imgs = gan_core.sample(G, seeds=[1, 2, 3])                    # doctest: +SKIP
    >>> imgs.shape, imgs.dtype                                        # doctest: +SKIP
    ((3, 28, 28, 1), dtype('uint8'))
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

__version__ = "0.1.0"

from gan_core.hub.checkpoints import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint  # noqa: E402
from gan_core.latent.sampling import generate, interpolate_path, seeds_to_z, to_uint8, truncate  # noqa: E402

__all__ = ["__version__", "load_generator", "sample", "interpolate", "list_pretrained", "pretrained_dir",
           "resolve_checkpoint", "load_checkpoint", "save_checkpoint", "Checkpoint", "CheckpointError"]


def pretrained_dir() -> Path:
    """Folder of the checkpoints shipped with GAN Studio (override with $GAN_STUDIO_PRETRAINED)."""
    env = os.environ.get("GAN_STUDIO_PRETRAINED")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "pretrained"


def list_pretrained(include_classifier: bool = False) -> list[str]:
    """Names of the shipped checkpoints, e.g. ["mnist-cgan", "mnist-dcgan", ...]."""
    root = pretrained_dir()
    if not root.is_dir():
        return []
    names = sorted(p.name for p in root.iterdir() if (p / "config.json").is_file())
    return names if include_classifier else [n for n in names if n != "mnist-classifier"]


def resolve_checkpoint(name_or_path: str | os.PathLike) -> Path:
    """A shipped model's name or a folder path -> the checkpoint folder."""
    p = Path(name_or_path).expanduser()
    if p.is_dir():
        return p
    q = pretrained_dir() / str(name_or_path)
    if str(name_or_path) and "/" not in str(name_or_path) and q.is_dir():
        return q
    names = ", ".join(list_pretrained(include_classifier=True)) or "none installed"
    raise CheckpointError(f"No model named {str(name_or_path)!r}: give a checkpoint folder or one of: {names}.")


def load_generator(name_or_path: str | os.PathLike, net: str = "G", device: str = "cpu") -> torch.nn.Module:
    """Load a generator (the EMA weights) in eval mode from a shipped name or a checkpoint folder. ``net`` names
    the network for families with more than one generator (its file is ``<net>.safetensors``)."""
    ckpt = load_checkpoint(resolve_checkpoint(name_or_path), device=device)
    if "classifier" in ckpt.networks:
        raise CheckpointError(f"{name_or_path} holds a classifier, not a generator.")
    if net.startswith("D") or net not in ckpt.networks:
        gens = ", ".join(n for n in ckpt.networks if not n.startswith("D"))
        raise CheckpointError(f"{name_or_path} has no generator {net!r}; it has {gens}.")
    return ckpt.networks[net]


def sample(G: torch.nn.Module, seeds: Sequence[int], labels: Sequence[int] | None = None,
           truncation: float = 1.0) -> np.ndarray:
    """Images for the given seeds as uint8 numpy (N, H, W, C). The same seed always gives the same image.

    Args:
        G: a generator (see ``load_generator``).
        seeds: one image per seed.
        labels: class per image for conditional generators (required for them).
        truncation: psi in [0, 2]; below 1 trades variety for cleaner images.
    """
    z = truncate(seeds_to_z(seeds, G.z_dim, G.noise), truncation)
    y = _labels(G, labels, len(z))
    return to_uint8(generate(G, z, y))


def _labels(G, labels, n: int) -> torch.Tensor | None:
    if not G.num_classes:
        if labels is not None:
            raise ValueError("This generator is unconditional: it takes no labels.")
        return None
    if labels is None:
        raise ValueError(f"This generator is conditional: pass labels (0..{G.num_classes - 1}).")
    y = torch.as_tensor(list(labels) if not isinstance(labels, int) else [labels] * n, dtype=torch.long)
    if len(y) == 1 and n > 1:
        y = y.repeat(n)
    if len(y) != n:
        raise ValueError(f"Got {len(y)} labels for {n} seeds.")
    return y


def interpolate(G: torch.nn.Module, seed_a: int | None = None, seed_b: int | None = None, steps: int = 8,
                method: str = "slerp", seeds: Sequence[int] | None = None, label: int | None = None,
                truncation: float = 1.0) -> np.ndarray:
    """A strip of images along a path in z, uint8 (N, H, W, C).

    Either two seeds (``seed_a``, ``seed_b``) or several waypoints (``seeds``); ``steps`` points per segment.
    """
    waypoints = list(seeds) if seeds is not None else [seed_a, seed_b]
    if len(waypoints) < 2 or any(s is None for s in waypoints):
        raise ValueError("Give seed_a and seed_b, or at least two seeds.")
    z = interpolate_path(truncate(seeds_to_z(waypoints, G.z_dim, G.noise), truncation), steps, method)
    y = _labels(G, None if label is None else [label], len(z)) if G.num_classes else None
    return to_uint8(generate(G, z, y))
