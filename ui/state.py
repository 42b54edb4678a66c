"""Page state that lives in the URL, so a teacher can share a link that opens the same view."""
from __future__ import annotations

import math

import streamlit as st

from ui.text import plain, quoted


def _read(raw: str, kind: type, lo=None, hi=None, choices=None):
    """One query value parsed and checked, or a ValueError saying what is accepted."""
    if len(raw) > 600:  # a found digit's z (``f``) is 4 characters per 3 bytes: 171 for 64 numbers
        raise ValueError("is too long")
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise ValueError(f"is not a {'whole number' if kind is int else 'number' if kind is float else 'value'}") \
            from None
    if kind is float and not math.isfinite(value):
        raise ValueError("is not a finite number")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        fmt = (lambda v: f"{v:,}") if kind is int else (lambda v: f"{v:g}")
        raise ValueError(f"must be between {fmt(lo)} and {fmt(hi)}")
    if choices is not None and value not in choices:
        raise ValueError("is not one of the choices")
    return value


def load_query(spec: dict[str, tuple], flag: str) -> list[str]:
    """Copy URL query parameters into session_state once per session (before widgets are created).

    spec maps a URL parameter to (session_state key, type[, low, high]); a value that does not parse or lies
    outside [low, high] is not used and gets a warning naming the parameter and what it accepts (a shared
    link is user input like any widget). Returns the warnings shown.
    """
    if st.session_state.get(flag):
        return []
    st.session_state[flag] = True
    problems = []
    for param, (key, kind, *bounds) in spec.items():
        if param in st.query_params:
            raw = st.query_params[param]
            try:
                st.session_state[key] = _read(raw, kind, *bounds)
            except ValueError as e:
                problems.append(f"`{param}`={quoted(raw, 40)} {plain(e)}")   # the value is the user's: plain text
    if problems:
        st.warning("This link holds values the page cannot use, so it starts from its defaults instead: "
                   + "; ".join(problems) + ".")
    return problems


def save_query(values: dict) -> None:
    """Write values to the URL (None removes a key); only what changed is touched."""
    for k, v in values.items():
        if v is None:
            if k in st.query_params:
                del st.query_params[k]
        elif st.query_params.get(k) != str(v):
            st.query_params[k] = str(v)


def parse_offsets(text: str, max_items: int = 64, limit: float = 1e6) -> dict[int, float]:
    """'12:1.5,3:-1' -> {12: 1.5, 3: -1.0}. Raises ValueError for anything else (non-numbers, inf/NaN,
    more than ``max_items`` entries, values beyond ``limit``)."""
    out = {}
    if len(text) > 2000:
        raise ValueError("too long")
    for part in text.split(","):
        if not part.strip():
            continue
        k, sep, v = part.partition(":")
        if not sep:
            raise ValueError(f"{part[:20]!r} is not index:value")
        i, x = int(k), float(v)
        if not math.isfinite(x) or abs(x) > limit:
            raise ValueError(f"{part[:20]!r} is not a finite offset")
        out[i] = x
        if len(out) > max_items:
            raise ValueError("too many offsets")
    return out


def format_offsets(offsets: dict[int, float]) -> str | None:
    items = [f"{k}:{v:g}" for k, v in sorted(offsets.items()) if v]
    return ",".join(items) or None
