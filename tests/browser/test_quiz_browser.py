"""Real-browser quiz: a participant completes a session and the instructor's dashboard shows the result;
and nothing the browser receives before an answer tells which image is real."""
import re

import pytest
from playwright.sync_api import expect

from tests.helpers import SECRETS, open_quiz, wait_ready


pytestmark = [pytest.mark.browser, pytest.mark.pretrained]
def test_participant_completes_and_dashboard_scores(browser, app_server):
    tctx, teacher, _ = open_quiz(browser, app_server)
    teacher.get_by_text("Running a session", exact=True).click()
    teacher.get_by_role("button", name="Create session", exact=True).click()
    code_box = teacher.locator("[data-testid='stMetric']").filter(has_text="Join code")
    expect(code_box).to_be_visible(timeout=60_000)
    code = code_box.locator("[data-testid='stMetricValue']").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", code)

    sctx, student, frames = open_quiz(browser, app_server)
    student.get_by_role("textbox", name="Join code").fill(code)
    student.get_by_role("textbox", name="Nickname").fill("Grace")
    student.get_by_role("button", name="Join", exact=True).click()
    expect(student.get_by_role("button", name=re.compile("^Left is real"))).to_be_visible(timeout=60_000)
    imgs = student.locator("[data-testid='stImage'] img")
    expect(imgs).to_have_count(2, timeout=30_000)

    # integrity: before answering, nothing tells the real image apart
    html = student.content()
    for word in ("real_side", "is_real", "fake_seed", "correct"):
        assert word not in html
    a, b = imgs.nth(0), imgs.nth(1)
    attrs = "el => Array.from(el.attributes).filter(x => x.name !== 'src').map(x => x.name + '=' + x.value)"
    assert a.evaluate(attrs) == b.evaluate(attrs)
    for src in (a.get_attribute("src"), b.get_attribute("src")):
        assert re.search(r"/media/[0-9a-f]+\.png$", src), src
    assert all(s not in f for f in frames for s in SECRETS)

    for i in range(20):  # the default session has 20 trials; the arrow key answers
        expect(student.get_by_text(f"{i} of 20 answered")).to_be_visible(timeout=30_000)
        wait_ready(student)  # the rerun has finished: the buttons on screen belong to this trial
        student.wait_for_timeout(400)  # a person's reaction time; shortcuts bind as the new buttons mount
        student.keyboard.press("ArrowLeft" if i % 2 else "ArrowRight")
    expect(student.get_by_text("Done")).to_be_visible(timeout=30_000)
    expect(student.locator("[data-testid='stMetric']").filter(has_text="You were fooled")).to_be_visible()
    assert all(s not in f for f in frames for s in SECRETS)

    expect(teacher.get_by_text("1 participant, 20 answers")).to_be_visible(timeout=30_000)  # live refresh
    expect(teacher.locator("[data-testid='stMetric']").filter(has_text="HYPE")).to_be_visible()
    teacher.wait_for_timeout(3500)  # the dashboard keeps refreshing; the download must still work
    with teacher.expect_download(timeout=30_000) as dl:
        teacher.get_by_role("button", name="Download answers (CSV)").click()
    text = open(dl.value.path()).read().splitlines()
    assert len(text) == 21 and text[0].startswith("nickname") and "Grace" in text[1]
    teacher.get_by_role("button", name="Close session", exact=True).click()
    expect(teacher.get_by_text("Closed.")).to_be_visible(timeout=30_000)
    assert teacher.locator("[data-testid='stException']").count() == 0
    assert student.locator("[data-testid='stException']").count() == 0
    sctx.close()
    tctx.close()
