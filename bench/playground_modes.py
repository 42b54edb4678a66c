"""2D playground: how fast the default settings cover the ring of 8 Gaussians, and the collapse preset.

Trains the playground's "Default" preset on ring8 and prints the steps and seconds of training until at
least 7 of the 8 modes are covered (target: under 30 s on 2 cores), per seed and the median. Then trains
the "Mode collapse on purpose" preset for the same budget of steps and prints the modes it covers.

    python bench/playground_modes.py [--seeds 0 1 2] [--max-steps 6000]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from gan_core.training.playground import Playground, preset

CHECK_EVERY = 50


def until_modes(name: str, seed: int, max_steps: int, target: int = 7) -> tuple[int, float, int]:
    pg = Playground(preset(name, seed=seed))
    trained, best = 0.0, 0
    while pg.step_count < max_steps:
        t0 = time.perf_counter()
        for _ in range(CHECK_EVERY):
            pg.trainer.step()
        trained += time.perf_counter() - t0
        modes = pg.measure()["modes"]
        best = max(best, modes)
        if modes >= target:
            return pg.step_count, trained, modes
    return pg.step_count, float("inf"), best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--max-steps", type=int, default=6000)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    secs, steps = [], []
    for s in a.seeds:
        n, t, m = until_modes("Default", s, a.max_steps)
        secs.append(t)
        steps.append(n)
        print(f"Default, seed {s}: {m}/8 modes after {n} steps, {t:.1f} s of training", flush=True)
    print(f"median: {statistics.median(steps):.0f} steps, {statistics.median(secs):.1f} s to >= 7 of 8 modes "
          "(target < 30 s)")
    budget = int(statistics.median(steps)) if all(x != float("inf") for x in secs) else a.max_steps
    for s in a.seeds:
        pg = Playground(preset("Mode collapse on purpose", seed=s))
        most, near = 0, []
        while pg.step_count < budget:
            pg.trainer.run(CHECK_EVERY)
            most = max(most, pg.measure()["modes"])
            near.append(near_a_mode(pg.fake()))
        print(f"Mode collapse on purpose, seed {s}: at most {most}/8 modes at any check in the same {budget} "
              f"steps; best share of points within 3 sd of some mode {max(near):.0%}")


def near_a_mode(points: torch.Tensor) -> float:
    from gan_core.data.toy import TOY_STD, toy_modes

    return float((torch.cdist(points, toy_modes("ring8")).min(1).values <= 3 * TOY_STD["ring8"]).float().mean())

if __name__ == "__main__":
    main()
