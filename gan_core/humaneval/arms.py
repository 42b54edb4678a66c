"""Several models ("arms") in one session, ranked HYPE's way: per-arm scores with paired intervals.

Participants are the unit of resampling, as in HYPE (Zhou et al. 2019): a bootstrap resample draws
participants with replacement and recomputes every arm's score from the *same* participants, so the
difference between two arms is paired (each person's own bias cancels). Each pair of arms also gets a paired
permutation test: under "the arms are equally good", swapping a participant's answers between the two arms
changes nothing, so the p-value is the share of random swaps giving a difference at least as large.

Both protocols reduce to one form: per participant and arm a numerator and a denominator, the arm's score
being sum(numerators) / sum(denominators) over participants.

- HYPE-infinity: numerator = wrong answers on that arm's trials, denominator = answers (the pooled error
  rate; higher = the model fools people more).
- HYPE-time: numerator = the participant's threshold exposure on that arm (the modal exposure of their
  staircase), denominator = 1 (so the score is the mean threshold over participants; higher = people
  need longer to tell the model's images from real ones).

Example:
    >>> rows = [dict(participant=p, arm=a, correct=(p + a) % 3 != 0) for p in range(6) for a in range(2)]
    >>> r = rank_arms(rows, ["A", "B"], resamples=200)
    >>> [a["name"] for a in r["arms"]], len(r["pairs"])
    (['A', 'B'], 1)
"""
from __future__ import annotations

from collections import defaultdict
from itertools import combinations

import numpy as np

from gan_core.humaneval.staircase import threshold

RESAMPLES = 10_000
LEVEL = 0.95


def per_participant(rows: list[dict], n_arms: int, protocol: str = "hype-inf") -> tuple[list, np.ndarray,
                                                                                         np.ndarray]:
    """(participant ids, numerators (P, A), denominators (P, A)) of the scored (non-qualification) answers."""
    by = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r.get("qualification"):
            continue
        by[r["participant"]][int(r.get("arm") or 0)].append(r)  # a session of one model: its arm 0
    people = sorted(by, key=str)
    num = np.zeros((len(people), n_arms))
    den = np.zeros((len(people), n_arms))
    for i, p in enumerate(people):
        for a, rs in by[p].items():
            if protocol == "hype-time":
                exposures = [r["exposure_ms"] for r in rs if r.get("exposure_ms") is not None]
                if exposures:
                    num[i, a], den[i, a] = threshold(exposures), 1
            else:
                num[i, a], den[i, a] = sum(not r["correct"] for r in rs), len(rs)
    return people, num, den


def _score(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Arm scores along the last axis-but-one: sum over participants of num / of den (NaN with no data)."""
    d = den.sum(-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(d > 0, num.sum(-2) / np.where(d > 0, d, 1), np.nan)


def paired_bootstrap(num: np.ndarray, den: np.ndarray, resamples: int = RESAMPLES, seed: int = 0) -> np.ndarray:
    """(resamples, A) arm scores, each row from one resample of participants shared by every arm."""
    P = len(num)
    idx = np.random.default_rng(seed).integers(0, P, size=(resamples, P))
    out = np.empty((resamples, num.shape[1]))
    for start in range(0, resamples, 1000):  # chunks keep memory at (1000, P, A)
        sl = idx[start:start + 1000]
        out[start:start + 1000] = _score(num[sl], den[sl])
    return out


def permutation_p(num: np.ndarray, den: np.ndarray, a: int, b: int, resamples: int = RESAMPLES,
                  seed: int = 0) -> float:
    """Two-sided paired permutation p-value for arms a and b: each participant's (num, den) of the two arms
    are swapped at random; p = (1 + #{|perm diff| >= |observed diff|}) / (1 + resamples)."""
    keep = (den[:, a] > 0) & (den[:, b] > 0)        # participants who saw both arms
    na, nb, da, db = num[keep, a], num[keep, b], den[keep, a], den[keep, b]
    if keep.sum() == 0:
        return float("nan")
    observed = na.sum() / da.sum() - nb.sum() / db.sum()
    flip = np.random.default_rng(seed + 1).random((resamples, len(na))) < 0.5
    pa = np.where(flip, nb, na).sum(1) / np.where(flip, db, da).sum(1)
    pb = np.where(flip, na, nb).sum(1) / np.where(flip, da, db).sum(1)
    extreme = np.abs(pa - pb) >= abs(observed) - 1e-12
    return float((1 + extreme.sum()) / (1 + resamples))


def rank_arms(rows: list[dict], names: list[str], protocol: str = "hype-inf", resamples: int = RESAMPLES,
              seed: int = 0, level: float = LEVEL) -> dict:
    """Every arm's score with its bootstrap interval, ranked best first, and every pair's difference.

    Returns {"arms": [{arm, name, score, low, high, participants, answers}], "ranking": [arm, ...] (best
    first: highest error rate or longest threshold), "pairs": [{a, b, diff, low, high, p, separable}]}:
    ``separable`` when the difference's interval excludes 0.
    """
    n = len(names)
    people, num, den = per_participant(rows, n, protocol)
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    score = _score(num, den) if people else np.full(n, np.nan)
    boot = paired_bootstrap(num, den, resamples, seed) if people else np.full((1, n), np.nan)
    answers = [int(sum(1 for r in rows if (r.get("arm") or 0) == a and not r.get("qualification")))
               for a in range(n)]
    arms = []
    for a in range(n):
        col = boot[:, a][~np.isnan(boot[:, a])]
        arms.append({"arm": a, "name": names[a], "score": float(score[a]),
                     "low": float(np.quantile(col, lo_q)) if len(col) else float("nan"),
                     "high": float(np.quantile(col, hi_q)) if len(col) else float("nan"),
                     "participants": int((den[:, a] > 0).sum()) if people else 0, "answers": answers[a]})
    order = sorted(range(n), key=lambda a: -np.nan_to_num(score[a], nan=-np.inf))
    pairs = []
    for a, b in combinations(order, 2):
        diff = boot[:, a] - boot[:, b]
        diff = diff[~np.isnan(diff)]
        low = float(np.quantile(diff, lo_q)) if len(diff) else float("nan")
        high = float(np.quantile(diff, hi_q)) if len(diff) else float("nan")
        pairs.append({"a": a, "b": b, "diff": float(score[a] - score[b]), "low": low, "high": high,
                      "p": permutation_p(num, den, a, b, resamples, seed) if people else float("nan"),
                      "separable": bool(len(diff)) and (low > 0 or high < 0)})
    return {"arms": arms, "ranking": order, "pairs": pairs, "protocol": protocol, "participants": len(people),
            "resamples": resamples, "level": level}
