"""Real-browser check of "Your own data" in the playground: paint two strokes and a dot with the mouse, train on
them, and see three modes on the plot and the set in the link; the link opens the same set in a new tab."""
import re

import pytest
from playwright.sync_api import expect

from tests.helpers import stroke, wait_ready


pytestmark = pytest.mark.browser


def test_paint_your_own_data_train_on_it_and_share_it(app_server, page, browser):
    page.goto(app_server + "/playground", wait_until="domcontentloaded")
    page.get_by_text("Settings (changing one restarts training)").wait_for(timeout=120_000)
    wait_ready(page)
    page.get_by_text("Settings (changing one restarts training)").click()
    page.locator("[data-testid='stSelectbox']").filter(has_text="Data").click()
    page.get_by_role("option", name="Your own data (draw or CSV)").click()
    page.get_by_text("Paint the real distribution").wait_for(timeout=60_000)
    canvas = page.locator("canvas.upper-canvas").first
    canvas.scroll_into_view_if_needed()
    expect(canvas).to_be_visible(timeout=60_000)
    box = canvas.bounding_box()

    def settled():  # each stroke reaches the server as a rerun: let it start, then finish
        page.wait_for_timeout(1000)
        wait_ready(page)

    stroke(page, box, [(0.15, 0.2), (0.3, 0.25), (0.4, 0.2)])     # a stroke upper left
    settled()
    stroke(page, box, [(0.7, 0.75), (0.85, 0.8)])                  # a stroke lower right
    settled()
    page.get_by_text("Dots", exact=True).click()                     # a dot: one click, one blob
    settled()
    page.mouse.click(box["x"] + 0.2 * box["width"], box["y"] + 0.8 * box["height"])
    settled()
    page.get_by_role("button", name="Train on this drawing").click()
    modes = page.locator("[data-testid='stMetric']").filter(has_text="Modes covered")
    expect(modes).to_contain_text("/3", timeout=60_000)
    expect(page).to_have_url(re.compile(r"[?&]pts=[A-Za-z0-9_-]{100,}"), timeout=30_000)
    # the plot draws the painted set's points and its mode centres
    page.wait_for_function("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                           ".some(p => (p.data || []).some(t => t.name === 'mode centres'))", timeout=60_000)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => { const m = [...document.querySelectorAll(\"[data-testid='stMetric']\")]"
                           ".find(e => e.innerText.startsWith('Step')); return m && parseInt("
                           "m.innerText.replace(/[^0-9]/g, '')) >= 50; }", timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    assert page.locator("[data-testid='stException']").count() == 0
    # the link alone brings the same set to someone else
    other = browser.new_page()
    other.goto(page.url, wait_until="domcontentloaded")
    expect(other.locator("[data-testid='stMetric']").filter(has_text="Modes covered")).to_contain_text(
        "/3", timeout=120_000)
    assert other.locator("[data-testid='stException']").count() == 0
    other.close()
