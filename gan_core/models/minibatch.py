"""Discriminator-side remedies for mode collapse. Each makes D see a whole batch (or several samples at once)
instead of one sample, so that a G whose samples all look alike is caught even when each one looks real.

* ``MinibatchStd`` (Karras et al. 2018, Progressive GANs): one extra feature, the average over features of
  their standard deviation across the batch.
* ``MinibatchDiscrimination`` (Salimans et al. 2016): per sample, how close it is to every other sample of the
  batch, through learned projections.
* Packing (PacGAN, Lin et al. 2018): D judges ``pack`` samples concatenated, all real or all fake.
"""
from __future__ import annotations

import torch
from torch import nn


class MinibatchStd(nn.Module):
    """(B, F) -> (B, F + 1): the last feature is mean_f std_b(h[b, f]), the same for every sample.

    Example:
        >>> MinibatchStd()(torch.tensor([[0.0, 2.0], [2.0, 2.0]]))[:, -1]
        tensor([0.5000, 0.5000])
    """

    extra = 1

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        s = h.std(0, unbiased=False).mean() if len(h) > 1 else h.new_zeros(())   # one sample: no spread
        return torch.cat([h, s.expand(len(h), 1)], 1)


class MinibatchDiscrimination(nn.Module):
    """(B, F) -> (B, F + kernels). A learned tensor T maps each sample to ``kernels`` rows of ``dims`` numbers
    M_b; feature b of sample i is sum over j != i of exp(-||M_i,b - M_j,b||_1): large when other samples of
    the batch are close to it in that projection (Salimans et al. 2016, section 3.2).
    """

    def __init__(self, in_features: int, kernels: int = 16, dims: int = 8):
        super().__init__()
        self.kernels, self.dims, self.extra = kernels, dims, kernels
        self.T = nn.Parameter(torch.randn(in_features, kernels * dims) * 0.1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        M = (h @ self.T).view(-1, self.kernels, self.dims).transpose(0, 1)      # (K, B, D)
        l1 = torch.cdist(M, M, p=1)                                              # (K, B, B)
        o = torch.exp(-l1).sum(2).T - 1.0                                        # (B, K), minus exp(0) for j == i
        return torch.cat([h, o], 1)


def remedy_layers(in_features: int, minibatch_std: bool, minibatch_disc: int) -> tuple[nn.Module, int]:
    """The layers to put before D's last linear layer, and how many features they add."""
    layers, extra = [], 0
    if minibatch_disc:
        layers.append(MinibatchDiscrimination(in_features, minibatch_disc))
        extra += minibatch_disc
    if minibatch_std:
        layers.append(MinibatchStd())
        extra += 1
    return nn.Sequential(*layers), extra


def pack(x: torch.Tensor, m: int, training: bool) -> torch.Tensor:
    """(B, C, ...) -> (B/m, m*C, ...): ``m`` consecutive samples side by side in one D input (PacGAN). Out of
    training, a sample is packed with copies of itself (D is only defined on packs), so one point or one image
    can still be judged. A training batch that does not divide by m is completed with its first samples."""
    if m == 1:
        return x
    if not training:
        x = x.repeat_interleave(m, 0)
    elif len(x) % m:
        x = torch.cat([x, x[: m - len(x) % m]])
    return x.reshape(len(x) // m, m * x.shape[1], *x.shape[2:])


def unpack_scores(s: torch.Tensor, m: int, n: int, training: bool) -> torch.Tensor:
    """Scores of packs -> one per sample (n,): in training each sample gets its pack's score (so means over
    the batch are unchanged); out of training each pack already is one sample with its copies."""
    return s if m == 1 or not training else s.repeat_interleave(m)[:n]
