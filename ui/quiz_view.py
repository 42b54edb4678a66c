"""The quiz page's parts: the participant flow (join, answer, own score) and the instructor's side
(create, dashboard, CSV, close). All reads and writes go through gan_core.humaneval.Store.

Integrity: the page never holds which image is real. A trial is drawn on the server into plain pixels;
the browser gets PNGs whose names are hashes of their pixels, the same captions and buttons for both sides,
and the sides in a fixed order (left, right) while which side is real is random per trial.
"""
from __future__ import annotations

import csv
import io
import os
import time
import zlib

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import gan_core
from gan_core.explore import upscale
from gan_core.humaneval import QuizError, Store
from gan_core.humaneval.sources import veil  # noqa: F401  (also the tests' entry point)
from gan_core.humaneval.store import normalise_code
from gan_core.humaneval.scoring import discriminator_agreement, per_image, qualified, summarise
from gan_core.humaneval.images import QuizImages

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


def _big(img: np.ndarray) -> np.ndarray:
    return upscale(img[:, :, None], SCALE)[:, :, 0]


def shown_pixels(info, trial) -> list[np.ndarray]:
    """The image(s) of a trial as displayed: sessions of several arms, uploaded sets or HYPE-time draw through
    gan_core.humaneval.sources; a session of one app model as before (28 px enlarged 8 times)."""
    if info.arms or info.uses_uploads or info.protocol != "hype-inf":
        from gan_core.humaneval.sources import SessionImages

        return SessionImages(quiz_store(), info).trial_arrays(trial)
    return [_big(img) for img in trial_pixels(info, trial)]


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


# ----------------------------------------------------------------------------- participant

def join_form() -> None:
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
        st.info(f"{e}")
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
    st.caption(f"Playing as **{nick}**. " + (f"Which {thing} is real?" if info.mode == "pair"
                                               else f"Is this {thing} real, or made by a model?"))
    st.progress(done / total, text=f"{done} of {total} answered")
    if (fb := s.pop("quiz_feedback", None)) is not None:
        (st.success if fb else st.error)("Right!" if fb else "Wrong.")
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
        from ui.exposure import timed_trial

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
            col.image(img, caption=f"{side} image", width=width, output_format="PNG")
            if col.button(f"{side} is real", key=f"quiz_{side.lower()}", shortcut=side, width="stretch",
                          on_click=_answer, args=(token, trial.index, side.lower()),
                          help=f"Keyboard: the {side.lower()} arrow key."):
                _answer_without_callback(token, trial.index, side.lower())
    else:
        st.image(pixels[0], caption="Real or fake?", width=width, output_format="PNG")
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
        s.quiz_feedback = res.correct


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
        s.quiz_feedback = res.correct


def _is_qualification(token: str, index: int) -> bool:
    return index < st.session_state.quiz_info.qualification


def finished(token: str, info) -> None:
    st.success("Done — thank you! Your answers are saved.")
    rows = _rows(info.code)
    me = quiz_store().nickname(token)
    summ = summarise(rows)
    mine = next((p for p in summ["participants"] if p["participant"] == me), None)
    if mine is None:
        return
    c = st.columns(3)
    c[0].metric("You were fooled", f"{mine['hype']:.0%}", help=METRIC_HELP["hype"])
    c[1].metric("The class so far", f"{summ['overall']['hype']:.0%}",
                help=f"Over {summ['overall']['participants']} participants.")
    c[2].metric("Your median time", f"{mine['median_ms'] / 1000:.1f} s")
    better = sum(p["hype"] > mine["hype"] for p in summ["participants"])
    st.write(f"You spotted fakes better than {better} of the {len(summ['participants'])} people who have "
             "answered so far. 50% fooled would mean the generator's digits pass for real.")
    if st.button("Leave this session"):
        st.session_state.setdefault("quiz_left", set()).add(info.code)
        for k in ("quiz_token", "quiz_joined", "quiz_shown", "quiz_info", "quiz_info_token"):
            st.session_state.pop(k, None)
        st.query_params.pop("p", None)
        st.rerun()


# ----------------------------------------------------------------------------- instructor

def create_form() -> None:
    models = quiz_models()
    with st.form("quiz_create"):
        st.subheader("Create a session")
        c = st.columns(3)
        model = c[0].selectbox("Model", models, index=models.index("mnist-cgan") if "mnist-cgan" in models else 0,
                               help="The generator whose digits are put next to real mnist-5k digits.")
        mode = c[1].radio("Mode", ["pair", "single"], horizontal=True,
                          format_func={"pair": "Side by side", "single": "One at a time"}.get,
                          help="Side by side: a real and a fake, which is real? One at a time: real or fake? "
                               "(HYPE∞'s protocol).")
        n = c[2].number_input("Trials per person", 1, 200, 20, help="Questions each participant answers.")
        c = st.columns(3)
        psi = c[0].slider("Truncation ψ", 0.1, 1.5, 1.0, 0.05,
                          help="Below 1: more typical, cleaner fakes (harder to spot); 1: the model as trained.")
        qual = c[1].number_input("Warm-up questions", 0, 10, 0,
                                 help="Optional qualification round: real digits against plain noise, not "
                                      "scored. People who miss more than a quarter are left out of the scores.")
        feedback = c[2].checkbox("Show right/wrong after each answer", value=False,
                                 help="Teaching mode. Off for a measurement: feedback lets people learn the "
                                      "generator's tells during the quiz.")
        hours = st.number_input("Open for (hours)", 0.25, 336.0, 12.0, 0.25,
                                help="After this the session accepts no answers.")
        if st.form_submit_button("Create session", type="primary"):
            try:
                code, key = quiz_store().create_session(model, mode, int(n), float(psi), bool(feedback),
                                                        int(qual), hours=float(hours))
            except QuizError as e:
                st.error(str(e))
                return
            st.session_state.quiz_admin = (code, key)
            st.session_state.quiz_new_key = key
            st.rerun()


def open_form() -> None:
    with st.form("quiz_open"):
        st.subheader("Open a session's dashboard")
        c = st.columns(2)
        code = c[0].text_input("Join code", max_chars=12, key="quiz_admin_code")
        key = c[1].text_input("Instructor key", type="password", max_chars=100, key="quiz_admin_key",
                              help="The private key shown when the session was created.")
        if st.form_submit_button("Open"):
            try:
                info = quiz_store().check_key(code, key)
            except QuizError as e:
                st.error(str(e))
                return
            st.session_state.quiz_admin = (info.code, key)
            st.rerun()


def _rows(code: str) -> list[dict]:
    """Every answer of a session, read fresh (about 10 ms for 1,200 answers)."""
    rows = quiz_store().rows(code)
    for r in rows:
        r["participant"] = r["nickname"]
    return rows


@st.cache_data(show_spinner=False, max_entries=64)
def _d_probs(model: str, truncation: float, reals: tuple, fakes: tuple) -> dict:
    return quiz_images(model).d_real_prob(list(reals), list(fakes), truncation)


def csv_cell(value):
    """A text cell a spreadsheet would run as a formula (= + - @, tab, CR first) gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_bytes(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows({k: csv_cell(v) for k, v in r.items()} for r in rows)
    return buf.getvalue().encode()


@st.cache_data(show_spinner=False, max_entries=32)
def _summary(rows: list[dict]) -> dict:
    """The bootstrap (10,000 resamples) runs once per new set of answers, not on every 3 s refresh."""
    return summarise(rows, seed=0)


def dashboard() -> None:
    code, key = st.session_state.quiz_admin
    try:
        info = quiz_store().check_key(code, key)
    except QuizError as e:
        st.error(str(e))
        del st.session_state.quiz_admin
        return
    if (new := st.session_state.pop("quiz_new_key", None)) is not None:
        st.success("Session created. Students open this page, choose **Join**, and type the code.")
        st.warning("Your instructor key is shown only now — copy it to reopen this dashboard from another "
                   "browser. The server keeps only a hash of it.")
        st.code(new, language=None)
    c = st.columns([2, 3, 1])
    c[0].metric("Join code", info.code)
    compare = bool(info.arms) or info.protocol != "hype-inf"
    what = (f"{len(info.arm_names)} models ({', '.join(info.arm_names)}), {info.protocol}" if compare
            else f"Model **{info.model}**")
    c[1].caption(f"{what}, {'side by side' if info.mode == 'pair' else 'one at a time'}, "
                 f"{info.n_trials} trials, ψ = {info.truncation:g}, feedback {'on' if info.feedback else 'off'}, "
                 f"{info.qualification} warm-up. " + ("**Closed.**" if not info.open else
                                                       f"Open until {info.expires_at:%Y-%m-%d %H:%M} UTC."))
    if info.open and c[2].button("Close session", help="Stop accepting answers. Results stay."):
        quiz_store().close_session(code, key)
        st.rerun()
    if c[2].button("Leave dashboard"):
        del st.session_state.quiz_admin
        st.rerun()

    remove_form(code, key)
    # Outside the refreshing fragment, so a click never lands on a button that was just replaced; the
    # files are built when clicked, so they hold every answer up to that moment.
    d = st.columns(2)
    d[0].download_button("Download answers (CSV)", lambda: csv_bytes(_rows(code)), f"quiz-{code}-answers.csv",
                         "text/csv", on_click="ignore",
                         help="One row per answer: participant, trial, which images, the answer, correctness, "
                              "response time.")
    if compare:
        from ui import quiz_arms_view

        quiz_arms_view.report_and_delete(info, key, quiz_store())
    else:
        d[1].download_button("Download per-image results (CSV)", lambda: csv_bytes(image_table(info)),
                             f"quiz-{code}-images.csv", "text/csv", on_click="ignore",
                             help="One row per image shown: how often it fooled people and what D said about it.")

    @st.fragment(run_every=3 if info.open else None)
    def _live():
        if compare:
            from ui import quiz_arms_view

            people = quiz_store().participants(code)
            rows = quiz_store().rows(code)
            st.subheader(f"{len(people)} participants, {len(rows)} answers")
            quiz_arms_view.results(info, rows, quiz_store())
        else:
            results(info)

    _live()


def remove_form(code: str, key: str) -> None:
    people = [p for p in quiz_store().participants(code) if not p["removed"]]
    if not people:
        return
    with st.expander("Remove a participant"):
        who = st.selectbox("Participant", people, format_func=lambda p: f"{p['nickname']} ({p['answered']} "
                           f"answers)", key="quiz_remove_who",
                           help="Someone who joined twice, answered at random or is not in the class. Their "
                                "answers leave the scores and downloads and they cannot answer more.")
        if st.button("Remove", key="quiz_remove"):
            try:
                quiz_store().remove_participant(code, key, who["number"])
            except QuizError as e:
                st.error(str(e))
                return
            st.rerun()


def _scored(rows: list[dict]) -> list[dict]:
    """The answers of participants who passed the warm-up (everyone, when there was none)."""
    ok = qualified(rows)
    return [r for r in rows if r["participant"] in ok]


def image_table(info, scored: list[dict] | None = None) -> list[dict]:
    """Per-image results of the qualified participants' answers, with D's probability for each image."""
    scored = _scored(_rows(info.code)) if scored is None else scored
    reals = tuple(sorted({r["real_index"] for r in scored if r["real_index"] is not None}))
    fakes = tuple(sorted({r["fake_seed"] for r in scored if r["fake_seed"] is not None}))
    return per_image(scored, _d_probs(info.model, info.truncation, reals, fakes))


def results(info) -> None:
    code = info.code
    people = quiz_store().participants(code)
    rows = _rows(code)
    ok = qualified(rows)
    scored = [r for r in rows if r["participant"] in ok]
    st.subheader(f"{len(people)} participants, {len(rows)} answers")
    if people:
        st.dataframe([{"nickname": p["nickname"], "answered": p["answered"], "of": p["total"],
                       "qualified": p["nickname"] in ok or p["answered"] == 0, "removed": p["removed"]}
                      for p in people],
                     hide_index=True, height=min(35 * len(people) + 40, 300))
    if not scored:
        st.info("Scores appear here as answers come in (the page refreshes every 3 seconds).")
        return
    summ = _summary(scored)
    o = summ["overall"]
    c = st.columns(5)
    c[0].metric("HYPE∞ (error rate)", f"{o['hype']:.1%}", help=METRIC_HELP["hype"])
    c[1].metric("95% CI (bootstrap)", f"{o['bootstrap_low']:.0%}–{o['bootstrap_high']:.0%}",
                help="Participants resampled with replacement 10,000 times (seeded), as HYPE does.")
    c[2].metric("Fakes taken for real", f"{o['fake_error']:.1%}")
    c[3].metric("Reals taken for fake", f"{o['real_error']:.1%}",
                help="In side-by-side mode every error is both, so the two rates are equal.")
    c[4].metric("d′", f"{o['d_prime']:.2f}", help=METRIC_HELP["d_prime"])
    st.caption(f"Wilson 95% interval on the pooled rate: {o['wilson_low']:.1%} – {o['wilson_high']:.1%}. Median "
               f"response time {o['median_ms'] / 1000:.1f} s. {len(rows) - len(scored)} answers from people who "
               "failed the warm-up are left out." if len(rows) != len(scored) else
               f"Wilson 95% interval on the pooled rate: {o['wilson_low']:.1%} – {o['wilson_high']:.1%}. Median "
               f"response time {o['median_ms'] / 1000:.1f} s.")
    ppl = sorted(summ["participants"], key=lambda p: p["hype"])
    fig = go.Figure(go.Bar(x=[p["participant"] for p in ppl], y=[p["hype"] for p in ppl],
                           error_y=dict(type="data", symmetric=False,
                                        array=[p["wilson_high"] - p["hype"] for p in ppl],
                                        arrayminus=[p["hype"] - p["wilson_low"] for p in ppl])))
    fig.add_hline(y=0.5, line_dash="dot", annotation_text="chance: can't tell")
    fig.add_hrect(y0=o["bootstrap_low"], y1=o["bootstrap_high"], fillcolor="orange", opacity=0.2, line_width=0,
                  annotation_text="class 95% CI")
    fig.update_layout(title="Error rate per participant (Wilson 95% bars)", height=320, yaxis_range=[0, 1],
                      yaxis_tickformat=".0%", margin=dict(l=10, r=10, t=40, b=10))
    st.plotly_chart(fig, key="quiz_people_chart")

    imgs = image_table(info, scored)
    ag = discriminator_agreement(imgs)
    st.subheader("Hardest fakes")
    hard = [r for r in imgs if r["kind"] == "fake" and r["fooled"] > 0][:8]
    if hard:
        cols = st.columns(len(hard))
        for col, r in zip(cols, hard):
            col.image(_big(quiz_images(info.model).fake(r["ref"], info.truncation)), width=112, output_format="PNG",
                      caption=f"fooled {r['fooled']}/{r['shown']}; D {r['d_prob']:.2f}" if r["d_prob"] is not None
                      else f"fooled {r['fooled']}/{r['shown']}")
    else:
        st.caption("No fake has fooled anyone yet.")
    st.caption(f"Discriminator vs humans: they agree on {ag['agreement']:.0%} of {ag['images']} images (D says "
               "real when its probability is above 0.5; humans when most people said real). Rank correlation "
               f"between D's probability and how often a fake fooled people: {ag['spearman_fakes']:.2f} "
               "(1 = D and people find the same fakes convincing).")
    with st.expander("Every image"):
        st.dataframe(imgs, hide_index=True)
