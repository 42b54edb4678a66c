"""The server-wide work queue: bounded workers, one item per owner, shared results, places in line, cancel."""
import threading
import time

import pytest

from gan_core.workqueue import Cancelled, OwnerBusy, QueueFull, WorkQueue


def blocker(gate: threading.Event, result=1, seen=None):
    def fn(progress):
        if seen is not None:
            seen.append(threading.current_thread().name)
        while not gate.wait(0.01):
            progress(0.5, "waiting at the gate")
        return result
    return fn


@pytest.fixture
def q():
    q = WorkQueue(workers=2, cache_size=3)
    yield q
    q.shutdown()


def test_at_most_k_run_at_once_and_the_rest_wait_in_line(q):
    gate = threading.Event()
    tickets = [q.submit(f"user{i}", ("job", i), blocker(gate, i), f"job {i}") for i in range(5)]
    deadline = time.time() + 10
    while q.running() < 2 and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert q.running() == 2 and q.waiting() == 3
    assert [q.position(t) for t in tickets] == [0, 0, 1, 2, 3]
    gate.set()
    assert [q.wait(t, 10).result for t in tickets] == [0, 1, 2, 3, 4]
    assert all(t.progress == 1.0 and t.state == "done" for t in tickets)


def test_one_item_per_owner_and_shared_results(q):
    gate = threading.Event()
    calls = []
    a = q.submit("ann", "map", blocker(gate, "the map", calls), "the map")
    with pytest.raises(OwnerBusy, match="the map"):
        q.submit("ann", "other", blocker(gate), "another")
    b = q.submit("ben", "map", blocker(gate, "again", calls), "the map")   # the same key: shared, not rerun
    assert a is b and a.owners == {"ann", "ben"}
    gate.set()
    assert q.wait(a, 10).result == "the map" and len(calls) == 1
    assert q.submit("cat", "map", blocker(gate), "the map").result == "the map"   # cached for later askers
    q.submit("ann", "other", lambda p: 2, "another")                               # ann is free again


def test_cancel_in_line_and_while_running(q):
    gate = threading.Event()
    running = [q.submit(f"u{i}", ("busy", i), blocker(gate), "busy") for i in range(2)]
    deadline = time.time() + 10
    while q.running() < 2 and time.time() < deadline:
        time.sleep(0.01)
    queued = q.submit("me", "mine", blocker(gate), "mine")
    assert q.position(queued) == 1
    q.cancel("me", queued)
    assert queued.state == "cancelled" and q.waiting() == 0 and q.peek("mine") is None
    q.cancel("u0", running[0])                       # its only owner left: stops at its next progress report
    assert q.wait(running[0], 10).state == "cancelled"
    gate.set()
    assert q.wait(running[1], 10).state == "done"


def test_errors_reach_the_waiters_and_a_new_ask_retries(q):
    t = q.submit("me", "bad", lambda p: 1 / 0, "a bad one")
    assert q.wait(t, 10).state == "error" and "ZeroDivisionError" in t.error
    assert q.peek("bad") is t
    t2 = q.submit("me", "bad", lambda p: 5, "a bad one")
    assert q.wait(t2, 10).result == 5


def test_cache_and_line_are_bounded():
    q = WorkQueue(workers=1, cache_size=2, max_waiting=2)
    for i in range(4):
        q.wait(q.submit("me", i, lambda p, i=i: i, "n"), 10)
    assert q.peek(0) is None and q.peek(1) is None and q.peek(3).result == 3
    gate = threading.Event()
    block = q.submit("a", "block", blocker(gate), "block")
    deadline = time.time() + 10                           # running, so it no longer counts as waiting
    while block.state != "running" and time.time() < deadline:
        time.sleep(0.01)
    q.submit("b", "x", blocker(gate), "x")
    q.submit("c", "y", blocker(gate), "y")
    with pytest.raises(QueueFull):
        q.submit("d", "z", blocker(gate), "z")
    gate.set()
    q.shutdown()


def test_workers_use_one_torch_thread_each(q):
    import torch

    t = q.submit("me", "threads", lambda p: torch.get_num_threads(), "threads")
    assert q.wait(t, 10).result == 1


def test_cancelled_is_raised_from_progress():
    q = WorkQueue(workers=1)
    seen = []

    def fn(progress):
        try:
            while True:
                progress(0.1)
                time.sleep(0.01)
        except Cancelled:
            seen.append("stopped")
            raise

    t = q.submit("me", "loop", fn, "loop")
    time.sleep(0.1)
    q.cancel("me", t)
    assert q.wait(t, 10).state == "cancelled" and seen == ["stopped"]
    q.shutdown()


def test_light_items_do_not_wait_behind_heavy_ones():
    q = WorkQueue(workers=1, light_workers=1)
    gate = threading.Event()
    heavy = [q.submit(f"h{i}", ("heavy", i), blocker(gate), "an evaluation") for i in range(3)]
    deadline = time.time() + 10                           # the heavy worker has picked up the first one
    while heavy[0].state != "running" and time.time() < deadline:
        time.sleep(0.01)
    light = q.submit("me", "map", lambda p: "map", "the map", light=True)
    assert q.wait(light, 10).result == "map"              # served while the heavy ones still wait
    assert [t.state for t in heavy] == ["running", "queued", "queued"]
    gate.set()
    assert all(q.wait(t, 10).state == "done" for t in heavy)
    q.shutdown()
