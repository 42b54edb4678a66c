"""AppTest of the remedies on /train and /playground: "Fix it" restarts a failure preset with the same seed and
one remedy; the remedy switches reach the run's config."""
import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT
from tests.helpers import tiny_train_app, train_job
from ui.train.views import job_manager


@pytest.mark.pretrained
def test_train_fix_it_restarts_the_collapse_preset_with_a_remedy():
    at = tiny_train_app()
    at.selectbox(key="tr_preset").set_value("Mode collapse on purpose").run()
    at.number_input(key="tr_seed").set_value(5).run()
    assert at.selectbox(key="tr_fix").value == "Feature matching + minibatch features"  # the best measured first
    at.selectbox(key="tr_fix").set_value("Unrolled D").run()
    assert "Metz et al. 2017" in " ".join(c.value for c in at.caption)
    at.button(key="tr_fix_go").click().run()
    assert not at.exception
    job = train_job(at)
    assert job is not None and job.config.unrolled_steps == 5 and job.config.seed == 5
    assert job.config.lr_g == 2e-3 and at.multiselect(key="tr_remedies").value == ["Unrolled D"]
    # a remedy with its own setting: the setting itself is switched
    at.selectbox(key="tr_fix").set_value("Spectral norm").run()
    at.button(key="tr_fix_go").click().run()
    job2 = train_job(at)
    assert job2 is not job and job2.config.model.spectral_norm and job2.config.unrolled_steps == 0
    assert at.checkbox(key="tr_sn").value and at.multiselect(key="tr_remedies").value == []
    job_manager().remove(at.session_state["train_owner"])


@pytest.fixture(autouse=True)
def _clean_manager():
    yield
    job_manager().shutdown()


@pytest.mark.pretrained
def test_train_remedy_switches_reach_the_config_or_explain():
    at = tiny_train_app()                                                      # Fast digits: AC-GAN, conditional
    at.multiselect(key="tr_remedies").set_value(["Minibatch discrimination", "Feature matching"]).run()
    assert not at.error
    at.multiselect(key="tr_remedies").set_value(["Packing (PacGAN)"]).run()
    assert any("unconditional" in e.value for e in at.error)            # packing needs no labels: said, not raised
    at.selectbox(key="tr_preset").set_value("Conditional").run()       # a preset change clears the remedies
    assert at.multiselect(key="tr_remedies").value == [] and not at.error


def test_playground_fix_it_and_switches():
    at = AppTest.from_file(str(ROOT / "app_pages/playground.py"), default_timeout=60).run()
    assert not at.exception and "pg_fix" not in [s.key for s in at.selectbox]  # Default has nothing to fix
    at.selectbox(key="pg_preset").set_value("Mode collapse on purpose").run()
    assert at.selectbox(key="pg_fix").value == "Two learning rates"     # the best measured in the playground first
    at.button(key="pg_fix_go").click().run()
    cfg = at.session_state["pg"].config                                  # D now faster than G, the same seed
    assert (cfg.lr_g, cfg.lr_d, cfg.seed) == (1e-3, 2e-3, 0) and at.number_input(key="pg_lr_d").value == 2e-3
    at.session_state["pg_playing"] = False
    at.selectbox(key="pg_fix").set_value("Feature matching").run()
    at.button(key="pg_fix_go").click().run()
    assert not at.exception
    pg = at.session_state["pg"]
    assert pg.config.feature_matching and pg.config.lr_g == 2e-3 and at.session_state["pg_playing"]
    at.multiselect(key="pg_remedies").set_value(["Packing (PacGAN)"]).run()
    assert at.session_state["pg"].config.model.pack == 2 and not at.session_state["pg"].config.feature_matching


def test_playground_keep_as_reference_draws_the_reference_beside_the_next_run():
    at = AppTest.from_file(str(ROOT / "app_pages/playground.py"), default_timeout=60).run()
    at.selectbox(key="pg_preset").set_value("Mode collapse on purpose").run()
    at.session_state["pg"].train(120)
    at.run()
    at.button(key="pg_reference_keep").click().run()
    ref = at.session_state["pg_reference"]
    assert ref.last_step == 120 and ref.at(120)[0] == 100 and "Mode collapse on purpose, seed 0" in ref.label
    at.selectbox(key="pg_fix").set_value("Unrolled D").run()
    at.button(key="pg_fix_go").click().run()
    at.session_state["pg"].train(60)
    at.session_state["pg_playing"] = False
    at.run()
    assert not at.exception
    names = [t.get("name", "") for c in at.get("plotly_chart") for t in __import__("json").loads(c.proto.spec)["data"]]
    assert "reference, step 50" in names and "reference: JS divergence" in names
    assert any("The reference covered" in c.value for c in at.caption)
    at.button(key="pg_reference_forget").click().run()
    assert "pg_reference" not in at.session_state


def start_collapse():
    """/train with a tiny "Mode collapse on purpose" run started: (the app, its job)."""
    at = tiny_train_app()
    at.selectbox(key="tr_preset").set_value("Mode collapse on purpose").run()
    at.number_input(key="tr_width").set_value(4)
    at.number_input(key="tr_batch").set_value(8).run()
    next(b for b in at.button if b.label.endswith("Start")).click().run()
    return at, train_job(at)


@pytest.mark.pretrained
def test_train_keep_as_reference_then_fix_shows_two_grids():
    import time

    at, job = start_collapse()
    end = time.time() + 60
    while len(job.snapshots) < 2 and time.time() < end:
        time.sleep(0.2)
    at.run()
    at.button(key="tr_reference_keep").click().run()
    assert at.session_state["tr_reference"].snapshots
    at.selectbox(key="tr_fix").set_value("Minibatch discrimination").run()
    at.button(key="tr_fix_go").click().run()
    job2 = train_job(at)
    end = time.time() + 60
    while not job2.snapshots and time.time() < end:
        time.sleep(0.2)
    at.run()
    captions = [c for e in at.get("image") for c in e.captions]
    assert any(c.startswith("The same noise vectors at step") for c in captions)
    assert any(c.startswith("Reference (Mode collapse on purpose, seed 0) at step") for c in captions), captions


@pytest.mark.pretrained
def test_fix_it_keeps_the_failing_run_as_the_reference_by_itself():
    """No 'Keep as reference' pressed: Fix it freezes the collapsed run first, so failure and cure are side by
    side (an older reference is replaced)."""
    import time

    at, job = start_collapse()
    end = time.time() + 60
    while len(job.history) < 3 and time.time() < end:
        time.sleep(0.2)
    at.run()
    assert "tr_reference" not in at.session_state
    at.button(key="tr_fix_go").click().run()
    assert not at.exception
    ref = at.session_state["tr_reference"]
    assert ref.label.startswith("Mode collapse on purpose, seed 0") and ref.history
    assert train_job(at) is not job
    assert any("Fix it kept the failing run" in c.value for c in at.caption)
