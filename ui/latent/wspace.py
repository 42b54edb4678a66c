"""/latent's W space section, for style-based models only (``G.has_w``): the current w with layer-wise
directions (GANSpace, SeFa on the modulation weights), the style mixing grid and stochastic variation.
gan_core.latent.wspace computes; this module only draws."""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from gan_core.latent import wspace as W
from gan_core.latent.explorer import Explorer, png_bytes, strip, upscale
from gan_core.latent.sampling import SeedError, parse_seeds
from gan_core.latent.sampling import to_uint8
from ui.images import inline_html, scale_for, show, show_inline
from ui.text import plain

K_W = 6            # layer-wise direction sliders
SIGMA = 4.0
METHODS = {"ganspace": "GANSpace (PCA of w)", "sefa": "SeFa (modulation weights)"}
DEFAULT_A, DEFAULT_B = "1, 2, 3", "4, 5, 6, 7"


def _directions(path: str, method: str) -> dict | None:
    """The model's layer-wise directions, computed once per model in the work queue (and kept there)."""
    from gan_core.serve import worktasks
    from gan_core.serve.workers import Task
    from ui.work import queued

    return queued(("w_directions", path, method), "the layer-wise directions",
                  Task(worktasks.w_directions, (path, method, K_W)), light=True)


def found_ws(ex: Explorer) -> torch.Tensor | None:
    text = st.session_state.get("lat_found_w")
    if not text:
        return None
    try:
        return W.ws_from_text(text, ex.G)
    except ValueError as e:
        st.warning(f"The found digit in this link cannot be used here ({plain(e)}); showing the seed instead.")
        st.session_state.pop("lat_found_w", None)
        return None


def back_to_seed():
    st.session_state.pop("lat_found_w", None)


def current_ws(ex: Explorer) -> tuple[torch.Tensor, str]:
    """The W section's starting point: a digit found in W or W+, else the current seed's w with ψ."""
    ws = found_ws(ex)
    if ws is not None:
        return ws, "your digit (found in W" + ("+" if not torch.equal(ws[0, 0], ws[0, -1]) else "") + ")"
    ss = st.session_state
    seed, psi = int(ss.get("lat_seed", 0)), float(ss.get("lat_psi", 1.0))
    return W.ws_of_seeds(ex.G, [seed], psi), f"seed {seed}, ψ = {psi:.2f}"


def big_stop(G) -> int | None:
    """For a big model, the grids are drawn at the preview resolution (said under them); None for small ones."""
    if G.img_shape[1] < W.BIG_SIDE:
        return None
    block = W.preview_block(G)
    st.caption(f"This model draws {G.img_shape[1]} px images, seconds each on a CPU: the images here stop at the "
               f"{W.block_side(G, block)} px "
               "block of the same synthesis (a real, coarser image of it: StyleGAN2 adds an image at every "
               "resolution).")
    return block


def _layer_options(G) -> list[int]:
    return list(range(G.num_ws))


def w_section(ex: Explorer, path: str, model_name: str) -> None:
    if not ex.has_w:
        return
    G = ex.G
    groups = W.layer_groups(G)
    st.subheader("W space: styles per layer")
    st.caption(f"In a style-based generator z first goes through a mapping network to **w** ({G.w_dim} numbers), "
               f"and w sets the style of each of the {G.num_ws} layers of the synthesis network (ws 0 to "
               f"{G.num_ws - 1}). Layer groups here: " +
               "; ".join(f"**{g}** {W.describe(G, ix)}" for g, ix in groups.items()) + ".")
    from ui.state import save_query

    fw = st.session_state.get("lat_found_w")
    save_query({"fw": fw if fw and len(fw) <= 600 else None})   # a W+ (one w per layer) is too long for a link
    edited_view(ex, path, model_name, groups)
    st.divider()
    mixing_view(ex, model_name, groups)
    st.divider()
    variation_view(ex, model_name, groups)
    n = 64 if G.img_shape[1] < W.BIG_SIDE else 16
    st.download_button(f"Download {n} samples for a quiz (zip)", lambda: samples_zip(G, n), f"{model_name}-samples.zip",
                       "application/zip", key="w_quiz_zip", on_click="ignore",
                       help="Seeds 0 to n-1 at ψ = 1, as PNG files: upload the zip as one arm under Quiz → Compare "
                            "several models (with a zip of real images of the same kind) to see how often people "
                            "take them for real.")


def samples_zip(G, n: int) -> bytes:
    """Seeds 0..n-1 of G as PNGs in a zip (made when the download is clicked)."""
    import io
    import zipfile

    imgs = W.render(G, W.ws_of_seeds(G, range(n)), batch=8)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i, im in enumerate(imgs):
            zf.writestr(f"seed{i:04d}.png", png_bytes(im))
    return buf.getvalue()


@st.fragment
def edited_view(ex: Explorer, path: str, model_name: str, groups: dict) -> None:
    G = ex.G
    st.markdown("**Layer-wise directions**")
    ss = st.session_state
    method = st.radio("Directions", list(METHODS), format_func=METHODS.get, horizontal=True, key="w_method",
                      help="GANSpace (Härkönen et al. 2020): the principal components of 10,000 sampled w — the "
                           "directions in which w varies most. SeFa (Shen & Zhou 2021): the directions in W that "
                           "change the layers' styles most, read in closed form from the style (modulation) "
                           "weights. Each slider moves w only in the layers of its range, as GANSpace edits do.")
    dirs = _directions(path, method)
    if dirs is None:
        return
    ws, where = current_ws(ex)
    amounts, ranges = {}, {}
    left, right = st.columns([1.4, 1])
    with left:
        for k in range(min(K_W, len(dirs["directions"]))):
            c1, c2 = st.columns([1.3, 1])
            ss.setdefault(f"w_amt{k}", 0.0)
            share = (f"{float(dirs['explained'][k]):.0%} of w's variance" if "explained" in dirs else
                     f"eigenvalue {float(dirs['eigenvalues'][k]):.3g}")
            amounts[k] = c1.slider(f"Direction {k + 1}", -SIGMA, SIGMA, step=0.25, key=f"w_amt{k}",
                                   help=f"Move w along direction {k + 1} ({share}), in standard deviations of the "
                                        "sampled w along it.")
            lo, hi = c2.select_slider("Layers (ws)", _layer_options(G), value=(0, G.num_ws - 1), key=f"w_rng{k}",
                                      help="Which layers take the edit: low ws are coarse (pose, shape — here the "
                                           "digit), high ws fine (stroke, texture).")
            ranges[k] = W.layer_range(G, lo, hi)
        st.button("Reset directions", key="w_reset", on_click=_reset_directions,
                  help="Every direction back to 0 and to all layers.")
    edited = W.edit(ws, dirs["directions"], dirs["sigmas"], amounts, ranges)
    side = G.img_shape[1]
    with right:
        slot = st.empty()
        if side >= W.BIG_SIDE:
            # a big model: first a real image of the same synthesis at a coarser block (StyleGAN2's skip outputs),
            # sent at once; the full image replaces it when it is done
            block = W.preview_block(G)
            with torch.no_grad():
                pv = to_uint8(G.synthesis(edited, stop_at=block))[0]
            slot.html(inline_html(pv, scale=scale_for(side) * side // pv.shape[0],
                                  caption=f"preview at {pv.shape[0]} px; the {side} px image follows",
                                  alt="a low-resolution preview of the edited image"))
        img = W.render(G, edited)[0]
        slot.html(inline_html(img, scale=scale_for(side), caption=f"{where}, edited", alt="the edited image"))
        if ss.get("lat_found_w"):
            st.button("Back to the seed", key="w_back", on_click=back_to_seed,
                      help="Forget the digit found in W: the seed above gives w again.")
        if ex.C is not None:
            with torch.no_grad():
                x = G.synthesis(edited).clamp(-1, 1)
                p = torch.softmax(ex.C(x), 1)[0]
            st.metric("Classifier reads", f"{int(p.argmax())}  ({float(p.max()):.0%})",
                      help="What the shipped digit classifier reads in the edited image.")
        st.download_button("Download PNG", lambda: png_bytes(upscale(img, 8)), f"{model_name}-w-edit.png",
                           "image/png", key="w_png", on_click="ignore")


def _seeds(text: str, what: str) -> list[int] | None:
    try:
        seeds = parse_seeds(text, limit=8)
    except SeedError as e:
        st.error(f"{what}: {plain(e)} (1 to 8 seeds, e.g. 1, 2, 3).")
        return None
    return seeds


def mixing_image(r: dict, pad: int = 2) -> np.ndarray:
    """Figure 3's layout as one image: B across the top, A down the left, the mixes in between."""
    a, b, g = r["a"], r["b"], r["grid"]
    h, w, c = a.shape[1:]
    na, nb = len(a), len(b)
    out = np.full(((na + 1) * (h + pad), (nb + 1) * (w + pad), c), 64, np.uint8)
    for j in range(nb):
        out[:h, (j + 1) * (w + pad):(j + 1) * (w + pad) + w] = b[j]
    for i in range(na):
        y = (i + 1) * (h + pad)
        out[y:y + h, :w] = a[i]
        for j in range(nb):
            out[y:y + h, (j + 1) * (w + pad):(j + 1) * (w + pad) + w] = g[i, j]
    return out


@st.fragment
def mixing_view(ex: Explorer, model_name: str, groups: dict) -> None:
    G = ex.G
    st.markdown("**Style mixing** (the StyleGAN paper's Figure 3)")
    ss = st.session_state
    ss.setdefault("w_mix_a", DEFAULT_A)
    ss.setdefault("w_mix_b", DEFAULT_B)
    c1, c2, c3 = st.columns([1, 1, 1.4])
    ta = c1.text_input("Sources A (down)", key="w_mix_a", max_chars=60,
                       help="Seeds of the images down the left. Each row keeps A's styles except in the chosen "
                            "layers.")
    tb = c2.text_input("Sources B (across)", key="w_mix_b", max_chars=60,
                       help="Seeds of the images along the top; they give their styles to the chosen layers.")
    group = c3.radio("B gives the layers", list(groups), horizontal=True, key="w_mix_group",
                     format_func=lambda g: f"{g}: {W.describe(G, groups[g])}",
                     help="Coarse layers set the overall shape (for digits: which digit), middle ones the "
                          "features, fine ones stroke width and texture. The paper's finding: copying B's coarse "
                          "styles brings B's pose; copying fine ones only its colour scheme and details.")
    from ui.state import save_query

    save_query({"ma": ta if ta != DEFAULT_A else None, "mb": tb if tb != DEFAULT_B else None,
                "mg": group if group != "coarse" else None})
    sa, sb = _seeds(ta, "Sources A"), _seeds(tb, "Sources B")
    if sa is None or sb is None:
        return
    psi = float(ss.get("lat_psi", 1.0))
    stop = big_stop(G)
    r = W.mixing_grid(G, sa, sb, groups[group], psi, stop_at=stop)
    img = mixing_image(r)
    show(img, scale=scale_for(G.img_shape[1], 84), caption=f"rows: A = {', '.join(map(str, sa))}; columns: B = {', '.join(map(str, sb))}; "
                               f"each cell is A with B's {group} styles ({W.describe(G, groups[group])}), ψ = {psi:.2f}")
    if ex.C is not None:
        with torch.no_grad():
            x = torch.from_numpy(r["grid"].reshape(-1, *r["grid"].shape[2:])).permute(0, 3, 1, 2).float() / 127.5 - 1
            cells = ex.C(x).argmax(1).reshape(len(sa), len(sb))
            ra = ex.C(torch.from_numpy(r["a"]).permute(0, 3, 1, 2).float() / 127.5 - 1).argmax(1)
            rb = ex.C(torch.from_numpy(r["b"]).permute(0, 3, 1, 2).float() / 127.5 - 1).argmax(1)
        keeps_a = float((cells == ra[:, None]).float().mean())
        takes_b = float((cells == rb[None, :]).float().mean())
        st.caption(f"The classifier reads A's digit in **{keeps_a:.0%}** of these mixes and B's in **{takes_b:.0%}**.")
    st.download_button("Download the grid (PNG)", lambda: png_bytes(upscale(img, 4)), f"{model_name}-mixing.png",
                       "image/png", key="w_mix_png", on_click="ignore")


@st.fragment
def variation_view(ex: Explorer, model_name: str, groups: dict) -> None:
    G = ex.G
    st.markdown("**Stochastic variation** (the StyleGAN paper's Figure 4)")
    st.caption("One w, several draws of the per-pixel noise the synthesis network adds in each layer. What changes "
               "is what the noise controls; the standard deviation on the right shows where.")
    c1, c2 = st.columns([1, 2])
    n = c1.slider("Noise draws", 2, 16, 8, key="w_var_n", help="How many times the noise is drawn again.")
    on = c2.multiselect("Noise redrawn in", list(groups), default=list(groups), key="w_var_groups",
                        format_func=lambda g: f"{g} ({W.describe(G, groups[g])})",
                        help="Layers not chosen keep the model's stored noise, so they add no variation.")
    ws, where = current_ws(ex)
    r = W.stochastic_variation(G, ws, n, on, seed=int(st.session_state.get("w_var_seed", 0)), stop_at=big_stop(G))
    a, b = st.columns([3, 1])
    with a:
        show(strip(r["images"]), scale=scale_for(G.img_shape[1], 84), caption=f"{where}: {n} noise draws")
    with b:
        show_inline(W.std_image(r["std"]), scale=scale_for(G.img_shape[1], 112), caption=f"per-pixel std (white = {r['std'].max():.3f})",
                    alt="standard deviation of each pixel over the noise draws")
    st.caption(f"Mean per-pixel standard deviation: **{r['mean_std']:.4f}** (0-1 image range)." if on else
               "No layer redraws its noise: every draw is the same image (standard deviation 0).")
    st.button("Draw again", key="w_var_again", help="New noise draws.", on_click=_draw_again)


def _draw_again():
    st.session_state.w_var_seed = int(st.session_state.get("w_var_seed", 0)) + 1


def _reset_directions():
    for k in range(K_W):
        st.session_state[f"w_amt{k}"] = 0.0
        st.session_state.pop(f"w_rng{k}", None)          # back to the whole range
