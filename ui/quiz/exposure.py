"""HYPE-time's timed exposure, done in the browser: a small Streamlit component (Components v2) shows the
image for N ms measured with requestAnimationFrame, replaces it by a mask, and reports with the answer the
exposure it actually achieved. No server round trip is timed: the server only sends the next trial's image,
mask and requested exposure, and receives (trial, choice, achieved ms, response ms).

How the timing works: the image and the mask are decoded before the clock starts (``img.decode()``). After a
fixation cross, a requestAnimationFrame callback makes the image visible and notes that frame's timestamp; on
every following frame the elapsed time is compared with the request, and at the frame that brings it within
half a frame of it the mask replaces the image. Each change is painted at the next screen refresh, so the
difference between the two frames' timestamps is the exposure the participant saw (to a frame).
"""
from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

from gan_core.humaneval import staircase

FIXATION_MS = 500

STATIC = Path(__file__).parent / "static"
JS = (STATIC / "exposure.js").read_text()      # also run by bench/exposure_timing.py in headless Chromium
CSS = (STATIC / "exposure.css").read_text()

_COMPONENT = st.components.v2.component("gan_studio_exposure", js=JS, css=CSS)


def data_uri(img: np.ndarray) -> str:
    b = io.BytesIO()
    Image.fromarray(img).save(b, "PNG")
    return "data:image/png;base64," + base64.b64encode(b.getvalue()).decode()


def mask(shape: tuple, seed: int) -> np.ndarray:
    """A backward mask: blocks of random grey or colour noise the size of the image, new for every trial."""
    g = np.random.default_rng(seed)
    h, w = shape[:2]
    block = max(4, h // 16)
    small = g.integers(0, 256, (-(-h // block), -(-w // block)) + tuple(shape[2:]), dtype=np.uint8)
    big = np.kron(small, np.ones((block, block) + (1,) * (len(shape) - 2), np.uint8))
    return big[:h, :w]


def timed_trial(img: np.ndarray, exposure_ms: int, trial: int, seed: int, on_answer, key: str) -> dict | None:
    """Show ``img`` for ``exposure_ms`` in the browser, then a mask, then Real/Fake; ``on_answer(answer)`` runs
    (as a Streamlit callback) with {"trial", "choice", "achieved", "requested", "rt"}. Returns the answer of
    this run too (the caller records it when the callback could not run: a session new to this server)."""
    size = img.shape[0] * (1 if img.shape[0] >= 128 else 2)

    def _changed():
        value = getattr(st.session_state.get(key), "answer", None)
        if value is not None:
            on_answer(value)

    result = _COMPONENT(key=key, data={"trial": int(trial), "image": data_uri(img),
                                       "mask": data_uri(mask(img.shape, seed)), "ms": int(exposure_ms),
                                       "size": int(size), "fixation": FIXATION_MS},
                        on_answer_change=_changed)
    return getattr(result, "answer", None)


HELP = (f"HYPE-time: each image appears for a short, measured time (from {staircase.MIN_MS} to {staircase.MAX_MS} "
        f"ms), then a noise mask covers it. The time shortens by {staircase.STEP_MS} ms after "
        f"{staircase.DOWN_AFTER} right answers in a row and lengthens after a wrong one, separately for each "
        "model, so it settles at the shortest exposure at which you still tell real from fake.")
