"""Remedies for mode collapse, side by side, on the two "Mode collapse on purpose" presets.

Playground: the preset on ring8 (3 seeds) for the step budget of bench/playground_modes.py (the median steps
the Default preset needs to cover 7 of 8 modes), once plain and once per remedy; printed: modes covered at
the end. Digits: the /train preset (3 seeds, 800 steps), plain and per remedy; printed: classes holding at
least 5% of 1,000 samples of the EMA generator (the shipped classifier reads them). "best" is the remedy with
the highest worst seed. Targets: two remedies bring the playground to >= 6/8 on every seed; the best brings
digits to >= 9/10 on every seed. Torch on 1 thread for the playground (as the app trains it: a toy MLP gains
nothing from a second thread, and the thread count changes the rounding, so a run's path) and 2 for digits.

    python bench/remedies.py [--seeds 0 1 2] [--digit-steps 800] [--skip-digits] [--only NAME ...]
                             [--playground-threads 1]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from gan_core.training.presets import preset_config
from gan_core.metrics.scores import class_coverage, load_classifier
from gan_core.training.playground import Playground, preset
from gan_core.training.remedies import REMEDIES, applies, with_remedy
from gan_core.latent.sampling import sample_noise

CHECK_EVERY = 50


def default_budget(seeds, max_steps: int = 6000) -> int:
    """bench/playground_modes.py's budget: the median steps until Default covers 7 of 8 modes."""
    steps = []
    for s in seeds:
        pg = Playground(preset("Default", seed=s))
        while pg.step_count < max_steps:
            pg.trainer.run(CHECK_EVERY)
            if pg.measure()["modes"] >= 7:
                break
        steps.append(pg.step_count)
    return int(statistics.median(steps))


def playground(name: str | None, seed: int, steps: int) -> int:
    cfg = preset("Mode collapse on purpose", seed=seed)
    pg = Playground(with_remedy(cfg, name) if name else cfg)
    pg.trainer.run(steps)
    return pg.measure()["modes"]


def digits(name: str | None, seed: int, steps: int, C) -> int:
    from gan_core.training.trainer import Trainer

    cfg = preset_config("Mode collapse on purpose", seed=seed)
    t = Trainer(with_remedy(cfg, name) if name else cfg)
    t.run(steps)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        x = t.G_ema.eval()(sample_noise(1000, cfg.model.z_dim, cfg.model.noise, g))
        return class_coverage(C(x))["classes_covered"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--digit-steps", type=int, default=800)
    ap.add_argument("--playground-steps", type=int, help="default: bench/playground_modes.py's budget")
    ap.add_argument("--skip-digits", action="store_true")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only these remedies (and no remedy)")
    ap.add_argument("--playground-threads", type=int, default=1, help="1: as the app trains the playground")
    a = ap.parse_args()
    torch.set_num_threads(a.playground_threads)
    budget = a.playground_steps or default_budget(a.seeds)
    names = [None] + [n for n in REMEDIES if not a.only or n in a.only]
    print(f"playground: 'Mode collapse on purpose' on ring8, {budget} steps, {a.playground_threads} thread(s); "
          "modes covered per seed")
    pg_best = (-1, "none")
    for n in [n for n in names if n is None or applies(n, toy=True)]:
        t = time.perf_counter()
        modes = [playground(n, s, budget) for s in a.seeds]
        print(f"  {n or 'no remedy':<40}{str(modes):<16}{time.perf_counter() - t:6.0f} s", flush=True)
        if n and min(modes) > pg_best[0]:
            pg_best = (min(modes), n)
    dg_best = (0, "skipped") if a.skip_digits else (-1, "none")
    if not a.skip_digits:
        torch.set_num_threads(2)
        C = load_classifier()
        print(f"digits: /train 'Mode collapse on purpose', {a.digit_steps} steps; classes with >= 5% of samples")
        for n in [n for n in names if n is None or applies(n, toy=False)]:
            t = time.perf_counter()
            try:
                cov = [digits(n, s, a.digit_steps, C) for s in a.seeds]
            except ValueError as e:  # a remedy this preset cannot take
                print(f"  {n:<40}not applicable: {e}")
                continue
            print(f"  {n or 'no remedy':<40}{str(cov):<16}{time.perf_counter() - t:6.0f} s", flush=True)
            if n and min(cov) > dg_best[0]:
                dg_best = (min(cov), n)
    print(f"remedies: playground best {pg_best[0]}/8 ({pg_best[1]}), digits best {dg_best[0]}/10 ({dg_best[1]})")


if __name__ == "__main__":
    main()
