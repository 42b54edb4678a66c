"""The live-training page's parts: settings, controls, and the views polled while a job trains."""
from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from gan_core import losses
from gan_core.checkpoints import checkpoint_zip, prune_folders
from gan_core.data import DatasetUnavailable
from gan_core.timeline import evenly
from gan_core.live import DEFAULT_PRESET, PRESETS, Busy, Job, JobManager, ProcessJob, prewarm, preset_config
from gan_core.models import ModelConfig
from gan_core.models.config import CLUSTER_TEMPERATURE
from gan_core.train_config import TrainConfig
from ui.cluster_view import cluster_controls
from ui.compare_view import add_reference_traces, keep_train_run, reference
from ui.images import show
from ui.models import UPLOAD_MAX_BYTES, UPLOAD_MAX_FOLDERS
from ui.priority import in_turn
from ui.text import plain, quoted

SAVE_ROOT = Path(tempfile.gettempdir()) / "gan_studio_trained"
MAX_CHART_POINTS = 600
DATASETS = {"mnist-5k": (1, 28, 28), "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
KIND_LABELS = {"dcgan": "DCGAN", "vanilla": "Vanilla MLP (2014)", "cgan": "Conditional DCGAN",
               "acgan": "Conditional DCGAN, D names the class (AC-GAN)",
               "wgan-gp": "DCGAN + WGAN-GP critic"}


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
    "tr_dataset": "dataset", "tr_kind": "model.kind", "tr_loss": "loss", "tr_lr_g": "lr_g", "tr_lr_d": "lr_d",
    "tr_beta1": "beta1", "tr_beta2": "beta2", "tr_batch": "batch_size", "tr_z": "model.z_dim",
    "tr_width": "model.width", "tr_noise": "model.noise", "tr_ncritic": "n_critic",
    "tr_smooth": "label_smoothing", "tr_sn": "model.spectral_norm", "tr_seed": "seed", "tr_ema": "ema_decay",
    "tr_augment": "augment", "tr_clusters": "model.clusters", "tr_auxw": "aux_weight", "tr_clustering": "clustering",
    "tr_ctemp": "model.cluster_temperature",
}


def config_value(cfg: TrainConfig, where: str):
    return getattr(cfg.model, where[6:]) if where.startswith("model.") else getattr(cfg, where)


def apply_preset() -> None:
    """Copy the chosen preset into the settings widgets."""
    cfg = preset_config(st.session_state.tr_preset)
    for key, where in FIELDS.items():
        st.session_state[key] = config_value(cfg, where)
    st.session_state.tr_remedies = []


def fix_train_with(name: str) -> None:
    """'Fix it' (a callback): the failing run is kept as the reference, then the same preset and seed plus one
    remedy go into the settings; a fresh run starts on this rerun."""
    from ui.compare_view import keep_before_fixing, train_reference
    from ui.remedies_view import new_remedies_in, with_remedies

    s = st.session_state
    job = job_manager().get(owner())
    if job is not None and job.history:
        keep_before_fixing("tr_reference", lambda: train_reference(job))
    cfg = with_remedies(preset_config(s.tr_preset, seed=int(s.tr_seed)), [name])
    for key, where in FIELDS.items():
        s[key] = config_value(cfg, where)
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
    from ui.remedies_view import TRAIN_FAILURES, fix_it

    if st.session_state.tr_preset in TRAIN_FAILURES:
        fix_it("tr_fix", toy=False, on_fix=fix_train_with)
    with st.expander("Settings", expanded=False):
        c = st.columns(4)
        c[0].selectbox("Dataset", list(DATASETS), key="tr_dataset",
                       help="mnist-5k ships with the app (5,000 digits, offline). The others are read from "
                            "~/.gan_studio/data and downloaded there when the machine is online.")
        c[1].selectbox("Model", list(KIND_LABELS), key="tr_kind", format_func=KIND_LABELS.get,
                       help="The networks: DCGAN is convolutional; the 2014 original is fully connected; "
                            "conditional gives G and D the class; AC-GAN gives G the class and makes D name "
                            "it; WGAN-GP's critic has no BatchNorm.")
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
        cluster_controls(st.columns(3))
        from ui.remedies_view import remedy_picker

        remedy_picker("tr_remedies", toy=False)
    s = st.session_state
    kind = s.tr_kind
    try:
        model = ModelConfig(kind=kind, z_dim=int(s.tr_z), width=int(s.tr_width), noise=s.tr_noise,
                            spectral_norm=bool(s.tr_sn),
                            num_classes=10 if kind == "cgan" or (kind == "acgan" and not s.tr_clusters) else 0,
                            img_shape=DATASETS[s.tr_dataset], clusters=int(s.tr_clusters),
                            cluster_temperature=float(s.get("tr_ctemp", CLUSTER_TEMPERATURE)))
        from ui.remedies_view import with_remedies

        cfg = TrainConfig(model=model, dataset=s.tr_dataset, loss=s.tr_loss, lr_g=float(s.tr_lr_g),
                          lr_d=float(s.tr_lr_d), beta1=float(s.tr_beta1), beta2=float(s.tr_beta2),
                          batch_size=int(s.tr_batch), n_critic=int(s.tr_ncritic),
                          label_smoothing=float(s.tr_smooth), ema_decay=float(s.tr_ema), seed=int(s.tr_seed),
                          aux_weight=float(s.get("tr_auxw", 1.0)), clustering=s.get("tr_clustering", "kmeans"),
                          augment=s.tr_augment if kind != "toy" else "none")
        return with_remedies(cfg, s.get("tr_remedies", []))
    except ValueError as e:
        st.error(f"These settings cannot train: {plain(e)}")
        return None


# ----------------------------------------------------------------------------- controls

def start(config: TrainConfig, classifier) -> bool:
    """Start this session's job; False (with the reason shown) when it cannot."""
    if config.dataset != "mnist-5k":
        from gan_core.data import load_dataset
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


# ----------------------------------------------------------------------------- live views

def step_axis(last_step: int) -> dict:
    """An x axis of whole steps: ticks 1, 2 or 5 x 10^k apart (plotly's own choice gave 199.5)."""
    import math

    span = max(1, int(last_step))
    raw = span / 6
    k = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    dtick = next((m * k for m in (1, 2, 5, 10) if m * k >= raw), 10 * k)
    return dict(tick0=0, dtick=max(1, int(dtick)), tickformat=",d", rangemode="nonnegative")


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Tick values 1, 2, 5 x 10^k between lo and hi with their full labels: plotly labels a log axis spanning
    less than a decade with single digits ("2 3 4 5" for 20 to 50)."""
    import math

    lo, hi = max(lo, 1e-12), max(hi, 1e-12)
    vals = [m * 10 ** e for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
            for m in (1, 2, 5)]
    inside = [v for v in vals if lo / 1.0001 <= v <= hi * 1.0001]
    if len(inside) < 2:   # a very narrow range: the nearest nice values around it
        below = max((v for v in vals if v <= lo), default=lo)
        above = min((v for v in vals if v >= hi), default=hi)
        inside = sorted({below, *inside, above})
    return inside, [f"{v:g}" for v in inside]


def robust_range(values: list[float]) -> tuple[float, float] | None:
    """A y range that the first steps' spike does not squash the rest into (e.g. G's first loss of ~400 after
    Fix it): the 1st to 99th percentile of the values after the first 5% of steps, with a margin. None when
    plotly's own range is fine (nothing is cut off)."""
    finite = [v for v in values if v is not None and v == v and abs(v) != float("inf")]
    if len(finite) < 20:
        return None
    tail = sorted(finite[len(finite) // 20:])
    lo, hi = tail[len(tail) // 100], tail[min(len(tail) - 1, len(tail) * 99 // 100)]
    if min(finite) >= lo - (hi - lo) and max(finite) <= hi + (hi - lo):  # no spike that squashes the rest
        return None
    pad = 0.1 * (hi - lo or abs(hi) or 1.0)
    return lo - pad, hi + pad


def line_chart(rows, keys: dict[str, str], title: str, ytitle: str, hline: float | None = None,
               log: bool = False, robust: bool = False) -> go.Figure:
    """One /train chart: a line per history key (keys: name shown), optional horizontal line and log axis.
    ``robust``: a y range that ignores the first steps' spike (said in the title when it cuts something off)."""
    fig = go.Figure()
    x = [r["step"] for r in rows]
    ys = []
    for k, name in keys.items():
        y = [r[k] for r in rows]
        ys += y
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines"))
    add_reference_traces(fig, reference("tr_reference"), keys)
    if hline is not None:
        fig.add_hline(y=hline, line_dash="dot", annotation_text="equilibrium 0.5")
    clipped = robust_range(ys) if robust and not log else None
    fig.update_layout(title=title + (" (first steps' spike off the scale)" if clipped else ""), height=260,
                      margin=dict(l=10, r=10, t=40, b=10), xaxis_title="step", yaxis_title=ytitle,
                      legend=dict(orientation="h", y=-0.3), xaxis=step_axis(x[-1] if x else 1))
    if clipped:
        fig.update_yaxes(range=list(clipped))
    if log:
        pos = [v for v in ys if v is not None and v > 0 and v != float("inf")]
        if pos:
            vals, text = log_ticks(min(pos), max(pos))
            fig.update_yaxes(type="log", tickvals=vals, ticktext=text)
        else:
            fig.update_yaxes(type="log")
    return fig


def steps_per_second(job: Job) -> float | None:
    """Median training steps per second over the last 20 recorded steps (from each step's own duration)."""
    n_critic = max(1, int(getattr(job.config, "n_critic", 1) or 1))
    ips = [r["images_per_s"] for r in list(job.history)[-20:] if r.get("images_per_s")]
    if not ips:
        return None
    return sorted(ips)[len(ips) // 2] / (job.config.batch_size * n_critic)


def busy_reasons() -> list[str]:
    """What else keeps this machine's cores busy: other training runs, the class's queued computations, and the
    load average (the processes waiting for a core, from the operating system)."""
    out = []
    others = job_manager().running() - 1
    if others > 0:
        out.append(f"{others} other training run{'s' if others > 1 else ''}")
    try:
        from ui.work import work_queue

        q = work_queue().running()
        if q:
            out.append(f"{q} computation{'s' if q > 1 else ''} for the class")
    except Exception:
        pass
    try:
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
        if load > cores * 0.9:
            out.append(f"load average {load:.1f} on {cores} cores")
    except OSError:
        pass
    return out


def status(job: Job) -> None:
    last = job.latest()
    c = st.columns(5)
    c[0].metric("State", job.state)
    c[1].metric("Step", f"{job.step:,}")
    c[2].metric("Epoch", f"{last.get('epoch', 0):.2f}" if last.get("epoch", 0) != float("inf") else "—",
                help="Passes over the training set (images seen / dataset size).")
    rate = steps_per_second(job)
    expected = PRESETS.get(st.session_state.get("tr_preset"), {}).get("idle_rate")
    c[3].metric("Steps/s", f"{rate:,.1f}" if rate is not None else "—",
                help="Training steps per second (median of the last 20 steps)" +
                     (f"; on an idle 2-core laptop this preset does about {expected}." if expected else "."))
    cov = job.coverage[-1] if job.coverage else None
    c[4].metric("Classes drawn", f"{cov['classes_covered']}/10" if cov else "—",
                help="Digits the classifier reads among the fixed samples with at least 5% each (from the first "
                     "grid on); "
                     "falling numbers mean mode collapse.")
    if job.state == "running" and rate is not None and expected and rate < expected / 2:
        why = busy_reasons()
        st.warning(f"Training at {rate:,.1f} steps/s, where an idle 2-core laptop does about {expected} with this "
                   f"preset: the machine is busy ({'; '.join(why) if why else 'by programs outside the app'}). "
                   "Training runs at low priority so that the pages stay quick: it carries on, just slower, and "
                   "the digits come later than the preset promises.")
    if job.state == "diverged":
        st.error(f"{job.message} Losses went to NaN or infinity, which usually means a learning rate too high "
                 "for this loss. Save below to keep the last good weights, or Reset and try again.")
    elif job.state == "error":
        st.error(job.message)
    elif job.message and job.state in ("stopped", "finished"):
        st.info(job.message)


def charts(job: Job) -> None:
    rows = list(evenly(list(job.history), MAX_CHART_POINTS))   # a chart draws at most this many points
    if not rows:
        st.info("Building the networks…")
        return
    c1, c2, c3 = st.columns(3)
    c1.plotly_chart(line_chart(rows, {"d_loss": "D loss", "g_loss": "G loss"}, "Losses", "loss", robust=True),
                    key="tr_loss_chart")
    if job.config.model.kind == "acgan":
        c1.caption("AC-GAN: both losses include the class term (how well D names the digit — or, without "
                   "labels, the cluster — and how well G's images are named as asked).")
    c2.plotly_chart(line_chart(rows, {"d_real": "mean D(x)", "d_fake": "mean D(G(z))"}, "What D says",
                           "P(real)", hline=0.5), key="tr_d_chart")
    c2.caption("D(x) on real images, D(G(z)) on fakes. At the ideal equilibrium both are 0.5: D cannot tell "
               "them apart.")
    c3.plotly_chart(line_chart(rows, {"grad_norm_d": "‖∇D‖", "grad_norm_g": "‖∇G‖"}, "Gradient norms", "norm",
                           log=True), key="tr_grad_chart")
    c3.caption("How hard each network is being pushed (log scale). ‖∇G‖ near zero: vanishing gradients, "
               "G has stopped learning.")


def samples(job: Job) -> None:
    snaps = list(job.snapshots)
    if not snaps:
        return
    c1, c2 = st.columns([3, 2])
    with c1:
        if len(snaps) > 1 and job.state != "running":
            i = st.select_slider("Timeline", options=list(range(len(snaps))), value=len(snaps) - 1,
                                 format_func=lambda i: f"step {snaps[i].step}", key="tr_timeline",
                                 help="Scrub back through the fixed-noise samples as training went on.")
        else:
            i = len(snaps) - 1
        g = snaps[i].grid
        ref = reference("tr_reference")
        cur, other = st.columns(2) if ref is not None else (st.container(), None)
        with cur:
            show(g if g.ndim == 3 else g[:, :, None], scale=3 if ref is None else 2,
                 caption=f"The same noise vectors at step {snaps[i].step}" + (
                     " (one column per class)" if job.config.model.conditional else ""))
        if other is not None and (at := ref.at(snaps[i].step)) is not None:
            with other:
                rg = at[1]
                show(rg if rg.ndim == 3 else rg[:, :, None], scale=2,
                     caption=f"Reference ({ref.label}) at step {at[0]}")
    with c2:
        if job.coverage:
            rows = job.coverage
            fig = go.Figure(go.Scatter(x=[r["step"] for r in rows], y=[r["classes_covered"] for r in rows],
                                       mode="lines+markers", name="classes"))
            ref = reference("tr_reference")
            if ref is not None and ref.coverage:
                fig.add_trace(go.Scatter(x=[r["step"] for r in ref.coverage],
                                         y=[r["classes_covered"] for r in ref.coverage], mode="lines",
                                         name="reference", line=dict(dash="dash")))
            fig.update_layout(title="Class coverage of the samples", height=260, yaxis_range=[0, 10.5],
                              xaxis_title="step", yaxis_title="classes ≥ 5%", margin=dict(l=10, r=10, t=40, b=10),
                              xaxis=step_axis(rows[-1]["step"]))
            st.plotly_chart(fig, key="tr_cov_chart")
            h = rows[-1]["class_histogram"]
            st.bar_chart({"share of samples": h}, height=180, x_label="digit")
        else:
            st.caption("Class coverage (which digits the classifier reads in the samples) appears every "
                       f"{job.coverage_every} steps for 28x28 digit models.")


def live(job: Job) -> None:
    """Poll the job once a second while it trains; one last full rerun when it stops."""
    was_active = job.active

    @st.fragment(run_every=1.0 if was_active else None)
    @in_turn
    def _view():
        job.touch()
        if was_active and not job.active:
            st.rerun()  # buttons and the timeline follow the new state
        status(job)
        charts(job)
        samples(job)

    _view()
