"""W space of a style-based generator (``G.has_w``): layer groups, style mixing, stochastic variation and
layer-wise directions, for our StyleGAN and imported StyleGAN2 checkpoints alike.

What a style-based G gives (models/stylegan.py and hub/stylegan2.py): ``mapping(z, psi)``, ``synthesis(ws,
noise_mode)``, ``num_ws``, ``w_dim``, ``w_avg``, ``n_convs`` (conv i takes ws[i]) and ``style_layers()``.

Example:
    >>> G = gan_core.load_generator("mnist-stylegan")                       # doctest: +SKIP
    >>> groups = layer_groups(G)                                            # doctest: +SKIP
    >>> grid = mixing_grid(G, [1, 2], [3, 4], groups["coarse"])             # doctest: +SKIP
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from gan_core.latent.sampling import seeds_to_z, to_uint8

GROUPS = ("coarse", "middle", "fine")


def require_w(G) -> None:
    if not getattr(G, "has_w", False):
        raise ValueError("This generator has no W space (it maps z straight to pixels); W tools need a "
                         "style-based model such as mnist-stylegan.")


def ws_sides(G) -> list[int]:
    """The resolution each ws index styles, as the StyleGAN papers group them: two per resolution from the base
    (ws 0-1 at the base side, 2-3 at twice it, ...)."""
    side = G.img_shape[1]
    n_res = G.num_ws // 2
    base = side // 2 ** (n_res - 1)
    return [base * 2 ** (i // 2) for i in range(G.num_ws)]


def layer_groups(G) -> dict[str, list[int]]:
    """ws indices of the coarse, middle and fine styles. The StyleGAN paper (Karras et al. 2019, section 3.1)
    calls 4²-8² coarse, 16²-32² middle and 64²-1024² fine for 1024 px; here: the first resolutions are coarse
    and middle (two each when there are six or more resolutions, one each otherwise), the rest fine.

    Example (28x28 digits: 7, 14, 28): coarse [0, 1] (7x7), middle [2, 3] (14x14), fine [4, 5] (28x28).
    """
    require_w(G)
    n_res = G.num_ws // 2
    k = 2 if n_res >= 6 else 1
    res = list(range(n_res))
    parts = {"coarse": res[:k], "middle": res[k:2 * k], "fine": res[2 * k:]}
    return {g: [i for r in rs for i in (2 * r, 2 * r + 1)] for g, rs in parts.items()}


def describe(G, layers: Sequence[int]) -> str:
    """'ws 0-1 (7x7)' for a run of ws indices."""
    sides = ws_sides(G)
    layers = sorted(layers)
    if not layers:
        return "no layers"
    lo, hi = sides[layers[0]], sides[layers[-1]]
    span = f"ws {layers[0]}" if len(layers) == 1 else f"ws {layers[0]}-{layers[-1]}"
    return f"{span} ({lo}x{lo})" if lo == hi else f"{span} ({lo}x{lo} to {hi}x{hi})"


def check_layers(G, layers: Sequence[int]) -> list[int]:
    out = sorted({int(i) for i in layers})
    if any(not 0 <= i < G.num_ws for i in out):
        raise ValueError(f"ws indices run from 0 to {G.num_ws - 1}, got {layers}.")
    return out


@torch.no_grad()
def ws_of(G, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
    """(N, num_ws, w_dim): w of each z (moved toward the mean w by ``psi``), the same at every layer."""
    require_w(G)
    return G.mapping(z, psi)[:, None].repeat(1, G.num_ws, 1)


def ws_of_seeds(G, seeds: Sequence[int], psi: float = 1.0) -> torch.Tensor:
    return ws_of(G, seeds_to_z(seeds, G.z_dim, getattr(G, "noise", "gaussian")), psi)


PREVIEW_SIDE = 32      # a big model's quick image: the synthesis stopped at the block of at most this side
BIG_SIDE = 128         # models from this side up show that preview first


def block_side(G, block: int) -> int:
    """The side of synthesis block ``block``'s image (block 0: the base resolution)."""
    n_res = G.num_ws // 2
    return G.img_shape[1] // 2 ** (n_res - 1 - block)


def preview_block(G, max_side: int = PREVIEW_SIDE) -> int:
    """The last synthesis block whose image is at most ``max_side`` pixels (block 0 is the base resolution)."""
    n_res = G.num_ws // 2
    base = G.img_shape[1] // 2 ** (n_res - 1)
    b = 0
    while b + 1 < n_res and base * 2 ** (b + 1) <= max_side:
        b += 1
    return b


def mix(ws_a: torch.Tensor, ws_b: torch.Tensor, layers: Sequence[int]) -> torch.Tensor:
    """A's styles with B's at ``layers`` (style mixing)."""
    out = ws_a.clone()
    out[:, list(layers)] = ws_b[:, list(layers)]
    return out


@torch.no_grad()
def render(G, ws: torch.Tensor, noise_mode="const", batch: int = 64, stop_at: int | None = None) -> np.ndarray:
    """uint8 (N, H, W, C) images for ws, clamped for display only; ``stop_at``: at that block's resolution."""
    out = [to_uint8(G.synthesis(ws[i:i + batch], noise_mode=noise_mode, stop_at=stop_at))
           for i in range(0, len(ws), batch)]
    return np.concatenate(out) if out else np.zeros((0, *G.img_shape[1:], G.img_shape[0]), np.uint8)


@torch.no_grad()
def mixing_grid(G, seeds_a: Sequence[int], seeds_b: Sequence[int], layers: Sequence[int], psi: float = 1.0,
                stop_at: int | None = None) -> dict:
    """The StyleGAN paper's Figure 3: sources A down, sources B across, each cell A with B's styles at ``layers``
    (``stop_at``: every image at that synthesis block's resolution, for big models).

    Returns {"a": uint8 (na, H, W, C), "b": uint8 (nb, ...), "grid": uint8 (na, nb, H, W, C)}.
    """
    layers = check_layers(G, layers)
    wa, wb = ws_of_seeds(G, seeds_a, psi), ws_of_seeds(G, seeds_b, psi)
    na, nb = len(wa), len(wb)
    cells = mix(wa.repeat_interleave(nb, 0), wb.repeat(na, 1, 1), layers)
    grid = render(G, cells, stop_at=stop_at)
    return {"a": render(G, wa, stop_at=stop_at), "b": render(G, wb, stop_at=stop_at),
            "grid": grid.reshape(na, nb, *grid.shape[1:])}


def conv_groups(G, groups: Sequence[str]) -> list[str]:
    """One noise mode per conv layer: "random" in the chosen groups' layers, "const" elsewhere."""
    chosen = {i for g in groups for i in layer_groups(G)[g]}
    return ["random" if i in chosen else "const" for i in range(G.n_convs)]


@torch.no_grad()
def stochastic_variation(G, ws: torch.Tensor, n: int = 8, groups: Sequence[str] = GROUPS, seed: int = 0,
                         stop_at: int | None = None) -> dict:
    """The StyleGAN paper's Figure 4: one ws (1, num_ws, w_dim), ``n`` draws of the noise in the chosen layer
    groups (the other layers keep their stored noise), and the per-pixel standard deviation over the draws.

    Returns {"images": uint8 (n, H, W, C), "std": float (H, W) in image units (0-1 of the display range),
    "mean_std": the std averaged over pixels}.
    """
    bad = set(groups) - set(GROUPS)
    if bad:
        raise ValueError(f"Noise groups are {', '.join(GROUPS)}, got {sorted(bad)}.")
    if not 1 <= n <= 64:
        raise ValueError("Draw 1 to 64 noise samples.")
    modes = conv_groups(G, groups)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        x = G.synthesis(ws.expand(n, -1, -1), noise_mode=modes, stop_at=stop_at).clamp(-1, 1)
    std = ((x + 1) / 2).std(0, unbiased=False).mean(0) if n > 1 else torch.zeros(x.shape[2:])
    return {"images": to_uint8(x), "std": std.numpy(), "mean_std": float(std.mean())}


# ------------------------------------------------------------------ layer-wise directions
@torch.no_grad()
def sample_w(G, n: int = 10_000, seed: int = 0, batch: int = 2048) -> torch.Tensor:
    """w of ``n`` random z, (n, w_dim)."""
    gen = torch.Generator().manual_seed(seed)
    out = [G.mapping(torch.randn(min(batch, n - i), G.z_dim, generator=gen)) for i in range(0, n, batch)]
    return torch.cat(out)


@torch.no_grad()
def ganspace(G, k: int = 8, n: int = 10_000, seed: int = 0) -> dict:
    """GANSpace (Harkonen et al. 2020): the principal components of sampled w. Returns {"directions": (k, w_dim)
    unit vectors, "sigmas": (k,) the standard deviation of w along each, "explained": (k,) variance shares}."""
    require_w(G)
    w = sample_w(G, n, seed).double()
    wc = w - w.mean(0)
    _, s, vt = torch.linalg.svd(wc, full_matrices=False)
    var = s.pow(2) / (len(w) - 1)
    k = min(k, len(s))
    return {"directions": vt[:k].float(), "sigmas": var[:k].sqrt().float(), "explained": (var[:k] / var.sum()).float()}


@torch.no_grad()
def sefa_w(G, layers: Sequence[int] | None = None, k: int = 8) -> dict:
    """SeFa (Shen & Zhou 2021) on the modulation weights: the top eigenvectors of A^T A, where A stacks the style
    affines (w -> per-channel scales) of the layers fed by ``layers`` (all when None). Directions are unit
    vectors in W; "sigmas" is the standard deviation of w along each (so sliders are in sigmas)."""
    require_w(G)
    chosen = None if layers is None else set(check_layers(G, layers))
    mats = [(aff.weight * aff.scale).detach().double() for i, aff in G.style_layers() if chosen is None or i in chosen]
    if not mats:
        raise ValueError("No modulated layer takes those ws.")
    A = torch.cat(mats)                                                 # (sum of in-channels, w_dim)
    eigvals, eigvecs = torch.linalg.eigh(A.T @ A)
    order = torch.argsort(eigvals, descending=True)[:k]
    dirs = eigvecs[:, order].T.float().contiguous()
    w = sample_w(G, 2000, 1)
    sig = ((w - w.mean(0)) @ dirs.T).std(0)
    return {"directions": dirs, "eigenvalues": eigvals[order].float(), "sigmas": sig}


def edit(ws: torch.Tensor, directions: torch.Tensor, sigmas: torch.Tensor, amounts: dict[int, float],
         layers: dict[int, Sequence[int]] | Sequence[int]) -> torch.Tensor:
    """ws + sum_k amounts[k] * sigmas[k] * directions[k], applied only to each direction's layer range (a dict
    of ranges per direction, or one range for all)."""
    out = ws.clone()
    for k, x in amounts.items():
        if not x:
            continue
        rng = layers[k] if isinstance(layers, dict) else layers
        out[:, list(rng)] += float(x) * float(sigmas[k]) * directions[int(k)]
    return out


def layer_range(G, lo: int, hi: int) -> list[int]:
    """ws indices lo..hi (inclusive), checked."""
    if not 0 <= lo <= hi < G.num_ws:
        raise ValueError(f"A layer range runs within 0..{G.num_ws - 1}, low end first; got {lo}..{hi}.")
    return list(range(lo, hi + 1))


@torch.no_grad()
def styles(G, ws: torch.Tensor) -> list[dict]:
    """Each modulated layer's style for ws (1, num_ws, w_dim): the per-input-channel scales its affine map makes
    of its w. Returns one {"ws": index, "layer": name, "side": int, "scales": numpy (in_channels,)} per layer, in
    the order the synthesis applies them."""
    sides, out = G.conv_sides(), []
    for pos, (i, aff) in enumerate(G.style_layers()):      # the convs first, then one toRGB per block
        block = pos - G.n_convs
        kind, side = (f"conv {i}", sides[i]) if block < 0 else ("toRGB", sides[2 * block])
        out.append({"ws": i, "layer": kind, "side": side, "scales": aff(ws[:, i])[0].numpy()})
    return sorted(out, key=lambda r: (r["ws"], r["layer"] == "toRGB"))


def std_image(std: np.ndarray) -> np.ndarray:
    """A per-pixel standard deviation as a uint8 (H, W, 1) picture, scaled so its largest value is white."""
    top = float(std.max()) or 1.0
    return (np.clip(std / top, 0, 1) * 255).round().astype(np.uint8)[..., None]


def ws_from_text(text: str, G) -> torch.Tensor:
    """A found w (one row) or W+ (num_ws rows), encoded by inversion.encode_z, as (1, num_ws, w_dim)."""
    from gan_core.latent.inversion import decode_z

    for rows in (1, G.num_ws):
        try:
            v = decode_z(text, rows * G.w_dim, limit=64.0)
        except ValueError:
            continue
        v = v.reshape(1, rows, G.w_dim)
        return v.expand(1, G.num_ws, G.w_dim).clone() if rows == 1 else v
    raise ValueError("is not a w or W+ of this model")

