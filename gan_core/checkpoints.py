"""Checkpoint folders: config.json + generator.safetensors [+ discriminator.safetensors] + metrics.json.

Loading never unpickles: weights are read with safetensors, every tensor's name and shape is checked
against the networks that config.json describes, and anything else raises ``CheckpointError``.

Example:
    >>> G = load_checkpoint("pretrained/mnist-dcgan").generator   # doctest: +SKIP
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .models import (MAX_PARAMETERS, ClassifierConfig, ModelConfig, build_classifier, build_discriminator,
                     build_generator, count_parameters)

CONFIG, GENERATOR, DISCRIMINATOR, CLASSIFIER = "config.json", "generator.safetensors", "discriminator.safetensors", "classifier.safetensors"
METRICS, SAMPLES, CARD = "metrics.json", "samples.png", "card.md"
MAX_CONFIG_BYTES = 1_000_000
MAX_WEIGHTS_BYTES = 200_000_000


class CheckpointError(ValueError):
    """A checkpoint folder is missing, corrupt, disguised or does not match its config."""


@dataclass
class Checkpoint:
    """What a checkpoint folder holds, loaded."""

    path: Path
    config: dict
    model_config: ModelConfig | ClassifierConfig
    generator: nn.Module | None = None
    discriminator: nn.Module | None = None
    classifier: nn.Module | None = None
    metrics: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name


def _to_cpu_contiguous(module: nn.Module) -> dict:
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def save_checkpoint(folder: str | os.PathLike, config: dict, generator: nn.Module | None = None,
                    discriminator: nn.Module | None = None, classifier: nn.Module | None = None,
                    metrics: dict | None = None, samples=None, card: str | None = None) -> Path:
    """Write a checkpoint folder. ``config`` must hold a "model" dict (a ModelConfig or ClassifierConfig).

    ``samples`` is a PIL image saved as samples.png; ``card`` the text of card.md.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if "model" not in config:
        raise ValueError("config needs a 'model' entry describing the networks.")
    (folder / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True))
    for module, fname in ((generator, GENERATOR), (discriminator, DISCRIMINATOR), (classifier, CLASSIFIER)):
        if module is not None:
            save_file(_to_cpu_contiguous(module), str(folder / fname), metadata={"format": "pt"})
    if metrics is not None:
        (folder / METRICS).write_text(json.dumps(metrics, indent=2, sort_keys=True))
    if samples is not None:
        samples.save(folder / SAMPLES)
    if card is not None:
        (folder / CARD).write_text(card)
    return folder


def _read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise CheckpointError(f"{path.parent} is not a checkpoint: {what} is missing.")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise CheckpointError(f"{path.name} is too large to be a checkpoint's {what}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path.name} is not valid JSON ({e.__class__.__name__}).") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path.name} must hold a JSON object.")
    return data


def _read_weights(path: Path) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise CheckpointError(f"{path.name} is missing from {path.parent}.")
    if path.stat().st_size > MAX_WEIGHTS_BYTES:
        raise CheckpointError(f"{path.name} is larger than {MAX_WEIGHTS_BYTES // 1_000_000} MB.")
    with open(path, "rb") as f:
        head = f.read(9)
    # safetensors: an 8-byte little-endian header length, then a JSON header starting with "{"
    looks_safetensors = len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000
    if not looks_safetensors and (head[:1] == b"\x80" or head[:2] == b"PK"):
        # a pickle (protocol 2+ starts with 0x80) or a torch.save zip renamed: refuse to touch it
        raise CheckpointError(f"{path.name} is not a safetensors file (it looks like a pickle or a torch.save "
                              "archive). Only safetensors weights are accepted; pickles can run code.")
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path.name} is not a valid safetensors file ({str(e)[:120]}).") from None


def check_weights(module: nn.Module, weights: dict, what: str, source: str = "config.json",
                  optional: tuple[str, ...] = ()) -> None:
    """Raise CheckpointError unless ``weights`` has exactly ``module``'s tensor names (those ending in one of
    ``optional`` may be absent) with its shapes, all finite. ``what`` names the file, ``source`` what set the
    expected shapes."""
    expected = module.state_dict()
    missing = sorted(k for k in set(expected) - set(weights) if not k.endswith(optional))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{what} does not match {source}: "
                              f"missing {missing[:3]}{'...' if len(missing) > 3 else ''}, "
                              f"unexpected {extra[:3]}{'...' if len(extra) > 3 else ''}.")
    for k, v in weights.items():
        if v.shape != expected[k].shape:
            raise CheckpointError(f"{what}: tensor {k} has shape {tuple(v.shape)} but {source} "
                                  f"implies {tuple(expected[k].shape)}.")
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise CheckpointError(f"{what}: tensor {k} contains NaN or inf.")


def _load_into(module: nn.Module, path: Path) -> nn.Module:
    weights = _read_weights(path)
    check_weights(module, weights, path.name)
    module.load_state_dict(weights)
    return module.eval()


def _check_size(mcfg: ModelConfig | ClassifierConfig, folder: Path) -> None:
    """Refuse networks too large for this machine, and weights files that cannot hold the networks, before
    anything is built: the count comes from shapes alone (``count_parameters``)."""
    n = count_parameters(mcfg)
    if n > MAX_PARAMETERS:
        raise CheckpointError(f"config.json describes networks with {n / 1e6:,.0f} M parameters; this app "
                              f"opens models of at most {MAX_PARAMETERS / 1e6:.0f} M.")
    weights = folder / (CLASSIFIER if isinstance(mcfg, ClassifierConfig) else GENERATOR)
    if not weights.is_file():
        raise CheckpointError(f"{weights.name} is missing from {folder}.")


def load_checkpoint(folder: str | os.PathLike, discriminator: bool = False, device: str = "cpu") -> Checkpoint:
    """Load a checkpoint folder safely.

    Args:
        folder: path to the folder.
        discriminator: also load discriminator.safetensors when present.
        device: where to put the networks.

    Raises:
        CheckpointError: with a message saying what is wrong.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a folder.")
    config = _read_json(folder / CONFIG, "config.json")
    mdict = config.get("model")
    if not isinstance(mdict, dict):
        raise CheckpointError("config.json has no 'model' object describing the networks.")
    metrics = _read_json(folder / METRICS, "metrics.json") if (folder / METRICS).is_file() else {}
    try:
        mcfg = (ClassifierConfig if mdict.get("kind") == "classifier" else ModelConfig).from_dict(mdict)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"config.json describes no valid model: {e}") from None
    _check_size(mcfg, folder)
    if isinstance(mcfg, ClassifierConfig):
        net = _load_into(build_classifier(mcfg), folder / CLASSIFIER).to(device)
        return Checkpoint(folder, config, mcfg, classifier=net, metrics=metrics)
    G = _load_into(build_generator(mcfg), folder / GENERATOR).to(device)
    G.noise = mcfg.noise  # how z was drawn in training: samplers and metrics draw it the same way
    D = None
    if discriminator and (folder / DISCRIMINATOR).is_file():
        D = _load_into(build_discriminator(mcfg), folder / DISCRIMINATOR).to(device)
    return Checkpoint(folder, config, mcfg, generator=G, discriminator=D, metrics=metrics)


ALLOWED_FILES = {CONFIG, GENERATOR, DISCRIMINATOR, CLASSIFIER, METRICS, SAMPLES, CARD}
MAX_ZIP_BYTES = 50_000_000
MAX_UNZIPPED_BYTES = 250_000_000


def extract_checkpoint_zip(data: bytes, dest: str | os.PathLike) -> Path:
    """Check an uploaded checkpoint zip completely, then unpack it into ``dest`` and return the folder.

    Only the checkpoint's own file names are taken (from the top level or one folder deep); sizes are capped,
    every member is read and CRC-checked in memory, and config.json is validated and its networks sized
    before anything is written, so zip bombs, path tricks ("../x"), damaged members and configs that would
    build huge networks never touch the disk. The files are then written to a scratch folder beside ``dest``
    and loaded with ``load_checkpoint``; only a checkpoint that loads is renamed to ``dest``. Nothing is left
    behind when it fails.
    """
    import io
    import shutil
    import zipfile
    import zlib

    if len(data) > MAX_ZIP_BYTES:
        raise CheckpointError(f"The upload is larger than {MAX_ZIP_BYTES // 1_000_000} MB.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise CheckpointError("The upload is not a zip file. Zip the checkpoint folder and upload that.") from None
    if len(infos) > 50:
        raise CheckpointError("The zip holds too many files to be a checkpoint.")
    chosen = {}
    for info in infos:
        if info.is_dir():
            continue
        parts = Path(info.filename).parts
        if len(parts) > 2 or ".." in parts or info.filename.startswith("/"):
            continue
        if parts[-1] in ALLOWED_FILES:
            chosen.setdefault(parts[-1], info)
    if CONFIG not in chosen:
        raise CheckpointError("The zip has no config.json: it is not a GAN Studio checkpoint.")
    if sum(i.file_size for i in chosen.values()) > MAX_UNZIPPED_BYTES:
        raise CheckpointError("The checkpoint inside the zip is too large.")
    payloads = {}
    for name, info in chosen.items():
        try:
            with zf.open(info) as src:
                payload = src.read(info.file_size + 1)   # a CRC mismatch raises at the member's end
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError):
            raise CheckpointError(f"{name} in the zip is damaged (its checksum does not match, or it is "
                                  "encrypted or truncated).") from None
        if len(payload) != info.file_size:
            raise CheckpointError("The zip's sizes are inconsistent; refusing it.")
        payloads[name] = payload
    try:
        config = json.loads(payloads[CONFIG].decode("utf-8"))
        mdict = config["model"]
        mcfg = (ClassifierConfig if mdict.get("kind") == "classifier" else ModelConfig).from_dict(mdict)
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise CheckpointError("config.json is not a checkpoint's config (JSON with a 'model' object).") from None
    except ValueError as e:
        raise CheckpointError(f"config.json describes no valid model: {e}") from None
    n = count_parameters(mcfg)
    if n > MAX_PARAMETERS:
        raise CheckpointError(f"config.json describes networks with {n / 1e6:,.0f} M parameters; this app "
                              f"opens models of at most {MAX_PARAMETERS / 1e6:.0f} M.")
    out = Path(dest)
    scratch = out.with_name(f".{out.name}.partial-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        scratch.mkdir(parents=True)
        for name, payload in payloads.items():
            (scratch / name).write_bytes(payload)
        load_checkpoint(scratch, discriminator=True)
        if out.exists():
            shutil.rmtree(out)
        scratch.rename(out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def prune_folders(root: str | os.PathLike, max_bytes: int, max_entries: int, keep: str | None = None) -> list[Path]:
    """Delete the least recently used sub-folders of ``root`` (by modification time) until at most
    ``max_entries`` remain and they hold at most ``max_bytes``; ``keep`` (a folder name) is never deleted.
    Returns what was deleted. Uploads and saved runs call this so the server's disk use stays bounded."""
    import shutil

    root = Path(root)
    if not root.is_dir():
        return []
    import time

    folders = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = []
    for p in [p for p in folders if p.name.startswith(".")]:   # scratch folders: in use unless left by a crash
        folders.remove(p)
        if time.time() - p.stat().st_mtime > 600:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    sizes = {p: folder_bytes(p) for p in folders}
    kept, total = 0, 0
    for p in folders:
        if p.name == keep or (kept < max_entries and total + sizes[p] <= max_bytes):
            kept, total = kept + 1, total + sizes[p]
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def checkpoint_zip(folder: str | os.PathLike) -> bytes:
    """A checkpoint folder as zip bytes (for downloads)."""
    import io
    import zipfile

    folder = Path(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(ALLOWED_FILES):
            if (folder / name).is_file():
                zf.write(folder / name, f"{folder.name}/{name}")
    return buf.getvalue()
