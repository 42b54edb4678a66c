"""The sections of "Inside G": the image and every layer's feature maps for one z, switching units off or
boosting them (gan_core.latent.dissection.ablate), and the units that draw each digit (ranked once per model through the
server's work queue, then kept on disk)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st
import torch

import gan_core
from gan_core.latent.dissection import ablate, activations, best_layer, layers, map_grid, top_units
from gan_core.latent.explorer import Explorer
from gan_core.latent.sampling import to_uint8
from ui.images import show_inline
from ui.latent.views import probability_bars
from ui.text import quoted

RANK_SAMPLES = 400


def ranking(ex: Explorer, path: str, start: bool = True) -> dict | None:
    """Every unit's effect on every class (None while it is computed: a status is drawn). Runs in a worker
    process, within the server's time limit per computation (fewer samples, or a refusal, when it would not fit)."""
    from gan_core.serve import worktasks
    from gan_core.serve.workers import Task
    from ui.work import queued

    return queued(("dissect", path), "the unit ranking", Task(worktasks.unit_ranking, (path, RANK_SAMPLES)),
                  start=start)


def current_z(ex: Explorer) -> tuple[torch.Tensor, int | None, str]:
    """z, the class for a conditional G, and a description, from the page's controls."""
    from gan_core.latent.inversion import decode_z

    ss = st.session_state
    label = int(ss.get("in_label", 0)) if ex.conditional else None
    if ss.get("in_source") == "found" and ss.get("lat_found"):
        try:
            return decode_z(ss.lat_found, ex.G.z_dim), label, "your digit"
        except ValueError:
            st.warning("The found digit does not fit this model (a different z size); showing the seed.")
    seed = int(ss.get("in_seed", 7))
    return ex.z_for(seed), label, f"seed {seed}"


def _run(ex: Explorer, z, label, layer: str | None, units: list[int], scale: float):
    y = None if label is None else torch.tensor([label])
    if layer and units:
        with ablate(ex.G, layer, units, scale):
            maps, x = activations(ex.G, z, y)
    else:
        maps, x = activations(ex.G, z, y)
    return maps, to_uint8(x)[0]


def select_top(layer: str, units: list[int]) -> None:
    st.session_state.in_layer = layer
    st.session_state.in_units = units
    st.session_state.in_scale = 0.0


@st.fragment
def dissect_view(ex: Explorer, path: str, name: str) -> None:
    """Controls, the image before and after, and the maps: reruns alone while sliders move."""
    torch.set_num_threads(1)
    names = list(layers(ex.G))
    ss = st.session_state
    if ss.get("in_layer") not in names:
        if ss.get("in_layer") is not None:  # e.g. a link naming a layer this model lacks
            st.warning(f"This generator has no layer {quoted(ss.in_layer, 40)}; showing {names[-1]}.")
        ss.in_layer = names[-1]
    z, label, what = current_z(ex)
    c_left, c_img = st.columns([1.2, 2])
    with c_left:
        layer = st.selectbox("Layer", names, key="in_layer",
                             help="Layers from the first (coarse 7x7 plan of the digit) to the last before the "
                                  "image (finer strokes).")
        n_units = _units_of(ex, layer)
        outside = [u for u in ss.get("in_units", []) if not 0 <= u < n_units]
        if outside:
            st.warning(f"Unit{'s' if len(outside) > 1 else ''} {', '.join(map(str, outside[:5]))}"
                       f"{'…' if len(outside) > 5 else ''} {'are' if len(outside) > 1 else 'is'} not in "
                       f"{layer}, which has units 0 to {n_units - 1}; left out.")
        ss.in_units = [u for u in ss.get("in_units", []) if 0 <= u < n_units]
        st.multiselect("Units to change", list(range(n_units)), key="in_units",
                       help="A unit is one channel of the layer: one feature map below. Pick units to switch "
                            "off (scale 0) or boost (scale above 1).")
        st.slider("Scale of those units", 0.0, 3.0, step=0.25, key="in_scale",
                  help="0 switches the units off (ablation, as in GAN Dissection); 1 leaves them as they are; "
                       "2 doubles them.")
    units, scale = list(ss.in_units), float(ss.get("in_scale", 0.0))
    maps0, img0 = _run(ex, z, label, None, [], 1.0)
    maps1, img1 = _run(ex, z, label, layer, units, scale) if units and scale != 1.0 else (maps0, img0)
    with c_img:
        a, b = st.columns(2)
        with a:
            show_inline(img0, scale=8, caption=f"{what}: as G draws it", alt="the image as G draws it")
        with b:
            change = (f"units {', '.join(map(str, units[:8]))}{'…' if len(units) > 8 else ''} of {layer} "
                      f"× {scale:g}") if units and scale != 1.0 else "nothing changed"
            show_inline(img1, scale=8, caption=change, alt="the image with the chosen units changed")
        if ex.C is not None:
            p0, p1 = _probs(ex, img0), _probs(ex, img1)
            a.html(probability_bars(p0))
            b.html(probability_bars(p1))
            top = int(np.argmax(p0))
            a.metric("Classifier reads", f"{top} ({p0[top]:.0%})", help="What the shipped classifier reads.")
            moved = round(100 * float(p1[top] - p0[top]))
            # neither direction is "good" (grey, not green/red); no arrow at all when nothing moved
            b.metric("Classifier reads", f"{int(np.argmax(p1))} ({p1.max():.0%})",
                     delta=f"{moved:+d} points for {top}" if moved else None, delta_color="off",
                     help=f"How the probability of {top} changed when the units were changed.")
            if not moved:
                b.caption(f"The probability of {top} did not change (to the nearest point).")
    st.markdown("**Every layer's feature maps** — one tile per unit, strongest mean activation first, each tile "
                "scaled to its own maximum (bright = strongly on). With units changed, the maps after them change too.")
    for name_, m in maps1.items():
        grid, order = map_grid(m[0])
        cap = f"{name_}: {m.shape[1]} units of {m.shape[2]}x{m.shape[3]}; strongest: {', '.join(map(str, order[:6]))}…"
        show_inline(grid[..., None], scale=max(1, 6 if m.shape[2] <= 7 else 3 if m.shape[2] <= 16 else 2),
                    caption=cap, alt=f"feature maps of {name_}")
    from ui.state import save_query

    save_query({"model": name, "seed": ss.get("in_seed"), "label": label, "layer": layer,
                "units": ",".join(map(str, units)) or None, "scale": f"{scale:g}" if units else None})


def _units_of(ex: Explorer, layer: str) -> int:
    maps, _ = activations(ex.G, torch.zeros(1, ex.G.z_dim), torch.zeros(1, dtype=torch.long) if ex.conditional else None)
    return int(maps[layer].shape[1])


def _probs(ex: Explorer, img: np.ndarray) -> np.ndarray:
    from gan_core.latent.inversion import reads_as

    return reads_as(ex.C, img[None])[0]


def ranking_section(ex: Explorer, path: str) -> None:
    st.subheader("Which units draw which digit")
    if ex.C is None:
        st.info("Ranking units needs the digit classifier (28x28 digit models only). The maps and the switches "
                "above work for any convolutional generator.")
        return
    st.caption(f"The GAN Dissection idea (Bau et al., ICLR 2019), adapted to digits: switch each unit off in "
               f"turn and measure how much the classifier's probability of each digit falls, averaged over "
               f"up to {RANK_SAMPLES} samples the classifier reads as that digit. Computed once per model, then "
               "kept.")
    shipped = Path(path).parent == gan_core.pretrained_dir()
    asked = st.session_state.setdefault("in_rank_asked", set())
    if not shipped and path not in asked and ranking(ex, path, start=False) is None:
        # an uploaded model can be large: its ranking is one click away, not started by opening the page
        st.button("Rank the units", key="in_rank_go", on_click=asked.add, args=(path,),
                  help="Switches every unit off in turn on a few hundred samples, in a worker process. The server "
                       "estimates the time first and uses fewer samples, or declines, when it would exceed its "
                       "limit per computation.")
        return
    r = ranking(ex, path)
    if r is None:
        return
    if r["n"] < RANK_SAMPLES:
        st.caption(f"Ranked on {r['n']} samples (not {RANK_SAMPLES}): that is what fits in the server's time limit "
                   "per computation for a generator of this size.")
    c1, c2 = st.columns([1, 2])
    cls = c1.selectbox("Digit", list(range(len(r["counts"]))), index=7, key="in_rank_class",
                       help="Show the units whose removal hurts this digit most.")
    k = c1.slider("How many units", 1, 32, 8, key="in_rank_k",
                  help="The top k units of the chosen layer. More units remove more of the digit.")
    best = best_layer(r, cls)
    layer = c1.selectbox("Layer", list(r["layers"]), index=list(r["layers"]).index(best), key=f"in_rank_layer_{cls}",
                         help=f"Preselected: {best}, the layer whose top 8 units, switched off together, lower "
                                f"the probability of {cls} most.")
    units = top_units(r, layer, cls, k)
    drop = np.asarray(r["layers"][layer]["drop"])
    c1.button(f"Switch off the units that draw {cls}s", key="in_rank_apply", on_click=select_top,
              args=(layer, units), type="primary",
              help="Puts these units in the controls above with scale 0: watch the digit lose what they draw.")
    with c2:
        st.markdown(f"**Units that draw {cls}s** in {layer} (probability of {cls} lost when each alone is off):")
        st.bar_chart({"unit": [str(u) for u in units], "drop": [float(drop[cls, u]) for u in units]},
                     x="unit", y="drop", height=220, x_label=f"unit of {layer}", y_label=f"fall in p({cls})",
                     sort=False)
        others = [c for c in range(drop.shape[0]) if c != cls]
        st.caption(f"{r['counts'][cls]} of {r['n']} samples were read as {cls}. For comparison, the same units' "
                   f"mean effect on the other digits: {float(drop[others][:, units].mean()):+.3f}.")


def styles_section(ex: Explorer) -> None:
    """A style-based G's styles per layer for the current image: what each layer's affine map makes of its w."""
    from gan_core.latent import wspace as W

    if not ex.has_w:
        return
    st.subheader("Styles per layer")
    st.caption("In a style-based generator every layer gets its own style: an affine map of w gives one scale "
               "per input channel, which multiplies that channel's weights (modulation) before the weights are "
               "normalised again (demodulation). Scales far from 1 are the channels this w turns up or down in "
               "that layer. Low ws indices style the coarse layers, high ones the fine layers.")
    z, _, _ = current_z(ex)
    ws = W.ws_of(ex.G, z)
    rows = W.styles(ex.G, ws)
    width = max(len(r["scales"]) for r in rows)
    import numpy as np
    import plotly.graph_objects as go

    grid = np.full((len(rows), width), np.nan)
    for k, r in enumerate(rows):
        grid[k, : len(r["scales"])] = r["scales"]
    names = [f"ws {r['ws']}: {r['layer']} ({r['side']}x{r['side']})" for r in rows]
    fig = go.Figure(go.Heatmap(z=grid, y=names, colorscale="RdBu", zmid=1.0, colorbar=dict(title="scale"),
                               hovertemplate="%{y}<br>channel %{x}: %{z:.3f}<extra></extra>"))
    fig.update_layout(height=120 + 26 * len(rows), margin=dict(l=10, r=10, t=10, b=10), xaxis_title="input channel",
                      yaxis=dict(autorange="reversed"))
    st.plotly_chart(fig, key="in_styles")
