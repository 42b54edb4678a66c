"""Training jobs in their own process: ``ProcessJob`` has the fields and controls of ``gan_core.serve.live.jobs.Job``
but trains in a child process, so training never competes with the web server's Python threads for the
GIL, and a crash in training cannot take the server down. Children are forked from a small fork server
that imported torch and the embedded digits once (``gan_core.serve.live._jobserver``), so a job starts in a fraction
of a second; ``gan_core.serve.processes.prewarm`` starts that server early.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

import torch

from gan_core.serve.processes import mp_context, without_main
from gan_core.training.timeline import keep_thinned
from gan_core.serve.live.jobs import ACTIVE, Job, idle_message
from gan_core.training.config import TrainConfig

JOB_NICENESS = 10  # training jobs run at a lower CPU priority than the web server (Linux nice)


def _child_main(conn, config: dict, opts: dict, paused: bool, final_dir: str | None) -> None:
    """The training process: a ``Job`` trains on this process's main thread; one thread takes commands
    from the parent, another sends the job's events back in batches. When training ends, the weights are
    written to ``final_dir`` before the process exits."""
    import queue
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal stops the app, which stops us
    # Training yields the CPU to the web server: a slider move (a few ms of work) should never wait behind a
    # training step. On a free machine this costs nothing; on a busy one the room stays responsive.
    with contextlib.suppress(OSError):
        os.nice(JOB_NICENESS)
    threads = opts.pop("torch_threads", None)
    if threads:
        torch.set_num_threads(threads)
    classifier = None
    if opts.pop("coverage", False):
        from gan_core.metrics.scores import load_classifier

        classifier = load_classifier()
    events: queue.Queue = queue.Queue()
    job = Job(TrainConfig.from_dict(config), classifier=classifier, on_event=events.put, **opts)
    if paused:
        job.pause()   # before it trains: the first grid is drawn, then it waits
    send_lock = threading.Lock()

    def send(batch) -> bool:
        try:
            with send_lock:
                conn.send(batch)
            return True
        except (OSError, ValueError):  # the parent is gone
            job.stop("The app closed.")
            return False

    def forward():
        while True:
            batch = [events.get()]
            while True:
                try:
                    batch.append(events.get_nowait())
                except queue.Empty:
                    break
            if not send(batch) or ("end",) in batch:
                return

    def listen():
        while True:
            try:
                cmd, *args = conn.recv()
            except (EOFError, OSError):
                job.stop("The app closed.")
                return
            if cmd == "pause":
                job.pause()
            elif cmd == "resume":
                job.resume()
            elif cmd == "step":
                job.step_once()
            elif cmd == "stop":
                job.stop(*args)
            elif cmd == "save":
                req, folder = args
                try:
                    events.put(("saved", req, str(job.save(folder)), None))
                except (OSError, RuntimeError) as e:
                    events.put(("saved", req, None, str(e)))

    sender = threading.Thread(target=forward, daemon=True)
    sender.start()
    threading.Thread(target=listen, daemon=True).start()
    job.train()
    if job.trainer is not None and final_dir:  # the weights outlive this process: the parent may save later
        try:
            events.put(("final", str(job.save(final_dir))))
        except (OSError, RuntimeError):
            pass
    events.put(("end",))
    sender.join(30)


class ProcessJob(Job):
    """A ``Job`` whose training runs in a child process, so it never competes with the app's threads for
    Python's GIL and a crash in training cannot take the server down. Same fields and controls as
    ``Job``; the fields are updated from the child's events by a reader thread. ``classifier``: any
    value but None turns class coverage on, measured in the child with the shipped mnist-classifier.
    ``trainer`` stays None here: the networks live in the child (``ready`` says they are built). When
    the run ends the child writes its weights to a temporary folder and exits, so ``save`` still works on
    a stopped, finished or diverged run; ``close`` deletes that folder.
    """

    def __post_init__(self):
        super().__post_init__()
        self._ready = False
        self._proc = None
        self._conn = None
        self._send_lock = threading.Lock()
        self._replies: dict[int, tuple] = {}
        self._next_req = 0
        self._final_dir = tempfile.mkdtemp(prefix=f"gan-job-{self.id}-")
        self._final: str | None = None

    @property
    def ready(self) -> bool:
        return self._ready

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self, paused: bool = False) -> "ProcessJob":
        ctx = mp_context()
        self._conn, child = ctx.Pipe()
        opts = dict(max_steps=self.max_steps, snapshot_every=self.snapshot_every,
                    coverage_every=self.coverage_every, n_samples=self.n_samples, max_snapshots=self.max_snapshots,
                    max_history=self.max_history,
                    torch_threads=self.torch_threads, coverage=self.classifier is not None, id=self.id)
        self._proc = ctx.Process(target=_child_main,
                                 args=(child, self.config.to_dict(), opts, paused, self._final_dir),
                                 name=f"gan-job-{self.id}", daemon=True)
        with without_main():
            self._proc.start()
        child.close()
        self._thread = threading.Thread(target=self._read, name=f"gan-job-reader-{self.id}", daemon=True)
        self._thread.start()
        return self

    def _send(self, *cmd) -> None:
        try:
            with self._send_lock:
                self._conn.send(cmd)
        except (OSError, ValueError, AttributeError):
            pass  # the child has ended; the reader reports how

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def step_once(self) -> None:
        self._send("step")

    def stop(self, reason: str = "Stopped.") -> None:
        self._send("stop", reason)

    def save(self, folder: str | Path) -> Path:
        if not self._ready:
            raise RuntimeError("Nothing to save yet: the job has not built its networks.")
        if self.alive:
            with self._cond:
                self._next_req += 1
                req = self._next_req
            self._send("save", req, str(folder))
            if not self.wait_for(lambda j: req in j._replies or not j.alive, 120):
                raise RuntimeError("The training process did not answer within 2 minutes.")
            if req in self._replies:
                path, error = self._replies.pop(req)
                if error:
                    raise RuntimeError(error)
                return Path(path)
        self.wait(30)
        if self._final is None or not Path(self._final).is_dir():
            raise RuntimeError("The training process ended without leaving its weights (it was killed?).")
        shutil.copytree(self._final, folder, dirs_exist_ok=True)
        return Path(folder)

    def close(self) -> None:
        self.stop()
        self.wait(30)
        shutil.rmtree(self._final_dir, ignore_errors=True)
        self._final = None

    def _apply(self, event: tuple) -> None:
        kind = event[0]
        if kind == "history":
            keep_thinned(self.history, event[1], self.max_history)
        elif kind == "snapshot":
            keep_thinned(self.snapshots, event[1], self.max_snapshots)
        elif kind == "coverage":
            keep_thinned(self.coverage, event[1], self.max_history)
        elif kind == "state":
            self.state, self.message = event[1], event[2]
        elif kind == "ready":
            self._ready = True
        elif kind == "final":
            self._final = event[1]
        elif kind == "saved":
            self._replies[event[1]] = (event[2], event[3])

    def _read(self) -> None:
        try:
            while True:
                if self._conn.poll(0.5):
                    try:
                        batch = self._conn.recv()
                    except (EOFError, OSError):
                        break
                    with self._cond:
                        for event in batch:
                            self._apply(event)
                        self._cond.notify_all()
                    if ("end",) in batch:
                        break
                elif not self._proc.is_alive():
                    break
                if self.state in ACTIVE and self._idle():
                    self.stop(idle_message(self.idle_timeout))
        finally:
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(5)
            self._conn.close()
            with self._cond:
                if self.state in ACTIVE:
                    code = self._proc.exitcode
                    self.state = "error"
                    self.message = (f"The training process ended unexpectedly (exit code {code}"
                                    f"{', killed by the system: out of memory?' if code == -9 else ''}). "
                                    "What it sent before is kept; start a new run to go on.")
                self._cond.notify_all()
