"""Unrolled GANs (Metz et al. 2017): G is scored by D as it will be a few steps ahead. Used by the noise
game's G loss (``objectives.NoiseGame.g_loss``) when ``unrolled_steps`` > 0: in full for the playground's small D,
as a first-order copy for image models. Both take D's steps with the objective's own D loss."""
from __future__ import annotations

import copy

import torch

from gan_core.training import losses


def adam_scale(D: torch.nn.Module, opt_d: torch.optim.Optimizer, beta2: float) -> dict[str, torch.Tensor]:
    """Per weight of D, 1 / sqrt of Adam's running second moment (bias-corrected): what makes an unrolled step
    Adam-sized. A weight the optimizer has not moved yet gets 1."""
    scale = {}
    for n, p in D.named_parameters():
        st = opt_d.state.get(p, {})
        if "exp_avg_sq" in st:
            v_hat = st["exp_avg_sq"] / (1 - beta2 ** float(st["step"]))
            scale[n] = 1.0 / (v_hat.sqrt() + 1e-3)   # a larger epsilon than Adam's: a rarely-moved weight must not make a huge step
        else:
            scale[n] = torch.ones_like(p)
    return scale


def unrolled_generator_loss(objective, D: torch.nn.Module, opt_d: torch.optim.Optimizer,
                            fake: torch.Tensor) -> torch.Tensor:
    """Metz et al. 2017 in full, for the playground's small D: D's weights are updated ``unrolled_steps``
    times as functions of G (the updates stay in the autograd graph), and G's loss is taken against the
    last of them, so G's gradient includes how D would react to its move. Each unrolled step is Adam-sized
    (``adam_scale``, held constant). The toy models have no labels and no augmentation, so D's loss here is
    the plain loss of the run."""
    from torch.func import functional_call

    t, cfg = objective.trainer, objective.config
    B = cfg.batch_size
    params = {n: p.detach().requires_grad_(True) for n, p in D.named_parameters()}
    scale = adam_scale(D, opt_d, cfg.beta2)
    for _ in range(cfg.unrolled_steps):
        real, _ = objective.real_batch(B)
        z, _ = objective.noise(B)
        d_loss = losses.discriminator_loss(cfg.loss, functional_call(D, params, (real,)),
                                           functional_call(D, params, (t.G(z),)), cfg.label_smoothing)
        grads = torch.autograd.grad(d_loss, list(params.values()), create_graph=True)
        params = {n: p - cfg.lr_d * g * scale[n] for (n, p), g in zip(params.items(), grads)}
    return losses.generator_loss(cfg.loss, functional_call(D, params, (fake,)))


def unrolled_copy(objective, D: torch.nn.Module, opt_d: torch.optim.Optimizer) -> torch.nn.Module:
    """Metz et al. 2017: a copy of D (and its optimizer state) trained ``unrolled_steps`` more steps on fresh
    batches, with the objective's own D loss; G is then scored by where D is heading, not where it is, which
    takes the profit out of jumping from mode to mode. First-order: gradients do not flow back through the
    copy's updates (the paper's full version differentiates through them; this is the cheap variant many
    implementations use)."""
    D = copy.deepcopy(D).requires_grad_(True)
    opt = type(opt_d)(D.parameters(), **opt_d.defaults)
    opt.load_state_dict(copy.deepcopy(opt_d.state_dict()))  # its own moments: D's stay as they are
    for _ in range(objective.config.unrolled_steps):
        loss, _ = objective.d_loss(D)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return D
