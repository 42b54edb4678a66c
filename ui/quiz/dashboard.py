"""The quiz page's instructor side: create a session, open its dashboard, scores, CSV downloads, remove a
participant, close. Sessions of several models draw their dashboard through ``ui.quiz.arms``."""
from __future__ import annotations

import csv
import io

import plotly.graph_objects as go
import streamlit as st

from gan_core.humaneval import QuizError
from gan_core.humaneval.scoring import discriminator_agreement, per_image, qualified
from gan_core.humaneval.retention import KEEP_HOURS
from ui.quiz.participant import METRIC_HELP, big_image, cached_summary, quiz_images, quiz_models, quiz_store, session_rows
from ui.priority import in_turn
from ui.text import count, plain
from ui.work import client, owner

MIN_BOOTSTRAP_PEOPLE = 5   # below this a bootstrap over participants says nothing about a class

def create_form() -> None:
    models = quiz_models()
    with st.form("quiz_create", enter_to_submit=False):
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
        c = st.columns(3)
        hours = c[0].number_input("Open for (hours)", 0.25, 336.0, 12.0, 0.25,
                                  help="After this the session accepts no answers.")
        reveal = c[1].checkbox("Show the answers at the end", value=True,
                               help="When someone has answered every question, they see each image again with "
                                    "what it was (real or made by the model) and what they said. Answers "
                                    "cannot be changed by then; turn it off if people who have finished might "
                                    "tell the others.")
        if st.form_submit_button("Create session", type="primary"):
            try:
                code, key = quiz_store().create_session(model, mode, int(n), float(psi), bool(feedback),
                                                        int(qual), hours=float(hours), creator=client() or owner(),
                                                        reveal=bool(reveal))
            except QuizError as e:
                st.error(plain(e))
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


def storage_caption() -> None:
    """How much the quiz database holds, against its limit, so a teacher sees it before the disk does."""
    try:
        u = quiz_store().storage()
    except Exception:  # a courtesy figure: never an error on the dashboard
        return
    size = "" if u["database_bytes"] is None else f"; the database takes {u['database_bytes'] / 1e6:,.1f} MB on disk"
    st.caption(f"Quiz database: {count(u['sessions'], 'session')} ({u['open']:,} open), "
               f"{u['image_bytes'] / 1e6:,.1f} MB of uploaded images of {u['image_limit_bytes'] / 1e6:,.0f} MB "
               f"allowed{size}. Uploaded images are deleted {KEEP_HOURS:g} hours after a session ends; answers "
               "and scores stay.")


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
    what = (f"{len(info.arm_names)} models ({', '.join(plain(n) for n in info.arm_names)}), {info.protocol}" if compare
            else f"Model **{info.model}**")
    c[1].caption(f"{what}, {'side by side' if info.mode == 'pair' else 'one at a time'}, "
                 f"{info.n_trials} trials, ψ = {info.truncation:g}, feedback {'on' if info.feedback else 'off'}, "
                 f"answers {'shown' if info.reveal else 'not shown'} at the end, "
                 f"{info.qualification} warm-up. " + ("**Closed.**" if not info.open else
                                                       f"Open until {info.expires_at:%Y-%m-%d %H:%M} UTC."))
    if info.open and c[2].button("Close session", help="Stop accepting answers. Results stay."):
        quiz_store().close_session(code, key)
        st.rerun()
    if c[2].button("Leave dashboard"):
        del st.session_state.quiz_admin
        st.rerun()

    if info.open:
        from ui.joinlink import join_panel

        with st.expander("Join link and QR code, for the projector", expanded=True):
            join_panel("quiz", {"code": info.code}, "Students open this address (or scan the code)")
    storage_caption()
    remove_form(code, key)
    # Outside the refreshing fragment, so a click never lands on a button that was just replaced; the
    # files are built when clicked, so they hold every answer up to that moment.
    d = st.columns(2)
    d[0].download_button("Download answers (CSV)", lambda: csv_bytes(session_rows(code)), f"quiz-{code}-answers.csv",
                         "text/csv", on_click="ignore",
                         help="One row per answer: participant, trial, which images, the answer, correctness, "
                              "response time.")
    if compare:
        from ui.quiz import arms as arms_view

        arms_view.report_and_delete(info, key, quiz_store())
    else:
        d[1].download_button("Download per-image results (CSV)", lambda: csv_bytes(image_table(info)),
                             f"quiz-{code}-images.csv", "text/csv", on_click="ignore",
                             help="One row per image shown: how often it fooled people and what D said about it.")

    @st.fragment(run_every=3 if info.open else None)
    @in_turn
    def _live():
        if compare:
            from ui.quiz import arms as arms_view

            people = quiz_store().participants(code)
            rows = quiz_store().rows(code)
            st.subheader(f"{count(len(people), 'participant')}, {count(len(rows), 'answer')}")
            arms_view.results(info, rows, quiz_store())
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
    scored = _scored(session_rows(info.code)) if scored is None else scored
    reals = tuple(sorted({r["real_index"] for r in scored if r["real_index"] is not None}))
    fakes = tuple(sorted({r["fake_seed"] for r in scored if r["fake_seed"] is not None}))
    return per_image(scored, _d_probs(info.model, info.truncation, reals, fakes))


def results(info) -> None:
    code = info.code
    people = quiz_store().participants(code)
    rows = session_rows(code)
    ok = qualified(rows)
    scored = [r for r in rows if r["participant"] in ok]
    st.subheader(f"{count(len(people), 'participant')}, {count(len(rows), 'answer')}")
    if people:
        st.dataframe([{"nickname": p["nickname"], "answered": p["answered"], "of": p["total"],
                       "qualified": p["nickname"] in ok or p["answered"] == 0, "removed": p["removed"]}
                      for p in people],
                     hide_index=True, height=min(35 * len(people) + 40, 300))
    if not scored:
        st.info("Scores appear here as answers come in (the page refreshes every 3 seconds).")
        return
    summ = cached_summary(scored)
    o = summ["overall"]
    enough = o["participants"] >= MIN_BOOTSTRAP_PEOPLE
    pair = info.mode == "pair"
    c = st.columns(4 if pair else 5)
    c[0].metric("HYPE∞ (error rate)", f"{o['hype']:.1%}", help=METRIC_HELP["hype"])
    c[1].metric("95% CI (bootstrap)", f"{o['bootstrap_low']:.0%}–{o['bootstrap_high']:.0%}" if enough else "—",
                help="Participants resampled with replacement 10,000 times (seeded), as HYPE does. "
                     f"It needs at least {MIN_BOOTSTRAP_PEOPLE} people: resampling one or two people says "
                     "nothing about a class." + ("" if enough else f" {o['participants']} so far."))
    if pair:  # one error is a fake taken for real and a real taken for fake at once: one rate, not two
        c[2].metric("Fake picked as the real one", f"{o['fake_error']:.1%}",
                    help="Side by side, every wrong answer picks the fake as real (and so calls the real one "
                         "fake): it is the error rate, counted once.")
    else:
        c[2].metric("Fakes taken for real", f"{o['fake_error']:.1%}")
        c[3].metric("Reals taken for fake", f"{o['real_error']:.1%}")
    c[-1].metric("d′", f"{o['d_prime']:.2f}", help=METRIC_HELP["d_prime"])
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
    # the two labels sit at opposite ends, so they never overlap however close the interval is to 0.5
    fig.add_hline(y=0.5, line_dash="dot", annotation_text="chance: can't tell", annotation_position="top left")
    if enough:
        fig.add_hrect(y0=o["bootstrap_low"], y1=o["bootstrap_high"], fillcolor="orange", opacity=0.2,
                      line_width=0, annotation_text="class 95% CI", annotation_position="bottom right")
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
            col.image(big_image(quiz_images(info.model).fake(r["ref"], info.truncation)), width=112, output_format="PNG",
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
