"""Find a real image in a generator's latent space (GAN inversion), and prepare a hand-drawn digit for it.

``prepare_digit`` turns a drawing or a photo of one digit into a 28x28 MNIST-style image; ``project``
searches z (and, for a conditional generator given no label, the class) so that G(z) looks like the image.

Example:
    >>> G = gan_core.load_generator("mnist-dcgan")                         # doctest: +SKIP
    >>> found = project(G, gan_core.sample(G, seeds=[3]))                   # doctest: +SKIP
    >>> found["z"].shape, found["images"].shape                             # doctest: +SKIP
    (torch.Size([1, 64]), (1, 28, 28, 1))
"""
from __future__ import annotations

import base64
import copy
import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan_core.latent.sampling import to_uint8


MAX_DIGIT_PIXELS = 1024 * 1024   # what prepare_digit works on; uploads are reduced to this by the image intake


class DigitError(ValueError):
    """The input cannot be read as a single digit (blank, no contrast, not a drawing)."""


# ------------------------------------------------------------------ preprocessing (how MNIST was made)
def _grey(image) -> np.ndarray:
    """Any PIL image or uint8/float array (H, W[, C]) -> float grey (H, W) in [0, 1] where 1 is ink-coloured
    light. An alpha channel that varies is the ink itself (a drawing on a transparent canvas)."""
    from PIL import Image

    if isinstance(image, Image.Image):
        if image.width * image.height > MAX_DIGIT_PIXELS:
            image = image.copy()
            image.thumbnail((1024, 1024), Image.Resampling.BOX)
        image = np.asarray(image.convert("RGBA") if "A" in image.getbands() else image.convert("L"))
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or min(a.shape[:2]) < 8:
        raise DigitError(f"Expected an image of at least 8x8 pixels (grey, RGB or RGBA), got shape {a.shape}.")
    if a.size > MAX_DIGIT_PIXELS * (a.shape[2] if a.ndim == 3 else 1):
        raise DigitError(f"The image is {a.shape[1]}x{a.shape[0]} pixels; pass it through gan_core.intake.images "
                         f"(which reduces it) or give at most {MAX_DIGIT_PIXELS:,} pixels.")
    a = a.astype(np.float32)  # float32, not float64: half the memory, and all the precision a digit needs
    if a.max() > 1.0:
        a = a / np.float32(255.0)
    if a.ndim == 3:
        if a.shape[2] == 4 and a[..., 3].min() < 0.98:
            return a[..., 3]                                              # transparent background: alpha is the ink
        a = a[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return a


def prepare_digit(image, min_contrast: float = 0.25) -> np.ndarray:
    """One digit as MNIST shows it: white ink on black, uint8 (28, 28, 1).

    The steps are the ones LeCun, Cortes and Burges describe for MNIST: the digit is cropped to its ink,
    scaled (with anti-aliasing) to fit a 20x20 box keeping its aspect ratio, and placed in a 28x28 image so
    that its centre of mass is at the centre. So a digit drawn large, small or off-centre is read the same.
    Dark ink on a light background (a photo of paper) is inverted first: the background is taken to be the
    median of the border pixels.

    Raises:
        DigitError: blank input, too little contrast, or so much "ink" that it is not a digit on a background.
    """
    from PIL import Image
    from scipy import ndimage

    g = _grey(image)
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    background = float(np.median(border))
    if background > 0.5:
        g, background = 1.0 - g, 1.0 - background
    ink = np.clip(g - background, 0.0, None)
    if ink.max() < min_contrast:
        raise DigitError("The image is blank (or has almost no contrast): draw or upload a digit.")
    ink = ink / ink.max()
    mask = ink > 0.2
    if mask.sum() < 4:
        raise DigitError("There is too little ink to read a digit: draw it bigger or with a thicker pen.")
    if mask.mean() > 0.6:
        raise DigitError("More than half of the image is ink: upload one digit on a plain background.")
    rows, cols = np.nonzero(mask)
    crop = ink[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    h, w = crop.shape
    s = 20.0 / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    patch = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize((nw, nh), Image.LANCZOS),
                       dtype=np.float64)
    out = np.zeros((28, 28))
    cy, cx = ndimage.center_of_mass(patch) if patch.sum() > 0 else (nh / 2, nw / 2)
    top, left = int(round(14 - cy)), int(round(14 - cx))
    top, left = min(max(top, 0), 28 - nh), min(max(left, 0), 28 - nw)   # keep the whole digit inside
    out[top: top + nh, left: left + nw] = patch
    return np.clip(out, 0, 255).astype(np.uint8)[..., None]


# ------------------------------------------------------------------ sharing a found z
def encode_z(z: torch.Tensor) -> str:
    """A z (z_dim,) as compact URL-safe text: float16, base64 (64 numbers -> 172 characters)."""
    raw = z.detach().reshape(-1).to(torch.float16).numpy().astype("<f2").tobytes()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_z(text: str, z_dim: int, limit: float = 8.0) -> torch.Tensor:
    """The inverse of ``encode_z``, checked: (1, z_dim) float32. Raises ValueError for anything else."""
    if not isinstance(text, str) or len(text) > 4 * z_dim or not text:
        raise ValueError("is not a z of this model")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise ValueError("is not valid base64") from None
    if len(raw) != 2 * z_dim:
        raise ValueError(f"holds {len(raw) // 2} numbers; this model's z has {z_dim}")
    z = torch.from_numpy(np.frombuffer(raw, dtype="<f2").astype(np.float32).copy())
    if not torch.isfinite(z).all() or z.abs().max() > limit:
        raise ValueError(f"holds values that are not finite or beyond ±{limit:g}")
    return z[None]


# ------------------------------------------------------------------ the search
def _to_tensor(images: np.ndarray, img_shape: tuple) -> torch.Tensor:
    a = np.asarray(images)
    if a.ndim == 3:
        a = a[None]
    if a.dtype != np.uint8 or a.ndim != 4 or tuple(a.shape[1:]) != (img_shape[1], img_shape[2], img_shape[0]):
        raise ValueError(f"images must be uint8 (N, {img_shape[1]}, {img_shape[2]}, {img_shape[0]}) like "
                         f"gan_core.sample returns, got {a.dtype} {a.shape}")
    return torch.from_numpy(a).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def _default_classifier(img_shape: tuple) -> nn.Module | None:
    if tuple(img_shape) != (1, 28, 28):
        return None
    try:
        from gan_core.metrics.scores import load_classifier

        return load_classifier()
    except Exception:  # no shipped classifier: pixels (and the prior) alone
        return None


def _lr(t: float, base: float, rampdown: float = 0.25, rampup: float = 0.05) -> float:
    """StyleGAN2-ADA projector's schedule: a short linear warm-up, a cosine ramp-down over the last quarter."""
    ramp = min(1.0, (1.0 - t) / rampdown)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    return base * ramp * min(1.0, t / rampup)


def project(G: nn.Module, images: np.ndarray, labels=None, steps: int = 100, restarts: int = 6, seed: int = 0,
            classifier: nn.Module | None = None, candidates: int = 512, lr: float = 0.1,
            feature_weight: float = 0.5, prior_weight: float = 0.05, frames: int = 16,
            progress: Callable[[int, int], None] | None = None, space: str = "z") -> dict:
    """Find z (and the class, for a conditional G given no label) whose image G(z) matches each image.

    Each choice, and where it comes from:
      * Starts. A random start far from the answer wastes most of the budget, so ``candidates`` z (at
        least 128 per class when the class is searched) are drawn and the ``restarts`` with the lowest loss are optimised.
        This stands in for iGAN's encoder (Zhu et al. 2016: a good start, then a short refinement) without
        training one; Defense-GAN (Samangouei et al. 2018) uses random restarts (10 on MNIST) for the
        same reason: the loss has many poor local minima.
      * Optimiser. Adam, ``lr`` 0.1 with a short warm-up and a cosine ramp-down, as in StyleGAN2-ADA's
        projector.py (which takes 1,000 steps; 100 suffice here from a screened start).
      * Loss. Pixels alone reward a blurry average; so the loss adds the squared distance between the
        digit classifier's 128-d features of G(z) and of the image (a perceptual loss: Johnson et al. 2016;
        StyleGAN2 uses LPIPS for this). ``feature_weight`` balances them.
      * Prior. z is drawn from N(0, I), whose samples lie near the sphere |z|² = z_dim; a term
        ``prior_weight`` * (|z|²/z_dim − 1)² keeps the answer on that shell, so the found z is a typical
        one the explorer can walk away from (StyleGAN2 regularises its noise inputs for the same reason).

    Args:
        G: a generator in eval mode. images: uint8 (N, H, W, C) matching G's image shape.
        labels: the class of each image for a conditional G; None searches all classes.
        progress: called as progress(done_steps, total_steps).
        space: "z" searches z; for a style-based G (``G.has_w``) also "w" (one w for every layer) or "w+" (one w
            per layer: the W+ of Abdal et al. 2019, Image2StyleGAN). Starts are screened from mapped random z
            either way, and the prior keeps w's distance from the mean w typical (its spread measured from
            10,000 mapped samples, as StyleGAN2's projector does).

    Returns:
        {"z": (N, z_dim) tensor (z search) or None, "ws": (N, num_ws, w_dim) for a W or W+ search (else absent),
         "labels": (N,) list or None, "images": uint8 (N, H, W, C), "loss": (N,) numpy,
         "history": uint8 (frames, N, H, W, C) of the best start along the way, "steps": int, "space": str}
    """
    if space not in ("z", "w", "w+"):
        raise ValueError(f"space must be 'z', 'w' or 'w+', got {space!r}.")
    if space != "z" and not getattr(G, "has_w", False):
        raise ValueError("Only a style-based generator has a W space to search; use space='z'.")
    target = _to_tensor(images, G.img_shape)                               # (N, C, H, W) in [-1, 1]
    N, z_dim, nc = len(target), G.z_dim, int(G.num_classes)
    C = classifier if classifier is not None else _default_classifier(G.img_shape)
    if nc and labels is not None:
        labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
        if len(labels) != N or labels.min() < 0 or labels.max() >= nc:
            raise ValueError(f"give one label in 0..{nc - 1} per image")
    gen = torch.Generator().manual_seed(seed)
    # Frozen private copies: gradients reach z only, and a generator shared with other users (the app caches
    # one per model) is never touched. The networks are small (under 2 M weights): copying takes milliseconds.
    G = copy.deepcopy(G).eval().requires_grad_(False)
    C = copy.deepcopy(C).eval().requires_grad_(False) if C is not None else None

    in_w = space != "z"
    if in_w:
        from gan_core.latent.wspace import sample_w

        w_avg = G.w_avg.detach().reshape(1, -1)
        w_var = float((sample_w(G, 10_000, seed) - w_avg).pow(2).sum(1).mean()) / G.w_dim

    def run_G(v, y):
        """v: z (B, z_dim), w (B, w_dim) or ws (B, num_ws, w_dim)."""
        if in_w:
            ws = v[:, None].expand(-1, G.num_ws, -1) if v.dim() == 2 else v
            return G.synthesis(ws, noise_mode="const")
        return G(v, y) if nc else G(v)

    def spread(v):
        """|v|² / dim per row: 1 for a typical z, or a typical w measured from the mean w."""
        if not in_w:
            return v.pow(2).mean(1)
        return (v - w_avg).pow(2).flatten(1).mean(1) / w_var

    with torch.no_grad():
        t_feat = C.features(target) if C is not None else None

    def losses(x: torch.Tensor, z: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """Per-row loss of images x against target rows idx."""
        loss = (x - target[idx]).pow(2).flatten(1).mean(1)
        if C is not None:
            loss = loss + feature_weight * (C.features(x) - t_feat[idx]).pow(2).mean(1)
        return loss + prior_weight * (spread(z) - 1.0).pow(2)

    # 1. screen random starts: (N images) x (classes) x (candidates)
    classes = [None] if not nc else (range(nc) if labels is None else [None])
    R = restarts
    per_class = max(128, candidates // len(classes)) if len(classes) > 1 else candidates
    dim = G.w_dim if in_w else z_dim
    starts_z, starts_y = torch.empty(N, R, dim), torch.zeros(N, R, dtype=torch.long)
    with torch.no_grad():
        for i in range(N):
            zs, ys, ls = [], [], []
            for c in classes:
                z = torch.randn(per_class, z_dim, generator=gen)
                if in_w:
                    z = G.mapping(z)
                y = None
                if nc:
                    y = torch.full((per_class,), int(labels[i]) if c is None else c, dtype=torch.long)
                x = run_G(z, y)
                ls.append(losses(x, z, torch.full((per_class,), i)))
                zs.append(z)
                ys.append(y if y is not None else torch.zeros(per_class, dtype=torch.long))
            best = torch.cat(ls).topk(R, largest=False).indices
            starts_z[i], starts_y[i] = torch.cat(zs)[best], torch.cat(ys)[best]
    # 2. refine all starts of all images together
    z = starts_z.reshape(N * R, dim).clone()
    if space == "w+":
        z = z[:, None].repeat(1, G.num_ws, 1)
    z.requires_grad_(True)
    y = starts_y.reshape(N * R) if nc else None
    idx = torch.arange(N).repeat_interleave(R)
    opt = torch.optim.Adam([z], lr=lr, betas=(0.9, 0.999))
    keep = set(np.linspace(0, steps, max(2, frames)).round().astype(int).tolist())
    snaps = []
    for step in range(steps + 1):
        with torch.no_grad() if step == steps else torch.enable_grad():
            x = run_G(z, y)
            loss = losses(x, z, idx)
        if step in keep:
            snaps.append(x.detach())
        if step == steps:
            break
        for group in opt.param_groups:
            group["lr"] = _lr((step + 1) / steps, lr)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        if progress is not None and (step % 10 == 0 or step == steps - 1):
            progress(step + 1, steps)
    final = loss.detach().reshape(N, R)
    best = final.argmin(1)                                                   # (N,)
    rows = torch.arange(N) * R + best
    history = torch.stack(snaps)[:, rows]                                   # (frames, N, C, H, W)
    found = z.detach()[rows].clone()
    extra = {}
    if in_w:
        extra["ws"] = found[:, None].repeat(1, G.num_ws, 1) if found.dim() == 2 else found
    return {
        **extra, "space": space,
        "z": None if in_w else found,
        "labels": y[rows].tolist() if nc else None,
        "images": to_uint8(x.detach()[rows]),
        "loss": final[torch.arange(N), best].numpy(),
        "history": np.stack([to_uint8(h) for h in history]),
        "steps": steps,
    }


def reads_as(classifier: nn.Module, images: np.ndarray) -> np.ndarray:
    """The classifier's class probabilities (N, classes) for uint8 images (N, 28, 28, 1)."""
    with torch.no_grad():
        x = torch.from_numpy(np.asarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        return F.softmax(classifier.eval()(x), 1).numpy()
