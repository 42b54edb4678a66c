"""Child processes for the server's heavy work (training jobs, work-queue workers): one start method, a fork
server that imported torch and the embedded digits once (``gan_core.serve.live._jobserver``), so a child starts in a
fraction of a second, and the caller's ``__main__`` hidden while it starts.
"""
from __future__ import annotations

import contextlib
import sys
import types

_CTX = None


def mp_context():
    """forkserver (a small server that imported torch once forks each child: quick to start, no threads
    inherited from Streamlit) where the platform has it, else spawn."""
    import multiprocessing as mp

    global _CTX
    if _CTX is None:
        if "forkserver" in mp.get_all_start_methods():
            _CTX = mp.get_context("forkserver")
            _CTX.set_forkserver_preload(["gan_core.serve.live._jobserver"])
        else:
            _CTX = mp.get_context("spawn")
    return _CTX


@contextlib.contextmanager
def without_main():
    """Hide the caller's __main__ while a child process is set up. multiprocessing re-runs the starting
    process's __main__ in the fork server and in every child; inside Streamlit that is the page script,
    which must not run again in a bare process (a page that prewarms would even start a fork server from
    the child). Children need only gan_core."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def prewarm() -> None:
    """Start the fork server now (it imports torch once, a few seconds), so the first child starts at once.
    Harmless to call again; a no-op where there is no fork server."""
    ctx = mp_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        with without_main():
            forkserver.ensure_running()


def rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` (Linux /proc; 0 where unavailable)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            import os

            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
