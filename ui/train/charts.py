"""/train while a run trains: the status row (with the machine-is-busy warning), the loss, D and gradient charts,
the sample grid with its timeline and the class coverage, redrawn once a second by one fragment."""
from __future__ import annotations

import os

import plotly.graph_objects as go
import streamlit as st

from gan_core.serve.live import Job

from gan_core.training.presets import PRESETS
from gan_core.training.timeline import evenly
from ui.compare import add_reference_traces, reference
from ui.images import show
from ui.train.views import job_manager
from ui.priority import in_turn

MAX_CHART_POINTS = 600


def step_axis(last_step: int) -> dict:
    """An x axis of whole steps: ticks 1, 2 or 5 x 10^k apart (plotly's own choice gave 199.5)."""
    import math

    span = max(1, int(last_step))
    raw = span / 6
    k = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    dtick = next((m * k for m in (1, 2, 5, 10) if m * k >= raw), 10 * k)
    return dict(tick0=0, dtick=max(1, int(dtick)), tickformat=",d", rangemode="nonnegative")


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Tick values 1, 2, 5 x 10^k between lo and hi with their full labels: plotly labels a log axis spanning
    less than a decade with single digits ("2 3 4 5" for 20 to 50)."""
    import math

    lo, hi = max(lo, 1e-12), max(hi, 1e-12)
    vals = [m * 10 ** e for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
            for m in (1, 2, 5)]
    inside = [v for v in vals if lo / 1.0001 <= v <= hi * 1.0001]
    if len(inside) < 2:   # a very narrow range: the nearest nice values around it
        below = max((v for v in vals if v <= lo), default=lo)
        above = min((v for v in vals if v >= hi), default=hi)
        inside = sorted({below, *inside, above})
    return inside, [f"{v:g}" for v in inside]


def robust_range(values: list[float]) -> tuple[float, float] | None:
    """A y range that the first steps' spike does not squash the rest into (e.g. G's first loss of ~400 after
    Fix it): the 1st to 99th percentile of the values after the first 5% of steps, with a margin. None when
    plotly's own range is fine (nothing is cut off)."""
    finite = [v for v in values if v is not None and v == v and abs(v) != float("inf")]
    if len(finite) < 20:
        return None
    tail = sorted(finite[len(finite) // 20:])
    lo, hi = tail[len(tail) // 100], tail[min(len(tail) - 1, len(tail) * 99 // 100)]
    if min(finite) >= lo - (hi - lo) and max(finite) <= hi + (hi - lo):  # no spike that squashes the rest
        return None
    pad = 0.1 * (hi - lo or abs(hi) or 1.0)
    return lo - pad, hi + pad


def line_chart(rows, keys: dict[str, str], title: str, ytitle: str, hline: float | None = None,
               log: bool = False, robust: bool = False) -> go.Figure:
    """One /train chart: a line per history key (keys: name shown), optional horizontal line and log axis.
    ``robust``: a y range that ignores the first steps' spike (said in the title when it cuts something off)."""
    fig = go.Figure()
    x = [r["step"] for r in rows]
    ys = []
    for k, name in keys.items():
        y = [r[k] for r in rows]
        ys += y
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines"))
    add_reference_traces(fig, reference("tr_reference"), keys)
    if hline is not None:
        fig.add_hline(y=hline, line_dash="dot", annotation_text="equilibrium 0.5")
    clipped = robust_range(ys) if robust and not log else None
    fig.update_layout(title=title + (" (first steps' spike off the scale)" if clipped else ""), height=260,
                      margin=dict(l=10, r=10, t=40, b=10), xaxis_title="step", yaxis_title=ytitle,
                      legend=dict(orientation="h", y=-0.3), xaxis=step_axis(x[-1] if x else 1))
    if clipped:
        fig.update_yaxes(range=list(clipped))
    if log:
        pos = [v for v in ys if v is not None and v > 0 and v != float("inf")]
        if pos:
            vals, text = log_ticks(min(pos), max(pos))
            fig.update_yaxes(type="log", tickvals=vals, ticktext=text)
        else:
            fig.update_yaxes(type="log")
    return fig


def steps_per_second(job: Job) -> float | None:
    """Median training steps per second over the last 20 recorded steps (from each step's own duration)."""
    n_critic = max(1, int(getattr(job.config, "n_critic", 1) or 1))
    ips = [r["images_per_s"] for r in list(job.history)[-20:] if r.get("images_per_s")]
    if not ips:
        return None
    return sorted(ips)[len(ips) // 2] / (job.config.batch_size * n_critic)


def busy_reasons() -> list[str]:
    """What else keeps this machine's cores busy: other training runs, the class's queued computations, and the
    load average (the processes waiting for a core, from the operating system)."""
    out = []
    others = job_manager().running() - 1
    if others > 0:
        out.append(f"{others} other training run{'s' if others > 1 else ''}")
    try:
        from ui.work import work_queue

        q = work_queue().running()
        if q:
            out.append(f"{q} computation{'s' if q > 1 else ''} for the class")
    except Exception:
        pass
    try:
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
        if load > cores * 0.9:
            out.append(f"load average {load:.1f} on {cores} cores")
    except OSError:
        pass
    return out


def status(job: Job) -> None:
    last = job.latest()
    c = st.columns(5)
    c[0].metric("State", job.state)
    c[1].metric("Step", f"{job.step:,}")
    c[2].metric("Epoch", f"{last.get('epoch', 0):.2f}" if last.get("epoch", 0) != float("inf") else "—",
                help="Passes over the training set (images seen / dataset size).")
    rate = steps_per_second(job)
    expected = PRESETS.get(st.session_state.get("tr_preset"), {}).get("idle_rate")
    c[3].metric("Steps/s", f"{rate:,.1f}" if rate is not None else "—",
                help="Training steps per second (median of the last 20 steps)" +
                     (f"; on an idle 2-core laptop this preset does about {expected}." if expected else "."))
    cov = job.coverage[-1] if job.coverage else None
    c[4].metric("Classes drawn", f"{cov['classes_covered']}/10" if cov else "—",
                help="Digits the classifier reads among the fixed samples with at least 5% each (from the first "
                     "grid on); "
                     "falling numbers mean mode collapse.")
    if job.state == "running" and rate is not None and expected and rate < expected / 2:
        why = busy_reasons()
        st.warning(f"Training at {rate:,.1f} steps/s, where an idle 2-core laptop does about {expected} with this "
                   f"preset: the machine is busy ({'; '.join(why) if why else 'by programs outside the app'}). "
                   "Training runs at low priority so that the pages stay quick: it carries on, just slower, and "
                   "the digits come later than the preset promises.")
    if job.state == "diverged":
        st.error(f"{job.message} Losses went to NaN or infinity, which usually means a learning rate too high "
                 "for this loss. Save below to keep the last good weights, or Reset and try again.")
    elif job.state == "error":
        st.error(job.message)
    elif job.message and job.state in ("stopped", "finished"):
        st.info(job.message)


def charts(job: Job) -> None:
    rows = list(evenly(list(job.history), MAX_CHART_POINTS))   # a chart draws at most this many points
    if not rows:
        st.info("Building the networks…")
        return
    c1, c2, c3 = st.columns(3)
    c1.plotly_chart(line_chart(rows, {"d_loss": "D loss", "g_loss": "G loss"}, "Losses", "loss", robust=True),
                    key="tr_loss_chart")
    if job.config.model.conditioning == "aux-class":
        c1.caption("AC-GAN: both losses include the class term (how well D names the digit — or, without "
                   "labels, the cluster — and how well G's images are named as asked).")
    c2.plotly_chart(line_chart(rows, {"d_real": "mean D(x)", "d_fake": "mean D(G(z))"}, "What D says",
                           "P(real)", hline=0.5), key="tr_d_chart")
    c2.caption("D(x) on real images, D(G(z)) on fakes. At the ideal equilibrium both are 0.5: D cannot tell "
               "them apart.")
    c3.plotly_chart(line_chart(rows, {"grad_norm_d": "‖∇D‖", "grad_norm_g": "‖∇G‖"}, "Gradient norms", "norm",
                           log=True), key="tr_grad_chart")
    c3.caption("How hard each network is being pushed (log scale). ‖∇G‖ near zero: vanishing gradients, "
               "G has stopped learning.")


def samples(job: Job) -> None:
    snaps = list(job.snapshots)
    if not snaps:
        return
    c1, c2 = st.columns([3, 2])
    with c1:
        if len(snaps) > 1 and job.state != "running":
            i = st.select_slider("Timeline", options=list(range(len(snaps))), value=len(snaps) - 1,
                                 format_func=lambda i: f"step {snaps[i].step}", key="tr_timeline",
                                 help="Scrub back through the fixed-noise samples as training went on.")
        else:
            i = len(snaps) - 1
        g = snaps[i].grid
        ref = reference("tr_reference")
        cur, other = st.columns(2) if ref is not None else (st.container(), None)
        with cur:
            show(g if g.ndim == 3 else g[:, :, None], scale=3 if ref is None else 2,
                 caption=f"The same noise vectors at step {snaps[i].step}" + (
                     " (one column per class)" if job.config.model.conditional else ""))
        if other is not None and (at := ref.at(snaps[i].step)) is not None:
            with other:
                rg = at[1]
                show(rg if rg.ndim == 3 else rg[:, :, None], scale=2,
                     caption=f"Reference ({ref.label}) at step {at[0]}")
    with c2:
        if job.coverage:
            rows = job.coverage
            fig = go.Figure(go.Scatter(x=[r["step"] for r in rows], y=[r["classes_covered"] for r in rows],
                                       mode="lines+markers", name="classes"))
            ref = reference("tr_reference")
            if ref is not None and ref.coverage:
                fig.add_trace(go.Scatter(x=[r["step"] for r in ref.coverage],
                                         y=[r["classes_covered"] for r in ref.coverage], mode="lines",
                                         name="reference", line=dict(dash="dash")))
            fig.update_layout(title="Class coverage of the samples", height=260, yaxis_range=[0, 10.5],
                              xaxis_title="step", yaxis_title="classes ≥ 5%", margin=dict(l=10, r=10, t=40, b=10),
                              xaxis=step_axis(rows[-1]["step"]))
            st.plotly_chart(fig, key="tr_cov_chart")
            h = rows[-1]["class_histogram"]
            st.bar_chart({"share of samples": h}, height=180, x_label="digit")
        else:
            st.caption("Class coverage (which digits the classifier reads in the samples) appears every "
                       f"{job.coverage_every} steps for 28x28 digit models.")


def live(job: Job) -> None:
    """Poll the job once a second while it trains; one last full rerun when it stops."""
    was_active = job.active

    @st.fragment(run_every=1.0 if was_active else None)
    @in_turn
    def _view():
        job.touch()
        if was_active and not job.active:
            st.rerun()  # buttons and the timeline follow the new state
        status(job)
        charts(job)
        samples(job)

    _view()
