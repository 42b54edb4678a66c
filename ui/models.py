"""Choosing and loading models in the app: shipped checkpoints or a size-capped upload, cached per server."""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import streamlit as st
import torch

import gan_core
from gan_core.checkpoints import CheckpointError, extract_checkpoint_zip, load_checkpoint
from gan_core.explore import Explorer

UPLOAD = "Upload a checkpoint (.zip)…"
UPLOAD_ROOT = Path(tempfile.gettempdir()) / "gan_studio_uploads"
torch.set_num_threads(2)


@st.cache_resource(show_spinner="Loading the model…", max_entries=16)
def checkpoint(path: str):
    return load_checkpoint(path, discriminator=True)


@st.cache_resource(show_spinner=False)
def classifier():
    """The shipped digit classifier, or None when it is missing."""
    from gan_core.metrics import load_classifier

    try:
        return load_classifier()
    except CheckpointError:
        return None


@st.cache_resource(show_spinner="Finding latent directions…", max_entries=16)
def explorer(path: str) -> Explorer:
    ck = checkpoint(path)
    G = ck.generator
    loss = ck.config.get("training", {}).get("loss", "nonsaturating")
    C = classifier() if tuple(G.img_shape) == (1, 28, 28) else None
    return Explorer(G, ck.discriminator, C, loss=loss)


def model_paths() -> dict[str, str]:
    """Shipped model name -> folder."""
    return {n: str(gan_core.resolve_checkpoint(n)) for n in gan_core.list_pretrained()}


def _save_upload(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = UPLOAD_ROOT / digest
    if not (folder / "config.json").is_file():
        extract_checkpoint_zip(data, folder)
    checkpoint(str(folder))  # validates: raises CheckpointError for anything that is not a checkpoint
    return str(folder)


def model_picker(key: str = "model", conditional: bool | None = None, label: str = "Model",
                 default: str | None = None) -> str | None:
    """A select box of shipped models plus an upload option. Returns the chosen checkpoint folder or None.

    conditional: True/False keeps only conditional/unconditional models; None keeps all.
    """
    paths = {**model_paths(), **st.session_state.get("my_models", {})}  # shipped + this session's own runs
    names = [n for n in paths if conditional is None or
             bool(checkpoint(paths[n]).model_config.num_classes) == conditional]
    options = names + [UPLOAD]
    if st.session_state.get(key) not in options:
        st.session_state[key] = default if default in options else (names[0] if names else UPLOAD)
    choice = st.selectbox(label, options, key=key,
                          help="A model this project trained and ships in pretrained/, or your own checkpoint "
                               "folder zipped (config.json + generator.safetensors, as `gan-core train` writes).")
    if choice != UPLOAD:
        return paths[choice]
    up = st.file_uploader("Checkpoint zip", type=["zip"], key=f"{key}_upload",
                          help="Zip a checkpoint folder. Only safetensors weights are read; nothing is unpickled. "
                               "At most 50 MB.")
    if up is None:
        st.info("Upload a zipped checkpoint folder to explore your own model.")
        return None
    try:
        return _save_upload(up.getvalue())
    except CheckpointError as e:
        st.error(f"That upload is not a usable checkpoint: {e}")
        return None


def model_label(path: str) -> str:
    p = Path(path)
    return p.name if p.parent == gan_core.pretrained_dir() else f"upload {p.name}"
