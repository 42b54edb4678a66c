"""A PyTorch-examples DCGAN brought in through the model picker's .pth upload opens on every page that shows
unconditional generators (64x64 RGB: pages that need the digit classifier say so instead of failing)."""
import pytest
import torch
from streamlit.testing.v1 import AppTest

from gan_core.hub.checkpoints import CheckpointError
from gan_core.models.examples_dcgan import ExamplesDCGANGenerator
from tests.helpers import ROOT, settle
from tests.helpers import Boom


def _pth_bytes(tmp_path, payload=None) -> bytes:
    torch.manual_seed(0)
    sd = dict(ExamplesDCGANGenerator(32, (3, 64, 64), 8).state_dict())
    if payload is not None:
        sd["main.0.weight"] = payload
    torch.save(sd, tmp_path / "netG.pth")
    return (tmp_path / "netG.pth").read_bytes()


@pytest.fixture
def imported(tmp_path, monkeypatch):
    from ui import models

    monkeypatch.setattr(models, "UPLOAD_ROOT", tmp_path / "uploads")
    return models._import_pth(_pth_bytes(tmp_path)), models


def test_pth_upload_is_converted_once_and_payloads_are_refused(imported, tmp_path):
    folder, models = imported
    assert (tmp_path / "uploads").is_dir() and folder.startswith(str(tmp_path / "uploads" / "pth-"))
    assert models._import_pth(_pth_bytes(tmp_path)) == folder          # the same file: the same folder
    marker = tmp_path / "pwned"
    with pytest.raises(CheckpointError, match="refused"):
        models._import_pth(_pth_bytes(tmp_path, Boom(str(marker))))
    assert not marker.exists()
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == [folder.rsplit("/", 1)[1]]  # no scratch left


@pytest.mark.parametrize("page, expect", [("latent.py", "Finding a digit needs"), ("inside.py", "Ranking units needs"),
                                          ("evaluate.py", "which read 28x28 grayscale digits")])
def test_every_page_opens_the_imported_generator(imported, page, expect):
    folder, _ = imported
    at = AppTest.from_file(str(ROOT / "app_pages" / page), default_timeout=240)
    at.session_state["my_models"] = {"imported netG": folder}
    at.session_state["model"] = at.session_state["eval_upload_model"] = "imported netG"
    at.session_state["eval_models"], at.session_state["eval_use_upload"] = [], True
    at.run()
    at = settle(at)
    assert not at.exception, at.exception
    text = " ".join(str(e.value) for e in list(at.info) + list(at.error) + list(at.markdown) + list(at.caption))
    assert expect in text, text
    if page == "inside.py":  # maps and switches work without the classifier
        at.selectbox(key="in_layer").set_value("block 4").run()
        at.multiselect(key="in_units").set_value([0, 1, 2]).run()
        assert not at.exception
        assert str(at.query_params["layer"]).strip("[]'") == "block 4"
        assert str(at.query_params["units"]).strip("[]'") == "0,1,2"
