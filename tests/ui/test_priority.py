"""Turns for script runs: page runs share GAN_STUDIO_CONCURRENT_RUNS slots; a slider's own rerun may also take
the one interactive slot, so it does not wait behind page runs; nested turns count once."""
import threading
import time

from ui import priority


def _hold(turn, started: threading.Event, release: threading.Event):
    with turn():
        started.set()
        release.wait(5)


def _busy_page_runs(n: int):
    release = threading.Event()
    threads = []
    for _ in range(n):
        started = threading.Event()
        t = threading.Thread(target=_hold, args=(priority.background_turn, started, release), daemon=True)
        t.start()
        assert started.wait(2)
        threads.append(t)
    return release, threads


def test_a_slider_move_goes_ahead_while_page_runs_hold_every_shared_slot():
    release, threads = _busy_page_runs(2)       # the default two slots, both taken by page runs
    try:
        t0 = time.monotonic()
        with priority.background_turn(interactive=True):
            waited = time.monotonic() - t0
        assert waited < 0.5                      # it took the interactive slot
        got = threading.Event()

        def page_run():
            with priority.background_turn():
                got.set()
        threading.Thread(target=page_run, daemon=True).start()
        assert not got.wait(0.3)                 # another page run does wait: it may not use that slot
    finally:
        release.set()
        for t in threads:
            t.join(5)
    assert got.wait(5)


def test_nested_turns_count_once():
    with priority.background_turn():
        with priority.background_turn(interactive=True):
            with priority.background_turn():
                pass
    # every slot is free again: three turns at once succeed at once
    t0 = time.monotonic()
    release, threads = _busy_page_runs(2)
    with priority.background_turn(interactive=True):
        pass
    release.set()
    for t in threads:
        t.join(5)
    assert time.monotonic() - t0 < 1.0
