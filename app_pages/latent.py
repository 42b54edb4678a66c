"""Latent explorer: walk through what a trained generator has learned."""
import streamlit as st

from ui.latent import views as view
from gan_core.latent.wspace import GROUPS as W_GROUPS
from ui.latent.find import find_section
from ui.latent.maps import arithmetic_section, latent_map_section
from ui.latent.wspace import w_section
from ui.models import explorer, model_label, model_picker
from ui.state import load_query

st.title("Latent explorer")
st.caption("Every image a generator makes comes from a vector z. Move z and watch the image change.")
load_query({"seed": ("lat_seed", int, 0, 2**31 - 1), "psi": ("lat_psi", float, 0.0, 1.5),
            "label": ("lat_label", int, 0, 999), "model": ("model", str), "f": ("lat_found", str),
            "ws": ("lat_waypoints", str), "steps": ("lat_steps", int, 3, 16), "from": ("lat_from_current", int, 0, 1),
            "ma": ("w_mix_a", str), "mb": ("w_mix_b", str), "mg": ("w_mix_group", str, None, None, W_GROUPS),
            "fw": ("lat_found_w", str)},
           flag="lat_url_loaded")
st.session_state.setdefault("lat_seed", 1)
st.session_state.setdefault("lat_psi", 1.0)
path = model_picker("model", default="mnist-dcgan")
if path is None:
    st.stop()
ex = explorer(path)
view.apply_url_offsets(ex)
if ex.conditional and not 0 <= int(st.session_state.get("lat_label", 0)) < ex.G.num_classes:
    st.warning(f"Class {st.session_state.lat_label} does not exist in this model (0 to {ex.G.num_classes - 1}); "
               "showing class 0.")
    st.session_state.lat_label = 0
name = model_label(path)
view.current_view(ex, name)
st.divider()
if ex.has_w:
    w_section(ex, path, name)
    st.divider()
find_section(ex, path, name)
st.divider()
view.interpolation_section(ex, name)
st.divider()
latent_map_section(ex, path)
st.divider()
arithmetic_section(ex, path)
