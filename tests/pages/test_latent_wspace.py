"""AppTest of /latent's W space section on a small style-based checkpoint (random weights): every control once,
its values in the URL, and nothing of it for a model without W."""
import dataclasses

import pytest
import torch
from streamlit.testing.v1 import AppTest

from gan_core.hub.checkpoints import save_checkpoint
from gan_core.models import ModelConfig, build_discriminator, build_generator
from tests.helpers import ROOT, settle

PAGE = str(ROOT / "app_pages/latent.py")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    torch.manual_seed(0)
    m = ModelConfig(architecture="stylegan", z_dim=16, w_dim=16, width=4, mapping_depth=2)
    G, D = build_generator(m), build_discriminator(m)
    with torch.no_grad():
        for c in G.synthesis_net.convs:
            c.noise_strength.fill_(0.5)
    out = tmp_path_factory.mktemp("sg") / "tiny-stylegan"
    save_checkpoint(out, {"model": dataclasses.asdict(m), "training": {"loss": "nonsaturating"}}, {"G": G, "D": D})
    return str(out)


def open_page(folder, **query):
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["my_models"] = {"tiny-stylegan": folder}
    at.session_state["model"] = "tiny-stylegan"
    for k, v in query.items():
        at.query_params[k] = v
    return directions_shown(at.run())


def directions_shown(at):
    """Rerun until the layer-wise directions (computed in the work queue) are drawn."""
    for _ in range(10):
        if any(s.key == "w_amt0" for s in at.slider):
            break
        at = settle(at)
    return at


def test_every_w_control(folder):
    at = open_page(folder)
    assert not at.exception
    assert any(s.value.startswith("W space") for s in at.subheader)
    groups = next(c.value for c in at.caption if "Layer groups here" in c.value)
    assert "**coarse** ws 0-1 (7x7)" in groups and "**fine** ws 4-5 (28x28)" in groups
    # layer-wise direction: a slider and its layer range
    at.slider(key="w_amt0").set_value(2.0).run()
    at.select_slider(key="w_rng0").set_range(4, 5).run()
    assert at.select_slider(key="w_rng0").value == (4, 5) and not at.exception
    # style mixing: seeds and the group in the URL; a bad list of seeds is an error, not a traceback
    at.text_input(key="w_mix_a").set_value("8, 9").run()
    at.radio(key="w_mix_group").set_value("fine").run()
    assert str(at.query_params["ma"]).strip("[]'") == "8, 9" and str(at.query_params["mg"]).strip("[]'") == "fine"
    at.text_input(key="w_mix_b").set_value("seven").run()
    assert any("Sources B" in e.value for e in at.error) and not at.exception
    at.text_input(key="w_mix_b").set_value("1-3").run()
    # stochastic variation: no group redraws noise -> said so; redraw
    at.multiselect(key="w_var_groups").set_value([]).run()
    assert any("No layer redraws its noise" in c.value for c in at.caption)
    at.multiselect(key="w_var_groups").set_value(["fine"]).run()
    next(b for b in at.button if b.key == "w_var_again").click().run()
    assert any("Mean per-pixel standard deviation" in c.value for c in at.caption)
    # SeFa directions come from the queue too
    at = directions_shown(at.radio(key="w_method").set_value("sefa").run())
    assert any(s.key == "w_amt0" for s in at.slider) and not at.exception
    # ψ acts in W for this model, and says so
    assert "mean w" in at.slider(key="lat_psi").help
    at.slider(key="lat_psi").set_value(0.0).run()
    assert not at.exception


def test_a_link_opens_the_same_mixing(folder):
    at = open_page(folder, ma="5, 6", mb="7", mg="middle")
    assert at.text_input(key="w_mix_a").value == "5, 6" and at.radio(key="w_mix_group").value == "middle"
    bad = open_page(folder, mg="everything")
    assert any("`mg`" in w.value for w in bad.warning) and bad.radio(key="w_mix_group").value == "coarse"


def test_no_w_section_for_a_model_without_w(tmp_path):
    m = ModelConfig(z_dim=8, width=8)
    out = tmp_path / "dc"
    save_checkpoint(out, {"model": dataclasses.asdict(m), "training": {}}, {"G": build_generator(m)})
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["my_models"] = {"dc": str(out)}
    at.session_state["model"] = "dc"
    at.run()
    assert not at.exception and not any(s.value.startswith("W space") for s in at.subheader)


def test_an_uploaded_nvlabs_snapshot_opens_with_the_w_tools(tmp_path):
    from tests.gan_core.hub.test_stylegan2_import import nvlabs_snapshot, rosinality_state
    from ui import models

    marker = tmp_path / "PAYLOAD_RAN"
    folder = models.open_upload("network-snapshot-000100.pkl", nvlabs_snapshot(rosinality_state(), str(marker)))
    assert not marker.exists()
    at = open_page(folder)
    assert not at.exception and any(s.value.startswith("W space") for s in at.subheader)
    assert any("ws 4-5 (16x16)" in c.value for c in at.caption)
    at.radio(key="w_mix_group").set_value("coarse").run()
    assert not at.exception and not marker.exists()


def test_inside_shows_the_styles_per_layer(folder):
    at = AppTest.from_file(str(ROOT / "app_pages/inside.py"), default_timeout=180)
    at.session_state["my_models"] = {"tiny-stylegan": folder}
    at.session_state["model"] = "tiny-stylegan"
    at = settle(at.run())
    assert not at.exception and any(s.value == "Styles per layer" for s in at.subheader)
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("ws 0: conv 0 (7x7)" in s and "ws 5: toRGB (28x28)" in s for s in specs)


def test_samples_for_a_quiz_arm_are_a_zip_of_pngs(folder):
    import io
    import zipfile

    import gan_core
    from PIL import Image
    from ui.latent.wspace import samples_zip

    zf = zipfile.ZipFile(io.BytesIO(samples_zip(gan_core.load_generator(folder), 5)))
    names = zf.namelist()
    assert names == [f"seed{i:04d}.png" for i in range(5)]
    assert Image.open(zf.open(names[0])).size == (28, 28)


def test_a_big_model_shows_its_image_alone_then_previews_in_w(tmp_path):
    m = ModelConfig(architecture="stylegan2", z_dim=8, w_dim=8, img_shape=(3, 128, 128), channels=(4,) * 6,
                    mapping_depth=2)
    out = tmp_path / "big"
    save_checkpoint(out, {"model": m.to_dict(), "training": {"loss": "nonsaturating"}}, {"G": build_generator(m)})
    at = open_page(str(out))
    assert not at.exception
    assert any("strip along a direction" in c.value for c in at.caption)
    assert any("An interpolation draws 30 images" in i.value for i in at.info)
    assert any("stop at the 32 px block" in c.value for c in at.caption)
    html = " ".join(e.proto.body for e in at.get("html"))
    assert "the edited image" in html and 'width="256"' in html          # 128 px shown 2x, not 12x
