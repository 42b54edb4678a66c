"""/latent's sections computed over many samples in the server's work queue: the clickable latent map and latent
arithmetic."""
from __future__ import annotations

import plotly.express as px
import streamlit as st

from gan_core.latent.explorer import Explorer
from ui.images import show
from ui.latent.views import found_z


def _map(path: str, n: int, method: str, ex: Explorer) -> dict | None:
    """The latent map through the server's work queue (None while it waits or runs)."""
    from gan_core.serve import worktasks
    from gan_core.serve.workers import Task
    from ui.work import queued

    return queued(("latent_map", path, n, method), "the latent map", Task(worktasks.latent_map, (path, n, method)),
                  light=True)


def on_map_select():
    pts = st.session_state.get("lat_map_chart", {}).get("selection", {}).get("points", [])
    seed, label = map_point(pts[0] if pts else None)
    if seed is not None:
        st.session_state.lat_seed = seed
        if label is not None:
            st.session_state.lat_label = label


def map_point(point) -> tuple[int | None, int | None]:
    """(seed, class) of a clicked map point. Plotly's selection gives ``customdata`` as a list in some versions
    and as a dict keyed "0", "1" in others (a list lookup on the dict crashed the page); anything else: None."""
    cd = point.get("customdata") if isinstance(point, dict) else None
    if isinstance(cd, dict):
        cd = [cd.get(k, cd.get(str(k))) for k in range(len(cd))]
    if not isinstance(cd, (list, tuple)) or not cd:
        return None, None
    try:
        seed = int(cd[0])
    except (TypeError, ValueError):
        return None, None
    try:
        label = int(cd[1]) if len(cd) > 1 and cd[1] is not None and int(cd[1]) >= 0 else None
    except (TypeError, ValueError):
        label = None
    return (seed if 0 <= seed < 2 ** 31 else None), label


@st.fragment(run_every=0.4)
def _map_placeholder():
    """Stands in for the latent map on a page's first run. The browser asks for this fragment again once it has
    drawn the page; that is when the map is drawn (by a full rerun). Why: the plotly chart is a large script the
    browser loads and compiles before it paints anything, so drawing it on the first run delayed the first image
    from ~1.7 s to ~4 s."""
    if st.session_state.get("lat_map_tick"):
        st.session_state.lat_map_shown = True
        st.rerun()
    st.session_state.lat_map_tick = True
    st.caption("Drawing the latent map…")


def latent_map_section(ex: Explorer, path: str):
    st.subheader("Latent map")
    if ex.C is None:
        st.info("The latent map needs the digit classifier (28x28 grayscale models only).")
        return
    if not st.session_state.get("lat_map_shown"):
        _map_placeholder()
        return
    c1, c2 = st.columns(2)
    n = c1.select_slider("Samples", [200, 500, 1000], 500, key="lat_map_n",
                         help="Seeds 0 … N−1, each generated once and placed by its classifier features.")
    method = c2.radio("Projection", ["pca", "tsne"], horizontal=True, key="lat_map_method",
                      format_func=lambda m: {"pca": "PCA (fast, linear)", "tsne": "t-SNE (clusters, slower)"}[m],
                      help="How 128 classifier features are squeezed into 2D.")
    m = _map(path, n, method, ex)
    if m is None:
        return
    labels = m["labels"] or [-1] * len(m["seeds"])
    from ui.palette import digit_color_map, digit_symbol_map

    reads = [str(p) for p in m["pred"]]
    fig = px.scatter(x=m["xy"][:, 0], y=m["xy"][:, 1], color=reads, symbol=reads,
                     color_discrete_map=digit_color_map(), symbol_map=digit_symbol_map(),
                     custom_data=[m["seeds"], labels], labels={"color": "classifier reads", "symbol": "classifier reads"},
                     category_orders={"color": [str(i) for i in range(10)]}, height=480)
    fig.update_traces(marker=dict(size=7, opacity=0.8),
                      hovertemplate="seed %{customdata[0]}<extra></extra>")
    fig.update_layout(xaxis_title=None, yaxis_title=None, margin=dict(l=10, r=10, t=10, b=10))
    st.caption("Click a point to make it the current image above.")
    st.plotly_chart(fig, key="lat_map_chart", on_select=on_map_select, selection_mode="points")


def _arithmetic(path: str, a: int, b: int, c: int, ex: Explorer, start_text: str | None = None) -> dict | None:
    """Latent arithmetic through the server's work queue (None while it waits or runs). ``start_text``: an
    encoded found z that takes the place of mean(a)."""
    from gan_core.serve import worktasks
    from gan_core.serve.workers import Task
    from ui.work import queued

    return queued(("arithmetic", path, a, b, c, start_text), "the latent arithmetic",
                  Task(worktasks.arithmetic, (path, a, b, c, start_text)), light=True)


def arithmetic_section(ex: Explorer, path: str):
    st.subheader("Latent arithmetic")
    if ex.conditional:
        st.info("This model is told the class directly, so class arithmetic in z does not apply; try an "
                "unconditional model.")
        return
    if ex.C is None:
        st.info("Latent arithmetic needs the digit classifier.")
        return
    st.caption("Average the z of samples the classifier confidently reads as a, b and c, then generate "
               "mean(a) − mean(b) + mean(c).")
    found = st.session_state.get("lat_found") if found_z(ex) is not None else None
    mine = bool(found) and st.toggle("a = my digit", True, key="lat_ar_mine",
                                     help="Start from the z found for your digit instead of the mean z of a class.")
    c1, c2, c3 = st.columns(3)
    a = c1.selectbox("a", range(10), index=7, key="lat_ar_a", disabled=mine)
    b = c2.selectbox("− b", range(10), index=1, key="lat_ar_b")
    c = c3.selectbox("+ c", range(10), index=4, key="lat_ar_c")
    r = _arithmetic(path, a, b, c, ex, found if mine else None)
    if r is None:
        return
    if "warning" in r:
        st.warning(r["warning"])
        return
    cols = st.columns(4)
    first = "your digit" if mine else f"mean z of {a} ({r['counts'][a]})"
    result = f"{'yours' if mine else a} − {b} + {c}: reads as {r['result_reads_as']}"
    for col, img, cap in zip(cols, r["images"], [first, f"mean z of {b} ({r['counts'][b]})",
                                                  f"mean z of {c} ({r['counts'][c]})", result]):
        with col:
            show(img, scale=5, caption=cap)
