"""Bring generators trained elsewhere into a checkpoint folder every page opens (config.json + safetensors).

Only ``torch.load(..., weights_only=True)`` reads the file: PyTorch's restricted unpickler, which builds
tensors and plain containers and refuses every other object, so a .pth carrying code is refused, not run.
"""
from __future__ import annotations

import os
import pickle
import re
import warnings
from collections import OrderedDict
from pathlib import Path

import torch

from .checkpoints import CheckpointError, check_weights, load_checkpoint, save_checkpoint
from .models import ModelConfig, build_generator

SOURCES = ("pytorch-examples-dcgan",)
MAX_PTH_BYTES = 200_000_000


def _read_state_dict(path: Path) -> dict:
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist.")
    if path.stat().st_size > MAX_PTH_BYTES:
        raise CheckpointError(f"{path.name} is larger than {MAX_PTH_BYTES // 1_000_000} MB.")
    try:
        with warnings.catch_warnings():  # "pickle protocol 4 detected": irrelevant here, the load is refused or fine
            warnings.simplefilter("ignore", UserWarning)
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        # PyTorch's restricted unpickler stopped: an object other than tensors and plain containers (a pickle
        # that could run code), or bytes that are no pickle at all. Nothing was built either way.
        why = re.search(r"(Unsupported global: GLOBAL [\w.]+)", str(e))
        raise CheckpointError(f"{path.name} was refused: it holds more than tensors, or is not a file torch.save "
                              f"wrote. Only tensors are read from a .pth (a pickle can run code)"
                              f"{f' ({why.group(1)})' if why else ''}.") from None
    except (RuntimeError, EOFError, OSError, ValueError, AttributeError, TypeError) as e:
        raise CheckpointError(f"{path.name} is not a file torch.save wrote ({e.__class__.__name__}).") from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, (dict, OrderedDict)) or not obj or \
            not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        raise CheckpointError(f"{path.name} is not a state dict (a mapping of names to tensors); save it with "
                              "torch.save(netG.state_dict(), 'netG.pth').")
    prefix = "module."  # nn.DataParallel, as the examples use with --ngpu > 1
    if all(k.startswith(prefix) for k in obj):
        obj = {k[len(prefix):]: v for k, v in obj.items()}
    return dict(obj)


def examples_dcgan_config(sd: dict) -> ModelConfig:
    """nz, ngf and nc read from the shapes of the first and last layers."""
    first, last = sd.get("main.0.weight"), sd.get("main.12.weight")
    if first is None or last is None or first.dim() != 4 or last.dim() != 4:
        raise CheckpointError("This is not the PyTorch-examples DCGAN generator: it has no main.0.weight and "
                              "main.12.weight (the first and last transposed convolutions). Did you pass netD?")
    nz, ngf8 = int(first.shape[0]), int(first.shape[1])
    ngf, nc = int(last.shape[0]), int(last.shape[1])
    if ngf8 != 8 * ngf:
        raise CheckpointError(f"Layer widths do not fit the examples' DCGAN (first layer {ngf8} channels, "
                              f"last {ngf}; expected 8 x {ngf}).")
    try:
        return ModelConfig(kind="examples-dcgan", z_dim=nz, img_shape=(nc, 64, 64), width=ngf)
    except ValueError as e:
        raise CheckpointError(f"Unsupported sizes: {e}") from None


def import_examples_dcgan(pth: str | os.PathLike, out: str | os.PathLike) -> Path:
    """A netG state dict of github.com/pytorch/examples dcgan/main.py -> a checkpoint folder at ``out``."""
    pth = Path(pth)
    sd = _read_state_dict(pth)
    cfg = examples_dcgan_config(sd)
    G = build_generator(cfg)
    check_weights(G, sd, pth.name, "the examples' DCGAN generator (did you pass netD?)",
                  optional=("num_batches_tracked",))  # older PyTorch saved BatchNorm without it
    G.load_state_dict(sd, strict=False)
    config = {"model": cfg.to_dict(), "dataset": "unknown (imported)",
              "imported_from": {"source": "pytorch-examples-dcgan", "file": pth.name},
              "training": {"loss": "nonsaturating"}}
    card = (f"# Imported: {pth.name}\n\nThe DCGAN generator of the PyTorch examples repository "
            f"(nz={cfg.z_dim}, ngf={cfg.width}, nc={cfg.img_shape[0]}, 64x64), converted by `gan-core import` "
            "from a state dict read with torch.load(weights_only=True). It has no discriminator here.\n")
    folder = save_checkpoint(out, config, generator=G.eval(), card=card)
    load_checkpoint(folder)  # what every page will do: fail here, not there
    return folder


def import_generator(source: str, pth: str | os.PathLike, out: str | os.PathLike) -> Path:
    if source != "pytorch-examples-dcgan":
        raise CheckpointError(f"Unknown source {source!r}; supported: {', '.join(SOURCES)}.")
    return import_examples_dcgan(pth, out)
