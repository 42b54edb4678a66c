from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def test_app_renders_home_page():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "GAN Studio"
    latex = " ".join(el.value for el in at.latex)
    assert r"\min_G \max_D" in latex and r"\log D(x)" in latex and r"\log\big(1 - D(G(z))\big)" in latex
    headers = [s.value for s in at.subheader]
    assert "How GANs fail" in headers and "The training loop" in headers


def test_home_names_every_failure_mode():
    at = AppTest.from_file(str(ROOT / "app_pages/home.py"), default_timeout=30).run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for failure in ("Mode collapse", "Vanishing gradients", "Non-convergence", "Memorization"):
        assert failure in text
