"""AppTest of /latent on the shipped models: every control once, no exception."""
import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, settle

pytestmark = pytest.mark.pretrained
PAGE = str(ROOT / "app_pages/latent.py")


def inline_images(at) -> list[str]:
    """The data URIs of the page's inline images (the current image first, then the direction strip)."""
    import re

    return [m for e in at.get("html") for m in re.findall(r'src="(data:image/png;base64,[^"]+)"', e.proto.body)]


@pytest.fixture(scope="module")
def at():
    return AppTest.from_file(PAGE, default_timeout=180).run()


def test_renders_with_default_model_and_url_state(at):
    assert not at.exception
    assert at.selectbox(key="model").value == "mnist-dcgan"
    assert at.query_params["model"] == ["mnist-dcgan"] or at.query_params["model"] == "mnist-dcgan"
    labels = [s.label for s in at.slider]
    assert sum(lbl.startswith("Direction") for lbl in labels) == 8


def test_every_latent_control(at):
    at.number_input(key="lat_seed").set_value(42).run()
    assert not at.exception and str(at.query_params["seed"]).strip("[]'") == "42"
    at.button[0].click().run()  # new random seed
    assert not at.exception
    at.slider(key="lat_psi").set_value(0.7).run()
    before = inline_images(at)
    at.slider(key="lat_dir0").set_value(2.0).run()
    assert "0:2" in str(at.query_params["d"])
    after = inline_images(at)
    assert len(before) == len(after) == 2 and before[0] != after[0]
    at.multiselect(key="lat_dims").set_value([3]).run()
    at.slider(key="lat_z3").set_value(-1.5).run()
    assert "3:-1.5" in str(at.query_params["z"])
    at.selectbox(key="lat_strip_dir").set_value(2).run()
    reset = next(b for b in at.button if b.label == "Reset sliders")
    reset.click().run()
    assert at.slider(key="lat_dir0").value == 0.0 and not at.exception
    at.text_input(key="lat_waypoints").set_value("3, 9").run()
    at.slider(key="lat_steps").set_value(5).run()
    at.checkbox(key="lat_from_current").check().run()
    at.text_input(key="lat_waypoints").set_value("3").run()
    assert any("2 to 8" in e.value for e in at.error)
    at.text_input(key="lat_waypoints").set_value("1, 7").run()
    at.radio(key="lat_map_method").set_value("tsne").run()
    at.select_slider(key="lat_map_n").set_value(200).run()
    at.selectbox(key="lat_ar_a").set_value(9).run()
    assert not at.exception


def test_url_opens_the_same_view():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params.update({"model": "mnist-cgan", "seed": "77", "psi": "0.5", "label": "4", "d": "1:-2"})
    at.run()
    assert not at.exception
    assert at.selectbox(key="model").value == "mnist-cgan"
    assert at.number_input(key="lat_seed").value == 77 and at.slider(key="lat_psi").value == 0.5
    assert at.selectbox(key="lat_label").value == 4 and at.slider(key="lat_dir1").value == -2.0


def test_a_link_restores_the_interpolation_and_a_found_z_says_where_it_came_from():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.text_input(key="lat_waypoints").set_value("3, 9, 12").run()
    at.slider(key="lat_steps").set_value(5).run()
    at.checkbox(key="lat_from_current").check().run()
    params = {k: str(v).strip("[]'") for k, v in at.query_params.items()}
    assert params["ws"] == "3, 9, 12" and params["steps"] == "5" and params["from"] == "1"
    again = AppTest.from_file(PAGE, default_timeout=180)
    again.query_params.update(params)
    again.run()
    assert not again.exception and not again.warning
    assert again.text_input(key="lat_waypoints").value == "3, 9, 12"
    assert again.slider(key="lat_steps").value == 5 and again.checkbox(key="lat_from_current").value

    import torch

    from gan_core.latent.inversion import encode_z
    link = AppTest.from_file(PAGE, default_timeout=180)
    link.query_params.update({"f": encode_z(torch.zeros(64))})
    link.run()
    assert not link.exception
    said = " ".join(c.value for c in link.caption)
    assert "came with the link you opened" in said and "(below)" not in said


def test_the_classifier_bars_show_every_class_in_order():
    from ui.latent.views import probability_bars

    probs = [0.0] * 10
    probs[7], probs[1] = 0.75, 0.25
    html = probability_bars(probs)
    assert html.count('<span style="width:1.2em;text-align:right">') == 10
    assert "width:75.0%" in html and "width:25.0%" in html and ">75%<" in html
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    bodies = [str(e.proto) for e in at.get("html")]
    assert any("gs-class-bars" in b for b in bodies)


def test_the_latent_map_is_drawn_after_the_first_paint():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception
    assert not at.get("plotly_chart") and any("Drawing the latent map" in c.value for c in at.caption)
    at.run()  # what the browser's timer does once it has drawn the page: the map replaces the placeholder
    # drawn, or queued (a result another test in this process already computed is shared: the queue keeps
    # finished results for everyone)
    waiting = [p.proto.text for p in at.get("progress")] + [i.value for i in at.info] + [c.value for c in at.caption]
    assert not at.exception and (at.get("plotly_chart") or any("latent map" in m for m in waiting)), waiting
    assert not any("asked for first" in m for m in waiting)   # nobody asked: the page started it by itself
    for _ in range(3):
        if at.get("plotly_chart"):
            break
        settle(at)
    assert not at.exception and len(at.get("plotly_chart")) == 1
    assert not any("Drawing the latent map" in c.value for c in at.caption)
    # ten colours that stay apart and a marker shape per class (Streamlit's theme pairs light/dark hues)
    import json

    from ui.palette import DIGIT_COLORS, DIGIT_SYMBOLS
    traces = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    by_class = {t["name"]: (t["marker"]["color"], t["marker"]["symbol"]) for t in traces}
    for c, (color, symbol) in by_class.items():
        assert color == DIGIT_COLORS[int(c)] and symbol == DIGIT_SYMBOLS[int(c)]
    assert len({c for c, _ in by_class.values()}) == len(by_class) >= 8


def test_a_self_conditioned_model_says_which_cluster_z_is_in():
    import gan_core
    from gan_core.latent.sampling import seeds_to_z

    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["model"] = "mnist-dcgan"
    at.query_params["seed"] = "7"
    at.run()
    G = gan_core.load_generator("mnist-dcgan")
    assert G.clusters == 50
    want = int(G.cluster_of(seeds_to_z([7], G.z_dim, "gaussian"))[0])
    notes = [c.value for c in at.caption if c.value.startswith("Self-conditioned model")]
    assert len(notes) == 1 and f"cluster **{want}**" in notes[0]
    at2 = AppTest.from_file(PAGE, default_timeout=180)
    at2.query_params["model"] = "mnist-cgan"
    at2.run()
    assert not at2.exception and not any(c.value.startswith("Self-conditioned") for c in at2.caption)


@pytest.mark.parametrize("params, says", [
    ({"seed": "-3"}, "`seed`=“-3” must be between"),
    ({"psi": "1e300"}, "`psi`=“1e300” must be between"),
    ({"psi": "nan"}, "not a finite number"),
    ({"seed": "abc"}, "not a whole number"),
    ({"d": "0:9,99:1"}, "direction 99 does not exist"),
    ({"d": "0:1e300"}, "not a finite offset"),
    ({"z": "3:x"}, "`z`"),
    ({"model": "../../etc/passwd"}, "no model called"),
    ({"steps": "-1"}, "`steps`=“-1” must be between"),
    ({"steps": "nan"}, "not a whole number"),
    ({"from": "99999999999"}, "`from`"),
    ({"ws": "x" * 5000}, "is too long"),
])
def test_bad_link_values_get_a_message_not_an_error(params, says):
    """Shared links are input: every query parameter is checked like its widget (issue: /latent?seed=-3 and
    ?psi=1e300 showed Streamlit's error box)."""
    at = AppTest.from_file(PAGE, default_timeout=180)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    assert any(says in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.number_input(key="lat_seed").value >= 0
    assert 0.0 <= at.slider(key="lat_psi").value <= 1.5


@pytest.mark.parametrize("text, says", [("1", "Give 2 to 8"), ("0-99999999999", "at most 8 seeds"),
                                        ("99999999999999999999, 3", "whole numbers from 0"), ("a, b", "could not read")])
def test_bad_waypoints_get_a_message(text, says):
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.text_input(key="lat_waypoints").set_value(text).run()
    assert not at.exception and any(says.lower() in e.value.lower() for e in at.error), [e.value for e in at.error]


@pytest.mark.parametrize("params", [
    {"model": "[Your session expired: sign in](http://evil.example/login)"},
    {"seed": "`[Your session expired: sign in](http://evil.example/login)`"},
    {"model": "x` [sign in](http://evil.example) `"},
])
def test_link_values_are_shown_as_plain_text_never_as_markdown(params):
    """Hardening item 12: a shared link's value reaches a warning as the characters it is, not as a link (and
    a backtick cannot break out of a code span)."""
    import re

    at = AppTest.from_file(PAGE, default_timeout=180)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception and at.warning
    for w in at.warning:
        assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", w.value), w.value   # no unescaped [text](url)
        assert not re.search(r"(?i)https?\\?:", w.value), w.value              # no bare-URL autolink either
        assert "sign in" in w.value


def test_a_pruned_saved_run_leaves_the_picker_and_its_title_alone(tmp_path):
    """A saved run the server has pruned is dropped from the picker; the box is still titled "Model" (the
    loop that dropped it used to rebind the picker's ``label`` argument to the run's name)."""
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["my_models"] = {"my run gone-step100": str(tmp_path / "gone")}
    at.run()
    assert not at.exception
    box = at.selectbox(key="model")
    assert box.label == "Model" and "my run gone-step100" not in box.options
