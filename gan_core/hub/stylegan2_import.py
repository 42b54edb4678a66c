"""StyleGAN2 checkpoints trained elsewhere -> a checkpoint folder of ``models.stylegan2`` (config.json +
G.safetensors) that every page opens. Nothing of the original code is run or copied; each layout is read from
its tensors' names and shapes (widths, depth, size, channels: no table of known models).

- ``stylegan2-rosinality``: rosinality/stylegan2-pytorch. The converted form ``{"g_ema": state_dict,
  "latent_avg": tensor}`` and the training form its train.py saves (``g``, ``d``, ``g_ema``, optimisers and
  ``args``, an ``argparse.Namespace``). Read with ``torch.load(weights_only=True)``; the one class let through is
  ``argparse.Namespace`` (``torch.serialization.safe_globals``). Its filters are stored with the gain of 4 of
  upsampling multiplied in; here they are stored normalised and the gain applied at use, as NVlabs does.
- ``stylegan2-ada-pkl``: NVlabs/stylegan2-ada-pytorch network snapshots, read by ``hub.safe_pickle`` (no code
  from the file runs: see there); G_ema is used.
"""
from __future__ import annotations

import argparse
import math
import os
import pickle
from pathlib import Path

import torch

from gan_core.hub.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from gan_core.models import MAX_PARAMETERS, ModelConfig, build_generator, count_parameters

MAX_FILE_BYTES = 2_000_000_000   # a 1024 px training snapshot (G, D, G_ema, optimisers) is about 1 GB
W_AVG_SAMPLES = 10_000


def _cfg(z_dim, w_dim, img_shape, channels, depth, lr, clamp=0.0, classes=0) -> ModelConfig:
    try:
        return ModelConfig(architecture="stylegan2", z_dim=z_dim, w_dim=w_dim, img_shape=img_shape,
                           channels=tuple(channels), mapping_depth=depth, mapping_lr=lr, conv_clamp=clamp or 0.0,
                           num_classes=classes)
    except ValueError as e:
        raise CheckpointError(f"Unsupported sizes: {e}") from None


def _get(sd: dict, key: str, what: str) -> torch.Tensor:
    t = sd.get(key)
    if not isinstance(t, torch.Tensor):
        raise CheckpointError(f"This is not a {what}: it has no {key}.")
    return t


# ------------------------------------------------------------------ rosinality
def read_rosinality(path: Path) -> tuple[dict, torch.Tensor | None]:
    """(g_ema's state dict, latent_avg or None) of a rosinality checkpoint, through the model-file intake."""
    from gan_core.intake import IntakeError
    from gan_core.intake.models import count_tensors, read_torch_file

    try:
        obj = read_torch_file(path, allowed=(argparse.Namespace,), max_bytes=MAX_FILE_BYTES)
        if not isinstance(obj, dict) or not isinstance(obj.get("g_ema"), dict):
            raise CheckpointError(f"{path.name} is not a rosinality StyleGAN2 checkpoint: it has no 'g_ema' state "
                                  "dict (the converted form has g_ema and latent_avg; train.py's has g, d, g_ema "
                                  "and args).")
        sd = {k: v for k, v in obj["g_ema"].items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
        count_tensors(sd.values(), f"{path.name}'s g_ema")
    except IntakeError as e:
        raise CheckpointError(str(e)) from None
    avg = obj.get("latent_avg")
    return sd, avg if isinstance(avg, torch.Tensor) and avg.numel() <= 4096 else None


def from_rosinality(sd: dict, lr_mul: float = 0.01) -> tuple[ModelConfig, dict]:
    """Our config and state dict for a rosinality Generator's state dict."""
    what = "rosinality StyleGAN2 generator (g_ema)"
    const = _get(sd, "input.input", what)                               # (1, C, 4, 4)
    depth = 0
    while f"style.{depth + 1}.weight" in sd:
        depth += 1
    if depth == 0:
        raise CheckpointError(f"This is not a {what}: it has no style.1.weight (the mapping network).")
    w_dim, z_dim = _get(sd, "style.1.weight", what).shape
    n_up = 0
    while f"convs.{2 * n_up}.conv.weight" in sd:
        n_up += 1
    channels = [int(const.shape[1])] + [int(_get(sd, f"convs.{2 * i + 1}.conv.weight", what).shape[1])
                                        for i in range(n_up)]
    img_c = int(_get(sd, "to_rgb1.conv.weight", what).shape[1])
    cfg = _cfg(int(z_dim), int(w_dim), (img_c, 4 * 2 ** n_up, 4 * 2 ** n_up), channels, depth, lr_mul)
    out = {"const": const[0]}
    for i in range(depth):
        out[f"mapping_layers.{i}.weight"] = sd[f"style.{i + 1}.weight"]
        out[f"mapping_layers.{i}.bias"] = sd[f"style.{i + 1}.bias"]

    def conv(dst: str, src: str, noise: str, up: bool):
        out[f"{dst}.weight"] = _get(sd, f"{src}.conv.weight", what)[0]
        out[f"{dst}.affine.weight"] = sd[f"{src}.conv.modulation.weight"]
        out[f"{dst}.affine.bias"] = sd[f"{src}.conv.modulation.bias"]
        out[f"{dst}.bias"] = sd[f"{src}.activate.bias"]
        out[f"{dst}.noise_strength"] = sd[f"{src}.noise.weight"].reshape(())
        out[f"{dst}.noise_const"] = _get(sd, noise, what)[0, 0]
        if up:
            out[f"{dst}.filter"] = _get(sd, f"{src}.conv.blur.kernel", what) / 4   # stored with the gain of 4
        else:
            out[f"{dst}.filter"] = torch.full((4, 4), 1 / 16)

    def torgb(dst: str, src: str):
        out[f"{dst}.weight"] = sd[f"{src}.conv.weight"][0]
        out[f"{dst}.affine.weight"] = sd[f"{src}.conv.modulation.weight"]
        out[f"{dst}.affine.bias"] = sd[f"{src}.conv.modulation.bias"]
        out[f"{dst}.bias"] = sd[f"{src}.bias"].reshape(-1)

    conv("convs.0", "conv1", "noises.noise_0", False)
    torgb("torgbs.0", "to_rgb1")
    skips = []
    for j in range(2 * n_up):
        conv(f"convs.{j + 1}", f"convs.{j}", f"noises.noise_{j + 1}", j % 2 == 0)
    for i in range(n_up):
        torgb(f"torgbs.{i + 1}", f"to_rgbs.{i}")
        skips.append(_get(sd, f"to_rgbs.{i}.upsample.kernel", what) / 4)
    out["skip_filters"] = torch.stack(skips) if skips else torch.full((1, 4, 4), 1 / 16)
    return cfg, out


# ------------------------------------------------------------------ NVlabs
def read_nvlabs(path: Path):
    """G_ema of an NVlabs stylegan2-ada-pytorch snapshot, as a ``safe_pickle.Persistent``."""
    from gan_core.hub import safe_pickle

    try:
        with open(path, "rb") as f:
            obj, _ = safe_pickle.load(f)   # the restricted unpickler: allow-listed rebuilders only, nothing run
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            RuntimeError, MemoryError) as e:
        raise CheckpointError(f"{path.name} is not a network snapshot this app can read "
                              f"({e.__class__.__name__}: {str(e)[:120]}). Nothing in it was run.") from None
    G = obj.get("G_ema") if isinstance(obj, dict) else None
    if not isinstance(G, safe_pickle.Persistent):
        raise CheckpointError(f"{path.name} is not an NVlabs network snapshot: it has no G_ema network (a "
                              "stylegan2-ada-pytorch .pkl holds G, D, G_ema, augment_pipe and training_set_kwargs).")
    if not G.class_name.endswith("networks.Generator") or "stylegan3" in G.class_name:
        raise CheckpointError(f"{path.name}'s G_ema is a {G.class_name or 'network of unknown type'}; this importer "
                              "reads stylegan2-ada-pytorch's training.networks.Generator only.")
    return G


def from_nvlabs(G) -> tuple[ModelConfig, dict]:
    from gan_core.intake import IntakeError
    from gan_core.intake.models import count_tensors

    what = "stylegan2-ada-pytorch generator"
    sd = G.tensors()
    try:
        count_tensors(sd.values(), "This snapshot's G_ema")
    except IntakeError as e:
        raise CheckpointError(str(e)) from None
    st = G.state
    z_dim, c_dim, w_dim = (int(st.get(k, 0) or 0) for k in ("z_dim", "c_dim", "w_dim"))
    res, img_c = int(st.get("img_resolution", 0) or 0), int(st.get("img_channels", 0) or 0)
    if not (z_dim and w_dim and res and img_c):
        raise CheckpointError(f"This {what} does not say its z_dim, w_dim, img_resolution and img_channels.")
    depth = 0
    while f"mapping.fc{depth}.weight" in sd:
        depth += 1
    fc0 = G.sub("mapping.fc0")
    lr = float(fc0.state.get("bias_gain", 0.01)) if fc0 is not None else 0.01
    log2 = int(round(math.log2(res)))
    if 2 ** log2 != res or res < 4:
        raise CheckpointError(f"img_resolution {res} is not a power of two.")
    sides = [2 ** i for i in range(2, log2 + 1)]
    channels = [int(_get(sd, f"synthesis.b{s}.conv1.weight", what).shape[0]) for s in sides]
    clamps = {G.sub(f"synthesis.b{s}.{n}").state.get("conv_clamp") for s in sides for n in ("conv1", "torgb")
              if G.sub(f"synthesis.b{s}.{n}") is not None}
    clamps.discard(None)
    if len(clamps) > 1:
        raise CheckpointError(f"This {what} clamps its layers differently ({sorted(clamps)}); not supported.")
    cfg = _cfg(z_dim, w_dim, (img_c, res, res), channels, depth, lr, float(clamps.pop()) if clamps else 0.0, c_dim)
    out = {"w_avg": _get(sd, "mapping.w_avg", what), "const": _get(sd, "synthesis.b4.const", what)}
    for i in range(depth):
        out[f"mapping_layers.{i}.weight"] = sd[f"mapping.fc{i}.weight"]
        out[f"mapping_layers.{i}.bias"] = sd[f"mapping.fc{i}.bias"]
    if c_dim:
        out["embed.weight"], out["embed.bias"] = _get(sd, "mapping.embed.weight", what), sd["mapping.embed.bias"]

    def layer(dst: str, src: str):
        for k in ("weight", "bias", "noise_strength", "noise_const", "affine.weight", "affine.bias"):
            out[f"{dst}.{k}"] = _get(sd, f"{src}.{k}", what)
        out[f"{dst}.filter"] = _get(sd, f"{src}.resample_filter", what)

    def torgb(dst: str, src: str):
        for k in ("weight", "bias", "affine.weight", "affine.bias"):
            out[f"{dst}.{k}"] = _get(sd, f"{src}.{k}", what)

    layer("convs.0", "synthesis.b4.conv1")
    torgb("torgbs.0", "synthesis.b4.torgb")
    skips = []
    for i, s in enumerate(sides[1:]):
        layer(f"convs.{2 * i + 1}", f"synthesis.b{s}.conv0")
        layer(f"convs.{2 * i + 2}", f"synthesis.b{s}.conv1")
        torgb(f"torgbs.{i + 1}", f"synthesis.b{s}.torgb")
        skips.append(_get(sd, f"synthesis.b{s}.resample_filter", what))
    out["skip_filters"] = torch.stack(skips) if skips else torch.full((1, 4, 4), 1 / 16)
    return cfg, out


# ------------------------------------------------------------------ both
SOURCES = {"stylegan2-rosinality": "rosinality/stylegan2-pytorch (.pt)",
           "stylegan2-ada-pkl": "NVlabs/stylegan2-ada-pytorch network snapshot (.pkl)"}


@torch.no_grad()
def import_stylegan2(source: str, path: str | os.PathLike, out: str | os.PathLike) -> Path:
    """A StyleGAN2 checkpoint of ``source`` -> a checkpoint folder at ``out`` (G only)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} is not a file." if path.exists() else f"{path} does not exist.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise CheckpointError(f"{path.name} is larger than {MAX_FILE_BYTES // 1_000_000:,} MB.")
    avg = None
    if source == "stylegan2-rosinality":
        sd, avg = read_rosinality(path)
        cfg, state = from_rosinality(sd)
    elif source == "stylegan2-ada-pkl":
        cfg, state = from_nvlabs(read_nvlabs(path))
    else:
        raise CheckpointError(f"Unknown source {source!r}; supported: {', '.join(SOURCES)}.")
    n = count_parameters(cfg)   # the network these shapes imply, on the meta device: nothing allocated yet
    if n > MAX_PARAMETERS:
        raise CheckpointError(f"{path.name} describes a {cfg.img_shape[1]} px StyleGAN2 generator of {n / 1e6:,.0f} M "
                              f"parameters; this app opens models of at most {MAX_PARAMETERS / 1e6:.0f} M. "
                              "Nothing was built.")
    G = build_generator(cfg)
    expected = G.state_dict()
    missing = [k for k in expected if k not in state and k != "w_avg"]
    bad = [k for k, v in state.items() if k in expected and tuple(v.shape) != tuple(expected[k].shape)]
    if missing or bad:
        raise CheckpointError(f"{path.name}'s tensors do not fit a StyleGAN2 generator "
                              f"({'missing ' + missing[0] if missing else 'wrong shape for ' + bad[0]}).")
    G.load_state_dict({k: v.float() for k, v in state.items() if k in expected}, strict=False)
    how_avg = "from the file"
    if avg is not None:
        G.w_avg.copy_(avg.reshape(-1).float())
    elif "w_avg" not in state:      # rosinality's training form keeps none: measured here
        gen = torch.Generator().manual_seed(0)
        G.w_avg.copy_(G.mapping(torch.randn(W_AVG_SAMPLES, G.z_dim, generator=gen)).mean(0))
        how_avg = f"the mean of {W_AVG_SAMPLES:,} mapped random z (the file has none)"
    G.eval()
    config = {"model": cfg.to_dict(), "dataset": "unknown (imported)",
              "imported_from": {"source": source, "file": path.name}, "training": {"loss": "nonsaturating"}}
    card = (f"# Imported: {path.name}\n\nA StyleGAN2 generator from {SOURCES[source]}: {cfg.img_shape[1]} px, "
            f"{cfg.img_shape[0]} channel(s), z {cfg.z_dim}, w {cfg.w_dim}, {cfg.mapping_depth} mapping layers, "
            f"channels per resolution {list(cfg.channels)}, {n / 1e6:.1f} M parameters"
            f"{f', conv_clamp {cfg.conv_clamp:g}' if cfg.conv_clamp else ''}"
            f"{f', {cfg.num_classes} classes' if cfg.num_classes else ''}. Mean w: {how_avg}. Converted by "
            "`gan-core import` without running any code from the file; computed in float32 on the CPU. It has no "
            "discriminator here.\n")
    folder = save_checkpoint(out, config, {"G": G}, card=card)
    load_checkpoint(folder)  # what every page will do: fail here, not there
    return folder
