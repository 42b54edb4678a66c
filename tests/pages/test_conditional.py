import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT

pytestmark = pytest.mark.pretrained
PAGE = str(ROOT / "app_pages/conditional.py")


def test_conditional_page_controls():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception and at.selectbox(key="cond_model").value == "mnist-cgan"
    at.selectbox(key="cond_label").set_value(8).run()
    at.text_input(key="cond_seeds").set_value("1-4").run()
    at.text_input(key="cond_rows").set_value("2,3").run()
    at.slider(key="cond_psi").set_value(0.8).run()
    at.selectbox(key="cond_a").set_value(0).run()
    at.selectbox(key="cond_b").set_value(6).run()
    at.number_input(key="cond_morph_seed").set_value(9).run()
    at.slider(key="cond_t").set_value(0.3).run()
    assert not at.exception
    assert any("Overall" == m.label for m in at.metric)
    at.text_input(key="cond_seeds").set_value("9-1").run()
    assert any("backwards" in e.value for e in at.error)


def test_unconditional_model_gets_an_explanation_and_sorted_view():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.selectbox(key="cond_model").set_value("mnist-dcgan").run()
    assert not at.exception
    assert any("unconditional" in i.value for i in at.info)
