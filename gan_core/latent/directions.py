"""Directions in z worth walking along, in closed form: SeFa (Shen & Zhou 2021, "Closed-Form Factorization of
Latent Semantics in GANs") on the weight each generator declares reads z (``Generator.latent_weight``)."""
from __future__ import annotations

import torch
from torch import nn


def sefa_directions(G: nn.Module, k: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form latent directions (SeFa, Shen & Zhou 2021).

    The top eigenvectors of W^T W, where W (out, z_dim) is G's first layer restricted to z, are the
    unit directions in z that change the first layer's output the most.

    Returns:
        directions (k, z_dim) unit vectors and their eigenvalues (k,), largest first.
    """
    W = G.latent_weight().detach().float().cpu()                      # (out, z_dim)
    eigvals, eigvecs = torch.linalg.eigh(W.T @ W)                      # ascending
    order = torch.argsort(eigvals, descending=True)[:k]
    return eigvecs[:, order].T.contiguous(), eigvals[order]
