"""The quiz first: a server-wide limit on how many other script runs compute at the same moment.

A served class is one Python process, and its script runs (one thread per browser session) share one
interpreter lock. When 20 slider moves, a few refreshing dashboards and a training page's charts all run at
once, a quiz answer gets a twentieth of the interpreter and waits seconds. Everything but the quiz takes a turn
here (``background_turn``): at most ``GAN_STUDIO_CONCURRENT_RUNS`` (default 2) such runs compute at once, the
others wait on a lock (which costs no CPU and does not compete for the interpreter), so a quiz answer, which
never waits here, shares the interpreter with at most that many others (plus one slider move: see
``interactive_turn``). Nested turns (a fragment drawn inside its page's run) count once.
"""
from __future__ import annotations

import contextlib
import functools
import os
import threading
import time

_SLOTS = threading.BoundedSemaphore(max(1, int(os.environ.get("GAN_STUDIO_CONCURRENT_RUNS", "2"))))
# one more slot that only a slider's or a class picker's own rerun (``interactive_turn``) may take: a move costs
# ~15 ms of the server's CPU and must not wait behind full page runs (~75 ms each) when a class arrives at once
_INTERACTIVE = threading.BoundedSemaphore(max(1, int(os.environ.get("GAN_STUDIO_INTERACTIVE_RUNS", "1"))))
_held = threading.local()
WAIT_LIMIT_S = 30.0   # never wait for ever: a run that waited this long goes ahead


def _acquire(interactive: bool):
    """The semaphore taken (None after WAIT_LIMIT_S without one)."""
    if not interactive:
        return _SLOTS if _SLOTS.acquire(timeout=WAIT_LIMIT_S) else None
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        if _INTERACTIVE.acquire(blocking=False):
            return _INTERACTIVE
        if _SLOTS.acquire(timeout=0.005):
            return _SLOTS
    return None


@contextlib.contextmanager
def background_turn(interactive: bool = False):
    """Hold one of the few slots for non-quiz work while the block runs. ``interactive``: a widget's own
    fragment rerun (a slider move), which may also take the slot kept for those."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    sem = _acquire(interactive)
    _held.depth = 1
    try:
        yield
    finally:
        _held.depth = 0
        if sem is not None:
            sem.release()


def in_turn(fn):
    """``background_turn`` around a function (put it under ``@st.fragment``): timers, dashboards, charts."""
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with background_turn():
            return fn(*args, **kwargs)
    return wrapped


def interactive_turn(fn):
    """``in_turn`` for the fragment a person is moving right now (sliders, a class picker): it may take the
    interactive slot as well, so it does not queue behind page runs."""
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with background_turn(interactive=True):
            return fn(*args, **kwargs)
    return wrapped
