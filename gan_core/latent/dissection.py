"""Inside the generator: its feature maps, switching units off or boosting them, and which units draw which digit.

A "unit" is one channel of a convolutional layer of G. The ranking follows GAN Dissection (Bau et al.,
ICLR 2019), adapted to digits: where Bau et al. match a unit's map to segmentation masks and then confirm by
ablation, here the effect of switching each unit off is measured directly, on the digit classifier's
probability of each class, averaged over many samples.

Example:
    >>> G = gan_core.load_generator("mnist-cgan")                         # doctest: +SKIP
    >>> with ablate(G, "block 1", [3, 17]):                               # doctest: +SKIP
    ...     img = gan_core.sample(G, seeds=[7], labels=[9])               # unit 3 and 17 switched off
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

RANKING_VERSION = 2


def layers(G: nn.Module) -> dict[str, nn.Module]:
    """G's layers that /inside shows, in order, as {name: module whose output is that layer's feature maps}:
    what the generator declares (``Generator.inside_layers``; the MLP generator has no maps: empty)."""
    return G.inside_layers()


@contextlib.contextmanager
def ablate(G: nn.Module, layer: str, units: Sequence[int], scale: float = 0.0) -> Iterator[nn.Module]:
    """Within the block, units (channels) of ``layer`` are multiplied by ``scale``: 0 switches them off, 2
    doubles them. Nothing is written to G's weights: a forward hook rescales the layer's output, and it is
    removed on leaving the block, also after an error. The hook only acts on calls from the thread that opened
    the block, so a generator shared by several users of a server is unaffected for the others.

    Raises:
        KeyError: no such layer. ValueError: a unit outside the layer.
    """
    module = layers(G).get(layer)
    if module is None:
        raise KeyError(f"G has no layer {layer!r}; it has: {', '.join(layers(G)) or 'none'}")
    units = sorted({int(u) for u in units})
    owner = threading.get_ident()

    def hook(mod, inputs, out):
        if threading.get_ident() != owner or not units:
            return None
        maps = G.as_maps(layer, out)
        if units[0] < 0 or units[-1] >= maps.shape[1]:
            raise ValueError(f"layer {layer!r} has units 0..{maps.shape[1] - 1}")
        factor = torch.ones(maps.shape[1], dtype=out.dtype)
        factor[units] = float(scale)
        return (maps * factor.view(1, -1, 1, 1)).view_as(out)

    handle = module.register_forward_hook(hook)
    try:
        yield G
    finally:
        handle.remove()


@torch.no_grad()
def activations(G: nn.Module, z: torch.Tensor, y: torch.Tensor | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Every layer's feature maps for z: ({layer: (B, C, H, W)}, images (B, C, H, W) in [-1, 1]).

    The hooks record only this thread's forward pass: on a server, another user's pass through the same shared
    G (a slider move on another page) runs the hooks too, and must not overwrite these maps."""
    found, handles = {}, []
    me = threading.get_ident()

    def record(mod, inp, out, name):
        if threading.get_ident() == me:
            found[name] = G.as_maps(name, out).detach().clone()

    for name, module in layers(G).items():
        handles.append(module.register_forward_hook(lambda mod, inp, out, name=name: record(mod, inp, out, name)))
    try:
        x = G(z, y) if G.num_classes else G(z)
    finally:
        for h in handles:
            h.remove()
    return found, x


def map_grid(maps: torch.Tensor, order: str = "activation", tile: int = 2) -> tuple[np.ndarray, list[int]]:
    """One image's maps (C, H, W) as a grid of tiles (uint8 (H', W')), strongest mean activation first.

    Each tile is scaled to its own maximum so that a weak unit's pattern is still visible. Returns the grid
    and the unit shown in each tile, in order.
    """
    C, H, W = maps.shape
    order_idx = maps.mean((1, 2)).argsort(descending=True).tolist() if order == "activation" else list(range(C))
    cols = int(np.ceil(np.sqrt(C)))
    rows = int(np.ceil(C / cols))
    pad = 1
    grid = np.full((rows * (H + pad) + pad, cols * (W + pad) + pad), 60, dtype=np.uint8)
    for k, u in enumerate(order_idx):
        m = maps[u].clamp(min=0)
        m = (m / m.max() if m.max() > 0 else m).numpy()
        r, c = divmod(k, cols)
        grid[pad + r * (H + pad): pad + r * (H + pad) + H, pad + c * (W + pad): pad + c * (W + pad) + W] = \
            (m * 255).astype(np.uint8)
    return grid, order_idx


def sample_inputs(G: nn.Module, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """n z of ``seed`` and, for a conditional G, classes 0, 1, 2, ... in turn: the samples a ranking uses."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, G.z_dim, generator=g)
    nc = int(G.num_classes)
    return z, (torch.arange(n) % nc if nc else None)


@torch.no_grad()
def class_probs(G: nn.Module, classifier: nn.Module, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    x = G(z, y) if y is not None else G(z)
    return F.softmax(classifier(x), 1)


@torch.no_grad()
def rank_units(G: nn.Module, classifier: nn.Module, n: int = 400, seed: int = 0,
               progress: Callable[[int, int], None] | None = None) -> dict:
    """For every unit of every layer: switch it off, and measure how much the classifier's probability of
    each class falls, averaged over the samples the classifier reads as that class when nothing is off.

    Returns:
        {"n": n, "seed": seed, "counts": per-class sample counts (list),
         "layers": {layer: {"units": C, "shape": [C, H, W], "drop": (classes, C) nested lists}}}
        ``drop[k][u]`` > 0 means unit u helps G draw class k.
    """
    G, classifier = G.eval(), classifier.eval()
    z, y = sample_inputs(G, n, seed)
    p0 = class_probs(G, classifier, z, y)                                  # (n, classes)
    read = p0.argmax(1)
    K = p0.shape[1]
    onehot = F.one_hot(read, K).float()                                     # (n, K)
    counts = onehot.sum(0)                                                  # (K,)
    acts, _ = activations(G, z[:1], None if y is None else y[:1])
    total = sum(a.shape[1] for a in acts.values())
    done, out = 0, {}
    for name, a in acts.items():
        C = a.shape[1]
        drop = torch.zeros(K, C)
        for u in range(C):
            with ablate(G, name, [u]):
                p = class_probs(G, classifier, z, y)
            # mean over the samples read as k of p0[:, k] - p[:, k]
            drop[:, u] = ((p0 - p) * onehot).sum(0) / counts.clamp(min=1)
            done += 1
            if progress is not None and (done % 8 == 0 or done == total):
                progress(done, total)
        # the top 8 together: units are not additive, so the layer that matters most for a class is chosen by
        # switching its 8 strongest units off at once (K more passes per layer)
        joint = torch.zeros(K)
        for k in range(K):
            with ablate(G, name, drop[k].argsort(descending=True)[:8].tolist()):
                p = class_probs(G, classifier, z, y)
            joint[k] = ((p0[:, k] - p[:, k]) * onehot[:, k]).sum() / counts[k].clamp(min=1)
        out[name] = {"units": C, "shape": list(a.shape[1:]), "drop": drop.tolist(), "top8_drop": joint.tolist()}
    return {"version": RANKING_VERSION, "n": n, "seed": seed, "counts": counts.long().tolist(), "layers": out}


def top_units(ranking: dict, layer: str, cls: int, k: int = 8) -> list[int]:
    """The k units of ``layer`` whose removal lowers class ``cls`` most, strongest first."""
    drop = np.asarray(ranking["layers"][layer]["drop"])[cls]
    return [int(u) for u in np.argsort(-drop)[:k]]


def best_layer(ranking: dict, cls: int) -> str:
    """The layer whose top 8 units, switched off together, lower class ``cls`` most."""
    return max(ranking["layers"], key=lambda name: ranking["layers"][name]["top8_drop"][cls])


def cache_dir() -> Path:
    """Where rankings are kept ($GAN_STUDIO_CACHE, else ~/.cache/gan-studio): never beside shipped files."""
    env = os.environ.get("GAN_STUDIO_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "gan-studio"


def ranking_key(generator_file: str | os.PathLike, n: int, seed: int) -> str:
    """A cache key from the generator's weights themselves, so a retrained model never reuses a stale ranking."""
    h = hashlib.sha256()
    with open(generator_file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return f"{h.hexdigest()[:24]}-n{n}-s{seed}-v{RANKING_VERSION}"


def cached_ranking(G: nn.Module, classifier: nn.Module, generator_file: str | os.PathLike, n: int = 400,
                   seed: int = 0, progress: Callable[[int, int], None] | None = None) -> dict:
    """``rank_units``, computed once per generator's weights and kept as JSON in ``cache_dir()/dissection``."""
    path = cache_dir() / "dissection" / f"{ranking_key(generator_file, n, seed)}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            pass  # a damaged cache file: compute it again
    ranking = rank_units(G, classifier, n, seed, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(ranking))
    tmp.replace(path)                                                       # atomic: readers never see half a file
    return ranking
