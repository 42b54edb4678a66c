"""Conditional generation: ask for a digit, hold the style fixed across classes, morph between classes."""
import streamlit as st

from gan_core.latent.explorer import class_samples, every_class, morph, sorted_by_class, strip
from ui.conditional import views as view
from ui.images import grid, show
from ui.models import explorer, model_label, model_picker
from ui.priority import in_turn

st.title("Conditional generation")
st.caption("A conditional GAN is given the class y as well as the noise z: G(z, y). z then carries only the "
           "style — thickness, slant, size — and y says which digit to draw.")
path = model_picker("cond_model", default="mnist-cgan")
if path is None:
    st.stop()
ex = explorer(path)
if not ex.conditional:
    st.info(f"{model_label(path)} is unconditional: it was never told which digit to draw, so you cannot ask it "
            "for one. Below, its samples sorted by what the digit classifier reads — pick **mnist-cgan** above "
            "for true conditional generation.")
    if ex.C is not None:
        view.show_sorted(sorted_by_class(ex, n=300))
    st.stop()

psi = st.slider("Truncation ψ", 0.0, 1.5, 1.0, 0.05, key="cond_psi",
                help="Below 1: more typical, cleaner digits; less variety.")


@st.fragment  # a class change redraws this grid only, not the whole page
@in_turn
def one_class():
    st.subheader("One class, several seeds")
    c1, c2 = st.columns([1, 2])
    label = c1.selectbox("Class", list(range(ex.G.num_classes)), index=min(3, ex.G.num_classes - 1),
                         key="cond_label", help="The digit G is asked for: the y of G(z, y).")
    seeds = view.seeds_input(c2, "Seeds", "1-16", key="cond_seeds")
    if seeds:
        show(grid(class_samples(ex, label, seeds, psi), nrow=8), scale=2)


one_class()

st.subheader("One z, every class")
st.caption("Each row keeps its z (its style) fixed while the class changes across the columns.")
rows = view.seeds_input(st, "Row seeds", "1-6", key="cond_rows", limit=12)
if rows:
    view.show_class_columns(every_class(ex, rows, psi))


@st.fragment  # moving the blend redraws the morph only
@in_turn
def morphing():
    st.subheader("Class morphing")
    m1, m2, m3 = st.columns(3)
    a = m1.selectbox("From class", list(range(ex.G.num_classes)), index=1, key="cond_a")
    b = m2.selectbox("To class", list(range(ex.G.num_classes)), index=min(7, ex.G.num_classes - 1),
                     key="cond_b")
    seed = m3.number_input("Seed", 0, 2 ** 31 - 1, 5, key="cond_morph_seed",
                           help="Fixes z: the style stays the same.")
    t = st.slider("Blend", 0.0, 1.0, 0.5, 0.05, key="cond_t",
                  help="The class input is (1 − t)·onehot(from) + t·onehot(to): 0 is pure 'from', 1 pure 'to'.")
    one = morph(ex, seed, a, b, [t], psi)
    ramp = morph(ex, seed, a, b, [i / 9 for i in range(10)], psi)
    col_img, col_strip = st.columns([1, 3])
    with col_img:
        show(one["frames"][0], scale=8, caption=f"t = {t:.2f}")
        if one["p_a"] is not None:
            st.caption(f"classifier: P({a}) = {one['p_a'][0]:.0%}, P({b}) = {one['p_b'][0]:.0%}")
    with col_strip:
        show(strip(ramp["frames"]), scale=3, caption="t = 0 … 1")


morphing()

st.subheader("Per-class accuracy")
view.per_class_accuracy(path, ex)
