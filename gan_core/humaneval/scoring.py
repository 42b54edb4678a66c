"""HYPE-style scores of a quiz (Zhou et al., NeurIPS 2019).

HYPE_inf is the rate at which people are wrong: fakes taken for real plus reals taken for fake, over all
answers. 50% means people cannot tell the generator's images from real ones. Confidence intervals come from
resampling evaluators (participants) with replacement, as in the paper; a Wilson interval on the pooled
rate is given too. d' is the signal-detection sensitivity: how well people separate real from fake,
independent of a bias towards answering "real".

Each row is one answer: ``participant`` (any id), ``correct``, ``response_ms``, and the truth of what was
shown: ``real_side`` (pair: 0 left / 1 right, else None) or ``is_real`` (single).
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy.stats import norm, spearmanr

BOOTSTRAP_RESAMPLES = 10_000


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (95% by default)."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def loglinear_rate(k: int, n: int) -> float:
    """Hautus (1995) log-linear correction: (k + 0.5) / (n + 1), so rates of 0 or 1 give finite z-scores."""
    return (k + 0.5) / (n + 1)


def d_prime_yes_no(hits: int, n_real: int, false_alarms: int, n_fake: int) -> float:
    """d' = z(H) - z(F) for one-at-a-time answers: H = P("real" | real), F = P("real" | fake)."""
    if n_real == 0 or n_fake == 0:
        return float("nan")
    return float(norm.ppf(loglinear_rate(hits, n_real)) - norm.ppf(loglinear_rate(false_alarms, n_fake)))


def d_prime_2afc(correct: int, n: int) -> float:
    """d' for side-by-side (two-alternative forced choice): sqrt(2) z(proportion correct), with the same
    correction for 0% and 100%."""
    if n == 0:
        return float("nan")
    return float(math.sqrt(2) * norm.ppf(loglinear_rate(correct, n)))


def bootstrap_ci(errors: np.ndarray, counts: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the pooled error rate when participants are resampled with replacement.

    errors, counts: per participant, wrong answers and answers.
    """
    n = len(counts)
    if n == 0 or counts.sum() == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    e, c = errors[idx].sum(1), counts[idx].sum(1)
    rates = e / np.maximum(c, 1)
    a = (1 - level) / 2
    return (float(np.quantile(rates, a)), float(np.quantile(rates, 1 - a)))


def _truth(row: dict) -> tuple[bool, bool]:
    """(pair?, shown image real?) — for pairs the second value is unused."""
    return row.get("real_side") is not None, bool(row.get("is_real"))


def summarise(rows: list[dict], seed: int = 0) -> dict:
    """Per-participant and overall scores of the answered (non-qualification) trials in ``rows``."""
    rows = [r for r in rows if not r.get("qualification")]
    by_p: dict = defaultdict(list)
    for r in rows:
        by_p[r["participant"]].append(r)
    people = []
    for pid, rs in by_p.items():
        people.append({"participant": pid, **_score(rs)})
    overall = _score(rows)
    errs = np.array([p["errors"] for p in people], dtype=float)
    cnts = np.array([p["answers"] for p in people], dtype=float)
    lo, hi = bootstrap_ci(errs, cnts, seed=seed)
    overall.update(bootstrap_low=lo, bootstrap_high=hi, participants=len(people))
    overall["wilson_low"], overall["wilson_high"] = wilson(overall["errors"], overall["answers"])
    for p in people:
        p["wilson_low"], p["wilson_high"] = wilson(p["errors"], p["answers"])
    return {"overall": overall, "participants": people}


def _score(rs: list[dict]) -> dict:
    n = len(rs)
    wrong = sum(not r["correct"] for r in rs)
    pairs = [r for r in rs if _truth(r)[0]]
    singles = [r for r in rs if not _truth(r)[0]]
    reals = [r for r in singles if r["is_real"]]
    fakes = [r for r in singles if not r["is_real"]]
    fake_err_k = sum(not r["correct"] for r in fakes) + sum(not r["correct"] for r in pairs)
    fake_err_n = len(fakes) + len(pairs)
    real_err_k = sum(not r["correct"] for r in reals) + sum(not r["correct"] for r in pairs)
    real_err_n = len(reals) + len(pairs)
    if pairs and not singles:
        dp = d_prime_2afc(n - wrong, n)
    elif singles and not pairs:
        hits = sum(r["correct"] for r in reals)                 # said "real" to a real image
        false_alarms = sum(not r["correct"] for r in fakes)     # said "real" to a fake
        dp = d_prime_yes_no(hits, len(reals), false_alarms, len(fakes))
    else:
        dp = float("nan")
    times = [r["response_ms"] for r in rs]
    return {"answers": n, "errors": wrong, "hype": wrong / n if n else float("nan"),
            "fake_error": fake_err_k / fake_err_n if fake_err_n else float("nan"),
            "real_error": real_err_k / real_err_n if real_err_n else float("nan"),
            "d_prime": dp, "median_ms": float(np.median(times)) if times else float("nan")}


def per_image(rows: list[dict], d_real_prob: dict | None = None) -> list[dict]:
    """How often each shown image fooled people, with what the discriminator said about it.

    d_real_prob maps ("fake", seed) / ("real", index) to D's probability that the image is real.
    Returns one dict per image: kind, ref, shown, fooled, fool_rate, d_prob, d_says_real, humans_say_real.
    """
    stats: dict = defaultdict(lambda: [0, 0])
    for r in rows:
        if r.get("qualification"):
            continue
        pair, real = _truth(r)
        if pair or not real:
            s = stats[("fake", r["fake_seed"])]
            s[0] += 1
            s[1] += not r["correct"]
        if pair or real:
            s = stats[("real", r["real_index"])]
            s[0] += 1
            s[1] += not r["correct"]
    out = []
    for (kind, ref), (shown, fooled) in stats.items():
        d = (d_real_prob or {}).get((kind, ref))
        rate = fooled / shown
        humans_real = (rate > 0.5) if kind == "fake" else (rate < 0.5)
        out.append({"kind": kind, "ref": ref, "shown": shown, "fooled": fooled, "fool_rate": rate,
                    "d_prob": d, "d_says_real": None if d is None else d > 0.5, "humans_say_real": humans_real})
    out.sort(key=lambda r: (-r["fool_rate"], -r["shown"]))
    return out


def discriminator_agreement(images: list[dict]) -> dict:
    """Do D and the humans agree? Share of images where D's verdict (p > 0.5 = real) matches the majority
    human verdict, and the Spearman correlation between D's probability and how often a fake fooled people."""
    judged = [r for r in images if r["d_prob"] is not None]
    if not judged:
        return {"agreement": float("nan"), "spearman_fakes": float("nan"), "images": 0}
    agree = float(np.mean([r["d_says_real"] == r["humans_say_real"] for r in judged]))
    fakes = [r for r in judged if r["kind"] == "fake"]
    rho = float("nan")
    if len(fakes) >= 3 and len({r["fool_rate"] for r in fakes}) > 1 and len({r["d_prob"] for r in fakes}) > 1:
        rho = float(spearmanr([r["d_prob"] for r in fakes], [r["fool_rate"] for r in fakes]).statistic)
    return {"agreement": agree, "spearman_fakes": rho, "images": len(judged)}


def qualified(rows: list[dict], min_share: float = 0.75) -> set:
    """Participants who got at least ``min_share`` of the qualification trials right (or had none)."""
    by_p: dict = defaultdict(list)
    everyone = set()
    for r in rows:
        everyone.add(r["participant"])
        if r.get("qualification"):
            by_p[r["participant"]].append(r["correct"])
    return {p for p in everyone if p not in by_p or np.mean(by_p[p]) >= min_share}
