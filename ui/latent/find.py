""""Find your digit" on the latent explorer: draw (or upload, or pick a real) digit, find the z whose image is
closest (gan_core.latent.inversion), and explore from there. The search runs through the server's work queue."""
from __future__ import annotations

import hashlib
import time

import numpy as np
import streamlit as st

from gan_core.latent.explorer import Explorer, gif_bytes, png_bytes, strip, upscale
from gan_core.intake import IntakeError, images
from gan_core.intake.images import read_pixels
from gan_core.latent.inversion import DigitError, prepare_digit, reads_as
from ui.images import show, show_inline

SOURCES = {"draw": "Draw it", "upload": "Upload an image", "real": "A real MNIST digit"}
MAX_IMAGE_MB = 5
CANVAS = 224
FOLLOW_S = 2.0  # a digit that changes this soon after Find is pressed is searched too (see _follows)


def explore_from_here(z_text: str, label: int | None) -> None:
    """Make the found z the explorer's current image (a callback: runs before the widgets are drawn)."""
    from ui.latent.views import K_DIRS, dir_key

    ss = st.session_state
    ss.lat_found = z_text
    ss.lat_found_here = True   # found in this session: the drawing is below (a link's z has none)
    if label is not None:
        ss.lat_label = int(label)
    for i in range(K_DIRS):
        ss[dir_key(i)] = 0.0
    for j in ss.get("lat_dims", []):
        ss.pop(f"lat_z{j}", None)
    ss.lat_dims = []
    ss.lat_psi = 1.0
    ss.lat_from_current = True  # the interpolation starts at your digit


def _drawn() -> np.ndarray | None:
    from streamlit_drawable_canvas import st_canvas

    st.caption("Draw one digit with the mouse or a finger, white on black like MNIST. Any size or place: it is "
               "cropped, scaled and centred the way MNIST digits were.")
    r = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=CANVAS, width=CANVAS,
                  drawing_mode="freedraw", return_image_data=True, update_streamlit=True, key="find_canvas")
    if r is None:
        return None
    raw = r.image_bytes   # the PNG the browser sent: decoded here by the image intake, within CANVAS limits
    if raw is None:
        return None
    try:
        return read_pixels(raw, "The drawing", images.CANVAS)
    except IntakeError as e:
        raise DigitError(str(e)) from None


def _uploaded() -> np.ndarray | None:
    up = st.file_uploader("An image of one digit", type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                          key="find_upload", max_upload_size=MAX_IMAGE_MB,
                          help="A photo or scan of one handwritten digit. Dark on light or light on dark both "
                               f"work. At most {MAX_IMAGE_MB} MB; photos are read at a reduced size.")
    if up is None:
        return None
    try:
        return read_pixels(up.getvalue(), "That file", images.DIGIT)
    except IntakeError as e:
        raise DigitError(str(e)) from None


def _real() -> tuple[np.ndarray, int]:
    from gan_core.data.datasets import mnist5k_arrays

    X, y = mnist5k_arrays()
    i = st.number_input("Real digit number", 0, len(X) - 1, 123, key="find_real_index",
                        help="One of the 5,000 real MNIST digits the models were trained on.")
    return X[int(i)].transpose(1, 2, 0), int(y[int(i)])


def explore_from_here_w(w_text: str) -> None:
    """Make the ws found in W or W+ the W section's starting point."""
    st.session_state.lat_found_w = w_text


SPACES = {"z": "Z", "w": "W (one w)", "w+": "W+ (one w per layer)"}


def _space(ex: Explorer) -> str:
    if not ex.has_w:
        return "z"
    return st.radio("Search in", list(SPACES), format_func=SPACES.get, horizontal=True, key="find_space",
                    help="Z: the input of the mapping network. W: one w for every layer (what the mapping network "
                         "outputs). W+: a separate w for each layer — the most freedom, so usually the closest "
                         "match (Abdal et al. 2019), but further from what the model draws by itself.")


def _search(ex: Explorer, path: str, target: np.ndarray, label: int | None, space: str = "z") -> dict | None:
    from ui.work import queued

    from gan_core.serve import worktasks
    from gan_core.serve.workers import Task

    digest = hashlib.sha256(target.tobytes()).hexdigest()[:16]
    return queued(_search_key(("find_asked", digest, label, path, space)), "the search for your digit",
                  Task(worktasks.search_digit, (path, target, label, space)), light=True)


def find_section(ex: Explorer, path: str, model_name: str) -> None:
    st.subheader("Find your digit")
    if ex.C is None or tuple(ex.G.img_shape) != (1, 28, 28):
        st.info("Finding a digit needs a 28x28 digit model and the shipped classifier.")
        return
    st.caption("Every image this model can draw has a z. Give it a digit, and the app searches for the z whose "
               "image is closest: it screens 512 random z, then refines the 6 best by gradient descent on the "
               "difference in pixels and in the classifier's features (like StyleGAN2's projector).")
    source = st.radio("Your digit", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="find_source",
                      help="Draw on the canvas, upload a photo or scan, or take one of the real training digits.")
    truth = None
    try:
        raw = _drawn() if source == "draw" else _uploaded() if source == "upload" else None
        if source == "real":
            raw, truth = _real()
        if raw is None:
            return
        target = prepare_digit(raw)
    except DigitError as e:
        if source == "draw" and "blank" in str(e):
            return  # an empty canvas: nothing to say yet
        st.warning(str(e))
        return
    label = None
    if ex.conditional:
        pick = st.selectbox("Class to search in", ["find it"] + list(range(ex.G.num_classes)), key="find_class",
                            help="This model is told which digit to draw. 'find it' searches every class and "
                                 "keeps the closest; or fix the class yourself.")
        label = None if pick == "find it" else int(pick)
    space = _space(ex)
    c1, c2 = st.columns([1, 3])
    # on_click: the press is recorded before the script runs, so a rerun that interrupts this one (the last
    # stroke arriving) cannot lose it; the digit it applies to is the one this run or the next one sees
    c1.button("Find it in latent space", type="primary", key="find_go", on_click=_press,
              help="Searches z (a second or two). The same digit is found once and then remembered.")
    key = ("find_asked", hashlib.sha256(target.tobytes()).hexdigest()[:16], label, path, space)
    if st.session_state.pop("find_pressed", False) or _follows(key):
        _ask(key)
    if st.session_state.get("find_asked") != key:
        with c2:
            show_inline(target, scale=4, caption="what the model will be asked to match (28x28)", alt="your digit")
        return
    r = _search(ex, path, target, label, space)
    if r is None:
        return
    st.session_state.find_shown = key
    _result(ex, target, r, truth, model_name)


def _search_key(asked: tuple) -> tuple:
    """The work-queue key of _search for a ``find_asked`` key (digest, label, path)."""
    return ("project", asked[3], asked[1], asked[2], asked[4])


def _press() -> None:
    st.session_state.find_pressed = True


def _ask(key: tuple) -> None:
    """Remember that Find was pressed for ``key``; a search of an earlier digit that still runs is dropped."""
    from ui.work import owner, work_queue

    ss = st.session_state
    old = ss.get("find_asked")
    if old is not None and old != key:
        q = work_queue()
        t = q.mine(owner())
        if t is not None and t.key == _search_key(old):
            q.cancel(owner(), t)
    ss.find_asked, ss.find_asked_at = key, time.monotonic()


def _follows(key: tuple) -> bool:
    """Whether a press of Find that was just made applies to this (changed) digit too.

    The canvas sends a stroke to the server 200 ms after the mouse is released, so a press of Find within that
    moment arrives with the drawing as it was before the last stroke; the stroke follows in the next run. The
    press counts for the finished drawing when the digit changes before the result of the press was shown, or
    within FOLLOW_S seconds of it (the drawing before the last stroke may have been found before).
    """
    ss = st.session_state
    asked = ss.get("find_asked")
    if asked is None or asked == key or asked[2:] != key[2:]:  # nothing asked, the same digit, or another class/model
        return False
    if _search_key(asked) in ss.get("work_cancelled", ()):
        return False  # that search was cancelled: only a new press searches again
    return ss.get("find_shown") != asked or time.monotonic() - ss.get("find_asked_at", 0.0) < FOLLOW_S


def _result(ex: Explorer, target: np.ndarray, r: dict, truth: int | None, model_name: str) -> None:
    p_in, p_out = reads_as(ex.C, np.stack([target, r["images"][0]]))
    err = float(np.abs(target.astype(float) - r["images"][0].astype(float)).mean() / 255)
    cols = st.columns(4)
    with cols[0]:
        show(target, scale=5, caption="your digit (as MNIST)")
        st.metric("Classifier reads", f"{int(p_in.argmax())} ({p_in.max():.0%})",
                  help="What the shipped classifier reads in your digit" +
                       (f"; it is a real {truth}." if truth is not None else "."))
    with cols[1]:
        show(r["images"][0], scale=5, caption="the closest the model draws")
        st.metric("Classifier reads", f"{int(p_out.argmax())} ({p_out.max():.0%})",
                  help="What the classifier reads in the found image. The same digit as on the left means the "
                       "model found your digit, not just something near it in pixels.")
    with cols[2]:
        st.image(gif_bytes(r["history"][:, 0], scale=5, duration_ms=120, boomerang=False),
                 caption=f"the search, {r['steps']} steps")
        st.caption("Each frame is the best start's image along the way: the first is the best of the random "
                   "starts, the last is the answer.")
    with cols[3]:
        st.metric("Pixel difference", f"{err:.1%}", help="Mean absolute difference per pixel (0% = identical).")
        st.metric("Loss", f"{float(r['loss'][0]):.3f}", help="Pixels + classifier features + a prior on |z|.")
        if r["labels"] is not None:
            st.metric("Class found", r["labels"][0], help="The class given to the model for the found image.")
    if r.get("space", "z") == "z":
        st.button("Explore from here", type="primary", key="find_explore", on_click=explore_from_here,
                  args=(r["z_text"], None if r["labels"] is None else r["labels"][0]),
                  help="Makes the found z the explorer's image above: move it with the sliders, interpolate from "
                       "it to a seed, do arithmetic with it. The link in the address bar then holds it.")
    else:
        st.button("Explore from here", type="primary", key="find_explore", on_click=explore_from_here_w,
                  args=(r["w_text"],),
                  help="Makes the found w the starting point of the W space section above: edit it layer by layer, "
                       "redraw its noise. (A z search's result moves the main image instead.)")
    st.download_button("Download input, found image and search (PNG)",
                       lambda: png_bytes(upscale(strip(np.concatenate([target[None], r["images"],
                                                                       r["history"][:, 0]])), 4)),
                       f"{model_name}-found-digit.png", "image/png", key="find_png", on_click="ignore")
