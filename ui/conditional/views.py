"""Widgets and views for the conditional page."""
from __future__ import annotations

import numpy as np
import plotly.express as px
import streamlit as st

from gan_core.latent.sampling import SeedError, parse_seeds
from ui.images import show


def seeds_input(container, label: str, default: str, key: str, limit: int = 64) -> list[int] | None:
    text = container.text_input(label, default, key=key, max_chars=200, help="Seeds like 1-16 or 3, 7, 42.")
    try:
        seeds = parse_seeds(text, limit=limit)
    except SeedError as e:
        container.error(f"{e}.")
        return None
    if len(seeds) > limit:
        container.error(f"At most {limit} seeds here.")
        return None
    return seeds


def show_class_columns(images: np.ndarray) -> None:
    """(R, K, H, W, C) as K columns, one per class, each a vertical strip of R images."""
    cols = st.container(key="class_grid").columns(images.shape[1])
    for k, col in enumerate(cols):
        with col:
            st.markdown(f"**{k}**")
            column = np.concatenate(list(images[:, k]), axis=0)
            show(column, scale=3)


def show_sorted(groups: dict[int, np.ndarray]) -> None:
    cols = st.columns(len(groups))
    for c, col in zip(groups, cols):
        with col:
            st.markdown(f"**{c}** ({len(groups[c])})")
            if len(groups[c]):
                show(np.concatenate(list(groups[c]), axis=0), scale=2)
            else:
                st.caption("none — a missing mode")


@st.cache_data(show_spinner="Measuring per-class accuracy…", max_entries=8)
def _accuracy(path: str, n: int, _ex) -> dict:
    from gan_core.metrics.scores import conditional_accuracy

    return conditional_accuracy(_ex.G, _ex.C, n=n, seed=0)


def per_class_accuracy(path: str, ex) -> None:
    if ex.C is None:
        st.info("Accuracy needs the digit classifier (28x28 grayscale models).")
        return
    st.caption("How often the shipped classifier reads G(z, y) as y, over 1,000 samples (100 per class).")
    acc = _accuracy(path, 1000, ex)
    st.metric("Overall", f"{acc['conditional_accuracy']:.1%}")
    from ui.palette import digit_color_map

    classes = [str(i) for i in range(len(acc["per_class_accuracy"]))]
    fig = px.bar(x=classes, y=acc["per_class_accuracy"], color=classes, color_discrete_map=digit_color_map(len(classes)),
                 labels={"x": "class", "y": "accuracy"}, range_y=[0, 1], height=300)
    fig.update_layout(showlegend=False, xaxis=dict(type="category", tickmode="linear", dtick=1))
    st.plotly_chart(fig, key="cond_acc_chart")
