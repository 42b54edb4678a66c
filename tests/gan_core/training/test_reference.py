"""gan_core.training.reference: a run frozen for comparison, thinned, and looked up by step."""
import pytest

from gan_core.training.reference import MAX_ROWS, MAX_SNAPSHOTS, freeze


def test_snapshot_at_a_step_is_the_last_one_taken_by_then():
    ref = freeze("a", {}, [{"step": s, "g_loss": 1.0 / s} for s in range(1, 101)],
                 snapshots=[(10, "g10"), (50, "g50"), (90, "g90")])
    assert ref.at(49) == (10, "g10") and ref.at(50) == (50, "g50") and ref.at(1000) == (90, "g90")
    assert ref.at(3) == (10, "g10")                       # before the first: the first
    assert ref.last_step == 100
    x, y = ref.series("g_loss")
    assert x[0] == 1 and y[-1] == pytest.approx(0.01)
    assert ref.series("nothing") == ([], [])


def test_long_runs_are_thinned_keeping_first_and_last_and_copies_are_independent():
    rows = [{"step": s, "d_loss": 0.5} for s in range(1, 10_001)]
    ref = freeze("long", {"lr_g": 2e-3}, rows, coverage=rows, snapshots=[(s, s) for s in range(500)])
    assert len(ref.history) <= MAX_ROWS and ref.history[0]["step"] == 1 and ref.history[-1]["step"] == 10_000
    assert len(ref.snapshots) <= MAX_SNAPSHOTS and ref.snapshots[-1] == (499, 499)
    rows[-1]["d_loss"] = 99.0                              # the run goes on changing its own records
    assert ref.history[-1]["d_loss"] == 0.5


def test_nothing_to_keep_is_a_message():
    with pytest.raises(ValueError, match="train a few steps"):
        freeze("empty", {}, [])
