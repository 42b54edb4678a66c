"""The work queue's worker processes (``WorkQueue(processes=True)``): each worker thread of the queue owns one
child process, started on first use from the fork server (``gan_core.serve.processes``), that runs one ``Task`` at a
time under an address-space limit, reports progress through a pipe, and is killed and replaced when its item is
cancelled, runs past the time limit, outgrows its memory or dies. Also what a work item is (``Task``), what its
function is given (``WorkContext``) and how it stops (``Cancelled``, ``OverBudget``, ``WorkerFailed``).
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import torch

WORKER_NICENESS = 10   # heavy work yields the CPU to the server's interactive threads (slider moves)
POLL_SECONDS = 0.1     # how often a worker thread looks at its child (progress, cancel, limits)


if TYPE_CHECKING:
    from gan_core.serve.workqueue import Ticket, WorkQueue


class Cancelled(Exception):
    """Raised inside a work function (from its progress callback) when nobody waits for it any more."""


class OverBudget(Exception):
    """Raised by a task that would take longer than the server allows (its message says how long)."""


@dataclass(frozen=True)
class Task:
    """Work that can run in a worker process: ``fn(ctx, *args)``, ``fn`` a module-level function (so it can
    be pickled) and ``args`` plain values (paths, numbers, arrays). ``ctx`` is a ``WorkContext``."""

    fn: Callable
    args: tuple = ()


class WorkContext:
    """What a Task's function is given: ``progress(fraction, stage)`` (where a cancelled item stops) and the
    item's time ``limit`` in seconds, with ``budget(seconds, what)`` to refuse early."""

    def __init__(self, report: Callable[[float, str], None], limit: float):
        self._report, self.limit, self.started = report, float(limit), time.monotonic()

    def progress(self, fraction: float, stage: str = "") -> None:
        self._report(fraction, stage)

    def seconds_left(self) -> float:
        return self.limit - (time.monotonic() - self.started)

    def budget(self, seconds: float, what: str) -> None:
        """Raise OverBudget when an estimated ``seconds`` would not finish within the time left."""
        if seconds > self.seconds_left():
            raise OverBudget(f"{what} would take about {duration(seconds)} on this machine; the server stops "
                             f"any one computation after {duration(self.limit)} "
                             "(GAN_STUDIO_WORK_SECONDS), so it was not started.")


def duration(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:,.1f} h"


def user_message(e: Exception) -> str:
    """An item's error for its users: the message alone for the refusals the app raises on purpose (its input
    errors are ValueErrors: ImageSetError, IntakeError, CheckpointError, QuizError), else with its type."""
    if isinstance(e, (OverBudget, WorkerFailed, ValueError)) and str(e):
        return str(e)
    return f"{type(e).__name__}: {e}"


class WorkerFailed(Exception):
    """An item stopped by its limits, or whose worker process died; the message is for the user."""


def worker_main(conn, memory_mb: int, torch_threads: int) -> None:
    """A worker process: runs one Task at a time, sending ("progress", f, stage) and then ("done", result) or
    ("error", message). Its address space is capped at what torch's import mapped plus ``memory_mb``, so an
    allocation past its budget fails in here (MemoryError / torch's allocator error), not in the server."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal stops the app, which stops us
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    torch.set_num_threads(torch_threads)
    with contextlib.suppress(ImportError, OSError, ValueError):
        import resource

        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = mapped + memory_mb * 1_000_000
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    last = [0.0]

    def report(fraction: float, stage: str = "") -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1 or fraction >= 1.0:   # at most ten reports a second cross the pipe
            last[0] = now
            conn.send(("progress", float(fraction), str(stage)[:200]))

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] != "run":
            return
        _, task, limit, env = msg
        for k in [k for k in os.environ if k.startswith("GAN_STUDIO_") and k not in env]:
            del os.environ[k]
        os.environ.update(env)   # the server's settings now (a fork server keeps those of its own start)
        try:
            result = task.fn(WorkContext(report, limit), *task.args)
            reply = ("done", result)
        except OverBudget as e:
            reply = ("error", str(e))
        except MemoryError:
            reply = ("error", f"it needed more than this server's memory limit per computation ({memory_mb:,} "
                              "MB, GAN_STUDIO_WORK_MB), so it was stopped.")
        except Exception as e:
            text = user_message(e)
            if "can't allocate memory" in text or "not enough memory" in text:
                text = (f"it needed more than this server's memory limit per computation ({memory_mb:,} MB, "
                        "GAN_STUDIO_WORK_MB), so it was stopped.")
            reply = ("error", text[:2000])
        try:
            conn.send(reply)
        except (OSError, ValueError, TypeError) as e:   # e.g. a result that cannot be pickled
            conn.send(("error", f"its result could not be returned ({type(e).__name__})."))


class WorkerProcess:
    """A worker thread's process: started on first use, replaced after a kill (cancel, limit, crash). ``run``
    hands it one ticket's Task and relays progress until the result, the queue's stop reason, or a limit."""

    def __init__(self, memory_mb: int, torch_threads: int):
        from gan_core.serve.processes import mp_context, without_main

        ctx = mp_context()
        self.memory_mb = memory_mb
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(child, memory_mb, torch_threads),
                                name="gan-work-child", daemon=True)
        with without_main():
            self.proc.start()
        child.close()
        self.pid = self.proc.pid

    def is_alive(self) -> bool:
        return self.proc.is_alive()

    def usable(self) -> bool:
        return self.proc.is_alive()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)

    def run(self, t: "Ticket", q: "WorkQueue"):
        from gan_core.serve.processes import rss_bytes

        limit = q.seconds - (time.monotonic() - t.started)
        try:
            self.conn.send(("run", t.fn, limit, {k: v for k, v in os.environ.items() if k.startswith("GAN_STUDIO_")}))
        except (OSError, ValueError) as e:
            self.close()
            raise WorkerFailed(f"it could not be handed to a worker process ({type(e).__name__}).") from None
        while True:
            try:
                ready = self.conn.poll(POLL_SECONDS)
            except (OSError, EOFError):
                ready = False
            if ready:
                try:
                    kind, *rest = self.conn.recv()
                except (EOFError, OSError):
                    self.close()
                    raise WorkerFailed("its worker process died (most likely out of memory); the server is "
                                       "fine.") from None
                if kind == "progress":
                    t.progress, t.stage = max(0.0, min(1.0, rest[0])), rest[1]
                    continue
                if kind == "done":
                    return rest[0]
                raise WorkerFailed(rest[0])
            why = q.stop_reason(t)
            if why is None and rss_bytes(self.pid) > self.memory_mb * 1_000_000 + _BASE_RSS:
                why = (f"it needed more than this server's memory limit per computation ({self.memory_mb:,} MB, "
                       "GAN_STUDIO_WORK_MB), so it was stopped.")
            if why is None and not self.proc.is_alive():
                why = "its worker process died (most likely out of memory); the server is fine."
            if why is not None:
                self.close()   # the only way to stop arbitrary work at once: the process goes, a new one comes
                if why == "cancelled":
                    raise Cancelled()
                raise WorkerFailed(why)


_BASE_RSS = 400_000_000   # what a worker holds before its item (torch, the embedded digits): not the item's
