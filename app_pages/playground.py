"""The 2D playground: a GAN small enough to see everything it does."""
import streamlit as st

from ui.playground import views as view

st.title("2D playground")
st.caption("Real data is a cloud of points in the plane. G turns noise into points; D colours the plane by "
           "how real each spot looks. Press Play and watch G's points slide along D's gradient towards the "
           "real ones — and D redraw its boundary in reply.")
config = view.settings()
if config is None:
    st.stop()
pg = view.playground(config)
view.controls(pg)
view.board(pg)
