"""GAN losses, kept apart from the training loop.

Each loss gives the discriminator's loss from its outputs on real and generated samples, and the
generator's loss from the discriminator's output on generated samples. D outputs raw scores (logits):
D(x) as a probability is ``sigmoid(score)`` for the minimax family.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("minimax", "nonsaturating", "lsgan", "wgan-gp", "hinge")
DESCRIPTIONS = {
    "minimax": "The 2014 minimax game: G minimises log(1 - D(G(z))). It saturates: when D confidently "
               "rejects the fakes the gradient for G vanishes.",
    "nonsaturating": "G maximises log D(G(z)) instead: the same fixed point, strong gradients early on.",
    "lsgan": "Least squares (Mao et al. 2017): D regresses real to 1 and fake to 0.",
    "wgan-gp": "Wasserstein distance with a gradient penalty (Gulrajani et al. 2017): D is a critic, not a "
               "classifier.",
    "hinge": "Hinge loss (Lim & Ye 2017; used by SAGAN and BigGAN).",
}
PROBABILITY_LOSSES = ("minimax", "nonsaturating")  # losses whose D output reads as a probability


def discriminator_loss(kind: str, real: torch.Tensor, fake: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Loss the discriminator minimises.

    Args:
        kind: one of ``LOSSES``.
        real, fake: D's raw outputs on real and generated samples, (B,).
        label_smoothing: one-sided label smoothing (Salimans et al. 2016): real targets become
            ``1 - label_smoothing``; fake targets stay 0. Used by the BCE-based and least-squares losses.
    """
    real_target = 1.0 - label_smoothing
    if kind in ("minimax", "nonsaturating"):
        # maximise log D(x) + log(1 - D(G(z)))  ==  minimise BCE(real, 1) + BCE(fake, 0)
        return (F.binary_cross_entropy_with_logits(real, torch.full_like(real, real_target))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    if kind == "lsgan":
        return 0.5 * ((real - real_target) ** 2).mean() + 0.5 * (fake ** 2).mean()
    if kind == "wgan-gp":
        return fake.mean() - real.mean()  # the gradient penalty is added by the trainer
    if kind == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    raise ValueError(f"Unknown loss {kind!r}; choose one of {', '.join(LOSSES)}.")


def generator_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    """Loss the generator minimises, from D's raw outputs on generated samples (B,)."""
    if kind == "minimax":
        # minimise log(1 - D(G(z))) = -softplus(score): flat when D(G(z)) -> 0, hence "saturating"
        return -F.softplus(fake).mean()
    if kind == "nonsaturating":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))  # -log D(G(z))
    if kind == "lsgan":
        return 0.5 * ((fake - 1.0) ** 2).mean()
    if kind in ("wgan-gp", "hinge"):
        return -fake.mean()
    raise ValueError(f"Unknown loss {kind!r}; choose one of {', '.join(LOSSES)}.")


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None = None,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP penalty E[(||grad_x D(x_hat)||_2 - 1)^2] on random points between real and fake."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand(shape, generator=generator).to(real.device)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    out = D(x_hat, y) if y is not None else D(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def d_probability(kind: str, scores: torch.Tensor) -> torch.Tensor:
    """D's output read as "how real": a probability for the minimax losses, the raw score otherwise."""
    return torch.sigmoid(scores) if kind in PROBABILITY_LOSSES else scores
