"""A served classroom under load (issue 16): 30 simulated students on the real app server, and one more who
measures how fast the latent slider answers the whole time.

The students speak Streamlit's own websocket protocol (the BackMsg/ForwardMsg protobufs the browser sends and
receives), not browser pages: 31 Chromium tabs would take the two cores away from the server being measured.
Each client does what the browser does for these pages: it opens a page by name, keeps every widget's state,
sends a widget change as a rerun (of the widget's fragment when it lives in one), and honours the server's
auto-rerun requests (the timers of ``st.fragment(run_every=...)``), so queue status, training progress and
quiz dashboards refresh as they do in a browser. Nothing here draws the pages.

The class (arriving one every 0.5 s): 20 students move latent sliders at a human pace (a move every 1-3 s); 5 press "Run evaluation"
(the page's default: 1,000 samples each of mnist-dcgan and mnist-cgan; seeds 0 and 1, so two computations, each
shared by the students who asked for the same) and wait for the numbers; 3 answer a quiz; 2 train on /train. The measuring
student moves a slider every second and times slider -> new image (the delta carrying the new picture).

Then 200 more browser sessions open /latent, move a slider and leave, to see the server's memory come back:
RSS after the first 10 and after all 200 (within 20% is the target).

Prints errors (exception boxes, failed connections, timeouts; must be 0), the measuring student's p50/p95,
how long evaluations waited in line and took, and the server's RSS; last line exactly:
``classroom: errors N, slider p95 N ms, rss N MB -> N MB``.

    python bench/classroom_load.py [--seconds 90] [--sessions 200] [--app-dir DIR] [--students N] [--replicas N]

Each simulated student connects from a loopback address of its own (127.0.x.y), as students at their own
machines would: nginx's sticky hash spreads them over replicas (``--replicas 2`` serves the app through
``gan-core serve``), and the app's per-machine limits count them apart. ``--students N`` keeps the default
class's proportions. The first line gives the machine's speed (sgemm GFLOP/s on 2 threads).

``--app-dir`` serves another checkout (e.g. a ``git worktree`` of an older commit) with this same load:
that is how the before figure in the closing note was measured.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))
from machine import sgemm_gflops  # noqa: E402
from stclient import ERRORS, Student, next_address  # noqa: E402
from tests.helpers import free_port, run_app, wait_healthy  # noqa: E402

# ----------------------------------------------------------------------------- the class

ARRIVAL_S = 0.5  # students come in one after another (a class arrives over ~15 s, not in the same 100 ms)


async def slider_student(base: str, i: int, until: float) -> None:
    await asyncio.sleep(i * ARRIVAL_S)
    s = Student(base, f"slider{i}", next_address())
    await s.open("latent", f"model=mnist-dcgan&seed={i}")
    rng = random.Random(i)
    while time.monotonic() < until:
        await asyncio.sleep(rng.uniform(1.0, 3.0))
        await s.set_slider("Direction 1", rng.choice([-2.0, -1.0, 0.0, 1.0, 2.0]))
    await s.close()


async def measuring_student(base: str, until: float, lat: list) -> None:
    s = Student(base, "measurer", next_address())
    await s.open("latent", "model=mnist-dcgan&seed=5")
    arrived = asyncio.Event()

    def on(t, el):
        if t == "html" and "data:image/png" in el.html.body and "generated image" in el.html.body:
            arrived.set()

    s.listeners.append(on)
    v = 0.0
    while time.monotonic() < until:
        await asyncio.sleep(1.0)
        v = 1.5 if v != 1.5 else -1.5
        arrived.clear()
        t0 = time.perf_counter()
        move = asyncio.create_task(s.set_slider("Direction 2", v))
        try:
            await asyncio.wait_for(arrived.wait(), 60)
            lat.append((time.perf_counter() - t0) * 1000)
        except asyncio.TimeoutError:
            ERRORS.append("measurer: no new image within 60 s")
        await move
    await s.close()


async def evaluating_student(base: str, i: int, until: float, waits: list) -> None:
    await asyncio.sleep((20 + i) * ARRIVAL_S)
    s = Student(base, f"eval{i}", next_address())
    await s.open("evaluate")
    got = asyncio.Event()
    t0 = time.perf_counter()
    started: list = []

    def on(t, el):
        if t == "progress" and el.progress.text.startswith("Computing") and not started:
            started.append(time.perf_counter())
        if t == "arrow_data_frame" or t == "dataframe" or (t == "arrow_table"):
            got.set()

    s.listeners.append(on)
    await s.set_number("Seed", i % 2)   # two different requests: three students share one, two the other
    await s.click("Run evaluation")
    try:
        await asyncio.wait_for(got.wait(), max(5.0, until - time.monotonic() + 120))
        waits.append(((started[0] if started else t0) - t0, time.perf_counter() - t0))
    except asyncio.TimeoutError:
        ERRORS.append(f"eval{i}: no results")
    await s.close()


QUIZ_MS: list[float] = []   # click -> the run that records the answer has finished
QUIZ_SPAN: list[float] = []  # seconds each quiz student spent answering


async def quiz_student(base: str, i: int, code: str, until: float, answered: list) -> None:
    await asyncio.sleep((25 + i) * ARRIVAL_S)
    s = Student(base, f"quiz{i}", next_address())
    await s.open("quiz")
    await s.set_text("Join code", code)
    await s.set_text("Nickname", f"student {i}")
    for _ in range(5):   # a press that lands while the page's first run is still being replaced is pressed again
        await s.click("Join")
        await asyncio.sleep(1.0)
        if any(lbl.endswith("is real") for lbl in s.widgets):
            break
    rng = random.Random(100 + i)
    n, began = 0, time.monotonic()
    while time.monotonic() < until:
        await asyncio.sleep(rng.uniform(1.0, 3.0))
        try:
            t0 = time.perf_counter()
            await s.click(rng.choice(["Left is real", "Right is real"]))
            QUIZ_MS.append((time.perf_counter() - t0) * 1000)
            n += 1
        except KeyError as e:
            if n < 150:
                ERRORS.append(f"quiz{i}: no answer buttons after {n} answers ({str(e)[:200]})")
            break  # done: no answer buttons any more
    QUIZ_SPAN.append(time.monotonic() - began)
    answered.append(n)
    await s.close()


async def training_student(base: str, i: int, until: float) -> None:
    await asyncio.sleep((28 + i) * ARRIVAL_S)
    s = Student(base, f"train{i}", next_address())
    await s.open("train")
    await s.click("Start")
    while time.monotonic() < until:
        await asyncio.sleep(1.0)
    try:
        await s.click("Stop")
    except KeyError:
        pass
    await s.close()


async def come_and_go(base: str, n: int) -> None:
    for i in range(n):
        s = Student(base, f"visitor{i}", next_address())
        await s.open("latent", f"model=mnist-dcgan&seed={i}")
        await s.set_slider("Direction 1", 1.0)
        await s.close()


def rss_mb(pid: int) -> float:
    """Resident memory of the server process (its training jobs run in their own processes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def classroom(base: str, seconds: float, code: str, mix: dict) -> dict:
    until = time.monotonic() + seconds
    lat, waits, answered = [], [], []
    tasks = [slider_student(base, i, until) for i in range(mix["sliders"])]
    tasks += [evaluating_student(base, i, until, waits) for i in range(mix["evals"])]
    tasks += [quiz_student(base, i, code, until, answered) for i in range(mix["quiz"])]
    tasks += [training_student(base, i, until) for i in range(mix["train"])]
    tasks += [measuring_student(base, until, lat)]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            ERRORS.append(f"client failed: {type(r).__name__}: {str(r)[:160]}")
    return {"lat": lat, "waits": waits, "answered": answered}


def _children(pid: int) -> list[int]:
    """The streamlit processes started by ``pid`` (gan-core serve's replicas)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if ppid == pid and b"streamlit" in (d / "cmdline").read_bytes():
                    out.append(int(d.name))
            except (OSError, ValueError, IndexError):
                pass
    return out


@contextlib.contextmanager
def class_server(replicas: int, env: dict, app_dir: Path):
    """(base URL, server pids): one `streamlit run`, or `gan-core serve --replicas N` (nginx in front)."""
    if replicas <= 1:
        procs: list = []
        with run_app(free_port(), env=env, procs=procs, app_dir=app_dir) as base:
            yield base, [procs[0].pid]
        return
    import subprocess

    port = free_port()
    exe = Path(sys.executable).parent / "gan-core"
    proc = subprocess.Popen([str(exe), "serve", "--replicas", str(replicas), "--port", str(port), "--host",
                             "127.0.0.1"], cwd=app_dir, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, 180, "gan-core serve")
        yield base, _children(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--app-dir", type=Path, default=ROOT)
    ap.add_argument("--mix", type=int, nargs=4, default=[20, 5, 3, 2], metavar=("SLIDERS", "EVALS", "QUIZ", "TRAIN"),
                    help="how many students do each thing (default: the issue's class of 30)")
    ap.add_argument("--students", type=int, help="a class of N in the same proportions as the default 30")
    ap.add_argument("--replicas", type=int, default=1, help="serve through `gan-core serve --replicas N`")
    a = ap.parse_args()
    if a.students:
        a.mix = [max(1, round(a.students * k / 30)) for k in (20, 5, 3, 2)]
    print(f"machine: sgemm {sgemm_gflops():.0f} GFLOP/s on 2 threads")
    mix = dict(zip(("sliders", "evals", "quiz", "train"), a.mix))
    data = tempfile.mkdtemp(prefix="gan_classroom_")
    quiz_db = f"sqlite:///{data}/quiz.sqlite3"
    try:
        env = {"GAN_STUDIO_QUIZ_DB": quiz_db}   # each student connects from its own address (stclient)
        with class_server(a.replicas, env, a.app_dir) as (base, pids):
            from gan_core.humaneval import Store

            def rss() -> float:
                return sum(rss_mb(p) for p in pids)

            code, _ = Store(quiz_db).create_session("mnist-cgan", "pair", 200, seed=3)
            asyncio.run(come_and_go(base, 2 * a.replicas))  # load the models, like a teacher's first visit
            rss_start = rss()
            r = asyncio.run(classroom(base, a.seconds, code, mix))
            rss_load = rss()
            asyncio.run(come_and_go(base, 10))
            time.sleep(5)
            rss_10 = rss()
            asyncio.run(come_and_go(base, max(0, a.sessions - 10)))
            time.sleep(10)
            rss_200 = rss()
    finally:
        shutil.rmtree(data, ignore_errors=True)
    lat = sorted(r["lat"])
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [float("nan")] * 99
    print(f"protocol: Streamlit's websocket protocol (BackMsg/ForwardMsg), {sum(a.mix) + 1} clients "
          f"({a.mix[0]} sliders, {a.mix[1]} evaluations, {a.mix[2]} quiz, {a.mix[3]} training + 1 measuring) for "
          f"{a.seconds:.0f} s; app {a.app_dir}, {a.replicas} server process{'es' if a.replicas > 1 else ''}")
    print(f"measuring student: {len(lat)} slider moves, slider -> new image p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, "
          f"max {max(lat) if lat else float('nan'):.0f} ms")
    if r["waits"]:
        w = [x[0] for x in r["waits"]]
        t = [x[1] for x in r["waits"]]
        print(f"evaluations: {len(t)} of {mix['evals']} finished; waited in line {min(w):.1f}-{max(w):.1f} s, click -> numbers "
              f"{min(t):.1f}-{max(t):.1f} s")
    else:
        print("evaluations: none finished")
    qa = sorted(QUIZ_MS) or [float("nan")]
    print(f"quiz answers recorded by {mix['quiz']} students: {sum(r['answered'])} (answer -> recorded p50 "
          f"{qa[len(qa) // 2]:.0f} ms, p95 {qa[int(0.95 * (len(qa) - 1))]:.0f} ms; answering for "
          f"{', '.join(f'{x:.0f}' for x in QUIZ_SPAN)} s)")
    print(f"server RSS: {rss_start:.0f} MB at start, {rss_load:.0f} MB after the class; after {a.sessions} sessions "
          f"came and went: {rss_10:.0f} MB after the first 10 -> {rss_200:.0f} MB "
          f"({(rss_200 / rss_10 - 1) * 100:+.0f}%)")
    print("slider latencies in order (ms):", " ".join(f"{x:.0f}" for x in r["lat"]))
    for e in ERRORS[:10]:
        print("error:", e)
    print(f"classroom: errors {len(ERRORS)}, slider p95 {q[94]:.0f} ms, rss {rss_start:.0f} MB -> {rss_200:.0f} MB")


if __name__ == "__main__":
    main()
