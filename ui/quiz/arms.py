"""The quiz for researchers: compare 2-6 models ("arms"), app models or uploaded image sets, in HYPE-infinity
or HYPE-time; the ranking dashboard, the report download and deleting a session. All storage and statistics
are in gan_core.humaneval; this module only draws."""
from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path, PurePosixPath

import plotly.graph_objects as go
import streamlit as st

from gan_core.humaneval import QuizError, rank_arms
from gan_core.humaneval.imagesets import DISPLAY_SIZES, MAX_ZIP_BYTES
from gan_core.humaneval.retention import KEEP_HOURS
from gan_core.humaneval.report import PROTOCOL_TEXT, build_report
from gan_core.humaneval.scoring import qualified
from gan_core.humaneval.sources import SessionImages
from gan_core.humaneval.plans import MAX_ARMS, MIN_ARMS
from ui.quiz.exposure import HELP as TIME_HELP
from ui.text import plain

PROTOCOL_LABELS = {"hype-inf": "HYPE∞ (no time limit)", "hype-time": "HYPE-time (timed exposures)"}


def _arm_name(file_name: str) -> str:
    return PurePosixPath(file_name).stem[:40] or "model"


def create_compare_form(models: list[str], store) -> None:
    """Create a session comparing several models, from app models and/or zips of generated images. Uploaded
    sets are checked and normalised in a worker process (``gan_core.serve.worktasks.prepare_image_sets``); the
    session is created when that is done."""
    if st.session_state.get("cmp_pending"):
        _finish_pending(store)
        return
    with st.form("quiz_compare", enter_to_submit=False):
        st.subheader("Compare several models")
        st.caption("Rank 2 to 6 models by how well their images pass for real, with paired 95% intervals "
                   "(HYPE, Zhou et al. 2019). Use this app's models, or upload one zip of generated images per "
                   "model and a zip of real images (PNG, JPEG or WebP; up to 1,024 px a side; "
                   f"at most {MAX_ZIP_BYTES // 1_000_000} MB per zip).")
        c = st.columns(2)
        app_models = c[0].multiselect("App models", models, key="cmp_models",
                                      help="Generators of this app (they draw 28x28 digits).")
        uploads = c[1].file_uploader("Generated images, one zip per model", type=["zip"], key="cmp_uploads",
                                     accept_multiple_files=True,
                                     help="Each zip is one arm, named after the file (e.g. stylegan2.zip).")
        c = st.columns(2)
        real_zip = c[0].file_uploader("Real images (zip)", type=["zip"], key="cmp_real",
                                      help="Leave empty to compare against mnist-5k digits (only sensible for "
                                           "digit models).")
        size = c[1].select_slider("Display size (px)", DISPLAY_SIZES, value=128, key="cmp_size",
                                  help="Every image, real or generated, is resized to this square size and "
                                       "re-encoded the same way, so nothing but its content differs.")
        c = st.columns(4)
        protocol = c[0].radio("Protocol", list(PROTOCOL_LABELS), format_func=PROTOCOL_LABELS.get, key="cmp_protocol",
                              help="HYPE∞: judge each image without a time limit. " + TIME_HELP)
        mode = c[1].radio("Layout", ["single", "pair"], key="cmp_mode",
                          format_func={"single": "One at a time", "pair": "Side by side"}.get,
                          help="HYPE-time is always one at a time.")
        n = c[2].number_input("Trials per person", 2, 200, 30, key="cmp_trials",
                              help="Spread evenly over the models; no one sees a generated image twice.")
        qual = c[3].number_input("Warm-up questions", 0, 10, 2, key="cmp_qual",
                                 help="Real images against plain noise, not scored; people who miss more than a "
                                      "quarter are left out of the scores.")
        hours = st.number_input("Open for (hours)", 0.25, 336.0, 12.0, 0.25, key="cmp_hours",
                                help="After this the session accepts no answers; its uploaded images are deleted "
                                     f"{KEEP_HOURS:g} hours later (the answers and scores stay).")
        if not st.form_submit_button("Create comparison", type="primary"):
            return
    arms = [{"name": m, "kind": "model", "model": m} for m in app_models]
    names = {a["name"] for a in arms}
    for up in uploads or []:
        name = _arm_name(up.name)
        while name in names:
            name += "'"
        names.add(name)
        arms.append({"name": name, "kind": "images", "upload": up})
    if not MIN_ARMS <= len(arms) <= MAX_ARMS:
        st.error(f"Choose {MIN_ARMS} to {MAX_ARMS} models in all (app models plus uploaded zips); you chose "
                 f"{len(arms)}.")
        return
    settings = dict(mode=mode, n_trials=int(n), qualification=int(qual), hours=float(hours), protocol=protocol,
                    size=size, specs=[{k: v for k, v in a.items() if k != "upload"} for a in arms])
    sets = {k + 1: a for k, a in enumerate(arms) if a["kind"] == "images"}
    if real_zip is None and not sets:
        _create(store, settings, {})
        return
    # the zips go to files for the worker; nothing of them is decoded in this process
    folder = Path(tempfile.mkdtemp(prefix="gan_studio_sets_"))
    zips, labels, digest = {}, {}, hashlib.sha256(str(size).encode())
    for k, (up, label) in {**({0: (real_zip, "Real images")} if real_zip is not None else {}),
                           **{k: (a["upload"], repr(a["name"])) for k, a in sets.items()}}.items():
        data = up.getvalue()
        (folder / f"{k}.zip").write_bytes(data)
        zips[k], labels[k] = str(folder / f"{k}.zip"), label
        digest.update(hashlib.sha256(data).digest())
    st.session_state.cmp_pending = {**settings, "folder": str(folder), "zips": zips, "labels": labels,
                                    "key": ("image sets", digest.hexdigest()[:24], size)}
    st.rerun()


def _drop_pending() -> None:
    p = st.session_state.pop("cmp_pending", None)
    if p:
        shutil.rmtree(p["folder"], ignore_errors=True)


def _finish_pending(store) -> None:
    """The uploaded sets are being prepared in a worker: progress, then the session (or why not)."""
    from gan_core.serve import worktasks
    from gan_core.serve.workers import Task
    from ui.work import queued, work_queue

    p = st.session_state.cmp_pending
    st.subheader("Compare several models")
    q = work_queue()
    t = q.peek(p["key"])
    if t is not None and t.state == "error":
        st.error(f"Nothing was created: {plain(t.error)}")
        q.forget(p["key"])
        _drop_pending()
        st.button("Back to the form", key="cmp_back")
        return
    images = queued(p["key"], "the check and preparation of the uploaded images",
                    Task(worktasks.prepare_image_sets, (p["zips"], p["labels"], p["size"])))
    if images is None:
        if p["key"] in st.session_state.get("work_cancelled", set()):
            st.session_state.work_cancelled.discard(p["key"])
            _drop_pending()
            st.rerun()
        return
    q.forget(p["key"])            # up to 300 MB of prepared images: not kept in the queue's cache
    _drop_pending()
    _create(store, p, images)


def _create(store, settings: dict, images: dict[int, list[bytes]]) -> None:
    from ui.work import client, owner

    specs = settings["specs"]
    try:
        code, key = store.create_session(specs[0]["name"], settings["mode"], settings["n_trials"],
                                         qualification=settings["qualification"], hours=settings["hours"],
                                         arms=specs, protocol=settings["protocol"], images=images,
                                         display_size=settings["size"] if images else None,
                                         creator=client() or owner())
    except QuizError as e:
        st.error(f"Nothing was created: {plain(e)}")
        return
    st.session_state.quiz_admin = (code, key)
    st.session_state.quiz_new_key = key
    st.rerun()


# ----------------------------------------------------------------------------- dashboard

@st.cache_data(show_spinner=False, max_entries=32)
def _ranked(rows: list[dict], names: tuple, protocol: str) -> dict:
    return rank_arms(rows, list(names), protocol=protocol, seed=0)


def results(info, rows: list[dict], store) -> None:
    """Ranking table, interval chart, which differences are separable, and the hardest fakes per arm."""
    for r in rows:
        r["participant"] = r["number"]
    ok = qualified(rows)
    scored = [r for r in rows if r["participant"] in ok]
    if not scored:
        st.info("Scores appear here as answers come in (the page refreshes every 3 seconds).")
        return
    names = info.arm_names
    ranked = _ranked(scored, tuple(names), info.protocol)
    pct = info.protocol == "hype-inf"
    fmt = (lambda v: f"{v:.1%}") if pct else (lambda v: f"{v:.0f} ms")
    st.subheader("Ranking")
    st.caption(PROTOCOL_TEXT[info.protocol])
    st.dataframe([{"rank": i + 1, "model": ranked["arms"][a]["name"], "score": fmt(ranked["arms"][a]["score"]),
                   "95% interval": f"{fmt(ranked['arms'][a]['low'])} – {fmt(ranked['arms'][a]['high'])}",
                   "participants": ranked["arms"][a]["participants"], "answers": ranked["arms"][a]["answers"]}
                  for i, a in enumerate(ranked["ranking"])], hide_index=True)
    arms = [ranked["arms"][a] for a in ranked["ranking"]][::-1]
    fig = go.Figure(go.Scatter(x=[a["score"] for a in arms], y=[a["name"] for a in arms], mode="markers",
                               error_x=dict(type="data", symmetric=False,
                                            array=[a["high"] - a["score"] for a in arms],
                                            arrayminus=[a["score"] - a["low"] for a in arms])))
    if pct:
        fig.add_vline(x=0.5, line_dash="dot", annotation_text="chance: can't tell")
    fig.update_layout(title="Score and 95% interval per model (participants resampled jointly)",
                      height=120 + 40 * len(arms), margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_tickformat=".0%" if pct else None, xaxis_title=None if pct else "threshold (ms)")
    st.plotly_chart(fig, key="cmp_chart")
    sep = [p for p in ranked["pairs"] if p["separable"]]
    diff = (lambda v: f"{v * 100:+.1f} points") if pct else (lambda v: f"{v:+.0f} ms")
    lines = [f"**{plain(names[p['a']])}** ranks above **{plain(names[p['b']])}** (difference {diff(p['diff'])}, "
             f"p = {p['p']:.3f})" for p in sep]
    st.markdown("Separable at 95% (the paired interval of the difference excludes 0): " +
                ("; ".join(lines) if sep else "none yet — more participants narrow the intervals."))
    with st.expander("Every pairwise difference"):
        st.dataframe([{"pair": f"{names[p['a']]} − {names[p['b']]}",
                       "difference": f"{p['diff'] * 100:+.1f} pts" if pct else f"{p['diff']:+.0f} ms",
                       "95% interval": (f"{p['low'] * 100:+.1f} – {p['high'] * 100:+.1f} pts" if pct else
                                        f"{p['low']:+.0f} – {p['high']:+.0f} ms"),
                       "p (permutation)": round(p["p"], 4), "separable": p["separable"]}
                      for p in ranked["pairs"]], hide_index=True)
    if info.protocol == "hype-time":
        errs = sorted(abs(r["achieved_ms"] - r["exposure_ms"]) for r in scored
                      if r.get("achieved_ms") is not None and r.get("exposure_ms") is not None)
        if errs:
            st.caption(f"Exposure timing in participants' browsers: median |achieved − requested| "
                       f"{errs[len(errs) // 2]:.1f} ms, worst {errs[-1]:.1f} ms over {len(errs)} trials.")
    hardest(info, scored, store)


def hardest(info, scored: list[dict], store) -> None:
    from gan_core.humaneval.report import hardest_fakes

    st.subheader("Hardest fakes per model")
    src = SessionImages(store, info)
    for a, items in hardest_fakes(scored, len(info.arm_names)).items():
        if not items:
            st.caption(f"{plain(info.arm_names[a])}: no fake has fooled anyone yet.")
            continue
        cols = st.columns(max(len(items), 4))
        cols[0].markdown(f"**{plain(info.arm_names[a])}**")
        for col, (ref, fooled, shown) in zip(cols[1:] if len(items) < len(cols) else cols, items):
            try:
                col.image(src.fake(a, ref), width=96, caption=f"fooled {fooled}/{shown}", output_format="PNG")
            except QuizError:   # the session ended and its uploaded images were deleted
                col.caption(f"fooled {fooled}/{shown} (image deleted with the session's uploads)")


def report_and_delete(info, key: str, store) -> None:
    c = st.columns(2)
    c[0].download_button("Download report (HTML)", lambda: build_report(store, info).encode(),
                         f"human-evaluation-{info.code}.html", "text/html", on_click="ignore",
                         help="One self-contained HTML file (images inline): protocol, models, participants kept "
                              "and excluded, the ranking with paired intervals, the chart, every pairwise "
                              "difference and the hardest fakes — for a paper's appendix.")
    with c[1].popover("Delete this session"):
        st.write("Deletes the session, every answer and every uploaded image. This cannot be undone.")
        if st.button("Delete for good", key="cmp_delete", type="primary"):
            try:
                store.delete_session(info.code, key)
            except QuizError as e:
                st.error(str(e))
                return
            st.session_state.pop("quiz_admin", None)
            st.rerun()
