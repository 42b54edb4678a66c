"""What the tests share (one module: tests never import each other): the project's paths, starting the app on a
free port, settling AppTest pages, generated inputs (image zips, a pickle that would run code, a generator of
real digits), the browser tests' page helpers, and throwaway PostgreSQL databases."""
from __future__ import annotations

import contextlib
import glob
import io
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


# ----------------------------------------------------------------------------- the app

def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for test servers and benches)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc, timeout: float, what: str) -> None:
    """Wait until ``url``/_stcore/health answers ok; RuntimeError if ``proc`` exits or ``timeout`` passes."""
    deadline = time.time() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().strip() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
        if time.time() > deadline:
            raise RuntimeError(f"{what} did not become healthy within {timeout:.0f} s")


@contextlib.contextmanager
def run_app(port: int | None = None, env: dict | None = None, procs: list | None = None, app_dir: Path = ROOT):
    """`streamlit run streamlit_app.py` on a free port; yields its base URL once /_stcore/health answers.

    env: extra environment (e.g. GAN_STUDIO_QUIZ_DB); procs: a list the server's Popen is appended to (a test
    that kills a replica, a benchmark reading its memory); app_dir: the checkout to serve."""
    port = port or free_port()
    exe = shutil.which("streamlit", path=str(Path(sys.executable).parent)) or "streamlit"
    data = tempfile.mkdtemp(prefix="gan_studio_test_")  # the quiz database of this server, not the user's
    proc = subprocess.Popen([exe, "run", "streamlit_app.py", "--server.port", str(port), "--server.headless",
                             "true", "--server.address", "127.0.0.1"], cwd=app_dir,
                            # every test browser connects from 127.0.0.1, one address: the per-client cap of
                            # the work queue (3) would count all of them as one student
                            env={**os.environ, "GAN_STUDIO_DATA": data, "GAN_STUDIO_CACHE": os.path.join(data, "cache"),
                                 "GAN_STUDIO_WORK_PER_CLIENT": "50", **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    if procs is not None:
        procs.append(proc)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, 90, "streamlit")
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)


def settle(at, timeout: float = 300):
    """Heavy page work runs in the server's work queue (ui.work): wait until the queue is idle, then rerun the
    AppTest page (in a browser the status fragment reruns the page by itself)."""
    from ui.work import work_queue

    q = work_queue()
    end = time.time() + timeout
    while (q.running() or q.waiting()) and time.time() < end:
        time.sleep(0.2)
    return at.run()


def tiny_train_app():
    """/train in AppTest with networks small enough to train in a test."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    at.number_input(key="tr_width").set_value(4)
    at.number_input(key="tr_batch").set_value(8)
    at.number_input(key="tr_z").set_value(8).run()
    return at


def train_job(at):
    """The /train AppTest session's job."""
    from ui.train.views import job_manager

    return job_manager().get(at.session_state["train_owner"])


# ----------------------------------------------------------------------------- inputs

def image_zip(seed: int, n: int = 12, size: tuple = (90, 70), fmt: str = "PNG") -> bytes:
    """A zip of ``n`` random RGB pictures of ``size`` (w, h) in ``fmt``, named img0.png, img1.png, ..."""
    g = np.random.default_rng(seed)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(n):
            b = io.BytesIO()
            Image.fromarray(g.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(b, fmt)
            zf.writestr(f"img{i}.{fmt.lower()}", b.getvalue())
    return buf.getvalue()


class Boom:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


class LookupGenerator(nn.Module):
    """A 'generator' that returns real digits: image i of class y, picked by z's first coordinate."""
    noise = "gaussian"   # what every generator declares: how its z is drawn

    def __init__(self, conditional: bool, collapse_to: int | None = None):
        super().__init__()
        ds = _digits()
        self.images, self.labels = ds.batch(), ds.labels
        self.z_dim, self.num_classes, self.img_shape = 4, 10 if conditional else 0, (1, 28, 28)
        self.collapse_to = collapse_to
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, z, y=None):
        i = (z[:, 0].abs() * 1000).long() % 500
        if self.collapse_to is not None:
            y = torch.full_like(i, self.collapse_to)
        elif y is None:
            y = (z[:, 1].abs() * 1000).long() % 10
        return self.images[y * 500 + i]


def _digits():
    from gan_core.data.datasets import load_mnist5k

    return load_mnist5k()


# ----------------------------------------------------------------------------- browser pages

def wait_ready(page):
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)


def main_image_src(page):
    return page.locator("[data-testid='gs-image'] img").nth(0).get_attribute("src")


def plotly_array(value):
    """A plotly trace array as sent to the browser: a list, or plotly 6's typed array {dtype, bdata, shape}."""
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return a.reshape([int(n) for n in str(shape).split(",")]) if shape else a
    return np.asarray(value)


def metric(page, label):
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


def step(page) -> int:
    return int(metric(page, "Step").replace(",", ""))


def stroke(page, box, points):
    """Press, drag through points (fractions of the canvas), release: one stroke as a hand would draw it."""
    x0, y0 = box["x"], box["y"]
    px = [(x0 + fx * box["width"], y0 + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*px[0])
    page.mouse.down()
    for a, b in zip(px, px[1:]):
        page.mouse.move(*b, steps=8)
    page.mouse.up()


SECRETS = (b"real_side", b"is_real", b"fake_seed", b"real_index", b"correct_choice", b"quiz_token")


def open_quiz(browser, app_server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    frames = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(
        f if isinstance(f, bytes) else f.encode())))
    page.goto(app_server + "/quiz", wait_until="domcontentloaded")
    page.get_by_text("I am").wait_for(timeout=120_000)
    wait_ready(page)
    return ctx, page, frames


# ----------------------------------------------------------------------------- PostgreSQL

def _bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    return (["runuser", "-u", "postgres", "--"] + cmd) if os.geteuid() == 0 else cmd


def start_cluster() -> tuple[str, callable]:
    """initdb + pg_ctl start on a free port, trust auth on 127.0.0.1; returns (server URL, stop function)."""
    pgbin = _bin()
    if pgbin is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="gan_pg_"))
    os.chmod(root, 0o777)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = root / "data"
    subprocess.run(_as_postgres([str(pgbin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                 "--no-sync"]), check=True, capture_output=True)
    subprocess.run(_as_postgres([str(pgbin / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                                 f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"]),
                   check=True, capture_output=True)

    def stop():
        subprocess.run(_as_postgres([str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)

    return f"postgresql+psycopg://postgres@127.0.0.1:{port}", stop


def server_url() -> tuple[str | None, callable]:
    url = os.environ.get("GAN_STUDIO_TEST_PG")
    if url:
        return url.rsplit("/", 1)[0] if url.count("/") > 2 else url, lambda: None
    try:
        return start_cluster()
    except (RuntimeError, subprocess.CalledProcessError, FileNotFoundError) as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL tests must run in CI: {e}")
        return None, lambda: None


def new_database(server: str) -> tuple[str, callable]:
    """CREATE DATABASE with a random name; returns (its URL, drop function)."""
    from sqlalchemy import create_engine, text

    name = "t_" + secrets.token_hex(6)
    admin = create_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))

    def drop():
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return f"{server}/{name}", drop


def wait_port(port: int, timeout: float = 30) -> None:
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")
