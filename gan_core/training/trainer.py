"""One Trainer for every GAN here: ``step()`` is n_critic discriminator updates then one generator update.

The loop does not know which GAN it runs: the losses come from the model's objective (``gan_core.training.objectives``).
It knows nothing about logging, saving or the UI either: callers pass callbacks to ``run``.

Example:
    >>> from gan_core.training.config import TrainConfig
    >>> from gan_core.training.trainer import Trainer
    >>> from gan_core.models import ModelConfig
    >>> t = Trainer(TrainConfig(model=ModelConfig(width=8), batch_size=16))
    >>> sorted(t.step())[:3]
    ['d_fake', 'd_loss', 'd_real']
"""
from __future__ import annotations

import copy
import time
from typing import Callable, Iterable

import torch

from gan_core.data.datasets import ImageDataset
from gan_core.models import build_discriminator, build_generator
from gan_core.training.config import TrainConfig
from gan_core.training.objectives import objective_for



class TrainingDiverged(RuntimeError):
    """A loss or gradient became NaN/inf (or exploded). The networks keep their last good weights."""

    def __init__(self, step: int, what: str):
        super().__init__(f"Training diverged at step {step}: {what}. The last good weights were kept; "
                         "try a lower learning rate, a different loss, or spectral norm in D.")
        self.step = step


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


Callback = Callable[["Trainer", dict], None]


class Trainer:
    """Trains a generator G against a discriminator D.

    Args:
        config: the run's settings.
        dataset: image data (defaults to ``load_dataset(config.dataset)``); ignored for toy models. The
            objective holds it, with the batches drawn from it.
    """

    def __init__(self, config: TrainConfig, dataset: ImageDataset | None = None):
        self.config = cfg = config
        self.device = resolve_device(cfg.device)
        torch.manual_seed(cfg.seed)  # weight init and dropout masks
        self.rng = torch.Generator().manual_seed(cfg.seed)  # real batches, noise, labels
        self.G = build_generator(cfg.model).to(self.device)
        self.D = build_discriminator(cfg.model).to(self.device)
        # the game: its data, D's and G's losses, preview inputs. Made before the EMA copy of G, which must
        # start with whatever the game sets in G (a self-conditioned G's cluster offsets).
        self.objective = objective_for(self, dataset)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        if cfg.optimizer == "adam":
            self.opt_g = torch.optim.Adam(self.G.parameters(), cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
            self.opt_d = torch.optim.Adam(self.D.parameters(), cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
        else:
            self.opt_g = torch.optim.SGD(self.G.parameters(), cfg.lr_g)
            self.opt_d = torch.optim.SGD(self.D.parameters(), cfg.lr_d)
        self.step_count = 0
        self.images_seen = 0
        self.should_stop = False

    # ------------------------------------------------------------------ updates
    def _check(self, loss: torch.Tensor, grad_norm: torch.Tensor, who: str) -> None:
        if not torch.isfinite(loss):
            raise TrainingDiverged(self.step_count, f"the {who} loss is {loss.item()}")
        if not torch.isfinite(grad_norm) or grad_norm > self.config.max_grad_norm:
            raise TrainingDiverged(self.step_count, f"the {who} gradient norm is {grad_norm.item():.3g}")

    def discriminator_step(self, keep_fake: bool = False) -> dict:
        """(1) Update D on the objective's loss (for the classic game: maximise log D(x) + log(1 - D(G(z))),
        or the chosen loss's equivalent).

        keep_fake: the objective keeps G's graph for this batch of fakes, so the generator step can reuse it
        instead of running G again (G has not changed in between; pytorch/examples' DCGAN does the same).
        """
        loss, stats = self.objective.d_loss(self.D, keep_fake)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.D.parameters(), float("inf"))
        self._check(loss, grad_norm, "discriminator")
        self.opt_d.step()
        self.images_seen += self.config.batch_size
        return {"d_loss": loss.item(), "grad_norm_d": grad_norm.item(), **{k: v.item() for k, v in stats.items()}}

    def generator_step(self) -> dict:
        """(2) Update G on the objective's loss (make D call its samples real), with D frozen."""
        self.D.requires_grad_(False)  # only G's gradients are needed here
        try:
            loss = self.objective.g_loss(self.D)
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            self.D.requires_grad_(True)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.G.parameters(), float("inf"))
        self._check(loss, grad_norm, "generator")
        self.opt_g.step()
        self._update_ema()
        return {"g_loss": loss.item(), "grad_norm_g": grad_norm.item()}

    @torch.no_grad()
    def _update_ema(self) -> None:
        decay = self.config.ema_decay
        if decay == 0:
            self.G_ema.load_state_dict(self.G.state_dict())
            return
        # warm-up: early on the average follows G closely, so the EMA is useful from the first minute
        decay = min(decay, (1 + self.step_count) / (10 + self.step_count))
        ema_p, p = list(self.G_ema.parameters()), list(self.G.parameters())
        torch._foreach_lerp_(ema_p, p, 1.0 - decay)
        for be, b in zip(self.G_ema.buffers(), self.G.buffers()):
            be.copy_(b)

    def step(self, n_critic: int | None = None) -> dict:
        """n_critic discriminator updates (the config's unless given), then one generator update.
        Returns the step's measurements."""
        t0 = time.perf_counter()
        n_critic = n_critic or self.config.n_critic
        self.objective.before_step(self.step_count)
        self.G.train(), self.D.train()
        for i in range(n_critic):
            d = self.discriminator_step(keep_fake=i == n_critic - 1)
        g = self.generator_step()
        self.step_count += 1
        dt = time.perf_counter() - t0
        return {"step": self.step_count, **d, **g,
                "images_per_s": self.config.batch_size * n_critic / max(dt, 1e-9),
                "epoch": self.images_seen / self.objective.epoch_size}

    def phase(self, which: str) -> dict:
        """One phase of a step on its own, for slow motion: "D" (one discriminator update) or "G" (one
        generator update, which completes a step and is counted as one)."""
        self.G.train(), self.D.train()
        if which == "D":
            return self.discriminator_step()
        if which != "G":
            raise ValueError(f"A phase is 'D' or 'G', not {which!r}.")
        self.objective.before_step(self.step_count)
        m = self.generator_step()
        self.step_count += 1
        return {"step": self.step_count, **m}

    def run(self, steps: int, callbacks: Iterable[Callback] = ()) -> list[dict]:
        """Train for ``steps`` steps, calling each ``callback(trainer, metrics)`` after every step.

        A callback may set ``trainer.should_stop = True`` to end the run early.
        """
        callbacks, history = list(callbacks), []
        self.should_stop = False
        for _ in range(steps):
            m = self.step()
            history.append(m)
            for cb in callbacks:
                cb(self, m)
            if self.should_stop:
                break
        return history

    def checkpoint_config(self) -> dict:
        """What config.json records for this run."""
        from gan_core import __version__

        training = self.config.to_dict()
        return {"model": training.pop("model"), "training": training, "steps": self.step_count,
                "gan_core_version": __version__}   # each setting once: the networks under "model", the rest under "training"
