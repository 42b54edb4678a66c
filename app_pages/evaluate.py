"""Evaluate: measure models, each number beside what real data scores."""
import streamlit as st

from ui.evaluate import views as view
from ui.models import explorer, model_label, model_paths, model_picker

st.title("Evaluate")
st.caption("Every metric is measured in the feature space of the shipped digit classifier, and shown beside "
           "its floor: the same metric between two halves of the real data — what a perfect generator would get.")
paths = model_paths()
chosen = st.multiselect("Models", list(paths), default=[n for n in ("mnist-dcgan", "mnist-cgan") if n in paths],
                        key="eval_models", help="Pick one or more shipped models to compare.")
with st.expander("Add your own checkpoint"):
    own = model_picker("eval_upload_model", label="Checkpoint", default=None) if st.checkbox(
        "Include an uploaded checkpoint", key="eval_use_upload") else None
selected = {n: paths[n] for n in chosen}
if own:
    selected[model_label(own)] = own
c1, c2 = st.columns(2)
n = c1.select_slider("Generated samples", [500, 1000, 2000, 5000], 1000, key="eval_n",
                     help="More samples give steadier numbers and take longer (5,000: about 20 s per model).")
seed = c2.number_input("Seed", 0, 10_000, 0, key="eval_seed", help="Fixes the noise: the same seed gives the same numbers.")
wanted = [(name, path) for name, path in selected.items()]
pressed = st.button("Run evaluation", type="primary", disabled=not wanted,
                    help="Evaluations run in the server's shared line of heavy work: you see your place and can "
                         "cancel; a model someone has already measured with these settings is shown at once.")
measurable = []
for name, path in wanted:
    ex = explorer(path)
    if tuple(ex.G.img_shape) != (1, 28, 28):
        st.error(f"{name}: these metrics are measured in the shipped digit classifier's features, which read 28x28 "
                 f"grayscale digits; this model makes {tuple(ex.G.img_shape)} images, so it cannot be scored here. "
                 "Its samples can still be judged by people: a zip of them is an arm of Quiz → Compare several models.")
        continue
    measurable.append((name, path, ex.G))
if measurable:
    view.run_evaluations(measurable, n, int(seed), start=pressed)
results = {name: r for name, path in wanted if (r := view.cached_result(path, n, int(seed))) is not None}
if not results:
    st.info("Choose models and press **Run evaluation**.")
    st.stop()
view.table(results)
view.bar_charts(results)
st.subheader("Which digits does each model draw?")
view.class_histograms(results)
st.subheader("Memorization check")
focus = st.selectbox("Model", list(results), key="eval_focus", help="Compare its samples with the closest training images.")
view.memorization_view(selected[focus], explorer(selected[focus]))
st.subheader("What the discriminator says")
st.caption("D's scores on 1,000 real and 1,000 generated images. Overlapping histograms mean D can no longer tell.")
view.discriminator_histogram(selected[focus], explorer(selected[focus]), key="eval_dhist")
