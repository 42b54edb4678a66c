"""One server-wide bounded queue for heavy page work (evaluations, latent maps, arithmetic, memorisation
searches, D histograms, unit rankings, image-set preparation), so a room of students shares the CPU instead of
each taking it, and no one student's request can hold it for long or take the server's memory.

- At most ``workers`` items run at once (default: one fewer than the cores, at least one; or
  ``GAN_STUDIO_MAX_WORK``), each with one torch thread and a lower CPU priority (nice 10): a core stays free
  for interactive work (one image per slider move), which never enters this queue. Items marked ``light``
  (seconds of work: a latent map, an arithmetic) also have ``light_workers`` of their own, so they never wait
  behind a class's evaluations.
- **Worker processes** (``processes=True``, the server's default; ``gan_core.serve.workers``): each worker runs its
  ``Task`` items in a child process with a memory limit (``GAN_STUDIO_WORK_MB``, default 2,048 MB); an item
  that exceeds it dies alone and its waiters get a message. ``processes=False`` runs any callable in the
  worker threads (tests, notebooks).
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

from gan_core.serve.workers import WORKER_NICENESS, Cancelled, Task, WorkContext, WorkerFailed, WorkerProcess, duration, user_message

ACTIVE = ("queued", "running")


class OwnerBusy(RuntimeError):
    """This owner already has an item queued or running."""

    def __init__(self, ticket: "Ticket"):
        super().__init__(f"You already have {ticket.label} waiting; it runs first (or cancel it).")
        self.ticket = ticket


class ClientBusy(RuntimeError):
    """This client (one machine's browser sessions together) has its share of the line already."""


class QueueFull(RuntimeError):
    """The line is at its length limit."""


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
            from gan_core.serve.processes import prewarm

            prewarm()
        # heavy workers take any item, oldest first; light workers only light ones, so a latent map (seconds)
        # never waits behind a class's evaluations (minutes)
        self._threads = [threading.Thread(target=self._work, args=(False,), name=f"gan-work-{i}", daemon=True)
                         for i in range(self.workers)]
        self._threads += [threading.Thread(target=self._work, args=(True,), name=f"gan-light-{i}", daemon=True)
                          for i in range(light_workers)]
        for t in self._threads:
            t.start()

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

    def stop_reason(self, t: Ticket) -> str | None:
        """Why a running item must stop now ("cancelled" / a message for its users), or None."""
        with self._cond:
            return self._check_running(t)

    def _check_running(self, t: Ticket) -> str | None:
        """With the lock held: why a running item must stop now ("cancelled" / an error message), or None."""
        if t.state == "cancelling" or self._closed:
            return "cancelled"
        self._drop_abandoned([t])
        if t.state == "cancelling":
            return "cancelled"
        if time.monotonic() - t.started > self.seconds:
            return (f"stopped at the server's limit of {duration(self.seconds)} per computation "
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
                        t.error = user_message(e)
                        self._finish(t, "error")
                    continue
                with self._cond:
                    t.result, t.progress = result, 1.0
                    self._finish(t, "done")
        finally:
            if child is not None:
                child.close()

    def _new_child(self, old):
        if old is not None:
            old.close()
            with contextlib.suppress(ValueError):
                self._children.remove(old)
        c = WorkerProcess(self.memory_mb, self.torch_threads)
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
