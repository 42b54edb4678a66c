"""The quiz page's shared parts (the store, the images of a trial) and the participant flow (join, answer,
own score); the instructor's side is in ``ui.quiz.dashboard``. All reads and writes go through
gan_core.humaneval.Store.

Integrity: the page never holds which image is real. A trial is drawn on the server into plain pixels;
the browser gets PNGs whose names are hashes of their pixels, the same captions and buttons for both sides,
and the sides in a fixed order (left, right) while which side is real is random per trial.
"""
from __future__ import annotations

import os
import time
import zlib

import numpy as np
import streamlit as st

import gan_core
from gan_core.latent.explorer import upscale
from gan_core.humaneval import QuizError, Store
from gan_core.humaneval.sources import veil  # noqa: F401  (also the tests' entry point)
from gan_core.humaneval.records import normalise_code
from gan_core.humaneval.scoring import summarise
from gan_core.humaneval.images import QuizImages
from ui.images import fast_png
from ui.text import count, plain

SCALE = 8  # 28 px -> 224 px, nearest neighbour: crisp pixels, no smoothing that hides artefacts
METRIC_HELP = {
    "hype": "HYPE∞ (Zhou et al. 2019): the share of answers that were wrong — fakes taken for real plus reals "
            "taken for fake. 50% means people cannot tell; 0% means every fake was spotted.",
    "d_prime": "d′ (signal detection): how well people separate real from fake, whatever their bias. 0 = "
               "chance; above 2 = easily told apart.",
}


@st.cache_resource
def quiz_store() -> Store:
    """One per server. st.secrets["quiz_db"] or GAN_STUDIO_QUIZ_DB may name any SQLAlchemy URL."""
    url = None
    try:
        url = st.secrets.get("quiz_db")
    except Exception:  # no secrets.toml: use the default
        url = None
    return Store(url or os.environ.get("GAN_STUDIO_QUIZ_DB") or None)


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def quiz_images(model: str) -> QuizImages:
    return QuizImages(str(gan_core.resolve_checkpoint(model)))


def quiz_models() -> list[str]:
    """Shipped generators of 28x28 digits (the real images are mnist-5k digits)."""
    from ui.models import checkpoint, model_paths

    return [n for n, p in model_paths().items() if tuple(checkpoint(p).model_config.img_shape) == (1, 28, 28)]


def big_image(img: np.ndarray) -> np.ndarray:
    return upscale(img[:, :, None], SCALE)[:, :, 0]


def shown_pixels(info, trial) -> list[np.ndarray]:
    """The image(s) of a trial as displayed: sessions of several arms, uploaded sets or HYPE-time draw through
    gan_core.humaneval.sources; a session of one app model as before (28 px enlarged 8 times)."""
    if info.arms or info.uses_uploads or info.protocol != "hype-inf":
        from gan_core.humaneval.sources import SessionImages

        return SessionImages(quiz_store(), info).trial_arrays(trial)
    return [big_image(img) for img in trial_pixels(info, trial)]


def trial_pixels(info, trial) -> list[np.ndarray]:
    """The image(s) of a trial, in display order."""
    imgs = quiz_images(info.model)
    real = imgs.real(trial.real_index) if trial.real_index is not None else None
    if trial.qualification:
        fake = imgs.noise(trial.index)
    else:
        fake = imgs.fake(trial.fake_seed, info.truncation) if trial.fake_seed is not None else None
    if trial.real_side is None:
        return [real if trial.is_real else fake]
    return [real, fake] if trial.real_side == 0 else [fake, real]


def session_rows(code: str) -> list[dict]:
    """Every answer of a session, read fresh (about 10 ms for 1,200 answers)."""
    rows = quiz_store().rows(code)
    for r in rows:
        r["participant"] = r["nickname"]
    return rows


@st.cache_data(show_spinner=False, max_entries=32)
def cached_summary(rows: list[dict]) -> dict:
    """The bootstrap (10,000 resamples) runs once per new set of answers, not on every 3 s refresh."""
    return summarise(rows, seed=0)


# ----------------------------------------------------------------------------- participant

def join_form() -> None:
    asked = st.query_params.get("code")   # the teacher's join link (?code=...) fills the code in
    if asked and "quiz_code_in" not in st.session_state:
        st.session_state.quiz_code_in = normalise_code(asked)[:12]
    with st.form("quiz_join"):
        st.subheader("Join a session")
        code = st.text_input("Join code", max_chars=12, key="quiz_code_in",
                             help="The 6-character code your teacher shows, e.g. K7QX2M.")
        nick = st.text_input("Nickname", max_chars=24, key="quiz_nick_in",
                             help="Up to 24 letters, digits, spaces or . ' - _. Others in the class see it on "
                                  "the teacher's screen.")
        if st.form_submit_button("Join", type="primary"):
            try:
                if normalise_code(code) in st.session_state.get("quiz_left", set()):
                    raise QuizError("You already took part in this session from this browser.")
                token, name = quiz_store().join(code, nick)
            except QuizError as e:
                st.error(str(e))
                return
            st.session_state.quiz_token = token
            st.session_state.quiz_joined = name
            st.query_params["p"] = token  # a reload resumes this place instead of making a new participant
            st.rerun()


def resume_from_link() -> None:
    """A reload starts a new browser session: take the participant's place back from the URL (``?p=``)."""
    s = st.session_state
    token = st.query_params.get("p")
    if s.get("quiz_token") or not token or s.get("quiz_resume_tried"):
        return
    s.quiz_resume_tried = True
    try:
        s.quiz_joined = quiz_store().nickname(token[:64])
        s.quiz_token = token[:64]
    except QuizError as e:
        st.info(plain(e))
        del st.query_params["p"]


def participant() -> None:
    s = st.session_state
    store = quiz_store()
    token = s.quiz_token
    try:
        done, total = store.progress(token)
        trial = store.next_trial(token)
    except QuizError as e:
        st.error(str(e))
        del s.quiz_token
        st.query_params.pop("p", None)
        return
    nick = s.get("quiz_joined", "")
    info = _session_of(token)
    thing = "image" if info.uses_uploads else "digit"
    st.caption(f"Playing as **{plain(nick)}**. " + (f"Which {thing} is real?" if info.mode == "pair"
                                               else f"Is this {thing} real, or made by a model?"))
    st.progress(done / total, text=f"{done} of {total} answered")
    if (fb := s.pop("quiz_feedback", None)) is not None:   # (correct, was a warm-up) of the answer just given
        right, warmup = fb if isinstance(fb, tuple) else (fb, False)
        what = "The warm-up you just answered" if warmup else "Your last answer"
        (st.success if right else st.error)(f"{what}: {'right!' if right else 'wrong.'}" +
                                            (" The next ones count, with no feedback." if warmup and not
                                             info.feedback and trial is not None and not trial.qualification
                                             else ""))
    if trial is None:
        finished(token, info)
        return
    if not info.open:
        st.warning("This session is closed; your answers so far are saved.")
        return
    shown = s.setdefault("quiz_shown", {})
    shown.setdefault(trial.index, time.monotonic())
    if trial.qualification:
        st.info("Warm-up question: it checks the quiz works for you and is not scored.")
    pixels = [veil(img, token, trial.index, i) for i, img in enumerate(shown_pixels(info, trial))]
    width = pixels[0].shape[1] if pixels[0].shape[1] >= 128 else 2 * pixels[0].shape[1]
    if trial.exposure_ms is not None:  # HYPE-time: the browser times the exposure
        from ui.quiz.exposure import timed_trial

        answer = timed_trial(pixels[0], trial.exposure_ms, trial.index,
                             seed=zlib.crc32(f"{token}:{trial.index}".encode()),
                             on_answer=lambda a: _timed_answer(token, trial.index, a), key="quiz_timed")
        if answer is not None and not s.pop("quiz_callback_ran", False):  # a new session: see _answer_without_callback
            _timed_answer(token, trial.index, answer)
            s.pop("quiz_callback_ran", None)
            st.rerun()
        if (err := s.pop("quiz_error", None)) is not None:
            st.error(err)
        return
    # Buttons keep one key across trials (so their keyboard shortcuts stay bound) and carry the trial index
    # they were drawn for: a double click answers that trial twice, which the store ignores.
    if len(pixels) == 2:
        c = st.columns(2)
        for col, img, side in zip(c, pixels, ("Left", "Right")):
            col.image(fast_png(img), caption=f"{side} image", width=width, output_format="PNG")
            if col.button(f"{side} is real", key=f"quiz_{side.lower()}", shortcut=side, width="stretch",
                          on_click=_answer, args=(token, trial.index, side.lower()),
                          help=f"Keyboard: the {side.lower()} arrow key."):
                _answer_without_callback(token, trial.index, side.lower())
    else:
        st.image(fast_png(pixels[0]), caption="Real or fake?", width=width, output_format="PNG")
        c = st.columns(2)
        for col, label, side in ((c[0], "Real", "Left"), (c[1], "Fake", "Right")):
            if col.button(label, key=f"quiz_{label.lower()}", shortcut=side, width="stretch", on_click=_answer,
                          args=(token, trial.index, label.lower()), help=f"Keyboard: the {side.lower()} arrow key."):
                _answer_without_callback(token, trial.index, label.lower())
    if (err := s.pop("quiz_error", None)) is not None:
        st.error(err)


def _session_of(token: str):
    info = quiz_store().session_of(token)
    st.session_state.quiz_info = info
    return info


def _answer_without_callback(token: str, index: int, choice: str) -> None:
    """A click whose callback did not run: the browser reconnected to a new server session (a restarted or
    another replica), which has no callbacks registered yet. The click was made on the trial now on screen
    (nothing was answered in between), so it is recorded here and the page moves on."""
    if st.session_state.pop("quiz_callback_ran", False):
        return  # the normal case: the callback already recorded this click
    _answer(token, index, choice)
    st.session_state.pop("quiz_callback_ran", None)
    st.rerun()


def _answer(token: str, index: int, choice: str) -> None:
    """Button callback: record the answer before the page reruns."""
    s = st.session_state
    s.quiz_callback_ran = True
    ms = int((time.monotonic() - s.get("quiz_shown", {}).get(index, time.monotonic())) * 1000)
    try:
        res = quiz_store().answer(token, index, choice, ms)
    except QuizError as e:
        s.quiz_error = str(e)
        return
    if not res.duplicate and (s.quiz_info.feedback or _is_qualification(token, index)):
        s.quiz_feedback = (res.correct, _is_qualification(token, index))


def _timed_answer(token: str, index: int, answer: dict) -> None:
    """The exposure component's callback: record (choice, achieved exposure) for the trial it was shown for."""
    s = st.session_state
    s.quiz_callback_ran = True
    try:
        if not isinstance(answer, dict) or int(answer.get("trial", -1)) != index:
            return  # an answer for another trial (a late or replayed message): ignored
        choice = answer.get("choice")
        rt = int(float(answer.get("rt") or 0))
        achieved = answer.get("achieved")
        achieved = float(achieved) if isinstance(achieved, (int, float)) else None
        res = quiz_store().answer(token, index, str(choice), rt, achieved_ms=achieved)
    except (QuizError, TypeError, ValueError) as e:
        s.quiz_error = str(e) if isinstance(e, QuizError) else "That answer could not be read; please answer again."
        return
    if not res.duplicate and (s.quiz_info.feedback or _is_qualification(token, index)):
        s.quiz_feedback = (res.correct, _is_qualification(token, index))


def _is_qualification(token: str, index: int) -> bool:
    return index < st.session_state.quiz_info.qualification


def finished(token: str, info) -> None:
    st.success("Done — thank you! Your answers are saved.")
    rows = session_rows(info.code)
    me = quiz_store().nickname(token)
    summ = summarise(rows)
    mine = next((p for p in summ["participants"] if p["participant"] == me), None)
    if mine is None:
        return
    c = st.columns(3)
    c[0].metric("You were fooled", f"{mine['hype']:.0%}", help=METRIC_HELP["hype"])
    c[1].metric("The class so far", f"{summ['overall']['hype']:.0%}",
                help=f"Over {count(summ['overall']['participants'], 'participant')}.")
    c[2].metric("Your median time", f"{mine['median_ms'] / 1000:.1f} s")
    others = [p for p in summ["participants"] if p["participant"] != me]
    if others:
        better = sum(p["hype"] > mine["hype"] for p in others)
        st.write(f"You were fooled less often than {better} of the {len(others)} other "
                 f"{'person' if len(others) == 1 else 'people'} who have answered so far. 50% fooled would mean "
                 "the generator's images pass for real.")
    else:
        st.write("You are the first to finish: the class's figures fill in as others answer. 50% fooled would "
                 "mean the generator's images pass for real.")
    if info.reveal:
        reveal_answers(info, [r for r in rows if r["participant"] == me])
    if st.button("Leave this session"):
        st.session_state.setdefault("quiz_left", set()).add(info.code)
        for k in ("quiz_token", "quiz_joined", "quiz_shown", "quiz_info", "quiz_info_token"):
            st.session_state.pop(k, None)
        st.query_params.pop("p", None)
        st.rerun()


def reveal_answers(info, mine: list[dict]) -> None:
    """A finished participant's trials again, each image labelled with what it was and what they answered (only
    when the teacher allowed it; answers cannot change by now)."""
    from gan_core.humaneval.records import TrialView

    with st.expander(f"The answers: which images were real ({len(mine)} questions)", expanded=True):
        for r in mine:
            t = TrialView(r["index"], r["qualification"], r["real_index"], r["fake_seed"], r["real_side"],
                          r["is_real"], len(mine), r["arm"])
            pixels = shown_pixels(info, t)
            kinds = (["real", "fake"] if t.real_side == 0 else ["fake", "real"]) if t.real_side is not None \
                else ["real" if t.is_real else "fake"]
            what = "noise (warm-up)" if t.qualification else "made by the model"
            cols = st.columns([1] * len(pixels) + [2])
            for col, img, kind in zip(cols, pixels, kinds):
                col.image(fast_png(img), width=96, output_format="PNG",
                          caption="real" if kind == "real" else what)
            said = {"left": "left is real", "right": "right is real"}.get(r["choice"], r["choice"])
            cols[-1].markdown(f"Question {r['index'] + 1}: you said **{said}**, "
                              f"{'right' if r['correct'] else 'wrong'}.")
