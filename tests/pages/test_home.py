from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT


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


def test_home_leads_with_a_first_step_for_a_student_and_one_for_a_teacher():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    headers = [s.value for s in at.subheader]
    assert headers.index("Start here") < headers.index("The game")   # above the theory
    text = " ".join(m.value for m in at.markdown)
    assert "Learning GANs?" in text and "Teaching a class?" in text and "Fix it" in text
    links = {e.proto.label: e.proto.query_string for e in at.get("page_link")}
    assert links["1. Train Fast digits"] == "preset=Fast+digits"
    assert links["2. Mode collapse on purpose"] == "preset=Mode+collapse+on+purpose"
    assert links["Run a quiz (the teacher's view)"] == "role=teacher"
    quiz = AppTest.from_file(str(ROOT / "app_pages/quiz.py"), default_timeout=60)
    quiz.query_params["role"] = "teacher"
    quiz.run()
    assert quiz.segmented_control(key="quiz_role").value == "Running a session"
