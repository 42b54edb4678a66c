"""Inside G: what each layer of the generator draws, and what happens when units are switched off."""
import streamlit as st

from gan_core.latent.dissection import layers
from ui.inside import views as view
from ui.models import explorer, model_label, model_picker
from ui.state import load_query
from ui.text import quoted

st.title("Inside G")
st.caption("A generator builds its image in layers: a coarse plan first, finer strokes later. Each layer is a "
           "stack of feature maps, one per unit. Look at them, switch units off, and see what they were drawing.")
problems = load_query({"seed": ("in_seed", int, 0, 2**31 - 1), "label": ("in_label", int, 0, 999),
                       "model": ("model", str), "layer": ("in_layer", str), "scale": ("in_scale", float, 0.0, 3.0),
                       "units": ("in_units_text", str)}, flag="in_url_loaded")
if "in_units_text" in st.session_state:
    text = st.session_state.pop("in_units_text")
    try:
        units = [int(u) for u in text.split(",") if u.strip()]
        if len(units) > 512 or any(u < 0 for u in units):
            raise ValueError
        st.session_state.in_units = units
    except ValueError:
        st.warning(f"units={quoted(text, 40)} is not a list of unit numbers; no units are changed.")
st.session_state.setdefault("in_seed", 7)
st.session_state.setdefault("in_scale", 0.0)
path = model_picker("model", default="mnist-cgan")
if path is None:
    st.stop()
ex = explorer(path)
name = model_label(path)
if not layers(ex.G):
    st.info("This generator has no convolutional layers to look inside (the 2014 MLP GAN turns z into pixels "
            "with fully connected layers). Pick a DCGAN-family model.")
    st.stop()
c1, c2, c3 = st.columns(3)
if st.session_state.get("lat_found"):
    c1.radio("Start from", ["seed", "found"], key="in_source", horizontal=True,
             format_func={"seed": "a seed", "found": "the digit you found"}.get,
             help="A seed, or the z found for your own digit on the Latent explorer (Find your digit).")
else:  # one choice is no choice: say how to get the other
    st.session_state.in_source = "seed"
    c1.caption("Starting from a seed. Draw a digit in **Find your digit** on the Latent explorer to start from "
               "your own digit here.")
c2.number_input("Seed", 0, 2**31 - 1, step=1, key="in_seed",
                help="The seed fixes z. The same seed always gives the same image.")
if ex.conditional:
    st.session_state.setdefault("in_label", 7)
    if not 0 <= int(st.session_state.in_label) < ex.G.num_classes:
        st.session_state.in_label = 0
    c3.selectbox("Class", list(range(ex.G.num_classes)), key="in_label",
                 help="This model is conditional: you choose which digit it draws.")
view.dissect_view(ex, path, name)
st.divider()
if ex.has_w:
    view.styles_section(ex)
    st.divider()
view.ranking_section(ex, path)
