"""Time to digits: seconds of training, from scratch, until the "Fast digits" preset draws digits.

The seconds count building the trainer (data, models, and clusters for a self-conditioned preset) and the
training steps.

Trains the live page's default preset on mnist-5k with the Trainer (torch on 2 threads) and, every
``--check-every`` steps, reads the 64 fixed-noise samples of the EMA generator with mnist-classifier. Done
when at least 80% of them are read as a digit with probability >= 0.9 and at least 9 classes appear among
those. The checks are not counted as training time. Prints one line per seed and the median.
Target: median <= 60 s on 2 CPU cores.

    python bench/time_to_digits.py [--preset NAME] [--seeds 0 1 2] [--max-seconds 300] [--set lr_g=5e-4 model.width=16]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from gan_core.training.presets import PRESETS, preset_config
from gan_core.metrics.scores import digit_readiness, load_classifier
from gan_core.latent.sampling import sample_noise
from gan_core.training.trainer import Trainer


VERBOSE = False


def parse_sets(items: list[str]) -> tuple[dict, dict]:
    top, model = {}, {}
    for item in items:
        k, v = item.split("=", 1)
        try:
            v = json.loads(v)
        except json.JSONDecodeError:
            v = v  # a plain string, e.g. augment=translation
        (model if k.startswith("model.") else top)[k.removeprefix("model.")] = v
    return top, model


def run(seed: int, sets: list[str], check_every: int, max_seconds: float, C, preset: str = "Fast digits") -> dict:
    top, model = parse_sets(sets)
    cfg = preset_config(preset, seed=seed, model=model, **top)
    t0 = time.perf_counter()
    t = Trainer(cfg)  # counted: a self-conditioned preset clusters the real digits here
    setup = time.perf_counter() - t0
    z = sample_noise(64, cfg.model.z_dim, cfg.model.noise, torch.Generator().manual_seed(1234))
    y = torch.arange(64) % cfg.model.num_classes if cfg.model.conditional else None
    trained = setup
    while trained < max_seconds:
        t0 = time.perf_counter()
        for _ in range(check_every):
            t.step()
        trained += time.perf_counter() - t0
        with torch.no_grad():
            r = digit_readiness(C(t.G_ema(z, y)))
        if VERBOSE:
            print(f"  {trained:6.1f} s step {t.step_count}: confident {r['confident_share']:.0%}, "
                  f"{r['confident_classes']} classes", flush=True)
        if r["digits_ready"]:
            return {"seed": seed, "seconds": trained, "setup": setup, "steps": t.step_count, **r}
    return {"seed": seed, "seconds": float("inf"), "setup": setup, "steps": t.step_count, **r}


def shipped_context(C) -> None:
    """The criterion on the shipped models (trained for minutes to hours): what 'ready' means in practice."""
    from gan_core.hub.checkpoints import load_checkpoint
    from gan_core.hub.pretrained import RECIPES

    for name in RECIPES:
        if name == "mnist-classifier":
            continue
        try:
            ck = load_checkpoint(Path(__file__).resolve().parents[1] / "pretrained" / name)
        except Exception as e:  # a missing folder: say so, go on
            print(f"shipped {name}: not available ({e})")
            continue
        m = ck.model_config
        z = sample_noise(64, m.z_dim, m.noise, torch.Generator().manual_seed(1234))
        y = torch.arange(64) % m.num_classes if m.conditional else None
        with torch.no_grad():
            r = digit_readiness(C(ck.generator.eval()(z, y)))
        print(f"shipped {name}: confident {r['confident_share']:.0%}, {r['confident_classes']} classes, "
              f"{'ready' if r['digits_ready'] else 'not ready'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--check-every", type=int, default=25)
    ap.add_argument("--max-seconds", type=float, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--preset", default="Fast digits", choices=list(PRESETS),
                    help="the /train preset to time (same criterion for every preset)")
    ap.add_argument("--set", nargs="*", default=[], help="override preset settings, e.g. lr_g=5e-4 model.width=16")
    ap.add_argument("--verbose", action="store_true", help="print the readiness at every check")
    ap.add_argument("--context", action="store_true",
                    help="first print how the shipped, fully trained models score on the same criterion")
    a = ap.parse_args()
    global VERBOSE
    VERBOSE = a.verbose
    torch.set_num_threads(a.threads)
    C = load_classifier()
    if a.context:
        shipped_context(C)
    print(f"preset {a.preset!r}: {PRESETS[a.preset]['why']}")
    print(f"overrides: {a.set or 'none'}; torch threads: {torch.get_num_threads()}")
    results = []
    for s in a.seeds:
        r = run(s, a.set, a.check_every, a.max_seconds, C, a.preset)
        results.append(r["seconds"])
        print(f"seed {s}: {r['seconds']:.1f} s of training ({r['setup']:.1f} s setup), {r['steps']} steps; confident "
              f"{r['confident_share']:.0%}, {r['confident_classes']} classes", flush=True)
    print(f"median time to digits: {statistics.median(results):.1f} s (target <= 60 s)")


if __name__ == "__main__":
    main()
