"""Live training: watch a GAN learn (and fail) while it trains in the background."""
import streamlit as st

from ui.train import views as view
from ui.train import charts
from ui.models import classifier

st.title("Train a GAN, live")
st.caption("D learns to tell real digits from G's fakes; G learns to fool D. Press Start and watch both "
           "sides of the game. Training keeps running if you visit another page; come back to see it.")
config = view.settings()
job = view.job_manager().get(view.owner())
view.controls(config, job, classifier())
if job is None:
    st.info("Pick a preset (or edit the settings) and press **Start**. On a laptop CPU the default preset "
            "shows all ten digits in about a minute, sharper a few minutes later.")
else:
    charts.live(job)
