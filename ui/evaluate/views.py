"""Running and showing the metrics on the Evaluate page."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui.images import show

# key, label, floor key, better, one sentence on what it measures
METRICS = [
    ("fid", "FID", "floor_fid", "lower", "Distance between Gaussians fitted to real and generated classifier features: "
     "quality and variety together."),
    ("kid", "KID", "floor_kid", "lower", "Kernel version of FID without its small-sample bias; about 0 when the two sets "
     "come from the same distribution."),
    ("inception_score", "Inception score", "floor_inception_score", "higher", "High when each image is clearly one "
     "digit and all digits appear (at most 10)."),
    ("precision", "Precision", "floor_precision", "higher", "Share of generated images that land among real ones: "
     "quality."),
    ("recall", "Recall", "floor_recall", "higher", "Share of real images the generated ones reach: variety, the "
     "mode-collapse detector."),
    ("classes_covered", "Classes covered", "floor_classes_covered", "higher", "Digits making up at least 5% of "
     "samples; fewer than 10 means modes are missing."),
    ("ppl", "PPL", None, "lower", "Perceptual path length: how abruptly images change along small steps in z."),
    ("conditional_accuracy", "Conditional accuracy", None, "higher", "How often G(z, y) is read as y (conditional "
     "models only)."),
    ("cas", "CAS", "floor_cas", "higher", "Classification Accuracy Score (Ravuri & Vinyals 2019): a classifier "
     "trained only on this model's (image, class) pairs, tested on real held-out digits. Its floor: the same "
     "classifier trained on as many real digits. Conditional models only."),
]


@st.cache_resource
def _results_store() -> dict:
    """Server-wide results by (checkpoint, settings). A plain dict, so progress bars are never replayed."""
    return {}


def _key(path: str, n: int, seed: int) -> tuple:
    from gan_core.hub.checkpoints import weights_file

    stamp = weights_file(path, "G").stat().st_mtime_ns
    return (path, stamp, n, seed)


def cached_result(path: str, n: int, seed: int) -> dict | None:
    return _results_store().get(_key(path, n, seed))


def run_evaluations(wanted: list[tuple[str, str, object]], n: int, seed: int, start: bool) -> bool:
    """Evaluate (name, path, generator) through the server's work queue (in a worker process): one item for
    this request, shared with anyone asking the same; results go to the server-wide results store. True when
    all are measured."""
    from gan_core.serve import worktasks
    from gan_core.serve.workers import Task
    from ui.work import queued

    store = _results_store()
    missing = [(name, path) for name, path, _ in wanted if _key(path, n, seed) not in store]
    if not missing:
        return True
    names = ", ".join(name for name, _ in missing)
    key = ("evaluate", tuple(_key(path, n, seed) for _, path in missing))
    measured = queued(key, f"the evaluation of {names}", Task(worktasks.evaluate_models, (missing, n, seed)),
                      start=start)
    if not measured:
        return False
    for path, metrics in measured.items():
        store.setdefault(_key(path, n, seed), metrics)
    return all(_key(path, n, seed) in store for _, path in missing)


def table(results: dict[str, dict]) -> None:
    rows = []
    for key, label, floor, better, what in METRICS:
        row = {"metric": label, "better": better}
        for name, r in results.items():
            row[name] = _cell(r.get(key), "conditional models only" if key in ("conditional_accuracy", "cas")
                              else "not measured")
        fv = next((r[floor] for r in results.values() if floor and r.get(floor) is not None), None)
        row["real-data floor"] = _cell(fv, "none (real data has no z)" if key == "ppl" else "—")
        rows.append(row)
    # every cell is text: a column mixing numbers and "conditional models only" must not show "None"
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={"metric": st.column_config.TextColumn(width="medium"),
                                "better": st.column_config.TextColumn(width="small")})
    with st.expander("What each metric measures", expanded=False):
        st.markdown("\n".join(f"- **{label}** ({better} is better): {what}" for _, label, _, better, what in METRICS))
    for line in scale_notes(results):
        st.caption(line)


def _cell(v, missing: str) -> str:
    if v is None:
        return missing
    if isinstance(v, float):
        return f"{v:,.4f}" if abs(v) < 100 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def scale_notes(results: dict[str, dict]) -> list[str]:
    """Sentences that give the numbers without a natural scale one: a negative KID, and PPL (no floor)."""
    notes = []
    neg = [name for name, r in results.items() if (r.get("kid") or 0) < 0]
    floor = next((r.get("floor_kid") for r in results.values() if r.get("floor_kid") is not None), None)
    if neg or (floor is not None and floor < 0):
        who = ", ".join(neg) if neg else "the real-data floor"
        notes.append(f"KID below 0 ({who}): KID is an unbiased estimate, so for two sets as alike as two halves "
                     "of the real data it scatters around 0 and can come out slightly negative. Read it as "
                     "'indistinguishable at this sample size', not as better than real data.")
    ppl = {name: r["ppl"] for name, r in results.items() if r.get("ppl") is not None}
    if ppl:
        best = min(ppl, key=ppl.get)
        if len(ppl) > 1:
            rel = ", ".join(f"{name} {v / ppl[best]:.1f}x" for name, v in ppl.items() if name != best)
            compare = f"Against the smoothest here ({best}, {ppl[best]:,.0f}): {rel}."
        else:
            compare = "Add another model to compare: PPL only means something next to other models measured the same way."
        notes.append("PPL has no real-data floor and no absolute scale: it is the squared change of classifier "
                     "features per squared step along a path in z (steps of 1e-4), so it is large by construction. "
                     + compare)
    return notes


def bar_charts(results: dict[str, dict]) -> None:
    charts = [m for m in METRICS if m[0] in ("fid", "kid", "inception_score", "precision", "recall", "ppl")]
    cols = st.columns(3)
    for i, (key, label, floor, better, _) in enumerate(charts):
        names = list(results)
        vals = [results[n].get(key) for n in names]
        fig = go.Figure(go.Bar(x=names, y=vals, marker_color="#4C78A8"))
        if floor:
            fv = next(iter(results.values()))[floor]
            fig.add_hline(y=fv, line_dash="dash", line_color="#E45756", annotation_text=f"real floor {fv:.3g}")
        fig.update_layout(title=f"{label} ({better} is better)", height=280, margin=dict(l=10, r=10, t=40, b=10))
        with cols[i % 3]:
            st.plotly_chart(fig, key=f"eval_bar_{key}")


def class_histograms(results: dict[str, dict]) -> None:
    fig = go.Figure()
    for name, r in results.items():
        fig.add_trace(go.Bar(name=name, x=[str(i) for i in range(len(r["class_histogram"]))], y=r["class_histogram"]))
    fig.add_hline(y=0.1, line_dash="dash", annotation_text="uniform (10%)")
    fig.add_hline(y=0.05, line_dash="dot", line_color="#E45756", annotation_text="covered (5%)")
    fig.update_layout(barmode="group", height=320, xaxis_title="digit the classifier reads", yaxis_title="share",
                      margin=dict(l=10, r=10, t=10, b=10), xaxis=dict(type="category", tickmode="linear", dtick=1))
    st.plotly_chart(fig, key="eval_hist")


def memorization_view(path: str, ex) -> None:
    from gan_core.serve import worktasks
    from gan_core.serve.workers import Task
    from ui.work import queued

    m = queued(("memorization", path), "the search for the nearest training images",
               Task(worktasks.memorization, (path,)))
    if m is None:
        return
    st.caption(f"Top: generated. Middle: nearest training image in pixels (RMS difference in [−1, 1] units). "
               f"Bottom: nearest in classifier features. For scale, a real digit's nearest *other* real digit is "
               f"{m['real_to_real_pixel']:.3f} away in pixels; a copy would be ~0.")
    cols = st.columns(len(m["samples"]))
    for i, col in enumerate(cols):
        with col:
            show(m["samples"][i], scale=3)
            show(m["pixel_images"][i], scale=3, caption=f"{m['pixel_dist'][i]:.3f}")
            if "feature_images" in m:
                show(m["feature_images"][i], scale=3, caption=f"{m['feature_dist'][i]:.2f}")


def discriminator_histogram(path: str, ex, key: str) -> None:
    from gan_core.serve import worktasks
    from gan_core.serve.workers import Task
    from ui.work import queued

    if ex.D is None:
        st.caption("No discriminator in this checkpoint.")
        return
    s = queued(("dscores", path), "D's scores on real and generated images", Task(worktasks.discriminator_scores, (path,)),
               light=True)
    if s is None:
        return
    fig = go.Figure()
    fig.add_trace(go.Histogram(x=s["real"], name="real", opacity=0.6, nbinsx=40))
    fig.add_trace(go.Histogram(x=s["fake"], name="generated", opacity=0.6, nbinsx=40))
    if s["is_probability"]:
        fig.add_vline(x=0.5, line_dash="dash", annotation_text="0.5: can't tell")
    fig.update_layout(barmode="overlay", height=280, xaxis_title="D(x)" if s["is_probability"] else "critic score",
                      margin=dict(l=10, r=10, t=10, b=10))
    st.caption(f"mean on real {np.mean(s['real']):.3f}, on generated {np.mean(s['fake']):.3f}")
    st.plotly_chart(fig, key=key)
