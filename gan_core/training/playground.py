"""The 2D playground's measurements: what D thinks of every point of the plane, where G sends a grid of
noise, which way G's gradient pushes its points, and how far the generated density is from the real one.

Example:
    >>> pg = Playground(playground_config(seed=0, batch_size=32))
    >>> _ = pg.train(2)
    >>> pg.view(n_points=50)["fake"].shape
    (50, 2)
"""
from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
import torch

from gan_core.data import drawn_points as drawn
from gan_core.data.toy import TOY_STD, sample_toy, toy_modes
from gan_core.training.losses import PROBABILITY_LOSSES, generator_loss
from gan_core.models import ModelConfig
from gan_core.latent.sampling import sample_noise
from gan_core.training.timeline import keep_thinned
from gan_core.training.config import TrainConfig
from gan_core.training.trainer import Trainer

EXTENT = 3.0        # the plane shown: [-3, 3] x [-3, 3]
SNAPSHOT_EVERY = 50  # steps between the generated points kept for comparing runs
DENSITY_BINS = 40   # grid for the KL/JS estimates

PLAYGROUND_PRESETS = {
    "Default": dict(
        why="Adam, non-saturating loss, one D step per G step: G spreads over every mode in a few hundred "
            "steps."),
    "Mode collapse on purpose": dict(
        lr_g=2e-3, lr_d=1e-4,
        why="G learns 20x faster than D: it piles all its points onto whichever mode D currently likes, then "
            "jumps to the next one — one mode at a time instead of all eight."),
    "Strong discriminator": dict(
        loss="minimax", lr_d=3e-3, lr_g=3e-4, n_critic=5,
        why="The saturating 2014 loss against a D that learns 10x faster and takes 5 steps per G step: "
            "compare D's heatmap and G's progress with the Default preset."),
    "WGAN-GP": dict(
        loss="wgan-gp", lr_g=1e-3, lr_d=1e-3, beta1=0.0, beta2=0.9, n_critic=5,
        why="A critic instead of a classifier: the heatmap is a smooth score surface, not a probability."),
}


def playground_config(dataset: str = "ring8", noise_dim: int = 2, noise: str = "gaussian", width: int = 128,
                      depth: int = 3, optimizer: str = "adam", lr_g: float = 1e-3, lr_d: float = 1e-3,
                      loss: str = "nonsaturating", n_critic: int = 1, batch_size: int = 256, seed: int = 0,
                      beta1: float = 0.5, beta2: float = 0.999, minibatch_std: bool = False,
                      minibatch_disc: int = 0, pack: int = 1, feature_matching: bool = False,
                      unrolled_steps: int = 0, spectral_norm: bool = False, points=()) -> TrainConfig:
    """A TrainConfig for the small MLPs on 2D data, with the playground's defaults (and any remedy).
    Your own data: dataset "drawn" and ``points`` ((x, y), ...) (see gan_core.data.drawn_points)."""
    if noise_dim not in (1, 2):
        raise ValueError("The playground's noise is 1D or 2D.")
    return TrainConfig(model=ModelConfig(architecture="toy", img_shape=(2,), z_dim=noise_dim, width=width, depth=depth,
                                         noise=noise, minibatch_std=minibatch_std, minibatch_disc=minibatch_disc,
                                         pack=pack, spectral_norm=spectral_norm),
                       dataset=dataset, loss=loss, optimizer=optimizer, lr_g=lr_g, lr_d=lr_d, beta1=beta1,
                       beta2=beta2, n_critic=n_critic, batch_size=batch_size, seed=seed, ema_decay=0.0,
                       feature_matching=feature_matching, unrolled_steps=unrolled_steps,
                       points=tuple(map(tuple, points)))


def preset(name: str, **overrides) -> TrainConfig:
    if name not in PLAYGROUND_PRESETS:
        raise ValueError(f"Unknown playground preset {name!r}.")
    p = {k: v for k, v in PLAYGROUND_PRESETS[name].items() if k != "why"}
    return playground_config(**{**p, **overrides})


def modes_covered(points: torch.Tensor, dataset: str, min_share: float | None = None) -> int | None:
    """Mixture components that hold at least ``min_share`` of the points within 3 standard deviations
    of their centre (the measure of the unrolled-GAN and VEEGAN papers). None for non-mixtures.

    min_share defaults to a quarter of a fair share, 1/(4K).
    """
    centres = toy_modes(dataset)
    if centres is None:
        return None
    k = len(centres)
    min_share = 1 / (4 * k) if min_share is None else min_share
    d = torch.cdist(points.float(), centres)          # (N, K)
    near, idx = d.min(1)
    hit = near <= 3 * TOY_STD[dataset]
    counts = torch.bincount(idx[hit], minlength=k).float() / len(points)
    return int((counts >= min_share).sum())


def density(points: torch.Tensor, bins: int = DENSITY_BINS, extent: float = EXTENT) -> torch.Tensor:
    """Normalised 2D histogram over the shown square (points outside count in the nearest edge bin)."""
    idx = ((points.clamp(-extent, extent - 1e-6) + extent) / (2 * extent) * bins).long()
    flat = idx[:, 0] * bins + idx[:, 1]
    return torch.bincount(flat, minlength=bins * bins).double().view(bins, bins) / len(points)


def divergences(real: torch.Tensor, fake: torch.Tensor, eps: float = 1e-6) -> dict:
    """KL(real || generated) and Jensen-Shannon (in nats; JS <= log 2) between binned densities.

    eps smooths empty bins so KL stays finite; it is a grid estimate, good for trends, not exact values.
    """
    p, q = density(real) + eps, density(fake) + eps
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    kl = float((p * (p / q).log()).sum())
    js = float(0.5 * (p * (p / m).log()).sum() + 0.5 * (q * (q / m).log()).sum())
    return {"kl": kl, "js": js}


@dataclass
class PhaseLog:
    """What the last update did, for the slow-motion explanation."""
    phase: str
    text: str


MAX_HISTORY = 20_000    # measurement rows kept per playground; older ones are thinned past this
MAX_STEPS = 50_000      # a playground stops training here (the ring is covered after ~1,300 steps)
class FairSlots:
    """Server-wide training slots for playgrounds, handed out first come, first served: a playground that
    releases a slot and asks again goes to the back of the line, so it cannot take the slot straight back
    from one that was waiting (a plain semaphore lets the releasing thread win). With ``Playground.train``'s
    per-turn budget, every playground gets the same share of the slots, whatever its settings cost."""

    def __init__(self, n: int):
        self.n = n
        self._free = n
        self._line: deque = deque()
        self._cond = threading.Condition()

    def acquire(self, timeout: float | None = None) -> bool:
        me = object()
        end = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        with self._cond:
            self._line.append(me)
            try:
                while not (self._free > 0 and self._line[0] is me):
                    left = None if end is None else end - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._cond.wait(left)
                self._free -= 1
                return True
            finally:
                self._line.remove(me)
                self._cond.notify_all()

    def release(self) -> None:
        with self._cond:
            self._free += 1
            self._cond.notify_all()


# Server-wide: at most this many playgrounds train at the same moment (the others wait their turn), so a room
# of students pressing Play shares the cores instead of each taking a thread of them.
TRAINING_SLOTS = FairSlots(int(os.environ.get("GAN_STUDIO_MAX_PLAYGROUNDS", max(1, (os.cpu_count() or 2) - 1))))


class PlaygroundFull(RuntimeError):
    """This playground has trained MAX_STEPS steps."""


class Playground:
    """A toy GAN and everything the playground draws about it."""

    def __init__(self, config: TrainConfig, eval_points: int = 2000):
        if config.model.task != "noise->points":
            raise ValueError("The playground trains the small 2D models (architecture 'toy').")
        self.config = config
        self.trainer = Trainer(config)
        g = torch.Generator().manual_seed(config.seed + 1)
        if config.points:
            self.real_eval = drawn.sample(torch.tensor(config.points), eval_points, g)  # fixed: no flicker
            self.modes = drawn.find_modes(np.array(config.points))
        else:
            self.real_eval = sample_toy(config.dataset, eval_points, g)
            self.modes = None
        self.z_eval = sample_noise(eval_points, config.model.z_dim, config.model.noise, g)
        self.history: list[dict] = []
        self.snapshots: list[tuple[int, np.ndarray]] = []   # (step, 500 generated points) every 50 steps
        self.owed = 0.0                 # slot seconds this playground used beyond its turns (paid back by waiting)
        self.last_turn_seconds = 0.0

    @property
    def step_count(self) -> int:
        return self.trainer.step_count

    def train(self, steps: int, wait: float | None = None, budget: float | None = None) -> list[dict]:
        """Train up to ``steps`` steps while holding one of the server's TRAINING_SLOTS, for at most ``budget``
        seconds (one step at least; None: all ``steps``; the page passes the time left in its redraw). With
        ``wait`` (seconds), returns [] when no slot frees up in that time
        (the caller shows that it waits its turn).

        A turn that runs over its budget (one step of costly settings can take a second) is paid back: the
        playground skips its next turns until the extra time is made up (``owed``), so settings that make a
        step 100x dearer do not buy a bigger share of the slot. Raises PlaygroundFull at MAX_STEPS."""
        if self.step_count >= MAX_STEPS:
            raise PlaygroundFull(f"This playground has trained {MAX_STEPS:,} steps, the most one may; press "
                                 "Reset to start again.")
        if budget is not None and self.owed > 0:
            self.owed = max(0.0, self.owed - max(budget, 0.01))
            return []
        if not TRAINING_SLOTS.acquire(timeout=wait):
            return []
        start = time.perf_counter()
        try:
            return self._train(min(steps, MAX_STEPS - self.step_count),
                               until=None if budget is None else start + max(0.0, budget))
        finally:
            TRAINING_SLOTS.release()
            used = time.perf_counter() - start
            if budget is not None:
                self.owed += max(0.0, used - budget)
            self.last_turn_seconds = used

    def _train(self, steps: int, until: float | None = None) -> list[dict]:
        rows = []
        for _ in range(steps):
            if rows and until is not None and time.perf_counter() >= until:
                break
            m = self.trainer.step()
            if m["step"] % 10 == 0 or m["step"] == 1:
                m.update(self.measure())
            if m["step"] % SNAPSHOT_EVERY == 0 or m["step"] == 1:
                keep_thinned(self.snapshots, (m["step"], self.fake(500).numpy()), 100)
            rows.append(m)
            keep_thinned(self.history, m, MAX_HISTORY)
        return rows

    def d_step(self) -> PhaseLog:
        """Slow motion, phase 1: one discriminator update only."""
        t = self.trainer
        m = t.phase("D")
        return PhaseLog("D", f"D update: D saw {t.config.batch_size} real and {t.config.batch_size} generated "
                             f"points and moved its boundary to separate them better (mean D(real) "
                             f"{m['d_real']:.2f}, mean D(fake) {m['d_fake']:.2f}). G did not change.")

    def g_step(self) -> PhaseLog:
        """Slow motion, phase 2: one generator update, counted as a step."""
        t = self.trainer
        m = t.phase("G")
        row = {"step": m["step"], "g_loss": m["g_loss"], "grad_norm_g": m["grad_norm_g"], **self.measure()}
        keep_thinned(self.history, row, MAX_HISTORY)
        return PhaseLog("G", f"G update: with D frozen, G moved its points along the arrows, towards where D "
                             f"says 'real' (gradient norm {m['grad_norm_g']:.3g}). D did not change.")

    @torch.no_grad()
    def fake(self, n: int | None = None) -> torch.Tensor:
        z = self.z_eval if n is None else self.z_eval[:n]
        return self.trainer.G.eval()(z)

    def measure(self) -> dict:
        fake = self.fake()
        out = divergences(self.real_eval, fake)
        out["modes"] = (self.modes.covered(fake) if self.modes is not None
                        else modes_covered(fake, self.config.dataset))
        return out

    def mode_centres(self) -> np.ndarray | None:
        """The centres of the real data's modes (K, 2): the mixture's, or those clustering found in your own
        points; None for data without separate modes (moons, spiral, line)."""
        if self.modes is not None:
            return self.modes.centres
        c = toy_modes(self.config.dataset)
        return None if c is None else c.numpy()

    @torch.no_grad()
    def heatmap(self, res: int = 60) -> tuple[np.ndarray, np.ndarray]:
        """D over the plane: axis values (res,) and a (res, res) map [y, x]; a probability for the minimax
        family, the raw score for the others."""
        ax = torch.linspace(-EXTENT, EXTENT, res)
        yy, xx = torch.meshgrid(ax, ax, indexing="ij")
        pts = torch.stack([xx.flatten(), yy.flatten()], 1)
        s = self.trainer.D.eval()(pts)
        if self.config.loss in PROBABILITY_LOSSES:
            s = s.sigmoid()
        return ax.numpy(), s.view(res, res).numpy()

    @torch.no_grad()
    def warped_grid(self, lines: int = 11, per_line: int = 40) -> list[np.ndarray]:
        """Where G sends straight lines of noise: for 2D noise a square grid over +-2 (or +-1 uniform),
        for 1D noise the single line. Each item is a (per_line, 2) polyline."""
        m = self.config.model
        r = 1.0 if m.noise == "uniform" else 2.0
        t = torch.linspace(-r, r, per_line)
        if m.z_dim == 1:
            zs = [t[:, None]]
        else:
            zs = []
            for v in torch.linspace(-r, r, lines):
                zs.append(torch.stack([t, torch.full_like(t, v)], 1))
                zs.append(torch.stack([torch.full_like(t, v), t], 1))
        G = self.trainer.G.eval()
        return [G(z).numpy() for z in zs]

    def gradient_arrows(self, n: int = 150) -> tuple[np.ndarray, np.ndarray]:
        """Generated points (n, 2) and the direction G's loss pushes each one, -d loss / d x (n, 2)."""
        x = self.fake(n).clone().requires_grad_(True)
        D = self.trainer.D.eval()
        loss = generator_loss(self.config.loss, D(x))
        (g,) = torch.autograd.grad(loss * len(x), x)
        return x.detach().numpy(), (-g).numpy()

    def view(self, n_points: int = 1000) -> dict:
        """Everything the plot draws, as numpy arrays."""
        return {"real": self.real_eval[:n_points].numpy(), "fake": self.fake(n_points).numpy()}
