"""Choosing and loading models in the app: shipped checkpoints or a size-capped upload, cached per server."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import streamlit as st
import torch

import gan_core
from gan_core.hub.checkpoints import (CheckpointError, extract_checkpoint_zip, load_checkpoint, prune_folders,
                                      publish_folder, read_model_config)
from gan_core.models import ModelConfig
from gan_core.latent.explorer import Explorer
from gan_core.serve.modelcache import ModelCache, module_bytes
from ui.text import plain, quoted

UPLOAD = "Upload a checkpoint (.zip)…"
UPLOAD_ROOT = Path(tempfile.gettempdir()) / "gan_studio_uploads"
torch.set_num_threads(2)


MODEL_CACHE_BYTES = int(os.environ.get("GAN_STUDIO_MODEL_CACHE_MB", "1000")) * 1_000_000


@st.cache_resource
def _models() -> ModelCache:
    """One per server: loaded checkpoints and their explorers, least recently used out past MODEL_CACHE_BYTES
    (so uploaded models of up to 200 MB each cannot pile up in memory)."""
    return ModelCache(MODEL_CACHE_BYTES)


def checkpoint(path: str):
    cache = _models()
    hit = cache.get(("checkpoint", path))
    if hit is not None:
        return hit
    with st.spinner("Loading the model…"):
        ck = load_checkpoint(path, discriminator=True)
    return cache.put(("checkpoint", path), ck, module_bytes(ck.generator, ck.discriminator, ck.classifier))


@st.cache_resource(show_spinner=False)
def classifier():
    """The shipped digit classifier, or None when it is missing."""
    from gan_core.metrics.scores import load_classifier

    try:
        return load_classifier()
    except CheckpointError:
        return None


def explorer(path: str) -> Explorer:
    cache = _models()
    hit = cache.get(("explorer", path))
    if hit is not None:
        return hit
    ck = checkpoint(path)
    with st.spinner("Finding latent directions…"):
        ex = Explorer.from_checkpoint(ck, classifier() if tuple(ck.generator.img_shape) == (1, 28, 28) else None)
    return cache.put(("explorer", path), ex, 1_000_000)  # shares G and D with the checkpoint's entry


def forget_models(paths) -> None:
    """Drop pruned folders' models from memory too."""
    for p in paths:
        _models().forget_prefix(str(p))


def model_paths() -> dict[str, str]:
    """Shipped model name -> folder."""
    return {n: str(gan_core.resolve_checkpoint(n)) for n in gan_core.list_pretrained()}


UPLOAD_MAX_BYTES = int(os.environ.get("GAN_STUDIO_UPLOAD_MB", "500")) * 1_000_000  # all uploads kept, together
UPLOAD_MAX_FOLDERS = 40


def usable_generator(ck) -> None:
    """Raise CheckpointError unless every page can open ``ck``: a generator of images (not the classifier or
    a 2D toy), and a conditional one with a class count the pages can offer."""
    if ck.generator is None:
        raise CheckpointError("it holds a classifier, not a generator: upload a GAN checkpoint "
                              "(config.json + G.safetensors).")
    cfg = ck.model_config
    if cfg.task != "noise->image":
        raise CheckpointError("it is a 2D toy generator (the playground's kind); the pages here draw images.")
    if cfg.num_classes and cfg.num_classes > 100:
        raise CheckpointError(f"it is conditioned on {cfg.num_classes} classes; the pages offer at most 100.")


def _save_upload(data: bytes) -> str:
    """Check an uploaded zip, unpack it once per content (by hash) and return its folder. Rejected uploads
    leave nothing on disk; the upload folder keeps at most UPLOAD_MAX_FOLDERS checkpoints and
    UPLOAD_MAX_BYTES, dropping the least recently used."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = UPLOAD_ROOT / digest
    if not (folder / "config.json").is_file():
        extract_checkpoint_zip(data, folder)  # validates everything before it writes; cleans up on failure
    try:
        usable_generator(checkpoint(str(folder)))
    except CheckpointError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    folder.touch()  # most recently used: pruned last
    forget_models(prune_folders(UPLOAD_ROOT, UPLOAD_MAX_BYTES, UPLOAD_MAX_FOLDERS, keep=folder.name))
    return str(folder)


UPLOAD_MAX_FILE_MB = 50


def upload_source(name: str, data: bytes) -> str:
    """Which importer reads an uploaded file: an NVlabs snapshot (.pkl), a rosinality StyleGAN2 checkpoint (a .pt
    whose pickle names g_ema; torch.save stores it uncompressed) or the PyTorch-examples DCGAN's netG.pth."""
    if name.lower().endswith(".pkl"):
        return "stylegan2-ada-pkl"
    return "stylegan2-rosinality" if b"g_ema" in data else "pytorch-examples-dcgan"


def _import_pth(data: bytes, source: str = "pytorch-examples-dcgan") -> str:
    """Convert an uploaded generator file (once per content) into a checkpoint folder."""
    from gan_core.hub.importers import import_generator

    if len(data) > UPLOAD_MAX_FILE_MB * 1_000_000:
        raise CheckpointError(f"the file is larger than {UPLOAD_MAX_FILE_MB} MB.")
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = UPLOAD_ROOT / f"pth-{digest}"
    if not (folder / "config.json").is_file():
        UPLOAD_ROOT.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=UPLOAD_ROOT, prefix=".import-"))
        try:
            (scratch / "upload").write_bytes(data)
            import_generator(source, scratch / "upload", scratch / "ckpt")
            publish_folder(scratch / "ckpt", folder)  # two identical uploads at once: the second keeps the first's
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    folder.touch()
    forget_models(prune_folders(UPLOAD_ROOT, UPLOAD_MAX_BYTES, UPLOAD_MAX_FOLDERS, keep=folder.name))
    return str(folder)


@st.cache_resource
def _refused() -> ModelCache:
    """Uploads already refused, by content hash -> message: a refused file left in the uploader is not checked
    again on every rerun (the check of a hostile file is bounded, but need not be repeated)."""
    return ModelCache(1_000_000)


def open_upload(name: str, data: bytes) -> str:
    """An uploaded checkpoint zip or .pth -> its checkpoint folder; CheckpointError (remembered) when refused."""
    digest = hashlib.sha256(data).hexdigest()
    refused = _refused()
    known = refused.get(digest)
    if known is not None:
        raise CheckpointError(known)
    try:
        if name.lower().endswith((".pth", ".pt", ".pkl")):
            return _import_pth(data, upload_source(name, data))
        return _save_upload(data)
    except CheckpointError as e:
        refused.put(digest, str(e), 1_000)
        raise


def _fits(path: str, task: str, conditional: bool | None) -> bool:
    try:
        cfg = read_model_config(path)
    except CheckpointError:
        return False
    return isinstance(cfg, ModelConfig) and cfg.task == task and \
        (conditional is None or bool(cfg.num_classes) == conditional)


def model_picker(key: str = "model", conditional: bool | None = None, label: str = "Model",
                 default: str | None = None, task: str = "noise->image") -> str | None:
    """A select box of shipped models plus an upload option. Returns the chosen checkpoint folder or None.

    conditional: True/False keeps only conditional/unconditional models; None keeps all. task: only models of
    this task (read from each config.json alone, nothing is loaded to list them).
    """
    mine = st.session_state.setdefault("my_models", {})
    for gone in [k for k, v in mine.items() if not Path(v, "config.json").is_file()]:
        del mine[gone]  # a saved run the server has since pruned to keep its disk use bounded
    paths = {**model_paths(), **mine}  # shipped + this session's own runs
    names = [n for n in paths if _fits(paths[n], task, conditional)]
    options = names + [UPLOAD]
    if st.session_state.get(key) not in options:
        if st.session_state.get(key) is not None:  # e.g. a shared link naming a model this server lacks
            st.warning(f"There is no model called {quoted(st.session_state[key], 60)} here; showing "
                       f"{default if default in options else names[0] if names else 'the upload box'} instead.")
        st.session_state[key] = default if default in options else (names[0] if names else UPLOAD)
    choice = st.selectbox(label, options, key=key,
                          help="A model this project trained and ships in pretrained/, or your own checkpoint "
                               "folder zipped (config.json + G.safetensors, as `gan-core train` writes).")
    if choice != UPLOAD:
        return paths[choice]
    up = st.file_uploader("Checkpoint zip, a PyTorch-examples DCGAN netG.pth, or a StyleGAN2 .pt / .pkl",
                          type=["zip", "pth", "pt", "pkl"],
                          key=f"{key}_upload", max_upload_size=UPLOAD_MAX_FILE_MB,
                          help="Zip a checkpoint folder (only safetensors weights are read; nothing is unpickled); "
                               "or the netG.pth that github.com/pytorch/examples dcgan/main.py saves, or a "
                               "rosinality/stylegan2-pytorch .pt: read with torch.load(weights_only=True), which "
                               "builds tensors only; or an NVlabs stylegan2-ada-pytorch network snapshot .pkl: read "
                               "by a restricted unpickler that never runs the code stored in it. Each is converted. "
                               f"At most {UPLOAD_MAX_FILE_MB} MB (larger files: `gan-core import` on the command "
                               "line, then zip the folder it writes).")
    if up is None:
        st.info("Upload a zipped checkpoint folder, a DCGAN netG.pth or a StyleGAN2 checkpoint to explore your own "
                "model.")
        return None
    try:
        return open_upload(up.name, up.getvalue())
    except CheckpointError as e:
        st.error(f"That upload is not a usable checkpoint: {plain(str(e))}")
        return None


def model_label(path: str) -> str:
    p = Path(path)
    return p.name if p.parent == gan_core.pretrained_dir() else f"upload {p.name}"
