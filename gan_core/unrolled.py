"""Unrolled GANs (Metz et al. 2017): G is scored by D as it will be a few steps ahead. Used by
``Trainer.generator_step`` when ``unrolled_steps`` > 0: in full for the playground's small D, as a first-order
copy for image models."""
from __future__ import annotations

import copy

import torch

from . import losses
from .clusters import noise_in_clusters


def unrolled_generator_loss(trainer, fake: torch.Tensor) -> torch.Tensor:
    """Metz et al. 2017 in full, for the playground's small D: D's weights are updated ``unrolled_steps``
    times as functions of G (the updates stay in the autograd graph), and G's loss is taken against the
    last of them, so G's gradient includes how D would react to its move. Each unrolled step is Adam-sized:
    the gradient divided by the square root of D's own running second moment (held constant)."""
    from torch.func import functional_call

    cfg, B = trainer.config, trainer.config.batch_size
    params = {n: p.detach().requires_grad_(True) for n, p in trainer.D.named_parameters()}
    state = trainer.opt_d.state
    scale = {}
    for n, p in trainer.D.named_parameters():
        st = state.get(p, {})
        if "exp_avg_sq" in st:
            t = float(st["step"])
            v_hat = st["exp_avg_sq"] / (1 - cfg.beta2 ** t)
            scale[n] = 1.0 / (v_hat.sqrt() + 1e-3)   # a larger epsilon than Adam's: a rarely-moved weight must not make a huge step
        else:
            scale[n] = torch.ones_like(p)
    for _ in range(cfg.unrolled_steps):
        real, _ = trainer.real_batch(B)
        z, _ = trainer.noise(B)
        d_loss = losses.discriminator_loss(cfg.loss, functional_call(trainer.D, params, (real,)),
                                           functional_call(trainer.D, params, (trainer.G(z),)), cfg.label_smoothing)
        grads = torch.autograd.grad(d_loss, list(params.values()), create_graph=True)
        params = {n: p - cfg.lr_d * g * scale[n] for (n, p), g in zip(params.items(), grads)}
    return losses.generator_loss(cfg.loss, functional_call(trainer.D, params, (fake,)))

def unrolled_copy(trainer) -> torch.nn.Module:
    """Metz et al. 2017: a copy of D (and its optimizer state) trained ``unrolled_steps`` more steps on fresh
    batches; G is then scored by where D is heading, not where it is, which takes the profit out of
    jumping from mode to mode. First-order: gradients do not flow back through the copy's updates (the
    paper's full version differentiates through them; this is the cheap variant many implementations use)."""
    cfg, B = trainer.config, trainer.config.batch_size
    D = copy.deepcopy(trainer.D)
    opt = type(trainer.opt_d)(D.parameters(), **trainer.opt_d.defaults)
    opt.load_state_dict(copy.deepcopy(trainer.opt_d.state_dict()))  # its own moments: D's stay as they are
    for _ in range(cfg.unrolled_steps):
        real, y_real = trainer.real_batch(B)
        z, y_fake = trainer.noise(B)
        if cfg.model.conditional or cfg.model.clusters:
            y_fake = y_real
            if cfg.model.clusters:
                z = noise_in_clusters(y_real, cfg.model.z_dim, trainer.G.cluster_offset, cfg.model.noise,
                                      trainer.rng).to(trainer.device)
        with torch.no_grad():
            fake = trainer.G(z, y_fake)
        if trainer.aux_classes:
            s_real, c_real = D.scores_and_classes(trainer.augment(real))
            extra = cfg.aux_weight * torch.nn.functional.cross_entropy(c_real, y_real)
        else:
            s_real, extra = D(trainer.augment(real), y_real), 0.0
        loss = losses.discriminator_loss(cfg.loss, s_real, D(trainer.augment(fake), y_fake), cfg.label_smoothing)
        if cfg.loss == "wgan-gp" and cfg.gp_weight > 0:
            loss = loss + cfg.gp_weight * losses.gradient_penalty(D, real, fake, y_real, trainer.rng)
        opt.zero_grad(set_to_none=True)
        (loss + extra).backward()
        opt.step()
    return D
