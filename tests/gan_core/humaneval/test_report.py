"""The session report and the images of arm sessions, end to end through the Store."""
import re

import pytest

from gan_core.humaneval import normalise, read_image_zip, report
from gan_core.humaneval.sources import SessionImages
from gan_core.humaneval.store import Store
from tests.helpers import image_zip


def image_set(seed, n=12, size=(100, 80), fmt="PNG"):
    return image_zip(seed, n, size, fmt)


@pytest.fixture
def session(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    sets = {0: image_set(0, fmt="JPEG"), 1: image_set(1), 2: image_set(2, size=(300, 200), fmt="WEBP")}
    images = {k: [normalise(r, 64, "RGB") for r in read_image_zip(v, f"set {k}")] for k, v in sets.items()}
    arms = [{"name": "<b>Alpha</b>", "kind": "images"}, {"name": "Beta", "kind": "images"},
            {"name": "DCGAN", "kind": "model", "model": "mnist-dcgan"}]
    code, key = store.create_session("x", "pair", 9, arms=arms, images=images, display_size=64, seed=4)
    return store, code, key


@pytest.mark.pretrained
def test_every_image_of_a_mixed_session_has_the_session_form_and_the_report_ranks_the_arms(session):
    store, code, key = session
    src = SessionImages(store, store.session(code))
    for p in range(4):
        token, _ = store.join(code, f"P{p}")
        while (t := store.next_trial(token)) is not None:
            arrays = src.trial_arrays(t)
            assert [a.shape for a in arrays] == [(64, 64, 3)] * 2  # the app model's digit too
            wrong = ("left" if t.correct_choice == "right" else "right")
            store.answer(token, t.index, wrong if (t.arm == 0 or (t.arm == 1 and p % 2)) else t.correct_choice,
                         800)
    html = report(code, key, store=store)
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "http://" not in html.split("xmlns")[0]
    assert "&lt;b&gt;Alpha&lt;/b&gt;" in html and "<b>Alpha</b>" not in html   # names are escaped
    ranking = re.findall(r"<tr><td>(\d)</td><td>([^<]+)</td>", html)
    assert [name for _, name in ranking] == ["&lt;b&gt;Alpha&lt;/b&gt;", "Beta", "DCGAN"]
    assert html.count("data:image/png;base64,") >= 3 and "Pairwise differences" in html
    assert "4 joined; 4 kept" in html
    with pytest.raises(Exception):
        report(code, "not the key", store=store)
