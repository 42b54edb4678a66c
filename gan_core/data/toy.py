"""2D toy distributions for the playground: mixtures of Gaussians (ring8, grid25) and curves (moons, spiral,
line)."""
from __future__ import annotations

import math

import torch

TOY_DATASETS = ("ring8", "grid25", "moons", "spiral", "line")

def toy_modes(name: str) -> torch.Tensor | None:
    """Centres of the mixture components (K, 2) for the mixtures, None for the others."""
    if name == "ring8":
        a = torch.arange(8) * (2 * math.pi / 8)
        return torch.stack([2 * torch.cos(a), 2 * torch.sin(a)], 1)
    if name == "grid25":
        v = torch.arange(-2.0, 2.01, 1.0)
        return torch.cartesian_prod(v, v)
    return None


TOY_STD = {"ring8": 0.05, "grid25": 0.05}


def sample_toy(name: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` points (n, 2) from a toy distribution; the same generator seed gives the same points.

    Example:
        >>> sample_toy("ring8", 4, torch.Generator().manual_seed(0)).shape
        torch.Size([4, 2])
    """
    if n <= 0:
        raise ValueError("n must be positive.")
    g = generator
    if name in ("ring8", "grid25"):
        centres = toy_modes(name)
        k = torch.randint(len(centres), (n,), generator=g)
        return centres[k] + TOY_STD[name] * torch.randn(n, 2, generator=g)
    if name == "moons":
        t = torch.rand(n, generator=g) * math.pi
        upper = torch.rand(n, generator=g) < 0.5
        x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
        y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
        pts = torch.stack([x - 0.5, y - 0.25], 1) * 1.5
        return pts + 0.05 * torch.randn(n, 2, generator=g)
    if name == "spiral":
        t = torch.rand(n, generator=g).sqrt()  # sqrt: even density along the arm
        ang = 3 * math.pi * t
        pts = torch.stack([t * torch.cos(ang), t * torch.sin(ang)], 1) * 2
        return pts + 0.04 * torch.randn(n, 2, generator=g)
    if name == "line":
        x = torch.rand(n, generator=g) * 4 - 2
        return torch.stack([x, 0.5 * x], 1) + 0.03 * torch.randn(n, 2, generator=g)
    raise ValueError(f"Unknown toy dataset {name!r}; choose one of {', '.join(TOY_DATASETS)}.")
