"""HYPE scoring on small cases with known answers."""
import math

import numpy as np
import pytest

from gan_core.humaneval.scoring import (bootstrap_ci, d_prime_2afc, d_prime_yes_no, discriminator_agreement,
                                        loglinear_rate, per_image, qualified, summarise, wilson)


def single(p, is_real, correct, ms=1000, seed=1, idx=1, q=False):
    return {"participant": p, "is_real": is_real, "real_side": None, "correct": correct, "response_ms": ms,
            "fake_seed": None if is_real else seed, "real_index": idx if is_real else None, "qualification": q}


def pair(p, correct, ms=1000, seed=1, idx=1):
    return {"participant": p, "is_real": None, "real_side": 0, "correct": correct, "response_ms": ms,
            "fake_seed": seed, "real_index": idx}


def test_all_correct_all_wrong_and_chance():
    right = [single(p, i % 2 == 0, True) for p in range(4) for i in range(10)]
    s = summarise(right)["overall"]
    assert s["hype"] == 0 and s["fake_error"] == 0 and s["real_error"] == 0
    assert s["d_prime"] > 2.5 and s["bootstrap_low"] == s["bootstrap_high"] == 0
    wrong = [dict(r, correct=False) for r in right]
    s = summarise(wrong)["overall"]
    assert s["hype"] == 1 and s["d_prime"] < -2.5
    chance = [single(p, i % 2 == 0, i % 4 < 2) for p in range(4) for i in range(40)]
    s = summarise(chance)["overall"]
    assert s["hype"] == 0.5 and abs(s["d_prime"]) < 1e-9
    assert s["participants"] == 4 and s["answers"] == 160 and s["median_ms"] == 1000


def test_fake_and_real_errors_are_separate():
    rows = [single(0, False, False), single(0, False, True), single(0, True, True), single(0, True, True)]
    s = summarise(rows)["overall"]
    assert s["fake_error"] == 0.5 and s["real_error"] == 0.0 and s["hype"] == 0.25


def test_bootstrap_interval_contains_the_estimate_and_is_seeded():
    rng = np.random.default_rng(0)
    rows = [single(p, bool(rng.integers(2)), bool(rng.random() < 0.3 + 0.02 * p)) for p in range(20)
            for _ in range(15)]
    a, b = summarise(rows, seed=1)["overall"], summarise(rows, seed=1)["overall"]
    assert a == b
    assert a["bootstrap_low"] < a["hype"] < a["bootstrap_high"]
    assert a["wilson_low"] < a["hype"] < a["wilson_high"]
    lo, hi = bootstrap_ci(np.array([3.0]), np.array([10.0]))
    assert lo == hi == 0.3  # one participant: nothing to resample


def test_qualification_trials_do_not_count():
    rows = [single(0, True, False, q=True)] * 5 + [single(0, True, True)]
    assert summarise(rows)["overall"]["answers"] == 1
    assert qualified(rows) == set()
    assert qualified([single(1, True, True)]) == {1}


def test_wilson_known_values():
    lo, hi = wilson(5, 10)
    assert math.isclose(lo, 0.2366, abs_tol=1e-4) and math.isclose(hi, 0.7634, abs_tol=1e-4)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)


def test_d_prime_with_the_correction():
    assert loglinear_rate(0, 10) == 0.5 / 11 and loglinear_rate(10, 10) == 10.5 / 11
    perfect = d_prime_yes_no(10, 10, 0, 10)
    assert math.isfinite(perfect) and math.isclose(perfect, 2 * 1.6906, abs_tol=1e-3)
    assert d_prime_yes_no(5, 10, 5, 10) == 0
    assert d_prime_2afc(50, 100) == 0  # (50 + 0.5) / 101 = 0.5: chance
    assert d_prime_2afc(100, 100) > 3


def test_pairs_use_2afc():
    rows = [pair(p, i % 4 != 0) for p in range(3) for i in range(8)]
    s = summarise(rows)["overall"]
    assert s["hype"] == 0.25 and s["fake_error"] == s["real_error"] == 0.25
    assert math.isclose(s["d_prime"], d_prime_2afc(18, 24))


def test_per_image_and_agreement_with_d():
    rows = [single(p, False, p < 3, seed=1) for p in range(4)]       # fake 1 fooled 1 of 4
    rows += [single(p, False, p < 1, seed=2) for p in range(4)]      # fake 2 fooled 3 of 4
    rows += [single(p, False, p < 2, seed=3) for p in range(4)]      # fake 3 fooled 2 of 4
    rows += [single(p, True, True, idx=7) for p in range(4)]
    imgs = per_image(rows, {("fake", 1): 0.1, ("fake", 2): 0.9, ("fake", 3): 0.4, ("real", 7): 0.8})
    assert imgs[0]["kind"] == "fake" and imgs[0]["ref"] == 2 and imgs[0]["fool_rate"] == 0.75
    ag = discriminator_agreement(imgs)
    assert ag["spearman_fakes"] == pytest.approx(1.0) and ag["agreement"] == 1.0 and ag["images"] == 4
