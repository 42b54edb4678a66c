"""The background job manager: control, the cap, divergence, idle stop, thread cleanup; jobs in a child
process."""
import os
import threading
import time

import pytest
import torch

from gan_core.hub.checkpoints import load_checkpoint
from gan_core.serve.live import Busy, JobManager
from gan_core.training.presets import PRESETS, preset_config
from gan_core.training.recipes import recipe_of

TINY = dict(model={"width": 4, "z_dim": 8}, batch_size=8)


def tiny(name="Fast digits", **kw):
    return preset_config(name, **{**TINY, **kw})


def test_every_preset_builds_a_valid_config_with_a_reason():
    for name, p in PRESETS.items():
        cfg = preset_config(name)
        assert p["why"].endswith(".") and len(p["why"]) > 30, name
        assert recipe_of(cfg.model) == {"Fast digits": "acgan", "The 2014 original": "vanilla", "Conditional": "cgan",
                                        "WGAN-GP": "wgan-gp"}.get(name, recipe_of(cfg.model))
    assert preset_config("Vanishing gradients on purpose").loss == "minimax"
    assert preset_config("WGAN-GP").n_critic == 5
    assert preset_config("Fast digits").augment == "translation"
    with pytest.raises(ValueError, match="Unknown preset"):
        preset_config("nope")


def test_runs_to_max_steps_and_records_everything():
    m = JobManager()
    job = m.start("a", tiny(), max_steps=6, snapshot_every=2)
    assert job.wait(60)
    assert job.state == "finished" and [r["step"] for r in job.history] == list(range(1, 7))
    assert {"d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "images_per_s"} <= set(job.history[0])
    assert [s.step for s in job.snapshots] == [0, 1, 2, 4, 6]
    grid = job.snapshots[-1].grid
    assert grid.dtype.name == "uint8"
    # a conditional preset: one column per class (10), whole rows (60 samples: 6 rows), not 8 columns of 64
    assert 28 * 10 < grid.shape[1] < 28 * 11 + 40 and 28 * 6 < grid.shape[0] < 28 * 7
    assert not (job.snapshots[0].grid == job.snapshots[-1].grid).all()  # the samples evolve


def test_pause_step_resume_stop():
    m = JobManager()
    job = m.start("a", tiny(), paused=True)
    assert job.wait_for(lambda j: j.state == "paused", 30)
    time.sleep(0.3)
    assert job.history == []  # paused from the start: nothing trained
    job.step_once()
    assert job.wait_for(lambda j: len(j.history) == 1, 30)
    time.sleep(0.3)
    assert len(job.history) == 1 and job.state == "paused"
    job.resume()
    assert job.wait_for(lambda j: len(j.history) > 3, 30)
    job.pause()
    assert job.wait_for(lambda j: j.state == "paused", 30)
    n = len(job.history)
    time.sleep(0.3)
    assert len(job.history) == n
    job.stop()
    assert job.wait(30) and job.state == "stopped" and not job.alive


def test_one_step_is_one_d_update_even_with_several_critic_steps():
    m = JobManager()
    job = m.start("a", tiny(n_critic=3), paused=True)
    job.step_once()
    assert job.wait_for(lambda j: len(j.history) == 1, 30)
    assert job.trainer.images_seen == 8  # one D batch, not three
    job.stop()
    assert job.wait(30)


def test_cap_refuses_a_third_owner_with_a_clear_message_and_frees_slots():
    m = JobManager(max_jobs=2)
    a, b = m.start("a", tiny()), m.start("b", tiny())
    with pytest.raises(Busy, match="busy: 2 training jobs running"):
        m.start("c", tiny())
    assert m.running() == 2
    b2 = m.start("b", tiny())  # an owner may replace its own job at the cap
    assert b.wait(30) and b.state == "stopped"
    a.stop()
    assert a.wait(30)
    c = m.start("c", tiny())
    assert m.get("c") is c and m.get("b") is b2
    m.shutdown()
    assert not any(j.alive for j in (a, b, b2, c))


def test_divergence_from_poisoned_weights():
    m = JobManager()
    job = m.start("a", tiny(), paused=True)
    assert job.wait_for(lambda j: j.state == "paused", 30)
    with torch.no_grad():
        next(job.trainer.D.parameters()).fill_(float("nan"))
    job.resume()
    assert job.wait(30)
    assert job.state == "diverged" and "step 0" in job.message
    assert all(torch.isfinite(p).all() for p in job.trainer.G.parameters())  # G's last good weights kept


def test_idle_jobs_are_stopped_and_later_forgotten():
    m = JobManager(idle_timeout=5, forget_after=10)
    job = m.start("a", tiny())
    assert job.wait_for(lambda j: j.state == "running", 30)
    m.reap(now=time.monotonic() + 6)
    assert job.wait(30) and job.state == "stopped" and "nobody watching" in job.message
    assert m.get("a") is job and m.running() == 0
    m.reap(now=time.monotonic() + 20)
    assert m.get("a") is None


def test_a_watched_job_is_stopped_after_its_time_limit_by_the_reaper():
    """Two tabs touching their jobs for ever cannot hold both slots for ever: the reaper thread stops a job
    that has trained max_seconds, with no page calling reap()."""
    m = JobManager(max_jobs=1, max_seconds=0.5, reap_every=0.1)
    job = m.start("a", tiny())
    assert job.wait_for(lambda j: j.state == "running", 30)
    deadline = time.monotonic() + 30
    while job.active and time.monotonic() < deadline:
        job.touch()  # the open page keeps looking
        time.sleep(0.05)
    assert job.state == "stopped" and "minutes of training" in job.message
    m.start("b", tiny()).stop()  # the slot is free again
    m.shutdown()


def test_history_and_coverage_stay_bounded():
    m = JobManager()
    job = m.start("a", tiny(), max_steps=60, max_history=20)
    assert job.wait(60) and job.state == "finished"
    assert len(job.history) <= 20 and job.history[-1]["step"] == 60 and job.history[0]["step"] == 1
    m.shutdown()


def test_threads_are_cleaned_up():
    before = set(threading.enumerate())
    m = JobManager()
    for o in "abc"[:2]:
        m.start(o, tiny())
    m.remove("a")
    m.shutdown()
    time.sleep(0.1)
    assert set(threading.enumerate()) - before == set()  # every job thread and the reaper are gone


def test_coverage_and_save(tmp_path):
    from gan_core.metrics.scores import load_classifier

    m = JobManager()
    job = m.start("a", tiny(), max_steps=4, coverage_every=2, classifier=load_classifier())
    assert job.wait(60)
    assert [c["step"] for c in job.coverage] == [0, 2, 4]   # from the first snapshot on
    assert 0 <= job.coverage[-1]["classes_covered"] <= 10 and len(job.coverage[-1]["class_histogram"]) == 10
    folder = job.save(tmp_path / "run")
    ck = load_checkpoint(folder, discriminator=True)
    assert ck.config["steps"] == 4 and ck.discriminator is not None
    z, y = torch.randn(2, 8), torch.tensor([3, 7])
    assert torch.allclose(ck.generator(z, y), job.trainer.G_ema(z, y), atol=1e-6)


def test_bad_config_reports_error_state():
    m = JobManager()
    job = m.start("a", preset_config("Fast digits", dataset="folder:/nonexistent/images"),
                  max_steps=1)
    assert job.wait(60)
    assert job.state == "error" and "Training failed" in job.message


def test_a_job_nobody_watches_stops_by_itself_even_without_visitors():
    m = JobManager(idle_timeout=0.5)
    job = m.start("a", tiny())
    assert job.wait(30)  # no reap() call: the job notices on its own
    assert job.state == "stopped" and "nobody watching" in job.message
    paused = m.start("b", tiny(), paused=True)
    assert paused.wait(30) and paused.state == "stopped"


# ----------------------------------------------------------------------------- jobs in a child process

def test_process_job_runs_records_and_saves_after_it_ended(tmp_path):
    from gan_core.serve.live import ProcessJob

    m = JobManager(job_class=ProcessJob)
    job = m.start("a", tiny(), max_steps=6, snapshot_every=2, coverage_every=3, classifier=True)
    assert isinstance(job, ProcessJob) and job.trainer is None
    assert job.wait(120)
    assert job.state == "finished" and job.message == "Finished 6 steps."
    assert [r["step"] for r in job.history] == list(range(1, 7))
    assert [s.step for s in job.snapshots] == [0, 1, 2, 4, 6] and job.snapshots[-1].grid.dtype.name == "uint8"
    assert [c["step"] for c in job.coverage] == [0, 3, 6]
    assert job.pid is not None and not job.alive
    folder = job.save(tmp_path / "run")  # the child has exited: its final weights are copied
    ck = load_checkpoint(folder, discriminator=True)
    assert ck.config["steps"] == 6 and ck.discriminator is not None
    final = job._final
    assert final is not None and os.path.isdir(final)
    m.remove("a")  # forgetting the job deletes its weights folder
    assert not os.path.exists(final)


def test_process_job_controls_and_save_while_alive(tmp_path):
    from gan_core.serve.live import ProcessJob

    job = ProcessJob(tiny()).start(paused=True)
    try:
        assert job.wait_for(lambda j: j.state == "paused", 120) and job.ready
        job.step_once()
        assert job.wait_for(lambda j: len(j.history) == 1, 30) and job.state == "paused"
        ck = load_checkpoint(job.save(tmp_path / "mid"))
        assert ck.config["steps"] == 1
        job.resume()
        assert job.wait_for(lambda j: len(j.history) > 5, 60) and job.state == "running"
        job.stop("Enough.")
        assert job.wait(30) and job.state == "stopped" and job.message == "Enough."
    finally:
        job.close()


def test_process_job_reports_divergence_and_a_killed_child():
    import signal

    from gan_core.serve.live import ProcessJob

    bad = ProcessJob(tiny(max_grad_norm=1e-9)).start()
    assert bad.wait(120) and bad.state == "diverged" and "last good weights" in bad.message
    bad.close()
    job = ProcessJob(tiny()).start()
    try:
        assert job.wait_for(lambda j: len(j.history) > 2, 120)
        os.kill(job.pid, signal.SIGKILL)
        assert job.wait(30)
        assert job.state == "error" and "ended unexpectedly" in job.message
        n = len(job.history)
        assert n > 2  # what arrived before is kept
    finally:
        job.close()


def test_process_jobs_count_against_the_cap_and_stop_when_nobody_watches():
    from gan_core.serve.live import ProcessJob

    m = JobManager(max_jobs=1, idle_timeout=1.0, job_class=ProcessJob)
    job = m.start("a", tiny(), paused=True)
    with pytest.raises(Busy):
        m.start("b", tiny())
    assert job.wait(120)  # nobody touches it: it stops itself
    assert job.state == "stopped" and "nobody watching" in job.message
    m.shutdown()


def test_self_conditioned_preset_trains_in_a_child_process_and_saves_its_clusters(tmp_path):
    from gan_core.serve.live import ProcessJob

    cfg = tiny("Self-conditioned (no labels)", model={"width": 4, "z_dim": 8, "clusters": 4})
    assert recipe_of(cfg.model) == "dcgan" and cfg.model.clusters == 4
    job = JobManager(job_class=ProcessJob).start("a", cfg, max_steps=3, snapshot_every=1)
    assert job.wait(120) and job.state == "finished", job.message
    ck = load_checkpoint(job.save(tmp_path / "run"), discriminator=True)
    assert ck.model_config.clusters == 4 and ck.generator.num_classes == 0
    assert ck.discriminator.centroids.abs().sum() > 0                # the k-means centres travelled with D
    assert len(set(ck.generator.cluster_of(torch.randn(2000, 8)).tolist())) == 4


def test_a_job_started_from_a_script_does_not_run_that_script_again(tmp_path, monkeypatch):
    # Inside Streamlit, __main__ is the page being run; multiprocessing would re-run it in the job's process.
    import sys
    import types

    from gan_core.serve.live import ProcessJob

    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('the page script ran again in the job process')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    job = JobManager(job_class=ProcessJob).start("a", tiny(), max_steps=2)
    assert job.wait(120) and job.state == "finished", job.message
    assert sys.modules["__main__"] is page
