"""AppTest of /train: presets, every setting, start/pause/step/resume/stop/save, the cap, and opening the run."""
import time

import pytest
from streamlit.testing.v1 import AppTest

from gan_core.training.presets import PRESETS, preset_config
from tests.helpers import ROOT, tiny_train_app, train_job
from ui.train.views import job_manager

pytestmark = pytest.mark.pretrained  # coverage uses the shipped classifier


def button(at, label):
    return next(b for b in at.button if b.label.endswith(label))


def grid_image(at):
    """The sample grid (the watch link's QR code is an image too)."""
    return next(e for e in at.get("image") if "noise vectors" in str(e.proto))


def until(at, predicate, timeout=30):
    end = time.time() + timeout
    while not predicate() and time.time() < end:
        time.sleep(0.2)
    at.run()
    assert predicate()


@pytest.fixture(autouse=True)
def _clean_manager():
    yield
    job_manager().shutdown()


def test_presets_fill_every_setting_and_say_why():
    at = AppTest.from_file(str(ROOT / "app_pages/train.py"), default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="tr_preset").value == "Fast digits"
    assert any("press **Start**" in i.value for i in at.info)
    at.selectbox(key="tr_preset").set_value("Vanishing gradients on purpose").run()
    assert at.selectbox(key="tr_loss").value == "minimax" and at.number_input(key="tr_ncritic").value == 5
    assert any("gradient norm drops" in c.value for c in at.caption)
    at.selectbox(key="tr_preset").set_value("WGAN-GP").run()
    assert at.selectbox(key="tr_model").value == "wgan-gp" and at.number_input(key="tr_beta1").value == 0.0
    at.selectbox(key="tr_preset").set_value("Conditional").run()
    assert at.selectbox(key="tr_model").value == "cgan"
    for key in ("tr_dataset", "tr_noise"):
        assert at.selectbox(key=key).help
    at.selectbox(key="tr_preset").set_value("Self-conditioned (no labels)").run()
    assert at.selectbox(key="tr_model").value == "dcgan" and at.number_input(key="tr_clusters").value == 50
    assert at.number_input(key="tr_clusters").help and not at.error
    at.selectbox(key="tr_model").set_value("cgan").run()  # a conditional model has real classes already
    assert any("cannot train" in e.value and "Self-conditioning" in e.value for e in at.error)
    assert button(at, "Start").disabled
    at.selectbox(key="tr_preset").set_value("Conditional").run()
    assert at.number_input(key="tr_clusters").value == 0 and not at.error
    assert at.selectbox(key="tr_clustering").value == "kmeans"
    # digits without labels: an AC-GAN whose D names 30 self-found (spectral) clusters, with a 5x class term
    at.selectbox(key="tr_preset").set_value("Fast digits, no labels").run()
    assert at.selectbox(key="tr_model").value == "acgan" and at.number_input(key="tr_clusters").value == 30
    assert at.selectbox(key="tr_clustering").value == "spectral" and "nearest-neighbour" in \
        at.selectbox(key="tr_clustering").help
    assert at.number_input(key="tr_auxw").value == 5.0 and at.number_input(key="tr_auxw").help
    assert at.number_input(key="tr_ctemp").value == 0.02 and "blend" in at.number_input(key="tr_ctemp").help
    assert not at.error and not button(at, "Start").disabled
    at.selectbox(key="tr_preset").set_value("Conditional").run()
    assert at.number_input(key="tr_ctemp").value == 0.05                 # the default again
    # a combination that cannot train says why, and Start is disabled
    at.selectbox(key="tr_loss").set_value("wgan-gp").run()
    assert any("cannot train" in e.value and "WGAN-GP needs a critic" in e.value for e in at.error)
    assert button(at, "Start").disabled


def test_start_pause_step_resume_stop_save_open(monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_PUBLIC_URL", "http://192.168.1.20:8501")
    at = tiny_train_app()
    button(at, "Start").click().run()
    watch = [c.value for c in at.code]   # "watch this run": the run's own link, with a QR code
    assert f"http://192.168.1.20:8501/train?run={at.session_state['train_owner']}" in watch
    job = train_job(at)
    assert job is not None
    until(at, lambda: len(job.history) >= 3)
    assert not at.exception
    assert [m.label for m in at.metric][:3] == ["State", "Step", "Epoch"]
    assert len(at.get("plotly_chart")) >= 3 and at.get("image")
    assert job.config.model.conditioning == "aux-class" and any("include the class term" in c.value for c in at.caption)
    assert [m.label for m in at.metric][3:] == ["Steps/s", "Classes drawn"] and at.metric[4].value.endswith("/10")
    button(at, "Pause").click().run()
    assert job.state == "paused"
    at.selectbox(key="tr_preset").set_value("WGAN-GP").run()   # a new preset while paused: said, not silent
    assert any("keeps training as **Fast digits**" in i.value and "Stop or Reset" in i.value for i in at.info)
    at.selectbox(key="tr_preset").set_value("Fast digits").run()
    at.number_input(key="tr_width").set_value(4)
    at.number_input(key="tr_batch").set_value(8)
    at.number_input(key="tr_z").set_value(8).run()
    assert not any("keeps training as" in i.value for i in at.info)
    n = len(job.history)
    button(at, "One step").click().run()
    assert len(job.history) == n + 1 and job.state == "paused"
    assert at.metric[1].value == f"{n + 1:,}"
    button(at, "Resume").click().run()
    until(at, lambda: len(job.history) > n + 3)
    button(at, "Stop").click().run()
    assert job.state == "stopped" and not job.alive
    assert at.select_slider(key="tr_timeline").value == len(job.snapshots) - 1
    last = str(grid_image(at).proto)
    at.select_slider(key="tr_timeline").set_value(0).run()
    first = str(grid_image(at).proto)
    assert "at step 0" in first and first != last
    button(at, "Save").click().run()
    assert any("Saved to" in s.value for s in at.success)
    folder = at.session_state["tr_saved"]
    assert (ROOT / folder / "G.safetensors").exists() if not folder.startswith("/") else \
        __import__("pathlib").Path(folder, "G.safetensors").exists()
    assert at.get("download_button")
    button(at, "Open in the latent explorer").click().run()
    assert not at.exception
    assert at.session_state["model"].startswith("my run ")
    assert at.selectbox(key="model").value == at.session_state["model"]  # the latent page shows our run


def test_the_no_labels_preset_trains_with_the_cluster_settings_shown():
    at = tiny_train_app()
    at.selectbox(key="tr_preset").set_value("Fast digits, no labels").run()
    at.number_input(key="tr_width").set_value(4)
    at.number_input(key="tr_z").set_value(32).run()
    at.number_input(key="tr_ctemp").set_value(0.03).run()
    button(at, "Start").click().run()
    job = train_job(at)
    assert job is not None and not at.exception, [e.value for e in at.error]
    m = job.config.model
    assert (m.conditioning, m.num_classes, m.clusters, m.cluster_temperature) == ("aux-class", 0, 30, 0.03)
    assert job.config.clustering == "spectral"


def test_reset_forgets_the_run():
    at = tiny_train_app()
    button(at, "Start").click().run()
    assert train_job(at) is not None
    button(at, "Reset").click().run()
    assert train_job(at) is None and any("press **Start**" in i.value for i in at.info)


def test_busy_server_gives_a_clear_message():
    m = job_manager()
    cfg = preset_config("Fast digits", model={"width": 4}, batch_size=8)
    for o in ("other1", "other2"):
        m.start(o, cfg, paused=True)
    at = tiny_train_app()
    button(at, "Start").click().run()
    assert not at.exception and train_job(at) is None
    assert any("busy: 2 training jobs running" in w.value for w in at.warning)


def test_divergence_is_explained():
    at = tiny_train_app()
    # the page's own job, with a gradient ceiling any step exceeds: it diverges at once
    cfg = preset_config("Fast digits", model={"width": 4, "z_dim": 8}, batch_size=8, max_grad_norm=1e-9)
    job = job_manager().start(at.session_state["train_owner"], cfg)
    assert job.wait(60)
    at.run()
    assert job.state == "diverged" and not at.exception
    assert any("diverged" in e.value and "last good weights" in e.value for e in at.error)


def test_a_link_can_choose_the_preset():
    at = AppTest.from_file(str(ROOT / "app_pages/train.py"), default_timeout=60)
    at.query_params["preset"] = "Mode collapse on purpose"
    at.run()
    assert at.selectbox(key="tr_preset").value == "Mode collapse on purpose"
    assert at.number_input(key="tr_lr_g").value == 2e-3
    bad = AppTest.from_file(str(ROOT / "app_pages/train.py"), default_timeout=60)
    bad.query_params["preset"] = "<script>"
    bad.run()
    assert not bad.exception and bad.selectbox(key="tr_preset").value == "Fast digits"


def test_an_unknown_preset_in_the_link_gets_a_message():
    at = AppTest.from_file(str(ROOT / "app_pages/train.py"), default_timeout=60)
    at.query_params["preset"] = "<script>alert(1)</script>"
    at.run()
    assert not at.exception
    assert any("does not exist" in w.value for w in at.warning)
    assert at.selectbox(key="tr_preset").value in PRESETS


def test_a_reload_finds_the_same_run_and_a_stale_link_gets_a_message():
    at = tiny_train_app()
    button(at, "Start").click().run()
    job = train_job(at)
    token = at.session_state["train_owner"]
    assert str(at.query_params["run"]).strip("[]'") == token
    again = AppTest.from_file(str(ROOT / "app_pages/train.py"), default_timeout=120)  # a reload: new session
    again.query_params["run"] = token
    again.run()
    assert not again.exception and again.session_state["train_owner"] == token and train_job(again) is job
    stale = AppTest.from_file(str(ROOT / "app_pages/train.py"), default_timeout=120)
    stale.query_params["run"] = "0123456789abcdef"
    stale.run()
    assert not stale.exception and any("has ended" in i.value for i in stale.info)
    assert stale.session_state["train_owner"] != "0123456789abcdef"


def test_the_stylegan_preset_shows_and_trains_its_own_settings():
    at = tiny_train_app()
    at.selectbox(key="tr_preset").set_value("StyleGAN").run()
    assert at.selectbox(key="tr_model").value == "stylegan" and any("modulated" in c.value for c in at.caption)
    for key, value in (("tr_wdim", 64), ("tr_mapdepth", 4), ("tr_mixing", 0.9), ("tr_r1", 1.0), ("tr_clusters", 50)):
        assert at.number_input(key=key).value == value and at.number_input(key=key).help, key
    at.number_input(key="tr_width").set_value(4)
    at.number_input(key="tr_wdim").set_value(16)
    at.number_input(key="tr_mapdepth").set_value(2)
    at.number_input(key="tr_r1").set_value(0.0)          # 0 is a choice, not "unset": it stays 0
    at.number_input(key="tr_mixing").set_value(0.5).run()
    assert at.number_input(key="tr_r1").value == 0.0 and not at.error
    button(at, "Start").click().run()
    job = train_job(at)
    assert job is not None and not at.exception, [e.value for e in at.error]
    c = job.config
    assert (c.model.architecture, c.model.w_dim, c.model.mapping_depth, c.style_mixing, c.r1_gamma) == \
        ("stylegan", 16, 2, 0.5, 0.0)
    # another model: the style settings are hidden and not read
    at.selectbox(key="tr_preset").set_value("Conditional").run()
    assert not any(n.key == "tr_wdim" for n in at.number_input) and not at.error
