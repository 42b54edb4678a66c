"""Bring generators trained elsewhere into a checkpoint folder every page opens (config.json + safetensors).

Files come in through ``gan_core.intake.models``: the archive's members are checked before torch.load (stored,
within the file's size), and only ``torch.load(..., weights_only=True)`` reads it: PyTorch's restricted
unpickler, which builds tensors and plain containers and refuses every other object, so a .pth carrying code is
refused, not run. The network a file describes is counted on the meta device before it is built.
"""
from __future__ import annotations

import os
from pathlib import Path

from gan_core.hub.checkpoints import CheckpointError, check_weights, load_checkpoint, save_checkpoint
from gan_core.intake import IntakeError
from gan_core.intake.models import read_state_dict
from gan_core.models import MAX_PARAMETERS, ModelConfig, build_generator, count_parameters

SOURCES = ("pytorch-examples-dcgan", "stylegan2-rosinality", "stylegan2-ada-pkl")


def _read_state_dict(path: Path) -> dict:
    try:
        return read_state_dict(path)
    except IntakeError as e:
        raise CheckpointError(str(e)) from None


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
        return ModelConfig(architecture="examples-dcgan", z_dim=nz, img_shape=(nc, 64, 64), width=ngf)
    except ValueError as e:
        raise CheckpointError(f"Unsupported sizes: {e}") from None


def import_examples_dcgan(pth: str | os.PathLike, out: str | os.PathLike) -> Path:
    """A netG state dict of github.com/pytorch/examples dcgan/main.py -> a checkpoint folder at ``out``."""
    pth = Path(pth)
    sd = _read_state_dict(pth)
    cfg = examples_dcgan_config(sd)
    n = count_parameters(cfg)  # the networks these shapes imply, counted on the meta device: nothing allocated
    if n > MAX_PARAMETERS:
        raise CheckpointError(f"{pth.name} describes a DCGAN with ngf={cfg.width} and nz={cfg.z_dim}: networks of "
                              f"{n / 1e6:,.0f} M parameters; this app opens models of at most "
                              f"{MAX_PARAMETERS / 1e6:.0f} M. Nothing was built.")
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
    folder = save_checkpoint(out, config, {"G": G.eval()}, card=card)
    load_checkpoint(folder)  # what every page will do: fail here, not there
    return folder


def import_generator(source: str, pth: str | os.PathLike, out: str | os.PathLike) -> Path:
    """A generator file of ``source`` (one of ``SOURCES``) -> a checkpoint folder at ``out``."""
    if source not in SOURCES:
        raise CheckpointError(f"Unknown source {source!r}; supported: {', '.join(SOURCES)}.")
    if source.startswith("stylegan2"):
        from gan_core.hub.stylegan2_import import import_stylegan2

        return import_stylegan2(source, pth, out)
    return import_examples_dcgan(pth, out)
