"""Sessions of several arms: balanced plans, fresh fakes, images with the session, paired statistics,
HYPE-time's staircase, all through the Store."""
from collections import Counter

import numpy as np
import pytest

from gan_core.humaneval import arms as A
from gan_core.humaneval import staircase
from gan_core.humaneval.plans import plan_arm_trials
from gan_core.humaneval.records import QuizError
from gan_core.humaneval.store import Store
from gan_core.humaneval.schema import QuizImage


@pytest.fixture
def store(db_url):
    """Every storage test runs on SQLite and on PostgreSQL (a real throwaway server, see tests/postgres.py)."""
    s = Store(db_url)
    yield s
    s.engine.dispose()


def fake_pngs(n, tag):
    return [f"{tag}-{i}".encode() for i in range(n)]  # the store keeps bytes as given (normalised upstream)


THREE = [{"name": "A", "kind": "images"}, {"name": "B", "kind": "images"}, {"name": "C", "kind": "model",
                                                                          "model": "mnist-dcgan"}]


def test_arm_plans_are_balanced_fresh_and_reproducible():
    for mode in ("pair", "single"):
        plan = plan_arm_trials(mode, 31, 2, seed=5, pools=[40, 40, None], real_pool=50)
        assert plan == plan_arm_trials(mode, 31, 2, seed=5, pools=[40, 40, None], real_pool=50)
        scored = [r for r in plan if not r["qualification"]]
        counts = Counter(r["arm"] for r in scored)
        assert max(counts.values()) - min(counts.values()) <= 1 and sum(counts.values()) == 31
        for a in range(3):
            fakes = [r["fake_seed"] for r in scored if r["arm"] == a and r["fake_seed"] is not None]
            assert len(fakes) == len(set(fakes))                          # each fake at most once
            if a < 2:
                assert all(0 <= f < 40 for f in fakes)
            if mode == "single":
                mine = [r for r in scored if r["arm"] == a]
                assert abs(sum(r["is_real"] for r in mine) * 2 - len(mine)) <= 1  # half real per arm
        reals = [r["real_index"] for r in plan if r["real_index"] is not None]
        assert len(reals) == len(set(reals)) and all(0 <= r < 50 for r in reals)
    assert plan_arm_trials("single", 31, 2, 6, [40, 40, None], 50) != plan


def test_arm_sessions_are_checked_before_anything_is_written(store):
    imgs = {0: fake_pngs(10, "real"), 1: fake_pngs(10, "a"), 2: fake_pngs(3, "b")}
    with pytest.raises(QuizError, match="'B' has 3 images"):
        store.create_session("x", "single", 20, arms=THREE, images=imgs, display_size=64)
    with pytest.raises(QuizError, match="2 to 6 arms"):
        store.create_session("x", "single", 20, arms=THREE[:1], images=imgs, display_size=64)
    with pytest.raises(QuizError, match="different, non-empty name"):
        store.create_session("x", "single", 4, arms=[THREE[0], THREE[0]], images=imgs, display_size=64)
    with store._session() as db:
        assert db.query(QuizImage).count() == 0


def test_images_live_with_the_session_survive_a_restart_and_go_with_it(store, tmp_path):
    imgs = {0: fake_pngs(12, "real"), 1: fake_pngs(12, "a"), 2: fake_pngs(12, "b")}
    code, key = store.create_session("x", "pair", 12, arms=THREE, images=imgs, display_size=64, seed=3)
    again = Store(store.url)  # a restarted server
    assert again.image(code, 2, 5) == b"b-5" and again.image_counts(code) == {0: 12, 1: 12, 2: 12}
    info = again.session(code)
    assert info.arm_names == ["A", "B", "C"] and info.uses_uploads and info.real_source == "images"
    token, _ = again.join(code, "Ada")
    t = again.next_trial(token)
    assert t.arm in (0, 1, 2) and t.exposure_ms is None
    again.answer(token, t.index, "left", 500)
    again.delete_session(code, key)
    with pytest.raises(QuizError):
        again.image(code, 2, 5)
    with again._session() as db:
        assert db.query(QuizImage).count() == 0
    with pytest.raises(QuizError, match="No session"):
        again.session(code)


def test_hype_time_exposures_follow_the_staircase_and_are_recorded(store):
    code, _ = store.create_session("mnist-dcgan", "pair", 12, protocol="hype-time", seed=1,
                                   arms=[{"name": "G1", "kind": "model", "model": "a"},
                                         {"name": "G2", "kind": "model", "model": "b"}])
    assert store.session(code).mode == "single" and store.session(code).protocol == "hype-time"
    token, _ = store.join(code, "Ada")
    seen = {0: [], 1: []}
    while (t := store.next_trial(token)) is not None:
        expected = staircase.replay(seen[t.arm]).exposure
        assert t.exposure_ms == expected
        correct = t.arm == 0  # always right on G1, always wrong on G2
        store.answer(token, t.index, t.correct_choice if correct else
                     ("fake" if t.correct_choice == "real" else "real"), 700, achieved_ms=expected + 4.5)
        seen[t.arm].append(correct)
    rows = store.rows(code)
    assert all(r["achieved_ms"] == r["exposure_ms"] + 4.5 for r in rows)
    g1 = [r["exposure_ms"] for r in rows if r["arm"] == 0]
    g2 = [r["exposure_ms"] for r in rows if r["arm"] == 1]
    assert g1[-1] < g1[0] and g2 == sorted(g2) and g2[-1] > g2[0]   # down when right, up when wrong
    for r in rows:
        r["participant"] = r["nickname"]
    ranked = A.rank_arms(rows, ["G1", "G2"], protocol="hype-time", resamples=200)
    assert ranked["ranking"] == [1, 0]   # people need longer for G2: it ranks first


def test_staircase_rule():
    s = staircase.Staircase()
    assert s.exposure == 490
    for _ in range(3):
        s.update(True)
    assert s.exposure == 460
    s.update(True), s.update(False)
    assert s.exposure == 490 and s.run == 0
    for _ in range(100):
        s.update(False)
    assert s.exposure == staircase.MAX_MS
    assert staircase.threshold([100, 130, 130, 160]) == 130
    assert staircase.threshold([100, 100, 160, 160]) == 130  # tied modes: their mean


def test_paired_bootstrap_and_permutation_on_known_cases():
    # 8 participants, 2 arms: everyone errs 6/10 on arm 0 and 2/10 on arm 1
    num = np.array([[6, 2]] * 8, float)
    den = np.full((8, 2), 10.0)
    boot = A.paired_bootstrap(num, den, 500)
    assert np.allclose(boot[:, 0], 0.6) and np.allclose(boot[:, 1], 0.2)
    assert A.permutation_p(num, den, 0, 1, 2000) == pytest.approx(2 / 256, abs=0.01)  # only 2 of 2^8 as extreme
    same = np.array([[3, 3], [5, 5], [2, 2], [4, 4]], float)
    assert A.permutation_p(same, np.full((4, 2), 10.0), 0, 1, 500) == 1.0
    # pairing: big between-person differences, a small constant arm effect; paired intervals see it
    g = np.random.default_rng(0)
    base = g.integers(0, 8, 30)
    num = np.stack([base + 2, base], 1).astype(float)
    r = A.rank_arms([dict(participant=p, arm=a, correct=k >= num[p, a]) for p in range(30) for a in range(2)
                     for k in range(10)], ["X", "Y"], resamples=2000)
    assert r["ranking"] == [0, 1] and r["pairs"][0]["separable"] and r["pairs"][0]["low"] > 0.1
    assert r["pairs"][0]["p"] < 0.01


def test_ranking_with_known_fool_rates():
    g = np.random.default_rng(1)
    rates = [0.10, 0.40, 0.25]
    rows = [dict(participant=p, arm=a, correct=bool(g.random() >= rates[a])) for p in range(40) for a in range(3)
            for _ in range(20)]
    r = A.rank_arms(rows, ["ten", "forty", "twenty-five"], resamples=2000)
    assert r["ranking"] == [1, 2, 0]
    for arm in r["arms"]:
        assert arm["low"] <= rates[arm["arm"]] <= arm["high"]
    assert all(p["separable"] for p in r["pairs"])
