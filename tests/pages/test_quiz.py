"""AppTest of /quiz: the instructor creates a session, a participant joins and answers, the dashboard scores."""
import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, settle
from ui.text import unescaped

pytestmark = pytest.mark.pretrained
PAGE = str(ROOT / "app_pages/quiz.py")


@pytest.fixture(autouse=True)
def _own_db(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_QUIZ_DB", f"sqlite:///{tmp_path / 'quiz.sqlite3'}")
    from ui.quiz.participant import quiz_store
    quiz_store.clear()
    yield
    quiz_store.clear()


def new_app():
    return AppTest.from_file(PAGE, default_timeout=120).run()


def create(at, trials=3, qual=0, mode="pair", feedback=False):
    at.segmented_control(key="quiz_role").set_value("Running a session").run()
    at.number_input[0].set_value(trials)
    at.number_input[1].set_value(qual)
    at.radio[0].set_value(mode)
    at.checkbox[0].set_value(feedback)
    next(b for b in at.button if b.label == "Create session").click().run()
    assert not at.exception, at.exception
    code, key = at.session_state["quiz_admin"]
    assert any(key in c.value for c in at.code)  # shown once
    return code, key


def join(code, nick="Ada"):
    at = new_app()
    at.text_input(key="quiz_code_in").input(code)
    at.text_input(key="quiz_nick_in").input(nick)
    at.button[0].click().run()
    assert not at.exception
    return at


def answer_buttons(at):
    return [b for b in at.button if b.label.endswith("is real") or b.label in ("Real", "Fake")]


def test_instructor_and_participant_flow():
    admin = new_app()
    code, key = create(admin, trials=3, qual=1, feedback=True)
    assert admin.metric[0].value == code
    p = join(code)
    assert p.session_state["quiz_joined"] == "Ada"
    assert any("Warm-up" in i.value for i in p.info)
    from ui.quiz.participant import quiz_store
    token = p.session_state["quiz_token"]
    for i in range(4):
        assert len(p.get("image")) == 2 and len(answer_buttons(p)) == 2
        right = quiz_store().next_trial(token).correct_choice  # the warm-up is answered right, the rest "left"
        pick = right if i == 0 else "left"
        next(b for b in answer_buttons(p) if b.label.lower().startswith(pick)).click().run()
        assert not p.exception
        if i == 0:
            assert any("warm-up you just answered: right!" in s.value for s in p.success)  # a warm-up: said so
    assert any("Done" in s.value for s in p.success)
    assert [m.label for m in p.metric] == ["You were fooled", "The class so far", "Your median time"]
    admin.run()
    assert not admin.exception
    assert "1 participant, 4 answers" in admin.subheader[0].value
    labels = [m.label for m in admin.metric]
    assert "HYPE∞ (error rate)" in labels and "d′" in labels
    assert len(admin.get("download_button")) == 2
    next(b for b in admin.button if b.label == "Close session").click().run()
    assert "Closed" in admin.caption[0].value or any("Closed" in c.value for c in admin.caption)


def test_single_mode_buttons_and_duplicate_nickname():
    admin = new_app()
    code, _ = create(admin, trials=2, mode="single")
    p1, p2 = join(code), join(code)
    assert p2.session_state["quiz_joined"] == "Ada 2"
    assert [b.label for b in answer_buttons(p1)] == ["Real", "Fake"] and len(p1.get("image")) == 1


def test_one_at_a_time_warm_up_is_one_image_and_its_feedback_says_it_was_the_warm_up():
    """A one-at-a-time session's warm-up asks the session's own question (one image, Real / Fake), and the
    warm-up's feedback, shown over the first scored trial, says it was about the warm-up (feedback is off)."""
    admin = new_app()
    code, _ = create(admin, trials=2, qual=2, mode="single", feedback=False)
    p = join(code)
    from ui.quiz.participant import quiz_store
    token = p.session_state["quiz_token"]
    for i in range(2):
        assert any("Warm-up" in x.value for x in p.info)
        assert len(p.get("image")) == 1 and [b.label for b in answer_buttons(p)] == ["Real", "Fake"]
        right = quiz_store().next_trial(token).correct_choice
        next(b for b in answer_buttons(p) if b.label.lower() == right).click().run()
        assert not p.exception
    assert not any("Warm-up" in x.value for x in p.info)          # the first scored trial
    said = [x.value for x in p.success]
    assert any("warm-up you just answered: right!" in v and "no feedback" in v for v in said), said
    next(b for b in answer_buttons(p) if b.label == "Real").click().run()
    assert not p.success and not p.error                           # feedback off: nothing on scored answers


@pytest.mark.parametrize("code, nick, msg", [("NOPE99", "Ada", "No session has that code"),
                                             (None, "", "enter a nickname"), (None, "<b>", "letters, digits")])
def test_bad_join_input(code, nick, msg):
    admin = new_app()
    real_code, _ = create(admin, trials=1)
    p = new_app()
    p.text_input(key="quiz_code_in").input(code or real_code)
    p.text_input(key="quiz_nick_in").input(nick)
    p.button[0].click().run()
    assert not p.exception and any(msg in e.value for e in p.error)
    assert "quiz_token" not in p.session_state


def test_forged_key_and_closed_session():
    admin = new_app()
    code, key = create(admin, trials=1)
    other = new_app()
    other.segmented_control(key="quiz_role").set_value("Running a session").run()
    other.text_input(key="quiz_admin_code").input(code)
    other.text_input(key="quiz_admin_key").input("forged-key")
    next(b for b in other.button if b.label == "Open").click().run()
    assert any("do not open a session" in e.value for e in other.error)
    other.text_input(key="quiz_admin_key").input(key)
    next(b for b in other.button if b.label == "Open").click().run()
    assert other.metric[0].value == code
    next(b for b in admin.button if b.label == "Close session").click().run()
    p = new_app()
    p.text_input(key="quiz_code_in").input(code)
    p.text_input(key="quiz_nick_in").input("Late")
    p.button[0].click().run()
    assert any("closed" in e.value for e in p.error)


def test_a_reload_resumes_the_same_participant_and_leaving_cannot_rejoin():
    admin = new_app()
    code, key = create(admin, trials=2)
    at = join(code, "Ada")
    token = at.session_state["quiz_token"]
    assert str(at.query_params["p"]).strip("[]'") == token
    answer_buttons(at)[0].click().run()
    reload = AppTest.from_file(PAGE, default_timeout=120)
    reload.query_params["p"] = token
    reload.run()
    assert not reload.exception and reload.session_state["quiz_token"] == token
    from ui.quiz.participant import quiz_store
    assert [p["nickname"] for p in quiz_store().participants(code)] == ["Ada"]  # not a second participant
    assert quiz_store().progress(token)[0] == 1
    answer_buttons(reload)[0].click().run()
    next(b for b in reload.button if b.label == "Leave this session").click().run()
    reload.text_input(key="quiz_code_in").input(code)
    reload.text_input(key="quiz_nick_in").input("Ada again")
    reload.button[0].click().run()
    assert any("already took part" in e.value for e in reload.error)
    forged = AppTest.from_file(PAGE, default_timeout=120)
    forged.query_params["p"] = "x" * 500
    forged.run()
    assert not forged.exception and "quiz_token" not in forged.session_state


def test_teacher_removes_a_participant_and_their_answers_leave_the_scores():
    admin = new_app()
    code, key = create(admin, trials=2)
    stuffer = join(code, "Spam")
    for _ in range(2):
        answer_buttons(stuffer)[0].click().run()
    admin.run()
    from ui.quiz.participant import quiz_store
    assert len(quiz_store().rows(code)) == 2
    admin.selectbox(key="quiz_remove_who").set_value(admin.selectbox(key="quiz_remove_who").options[0]).run()
    next(b for b in admin.button if b.label == "Remove").click().run()
    assert not admin.exception
    assert quiz_store().rows(code) == []
    assert [p["removed"] for p in quiz_store().participants(code)] == [True]
    stuffer.run()
    assert any("removed you" in e.value for e in stuffer.error)


def test_each_participant_gets_unique_image_bytes_per_trial():
    import numpy as np

    from ui.quiz.dashboard import csv_cell
    from ui.quiz.participant import veil

    img = np.zeros((224, 224), np.uint8) + 100
    a, b = veil(img, "tok-a", 0, 0), veil(img, "tok-b", 0, 0)
    assert a.tobytes() != b.tobytes() and veil(img, "tok-a", 1, 0).tobytes() != a.tobytes()
    assert veil(img, "tok-a", 0, 0).tobytes() == a.tobytes()   # stable across reruns: one URL per trial
    assert np.abs(a.astype(int) - img).max() <= 2              # invisible
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and csv_cell("@x") == "'@x" and csv_cell(-3) == -3


def _image_zip(seed, n=12, size=(90, 70), fmt="PNG"):
    from tests.helpers import image_zip

    return image_zip(seed, n, size, fmt)


def compare(at, uploads, real, models=(), protocol="hype-inf", trials=6):
    at.segmented_control(key="quiz_role").set_value("Running a session").run()
    at.multiselect(key="cmp_models").set_value(list(models))
    at.file_uploader(key="cmp_uploads").set_value([(n, d, "application/zip") for n, d in uploads])
    if real is not None:
        at.file_uploader(key="cmp_real").set_value(("real.zip", real, "application/zip"))
    at.select_slider(key="cmp_size").set_value(64)
    at.radio(key="cmp_protocol").set_value(protocol)
    at.number_input(key="cmp_trials").set_value(trials)
    at.number_input(key="cmp_qual").set_value(0)
    next(b for b in at.button if b.label == "Create comparison").click().run()
    for _ in range(6):   # uploaded sets are prepared in a worker process: the page polls until it is done
        if "quiz_admin" in at.session_state or at.error or at.exception:
            break
        at = settle(at)
    assert not at.exception, at.exception
    return at


def test_create_a_three_arm_image_set_session_answer_and_rank():
    at = compare(new_app(), [("stylegan.zip", _image_zip(1)), ("biggan.zip", _image_zip(2, fmt="JPEG"))],
                 _image_zip(0, fmt="WEBP"), models=["mnist-cgan"])
    code, key = at.session_state["quiz_admin"]
    from ui.quiz.participant import quiz_store
    info = quiz_store().check_key(code, key)
    assert info.arm_names == ["mnist-cgan", "stylegan", "biggan"] and info.display_size == 64
    assert quiz_store().image_counts(code) == {0: 12, 2: 12, 3: 12}  # set k + 1 holds arm k's images
    for nick, right in (("Ada", True), ("Bob", False)):
        s = join(code, nick)
        for _ in range(6):
            assert len(s.get("image")) == 1 and not s.exception
            next(b for b in s.button if b.label in ("Real", "Fake")).click().run()
    at.run()
    assert not at.exception
    table = at.dataframe[0].value  # the ranking comes first, the pairwise table (in an expander) after
    assert sorted(table["model"]) == ["biggan", "mnist-cgan", "stylegan"]
    assert any("Separable at 95%" in m.value for m in at.markdown)
    assert any(b.label == "Download report (HTML)" for b in at.get("download_button"))


@pytest.mark.parametrize("uploads, message", [
    ([("a.zip", b"not a zip"), ("b.zip", b"x")], "'a': the upload is not a zip"),
    ([("a.zip", _image_zip(1, n=2))], "Choose 2 to 6 models"),
    ([("a.zip", _image_zip(1, n=2)), ("b.zip", _image_zip(2))], "'a': the zip holds 2 images"),
])
def test_bad_uploads_create_nothing_and_say_why(uploads, message):
    at = compare(new_app(), uploads, _image_zip(0))
    assert any(message in unescaped(e.value) for e in at.error), [e.value for e in at.error]
    assert "quiz_admin" not in at.session_state


def test_arm_names_from_file_names_are_plain_text_on_the_dashboard():
    """Hardening item 12: an arm is named after its zip's file name; the dashboard (the session line, the
    ranking, the hardest fakes) shows it as text, never as a link."""
    import re

    evil = "[Your session expired: sign in](evil.example)"
    at = compare(new_app(), [(f"{evil}.zip", _image_zip(1)), ("plain.zip", _image_zip(2))], _image_zip(0),
                 protocol="hype-inf", trials=4)
    code, _ = at.session_state["quiz_admin"]
    s = join(code, "Ada")
    for _ in range(4):                      # "Real" on every image: each fake shown fools this participant
        next(b for b in s.button if b.label in ("Real", "Left")).click().run()
    at.run()
    assert not at.exception
    texts = [e.value for e in list(at.markdown) + list(at.caption)]
    assert any("Your session expired" in t for t in texts)
    for t in texts:
        assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", t), t


def test_few_people_no_fake_interval_one_error_rate_and_the_answers_at_the_end():
    """With one person: '1 participant', no bootstrap interval (it needs 5 people), side by side one error rate
    (not the same event twice); the student who finished is 'the first', and sees which image was real."""
    admin = new_app()
    code, _ = create(admin, trials=2)
    p = join(code)
    for _ in range(2):
        next(b for b in answer_buttons(p) if b.label.startswith("Left")).click().run()
    assert not p.exception
    said = " ".join(m.value for m in p.markdown)
    assert "first to finish" in said and "better than 0 of" not in said
    reveal = p.expander[0]
    assert "which images were real" in reveal.label
    captions = [img.caption for el in p.get("image") for img in el.proto.imgs]
    assert captions.count("real") == 2 and captions.count("made by the model") == 2, captions   # two pairs
    assert any("you said **left is real**" in m.value for m in p.markdown)
    admin.run()
    assert not admin.exception
    assert "1 participant, 2 answers" in admin.subheader[0].value
    metrics = {m.label: m.value for m in admin.metric}
    assert metrics["95% CI (bootstrap)"] == "—"
    assert "Fake picked as the real one" in metrics and "Reals taken for fake" not in metrics
    assert any("Students open this address" in m.value for m in admin.markdown) or admin.info


def test_teacher_link_fills_in_the_code_and_shows_a_qr(monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_PUBLIC_URL", "http://192.168.1.20:8501")
    admin = new_app()
    code, _ = create(admin, trials=1)
    assert any(c.value == f"http://192.168.1.20:8501/quiz?code={code}" for c in admin.code)
    assert any("Scan to open" in img.caption for el in admin.get("image") for img in el.proto.imgs)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["code"] = code.lower()
    at.run()
    assert at.text_input(key="quiz_code_in").value == code


def _forms(node, out):
    p = getattr(node, "proto", None)
    if p is not None and type(p).__name__ == "Block" and p.WhichOneof("type") == "form":
        out[p.form.form_id] = p.form
    for child in (node.children.values() if isinstance(getattr(node, "children", None), dict) else ()):
        _forms(child, out)
    return out


def test_enter_in_a_setting_does_not_create_the_session():
    """Enter in "Trials per person" (or any field) must not submit the create forms: only the button does."""
    at = new_app()
    at.segmented_control(key="quiz_role").set_value("Running a session").run()
    forms = _forms(at._tree, {})
    assert not forms["quiz_create"].enter_to_submit and not forms["quiz_compare"].enter_to_submit


def test_from_five_people_the_interval_is_shown_and_its_label_stays_clear_of_chance():
    import json

    admin = new_app()
    code, _ = create(admin, trials=2)
    for k in range(5):
        p = join(code, nick=f"P{k}")
        for i in range(2):
            next(b for b in answer_buttons(p) if b.label.startswith("Left" if (i + k) % 2 else "Right")).click().run()
    admin.run()
    assert not admin.exception
    metrics = {m.label: m.value for m in admin.metric}
    assert metrics["95% CI (bootstrap)"] != "—" and "–" in metrics["95% CI (bootstrap)"]
    chart = next(json.loads(c.proto.spec) for c in admin.get("plotly_chart")
                 if "Error rate per participant" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    notes = {a["text"]: a for a in chart["layout"]["annotations"]}
    chance, band = notes["chance: can't tell"], notes["class 95% CI"]
    assert chance["xanchor"] == "left" and band["xanchor"] == "right"   # opposite ends: never on top of each other
