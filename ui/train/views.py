"""The live-training page's parts: settings, controls, and the views polled while a job trains."""
from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path

import streamlit as st

from gan_core.training import losses
from gan_core.hub.checkpoints import checkpoint_zip, prune_folders
from gan_core.data.datasets import DatasetUnavailable
from gan_core.serve.live import Busy, Job, JobManager, ProcessJob
from gan_core.training.presets import DEFAULT_PRESET, PRESETS, preset_config
from gan_core.serve.processes import prewarm
from gan_core.models import ModelConfig
from gan_core.models.config import CLUSTER_TEMPERATURE
from gan_core.training.config import TrainConfig
from gan_core.training.recipes import RECIPES, recipe_of
from ui.train.clusters import cluster_controls
from ui.compare import keep_train_run
from ui.models import UPLOAD_MAX_BYTES, UPLOAD_MAX_FOLDERS
from ui.text import plain, quoted

SAVE_ROOT = Path(tempfile.gettempdir()) / "gan_studio_trained"
DATASETS = {"mnist-5k": (1, 28, 28), "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
MODELS = {name: p["label"] for name, p in RECIPES.items()   # /train's Model choice (the toy model is the playground's)
          if name != "toy" and p.get("on_train_page", True)}


@st.cache_resource
def job_manager() -> JobManager:
    """One per server: the cap counts every browser's jobs."""
    mode = os.environ.get("GAN_STUDIO_JOBS", "process")
    if mode != "thread":
        prewarm()  # the fork server imports torch and the data now, so the first Start is quick
    return JobManager(max_jobs=int(os.environ.get("GAN_STUDIO_MAX_JOBS", "2")),
                      idle_timeout=float(os.environ.get("GAN_STUDIO_IDLE_MINUTES", "15")) * 60,
                      max_seconds=float(os.environ.get("GAN_STUDIO_JOB_MINUTES", "30")) * 60,
                      job_class=Job if mode == "thread" else ProcessJob)


def owner() -> str:
    """This browser session's id: its job belongs to it. The id travels in the URL (``?run=``) once a job
    starts, so a reload finds the same run instead of leaving it orphaned until the idle limit."""
    s = st.session_state
    if "train_owner" not in s:
        asked = st.query_params.get("run", "")
        if asked and not (re.fullmatch(r"[0-9a-f]{16}", asked) and job_manager().get(asked) is not None):
            st.info("The run in this link has ended or was never on this server; start a new one.")
            del st.query_params["run"]
            asked = ""
        s.train_owner = asked or secrets.token_hex(8)
    return s.train_owner


# ----------------------------------------------------------------------------- settings

FIELDS = {  # widget key -> (where in the config, how to read it)
    "tr_dataset": "dataset", "tr_model": "recipe", "tr_loss": "loss", "tr_lr_g": "lr_g", "tr_lr_d": "lr_d",
    "tr_beta1": "beta1", "tr_beta2": "beta2", "tr_batch": "batch_size", "tr_z": "model.z_dim",
    "tr_width": "model.width", "tr_noise": "model.noise", "tr_ncritic": "n_critic",
    "tr_smooth": "label_smoothing", "tr_sn": "model.spectral_norm", "tr_seed": "seed", "tr_ema": "ema_decay",
    "tr_augment": "augment", "tr_clusters": "model.clusters", "tr_auxw": "aux_weight", "tr_clustering": "clustering",
    "tr_ctemp": "model.cluster_temperature", "tr_wdim": "model.w_dim", "tr_mapdepth": "model.mapping_depth",
    "tr_mixing": "style_mixing", "tr_r1": "r1_gamma",
}
STYLE_ONLY = ("tr_wdim", "tr_mapdepth", "tr_mixing", "tr_r1")   # read only when the model is style-based


def config_value(cfg: TrainConfig, where: str):
    if where == "recipe":
        return recipe_of(cfg.model)
    return getattr(cfg.model, where[6:]) if where.startswith("model.") else getattr(cfg, where)


def apply_preset() -> None:
    """Copy the chosen preset into the settings widgets."""
    cfg = preset_config(st.session_state.tr_preset)
    set_fields(cfg)
    st.session_state.tr_remedies = []


def set_fields(cfg: TrainConfig) -> None:
    """The settings widgets' values from a config (a non-style model leaves the style settings to their
    defaults, for when the Model is switched to the style-based one)."""
    for key, where in FIELDS.items():
        if key in STYLE_ONLY and cfg.model.architecture != "stylegan":
            st.session_state.pop(key, None)
        else:
            st.session_state[key] = config_value(cfg, where)


def fix_train_with(name: str) -> None:
    """'Fix it' (a callback): the failing run is kept as the reference, then the same preset and seed plus one
    remedy go into the settings; a fresh run starts on this rerun."""
    from ui.compare import keep_before_fixing, train_reference
    from ui.fix_it import new_remedies_in, with_remedies

    s = st.session_state
    job = job_manager().get(owner())
    if job is not None and job.history:
        keep_before_fixing("tr_reference", lambda: train_reference(job))
    cfg = with_remedies(preset_config(s.tr_preset, seed=int(s.tr_seed)), [name])
    set_fields(cfg)
    s.tr_remedies = new_remedies_in(cfg)
    s.tr_fix_start = name


def settings() -> TrainConfig | None:
    """The preset picker and every hyperparameter; returns a valid config or shows why it is not."""
    if "tr_preset" not in st.session_state:  # first visit: a preset from the link (Home's failure cards) or the default
        asked = st.query_params.get("preset")
        if asked is not None and asked not in PRESETS:
            st.warning(f"This link asks for a preset called {quoted(asked, 60)}, which does not exist; starting from "
                       f"{DEFAULT_PRESET!r}.")
        st.session_state.tr_preset = asked if asked in PRESETS else DEFAULT_PRESET
        apply_preset()
    st.selectbox("Preset", list(PRESETS), key="tr_preset", on_change=apply_preset,
                 help="A starting point; every setting below stays editable.")
    st.caption(PRESETS[st.session_state.tr_preset]["why"])
    from ui.fix_it import TRAIN_FAILURES, fix_it

    if st.session_state.tr_preset in TRAIN_FAILURES:
        fix_it("tr_fix", toy=False, on_fix=fix_train_with)
    with st.expander("Settings", expanded=False):
        c = st.columns(4)
        c[0].selectbox("Dataset", list(DATASETS), key="tr_dataset",
                       help="mnist-5k ships with the app (5,000 digits, offline). The others are read from "
                            "~/.gan_studio/data and downloaded there when the machine is online.")
        c[1].selectbox("Model", list(MODELS), key="tr_model", format_func=MODELS.get,
                       help="The networks: DCGAN is convolutional; the 2014 original is fully connected; "
                            "conditional gives G and D the class; AC-GAN gives G the class and makes D name "
                            "it; WGAN-GP's critic has no BatchNorm; StyleGAN2 maps z to w and styles each "
                            "layer with it.")
        c[2].selectbox("Loss", list(losses.LOSSES), key="tr_loss",
                       help="What G and D optimise. " + " ".join(f"**{k}**: {v}" for k, v in
                                                               losses.DESCRIPTIONS.items()))
        c[3].number_input("Seed", 0, 2**31 - 1, key="tr_seed", help="Same seed and settings, same run.")
        c = st.columns(4)
        c[0].number_input("G learning rate", 1e-6, 1.0, key="tr_lr_g", format="%.5f", step=1e-4,
                          help="Step size of the generator's optimiser (DCGAN paper: 0.0002).")
        c[1].number_input("D learning rate", 1e-6, 1.0, key="tr_lr_d", format="%.5f", step=1e-4,
                          help="Step size of the discriminator's optimiser. Much larger than G's makes D "
                               "too strong; much smaller lets G run away.")
        c[2].number_input("Adam β1", 0.0, 0.99, key="tr_beta1", step=0.1,
                          help="Momentum. DCGAN lowered it from 0.9 to 0.5 for stability; WGAN-GP uses 0.")
        c[3].number_input("Adam β2", 0.0, 0.9999, key="tr_beta2", step=0.001, format="%.4f",
                          help="How long Adam remembers gradient sizes (usual: 0.999; WGAN-GP: 0.9).")
        c = st.columns(4)
        c[0].number_input("Batch size", 1, 1024, key="tr_batch",
                          help="Real and generated images per update. Bigger: smoother, slower steps.")
        c[1].number_input("z size", 1, 512, key="tr_z", help="Length of the noise vector z fed to G.")
        c[2].number_input("Width", 4, 256, key="tr_width",
                          help="Channels of the first conv layer (hidden units for the MLP). Wider: more "
                               "capacity, slower.")
        c[3].selectbox("Noise", ["gaussian", "uniform"], key="tr_noise",
                       help="Distribution z is drawn from: N(0, 1) or uniform in [-1, 1].")
        c = st.columns(4)
        c[0].number_input("D steps per G step", 1, 20, key="tr_ncritic",
                          help="Discriminator updates before each generator update (5 for WGAN-GP).")
        c[1].number_input("Label smoothing", 0.0, 0.49, key="tr_smooth", step=0.05,
                          help="One-sided: D's target for real images becomes 1 - this (0.1 is typical); "
                               "keeps D from becoming over-confident.")
        c[2].number_input("EMA decay", 0.0, 0.9999, key="tr_ema", step=0.001, format="%.4f",
                          help="The samples shown come from a running average of G's weights; 0 shows G "
                               "itself (needed to see collapse as it happens).")
        c[3].checkbox("Spectral norm in D", key="tr_sn",
                      help="Limits how sharply D can change (Miyato et al. 2018): a common fix for unstable "
                           "training.")
        c = st.columns([3, 1])
        c[0].radio("Augmentation", ["none", "translation"], key="tr_augment", horizontal=True,
                   help="translation: shift every image D sees, real and fake alike, by a few random pixels "
                        "(DiffAugment, Zhao et al. 2020). D cannot memorise 5,000 digits, so G gets useful "
                        "feedback sooner.")
        c[1].number_input("Class term weight", 0.0, 10.0, key="tr_auxw", step=0.5,
                          help="AC-GAN only: how much D's naming of the class (or cluster) counts beside "
                               "real-or-fake, in D's loss and in G's. 1 is the paper's (Odena et al. 2017).")
        if s_model_is_style():
            style_controls(st.columns(4))
        cluster_controls(st.columns(3))
        from ui.fix_it import remedy_picker

        remedy_picker("tr_remedies", toy=False)
    s = st.session_state
    recipe = RECIPES[s.tr_model]["model"]
    style = recipe["architecture"] == "stylegan"
    try:
        # the recipe's networks (architecture, conditioning, critic form) at the sizes chosen here; a recipe
        # with classes gives up its classes for clusters (AC-GAN's D then names the cluster)
        model = ModelConfig(architecture=recipe["architecture"], conditioning=recipe.get("conditioning", ""),
                            critic=recipe.get("critic", ""), z_dim=int(s.tr_z), width=int(s.tr_width),
                            noise=s.tr_noise, spectral_norm=bool(s.tr_sn),
                            num_classes=0 if s.tr_clusters else recipe.get("num_classes", 0),
                            img_shape=DATASETS[s.tr_dataset], clusters=int(s.tr_clusters),
                            cluster_temperature=float(s.get("tr_ctemp", CLUSTER_TEMPERATURE)),
                            **(dict(w_dim=int(s.get("tr_wdim", 0)), mapping_depth=int(s.get("tr_mapdepth", 0)))
                               if style else {}))
        from ui.fix_it import with_remedies

        cfg = TrainConfig(model=model, dataset=s.tr_dataset, loss=s.tr_loss, lr_g=float(s.tr_lr_g),
                          lr_d=float(s.tr_lr_d), beta1=float(s.tr_beta1), beta2=float(s.tr_beta2),
                          batch_size=int(s.tr_batch), n_critic=int(s.tr_ncritic),
                          label_smoothing=float(s.tr_smooth), ema_decay=float(s.tr_ema), seed=int(s.tr_seed),
                          aux_weight=float(s.get("tr_auxw", 1.0)), clustering=s.get("tr_clustering", "kmeans"),
                          augment=s.tr_augment,
                          **(dict(style_mixing=float(s.get("tr_mixing", 0.0)), r1_gamma=float(s.get("tr_r1", 0.0)))
                             if style else {}))
        return with_remedies(cfg, s.get("tr_remedies", []))
    except ValueError as e:
        st.error(f"These settings cannot train: {plain(e)}")
        return None


def s_model_is_style() -> bool:
    return RECIPES[st.session_state.tr_model]["model"]["architecture"] == "stylegan"


def style_controls(c) -> None:
    """The style-based model's own settings (StyleGAN, Karras et al. 2019; StyleGAN2, 2020)."""
    s = st.session_state
    from gan_core.models.stylegan import MAPPING_DEPTH

    defaults = RECIPES["stylegan"]
    for key, value in (("tr_mixing", defaults["style_mixing"]), ("tr_r1", defaults["r1_gamma"])):
        s.setdefault(key, value)
    if int(s.get("tr_wdim", 0)) < 1:          # 0 in a config means "as z"
        s.tr_wdim = int(s.get("tr_z", 64))
    if int(s.get("tr_mapdepth", 0)) < 1:      # 0 in a config means the family's default
        s.tr_mapdepth = MAPPING_DEPTH
    c[0].number_input("w size", 1, 1024, key="tr_wdim",
                      help="Length of w, the mapping network's output that sets every layer's style (the papers: "
                           "512). It may differ from z's size.")
    c[1].number_input("Mapping layers", 1, 16, key="tr_mapdepth",
                      help="Fully connected layers that turn z into w (the papers: 8). They learn 100x slower "
                           "than the rest, as in StyleGAN.")
    c[2].number_input("Style mixing", 0.0, 1.0, key="tr_mixing", step=0.1,
                      help="Share of fakes made from two w: the layers after a random point take the second one's "
                           "styles. It keeps neighbouring layers' styles from depending on each other, so coarse "
                           "and fine styles can be mixed later (StyleGAN: 0.9).")
    c[3].number_input("R1 γ", 0.0, 100.0, key="tr_r1", step=0.5,
                      help="Penalty on D's gradient at real images, (γ/2)·|∇D(x)|², computed every 16 D steps "
                           "with a weight 16x (lazy regularisation, StyleGAN2). It keeps D smooth where the data "
                           "is (Mescheder et al. 2018).")


# ----------------------------------------------------------------------------- controls

def start(config: TrainConfig, classifier) -> bool:
    """Start this session's job; False (with the reason shown) when it cannot."""
    if config.dataset != "mnist-5k":
        from gan_core.data.datasets import load_dataset
        try:
            with st.spinner(f"Loading {config.dataset}…"):
                load_dataset(config.dataset)
        except DatasetUnavailable as e:
            st.error(str(e))
            return False
    C = classifier if tuple(config.model.img_shape) == (1, 28, 28) and config.dataset != "fashion-mnist" else None
    try:
        job_manager().start(owner(), config, classifier=C)
        st.session_state.tr_job_preset = st.session_state.get("tr_preset")
        st.query_params["run"] = owner()
    except Busy as e:
        st.warning(str(e))
        return False
    return True


def controls(config: TrainConfig | None, job: Job | None, classifier) -> None:
    fixing = st.session_state.pop("tr_fix_start", None)
    if fixing and config is not None:  # "Fix it": this run replaces the failing one
        job_manager().remove(owner())
        if start(config, classifier):
            st.rerun()
    active = job is not None and job.active
    started_as = st.session_state.get("tr_job_preset")
    if active and started_as and st.session_state.get("tr_preset") != started_as:
        st.info(f"The settings now show the preset **{st.session_state.tr_preset}**, but the current run "
                f"({'paused' if job.state == 'paused' else job.state}) keeps training as **{started_as}**. Stop "
                "or Reset it first, then Start, to train with the new preset.")
    c = st.columns(6)
    if c[0].button("Start", icon=":material/play_arrow:", type="primary", disabled=config is None or active, width="stretch",
                   help="Build fresh networks from the settings and train until you stop."):
        if start(config, classifier):
            st.rerun()
    paused = job is not None and job.state == "paused"
    if paused:
        if c[1].button("Resume", icon=":material/play_arrow:", width="stretch", help="Carry on training."):
            job.resume()
            job.wait_for(lambda j: j.state != "paused", 5)
            st.rerun()
    elif c[1].button("Pause", icon=":material/pause:", disabled=not active, width="stretch",
                     help="Hold training; the networks keep their weights."):
        job.pause()
        job.wait_for(lambda j: j.state == "paused", 10)
        st.rerun()
    if c[2].button("One step", icon=":material/skip_next:", disabled=not active, width="stretch",
                   help="Pause, then do one discriminator update and one generator update (GAN Lab style)."):
        n = len(job.history)
        job.step_once()
        job.wait_for(lambda j: len(j.history) > n or not j.active, 30)
        st.rerun()
    if c[3].button("Stop", icon=":material/stop:", disabled=not active, width="stretch",
                   help="End the run. The weights so far are kept so you can save them."):
        job.stop()
        job.wait(30)
        st.rerun()
    if c[4].button("Reset", icon=":material/restart_alt:", disabled=job is None, width="stretch",
                   help="Throw this run away (stop it first if you want to save it)."):
        job_manager().remove(owner())
        st.query_params.pop("run", None)
        st.rerun()
    if c[5].button("Save", icon=":material/save:", disabled=job is None or not job.ready, width="stretch",
                   help="Write a checkpoint folder of the current weights (EMA generator + discriminator)."):
        save(job)
    keep_train_run(job)
    if job is not None:
        from ui.joinlink import join_panel

        with st.expander("Watch this run on another screen (link and QR code)"):
            st.caption("Whoever opens this link sees this run live, and can use its buttons too: show it to "
                       "your class on the projector, do not post it publicly.")
            join_panel("train", {"run": owner()}, "Open this run")
    if st.session_state.get("tr_saved"):
        folder = Path(st.session_state.tr_saved)
        if folder.is_dir():
            d1, d2 = st.columns(2)
            d1.download_button("Download checkpoint (.zip)", checkpoint_zip(folder), f"{folder.name}.zip",
                               "application/zip", on_click="ignore", help="config.json + safetensors weights; load it in any page's "
                                                       "upload box or with gan_core.load_generator.")
            if d2.button("Open in the latent explorer", help="Explore what this run's generator has learned."):
                open_in_latent(folder)


def save(job: Job) -> None:
    folder = SAVE_ROOT / f"run-{job.id}-step{job.step}"
    try:
        job.save(folder)
    except (OSError, RuntimeError) as e:
        st.error(f"Could not save: {e}")
        return
    prune_folders(SAVE_ROOT, UPLOAD_MAX_BYTES, UPLOAD_MAX_FOLDERS, keep=folder.name)  # disk use stays bounded
    st.session_state.tr_saved = str(folder)
    st.success(f"Saved to {folder}")


def open_in_latent(folder: Path) -> None:
    mine = st.session_state.setdefault("my_models", {})
    label = f"my run {folder.name}"
    mine[label] = str(folder)
    st.session_state.model = label
    st.switch_page("app_pages/latent.py")
