"""Real-browser checks of the live pages: /train updates while training; /playground's points move."""
import re
import time

import pytest
from playwright.sync_api import expect

from tests.helpers import step, wait_ready


pytestmark = [pytest.mark.browser, pytest.mark.pretrained]


def test_train_start_update_pause_step_stop(app_server, page):
    page.goto(app_server + "/train", wait_until="domcontentloaded")
    page.get_by_role("button", name="Start").wait_for(timeout=120_000)
    wait_ready(page)
    page.get_by_role("button", name="Start").click()
    expect(page.locator("[data-testid='stMetric']").filter(has_text="State")).to_contain_text("running",
                                                                                            timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=60_000)
    grid = page.locator("[data-testid='stImage']").filter(has_text="noise vectors").locator("img")
    first_src = grid.get_attribute("src")
    first_step = step(page)
    # the fragment polls once a second: the step count and the sample grid move without any click
    expect(grid).not_to_have_attribute("src", first_src, timeout=60_000)
    # the metric row and the grid are separate elements of the same redraw: poll, do not read once
    end = time.monotonic() + 60
    while step(page) <= first_step and time.monotonic() < end:
        page.wait_for_timeout(250)
    assert step(page) > first_step
    points = page.evaluate("() => document.querySelector('.js-plotly-plot').data[0].x.length")
    assert points >= 2  # the loss chart has a curve
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("[data-testid='stMetric']").filter(has_text="State")).to_contain_text("paused",
                                                                                            timeout=30_000)
    paused_at = step(page)
    page.get_by_role("button", name="One step").click()
    expect(page.locator("[data-testid='stMetric']").filter(has_text="Step").first
           .locator("[data-testid='stMetricValue']")).to_have_text(f"{paused_at + 1:,}", timeout=30_000)
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("[data-testid='stMetric']").filter(has_text="State")).to_contain_text("stopped",
                                                                                            timeout=30_000)
    expect(page.get_by_text("Timeline").first).to_be_visible(timeout=30_000)  # one, after a transient stale copy
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_role("button", name=re.compile(r"Reset$")).click()


def test_playground_points_move_while_playing(app_server, page):
    page.goto(app_server + "/playground", wait_until="domcontentloaded")
    page.get_by_role("button", name="Play").wait_for(timeout=120_000)
    wait_ready(page)
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')", timeout=60_000)
    gen = """() => { const d = document.querySelector('.js-plotly-plot').data.find(t => t.name === 'generated');
                     return d ? [d.x[0], d.y[0]] : null; }"""
    before = page.evaluate(gen)
    assert before is not None
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"(b) => {{ const p = ({gen})(); return p && (p[0] !== b[0] || p[1] !== b[1]); }}",
                           arg=before, timeout=60_000)
    first = step(page)
    # several redraws follow, each after a batch of steps, with no click (however busy the machine is)
    end = time.monotonic() + 60
    while step(page) < max(50, first + 20) and time.monotonic() < end:
        page.wait_for_timeout(500)
    assert step(page) >= max(50, first + 20)
    page.get_by_role("button", name="Pause").click()
    assert page.locator("[data-testid='stException']").count() == 0
