"""The heavy page work, as ``Task`` functions that run in the work queue's worker processes.

Each function takes the item's ``WorkContext`` first and plain arguments after it (a checkpoint folder, numbers,
a uint8 image): it loads what it needs in the worker (loaded models are kept per worker, the two most recent),
estimates its own cost before its main loop and refuses (``OverBudget``) or scales down what would not finish
within the server's limit, and returns plain values (dicts of numbers and arrays).

Example:
    >>> from gan_core.serve.workqueue import Task, WorkQueue
    >>> q = WorkQueue(workers=1)                                                  # doctest: +SKIP
    >>> t = q.submit("me", "map", Task(latent_map, ("pretrained/mnist-dcgan", 200, "pca")))   # doctest: +SKIP
"""
from __future__ import annotations

import time
from collections import OrderedDict

import numpy as np
import torch

from gan_core.hub.checkpoints import weights_file
from gan_core.serve.workers import OverBudget, WorkContext

MIN_RANK_SAMPLES = 100
_EXPLORERS: OrderedDict = OrderedDict()


def explorer_for(path: str):
    """The Explorer of a checkpoint folder, as the pages build it (kept for this worker's next items)."""
    from gan_core.hub.checkpoints import CheckpointError, load_checkpoint
    from gan_core.latent.explorer import Explorer
    from gan_core.metrics.scores import load_classifier

    ex = _EXPLORERS.get(path)
    if ex is not None:
        _EXPLORERS.move_to_end(path)
        return ex
    ck = load_checkpoint(path, discriminator=True)
    C = None
    if tuple(ck.generator.img_shape) == (1, 28, 28):
        try:
            C = load_classifier()
        except CheckpointError:   # no shipped classifier: the pages that need one say so
            C = None
    ex = Explorer.from_checkpoint(ck, C)
    _EXPLORERS[path] = ex
    while len(_EXPLORERS) > 2:
        _EXPLORERS.popitem(last=False)
    return ex


def _seconds_per_sample(ex, n: int = 32, repeats: int = 2) -> float:
    """Measured: seconds for one sample through G and the classifier (best of ``repeats`` batches of n)."""
    from gan_core.latent.dissection import class_probs, sample_inputs

    z, y = sample_inputs(ex.G, n, 0)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        if ex.C is not None:
            class_probs(ex.G, ex.C, z, y)
        else:
            with torch.no_grad():
                ex.G(z, y) if y is not None else ex.G(z)
        best = min(best, time.perf_counter() - t0)
    return best / n


# ---------------------------------------------------------------------- the tasks
def latent_map(ctx: WorkContext, path: str, n: int, method: str) -> dict:
    ex = explorer_for(path)
    ctx.budget(_seconds_per_sample(ex) * n + (0.02 * n if method == "tsne" else 0), "The latent map")
    return ex.latent_map(range(n), method, label_of_seed=lambda s: s % 10)


def arithmetic(ctx: WorkContext, path: str, a: int, b: int, c: int, start_text: str | None) -> dict:
    from gan_core.latent.inversion import decode_z

    ex = explorer_for(path)
    ctx.budget(_seconds_per_sample(ex) * 2000, "The latent arithmetic")
    try:
        start = decode_z(start_text, ex.G.z_dim) if start_text else None
        return ex.arithmetic(a, b, c, start=start)
    except ValueError as e:  # too few confident samples of a class: a message, not a failure
        return {"warning": str(e)}


def search_digit(ctx: WorkContext, path: str, target: np.ndarray, label: int | None, space: str = "z") -> dict:
    """Find your digit in ``space``: "z", or for a style-based model "w" or "w+" (the found ws as ``w_text``)."""
    from gan_core.latent.inversion import encode_z, project

    ex = explorer_for(path)
    # 512 screened starts, then 6 refined for a few hundred steps (forward and backward: ~3 passes each)
    ctx.budget(_seconds_per_sample(ex) * (512 + 6 * 3 * 300), "The search for your digit")
    r = project(ex.G, target[None], labels=None if label is None else [label], classifier=ex.C, space=space,
                progress=lambda done, total: ctx.progress(done / total, f"step {done} of {total}"))
    if space == "z":
        r["z_text"] = encode_z(r["z"][0])
    else:
        ws = r["ws"][0]
        r["w_text"] = encode_z(ws[0] if space == "w" else ws.reshape(-1))
    return r


def w_directions(ctx: WorkContext, path: str, method: str, k: int) -> dict:
    """Layer-wise directions in W of a style-based model: "ganspace" (PCA of 10,000 mapped w) or "sefa" (the
    style affines of every layer)."""
    from gan_core.latent import wspace

    ex = explorer_for(path)
    wspace.require_w(ex.G)
    if method == "ganspace":
        return wspace.ganspace(ex.G, k)
    if method == "sefa":
        return wspace.sefa_w(ex.G, None, k)
    raise ValueError(f"Unknown direction method {method!r}.")


def unit_ranking(ctx: WorkContext, path: str, n: int) -> dict:
    """GAN Dissection's ranking (``dissect.cached_ranking``), with as many samples as fit the time limit.

    The cost is counted before the ranking starts: one pass of n samples through G and the classifier per unit
    (plus one per class per layer), times the measured seconds per sample. When that exceeds the time left, n
    is lowered to fit (never below MIN_RANK_SAMPLES); below that the ranking is refused with the estimate.
    """
    from gan_core.latent.dissection import activations, cached_ranking, sample_inputs

    ex = explorer_for(path)
    z, y = sample_inputs(ex.G, 1, 0)
    acts, _ = activations(ex.G, z, y)
    units = sum(a.shape[1] for a in acts.values())
    passes = 1 + units + len(acts) * 10
    per_sample = _seconds_per_sample(ex)
    left = 0.8 * ctx.seconds_left()
    fits = int(left / (passes * per_sample)) if per_sample > 0 else n
    if fits < MIN_RANK_SAMPLES:
        raise OverBudget(f"Ranking this model's {units:,} units would take about "
                         f"{_hms(passes * per_sample * MIN_RANK_SAMPLES)} even with {MIN_RANK_SAMPLES} samples on "
                         f"this machine; the server stops any one computation after {_hms(ctx.limit)} "
                         "(GAN_STUDIO_WORK_SECONDS), so it was not started.")
    n = min(n, fits)
    gen_file = weights_file(path, "G")
    return cached_ranking(ex.G, ex.C, gen_file, n=n,
                          progress=lambda done, total: ctx.progress(done / total, f"unit {done} of {total}"))


def _hms(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:,.1f} h"


def evaluate_models(ctx: WorkContext, items: list[tuple[str, str]], n: int, seed: int) -> dict:
    """{path: metrics} for each (name, path), as ``metrics.evaluate`` measures them."""
    from gan_core.metrics.scores import evaluate

    exs = [(name, path, explorer_for(path)) for name, path in items]
    # samples, PPL's pairs, and the real data's features: about 4 passes per sample (measured order)
    est = sum(_seconds_per_sample(ex) * (n + 2 * min(n, 1000)) * 1.5 for _, _, ex in exs)
    ctx.budget(est, f"Evaluating {len(exs)} model{'s' if len(exs) > 1 else ''} on {n:,} samples")
    out = {}
    for i, (name, path, ex) in enumerate(exs):
        out[path] = evaluate(ex.G, n_samples=n, seed=seed, ppl_samples=min(n, 1000),
                             progress=lambda stage, f, i=i, name=name: ctx.progress(
                                 (i + f) / len(exs), f"{name}: {stage}"))
    return out


def memorization(ctx: WorkContext, path: str) -> dict:
    from gan_core.latent.explorer import memorization as nearest

    ex = explorer_for(path)
    return nearest(ex, n=8)


def discriminator_scores(ctx: WorkContext, path: str) -> dict:
    from gan_core.latent.explorer import discriminator_scores as scores

    return scores(explorer_for(path))


def prepare_image_sets(ctx: WorkContext, zips: dict[int, str], names: dict[int, str], size: int) -> dict:
    """Check and normalise a comparison's uploaded sets (``humaneval.imagesets.prepare_sets``) in the worker,
    so the server never decodes an uploaded image; the zips are files the page wrote."""
    from gan_core.humaneval.imagesets import prepare_sets

    return prepare_sets(zips, names, size, progress=ctx.progress, budget=ctx.budget)


__all__ = ["explorer_for", "latent_map", "arithmetic", "search_digit", "unit_ranking", "evaluate_models",
           "memorization", "discriminator_scores", "prepare_image_sets"]
