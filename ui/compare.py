"""'Keep as reference' on /train and /playground: freeze the current run (gan_core.training.reference) in the browser
session, and draw it under the next run's charts and beside its samples at the same step."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from gan_core.training.reference import Reference, freeze
from ui.text import plain

REF_STYLE = dict(dash="dash", width=1.5)


def keep_button(key: str, make, disabled: bool) -> None:
    """'Keep as reference' and 'Forget the reference' buttons. ``make()`` returns the Reference to keep."""
    ref = st.session_state.get(key)
    c1, c2, c3 = st.columns([1, 1, 2])
    if c1.button("Keep as reference", icon=":material/push_pin:", key=f"{key}_keep", disabled=disabled, width="stretch",
                 help="Freeze this run's curves and samples. The next run (a new preset, a remedy, another seed) "
                      "is drawn beside it, step for step. It stays while this browser tab is open, on every page."):
        try:
            st.session_state[key] = make()
            st.session_state.pop(f"{key}_by_fix", None)
            st.rerun()
        except ValueError as e:
            st.warning(str(e))
    if ref is not None:
        if c2.button("Forget the reference", key=f"{key}_forget", width="stretch"):
            st.session_state.pop(key, None)
            st.rerun()
        c3.caption(f"Reference: **{plain(ref.label)}** (up to step {ref.last_step:,}), drawn dashed" +
                   (": Fix it kept the failing run, so the cure is drawn beside the failure." if
                    st.session_state.get(f"{key}_by_fix") else "."))


def reference(key: str) -> Reference | None:
    return st.session_state.get(key)


def add_reference_traces(fig: go.Figure, ref: Reference | None, keys: dict[str, str]) -> None:
    """Dashed lines of the reference run's measurements under the current ones."""
    if ref is None:
        return
    for k, name in keys.items():
        x, y = ref.series(k)
        if x:
            fig.add_trace(go.Scatter(x=x, y=y, name=f"reference: {name}", mode="lines", line=REF_STYLE,
                                     opacity=0.7))


def train_reference(job) -> Reference:
    """A /train job frozen as a reference, labelled with its preset, seed and remedies."""
    from gan_core.training.remedies import active

    label = f"{st.session_state.get('tr_preset', 'run')}, seed {job.config.seed}"
    label += "".join(f" + {n}" for n in active(job.config))
    return freeze(label, job.config.to_dict(), list(job.history), list(job.coverage),
                  [(s_.step, s_.grid) for s_ in list(job.snapshots)])


def keep_before_fixing(key: str, make) -> None:
    """'Fix it' keeps the failing run as the reference (replacing an older one), so collapse and cure are drawn
    side by side: the lesson. Nothing is kept from a run that has no steps yet."""
    try:
        st.session_state[key] = make()
        st.session_state[f"{key}_by_fix"] = True
    except (ValueError, AttributeError):
        pass


def keep_train_run(job) -> None:
    """/train: keep this session's live job as the reference."""
    keep_button("tr_reference", lambda: train_reference(job), disabled=job is None)  # outside the live fragment
