"""The sections of the latent explorer page. Widgets write plain values to session_state; gan_core.latent.explorer
turns them into images."""
from __future__ import annotations

import random

import numpy as np
import streamlit as st
import torch

from gan_core.latent.explorer import Explorer, gif_bytes, png_bytes, strip, upscale
from gan_core.latent.wspace import BIG_SIDE
from gan_core.latent.sampling import seeds_to_z, truncate
from ui.images import scale_for, show, show_inline
from ui.priority import in_turn
from ui.state import format_offsets, parse_offsets
from ui.text import plain

K_DIRS = 8
SIGMA = 4.0  # slider range, in standard deviations


def dir_key(i: int) -> str:
    return f"lat_dir{i}"


def new_random_seed():
    st.session_state.lat_seed = random.randint(0, 99_999)
    back_to_seeds()


def back_to_seeds():
    """Leave a found digit's z: the seed gives z again."""
    st.session_state.pop("lat_found", None)


def found_z(ex: Explorer) -> torch.Tensor | None:
    """The z of a digit found by "Find your digit" (or from the link's ``f``), when the explorer starts there."""
    from gan_core.latent.inversion import decode_z

    text = st.session_state.get("lat_found")
    if not text:
        return None
    try:
        return decode_z(text, ex.G.z_dim)
    except ValueError as e:
        st.warning(f"The found digit in this link cannot be used here ({plain(e)}); showing the seed instead.")
        st.session_state.pop("lat_found", None)
        return None


def reset_sliders(z_dim: int):
    for i in range(K_DIRS):
        st.session_state[dir_key(i)] = 0.0
    for j in range(z_dim):
        st.session_state.pop(f"lat_z{j}", None)
    st.session_state.lat_dims = []


def apply_url_offsets(ex: Explorer):
    """Directions and raw-dimension offsets from the URL ('d' and 'z' parameters), applied once. Entries
    that cannot be used (not index:value, an index this model lacks, an offset beyond ±SIGMA) are left out
    with a warning."""
    if st.session_state.get("lat_offsets_loaded"):
        return
    st.session_state.lat_offsets_loaded = True
    problems, dims = [], {}
    for param, n, what in (("d", min(K_DIRS, len(ex.directions)), "direction"), ("z", ex.G.z_dim, "z dimension")):
        raw = st.query_params.get(param, "")
        try:
            offsets = parse_offsets(raw)
        except ValueError as e:
            problems.append(f"`{param}` ({plain(e)})")
            continue
        for i, v in offsets.items():
            if not 0 <= i < n:
                problems.append(f"{what} {i} does not exist (0 to {n - 1})")
            elif abs(v) > SIGMA:
                problems.append(f"{what} {i}: offset {v:g} is beyond ±{SIGMA:g}")
            elif param == "d":
                st.session_state[dir_key(i)] = float(v)
            else:
                dims[i] = float(v)
    if problems:
        st.warning("Some slider values in this link were not used: " + "; ".join(problems[:5]) + ".")
    st.session_state.lat_dims = sorted(dims)
    for j, v in dims.items():
        st.session_state[f"lat_z{j}"] = v


def current_state(ex: Explorer) -> dict:
    """The plain values the widgets hold."""
    ss = st.session_state
    dirs = {i: ss.get(dir_key(i), 0.0) for i in range(min(K_DIRS, len(ex.directions)))}
    dims = {j: ss.get(f"lat_z{j}", 0.0) for j in ss.get("lat_dims", [])}
    return {"seed": int(ss.get("lat_seed", 0)), "psi": float(ss.get("lat_psi", 1.0)),
            "label": int(ss.get("lat_label", 0)) if ex.conditional else None, "dirs": dirs, "dims": dims,
            "found": found_z(ex)}


def current_z(ex: Explorer, s: dict) -> torch.Tensor:
    """z of the current state; a style-based model's ψ acts in W instead (``w_psi``)."""
    return ex.z_for(s["seed"], 1.0 if ex.has_w else s["psi"], s["dirs"], s["dims"], base=s["found"])


def w_psi(ex: Explorer, s: dict) -> float:
    return s["psi"] if ex.has_w else 1.0


@st.fragment
@in_turn
def current_view(ex: Explorer, model_name: str):
    """Seed, truncation, sliders and the image with what D and the classifier make of it (one torch thread:
    ``in_turn`` sets it)."""
    left, mid, right = st.columns([1.1, 1.2, 1.1])
    n_dirs = min(K_DIRS, len(ex.directions))
    for i in range(n_dirs):
        st.session_state.setdefault(dir_key(i), 0.0)
    for j in st.session_state.get("lat_dims", []):
        st.session_state.setdefault(f"lat_z{j}", 0.0)
    # The widgets' new values are in session_state before they are drawn: make and send the image first, so
    # the browser can paint it while the rest of this fragment is still being computed.
    s = current_state(ex)
    z = current_z(ex, s)
    d = int(st.session_state.get("lat_strip_dir", 0) or 0)
    d = d if 0 <= d < n_dirs else 0
    big = ex.G.img_shape[-1] >= BIG_SIDE    # seconds per image on a CPU: the image alone, no strip of seven
    v = ex.view(z, d, s["label"], sigmas=(0,) if big else (-3, -2, -1, 0, 1, 2, 3),
                psi=w_psi(ex, s))   # image, strip and verdict from one pass of G (was three)
    img = v["image"]
    with mid:
        where = "your digit" if s["found"] is not None else f"seed {s['seed']}"
        show_inline(img, scale=scale_for(img.shape[0]), caption=f"{where}, ψ = {s['psi']:.2f}",
                    alt=f"the generated image for {where}")
        if s["found"] is not None:
            st.caption("Exploring from the z found for your digit (below). The sliders move it; the "
                       "interpolation starts from it." if st.session_state.get("lat_found_here") else
                       "Exploring from a z that Find your digit found for someone's drawing: it came with the "
                       "link you opened (the drawing itself stays on their screen). The sliders move it.")
            st.button("Back to seeds", on_click=back_to_seeds, key="lat_back_to_seeds",
                      help="Forget the found digit: the seed gives z again.")
        st.download_button("Download PNG", lambda: png_bytes(upscale(img, 8)), f"{model_name}-seed{s['seed']}.png",
                           "image/png", key="lat_png", on_click="ignore")
    with left:
        c1, c2 = st.columns([2, 1])
        c1.number_input("Seed", 0, 2 ** 31 - 1, step=1, key="lat_seed", on_change=back_to_seeds,
                        help="The seed fixes the random vector z. The same seed always gives the same image.")
        c2.button("New seed", on_click=new_random_seed, help="Jump to a random seed.", width="stretch")
        st.slider("Truncation ψ", 0.0, 1.5, step=0.05, key="lat_psi",
                  help=("A style-based model: moves w toward the mean w (w_avg + ψ (w − w_avg), the StyleGAN "
                        "truncation trick). ψ = 0 gives the 'average digit' of the model. " if ex.has_w else
                        "Scales z toward the average (0). ") +
                       "Below 1: more typical, cleaner images but less variety; above 1: more unusual ones.")
        if ex.conditional:
            st.selectbox("Class", list(range(ex.G.num_classes)), key="lat_label",
                         help="This model is conditional: you choose which digit it draws.")
        if ex.clusters:
            st.caption(f"Self-conditioned model: z's first {ex.clusters} entries pick one of {ex.clusters} clusters "
                       f"of real digits, found without labels (the largest entry wins). This z is in cluster "
                       f"**{ex.cluster(z)}**; when a slider moves z into another cluster the image changes fast.")
        st.caption("Directions found in closed form (SeFa): the top eigenvectors of Wᵀ W of the generator's "
                   "first layer. Sliders are in standard deviations of z.")
        for i in range(n_dirs):
            st.slider(f"Direction {i + 1}", -SIGMA, SIGMA, step=0.25, key=dir_key(i),
                      help=f"Move z along SeFa direction {i + 1} (eigenvalue {float(ex.eigenvalues[i]):.3g}: how "
                           "strongly the first layer reacts to it).")
        st.multiselect("Raw z dimensions", list(range(ex.G.z_dim)), key="lat_dims",
                       help="Add sliders for individual coordinates of z. Raw dimensions are usually entangled: "
                            "each changes many things at once.")
        for j in st.session_state.get("lat_dims", []):
            st.session_state.setdefault(f"lat_z{j}", 0.0)
            st.slider(f"z[{j}]", -SIGMA, SIGMA, step=0.25, key=f"lat_z{j}")
        st.button("Reset sliders", on_click=reset_sliders, args=(ex.G.z_dim,))
    verdict = v
    with right:
        if verdict["realness"] is not None:
            if verdict["realness_is_probability"]:
                st.metric("Discriminator: real?", f"{verdict['realness']:.0%}",
                          help="D's probability that this image is a real digit. 50% is the equilibrium.")
            else:
                st.metric("Critic score", f"{verdict['realness']:.2f}",
                          help="This model's critic outputs a score, not a probability: higher = more real.")
        else:
            st.caption("This checkpoint has no discriminator.")
        if verdict["class_probs"] is not None:
            probs = verdict["class_probs"]
            top = int(np.argmax(probs))
            st.metric("Classifier reads", f"{top}  ({probs[top]:.0%})",
                      help="What the shipped digit classifier thinks this image shows.")
            st.html(probability_bars(probs))
        if big:
            st.caption(f"This model draws {img.shape[0]} px images, a second or more each on a CPU: the strip along "
                       "a direction (seven images) is shown for smaller models only.")
        else:
            st.selectbox("Show what a direction does", list(range(n_dirs)),
                         format_func=lambda i: f"Direction {i + 1}", key="lat_strip_dir",
                         help="The current image moved from −3σ to +3σ along one direction.")
            show_inline(strip(v["strip"]), scale=scale_for(img.shape[0], 84), caption="−3σ … +3σ",
                        alt=f"the current image moved along direction {d + 1}")
    if ex.has_w:   # the W section below starts from this seed and ψ: a change redraws the page
        follow = (s["seed"], s["psi"])
        if st.session_state.get("w_follow", follow) != follow:
            st.session_state.w_follow = follow
            st.rerun()
        st.session_state.w_follow = follow
    from ui.state import save_query

    save_query({"model": model_name, "seed": s["seed"], "psi": f"{s['psi']:.2f}",
                "label": s["label"], "d": format_offsets(s["dirs"]), "z": format_offsets(s["dims"]),
                "f": st.session_state.get("lat_found") if s["found"] is not None else None})


def probability_bars(probs) -> str:
    """The classifier's probability per class as a small HTML bar chart: one element, no chart library,
    so it redraws as fast as the image while a slider moves."""
    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:6px;height:15px">'
        f'<span style="width:1.2em;text-align:right">{c}</span>'
        f'<span style="flex:1;background:rgba(128,128,128,.15);height:11px">'
        f'<span style="display:block;height:100%;width:{100 * float(p):.1f}%;background:#1c83e1"></span></span>'
        f'<span style="width:3em;text-align:right">{float(p):.0%}</span></div>'
        for c, p in enumerate(probs))
    return (f'<div role="img" aria-label="classifier probability per class" data-testid="gs-class-bars" '
            f'style="font-size:12px;font-variant-numeric:tabular-nums">{rows}</div>')


def parse_waypoints(text: str, limit: int = 8) -> list[int]:
    """Waypoint seeds in order ("1, 7, 42"); ranges are counted before they are expanded (parse_seeds)."""
    from gan_core.latent.sampling import SeedError, parse_seeds

    try:
        seeds = parse_seeds(text, limit=limit)
    except SeedError as e:
        raise ValueError(f"{str(e)[:1].upper()}{str(e)[1:]}: give 2 to {limit} seeds separated by commas, e.g. "
                         "1, 7, 42.") from None
    if len(seeds) < 2:
        raise ValueError(f"Give 2 to {limit} seeds separated by commas, e.g. 1, 7, 42.")
    return seeds


DEFAULT_WAYPOINTS, DEFAULT_STEPS = "1, 7, 42", 8


def interpolation_section(ex: Explorer, model_name: str):
    st.subheader("Interpolation")
    if ex.G.img_shape[-1] >= BIG_SIDE:
        st.info(f"An interpolation draws 30 images, and this model takes a second or more for each of its "
                f"{ex.G.img_shape[-1]} px images on a CPU: it is shown for models under {BIG_SIDE} px. The W space "
                "section above edits and mixes this model's images one at a time.")
        return
    c1, c2, c3 = st.columns([2, 1, 1])
    ss = st.session_state
    ss.setdefault("lat_waypoints", DEFAULT_WAYPOINTS)   # (or from the link: ?ws=, ?steps=)
    ss.setdefault("lat_steps", DEFAULT_STEPS)
    ss.lat_waypoints = str(ss.lat_waypoints)[:200]
    ss.lat_from_current = bool(ss.get("lat_from_current", False))
    text = c1.text_input("Waypoint seeds", key="lat_waypoints", max_chars=200,
                         help="The path visits these seeds in order. Comma-separated.")
    steps = c2.slider("Steps per segment", 3, 16, key="lat_steps", help="Images between two waypoints, ends included.")
    use_current = c3.checkbox("Start at the current image", key="lat_from_current",
                              help="Use the z you built above (seed or your found digit, truncation and sliders) "
                                   "as the first waypoint.")
    from ui.state import save_query

    save_query({"ws": text if text != DEFAULT_WAYPOINTS else None, "steps": steps if steps != DEFAULT_STEPS else None,
                "from": 1 if use_current else None})
    try:
        seeds = parse_waypoints(text)
    except ValueError as e:
        st.error(str(e))
        return
    s = current_state(ex)
    wp = truncate(seeds_to_z(seeds, ex.G.z_dim, ex.noise), 1.0 if ex.has_w else s["psi"])
    if use_current:
        wp = torch.cat([current_z(ex, s), wp])
    results = {m: ex.interpolation(wp, steps, m, s["label"], psi=w_psi(ex, s)) for m in ("lerp", "slerp")}
    for m, r in results.items():
        st.markdown(f"**{m}** — " + ("straight line in z" if m == "lerp" else "along the great circle: keeps |z| typical"))
        show(strip(r["frames"]), scale=2)
        a, b = st.columns(2)
        # built when clicked, not on every run of the page (a room of reruns would encode GIFs nobody asked for)
        a.download_button(f"{m} as GIF", lambda fr=r["frames"]: gif_bytes(fr), f"{model_name}-{m}.gif", "image/gif",
                          key=f"gif_{m}", on_click="ignore")
        b.download_button(f"{m} as PNG strip", lambda fr=r["frames"]: png_bytes(upscale(strip(fr), 2)),
                          f"{model_name}-{m}.png",
                          "image/png", key=f"png_{m}", on_click="ignore")
    if results["lerp"]["step_distances"] is not None:
        st.caption("Smoothness: how far each step moves in the classifier's feature space (the idea behind "
                   "perceptual path length). A flat line is a smooth walk; spikes are sudden jumps.")
        st.line_chart({"lerp": results["lerp"]["step_distances"], "slerp": results["slerp"]["step_distances"]},
                      height=200, x_label="step", y_label="feature distance")
