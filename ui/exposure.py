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

import numpy as np
import streamlit as st
from PIL import Image

from gan_core.humaneval import staircase

FIXATION_MS = 500

_JS = """
export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  let root = parentElement.querySelector('.hype-root');
  if (!root) {
    root = document.createElement('div');
    root.className = 'hype-root';
    parentElement.appendChild(root);
  }
  if (root.dataset.trial === String(data.trial)) { return; }   // a rerun of the same trial: keep going
  root.dataset.trial = String(data.trial);
  if (root._cleanup) { root._cleanup(); }
  const size = data.size;
  root.innerHTML = '';
  const stage = document.createElement('div');
  stage.className = 'stage';
  stage.style.width = size + 'px';
  stage.style.height = size + 'px';
  const fix = document.createElement('div');
  fix.className = 'fix';
  fix.textContent = '+';
  const img = new Image();
  const mask = new Image();
  for (const el of [img, mask]) { el.className = 'layer'; el.width = size; el.height = size; el.alt = ''; el.style.visibility = 'hidden'; }
  stage.append(fix, img, mask);
  const bar = document.createElement('div');
  bar.className = 'buttons';
  const real = document.createElement('button');
  real.textContent = 'Real (←)';
  const fake = document.createElement('button');
  fake.textContent = 'Fake (→)';
  real.disabled = fake.disabled = true;
  bar.append(real, fake);
  const note = document.createElement('p');
  note.className = 'note';
  note.textContent = 'Look at the cross: the image appears there for a moment.';
  root.append(stage, bar, note);

  let shownAt = null, maskAt = null, achieved = null, done = false, frame = 1000 / 60, last = null;
  const answer = (choice) => {
    if (done || maskAt === null) { return; }
    done = true;
    real.disabled = fake.disabled = true;
    note.textContent = 'Saving your answer…';
    setTriggerValue('answer', { trial: data.trial, choice: choice, achieved: achieved,
                                requested: data.ms, rt: Math.round(performance.now() - maskAt) });
  };
  real.onclick = () => answer('real');
  fake.onclick = () => answer('fake');
  const onKey = (e) => {
    if (e.key === 'ArrowLeft') { answer('real'); }
    else if (e.key === 'ArrowRight') { answer('fake'); }
  };
  document.addEventListener('keydown', onKey);
  root._cleanup = () => document.removeEventListener('keydown', onKey);

  const tick = (ts) => {
    if (last !== null) { frame = 0.8 * frame + 0.2 * Math.min(ts - last, 50); }
    last = ts;
    if (shownAt === null) {
      fix.style.visibility = 'hidden';
      img.style.visibility = 'visible';
      shownAt = ts;
    } else if (ts - shownAt >= data.ms - frame / 2) {
      img.style.visibility = 'hidden';
      mask.style.visibility = 'visible';
      maskAt = ts;
      achieved = ts - shownAt;
      root.dataset.achieved = achieved.toFixed(2);
      real.disabled = fake.disabled = false;
      note.textContent = 'Was it real or made by a model?';
      return;
    }
    requestAnimationFrame(tick);
  };
  img.src = data.image;
  mask.src = data.mask;
  Promise.all([img.decode(), mask.decode()]).then(() => {
    setTimeout(() => requestAnimationFrame((ts) => { last = ts; requestAnimationFrame(tick); }), data.fixation);
  });
}
"""

_CSS = """
.stage { position: relative; margin: 0 auto; background: #808080; }
.layer { position: absolute; left: 0; top: 0; image-rendering: pixelated; }
.fix { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
       font: 32px sans-serif; color: #fff; }
.buttons { display: flex; gap: 1em; justify-content: center; margin-top: 1em; }
.buttons button { font-size: 1.1em; padding: 0.4em 1.4em; cursor: pointer; }
.note { text-align: center; color: #555; }
"""

_COMPONENT = st.components.v2.component("gan_studio_exposure", js=_JS, css=_CSS)


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


def timed_trial(img: np.ndarray, exposure_ms: int, trial: int, seed: int, on_answer, key: str) -> None:
    """Show ``img`` for ``exposure_ms`` in the browser, then a mask, then Real/Fake; ``on_answer(answer)`` runs
    (as a Streamlit callback) with {"trial", "choice", "achieved", "requested", "rt"}."""
    size = img.shape[0] * (1 if img.shape[0] >= 128 else 2)

    def _changed():
        value = getattr(st.session_state.get(key), "answer", None)
        if value is not None:
            on_answer(value)

    _COMPONENT(key=key, data={"trial": int(trial), "image": data_uri(img), "mask": data_uri(mask(img.shape, seed)),
                              "ms": int(exposure_ms), "size": int(size), "fixation": FIXATION_MS},
               on_answer_change=_changed)


HELP = (f"HYPE-time: each image appears for a short, measured time (from {staircase.MIN_MS} to {staircase.MAX_MS} "
        f"ms), then a noise mask covers it. The time shortens by {staircase.STEP_MS} ms after "
        f"{staircase.DOWN_AFTER} right answers in a row and lengthens after a wrong one, separately for each "
        "model, so it settles at the shortest exposure at which you still tell real from fake.")
