"""Page state that lives in the URL, so a teacher can share a link that opens the same view."""
from __future__ import annotations

import streamlit as st


def load_query(spec: dict[str, tuple[str, type]], flag: str) -> None:
    """Copy URL query parameters into session_state once per session (before widgets are created).

    spec maps a URL parameter to (session_state key, type to parse it as); bad values are ignored.
    """
    if st.session_state.get(flag):
        return
    st.session_state[flag] = True
    for param, (key, kind) in spec.items():
        if param in st.query_params:
            try:
                st.session_state[key] = kind(st.query_params[param])
            except (TypeError, ValueError):
                pass


def save_query(values: dict) -> None:
    """Write values to the URL (None removes a key); only what changed is touched."""
    for k, v in values.items():
        if v is None:
            if k in st.query_params:
                del st.query_params[k]
        elif st.query_params.get(k) != str(v):
            st.query_params[k] = str(v)


def parse_offsets(text: str) -> dict[int, float]:
    """'12:1.5,3:-1' -> {12: 1.5, 3: -1.0}."""
    out = {}
    for part in text.split(","):
        if ":" in part:
            k, v = part.split(":", 1)
            out[int(k)] = float(v)
    return out


def format_offsets(offsets: dict[int, float]) -> str | None:
    items = [f"{k}:{v:g}" for k, v in sorted(offsets.items()) if v]
    return ",".join(items) or None
