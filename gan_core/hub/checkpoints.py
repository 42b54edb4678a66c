"""Checkpoint folders: config.json + one safetensors file per network, by its name (``G.safetensors``,
``D.safetensors``; families with more networks add theirs, e.g. ``G_AB``) + metrics.json. Folders written by
earlier versions (``generator.safetensors`` / ``discriminator.safetensors``) still load.

Loading never unpickles: weights are read with safetensors, every tensor's name and shape is checked
against the networks that config.json describes, and anything else raises ``CheckpointError``.

Example:
    >>> G = load_checkpoint("pretrained/mnist-dcgan").generator   # doctest: +SKIP
"""
from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from gan_core.intake import IntakeError
from gan_core.intake.archives import ZipLimits, extract_members, open_zip, read_member
from gan_core.intake.models import safetensors_shapes
from gan_core.models import (FAMILIES, MAX_PARAMETERS, ClassifierConfig, ModelConfig, build_classifier, count_parameters,
                             family)

CONFIG, CLASSIFIER = "config.json", "classifier.safetensors"
LEGACY_WEIGHTS = {"G": "generator.safetensors", "D": "discriminator.safetensors"}   # earlier versions' names
NET_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,15}")
METRICS, SAMPLES, CARD = "metrics.json", "samples.png", "card.md"
MAX_CONFIG_BYTES = 1_000_000
MAX_WEIGHTS_BYTES = 200_000_000


class CheckpointError(ValueError):
    """A checkpoint folder is missing, corrupt, disguised or does not match its config."""


@dataclass
class Checkpoint:
    """What a checkpoint folder holds, loaded: its networks by name ("G", "D", or "classifier")."""

    path: Path
    config: dict
    model_config: ModelConfig | ClassifierConfig
    networks: dict[str, nn.Module] = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def generator(self) -> nn.Module | None:
        return self.networks.get("G")

    @property
    def discriminator(self) -> nn.Module | None:
        return self.networks.get("D")

    @property
    def classifier(self) -> nn.Module | None:
        return self.networks.get("classifier")


def weights_file(folder: str | os.PathLike, net: str) -> Path:
    """The file holding network ``net`` in ``folder``: ``<net>.safetensors``, or an earlier version's name for
    it when only that exists."""
    folder = Path(folder)
    new = folder / f"{net}.safetensors"
    old = folder / LEGACY_WEIGHTS.get(net, new.name)
    return old if not new.is_file() and old.is_file() else new


def _to_cpu_contiguous(module: nn.Module) -> dict:
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def save_checkpoint(folder: str | os.PathLike, config: dict, networks: dict[str, nn.Module] | None = None,
                    metrics: dict | None = None, samples=None, card: str | None = None) -> Path:
    """Write a checkpoint folder. ``config`` must hold a "model" dict (a ModelConfig or ClassifierConfig);
    ``networks`` maps names to modules ({"G": G, "D": D}, or {"classifier": C}), each saved as
    ``<name>.safetensors``.

    ``samples`` is a PIL image saved as samples.png; ``card`` the text of card.md.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    if "model" not in config:
        raise ValueError("config needs a 'model' entry describing the networks.")
    bad = [n for n in networks or {} if not NET_NAME.fullmatch(n)]
    if bad:
        raise ValueError(f"Network names are letters, digits and _ (up to 16), got {bad[0]!r}.")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True))
    for name, module in (networks or {}).items():
        save_file(_to_cpu_contiguous(module), str(folder / f"{name}.safetensors"), metadata={"format": "pt"})
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


def _read_weights(path: Path, expected: dict | None = None) -> dict:
    """Weights from a safetensors file. With ``expected`` ({name: tensor}), names and shapes are compared with
    the file's header before any tensor data is read."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise CheckpointError(f"{path.name} is missing from {path.parent}.")
    if path.stat().st_size > MAX_WEIGHTS_BYTES:
        raise CheckpointError(f"{path.name} is larger than {MAX_WEIGHTS_BYTES // 1_000_000} MB.")
    try:
        shapes = safetensors_shapes(path)
    except IntakeError as e:
        raise CheckpointError(str(e)) from None
    if expected is not None:
        _compare(shapes, {k: tuple(v.shape) for k, v in expected.items()}, path.name, "config.json")
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path.name} is not a valid safetensors file ({str(e)[:120]}).") from None


def _compare(shapes: dict, expected: dict, what: str, source: str, optional: tuple[str, ...] = ()) -> None:
    missing = sorted(k for k in set(expected) - set(shapes) if not k.endswith(optional))
    extra = sorted(set(shapes) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{what} does not match {source}: "
                              f"missing {missing[:3]}{'...' if len(missing) > 3 else ''}, "
                              f"unexpected {extra[:3]}{'...' if len(extra) > 3 else ''}.")
    for k, shape in shapes.items():
        if tuple(shape) != tuple(expected[k]):
            raise CheckpointError(f"{what}: tensor {k} has shape {tuple(shape)} but {source} "
                                  f"implies {tuple(expected[k])}.")


def check_weights(module: nn.Module, weights: dict, what: str, source: str = "config.json",
                  optional: tuple[str, ...] = ()) -> None:
    """Raise CheckpointError unless ``weights`` has exactly ``module``'s tensor names (those ending in one of
    ``optional`` may be absent) with its shapes, all finite. ``what`` names the file, ``source`` what set the
    expected shapes."""
    expected = module.state_dict()
    _compare({k: tuple(v.shape) for k, v in weights.items()}, {k: tuple(v.shape) for k, v in expected.items()},
             what, source, optional)
    for k, v in weights.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise CheckpointError(f"{what}: tensor {k} contains NaN or inf.")


def _load_into(module: nn.Module, path: Path) -> nn.Module:
    weights = _read_weights(path, module.state_dict())
    check_weights(module, weights, path.name)
    module.load_state_dict(weights)
    return module.eval()


def _model_config(mdict) -> ModelConfig | ClassifierConfig:
    """config.json's "model" entry as a config (the classifier's says ``"kind": "classifier"``)."""
    if not isinstance(mdict, dict):
        raise ValueError("config.json has no 'model' object describing the networks.")
    return (ClassifierConfig if mdict.get("kind") == "classifier" else ModelConfig).from_dict(mdict)


def _net_names(mcfg: ModelConfig | ClassifierConfig) -> tuple[str, ...]:
    return ("classifier",) if isinstance(mcfg, ClassifierConfig) else family(mcfg.architecture).networks


def _build(mcfg: ModelConfig | ClassifierConfig, net: str) -> nn.Module:
    if isinstance(mcfg, ClassifierConfig):
        return build_classifier(mcfg)
    return family(mcfg.architecture).build(net, mcfg)


def _check_size(mcfg: ModelConfig | ClassifierConfig, folder: Path) -> None:
    """Refuse networks too large for this machine, and a folder without its main network's weights, before
    anything is built: the count comes from shapes alone (``count_parameters``)."""
    n = count_parameters(mcfg)
    if n > MAX_PARAMETERS:
        raise CheckpointError(f"config.json describes networks with {n / 1e6:,.0f} M parameters; this app "
                              f"opens models of at most {MAX_PARAMETERS / 1e6:.0f} M.")
    weights = weights_file(folder, _net_names(mcfg)[0])
    if not weights.is_file():
        raise CheckpointError(f"{weights.name} is missing from {folder}.")


def read_model_config(folder: str | os.PathLike) -> ModelConfig | ClassifierConfig:
    """What a checkpoint folder's networks are, from its config.json alone (nothing is built or read beside it):
    enough to list models by task or conditioning. Raises CheckpointError like ``load_checkpoint``."""
    config = _read_json(Path(folder) / CONFIG, "config.json")
    try:
        return _model_config(config.get("model"))
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"config.json describes no valid model: {e}") from None


def load_checkpoint(folder: str | os.PathLike, discriminator: bool = False, device: str = "cpu") -> Checkpoint:
    """Load a checkpoint folder safely.

    Args:
        folder: path to the folder.
        discriminator: also load the discriminators (``D``...) when their files are there; the generators
            (``G``...) or the classifier are always loaded.
        device: where to put the networks.

    Raises:
        CheckpointError: with a message saying what is wrong.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a folder.")
    config = _read_json(folder / CONFIG, "config.json")
    metrics = _read_json(folder / METRICS, "metrics.json") if (folder / METRICS).is_file() else {}
    try:
        mcfg = _model_config(config.get("model"))
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"config.json describes no valid model: {e}") from None
    _check_size(mcfg, folder)
    nets = {}
    for net in _net_names(mcfg):
        path = weights_file(folder, net)
        if net.startswith("D") and not (discriminator and path.is_file()):
            continue
        nets[net] = _load_into(_build(mcfg, net), path).to(device)
    return Checkpoint(folder, config, mcfg, networks=nets, metrics=metrics)


def allowed_files() -> set[str]:
    """The file names a checkpoint folder may hold: config, metrics, samples, card, and every registered
    family's networks (by name, and by the earlier versions' names)."""
    nets = {f"{n}.safetensors" for fam in FAMILIES.values() for n in fam.networks}
    return {CONFIG, METRICS, SAMPLES, CARD, CLASSIFIER, *LEGACY_WEIGHTS.values(), *nets}


MAX_ZIP_BYTES = 50_000_000
MAX_UNZIPPED_BYTES = 250_000_000


CHECKPOINT_ZIP = ZipLimits(max_members=50, max_member_bytes=MAX_WEIGHTS_BYTES, max_total_bytes=MAX_UNZIPPED_BYTES,
                           max_ratio=20)  # trained float32 weights barely compress (~1.1x); constant ones 1,000x


def extract_checkpoint_zip(data: bytes, dest: str | os.PathLike) -> Path:
    """Check an uploaded checkpoint zip completely, then unpack it into ``dest`` and return the folder.

    The zip goes through ``gan_core.intake.archives``: member count, declared sizes, compression and inflation
    ratio (a zip of constant weights inflating 1,000-fold is refused) are checked before a byte is inflated.
    Only the checkpoint's own file names are taken (from the top level or one folder deep), no path tricks
    ("../x"). config.json is read and its networks sized on the meta device, and each weights file's declared
    size compared with what those networks need, before anything is written; the members are then streamed
    (CRC-checked) into a scratch folder beside ``dest`` and loaded with ``load_checkpoint``; only a checkpoint
    that loads is renamed to ``dest``. Nothing is left behind when it fails.
    """
    import shutil

    if len(data) > MAX_ZIP_BYTES:
        raise CheckpointError(f"The upload is larger than {MAX_ZIP_BYTES // 1_000_000} MB.")

    allowed = allowed_files()

    def wanted(info) -> bool:
        parts = Path(info.filename).parts
        return (not info.is_dir() and 0 < len(parts) <= 2 and ".." not in parts and
                not info.filename.startswith("/") and parts[-1] in allowed)

    try:
        zf, infos = open_zip(data, "The upload", CHECKPOINT_ZIP, counted=wanted)
    except IntakeError as e:
        raise CheckpointError(str(e)) from None
    with zf:
        chosen = {}
        for info in infos:
            chosen.setdefault(Path(info.filename).parts[-1], info)
        if CONFIG not in chosen:
            raise CheckpointError("The zip has no config.json: it is not a GAN Studio checkpoint.")
        if chosen[CONFIG].file_size > MAX_CONFIG_BYTES:
            raise CheckpointError("config.json is too large to be a checkpoint's config.")
        try:
            config = json.loads(read_member(zf, chosen[CONFIG], "The upload").decode("utf-8"))
            if not isinstance(config, dict) or "model" not in config:
                raise KeyError("model")
            mcfg = _model_config(config["model"])
        except IntakeError as e:
            raise CheckpointError(str(e)) from None
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise CheckpointError("config.json is not a checkpoint's config (JSON with a 'model' object)."
                                  ) from None
        except ValueError as e:
            raise CheckpointError(f"config.json describes no valid model: {e}") from None
        n = count_parameters(mcfg)
        if n > MAX_PARAMETERS:
            raise CheckpointError(f"config.json describes networks with {n / 1e6:,.0f} M parameters; this app "
                                  f"opens models of at most {MAX_PARAMETERS / 1e6:.0f} M.")
        need = 4 * n + 1_000_000   # float32 of every network, plus the headers
        for name in chosen:
            if name.endswith(".safetensors") and chosen[name].file_size > need:
                raise CheckpointError(f"{name} would inflate to {chosen[name].file_size / 1e6:,.1f} MB, more than "
                                      f"the networks config.json describes can hold ({need / 1e6:,.1f} MB).")
        out = Path(dest)
        scratch = out.with_name(f".{out.name}.partial-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            extract_members(zf, chosen, scratch, "The upload")
            load_checkpoint(scratch, discriminator=True)
            publish_folder(scratch, out)
        except IntakeError as e:
            raise CheckpointError(str(e)) from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return out


def publish_folder(scratch: Path, out: Path) -> None:
    """Move a checked scratch folder to ``out`` atomically. When two identical uploads race, the one that
    arrives second finds ``out`` there already and keeps it (same content, by hash); no rmtree of a folder
    another request may be reading."""
    import shutil

    try:
        scratch.rename(out)
    except OSError:
        if (out / CONFIG).is_file():
            return  # the other upload of the same bytes won: its folder is the same checkpoint
        old = out.with_name(f".{out.name}.old-{secrets.token_hex(4)}")
        out.rename(old)   # a damaged leftover: moved aside first, so the folder never exists half-made
        scratch.rename(out)
        shutil.rmtree(old, ignore_errors=True)


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
        for name in sorted(allowed_files()):
            if (folder / name).is_file():
                zf.write(folder / name, f"{folder.name}/{name}")
    return buf.getvalue()
