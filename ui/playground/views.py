"""The 2D playground's parts: settings, the layered plot, the charts, and the play loop."""
from __future__ import annotations

import time

import numpy as np
import torch
import plotly.graph_objects as go
import streamlit as st

from gan_core.training import losses
from gan_core.data.toy import TOY_DATASETS
from gan_core.data.drawn_points import USER_DATASET
from gan_core.training.playground import EXTENT, PLAYGROUND_PRESETS, Playground, preset
from ui.playground import drawn_points as drawn_editor
from ui.compare import add_reference_traces, keep_button, reference
from ui.priority import background_turn
from ui.text import plain

TRAIN_SECONDS_PER_TICK = 0.25   # training time between two redraws while playing (faster machines do more steps)
TICK_SECONDS = 0.5
LAYERS = {"real": "Real points", "fake": "Generated points", "heatmap": "D's decision heatmap",
          "grid": "G's warped noise grid", "arrows": "G's gradient arrows",
          "reference": "Reference run's points (same step)"}
DATA_LABELS = {"ring8": "Ring of 8 Gaussians", "grid25": "5x5 grid", "moons": "Two moons", "spiral": "Spiral",
               "line": "Line", "drawn": "Your own data (draw or CSV)"}
PG_LOSSES = ("minimax", "nonsaturating", "lsgan", "wgan-gp")
FIELDS = {"pg_dataset": "dataset", "pg_noise_dim": "noise_dim", "pg_noise": "noise", "pg_width": "width",
          "pg_depth": "depth", "pg_opt": "optimizer", "pg_lr_g": "lr_g", "pg_lr_d": "lr_d", "pg_loss": "loss",
          "pg_ncritic": "n_critic", "pg_seed": "seed", "pg_sn": "spectral_norm"}


def _config_values(cfg) -> dict:
    m = cfg.model
    return {"dataset": cfg.dataset, "noise_dim": m.z_dim, "noise": m.noise, "width": m.width, "depth": m.depth,
            "optimizer": cfg.optimizer, "lr_g": cfg.lr_g, "lr_d": cfg.lr_d, "loss": cfg.loss,
            "n_critic": cfg.n_critic, "seed": cfg.seed, "spectral_norm": m.spectral_norm}


def _data() -> dict:
    """The data arguments of the current choice: a built-in set, or your own points."""
    s = st.session_state
    name = s.get("pg_dataset", "ring8")
    if name == USER_DATASET:
        pts = s.get("pg_points")
        return {"dataset": name, "points": pts} if pts is not None else {"dataset": "ring8"}
    return {"dataset": name}


def apply_preset() -> None:
    """Every setting from the chosen preset; the data choice stays."""
    st.session_state.setdefault("pg_dataset", "ring8")
    vals = _config_values(preset(st.session_state.pg_preset, **_data()))
    for key, name in FIELDS.items():
        if key != "pg_dataset":
            st.session_state[key] = vals[name]
    st.session_state.pg_playing = False
    st.session_state.pg_remedies = []


PG_FAILURES = ("Mode collapse on purpose", "Strong discriminator")


def fix_with(name: str) -> None:
    """'Fix it' (a callback): the same preset and seed plus one remedy, playing at once."""
    from ui.fix_it import new_remedies_in, with_remedies

    from ui.compare import keep_before_fixing

    s = st.session_state
    if s.get("pg") is not None and s.pg.history:
        keep_before_fixing("pg_reference", lambda: playground_reference(s.pg))
    cfg = with_remedies(preset(s.pg_preset, seed=int(s.pg_seed), **_data()), [name])
    vals = _config_values(cfg)
    for key, field in FIELDS.items():
        if key != "pg_dataset":
            s[key] = vals[field]
    s.pg_remedies = new_remedies_in(cfg)
    s.pg_playing = True


def settings():
    """Preset and every setting; returns a TrainConfig or None (with the reason shown)."""
    if "pg_preset" not in st.session_state:
        st.session_state.pg_preset = "Default"
        apply_preset()
    drawn_editor.from_link()
    st.selectbox("Preset", list(PLAYGROUND_PRESETS), key="pg_preset", on_change=apply_preset,
                 help="A starting point; every setting stays editable.")
    st.caption(PLAYGROUND_PRESETS[st.session_state.pg_preset]["why"])
    if st.session_state.pg_preset in PG_FAILURES:
        from ui.fix_it import fix_it

        fix_it("pg_fix", toy=True, on_fix=fix_with)
    with st.expander("Settings (changing one restarts training)"):
        c = st.columns(4)
        c[0].selectbox("Data", (*TOY_DATASETS, USER_DATASET), key="pg_dataset", format_func=DATA_LABELS.get,
                       help="The real distribution G must learn to imitate — or your own: paint it or give a "
                            "CSV of x,y.")
        c[1].radio("Noise dimensions", [1, 2], key="pg_noise_dim", horizontal=True,
                   help="z is 1D (G bends a line) or 2D (G warps a sheet) — see the warped grid layer.")
        c[2].radio("Noise", ["gaussian", "uniform"], key="pg_noise", horizontal=True,
                   help="The distribution z is drawn from.")
        c[3].number_input("Seed", 0, 10**6, key="pg_seed", help="Same seed, same run.")
        c = st.columns(4)
        c[0].number_input("Hidden layers", 1, 6, key="pg_depth", help="Depth of both small MLPs (G and D).")
        c[1].number_input("Units per layer", 4, 256, key="pg_width", help="Width of both MLPs.")
        c[2].radio("Optimizer", ["adam", "sgd"], key="pg_opt", horizontal=True,
                   help="Adam adapts step sizes per weight; plain SGD makes the game's rotations easy to see.")
        c[3].selectbox("Loss", PG_LOSSES, key="pg_loss", help=" ".join(
            f"**{k}**: {losses.DESCRIPTIONS[k]}" for k in PG_LOSSES))
        c = st.columns(4)
        c[0].number_input("G learning rate", 1e-5, 1.0, key="pg_lr_g", format="%.4f", step=1e-4,
                          help="How far G moves per update.")
        c[1].number_input("D learning rate", 1e-5, 1.0, key="pg_lr_d", format="%.4f", step=1e-4,
                          help="How far D moves per update.")
        c[2].number_input("D steps per G step", 1, 20, key="pg_ncritic",
                          help="Discriminator updates before each generator update.")
        c[3].checkbox("Spectral norm in D", key="pg_sn",
                      help="Limits how sharply D can change (Miyato et al. 2018).")
        from ui.fix_it import remedy_picker

        remedy_picker("pg_remedies", toy=True)
    s = st.session_state
    points = ()
    if s.pg_dataset == USER_DATASET:
        points = drawn_editor.editor()
        if points is None:
            return None
    else:
        drawn_editor.to_link(None)
    try:
        from gan_core.training.playground import playground_config
        from ui.fix_it import with_remedies

        cfg = playground_config(dataset=s.pg_dataset, noise_dim=int(s.pg_noise_dim), noise=s.pg_noise,
                                width=int(s.pg_width), depth=int(s.pg_depth), optimizer=s.pg_opt,
                                lr_g=float(s.pg_lr_g), lr_d=float(s.pg_lr_d), loss=s.pg_loss,
                                n_critic=int(s.pg_ncritic), seed=int(s.pg_seed),
                                beta1=0.0 if s.pg_loss == "wgan-gp" else 0.5,
                                beta2=0.9 if s.pg_loss == "wgan-gp" else 0.999, spectral_norm=bool(s.get("pg_sn")),
                                points=points)
        return with_remedies(cfg, s.get("pg_remedies", []))
    except ValueError as e:
        st.error(f"These settings cannot train: {plain(e)}")
        return None


def playground(config) -> Playground:
    """This session's playground, rebuilt when the settings change."""
    pg = st.session_state.get("pg")
    if pg is None or pg.config != config:
        pg = st.session_state.pg = Playground(config)
        st.session_state.pg_phase = None
        st.session_state.pg_dsteps = 0
        st.session_state.pg_error = None
    return pg


def playground_reference(pg: Playground):
    from gan_core.training.reference import freeze
    from gan_core.training.remedies import active

    label = f"{st.session_state.get('pg_preset', 'run')}, seed {pg.config.seed}"
    label += "".join(f" + {n}" for n in active(pg.config))
    return freeze(label, pg.config.to_dict(), list(pg.history), (), list(pg.snapshots))


def keep_playground_run(pg: Playground) -> None:
    keep_button("pg_reference", lambda: playground_reference(pg), disabled=not pg.history)
    ref = reference("pg_reference")
    if ref is not None:
        last = next((r for r in reversed(ref.history) if r.get("modes") is not None), None)
        if last is not None:
            st.caption(f"The reference covered {last['modes']} modes at step {last['step']:,}.")


def controls(pg: Playground) -> None:
    s = st.session_state
    s.setdefault("pg_playing", False)
    c = st.columns([1, 1, 1, 2])
    if c[0].button("Pause" if s.pg_playing else "Play", icon=":material/pause:" if s.pg_playing else ":material/play_arrow:", type="primary", width="stretch",
                   help="Train continuously, redrawing every few steps."):
        s.pg_playing = not s.pg_playing
        st.rerun()
    if c[1].button("One step", icon=":material/skip_next:", width="stretch", help="D steps then one G step, then stop."):
        s.pg_playing = False
        _train(pg, 1)
    if c[2].button("Reset", icon=":material/restart_alt:", width="stretch", help="Fresh networks with the same settings."):
        s.pg = Playground(pg.config)
        s.pg_playing, s.pg_phase, s.pg_error = False, None, None
        st.rerun()
    keep_playground_run(pg)
    c[3].toggle("Slow motion", key="pg_slow",
                help="Step through the two phases of each update one at a time, with what each one does.")
    if s.get("pg_slow"):
        s.pg_playing = False
        nd = pg.config.n_critic
        next_is_d = s.get("pg_dsteps", 0) < nd
        label = (f"Next: D update ({s.get('pg_dsteps', 0) + 1} of {nd})" if next_is_d else "Next: G update")
        st.button(label, on_click=_phase, args=(pg,), help="Run just this phase and explain it.")
        if s.get("pg_phase") is not None:
            (st.info if s.pg_phase.phase == "D" else st.success)(s.pg_phase.text)


def _phase(pg: Playground) -> None:
    """Slow motion: the next D update (n_critic of them), then the G update."""
    s = st.session_state
    try:
        if s.get("pg_dsteps", 0) < pg.config.n_critic:
            s.pg_phase = pg.d_step()
            s.pg_dsteps = s.get("pg_dsteps", 0) + 1
        else:
            s.pg_phase = pg.g_step()
            s.pg_dsteps = 0
    except Exception as e:  # divergence: shown above the plot
        s.pg_error = str(e)


def _train(pg: Playground, steps: int, wait: float | None = None, budget: float | None = None) -> bool:
    """Train; False when this playground waits its turn (every slot busy for ``wait`` seconds, or paying back
    an over-long turn)."""
    from gan_core.training.playground import PlaygroundFull
    from gan_core.training.trainer import TrainingDiverged

    try:
        return bool(pg.train(steps, wait=wait, budget=budget))
    except (TrainingDiverged, PlaygroundFull) as e:
        st.session_state.pg_error = str(e)
        st.session_state.pg_playing = False
        return True


def figure(pg: Playground, layers: list[str]) -> go.Figure:
    fig = go.Figure()
    if "heatmap" in layers:
        ax, z = pg.heatmap()
        prob = pg.config.loss in losses.PROBABILITY_LOSSES
        fig.add_trace(go.Heatmap(x=ax, y=ax, z=z, colorscale="RdBu", zmid=0.5 if prob else None,
                                 zmin=0 if prob else None, zmax=1 if prob else None, opacity=0.6,
                                 colorbar=dict(title="D(x)" if prob else "score", len=0.8), name="D"))
    if "grid" in layers:
        xs, ys = [], []
        for line in pg.warped_grid():
            xs += list(line[:, 0]) + [None]
            ys += list(line[:, 1]) + [None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="rgba(80,80,80,0.5)", width=1),
                                 name="warped grid", hoverinfo="skip"))
    v = pg.view(1000)
    if "real" in layers:
        fig.add_trace(go.Scatter(x=v["real"][:, 0], y=v["real"][:, 1], mode="markers", name="real",
                                 marker=dict(size=4, color="#2ca02c", opacity=0.6)))
    if "fake" in layers:
        fig.add_trace(go.Scatter(x=v["fake"][:, 0], y=v["fake"][:, 1], mode="markers", name="generated",
                                 marker=dict(size=4, color="#9467bd", opacity=0.7)))
    if "arrows" in layers:
        p, g = pg.gradient_arrows()
        norm = np.linalg.norm(g, axis=1, keepdims=True)
        scale = 0.4 / max(float(np.percentile(norm, 95)), 1e-12)   # the longest arrows ~0.4 units
        tip = p + g * scale
        xs = np.stack([p[:, 0], tip[:, 0], np.full(len(p), np.nan)], 1).ravel()
        ys = np.stack([p[:, 1], tip[:, 1], np.full(len(p), np.nan)], 1).ravel()
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="#d62728", width=1.5),
                                 name="G's gradient", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=tip[:, 0], y=tip[:, 1], mode="markers", showlegend=False, hoverinfo="skip",
                                 marker=dict(size=3, color="#d62728")))
    ref = reference("pg_reference")
    if ref is not None and "reference" in layers and (at := ref.at(pg.step_count)) is not None:
        fig.add_trace(go.Scatter(x=at[1][:, 0], y=at[1][:, 1], mode="markers", name=f"reference, step {at[0]}",
                                 marker=dict(size=4, color="#ff7f0e", opacity=0.5, symbol="diamond")))
    modes = pg.mode_centres()
    if modes is not None and "real" in layers:
        fig.add_trace(go.Scatter(x=modes[:, 0], y=modes[:, 1], mode="markers", name="mode centres",
                                 marker=dict(symbol="x", size=7, color="black")))
    fig.update_layout(height=560, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.05),
                      title=f"step {pg.step_count}", uirevision="keep")
    fig.update_xaxes(range=[-EXTENT, EXTENT])
    fig.update_yaxes(range=[-EXTENT, EXTENT], scaleanchor="x", scaleratio=1)
    return fig


def charts(pg: Playground) -> None:
    rows = [r for r in pg.history if "js" in r]
    c1, c2 = st.columns(2)
    full = [r for r in pg.history if "d_loss" in r]
    if full:
        thin = full[:: max(1, len(full) // 500)]
        fig = go.Figure([go.Scatter(x=[r["step"] for r in thin], y=[r[k] for r in thin], name=n, mode="lines")
                         for k, n in (("d_loss", "D loss"), ("g_loss", "G loss"))])
        add_reference_traces(fig, reference("pg_reference"), {"d_loss": "D loss", "g_loss": "G loss"})
        fig.update_layout(title="Losses", height=250, margin=dict(l=10, r=10, t=40, b=10), xaxis_title="step")
        c1.plotly_chart(fig, key="pg_loss_chart")
    if rows:
        fig = go.Figure([go.Scatter(x=[r["step"] for r in rows], y=[r[k] for r in rows], name=n, mode="lines")
                         for k, n in (("kl", "KL(real ‖ generated)"), ("js", "JS divergence"))])
        add_reference_traces(fig, reference("pg_reference"), {"kl": "KL", "js": "JS divergence"})
        fig.add_hline(y=float(np.log(2)), line_dash="dot", annotation_text="JS max (log 2)")
        fig.update_layout(title="Distance between the densities", height=250, margin=dict(l=10, r=10, t=40, b=10),
                          xaxis_title="step")
        c2.plotly_chart(fig, key="pg_div_chart")
        c2.caption("Estimated on a 40x40 grid over the plot. Lower is better; 0 means G's density matches "
                   "the data's.")


def board(pg: Playground) -> None:
    """The plot and readouts; while playing, trains a few steps before each redraw."""
    s = st.session_state
    playing = s.get("pg_playing", False)

    @st.fragment(run_every=TICK_SECONDS if playing else None)
    def _board():
        # Toy MLPs gain nothing from a second intra-op thread, and in Streamlit's script threads a second
        # OpenMP team was measured to halve the speed. The setting is per thread.
        torch.set_num_threads(1)
        if s.get("pg_playing"):
            end = time.perf_counter() + TRAIN_SECONDS_PER_TICK
            while time.perf_counter() < end and s.get("pg_playing"):
                if not _train(pg, 5, wait=TRAIN_SECONDS_PER_TICK, budget=end - time.perf_counter()):
                    if pg.owed > 0:
                        st.caption(f"One training step of these settings takes {pg.last_turn_seconds * 1000:,.0f} "
                                   "ms. The server shares training time fairly between playgrounds, so this one "
                                   "trains a step every few redraws; smaller networks or fewer D steps train "
                                   "faster.")
                    else:
                        st.caption("Waiting for a free training slot: other playgrounds on this server are "
                                   "training right now (each gets its turn).")
                    break
        with background_turn():   # the drawing takes a turn; the training above has its own slots
            _draw(pg)

    _board()


def _draw(pg: Playground) -> None:
    s = st.session_state
    if s.get("pg_error"):
        st.error(f"{plain(s.pg_error)} Press Reset to start again.")
    last = pg.history[-1] if pg.history else {}
    measured = next((r for r in reversed(pg.history) if "js" in r), None) or pg.measure()
    c = st.columns(5)
    c[0].metric("Step", pg.step_count)
    modes = measured.get("modes")
    k = pg.mode_centres()
    c[1].metric("Modes covered", f"{modes}/{len(k)}" if modes is not None else "—",
                help="Mixture components holding at least a quarter of their fair share of generated "
                     "points within 3 standard deviations of their centre.")
    c[2].metric("JS divergence", f"{measured['js']:.3f}", help="0 = same density; log 2 ≈ 0.693 = disjoint.")
    c[3].metric("D loss", f"{last['d_loss']:.3f}" if "d_loss" in last else "—")
    c[4].metric("G loss", f"{last['g_loss']:.3f}" if "g_loss" in last else "—")
    layers = st.pills("Layers", list(LAYERS), format_func=LAYERS.get, selection_mode="multi",
                      default=["real", "fake", "heatmap", "arrows", "reference"], key="pg_layers",
                      help="Heatmap: D's belief that a point is real (red = fake, blue = real). Warped grid: "
                           "where G sends a square grid of noise. Arrows: the direction G's loss pushes "
                           "each generated point.")
    st.plotly_chart(figure(pg, layers or []), key="pg_plot")
    charts(pg)
