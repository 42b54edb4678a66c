"""The work queue's tasks: each estimates its cost first and refuses (or scales down) what would not finish
within the server's limit per computation (hardening issue item 5)."""
import time

import pytest
import torch

from gan_core.serve import worktasks
from gan_core.hub.checkpoints import save_checkpoint
from gan_core.models import ModelConfig, build_generator
from gan_core.serve.workers import OverBudget, Task, WorkContext
from gan_core.serve.workqueue import WorkQueue

pytestmark = pytest.mark.pretrained   # the shipped classifier reads the digits


def _wide_model(tmp_path, width: int):
    torch.manual_seed(0)
    cfg = ModelConfig(width=width, z_dim=16)
    return str(save_checkpoint(tmp_path / f"w{width}", {"model": cfg.to_dict()}, {"G": build_generator(cfg).eval()}))


def test_a_ranking_that_cannot_fit_the_limit_is_refused_at_once_with_its_estimate(tmp_path):
    path = _wide_model(tmp_path, 128)
    ctx = WorkContext(lambda f, s: None, limit=3.0)
    start = time.monotonic()
    with pytest.raises(OverBudget, match=r"would take about .* the server stops any one computation after 3 s"):
        worktasks.unit_ranking(ctx, path, 400)
    assert time.monotonic() - start < 10


def test_a_ranking_that_fits_with_fewer_samples_is_scaled_down(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))
    path = _wide_model(tmp_path, 4)
    per_sample = worktasks._seconds_per_sample(worktasks.explorer_for(path))
    units = 4 * 4 + 4 * 2 + 4   # projection + two blocks of the width-4 DCGAN (any count: only the scale matters)
    ctx = WorkContext(lambda f, s: None, limit=max(2.0, 200 * per_sample * (units + 40) / 0.8))
    r = worktasks.unit_ranking(ctx, path, 100_000)
    assert worktasks.MIN_RANK_SAMPLES <= r["n"] < 100_000


def test_the_queue_shows_the_refusal_as_the_items_message(tmp_path):
    path = _wide_model(tmp_path, 128)
    q = WorkQueue(workers=1, light_workers=0, seconds=3)
    try:
        t = q.wait(q.submit("me", "rank", Task(worktasks.unit_ranking, (path, 400)), "the unit ranking"), 60)
        assert t.state == "error" and t.error.startswith("Ranking this model's") and "would take about" in t.error
    finally:
        q.shutdown()
