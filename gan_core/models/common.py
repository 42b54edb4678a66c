"""Small pieces shared by the networks."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class Generator(nn.Module):
    """What every generator declares (task noise -> image, or noise -> points for the playground): ``z_dim``,
    ``img_shape``, ``num_classes`` (0: unconditional), ``clusters`` (self-conditioning: z's first entries pick
    one of that many clusters; 0: none) and ``noise`` (how z is drawn: "gaussian" or "uniform"). Callers read
    these; they never probe for them."""
    z_dim: int = 0
    img_shape: tuple = ()
    num_classes: int = 0
    clusters: int = 0
    noise: str = "gaussian"   # build_generator sets it from ModelConfig.noise


class Discriminator(nn.Module):
    """What every discriminator (or critic) declares: ``img_shape``, ``num_classes`` (it is given the class),
    ``clusters`` (it is given the cluster) and ``aux_classes`` (a second head names the class or cluster,
    AC-GAN; 0: none)."""
    img_shape: tuple = ()
    num_classes: int = 0
    clusters: int = 0
    aux_classes: int = 0


def maybe_sn(layer: nn.Module, enabled: bool) -> nn.Module:
    """Wrap ``layer`` in spectral normalisation when ``enabled``."""
    return spectral_norm(layer) if enabled else layer


def as_onehot(y: torch.Tensor | None, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """Labels as (B, num_classes) floats.

    Integer labels become one-hot rows; float rows are used as given, so a blend such as
    0.7 * onehot(3) + 0.3 * onehot(8) morphs one class into another.
    """
    if y is None:
        raise ValueError(f"This model is conditional: pass class labels y (0..{num_classes - 1}).")
    if y.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8):
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
            raise ValueError(f"Class labels must be in 0..{num_classes - 1}.")
        return torch.nn.functional.one_hot(y.long(), num_classes).to(like.dtype)
    if y.dim() != 2 or y.shape[1] != num_classes:
        raise ValueError(f"Soft labels must have shape (B, {num_classes}), got {tuple(y.shape)}.")
    return y.to(like.dtype)
