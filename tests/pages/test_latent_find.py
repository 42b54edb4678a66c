"""AppTest of "Find your digit" on /latent: find a real digit, explore from it, share it in the URL."""
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, settle

pytestmark = pytest.mark.pretrained
PAGE = str(ROOT / "app_pages/latent.py")


def _find(at, index: int = 7):
    at.radio(key="find_source").set_value("real").run()
    at.number_input(key="find_real_index").set_value(index).run()
    at.button(key="find_go").click().run()
    for _ in range(6):  # one computation per person: the page's own map and arithmetic may go first
        at = settle(at)
        if any(m.label == "Pixel difference" for m in at.metric):
            break
    return at


def _metric(at, label_start: str) -> list[str]:
    return [m.value for m in at.metric if m.label.startswith(label_start)]


def test_find_a_real_digit_then_explore_from_it():
    from gan_core.data.datasets import mnist5k_arrays

    at = AppTest.from_file(PAGE, default_timeout=180).run()
    _, y = mnist5k_arrays()
    at = _find(at, 7)
    assert not at.exception
    reads = _metric(at, "Classifier reads")
    # the current image's reading, then the input's and the found image's: both name the real digit
    assert [r.split()[0] for r in reads[-2:]] == [str(y[7])] * 2, reads
    at.button(key="find_explore").click().run()
    assert not at.exception
    f = at.query_params["f"]
    f = f[0] if isinstance(f, list) else f
    assert 100 < len(f) < 200                      # 64 numbers in float16 base64, not 64 floats as text
    assert "your digit" in " ".join(c.value for c in at.caption)
    assert at.checkbox(key="lat_from_current").value  # the interpolation now starts at the digit
    # a direction slider moves the found digit (the URL keeps both)
    at.slider(key="lat_dir0").set_value(1.0).run()
    assert not at.exception and "0:1" in str(at.query_params["d"])
    # arithmetic from the found digit
    for _ in range(4):
        at = settle(at)
    assert at.toggle(key="lat_ar_mine").value
    captions = [c for e in at.get("image") for c in e.captions]
    assert "your digit" in captions and any(c.startswith("yours − 1 + 4: reads as") for c in captions), captions
    at.button(key="lat_back_to_seeds").click().run()
    assert "f" not in at.query_params


def test_found_digit_link_opens_it_and_bad_links_warn():
    import torch

    from gan_core.latent.inversion import encode_z

    z = torch.randn(64, generator=torch.Generator().manual_seed(3))
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["f"] = encode_z(z)
    at.run()
    assert not at.exception and not at.warning
    assert any("your digit" in c.value for c in at.caption)
    for bad in ["AAAA", "x" * 171, encode_z(torch.full((64,), 1e4))]:
        at = AppTest.from_file(PAGE, default_timeout=180)
        at.query_params["f"] = bad
        at.run()
        assert not at.exception
        assert any("found digit" in w.value for w in at.warning), bad


def test_upload_path_errors_are_messages_not_tracebacks(tmp_path):
    """Blank and unreadable input get a sentence (the canvas and upload both go through prepare_digit)."""
    from gan_core.latent.inversion import DigitError, prepare_digit

    for bad in [np.zeros((50, 50), np.uint8), np.full((40, 40, 3), 200, np.uint8)]:
        with pytest.raises(DigitError):
            prepare_digit(bad)


def test_a_digit_changed_right_after_find_is_searched_not_previewed():
    """The canvas sends a stroke 200 ms after the mouse is released, so a press of Find can reach the server
    before the last stroke; the digit that arrives next is searched (it showed the preview again before). Once
    a result has been shown and a moment has passed, a changed digit waits for its own press."""
    from gan_core.data.datasets import mnist5k_arrays
    from ui.latent import find as find_view

    _, y = mnist5k_arrays()
    first, second = 7, 7 + len(y) // 2            # two different classes (the set is sorted by class)
    assert y[first] != y[second]
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.radio(key="find_source").set_value("real").run()
    at.number_input(key="find_real_index").set_value(first).run()
    at.button(key="find_go").click().run()        # the press, with the digit before the last change
    at.number_input(key="find_real_index").set_value(second).run()  # the change arrives in the next run
    assert not at.exception
    for _ in range(6):
        at = settle(at)
        if any(m.label == "Pixel difference" for m in at.metric):
            break
    reads = _metric(at, "Classifier reads")
    assert [r.split()[0] for r in reads[-2:]] == [str(y[second])] * 2, reads
    # a later change, after the result was shown: the preview, and no search until Find is pressed
    time.sleep(find_view.FOLLOW_S + 0.1)
    at.number_input(key="find_real_index").set_value(first).run()
    assert not at.exception
    assert not any(m.label == "Pixel difference" for m in at.metric)
    assert any("asked to match" in h.proto.body for h in at.get("html"))
