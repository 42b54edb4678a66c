"""GAN Studio: the router. Each page lives in app_pages/ (not pages/, which Streamlit would auto-list on deep links); this file only wires up the navigation."""
import contextlib

import streamlit as st
import torch

from ui.nav import PAGES
from ui.perf import freeze_long_lived
from ui.priority import background_turn

st.set_page_config(page_title="GAN Studio", page_icon=":material/palette:", layout="wide")
pages = [st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path, default=p.default)
         for p in PAGES]
# Each script run is a thread of its own, and OpenMP gives a new thread every core: a page's one-image work (a quiz
# trial's fake, a class grid) then waits on thread wake-ups, and on a core the training jobs keep busy. One thread
# per run (fragments that rerun alone set it too). Heavy work runs in worker processes with their own setting.
torch.set_num_threads(1)
try:
    page = st.navigation(pages)
    # the quiz never waits for a turn; every other page's run takes one (ui/priority.py)
    with contextlib.nullcontext() if page.url_path == "quiz" else background_turn():
        page.run()
finally:  # also when the page stops or reruns early
    freeze_long_lived()
