"""Shared fixtures: tiny configs, a running Streamlit server and a headless Chromium for browser tests."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(autouse=True)
def _few_threads():
    torch.set_num_threads(2)


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


@pytest.fixture(scope="session")
def app_server():
    with run_app() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright. Skips locally without Chromium; fails under CI."""
    if not Path(CHROMIUM).exists():
        msg = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
        if os.environ.get("CI") == "true":
            pytest.fail("browser tests must run in CI: " + msg)
        pytest.skip(msg)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("the playwright package is missing in CI")
        pytest.skip("the playwright package is not installed")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    yield pg
    ctx.close()


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server URL (without database), or a skip when PostgreSQL is absent (a failure in CI)."""
    from tests.postgres import server_url

    url, stop = server_url()
    if url is None:
        pytest.skip("PostgreSQL is not installed here (apt-get install postgresql)")
    yield url
    stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The quiz database URL, once for SQLite and once for a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'quiz.sqlite3'}"
        return
    from tests.postgres import new_database

    url, drop = new_database(request.getfixturevalue("pg_server"))
    yield url
    drop()


def settle(at, timeout: float = 300):
    """Heavy page work runs in the server's work queue (ui.work): wait until the queue is idle, then rerun the
    AppTest page (in a browser the status fragment reruns the page by itself)."""
    from ui.work import work_queue

    q = work_queue()
    end = time.time() + timeout
    while (q.running() or q.waiting()) and time.time() < end:
        time.sleep(0.2)
    return at.run()
