"""The remedies for mode collapse on /train and /playground: switches for the new ones, and "Fix it", which
restarts a failure preset with the same seed and one remedy (gan_core.training.remedies holds the table)."""
from __future__ import annotations

import streamlit as st

from gan_core.training.remedies import REMEDIES, active, applies, with_remedy

NEW = ["Minibatch discrimination", "Minibatch standard deviation", "Feature matching", "Unrolled D",
       "Packing (PacGAN)"]   # the others already have their own setting on the page


def describe(name: str) -> str:
    r = REMEDIES[name]
    return f"**{name}** ({r['paper']}): {r['help']}"


def remedy_picker(key: str, toy: bool) -> list[str]:
    """A multiselect of the remedies that have no setting of their own; returns the chosen names."""
    names = [n for n in NEW if applies(n, toy)]
    st.session_state[key] = [n for n in st.session_state.get(key, []) if n in names]
    st.multiselect("Remedies for mode collapse", names, key=key,
                   help="Switch on any of these; each is explained below. " + " ".join(describe(n) for n in names))
    others = [n for n in REMEDIES if n not in NEW and applies(n, toy) and not REMEDIES[n].get("combination")]
    st.caption("Also remedies, with their own settings here: " + "; ".join(
        f"{n} ({REMEDIES[n]['paper']})" for n in others) + ".")
    return list(st.session_state[key])


def with_remedies(cfg, names: list[str]):
    """``cfg`` with each named remedy on; ValueError (a message for the page) when one does not fit."""
    for n in names:
        cfg = with_remedy(cfg, n)
    return cfg


# The remedy with the best worst seed on each "Mode collapse on purpose" preset (bench/remedies.py)
BEST_MEASURED = {"images": "Feature matching + minibatch features", "toy": "Two learning rates"}


def fix_it(key: str, toy: bool, on_fix) -> None:
    """'Fix it': pick a remedy (every applicable one, what it does in the help) and restart with it."""
    names = [n for n in REMEDIES if applies(n, toy)]
    best = BEST_MEASURED["toy" if toy else "images"]
    c1, c2 = st.columns([3, 1])
    name = c1.selectbox("Fix it with", names, key=key, index=names.index(best),
                        help=f"Restart this preset with the same seed and one remedy switched on. It starts at "
                             f"{best}, the best measured on the collapse preset (bench/remedies.py). Not every "
                             "remedy helps: that is worth seeing too. " + " ".join(describe(n) for n in names))
    c1.caption(describe(name))
    c2.button("Fix it", icon=":material/healing:", key=f"{key}_go", on_click=on_fix, args=(name,), type="primary", width="stretch",
              help="Same seed, same settings, plus this remedy: a fresh run starts at once.")


def new_remedies_in(cfg) -> list[str]:
    """The NEW remedies ``cfg`` has on (to show them in the picker)."""
    return [n for n in active(cfg) if n in NEW]


TRAIN_FAILURES = ("Mode collapse on purpose", "Vanishing gradients on purpose")
