"""AppTest of /inside: maps of every layer, switching units off by hand and by the ranking, links, bad models."""
import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, settle

pytestmark = pytest.mark.pretrained
PAGE = str(ROOT / "app_pages/inside.py")


def _images(at) -> list[str]:
    import re

    return [m for e in at.get("html") for m in re.findall(r'src="(data:image/png;base64,[^"]+)"', e.proto.body)]


def _reads(at) -> list[str]:
    return [m.value for m in at.metric if m.label == "Classifier reads"]


def test_maps_switches_and_the_ranking(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    assert not at.exception
    imgs = _images(at)
    assert len(imgs) == 5 and imgs[0] == imgs[1]        # before, after (unchanged), then 3 layers of maps
    # switch every unit of the last layer off by hand: the image changes, the maps of that layer go dark
    at.selectbox(key="in_layer").set_value("block 2").run()
    at.multiselect(key="in_units").set_value(list(range(32))).run()
    imgs = _images(at)
    assert imgs[0] != imgs[1] and not at.exception
    assert "units=0%2C1" in str(at.query_params) or "0,1,2" in str(at.query_params["units"])
    # boost instead
    at.slider(key="in_scale").set_value(2.0).run()
    assert not at.exception
    at.multiselect(key="in_units").set_value([]).run()
    # the ranking (computed once through the work queue, then kept in GAN_STUDIO_CACHE)
    for _ in range(4):
        at = settle(at)
    assert list(tmp_path.glob("dissection/*.json"))
    assert any("Units that draw 7s" in m.value for m in at.markdown)
    at.button(key="in_rank_apply").click().run()
    assert not at.exception and len(at.multiselect(key="in_units").value) == 8
    assert at.slider(key="in_scale").value == 0.0
    reads = _reads(at)
    before, after = (float(r.split("(")[1].rstrip("%)")) for r in reads)
    assert after < before                                  # the units that draw 7s: less of a 7
    at.selectbox(key="in_rank_class").set_value(0).run()
    at.slider(key="in_rank_k").set_value(16).run()
    assert not at.exception


def test_link_state_and_models_without_maps():
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params.update({"model": "mnist-dcgan", "seed": "12", "layer": "block 1", "units": "3,4", "scale": "0"})
    at.run()
    assert not at.exception and not at.warning
    assert at.selectbox(key="in_layer").value == "block 1" and at.multiselect(key="in_units").value == [3, 4]
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params.update({"units": "a,b", "seed": "-1"})
    at.run()
    assert not at.exception and len(at.warning) == 2
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params.update({"model": "mnist-dcgan", "layer": "block 1", "units": "2,99999"})
    at.run()
    assert not at.exception and at.multiselect(key="in_units").value == [2]
    assert any("99999 is not in block 1" in w.value for w in at.warning)
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params["model"] = "mnist-vanilla"
    at.run()
    assert not at.exception and any("no convolutional layers" in i.value for i in at.info)


def test_no_one_choice_radio_and_no_arrow_for_no_change():
    """Without a found digit there is nothing to choose: no "Start from" radio, a sentence saying how to get the
    other choice. With nothing changed the second reading has no delta arrow (a '+0' with a green arrow)."""
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    assert not at.exception
    assert not [r for r in at.radio if r.label == "Start from"]
    assert any("Find your digit" in c.value for c in at.caption)
    after = [m for m in at.metric if m.label == "Classifier reads"][1]
    assert not after.proto.delta
    assert any("did not change" in c.value for c in at.caption)
    at.selectbox(key="in_layer").set_value("block 2").run()
    at.multiselect(key="in_units").set_value(list(range(32))).run()
    after = [m for m in at.metric if m.label == "Classifier reads"][1]
    assert after.proto.delta.endswith(f"points for {_reads(at)[0].split()[0]}")
    assert after.proto.color == 2   # grey: more or less of the first reading is neither good nor bad
    import torch

    from gan_core.latent.inversion import encode_z
    found = AppTest.from_file(PAGE, default_timeout=240)
    found.session_state["lat_found"] = encode_z(torch.zeros(64))
    found.run()
    assert [r for r in found.radio if r.label == "Start from"]
