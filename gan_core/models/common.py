"""Small pieces shared by the networks."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn


def maybe_sn(layer: nn.Module, enabled: bool) -> nn.Module:
    """Wrap ``layer`` in spectral normalisation when ``enabled``."""
    return _sn(layer) if enabled else layer


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
