"""From seeds to images: noise, truncation, interpolation, grids and closed-form latent directions.

Randomness is explicit: a seed always gives the same z, whatever else is in the batch.

Example:
    >>> z = seeds_to_z([1, 2], z_dim=8)
    >>> bool(torch.equal(z[1], seeds_to_z([2], z_dim=8)[0]))
    True
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn


MAX_SEED = 2**31 - 1


class SeedError(ValueError):
    """Seeds a user typed that cannot be used; the message says why."""


def parse_seeds(text: str, limit: int = 10_000) -> list[int]:
    """'1-4,9' -> [1, 2, 3, 4, 9]. Refuses more than ``limit`` seeds by counting ranges before expanding
    any, so "0-99999999999" costs nothing.

    Example:
        >>> parse_seeds("1-3, 7")
        [1, 2, 3, 7]
    """
    spans: list[tuple[int, int]] = []
    try:
        for part in str(text).split(","):
            part = part.strip()
            if len(part) > 40:
                raise SeedError(f"could not read seeds {part[:20]!r}…")
            if "-" in part[1:]:
                a, b = (int(v) for v in part.split("-", 1))
                if b < a:
                    raise SeedError(f"seed range {part} runs backwards")
                spans.append((a, b))
            elif part:
                spans.append((int(part), int(part)))
            if sum(b - a + 1 for a, b in spans) > limit:
                raise SeedError(f"at most {limit} seeds at once")
    except SeedError:
        raise
    except ValueError:
        raise SeedError(f"could not read seeds {str(text)[:40]!r}: use a list like 1-16 or 1,5,9") from None
    if not spans or min(a for a, _ in spans) < 0 or max(b for _, b in spans) > MAX_SEED:
        raise SeedError(f"seeds must be whole numbers from 0 to {MAX_SEED:,}, e.g. 1-16")
    return [s for a, b in spans for s in range(a, b + 1)]


def sample_noise(n: int, z_dim: int, noise: str = "gaussian", generator: torch.Generator | None = None) -> torch.Tensor:
    """(n, z_dim) noise: N(0, I) for "gaussian", U(-1, 1) for "uniform"."""
    if noise == "gaussian":
        return torch.randn(n, z_dim, generator=generator)
    if noise == "uniform":
        return torch.rand(n, z_dim, generator=generator) * 2 - 1
    raise ValueError(f"Unknown noise {noise!r}; choose 'gaussian' or 'uniform'.")


def seeds_to_z(seeds: Sequence[int], z_dim: int, noise: str = "gaussian") -> torch.Tensor:
    """One z per seed, (len(seeds), z_dim); each row depends only on its own seed."""
    rows = []
    for s in seeds:
        s = int(s)
        if not 0 <= s < 2 ** 63:
            raise ValueError(f"Seeds must be between 0 and 2**63 - 1, got {s}.")
        rows.append(sample_noise(1, z_dim, noise, torch.Generator().manual_seed(s)))
    return torch.cat(rows) if rows else torch.empty(0, z_dim)


def truncate(z: torch.Tensor, psi: float) -> torch.Tensor:
    """The truncation trick in z space: pull z toward the mean of the noise (0) by ``psi``.

    psi = 1 leaves z unchanged; smaller values trade variety for typical, cleaner images
    (StyleGAN applies the same interpolation toward the mean in its w space).
    """
    if not 0.0 <= psi <= 2.0:
        raise ValueError(f"Truncation psi must be between 0 and 2, got {psi}.")
    return z * psi


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Straight line from a to b. a, b: (D,) or (1, D); t: scalar or (T,) in [0, 1]. Returns (T, D)."""
    t = torch.as_tensor(t, dtype=a.dtype).reshape(-1, 1)
    return a.reshape(1, -1) + (b - a).reshape(1, -1) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; for GAN latents, White 2016).

    Follows the great circle between a and b, so intermediate points keep a typical norm for Gaussian
    noise instead of passing near the origin. Falls back to lerp when a and b are nearly parallel.
    a, b: (D,) or (B, D); t: scalar or (T,) values in [0, 1].
    """
    t = torch.as_tensor(t, dtype=a.dtype).reshape(-1, 1)
    a2, b2 = a.reshape(1, -1) if a.dim() == 1 else a, b.reshape(1, -1) if b.dim() == 1 else b
    an, bn = a2 / a2.norm(dim=-1, keepdim=True), b2 / b2.norm(dim=-1, keepdim=True)
    omega = torch.acos((an * bn).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    out = (torch.sin((1 - t) * omega) / so) * a2 + (torch.sin(t * omega) / so) * b2
    near = so.abs() < 1e-6
    if near.any():
        out = torch.where(near, a2 + (b2 - a2) * t, out)
    return out


def interpolate_path(waypoints: torch.Tensor, steps: int, method: str = "slerp") -> torch.Tensor:
    """z along a path through K waypoints, (K-1) * (steps - 1) + 1 points, ends included.

    Args:
        waypoints: (K, z_dim) with K >= 2.
        steps: points per segment, ends included (>= 2).
        method: "lerp" or "slerp".
    """
    if waypoints.dim() != 2 or len(waypoints) < 2:
        raise ValueError("Interpolation needs at least two waypoints.")
    if steps < 2:
        raise ValueError("steps must be at least 2.")
    if method not in ("lerp", "slerp"):
        raise ValueError("method must be 'lerp' or 'slerp'.")
    fn = slerp if method == "slerp" else lerp
    t = torch.linspace(0, 1, steps)
    segs = []
    for i in range(len(waypoints) - 1):
        seg = fn(waypoints[i], waypoints[i + 1], t)
        segs.append(seg if i == 0 else seg[1:])  # shared waypoint only once
    return torch.cat(segs)


@torch.no_grad()
def generate(G: nn.Module, z: torch.Tensor, y: torch.Tensor | None = None, batch_size: int = 256) -> torch.Tensor:
    """G(z, y) in batches without gradients; float in [-1, 1] on the CPU, (N, C, H, W)."""
    device = next(G.parameters()).device
    outs = []
    for i in range(0, len(z), batch_size):
        zi = z[i:i + batch_size].to(device)
        yi = None if y is None else y[i:i + batch_size].to(device)
        outs.append(G(zi, yi).float().cpu())
    return torch.cat(outs) if outs else torch.empty(0, *G.img_shape)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] floats (N, C, H, W) -> uint8 numpy (N, H, W, C)."""
    x = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def image_grid(images: torch.Tensor | np.ndarray, nrow: int = 8, padding: int = 2, scale: int = 1) -> np.ndarray:
    """Tile images into one uint8 (H, W, C) array with torchvision's make_grid.

    images: [-1, 1] floats (N, C, H, W) or uint8 (N, H, W, C). ``scale`` enlarges with nearest
    neighbour so pixels stay crisp.
    """
    from torchvision.utils import make_grid

    if isinstance(images, np.ndarray):
        t = torch.from_numpy(images).permute(0, 3, 1, 2)
    else:
        t = torch.from_numpy(to_uint8(images)).permute(0, 3, 1, 2)
    grid = make_grid(t, nrow=nrow, padding=padding, pad_value=255)      # (C, H, W) uint8, 3 channels
    grid = grid.permute(1, 2, 0).numpy()
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    return np.ascontiguousarray(grid)


def to_pil(array: np.ndarray):
    """uint8 (H, W, C) or (H, W) array -> PIL image (grayscale when one channel)."""
    from PIL import Image

    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return Image.fromarray(array)


def class_grid_inputs(seeds: Sequence[int], num_classes: int, z_dim: int,
                      noise: str = "gaussian") -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs for a grid whose rows are seeds and columns classes: one z held fixed per row.

    Returns z (R*K, z_dim) and y (R*K,) in row-major order.
    """
    z = seeds_to_z(seeds, z_dim, noise).repeat_interleave(num_classes, 0)
    y = torch.arange(num_classes).repeat(len(seeds))
    return z, y
