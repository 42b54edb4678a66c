"""Background training jobs for the app, polled by the UI and never calling Streamlit: ``Job`` trains in a
thread of this process; ``gan_core.serve.live.process.ProcessJob`` (what the app uses) trains in a child process,
with the same fields and controls, so training never waits for the web server's Python threads.

A ``JobManager`` (``manager.py``, one per server) caps how many jobs train at once, so a classroom server is never
frozen, and stops jobs nobody has looked at for a while. A ``Job`` wraps a ``Trainer``: start, pause,
resume, one step, stop; it records every step's measurements, a fixed-noise sample grid every few
steps (the timeline), and the class coverage of samples every few hundred steps (collapse made visible).

Example:
    >>> from gan_core.serve.live import JobManager
    >>> from gan_core.training.presets import preset_config
    >>> m = JobManager(max_jobs=1)
    >>> job = m.start("me", preset_config("Fast digits", model={"width": 8}, batch_size=8), max_steps=2)
    >>> job.wait(timeout=60)
    True
    >>> job.state, len(job.history)
    ('finished', 2)
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gan_core.training.timeline import keep_thinned
from gan_core.training.config import TrainConfig
from gan_core.training.trainer import Trainer, TrainingDiverged

ACTIVE = ("starting", "running", "paused")


def lifetime_message(seconds: float) -> str:
    return (f"Stopped after {seconds / 60:.0f} minutes of training: each run may use the server this long, so "
            "that everyone in the room gets a turn. The weights so far are kept: save them below.")


def idle_message(seconds: float) -> str:
    return (f"Stopped after {seconds / 60:.0f} minutes with nobody watching, to free the server for others. "
            "The weights so far are kept: save them below.")


@dataclass
class Snapshot:
    step: int
    grid: np.ndarray  # uint8 (H, W) or (H, W, 3): the fixed-noise samples of G at this step


@dataclass
class Job:
    """One training run in a background thread. Read its fields from any thread; control it with methods.

    Args:
        config: the run's TrainConfig.
        max_steps: stop by itself after this many steps (None: until stopped).
        snapshot_every: steps between sample grids on the timeline.
        coverage_every: steps between class-coverage checks (needs ``classifier``).
        classifier: mnist-classifier for coverage of 28x28 grey images (None: no coverage).
        n_samples: fixed-noise samples in the grid.
    """

    config: TrainConfig
    max_steps: int | None = None
    snapshot_every: int = 25
    coverage_every: int = 200
    classifier: torch.nn.Module | None = None
    n_samples: int = 64
    max_snapshots: int = 200
    max_history: int = 20_000  # rows of measurements kept; past this the older half is thinned
    torch_threads: int | None = None
    idle_timeout: float | None = None   # stop by itself when nobody has looked (touch) for this long
    on_event: object = None  # called with each new history row, snapshot, coverage row and state change
    id: str = field(default_factory=lambda: secrets.token_hex(6))
    state: str = "starting"   # starting, running, paused, stopped, finished, diverged, error
    message: str = ""
    history: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    coverage: list = field(default_factory=list)
    last_seen: float = field(default_factory=time.monotonic)
    started: float = field(default_factory=time.time)

    def __post_init__(self):
        self._cond = threading.Condition()
        self._train_lock = threading.Lock()  # held while the trainer's weights change
        self._pending = 0
        self._stop = False
        self._want_pause = False
        self._thread: threading.Thread | None = None
        self.trainer: Trainer | None = None

    def _emit(self, *event) -> None:
        if self.on_event is not None:
            self.on_event(event)

    # ------------------------------------------------------------------ control
    def start(self, paused: bool = False) -> "Job":
        self._want_pause = paused
        self._thread = threading.Thread(target=self.train, name=f"gan-job-{self.id}", daemon=True)
        self._thread.start()
        return self

    def pause(self) -> None:
        with self._cond:
            self._want_pause = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._want_pause = False
            self._cond.notify_all()

    def step_once(self) -> None:
        """One discriminator update and one generator update (GAN Lab's step button); pauses first."""
        with self._cond:
            self._want_pause = True
            self._pending += 1
            self._cond.notify_all()

    def stop(self, reason: str = "Stopped.") -> None:
        with self._cond:
            if self.state in ACTIVE:
                self.message = reason
            self._stop = True
            self._cond.notify_all()

    def close(self) -> None:
        """Stop and free what the job holds (the process backend's weights folder)."""
        self.stop()
        self.wait(30)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        """Wait until ``predicate(job)`` holds (tests, the step button)."""
        end = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    def _idle(self) -> bool:
        return self.idle_timeout is not None and time.monotonic() - self.last_seen > self.idle_timeout

    # ------------------------------------------------------------------ reading
    @property
    def ready(self) -> bool:
        """The networks are built: there is something to save."""
        return self.trainer is not None

    @property
    def step(self) -> int:
        return self.history[-1]["step"] if self.history else 0

    def latest(self) -> dict:
        return dict(self.history[-1]) if self.history else {}

    def save(self, folder: str | Path) -> Path:
        """Write a checkpoint folder (EMA generator + discriminator) of the current weights."""
        from gan_core.hub.checkpoints import save_checkpoint
        from gan_core.latent.sampling import to_pil

        if self.trainer is None:
            raise RuntimeError("Nothing to save yet: the job has not built its networks.")
        with self._train_lock:
            t = self.trainer
            cfg = t.checkpoint_config()
            cfg["source"] = "gan_core.serve.live"
            metrics = {"steps": t.step_count, **({"coverage": self.coverage[-1]} if self.coverage else {})}
            samples = to_pil(self.snapshots[-1].grid) if self.snapshots else None
            return save_checkpoint(folder, cfg, {"G": t.G_ema, "D": t.D}, metrics=metrics,
                                   samples=samples)

    # ------------------------------------------------------------------ the thread
    def _set(self, state: str, message: str | None = None) -> None:
        with self._cond:
            self.state = state
            if message is not None:
                self.message = message
            self._cond.notify_all()
        self._emit("state", state, self.message)

    def train(self) -> None:
        """Build the networks and train until stopped, in the calling thread (a job's thread, or a job
        process's main thread: gan_core.serve.live.process)."""
        try:
            torch.set_num_threads(self.torch_threads or torch.get_num_threads())  # per-thread setting in OpenMP
            self.trainer = t = Trainer(self.config)
            self._emit("ready")
            self._preview = t.objective.preview_inputs(self.n_samples)   # fixed: each grid shows the same inputs
            self._snapshot()
            if self.classifier is not None:  # "classes drawn" from the first grid on, not only after N steps
                self._measure_coverage()
            self._set("paused" if self._want_pause else "running")
            while True:
                if self._idle():
                    self.stop(idle_message(self.idle_timeout))
                with self._cond:
                    while not self._stop and self._want_pause and self._pending == 0:
                        if self.state != "paused":
                            self.state = "paused"
                            self._cond.notify_all()
                            self._emit("state", "paused", self.message)
                        self._cond.wait(0.5)
                        if self._idle():
                            self._stop, self.message = True, idle_message(self.idle_timeout)
                    if self._stop:
                        break
                    single = self._want_pause and self._pending > 0
                    if single:
                        self._pending -= 1
                    elif self.state != "running":
                        self.state = "running"
                        self._cond.notify_all()
                        self._emit("state", "running", self.message)
                with self._train_lock:
                    metrics = t.step(n_critic=1 if single else None)
                self._record(metrics)
                if self.max_steps is not None and t.step_count >= self.max_steps:
                    self._set("finished", f"Finished {t.step_count} steps.")
                    return
            self._set("stopped")
        except TrainingDiverged as e:
            self._set("diverged", str(e))
        except Exception as e:  # reported in the page, never a traceback there
            self._set("error", f"Training failed: {type(e).__name__}: {e}")

    def _record(self, metrics: dict) -> None:
        step = metrics["step"]
        with self._cond:
            keep_thinned(self.history, metrics, self.max_history)
            self._cond.notify_all()
        self._emit("history", metrics)
        if step % self.snapshot_every == 0 or step == 1:
            self._snapshot()
        if self.classifier is not None and step % self.coverage_every == 0:
            self._measure_coverage()

    @torch.no_grad()
    def _samples(self) -> torch.Tensor:
        return self.trainer.objective.preview(self.trainer.G_ema, self._preview)

    def _snapshot(self) -> None:
        from gan_core.latent.sampling import image_grid

        with self._train_lock:
            x = self._samples()
        snap = Snapshot(self.trainer.step_count, image_grid(x, nrow=self.trainer.objective.preview_columns()))
        with self._cond:
            keep_thinned(self.snapshots, snap, self.max_snapshots)
        self._emit("snapshot", snap)

    @torch.no_grad()
    def _measure_coverage(self) -> None:
        from gan_core.metrics.scores import class_coverage, digit_readiness

        if tuple(self.config.model.img_shape) != (1, 28, 28):
            return
        with self._train_lock:
            x = self._samples()
        logits = self.classifier(x)
        row = {"step": self.trainer.step_count, **class_coverage(logits), **digit_readiness(logits)}
        with self._cond:
            keep_thinned(self.coverage, row, self.max_history)
        self._emit("coverage", row)
