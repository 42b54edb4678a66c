import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, settle

pytestmark = pytest.mark.pretrained
PAGE = str(ROOT / "app_pages/evaluate.py")


def test_evaluate_page_runs_and_reuses_results():
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    assert not at.exception and any("Run evaluation" in i.value for i in at.info)
    at.multiselect(key="eval_models").set_value(["mnist-cgan", "mnist-vanilla"]).run()
    at.select_slider(key="eval_n").set_value(500).run()
    at.number_input(key="eval_seed").set_value(1).run()
    at.button[0].click().run()
    assert not at.exception and any("evaluation of mnist-cgan, mnist-vanilla" in p.proto.text or "line" in
                                    p.proto.text for p in at.get("progress")), "a status while it computes"
    settle(at)
    settle(at)  # then the memorisation search and D's histogram, also queued
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["metric"])[:2] == ["FID", "KID"]
    assert {"mnist-cgan", "mnist-vanilla", "real-data floor"} <= set(table.columns)
    assert "what it measures" not in table.columns          # in the legend below: a table cell cut it off
    cells = table.astype(str).to_numpy().ravel().tolist()
    assert "None" not in cells and "nan" not in cells
    row = table.set_index("metric")
    assert row.loc["Conditional accuracy", "mnist-vanilla"] == "conditional models only"
    assert row.loc["PPL", "real-data floor"].startswith("none")
    notes = " ".join(c.value for c in at.caption)
    assert "PPL has no real-data floor" in notes and "x." in notes    # compared with the other model
    import json
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    hist = next(sp for sp in specs if sp["layout"].get("xaxis", {}).get("title", {}).get("text", "").startswith("digit"))
    assert hist["layout"]["xaxis"]["dtick"] == 1 and hist["layout"]["xaxis"]["type"] == "category"  # all 10 labelled
    at.selectbox(key="eval_focus").set_value("mnist-vanilla").run()
    settle(at)
    assert not at.exception and at.get("plotly_chart")
    # a fresh session with the same settings shows the stored results without pressing the button
    again = AppTest.from_file(PAGE, default_timeout=60).run()
    again.multiselect(key="eval_models").set_value(["mnist-cgan", "mnist-vanilla"]).run()
    again.select_slider(key="eval_n").set_value(500).run()
    again.number_input(key="eval_seed").set_value(1).run()
    assert len(again.dataframe) == 1


def test_upload_option_reports_a_bad_file():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.checkbox(key="eval_use_upload").check().run()
    at.selectbox(key="eval_upload_model").set_value("Upload a checkpoint (.zip)…").run()
    assert not at.exception
    assert any("Upload a zipped checkpoint" in i.value for i in at.info)


def test_scale_notes_explain_a_negative_kid_and_ppl_alone():
    from ui.evaluate.views import scale_notes

    notes = scale_notes({"a": {"kid": -0.0003, "floor_kid": 0.0001, "ppl": 31880.0}})
    assert any("KID below 0 (a)" in n and "unbiased" in n for n in notes)
    assert any("Add another model" in n for n in notes)
    assert scale_notes({"a": {"kid": 0.01, "floor_kid": 0.001}}) == []
    two = scale_notes({"a": {"ppl": 100.0}, "b": {"ppl": 250.0}})
    assert any("(a, 100): b 2.5x" in n for n in two)
