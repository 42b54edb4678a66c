"""One server-wide bounded queue for heavy page work (evaluations, latent maps, arithmetic, memorisation
searches, D histograms, unit rankings, image-set preparation), so a room of students shares the CPU instead of
each taking it, and no one student's request can hold it for long or take the server's memory.

- At most ``workers`` items run at once (default: one fewer than the cores, at least one; or
  ``GAN_STUDIO_MAX_WORK``), each with one torch thread and a lower CPU priority (nice 10): a core stays free
  for interactive work (one image per slider move), which never enters this queue. Items marked ``light``
  (seconds of work: a latent map, an arithmetic) also have ``light_workers`` of their own, so they never wait
  behind a class's evaluations.
- **Worker processes** (``processes=True``, the server's default): each worker runs its items in a child
  process of its own, with a memory limit (``GAN_STUDIO_WORK_MB``, default 2,048 MB: the address-space limit
  of the child plus a watch on its resident memory). An item that exceeds it dies alone — the child is
  replaced — and its waiters get a message; the web server's process never holds what the work decoded or
  built. Items are then ``Task`` objects (a module-level function and its arguments), which can cross to the
  child. ``processes=False`` runs items in the worker threads (tests, notebooks).
- **A budget per item**: every item stops at ``seconds`` (``GAN_STUDIO_WORK_SECONDS``, default 300 s):
  killed with its process, or stopped at its next progress report in thread mode. A task estimates its own
  cost before its main loop (``WorkContext.budget``) and refuses or scales down what would exceed the limit,
  so the user learns it at once, not after five minutes.
- Each owner (a browser session) has at most one item queued or running, and each client (a browser's
  address) at most ``per_client`` (``GAN_STUDIO_WORK_PER_CLIENT``, default 3), so scripted sessions from one
  machine cannot fill the line; joining an item someone else already asked for costs nothing.
- Items are keyed by what they compute: two owners asking for the same thing share one run and its result,
  and finished results are kept (least recently used first out, ``cache_size``) for the next who asks.
- A waiting owner sees its place in line and the item's progress, and can cancel; an item nobody waits for
  any more — cancelled, or every owner's session gone for ``owner_grace`` seconds (the ``alive`` callback) —
  is dropped from the line, or stopped.

Example:
    >>> q = WorkQueue(workers=1)
    >>> t = q.submit("me", ("square", 3), lambda progress: 3 * 3, label="a square")
    >>> q.wait(t, timeout=10).result
    9
    >>> q.submit("you", ("square", 3), lambda progress: 0).result   # shared: computed once
    9
    >>> q.shutdown()
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

import torch

ACTIVE = ("queued", "running")
WORKER_NICENESS = 10   # heavy work yields the CPU to the server's interactive threads (slider moves)
POLL_SECONDS = 0.1     # how often a worker thread looks at its child (progress, cancel, limits)


class Cancelled(Exception):
    """Raised inside a work function (from its progress callback) when nobody waits for it any more."""


class OverBudget(Exception):
    """Raised by a task that would take longer than the server allows (its message says how long)."""


class OwnerBusy(RuntimeError):
    """This owner already has an item queued or running."""

    def __init__(self, ticket: "Ticket"):
        super().__init__(f"You already have {ticket.label} waiting; it runs first (or cancel it).")
        self.ticket = ticket


class ClientBusy(RuntimeError):
    """This client (one machine's browser sessions together) has its share of the line already."""


class QueueFull(RuntimeError):
    """The line is at its length limit."""


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
            raise OverBudget(f"{what} would take about {_duration(seconds)} on this machine; the server stops "
                             f"any one computation after {_duration(self.limit)} "
                             "(GAN_STUDIO_WORK_SECONDS), so it was not started.")


def _duration(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:,.1f} h"


@dataclass
class Ticket:
    key: Hashable
    label: str
    fn: Callable = field(repr=False, default=None)
    owners: set = field(default_factory=set)
    clients: set = field(default_factory=set)
    state: str = "queued"             # queued, running, done, error, cancelled (cancelling while it stops)
    progress: float = 0.0
    stage: str = ""
    result: Any = None
    error: str = ""
    light: bool = False               # seconds of work (a map, an arithmetic): served by the light lane too
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    finished: float | None = None

    @property
    def waited(self) -> float:
        """Seconds spent in line (so far, when still queued)."""
        return (self.started or time.monotonic()) - self.submitted


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def default_workers() -> int:
    env = os.environ.get("GAN_STUDIO_MAX_WORK")
    if env:
        return max(1, int(env))
    return max(1, (os.cpu_count() or 2) - 1)


def default_seconds() -> float:
    return max(1.0, _env_number("GAN_STUDIO_WORK_SECONDS", 300))


def default_memory_mb() -> int:
    return int(max(256, _env_number("GAN_STUDIO_WORK_MB", 2048)))


def default_per_client() -> int:
    return int(max(1, _env_number("GAN_STUDIO_WORK_PER_CLIENT", 3)))


class WorkQueue:
    """A bounded pool of workers in front of a FIFO line of keyed work items (see the module doc)."""

    def __init__(self, workers: int | None = None, cache_size: int = 64, max_waiting: int = 200,
                 torch_threads: int = 1, light_workers: int = 1, processes: bool = False,
                 seconds: float | None = None, memory_mb: int | None = None, per_client: int | None = None,
                 alive: Callable[[str], bool] | None = None, owner_grace: float = 10.0):
        self.workers = workers or default_workers()
        self.light_workers = light_workers
        self.cache_size, self.max_waiting, self.torch_threads = cache_size, max_waiting, torch_threads
        self.processes = processes
        self.seconds = seconds or default_seconds()
        self.memory_mb = memory_mb or default_memory_mb()
        self.per_client = per_client or default_per_client()
        self.alive, self.owner_grace = alive, owner_grace
        self._dead_since: dict[str, float] = {}
        self._line: deque[Ticket] = deque()
        self._active: dict[Hashable, Ticket] = {}
        self._done: OrderedDict[Hashable, Ticket] = OrderedDict()
        self._failed: OrderedDict[Hashable, Ticket] = OrderedDict()   # shown to the waiters; asked again: rerun
        self._by_owner: dict[str, Ticket] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._children: list = []
        if processes:
            # the fork server starts now, from this thread at the caller's priority: started from a worker
            # thread (nice 10) it would pass that nice value to every training job forked from it too
            from .processes import prewarm

            prewarm()
        # heavy workers take any item, oldest first; light workers only light ones, so a latent map (seconds)
        # never waits behind a class's evaluations (minutes)
        self._threads = [threading.Thread(target=self._work, args=(False,), name=f"gan-work-{i}", daemon=True)
                         for i in range(self.workers)]
        self._threads += [threading.Thread(target=self._work, args=(True,), name=f"gan-light-{i}", daemon=True)
                          for i in range(light_workers)]
        for t in self._threads:
            t.start()
        self.waits: deque[float] = deque(maxlen=1000)   # seconds in line of recent items (for benchmarks)

    # ------------------------------------------------------------------ asking
    def submit(self, owner: str, key: Hashable, fn: Callable[[Callable], Any] | Task, label: str = "a computation",
               light: bool = False, client: str | None = None) -> Ticket:
        """The ticket for ``key``: a finished one from the cache, the one already queued or running (now shared
        with ``owner``), or a new one at the end of the line. Raises OwnerBusy / ClientBusy / QueueFull."""
        if self.processes and not isinstance(fn, Task):
            raise TypeError("A queue of worker processes runs Task items (a module-level function and its "
                            "arguments), not closures.")
        with self._cond:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            t = self._active.get(key)
            if t is not None and t.state == "cancelling":
                t.state = "running"   # someone wants it again before it noticed the cancel
            mine = self._by_owner.get(owner)
            if mine is not None and mine.state in ACTIVE and mine is not t:
                raise OwnerBusy(mine)
            if t is None:
                self._drop_abandoned()
                if client is not None:
                    held = sum(client in x.clients for x in self._active.values() if x.state in ACTIVE)
                    if held >= self.per_client:
                        raise ClientBusy(f"Your computer already has {held} computations waiting or running on "
                                         "this server (the most one machine may have at once, so the whole class "
                                         "gets its turn); wait for one to finish, or cancel one.")
                self._failed.pop(key, None)
                if len(self._line) >= self.max_waiting:
                    raise QueueFull("The server's line of computations is full; try again in a minute.")
                t = Ticket(key=key, label=label, fn=fn, light=light)
                self._active[key] = t
                self._line.append(t)
                self._cond.notify_all()
            t.owners.add(owner)
            if client is not None:
                t.clients.add(client)
            self._by_owner[owner] = t
            self._dead_since.pop(owner, None)
            return t

    def peek(self, key: Hashable) -> Ticket | None:
        """The ticket for ``key`` if it is cached, queued or running (never starts anything)."""
        with self._cond:
            return self._done.get(key) or self._active.get(key) or self._failed.get(key)

    def mine(self, owner: str) -> Ticket | None:
        with self._cond:
            t = self._by_owner.get(owner)
            return t if t is not None and t.state in ACTIVE else None

    def position(self, ticket: Ticket) -> int:
        """0 when running or finished, else 1 + how many items are ahead of it in line."""
        with self._cond:
            if ticket.state != "queued":
                return 0
            ahead = 0
            for t in self._line:
                if t is ticket:
                    return ahead + 1
                ahead += (t.light == ticket.light) or not ticket.light
            return 0

    def running(self) -> int:
        with self._cond:
            return sum(t.state == "running" for t in self._active.values())

    def waiting(self) -> int:
        with self._cond:
            return len(self._line)

    def cancel(self, owner: str, ticket: Ticket) -> None:
        """``owner`` stops waiting; with nobody left, the item leaves the line or stops."""
        with self._cond:
            self._leave(owner, ticket)

    def wait(self, ticket: Ticket, timeout: float | None = None) -> Ticket:
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while ticket.state in ACTIVE + ("cancelling",):
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(left)
        return ticket

    def forget(self, key: Hashable) -> None:
        with self._cond:
            self._done.pop(key, None)
            self._failed.pop(key, None)

    def worker_pids(self) -> list[int]:
        """The worker processes alive now (for tests and benchmarks)."""
        return [c.pid for c in list(self._children) if c is not None and c.is_alive()]

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the workers (a running item is asked to cancel) and wait for their threads to end: a worker
        thread with torch state still alive when the interpreter exits can abort the process."""
        with self._cond:
            self._closed = True
            for t in self._active.values():
                if t.state == "running":
                    t.state = "cancelling"
            self._cond.notify_all()
        for th in self._threads:
            if th is not threading.current_thread():
                th.join(timeout)

    # ------------------------------------------------------------------ owners who left
    def _leave(self, owner: str, ticket: Ticket) -> None:
        """With the lock held: ``owner`` no longer waits for ``ticket``."""
        ticket.owners.discard(owner)
        if self._by_owner.get(owner) is ticket:
            del self._by_owner[owner]
        if ticket.owners or ticket.state not in ACTIVE:
            return
        if ticket.state == "queued":
            self._line.remove(ticket)
            self._finish(ticket, "cancelled")
        else:
            ticket.state = "cancelling"

    def _gone(self, owner: str) -> bool:
        """With the lock held: the owner's session has been gone for owner_grace seconds."""
        if self.alive is None:
            return False
        try:
            ok = self.alive(owner)
        except Exception:  # a failing check never cancels anyone's work
            ok = True
        if ok:
            self._dead_since.pop(owner, None)
            return False
        first = self._dead_since.setdefault(owner, time.monotonic())
        return time.monotonic() - first >= self.owner_grace

    def _drop_abandoned(self, tickets=None) -> None:
        """With the lock held: owners whose sessions ended leave their items (which stop when nobody is left)."""
        if self.alive is None:
            return
        for t in list(tickets if tickets is not None else self._line):
            for o in [o for o in t.owners if self._gone(o)]:
                self._leave(o, t)
        for o in [o for o, v in self._dead_since.items() if o not in self._by_owner]:
            del self._dead_since[o]

    # ------------------------------------------------------------------ the workers
    def _finish(self, t: Ticket, state: str) -> None:
        """With the lock held."""
        t.state, t.finished, t.fn = state, time.monotonic(), None
        self._active.pop(t.key, None)
        for o in list(t.owners):
            if self._by_owner.get(o) is t:
                del self._by_owner[o]
        kept = self._done if state == "done" else self._failed if state == "error" else None
        if kept is not None:
            kept[t.key] = t
            while len(kept) > self.cache_size:
                kept.popitem(last=False)
        self._cond.notify_all()

    def _next(self, light_only: bool) -> Ticket | None:
        self._drop_abandoned()
        for t in self._line:
            if t.light or not light_only:
                return t
        return None

    def _check_running(self, t: Ticket) -> str | None:
        """With the lock held: why a running item must stop now ("cancelled" / an error message), or None."""
        if t.state == "cancelling" or self._closed:
            return "cancelled"
        self._drop_abandoned([t])
        if t.state == "cancelling":
            return "cancelled"
        if time.monotonic() - t.started > self.seconds:
            return (f"stopped at the server's limit of {_duration(self.seconds)} per computation "
                    "(GAN_STUDIO_WORK_SECONDS).")
        return None

    def _work(self, light_only: bool = False) -> None:
        torch.set_num_threads(self.torch_threads)   # per thread: each item takes one core at most
        with contextlib.suppress(OSError, AttributeError):  # Linux: a thread has its own nice value
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)
        child = None
        try:
            while True:
                with self._cond:
                    while (t := self._next(light_only)) is None and not self._closed:
                        self._cond.wait(1.0)   # wakes now and then to drop items of sessions that ended
                    if self._closed:
                        return
                    self._line.remove(t)
                    t.state, t.started = "running", time.monotonic()
                    self.waits.append(t.waited)
                try:
                    if self.processes:
                        child = child if child is not None and child.usable() else self._new_child(child)
                        result = child.run(t, self)
                    else:
                        result = self._run_here(t)
                except Cancelled:
                    with self._cond:
                        self._finish(t, "cancelled")
                    continue
                except Exception as e:  # shown to the waiting users, never a traceback
                    with self._cond:
                        t.error = _message(e)
                        self._finish(t, "error")
                    continue
                with self._cond:
                    t.result, t.progress = result, 1.0
                    self._finish(t, "done")
        finally:
            if child is not None:
                child.close()

    def _new_child(self, old) -> "_Child":
        if old is not None:
            old.close()
            with contextlib.suppress(ValueError):
                self._children.remove(old)
        c = _Child(self.memory_mb, self.torch_threads)
        self._children.append(c)
        return c

    def _run_here(self, t: Ticket):
        """Thread mode: the item runs in this worker thread; limits are checked at each progress report."""
        def progress(fraction: float, stage: str = "", t=t) -> None:
            t.progress, t.stage = max(0.0, min(1.0, float(fraction))), stage
            with self._cond:
                why = self._check_running(t)
            if why == "cancelled":
                raise Cancelled()
            if why:
                raise WorkerFailed(why)

        if isinstance(t.fn, Task):
            ctx = WorkContext(progress, self.seconds - (time.monotonic() - t.started))
            return t.fn.fn(ctx, *t.fn.args)
        return t.fn(progress)


def _message(e: Exception) -> str:
    """An item's error for its users: the message alone for the refusals the app raises on purpose (its input
    errors are ValueErrors: ImageSetError, IntakeError, CheckpointError, QuizError), else with its type."""
    if isinstance(e, (OverBudget, WorkerFailed, ValueError)) and str(e):
        return str(e)
    return f"{type(e).__name__}: {e}"


class WorkerFailed(Exception):
    """An item stopped by its limits, or whose worker process died; the message is for the user."""


# ---------------------------------------------------------------------- the worker processes
def _child_main(conn, memory_mb: int, torch_threads: int) -> None:
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
            text = _message(e)
            if "can't allocate memory" in text or "not enough memory" in text:
                text = (f"it needed more than this server's memory limit per computation ({memory_mb:,} MB, "
                        "GAN_STUDIO_WORK_MB), so it was stopped.")
            reply = ("error", text[:2000])
        try:
            conn.send(reply)
        except (OSError, ValueError, TypeError) as e:   # e.g. a result that cannot be pickled
            conn.send(("error", f"its result could not be returned ({type(e).__name__})."))


class _Child:
    """A worker thread's process: started on first use, replaced after a kill (cancel, limit, crash)."""

    def __init__(self, memory_mb: int, torch_threads: int):
        from .processes import mp_context, without_main

        ctx = mp_context()
        self.memory_mb = memory_mb
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_child_main, args=(child, memory_mb, torch_threads),
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

    def run(self, t: Ticket, q: WorkQueue):
        from .processes import rss_bytes

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
            with q._cond:
                why = q._check_running(t)
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
