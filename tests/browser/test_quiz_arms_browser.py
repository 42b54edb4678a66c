"""Real-browser quiz of several models from uploaded image sets: the teacher uploads zips, participants
answer (HYPE-time: the image is masked after a timed exposure and the achieved exposure is stored), the
dashboard ranks the arms; nothing the browser receives tells real from fake."""
import io
import re
import zipfile

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.helpers import SECRETS, open_quiz, wait_ready


pytestmark = [pytest.mark.browser, pytest.mark.pretrained]


def image_zip(path, seed, n=12, fmt="PNG", size=(120, 90)):
    g = np.random.default_rng(seed)
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(n):
            b = io.BytesIO()
            exif = Image.Exif()
            exif[0x0131] = f"generator-{seed}"  # metadata that must not reach the browser
            Image.fromarray(g.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(b, fmt, exif=exif)
            zf.writestr(f"sample_{seed}_{i}.{fmt.lower()}", b.getvalue())
    return str(path)


def create_comparison(teacher, tmp_path, protocol_label, trials):
    teacher.get_by_text("Running a session", exact=True).click()
    teacher.get_by_role("tab", name="Compare several models").click()
    uploads = teacher.locator("[data-testid='stFileUploader']").filter(has_text="Generated images")
    uploads.locator("input[type=file]").set_input_files(
        [image_zip(tmp_path / "alpha.zip", 1), image_zip(tmp_path / "beta.zip", 2, fmt="JPEG"),
         image_zip(tmp_path / "gamma.zip", 3, fmt="WEBP")])
    real = teacher.locator("[data-testid='stFileUploader']").filter(has_text="Real images")
    real.locator("input[type=file]").set_input_files(image_zip(tmp_path / "real.zip", 0, n=20, fmt="JPEG"))
    expect(teacher.get_by_text("gamma.zip")).to_be_visible(timeout=30_000)
    expect(teacher.get_by_text("real.zip")).to_be_visible(timeout=30_000)
    teacher.get_by_text(protocol_label, exact=True).click()
    form = teacher.locator("[data-testid='stForm']").filter(has_text="Compare several models")
    for label, value in (("Trials per person", trials), ("Warm-up questions", 0)):
        box = form.get_by_role("spinbutton", name=label)
        box.fill(str(value))
        box.press("Tab")
    teacher.get_by_role("button", name="Create comparison").click()
    code_box = teacher.locator("[data-testid='stMetric']").filter(has_text="Join code")
    expect(code_box).to_be_visible(timeout=120_000)
    return code_box.locator("[data-testid='stMetricValue']").inner_text().strip()


def join(student, code, nick):
    student.get_by_role("textbox", name="Join code").fill(code)
    student.get_by_role("textbox", name="Nickname").fill(nick)
    student.get_by_role("button", name="Join", exact=True).click()


def test_hype_time_participant_sees_mask_and_achieved_exposures_are_stored(browser, app_server, tmp_path):
    tctx, teacher, _ = open_quiz(browser, app_server)
    code = create_comparison(teacher, tmp_path, "HYPE-time (timed exposures)", trials=6)
    sctx, student, frames = open_quiz(browser, app_server)
    join(student, code, "Tess")
    for i in range(6):
        expect(student.get_by_text(f"{i} of 6 answered")).to_be_visible(timeout=60_000)
        wait_ready(student)
        root = student.locator(".hype-root")
        expect(root.locator("button", has_text="Real")).to_be_enabled(timeout=30_000)  # after the mask
        mask = root.locator("img.layer").nth(1)
        assert mask.evaluate("el => getComputedStyle(el).visibility") == "visible"
        assert root.locator("img.layer").nth(0).evaluate("el => getComputedStyle(el).visibility") == "hidden"
        achieved = float(root.get_attribute("data-achieved"))
        assert 300 < achieved < 800  # the staircase starts at 490 ms (one frame either side on a real screen)
        student.keyboard.press("ArrowLeft" if i % 2 else "ArrowRight")
    expect(student.get_by_text("Done")).to_be_visible(timeout=60_000)
    assert all(s not in f for f in frames for s in SECRETS + (b"generator-", b"sample_"))
    expect(teacher.get_by_text("1 participant, 6 answers")).to_be_visible(timeout=30_000)
    expect(teacher.get_by_text("Exposure timing in participants' browsers")).to_be_visible(timeout=30_000)
    text = teacher.get_by_text("Exposure timing in participants' browsers").inner_text()
    assert float(re.search(r"median \|achieved − requested\| ([\d.]+) ms", text).group(1)) < 50
    assert teacher.locator("[data-testid='stException']").count() == 0
    assert student.locator("[data-testid='stException']").count() == 0
    sctx.close()
    tctx.close()


def test_three_arm_image_sets_dashboard_ranks_the_arms_and_nothing_leaks(browser, app_server, tmp_path):
    tctx, teacher, _ = open_quiz(browser, app_server)
    code = create_comparison(teacher, tmp_path, "HYPE∞ (no time limit)", trials=6)
    for nick in ("Ann", "Ben"):
        sctx, student, frames = open_quiz(browser, app_server)
        join(student, code, nick)
        expect(student.get_by_role("button", name=re.compile("^Real"))).to_be_visible(timeout=60_000)
        img = student.locator("[data-testid='stImage'] img")
        expect(img).to_have_count(1, timeout=30_000)
        html = student.content()
        for word in ("real_side", "is_real", "fake_seed", "alpha", "gamma", "sample_", "generator-"):
            assert word not in html
        assert re.search(r"/media/[0-9a-f]+\.png$", img.get_attribute("src"))
        with_src = img.get_attribute("src")
        body = student.request.get(app_server + with_src if with_src.startswith("/") else with_src).body()
        assert body[:8] == b"\x89PNG\r\n\x1a\n" and b"eXIf" not in body and b"generator-" not in body
        for i in range(6):
            expect(student.get_by_text(f"{i} of 6 answered")).to_be_visible(timeout=30_000)
            wait_ready(student)
            student.wait_for_timeout(300)
            student.keyboard.press("ArrowLeft" if (i + len(nick)) % 2 else "ArrowRight")
        expect(student.get_by_text("Done")).to_be_visible(timeout=30_000)
        assert all(s not in f for f in frames for s in SECRETS + (b"generator-", b"sample_"))
        sctx.close()
    expect(teacher.get_by_text("2 participants, 12 answers")).to_be_visible(timeout=30_000)
    expect(teacher.get_by_text("Ranking", exact=True)).to_be_visible()
    grid = teacher.locator("[data-testid='stDataFrame']").first
    for name in ("alpha", "beta", "gamma"):
        expect(grid).to_contain_text(name)
    with teacher.expect_download(timeout=60_000) as dl:
        teacher.get_by_role("button", name="Download report (HTML)").click()
    report = open(dl.value.path(), encoding="utf-8").read()
    assert "Pairwise differences" in report and "<script" not in report
    assert teacher.locator("[data-testid='stException']").count() == 0
    tctx.close()
