"""Real-browser checks of what only a browser shows: painted images, downloads, the class grid."""
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.helpers import main_image_src, plotly_array, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.pretrained]


def test_latent_slider_changes_the_image_and_gif_downloads(app_server, page):
    page.goto(app_server + "/latent?model=mnist-dcgan&seed=3", wait_until="domcontentloaded")
    page.get_by_text("Direction 1", exact=True).wait_for(timeout=120_000)
    wait_ready(page)
    before = main_image_src(page)
    slider = page.get_by_role("slider").nth(1)  # truncation is first, then Direction 1
    slider.focus()
    for _ in range(4):
        slider.press("ArrowRight")
    page.wait_for_function("(b) => { const i = document.querySelector(\"[data-testid='gs-image'] img\"); "
                           "return i && i.src !== b && i.complete && i.naturalWidth === 28; }", arg=before,
                           timeout=30_000)
    assert main_image_src(page) != before
    expect(page).to_have_url(re.compile(r"[?&]d=0"), timeout=30_000)  # the view is in the link
    assert page.locator("[data-testid='stException']").count() == 0
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_role("button", name="slerp as GIF").click()
    gif = Image.open(io.BytesIO(open(dl.value.path(), "rb").read()))
    assert gif.format == "GIF" and gif.n_frames > 5


def test_latent_image_comes_first_and_the_map_follows_by_itself(app_server, page):
    page.add_init_script("""new MutationObserver(() => {
        if (!window.__imageAt && document.querySelector("[data-testid='gs-image'] img")) window.__imageAt = performance.now();
        if (!window.__mapAt && document.querySelector('.js-plotly-plot')) window.__mapAt = performance.now();
      }).observe(document, {subtree: true, childList: true});""")
    page.goto(app_server + "/latent?model=mnist-dcgan&seed=11", wait_until="domcontentloaded")
    page.wait_for_function("() => window.__mapAt", timeout=120_000)  # no click needed
    image_at, map_at = page.evaluate("[window.__imageAt, window.__mapAt]")
    assert image_at is not None and image_at < map_at
    points = page.evaluate("() => document.querySelector('.js-plotly-plot').calcdata.reduce((n, trace) => n + trace.length, 0)")
    assert points == 500  # the default number of samples on the map
    assert page.locator("[data-testid='stException']").count() == 0


def test_conditional_class_grid_has_ten_columns(app_server, page):
    page.goto(app_server + "/conditional", wait_until="domcontentloaded")
    page.get_by_text("One z, every class").wait_for(timeout=120_000)
    wait_ready(page)
    cols = page.locator(".st-key-class_grid [data-testid='stColumn']")
    expect(cols).to_have_count(10, timeout=60_000)
    for k in range(10):
        expect(cols.nth(k).locator("img")).to_have_count(1, timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0


def test_evaluate_runs_a_small_evaluation(app_server, page):
    page.goto(app_server + "/evaluate", wait_until="domcontentloaded")
    page.get_by_role("button", name="Run evaluation").wait_for(timeout=120_000)
    wait_ready(page)
    page.get_by_role("button", name="Run evaluation").click()
    page.get_by_text("Memorization check").wait_for(timeout=480_000)  # two models, CAS included
    expect(page.locator("[data-testid='stDataFrame']")).to_have_count(1, timeout=120_000)
    assert page.locator("[data-testid='stException']").count() == 0


def test_clicking_a_point_of_the_latent_map_makes_it_the_current_image(app_server, page):
    """The map invites a click: it must select that seed, not crash the page (customdata came as a dict)."""
    page.goto(app_server + "/latent?model=mnist-dcgan&seed=11", wait_until="domcontentloaded")
    page.wait_for_function("() => { const g = document.querySelector('.js-plotly-plot'); "
                           "return g && g.calcdata && g.calcdata.length > 0; }", timeout=180_000)
    wait_ready(page)
    before = main_image_src(page)
    page.locator(".js-plotly-plot").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    cd, k, x, y = page.evaluate("""() => {
        const gd = document.querySelector('.js-plotly-plot'), L = gd._fullLayout, box = gd.getBoundingClientRect();
        const k = Math.floor(gd.calcdata[0].length / 2), p = gd.calcdata[0][k];
        return [gd.data[0].customdata, k, box.left + L._size.l + L.xaxis.l2p(p.x), box.top + L._size.t + L.yaxis.l2p(p.y)];
    }""")
    seed = int(plotly_array(cd)[k][0])
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    assert seed != 11
    page.mouse.click(x, y)
    expect(page).to_have_url(re.compile(rf"[?&]seed={seed}(&|$)"), timeout=60_000)
    page.wait_for_function("(b) => { const i = document.querySelector(\"[data-testid='gs-image'] img\"); "
                           "return i && i.src !== b; }", arg=before, timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("This app has encountered an error").count() == 0


