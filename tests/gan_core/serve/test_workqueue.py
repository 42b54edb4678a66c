"""The server-wide work queue: bounded workers, one item per owner, shared results, places in line, cancel."""
import threading
import time

import pytest

from gan_core.serve.workqueue import Cancelled, OwnerBusy, QueueFull, WorkQueue


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


# ---------------------------------------------------------------- limits: time, memory, owners, clients
def _sleep_task(ctx, seconds):
    time.sleep(seconds)
    return "slept"


def _alloc_task(ctx, mb):
    import torch

    x = torch.ones(int(mb) * 250_000)            # mb MB of float32, touched
    return float(x.sum())


def _pid_task(ctx):
    import os

    return os.getpid()


def _progress_loop(ctx):
    while True:
        ctx.progress(0.5, "looping")
        time.sleep(0.01)


def test_worker_processes_stop_an_item_at_its_memory_limit_and_carry_on():
    import os

    from gan_core.serve.workqueue import Task

    q = WorkQueue(workers=1, light_workers=0, processes=True, memory_mb=300)
    try:
        t = q.wait(q.submit("me", "big", Task(_alloc_task, (2000,)), "a big one"), 120)
        assert t.state == "error" and "memory limit" in t.error, t.error
        ok = q.wait(q.submit("me", "small", Task(_alloc_task, (10,)), "a small one"), 120)
        assert ok.state == "done" and ok.result == 2_500_000
        pid = q.wait(q.submit("me", "pid", Task(_pid_task), "pid"), 60).result
        assert pid != os.getpid()                  # the work ran in another process
    finally:
        q.shutdown()


def test_an_item_is_stopped_at_the_time_limit_in_a_process_and_in_a_thread():
    from gan_core.serve.workqueue import Task

    q = WorkQueue(workers=1, light_workers=0, processes=True, seconds=1.5)
    try:
        q.wait(q.submit("me", "warm", Task(_pid_task), "warm"), 60)   # the fork server is up
        start = time.monotonic()
        t = q.wait(q.submit("me", "long", Task(_sleep_task, (30,)), "a long one"), 60)
        assert t.state == "error" and "limit" in t.error and time.monotonic() - start < 10
    finally:
        q.shutdown()
    q = WorkQueue(workers=1, light_workers=0, seconds=0.5)
    try:
        t = q.wait(q.submit("me", "loop", Task(_progress_loop), "a loop"), 20)
        assert t.state == "error" and "limit" in t.error
    finally:
        q.shutdown()


def test_items_of_sessions_that_ended_are_dropped_and_stopped():
    gone = {"ghost"}
    q = WorkQueue(workers=1, light_workers=0, alive=lambda o: o not in gone, owner_grace=0.2)
    gate = threading.Event()
    try:
        running = q.submit("ghost", "r", blocker(gate), "running")
        deadline = time.time() + 10
        while running.state != "running" and time.time() < deadline:
            time.sleep(0.01)
        waiting = q.submit("ghost2", "w", blocker(gate), "waiting")
        gone.add("ghost2")
        shared = q.submit("alive", "r", blocker(gate), "running")  # someone still waits for this one
        assert shared is running
        time.sleep(0.5)
        q.cancel("alive", running)                                   # now only the ghost is left
        assert q.wait(running, 10).state == "cancelled"
        assert q.wait(waiting, 10).state == "cancelled"
    finally:
        gate.set()
        q.shutdown()


def test_one_client_cannot_fill_the_line_with_many_sessions():
    from gan_core.serve.workqueue import ClientBusy

    q = WorkQueue(workers=1, light_workers=0, per_client=3, max_waiting=200)
    gate = threading.Event()
    try:
        for i in range(3):
            q.submit(f"script{i}", ("s", i), blocker(gate), "spam", client="10.0.0.66")
        with pytest.raises(ClientBusy):
            for i in range(3, 201):
                q.submit(f"script{i}", ("s", i), blocker(gate), "spam", client="10.0.0.66")
        assert q.waiting() + q.running() == 3
        q.submit("student", "real work", blocker(gate), "real", client="10.0.0.7")   # others still get in
        q.submit("script0-friend", ("s", 0), blocker(gate), "spam", client="10.0.0.66")  # joining costs nothing
    finally:
        gate.set()
        q.shutdown()

