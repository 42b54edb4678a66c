"""What one interaction costs the server: its own CPU milliseconds per slider move, quiz answer, page open, ...

The real server is started (``streamlit run``, as a class would use it) and driven by the benches' websocket
client (``stclient.Student``: the browser's protocol, nothing drawn). For each interaction, N are made one after
another, and the server process's own CPU time (user + system, from /proc; its training jobs and work-queue
workers are other processes and are not counted) is read before and after; the idle server's CPU over the same
time is subtracted. Timers (``run_every``) are not followed, so each figure is that interaction alone.

Interactions: a /latent slider move (the image fragment's rerun), a /conditional class change, a quiz answer,
one refresh of the work queue's status while an evaluation runs, a full /latent page run, and opening each page
in a new session.

Then the herd (``--herd K``, default 20): K sessions open /evaluate and ask for the same new evaluation; when
it is ready, every one of them reruns its page to draw the numbers. Printed: how long from the first page
showing the numbers to the last (the wake-ups are spread, not all at the same instant), the server's CPU per
woken page, and a slider student's slider -> image latency while the pages wake (p95 and max).

The first line gives the machine's speed (sgemm GFLOP/s on 2 threads), so figures from
different machines can be read side by side. Last line exactly:

    rerun cost: slider N ms, quiz answer N ms, latent page N ms

    python bench/rerun_cost.py [--n 40] [--herd 20] [--app-dir DIR]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine import sgemm_gflops  # noqa: E402
from stclient import ERRORS, Student  # noqa: E402
from tests.helpers import free_port, run_app  # noqa: E402

PAGES = ["home", "train", "playground", "latent", "conditional", "quiz", "evaluate", "inside"]


def cpu_ms(pid: int) -> float:
    """User + system CPU of the process itself (all its threads, not its children), in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


class Meter:
    def __init__(self, pid: int):
        self.pid = pid
        self.idle_rate = 0.0   # server CPU ms per wall second with nobody connected

    async def calibrate(self, seconds: float = 3.0) -> None:
        c0, t0 = cpu_ms(self.pid), time.monotonic()
        await asyncio.sleep(seconds)
        self.idle_rate = (cpu_ms(self.pid) - c0) / (time.monotonic() - t0)

    async def per(self, n: int, action) -> float:
        """Server CPU ms per call of the coroutine function ``action(i)``, over n sequential calls."""
        c0, t0 = cpu_ms(self.pid), time.monotonic()
        for i in range(n):
            await action(i)
        await asyncio.sleep(0.2)   # the last messages are sent
        used = cpu_ms(self.pid) - c0 - self.idle_rate * (time.monotonic() - t0)
        return max(0.0, used) / n


async def student(base: str, page: str, query: str = "") -> Student:
    s = Student(base, f"bench-{page}")
    s.follow_timers = False
    await s.open(page, query)
    return s


async def measure(base: str, pid: int, n: int, code: str) -> dict:
    m = Meter(pid)
    out = {}
    # warm up: every page once (models load, caches fill), then let the server settle
    for page in PAGES:
        s = await student(base, page)
        await s.close()
    await asyncio.sleep(2)
    await m.calibrate()

    s = await student(base, "latent", "model=mnist-dcgan&seed=5")
    for i in range(5):
        await s.set_slider("Direction 1", float(i % 3))
    out["slider"] = await m.per(n, lambda i: s.set_slider("Direction 1", [-2.0, -1.0, 1.0, 2.0][i % 4]))
    out["latent page"] = await m.per(max(5, n // 4), lambda i: s.rerun())
    await s.close()

    s = await student(base, "conditional", "model=mnist-cgan")
    out["class change"] = await m.per(n, lambda i: s.set_option("Class", str(i % 10)))
    await s.close()

    s = await student(base, "quiz")
    await s.set_text("Join code", code)
    await s.set_text("Nickname", "bench")
    await s.click("Join")
    t0 = time.monotonic()                       # joining reruns the page once more (st.rerun) and loads the model
    while not any(label.endswith("Left is real") for label in s.widgets) and time.monotonic() - t0 < 60:
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)
    out["quiz answer"] = await m.per(n, lambda i: s.click(["Left is real", "Right is real"][i % 2]))
    await s.close()

    s = await student(base, "evaluate")
    await s.set_number("Seed", 12345)           # a fresh request: the evaluation runs while we poll its status
    await s.click("Run evaluation")
    await asyncio.sleep(1)
    frag = next(iter(s.timer_fragments), None)
    if frag is not None:
        out["queue status"] = await m.per(n, lambda i: s.rerun(frag))
    await s.close()

    for page in PAGES:
        async def open_close(i, page=page):
            c = await student(base, page)
            await c.close()
        out[f"open {page}"] = await m.per(3, open_close)
    return out


async def herd(base: str, pid: int, k: int) -> dict:
    """K pages waiting for one shared evaluation, and a slider student measuring latency while they wake."""
    arrivals: list[float] = []
    pages = []
    for i in range(k):
        s = Student(base, f"herd{i}")
        await s.open("evaluate")
        await s.set_number("Seed", 54321)

        def on(t, el, got=[]):
            if t in ("arrow_data_frame", "dataframe", "arrow_table") and not got:
                got.append(1)
                arrivals.append(time.monotonic())
        s.listeners.append(on)
        pages.append(s)
    for s in pages:
        await s.click("Run evaluation")
    meter = Student(base, "herd-slider")
    meter.follow_timers = False
    await meter.open("latent", "model=mnist-dcgan&seed=7")
    seen = asyncio.Event()
    meter.listeners.append(lambda t, el: seen.set() if t == "html" and "generated image" in el.html.body else None)
    lat: list[tuple[float, float]] = []   # (when, ms)
    cpu: list[tuple[float, float]] = []   # (when, server CPU ms so far)
    v, deadline = 1.0, time.monotonic() + 600
    while len(arrivals) < k and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        v = -v
        seen.clear()
        t0 = time.monotonic()
        await meter.set_slider("Direction 2", v)
        try:
            await asyncio.wait_for(seen.wait(), 30)
        except asyncio.TimeoutError:
            ERRORS.append("herd: no new image in 30 s")
        lat.append((t0, (time.monotonic() - t0) * 1000))
        cpu.append((time.monotonic(), cpu_ms(pid)))
    await asyncio.sleep(0.5)
    end_cpu = cpu_ms(pid)
    for s in pages + [meter]:
        await s.close()
    if len(arrivals) < k:
        ERRORS.append(f"herd: only {len(arrivals)} of {k} pages got their numbers")
        return {}
    first, last = min(arrivals), max(arrivals)
    during = sorted(ms for when, ms in lat if first - 1.0 <= when <= last + 0.5) or [0.0]
    start_cpu = next((c for when, c in reversed(cpu) if when <= first - 0.3), cpu[0][1])
    return {"pages": k, "spread": last - first, "cpu per page": (end_cpu - start_cpu) / k,
            "p95": during[min(len(during) - 1, int(0.95 * len(during)))], "max": during[-1], "moves": len(during)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--herd", type=int, default=20, help="pages waiting for one shared result (0: skip)")
    ap.add_argument("--app-dir", type=Path, default=ROOT)
    a = ap.parse_args()
    print(f"machine: sgemm {sgemm_gflops():.0f} GFLOP/s on 2 threads")
    data = tempfile.mkdtemp(prefix="gan_rerun_cost_")
    quiz_db = f"sqlite:///{data}/quiz.sqlite3"
    procs: list = []
    env = {"GAN_STUDIO_QUIZ_DB": quiz_db, "GAN_STUDIO_WORK_PER_CLIENT": "100"}
    with run_app(free_port(), env=env, procs=procs, app_dir=a.app_dir) as base:
        from gan_core.humaneval import Store

        code, _ = Store(quiz_db).create_session("mnist-cgan", "pair", 200, seed=3)
        out = asyncio.run(measure(base, procs[0].pid, a.n, code))
        h = asyncio.run(herd(base, procs[0].pid, a.herd)) if a.herd else {}
    for k, v in out.items():
        print(f"{k:18s} {v:8.1f} ms of server CPU")
    if h:
        print(f"herd: {h['pages']} pages waiting for one evaluation drew it over {h['spread']:.1f} s, "
              f"{h['cpu per page']:.0f} ms of server CPU per page (incl. the slider's); slider while they woke: "
              f"p95 {h['p95']:.0f} ms, max {h['max']:.0f} ms ({h['moves']} moves)")
    if ERRORS:
        print(f"errors: {len(ERRORS)}: {ERRORS[:3]}")
    print(f"rerun cost: slider {out['slider']:.0f} ms, quiz answer {out['quiz answer']:.0f} ms, "
          f"latent page {out['latent page']:.0f} ms")


if __name__ == "__main__":
    main()
