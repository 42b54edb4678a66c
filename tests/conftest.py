"""Shared fixtures: a running Streamlit server, a headless Chromium, PostgreSQL. Helpers are in tests/helpers.py."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from tests.helpers import CHROMIUM, CHROMIUM_ARGS, run_app


@pytest.fixture(autouse=True)
def _few_threads():
    torch.set_num_threads(2)


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
    from tests.helpers import server_url

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
    from tests.helpers import new_database

    url, drop = new_database(request.getfixturevalue("pg_server"))
    yield url
    drop()


