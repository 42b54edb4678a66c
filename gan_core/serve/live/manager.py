"""The server's training jobs: a cap on how many train at once, one per owner, idle and lifetime limits
enforced by a reaper thread (see ``JobManager``)."""
from __future__ import annotations

import threading
import time
import weakref

from gan_core.training.config import TrainConfig
from gan_core.serve.live.jobs import Job, idle_message, lifetime_message


class Busy(RuntimeError):
    """The server's job cap is reached."""

    def __init__(self, running: int, cap: int):
        super().__init__(f"The server is busy: {running} training job{'s' if running != 1 else ''} running "
                         f"(the cap is {cap}). Try again when one finishes, or ask the host to raise "
                         "GAN_STUDIO_MAX_JOBS.")
        self.running, self.cap = running, cap


class JobManager:
    """The server's training jobs, at most ``max_jobs`` active at once; one per owner (a browser session).

    Jobs not looked at (``Job.touch``) for ``idle_timeout`` seconds are stopped, and so is any job that has
    trained for ``max_seconds`` (so two tabs cannot hold both slots for ever); stopped jobs nobody has looked
    at for ``forget_after`` seconds are dropped. A reaper thread applies these every few seconds even when no
    page is open. ``job_class``: ``Job`` (a thread) or ``process.ProcessJob``.
    """

    def __init__(self, max_jobs: int = 2, idle_timeout: float = 900.0, forget_after: float = 3600.0,
                 job_class: type[Job] = Job, max_seconds: float = 1800.0, reap_every: float = 5.0):
        if max_jobs < 1:
            raise ValueError("max_jobs must be at least 1.")
        self.max_jobs, self.idle_timeout, self.forget_after = max_jobs, idle_timeout, forget_after
        self.max_seconds, self.reap_every = max_seconds, reap_every
        self.job_class = job_class
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None
        self._closed = threading.Event()

    def get(self, owner: str) -> Job | None:
        self.reap()
        with self._lock:
            return self._jobs.get(owner)

    def running(self) -> int:
        with self._lock:
            return sum(j.active for j in self._jobs.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)

    def start(self, owner: str, config: TrainConfig, **job_kwargs) -> Job:
        """Start a job for ``owner`` (replacing its previous one). Raises ``Busy`` at the cap."""
        self.reap()
        paused = job_kwargs.pop("paused", False)
        with self._lock:
            old = self._jobs.get(owner)
            others = sum(j.active for o, j in self._jobs.items() if o != owner)
            if others >= self.max_jobs:
                raise Busy(others, self.max_jobs)
            if old is not None:
                old.stop("Replaced by a new run.")
            job_kwargs.setdefault("idle_timeout", self.idle_timeout)
            job = self.job_class(config, **job_kwargs)
            self._jobs[owner] = job
            if self._reaper is None:
                self._closed = threading.Event()
                self._reaper = threading.Thread(target=_reap_forever, args=(weakref.ref(self), self._closed),
                                                name="gan-job-reaper", daemon=True)
                self._reaper.start()
        if old is not None:
            old.close()
        return job.start(paused=paused)

    def remove(self, owner: str) -> None:
        with self._lock:
            job = self._jobs.pop(owner, None)
        if job is not None:
            job.close()

    def reap(self, now: float | None = None, wall: float | None = None) -> None:
        """Stop idle and over-long jobs; forget long-finished ones."""
        now = time.monotonic() if now is None else now
        wall = time.time() if wall is None else wall
        dropped = []
        with self._lock:
            for owner, job in list(self._jobs.items()):
                idle = now - job.last_seen
                if job.active and idle > self.idle_timeout:
                    job.stop(idle_message(idle))
                elif job.active and wall - job.started > self.max_seconds:
                    job.stop(lifetime_message(self.max_seconds))
                elif not job.active and not job.alive and idle > self.forget_after:
                    dropped.append(self._jobs.pop(owner))
        for job in dropped:
            job.close()


    def shutdown(self) -> None:
        with self._lock:
            self._closed.set()
            self._reaper = None
            jobs = list(self._jobs.values())
            self._jobs.clear()
        for j in jobs:
            j.stop()
        for j in jobs:
            j.close()


def _reap_forever(manager_ref, closed: threading.Event) -> None:
    """The reaper thread: holds its manager only weakly, so a manager nobody keeps (and its thread) goes."""
    while True:
        manager = manager_ref()
        if manager is None:
            return
        every = manager.reap_every
        try:
            manager.reap()
        except Exception:  # never let the reaper die: the limits depend on it
            pass
        del manager
        if closed.wait(every):
            return
