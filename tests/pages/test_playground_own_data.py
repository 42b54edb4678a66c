"""AppTest of the playground's "Your own data": paste or upload points, train on them, share them in the link."""
import numpy as np
from streamlit.testing.v1 import AppTest

from gan_core.data import drawn_points as drawn
from tests.helpers import ROOT

PAGE = str(ROOT / "app_pages/playground.py")


def three_blobs(n_each: int = 40) -> str:
    rng = np.random.default_rng(0)
    pts = np.concatenate([c + 0.1 * rng.standard_normal((n_each, 2)) for c in ([-2, 0], [0, 2], [2, -1])])
    return "x,y\n" + "\n".join(f"{x:.3f},{y:.3f}" for x, y in pts)


def own_data(at: AppTest, text: str) -> AppTest:
    at.selectbox(key="pg_dataset").set_value("drawn").run()
    at.text_area(key="pg_csv_text").input(text).run()
    at.button(key="pg_csv_use").click().run()
    return at


def warnings(at) -> str:
    return " ".join(w.value for w in at.warning)


def test_own_data_waits_for_points_then_trains_on_pasted_ones():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.selectbox(key="pg_dataset").set_value("drawn").run()
    assert not at.exception
    assert any("Paint the real distribution" in i.value for i in at.info)
    assert not at.get("plotly_chart")          # nothing to train on yet: no plot, no crash
    at = own_data(at, three_blobs())
    assert not at.exception
    pg = at.session_state["pg"]
    assert pg.config.dataset == "drawn" and len(pg.config.points) == 120
    assert at.metric[1].value == "0/3"         # three groups of points: three modes, none covered yet
    assert "3 modes" in " ".join(c.value for c in at.caption)
    link = at.query_params["pts"]
    link = link[0] if isinstance(link, list) else link
    np.testing.assert_array_equal(drawn.decode_points(link), np.array(pg.config.points, np.float32))
    at.button[[b.label for b in at.button].index("One step")].click().run()
    assert at.session_state["pg"].step_count == 1 and not at.exception
    # a preset keeps your data
    at.selectbox(key="pg_preset").set_value("Mode collapse on purpose").run()
    assert at.session_state["pg"].config.points == pg.config.points
    assert at.number_input(key="pg_lr_g").value == 2e-3


def test_fix_it_restarts_on_your_own_data():
    at = own_data(AppTest.from_file(PAGE, default_timeout=60).run(), three_blobs())
    at.selectbox(key="pg_preset").set_value("Mode collapse on purpose").run()
    points = at.session_state["pg"].config.points
    at.button(key="pg_fix_go").click().run()
    assert not at.exception
    cfg = at.session_state["pg"].config
    assert cfg.points == points and at.session_state["pg_playing"]


def test_bad_points_get_a_sentence_and_keep_the_page():
    at = own_data(AppTest.from_file(PAGE, default_timeout=60).run(), "x,y\n1,2\n3,abc\n")
    assert not at.exception and "Line 3: 'abc' is not a number" in warnings(at)
    assert at.session_state["pg"].config.dataset == "ring8"    # nothing trains on the bad set
    assert not at.get("plotly_chart")
    at.text_area(key="pg_csv_text").input("5,5\n5,5\n").run()
    at.button(key="pg_csv_use").click().run()
    assert not at.exception and "same point" in warnings(at)


def test_a_large_set_is_offered_as_a_download_not_a_link():
    rng = np.random.default_rng(1)
    text = "\n".join(f"{x:.3f},{y:.3f}" for x, y in rng.uniform(-2, 2, (3000, 2)))
    at = own_data(AppTest.from_file(PAGE, default_timeout=60).run(), text)
    assert not at.exception and len(at.session_state["pg"].config.points) == 3000
    assert "pts" not in at.query_params
    assert "too large for a link" in " ".join(c.value for c in at.caption)
    assert any(getattr(e, "proto", None) is not None and "CSV" in str(e.proto) for e in at.get("download_button"))


def test_a_link_brings_its_points_and_a_bad_link_gets_a_warning():
    pts, _ = drawn.parse_csv(three_blobs(20))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["pts"] = drawn.encode_points(pts)
    at.run()
    assert not at.exception
    assert at.selectbox(key="pg_dataset").value == "drawn"
    np.testing.assert_array_equal(np.array(at.session_state["pg"].config.points, np.float32), pts)
    bad = AppTest.from_file(PAGE, default_timeout=60)
    bad.query_params["pts"] = "not-a-point-set"
    bad.run()
    assert not bad.exception and "could not be used" in warnings(bad)
    assert bad.session_state["pg"].config.dataset == "ring8"
