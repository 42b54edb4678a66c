"""The quiz first: a server-wide limit on how many other script runs compute at the same moment.

A served class is one Python process, and its script runs (one thread per browser session) share one
interpreter lock. When 20 slider moves, a few refreshing dashboards and a training page's charts all run at
once, a quiz answer gets a twentieth of the interpreter and waits seconds. Everything but the quiz takes a turn
here (``background_turn``): at most ``GAN_STUDIO_CONCURRENT_RUNS`` (default 2) such runs compute at once, the
others wait on a lock (which costs no CPU and does not compete for the interpreter), so a quiz answer, which
never waits here, shares the interpreter with at most that many others. Nested turns (a fragment drawn inside
its page's run) count once.
"""
from __future__ import annotations

import contextlib
import functools
import os
import threading

_SLOTS = threading.BoundedSemaphore(max(1, int(os.environ.get("GAN_STUDIO_CONCURRENT_RUNS", "2"))))
_held = threading.local()
WAIT_LIMIT_S = 30.0   # never wait for ever: a run that waited this long goes ahead


@contextlib.contextmanager
def background_turn():
    """Hold one of the few slots for non-quiz work while the block runs."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    acquired = _SLOTS.acquire(timeout=WAIT_LIMIT_S)
    _held.depth = 1
    try:
        yield
    finally:
        _held.depth = 0
        if acquired:
            _SLOTS.release()


def in_turn(fn):
    """``background_turn`` around a function (put it under ``@st.fragment``). A fragment that reruns alone runs in
    a new thread, which OpenMP would give every core: its one-image work gets one torch thread, as the router
    gives page runs."""
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        import torch

        torch.set_num_threads(1)
        with background_turn():
            return fn(*args, **kwargs)
    return wrapped
