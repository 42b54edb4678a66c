"""Real-browser check of issue 15's classroom moment: start "Mode collapse on purpose", keep it as the reference,
press "Fix it", and see the fixed run's samples beside the reference's at the same step, with dashed curves."""
import re

import pytest
from playwright.sync_api import expect

from tests.helpers import step, wait_ready


pytestmark = [pytest.mark.browser, pytest.mark.pretrained]


def test_collapse_keep_as_reference_fix_it_two_grids(app_server, page):
    page.goto(app_server + "/train?preset=Mode+collapse+on+purpose", wait_until="domcontentloaded")
    page.get_by_role("button", name="Start").wait_for(timeout=120_000)
    wait_ready(page)
    page.get_by_role("button", name="Start").click()
    expect(page.locator("[data-testid='stMetric']").filter(has_text="State")).to_contain_text("running",
                                                                                            timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll(\"[data-testid='stImage'] img\").length >= 1",
                           timeout=60_000)
    end_step = step(page) + 20
    while step(page) < end_step:
        page.wait_for_timeout(500)
    page.get_by_role("button", name="Keep as reference").click()
    expect(page.get_by_text(re.compile(r"Reference: .*Mode collapse on purpose, seed 0"))).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Fix it", exact=True).click()
    # the fixed run trains; its grid and the reference's grid at the same step sit side by side
    expect(page.get_by_text(re.compile(r"^Reference \(Mode collapse on purpose, seed 0\) at step \d+"))).to_be_visible(
        timeout=90_000)
    expect(page.get_by_text(re.compile(r"^The same noise vectors at step \d+"))).to_be_visible(timeout=30_000)
    grids = page.locator("[data-testid='stImage'] img")
    assert grids.count() >= 2
    # the charts carry the reference's dashed curves
    names = page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                          ".flatMap(p => p.data.map(t => t.name))")
    assert "reference: D loss" in names and "reference: ‖∇G‖" in names, names
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_role("button", name="Stop").click()
