"""A known-answer check of the arm statistics (gan_core.humaneval.arms), by simulation.

Simulated participants answer a three-arm HYPE-infinity session whose true error rates are fixed (10%, 25%,
40%); each participant's own rate varies around the arm's (a Beta distribution, as people differ), and
every arm gets the same number of trials per participant. Repeated many times, the ranking should come out
right almost always, each arm's 95% bootstrap interval should cover its true rate about 95% of the time,
and the paired difference of adjacent arms should be separable in most runs. Prints all three.

    python bench/arm_statistics.py [--runs 200] [--participants 30] [--trials 10] [--resamples 2000]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gan_core.humaneval.arms import rank_arms  # noqa: E402

RATES = (0.10, 0.25, 0.40)
SPREAD = 20.0  # Beta concentration: a participant's rate has sd ~ sqrt(p(1-p)/21)


def simulate(g: np.random.Generator, participants: int, trials: int) -> list[dict]:
    rows = []
    for p in range(participants):
        for a, rate in enumerate(RATES):
            own = g.beta(rate * SPREAD, (1 - rate) * SPREAD)
            rows += [dict(participant=p, arm=a, correct=bool(g.random() >= own)) for _ in range(trials)]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--participants", type=int, default=30)
    ap.add_argument("--trials", type=int, default=10, help="trials per participant and arm")
    ap.add_argument("--resamples", type=int, default=2000)
    a = ap.parse_args()
    g = np.random.default_rng(0)
    right, covered, separable = 0, np.zeros(len(RATES)), np.zeros(len(RATES) - 1)
    for run in range(a.runs):
        r = rank_arms(simulate(g, a.participants, a.trials), ["10%", "25%", "40%"], resamples=a.resamples,
                      seed=run)
        right += r["ranking"] == [2, 1, 0]
        for arm in r["arms"]:
            covered[arm["arm"]] += arm["low"] <= RATES[arm["arm"]] <= arm["high"]
        for p in r["pairs"]:
            if abs(p["a"] - p["b"]) == 1:
                separable[min(p["a"], p["b"])] += p["separable"]
    cov = covered / a.runs
    print(f"{a.runs} simulated sessions: {a.participants} participants x {a.trials} trials per arm, true error "
          f"rates {', '.join(f'{x:.0%}' for x in RATES)}, {a.resamples} bootstrap resamples")
    print("interval coverage per arm: " + ", ".join(f"{x:.0%} arm {c:.1%}" for x, c in zip(RATES, cov)))
    print("adjacent arms separable at 95%: " + ", ".join(f"{RATES[i]:.0%} vs {RATES[i + 1]:.0%} {s / a.runs:.1%}"
                                                          for i, s in enumerate(separable)))
    print(f"arm statistics: ranking right {right / a.runs:.1%}, coverage {cov.mean():.1%} (nominal 95%)")


if __name__ == "__main__":
    main()
