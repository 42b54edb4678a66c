"""AppTest of /playground: presets, settings, play/step/reset, slow motion, layers."""
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT

PAGE = str(ROOT / "app_pages/playground.py")


def app():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    return at


def btn(at, label):
    return next(b for b in at.button if label in b.label)


def test_renders_plot_and_readouts():
    at = app()
    assert at.selectbox(key="pg_preset").value == "Default"
    assert [m.label for m in at.metric][:3] == ["Step", "Modes covered", "JS divergence"]
    assert at.metric[0].value == "0"
    assert at.get("plotly_chart")


def test_step_play_reset():
    at = app()
    btn(at, "One step").click().run()
    assert at.session_state["pg"].step_count == 1 and at.metric[0].value == "1"
    btn(at, "Play").click().run()  # the fragment trains a batch of steps before each redraw
    assert at.session_state["pg_playing"] and at.session_state["pg"].step_count >= 6
    assert len(at.get("plotly_chart")) == 3  # plane, losses, divergences
    btn(at, "Pause").click().run()
    n = at.session_state["pg"].step_count
    at.run()
    assert at.session_state["pg"].step_count == n
    btn(at, "Reset").click().run()
    assert at.session_state["pg"].step_count == 0


def test_settings_rebuild_and_presets():
    at = app()
    btn(at, "One step").click().run()
    at.selectbox(key="pg_dataset").set_value("moons").run()
    assert at.session_state["pg"].step_count == 0 and at.session_state["pg"].config.dataset == "moons"
    assert at.metric[1].value == "—"  # no modes for a non-mixture
    at.radio(key="pg_noise_dim").set_value(1).run()
    at.selectbox(key="pg_loss").set_value("wgan-gp").run()
    btn(at, "One step").click().run()
    assert not at.exception and at.session_state["pg"].config.n_critic == 1
    at.selectbox(key="pg_preset").set_value("Mode collapse on purpose").run()
    assert at.number_input(key="pg_lr_g").value == 2e-3 and at.selectbox(key="pg_dataset").value == "moons"


def test_slow_motion_explains_each_phase():
    at = app()
    at.number_input(key="pg_ncritic").set_value(2).run()
    at.toggle(key="pg_slow").set_value(True).run()
    btn(at, "Next: D update (1 of 2)").click().run()
    assert any("D update" in i.value and "G did not change" in i.value for i in at.info)
    btn(at, "Next: D update (2 of 2)").click().run()
    btn(at, "Next: G update").click().run()
    assert any("G update" in s.value for s in at.success)
    assert at.session_state["pg"].step_count == 1


def test_layers_toggle():
    at = app()
    at.pills(key="pg_layers").set_value(["fake", "grid"]).run()
    assert not at.exception
    fig = at.get("plotly_chart")[0].proto.spec
    assert "warped grid" in fig and "Heatmap" not in fig.replace("heatmap", "")
