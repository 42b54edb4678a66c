"""The game a GAN plays, one class per task: what a discriminator step and a generator step compute.

The Trainer owns the networks, the optimizers, EMA, the divergence checks and the loop; the objective holds the
game's data and draws its batches, and the Trainer asks it for D's loss and G's loss (after NVlabs' stylegan3 ``training/loss.py``, where the loop calls
``accumulate_gradients(phase, ...)`` and never knows which GAN it runs). The remedies that change a loss plug
in here: the WGAN-GP penalty, AC-GAN's class term, feature matching, unrolled D, DiffAugment.

Example:
    >>> from gan_core.training.config import TrainConfig
    >>> from gan_core.training.trainer import Trainer
    >>> from gan_core.models import ModelConfig
    >>> t = Trainer(TrainConfig(model=ModelConfig(width=8), batch_size=16))
    >>> type(t.objective).__name__
    'NoiseGame'
"""
from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from gan_core.data import drawn_points as drawn
from gan_core.data.datasets import ImageDataset, load_dataset
from gan_core.data.toy import sample_toy
from gan_core.latent.sampling import sample_noise
from gan_core.training import losses
from gan_core.training.clusters import argmax_offsets, find_clusters, noise_in_clusters

if TYPE_CHECKING:
    from gan_core.training.trainer import Trainer

PREVIEW_SEED = 12345   # the fixed noise of the samples shown while training


def diff_translate(x: torch.Tensor, generator: torch.Generator, max_shift: float = 0.125) -> torch.Tensor:
    """DiffAugment's translation (Zhao et al. 2020): shift each image by a random whole number of pixels,
    up to ``max_shift`` of its size, filling with background (-1). Differentiable, so it is applied to real
    and generated images alike and D never sees a distribution G cannot match."""
    B, _, H, W = x.shape
    m = int(H * max_shift + 0.5)
    shifts = torch.randint(-m, m + 1, (B, 2), generator=generator).to(x.device).float()
    theta = torch.zeros(B, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, 0, 2], theta[:, 1, 2] = 2 * shifts[:, 0] / W, 2 * shifts[:, 1] / H
    grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return torch.nn.functional.grid_sample(x + 1, grid, mode="nearest", align_corners=False) - 1


class Objective:
    """What every task's game provides to the Trainer."""

    epoch_size: float = math.inf   # real examples in one pass over the data (inf: drawn from a distribution)

    def __init__(self, trainer: "Trainer", dataset: ImageDataset | None = None):
        # a weak reference: the Trainer owns its objective, and a finished Trainer (its data, networks and any
        # kept graph) is freed at once instead of waiting for the cycle collector
        self.trainer = weakref.proxy(trainer)
        self.config = trainer.config

    def before_step(self, step: int) -> None:
        """Called by the Trainer before each step (0, 1, ...): a schedule (a resolution that grows, a weight
        that ramps) changes here. Nothing by default."""

    def d_loss(self, D: torch.nn.Module, keep_fake: bool = False) -> tuple[torch.Tensor, dict]:
        """D's loss on one fresh batch, and measurements (tensors) of it. ``D`` is the Trainer's, or a copy
        being unrolled ahead of it. With ``keep_fake``, G's graph of this batch's fakes is kept for the
        generator step (``take_kept``)."""
        raise NotImplementedError

    def g_loss(self, D: torch.nn.Module) -> torch.Tensor:
        """G's loss against ``D`` (frozen by the Trainer)."""
        raise NotImplementedError

    def preview_inputs(self, n: int) -> tuple:
        """The fixed inputs of the samples shown while training (about ``n`` of them)."""
        raise NotImplementedError

    def preview(self, G: torch.nn.Module, inputs: tuple) -> torch.Tensor:
        """G's samples for ``inputs``."""
        return G(*inputs)

    def preview_columns(self) -> int:
        """Columns of the preview grid."""
        return 8


class NoiseGame(Objective):
    """Noise -> image (and noise -> points for the playground): G maps z (plus a class, or a cluster it draws
    itself) to a sample, D scores real against generated samples with the run's loss (``losses``)."""

    def __init__(self, trainer: "Trainer", dataset: ImageDataset | None = None):
        super().__init__(trainer)
        cfg = self.config
        self._kept = None   # the last D step's fakes with G's graph, reused by the G step
        self.toy = cfg.model.task == "noise->points"
        self.dataset = None
        self.points = torch.tensor(cfg.points) if cfg.points else None   # the user's own 2D data
        if not self.toy:
            self.dataset = dataset if dataset is not None else load_dataset(cfg.dataset)
            if self.dataset.img_shape != cfg.model.img_shape:
                raise ValueError(f"The model makes {cfg.model.img_shape} images but the data is "
                                 f"{self.dataset.img_shape}.")
            if cfg.model.num_classes > self.dataset.num_classes:
                raise ValueError(f"A model with {cfg.model.num_classes} classes needs labelled data with that "
                                 f"many classes; {self.dataset.name} has {self.dataset.num_classes}.")
            self.real = self.dataset.batch().to(trainer.device)      # (N, C, H, W) in [-1, 1]
            self.labels = self.dataset.labels.to(trainer.device)     # classes, or clusters when self-conditioned
            self.epoch_size = len(self.real)
        if cfg.model.clusters:
            self.self_condition(cfg.model.clusters)

    def self_condition(self, k: int) -> None:
        """Self-conditioning: clusters of the real images (k-means or spectral) take the place of class
        labels for D, and G's cluster offsets make it draw each cluster as often as the real data holds it."""
        t, cfg = self.trainer, self.config
        labels, centres = find_clusters(self.real.cpu(), k, cfg.clustering, cfg.seed)
        self.labels = labels.to(t.device)                              # (N,) cluster of each real image
        t.D.set_cluster_centres(centres)       # a cluster-conditioned D keeps them (an AC-GAN's D names clusters)
        prior = torch.bincount(labels, minlength=k).float().clamp_min(1)  # an empty cluster: rare, not never
        t.G.cluster_offset.copy_(argmax_offsets(prior, cfg.model.noise, seed=cfg.seed))

    # ------------------------------------------------------------------ batches
    def real_batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n real samples and their labels (classes, clusters, or None)."""
        t, m = self.trainer, self.config.model
        if self.points is not None:
            return drawn.sample(self.points, n, t.rng).to(t.device), None
        if self.toy:
            return sample_toy(self.config.dataset, n, t.rng).to(t.device), None
        idx = torch.randint(len(self.real), (n,), generator=t.rng).to(t.device)
        y = self.labels[idx] if m.conditional or m.clusters else None
        return self.real[idx], y

    def noise(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n z drawn as the model's noise says, and the classes asked for (or the clusters G draws from z)."""
        t, m = self.trainer, self.config.model
        z = sample_noise(n, m.z_dim, m.noise, t.rng).to(t.device)
        y = None
        if m.conditional:
            y = torch.randint(m.num_classes, (n,), generator=t.rng).to(t.device)
        elif m.clusters:  # the cluster G draws from z: G reads it itself, D is told it
            y = t.G.cluster_of(z)
        return z, y

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """What D sees of a batch: shifted by DiffAugment when the run asks for it."""
        return diff_translate(x, self.trainer.rng) if self.config.augment == "translation" else x

    # ------------------------------------------------------------------ batches
    def fake_inputs(self, y_real: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """z and labels for a batch of fakes judged beside a real batch with labels ``y_real``: the same classes
        (or clusters), so D must judge quality, not labels."""
        t, m = self.trainer, self.config.model
        z, y_fake = self.noise(self.config.batch_size)
        if m.conditional:
            y_fake = y_real
        elif m.clusters:  # z drawn given the real batch's clusters
            z = noise_in_clusters(y_real, m.z_dim, t.G.cluster_offset, m.noise, t.rng).to(t.device)
            y_fake = y_real
        return z, y_fake

    def generate(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """A batch of fakes for training (with G's graph when gradients are on)."""
        return self.trainer.G(z, y)

    def take_kept(self):
        kept, self._kept = self._kept, None
        return kept

    # ------------------------------------------------------------------ D
    def d_loss(self, D, keep_fake=False):
        cfg, t = self.config, self.trainer
        real, y_real = self.real_batch(cfg.batch_size)
        z, y_fake = self.fake_inputs(y_real)
        with torch.set_grad_enabled(keep_fake):
            fake_g = self.generate(z, y_fake)
        self._kept = (fake_g, y_fake) if keep_fake else None
        fake = fake_g.detach()                                          # no gradient into G from D's loss
        class_loss = None
        if D.aux_classes:  # AC-GAN: D also learns to name the class of real digits
            s_real, c_real = D.scores_and_classes(self.augment(real))
            class_loss = F.cross_entropy(c_real, y_real)
        else:
            s_real = D(self.augment(real), y_real)                          # (B,)
        s_fake = D(self.augment(fake), y_fake)                              # (B,)
        loss = losses.discriminator_loss(cfg.loss, s_real, s_fake, cfg.label_smoothing)
        if class_loss is not None:
            loss = loss + cfg.aux_weight * class_loss
        if cfg.loss == "wgan-gp" and cfg.gp_weight > 0:
            loss = loss + cfg.gp_weight * losses.gradient_penalty(D, real, fake, y_real, t.rng)
        with torch.no_grad():   # measurements only: no graph for them
            stats = {"d_real": losses.d_probability(cfg.loss, s_real).mean(),
                     "d_fake": losses.d_probability(cfg.loss, s_fake).mean()}
        return loss, stats

    # ------------------------------------------------------------------ G
    def g_loss(self, D):
        cfg, t = self.config, self.trainer
        kept = self.take_kept()
        if kept is not None:
            fake, y_fake = kept
        else:
            z, y_fake = self.noise(cfg.batch_size)
            fake = self.generate(z, y_fake)
        # Full unrolling (through D's future updates) for the playground's small D; a first-order copy for
        # images, and in the playground beside feature matching (which needs D's features, not its score) or
        # minibatch discrimination (whose second derivative over the batch's pairs is far too slow).
        full = cfg.unrolled_steps and self.toy and not cfg.feature_matching and not cfg.model.minibatch_disc
        if cfg.unrolled_steps and not full:
            from gan_core.training.unrolled import unrolled_copy

            D = unrolled_copy(self, D, t.opt_d)
            D.requires_grad_(False)
        if full:
            from gan_core.training.unrolled import unrolled_generator_loss

            return unrolled_generator_loss(self, D, t.opt_d, fake)
        if cfg.feature_matching:  # Salimans et al. 2016: ||E f(x) - E f(G(z))||², f = D's last features
            real, y_real = self.real_batch(cfg.batch_size)
            with torch.no_grad():
                f_real = D.penultimate(self.augment(real), y_real).mean(0)
            loss = (D.penultimate(self.augment(fake), y_fake).mean(0) - f_real).pow(2).sum()
            if D.aux_classes:
                loss = loss + cfg.aux_weight * F.cross_entropy(D.scores_and_classes(self.augment(fake))[1], y_fake)
            return loss
        if D.aux_classes:  # AC-GAN: fool D, and be read by D as the class asked for
            s_fake, c_fake = D.scores_and_classes(self.augment(fake))
            return losses.generator_loss(cfg.loss, s_fake) + cfg.aux_weight * F.cross_entropy(c_fake, y_fake)
        return losses.generator_loss(cfg.loss, D(self.augment(fake), y_fake))

    # ------------------------------------------------------------------ preview
    def preview_inputs(self, n):
        """Fixed z (seed ``PREVIEW_SEED``); for a conditional model whole rows of one sample per class, so each
        column of the grid is one class."""
        m = self.config.model
        if m.conditional and m.num_classes <= 16:
            n = max(m.num_classes, n // m.num_classes * m.num_classes)
        z = sample_noise(n, m.z_dim, m.noise, torch.Generator().manual_seed(PREVIEW_SEED))
        y = (torch.arange(n) % m.num_classes) if m.conditional else None
        return z.to(self.trainer.device), None if y is None else y.to(self.trainer.device)

    def preview_columns(self):
        m = self.config.model
        return m.num_classes if m.conditional and m.num_classes <= 16 else 8


class StyleGame(NoiseGame):
    """The noise game with the StyleGAN papers' training parts (Karras et al. 2019, 2020):

    - style mixing: with probability ``style_mixing``, a fake's layers from a random cut on take the w of a
      second z, so no layer can rely on its neighbours sharing one style;
    - the running mean of w (for truncation toward it) follows the fakes' w;
    - fakes are drawn with random noise, so G learns to use it for stochastic detail;
    - lazy R1 (Mescheder et al. 2018): every ``r1_every`` D steps, gamma/2 times the squared gradient of D on real
      images, scaled by ``r1_every`` so that it weighs as much as every step would.
    """

    def __init__(self, trainer: "Trainer", dataset: ImageDataset | None = None):
        super().__init__(trainer, dataset)
        self.d_steps = 0

    def generate(self, z, y):
        t, cfg = self.trainer, self.config
        G = t.G
        w = G.mapping(z)
        if G.training:
            G.track_w_avg(w)
        ws = w[:, None].expand(-1, G.num_ws, -1)
        if cfg.style_mixing > 0:
            w2 = G.mapping(sample_noise(len(z), G.z_dim, cfg.model.noise, t.rng).to(t.device))
            cut = torch.randint(1, G.num_ws, (len(z),), generator=t.rng)
            cut = torch.where(torch.rand(len(z), generator=t.rng) < cfg.style_mixing, cut, G.num_ws).to(t.device)
            later = torch.arange(G.num_ws, device=t.device)[None] >= cut[:, None]       # (N, num_ws)
            ws = torch.where(later[..., None], w2[:, None], ws)
        return G.synthesis(ws, noise_mode="random")

    def d_loss(self, D, keep_fake=False):
        loss, stats = super().d_loss(D, keep_fake)
        cfg, t = self.config, self.trainer
        if D is not t.D or cfg.r1_gamma <= 0:
            return loss, stats
        self.d_steps += 1
        if self.d_steps % cfg.r1_every == 0:
            real, y_real = self.real_batch(cfg.batch_size)
            real = real.detach().requires_grad_(True)
            grad, = torch.autograd.grad(D(self.augment(real), y_real).sum(), real, create_graph=True)
            r1 = grad.pow(2).flatten(1).sum(1).mean()
            loss = loss + cfg.r1_gamma / 2 * r1 * cfg.r1_every
        return loss, stats


OBJECTIVES = {"noise->image": NoiseGame, "noise->points": NoiseGame}   # a task's game; a family may name its own


def objective_for(trainer: "Trainer", dataset: ImageDataset | None = None) -> Objective:
    """The game of the trainer's model (its family's own objective, else its task's), with its data."""
    from gan_core.models import family

    fam = family(trainer.config.model.architecture)
    return (fam.objective or OBJECTIVES[fam.task])(trainer, dataset)
