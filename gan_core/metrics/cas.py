"""Classification Accuracy Score (Ravuri & Vinyals, NeurIPS 2019): can a classifier learn digits from a
conditional generator's images alone?

A classifier of the shipped architecture is trained only on generated (image, class) pairs, then tested on
real held-out digits. Its floor ("real") is the same classifier, same recipe, trained on the same number of
real digits. A generator whose classes are right but whose variety is poor scores far below the floor: CAS
sees what FID and per-class accuracy miss (Ravuri & Vinyals found BigGAN-deep's ImageNet CAS at 43% top-1
against 73% for real data).

Caveat: the test digits are mnist-5k's fixed held-out 10% (500 digits). The shipped GANs were trained on all of
mnist-5k, so these digits are not unseen by G; the offline machine has no other real digits.

Example:
    >>> cas = classification_accuracy_score(gan_core.load_generator("mnist-cgan"))  # doctest: +SKIP
    >>> cas["cas"], cas["floor_cas"]                                                # doctest: +SKIP
    (0.93, 0.97)
"""
from __future__ import annotations

import functools
from typing import Callable

import torch
from torch import nn

from gan_core.training.classifier import train_classifier
from gan_core.data.datasets import load_mnist5k, split
from gan_core.models import ClassifierConfig
from gan_core.latent.sampling import generate, sample_noise

EPOCHS = 6


def _train_on(images: torch.Tensor, labels: torch.Tensor, epochs: int, seed: int,
              progress: Callable[[int, int], None] | None) -> float:
    """Held-out real accuracy of the shipped classifier architecture trained on (images, labels) only."""
    _, info = train_classifier(epochs=epochs, seed=seed, config=ClassifierConfig(width=16), progress=progress,
                               train_images=images, train_labels=labels)  # the shipped classifier's recipe
    return float(info["heldout_accuracy"])


@functools.lru_cache(maxsize=4)
def floor_cas(n: int | None = None, epochs: int = EPOCHS, seed: int = 0) -> float:
    """The same classifier trained on ``n`` real training digits (all 4,500 when None): CAS's ceiling."""
    train, _ = split(load_mnist5k(), 0.1, seed=0)
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[: n or len(train)]
    return _train_on(train.batch(idx), train.labels[idx], epochs, seed, None)


@torch.no_grad()
def _generated(G: nn.Module, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    z = sample_noise(n, G.z_dim, G.noise, g)
    y = torch.arange(n) % G.num_classes
    return generate(G, z, y).clamp(-1, 1), y


def classification_accuracy_score(G: nn.Module, n: int = 4500, epochs: int = EPOCHS, seed: int = 0,
                                  progress: Callable[[int, int], None] | None = None) -> dict:
    """{"cas", "floor_cas", "n_train", "epochs"} for a conditional 28x28 digit generator (10 classes).

    Raises:
        ValueError: an unconditional generator (it gives no classes to learn from), or not 10 digit classes.
    """
    if not G.num_classes:
        raise ValueError("CAS needs a conditional generator: it trains a classifier on (image, class) pairs.")
    if G.num_classes != 10 or tuple(G.img_shape) != (1, 28, 28):
        raise ValueError("CAS here tests on real MNIST digits: it needs a 10-class 28x28 generator.")
    x, y = _generated(G.eval(), n, seed)
    return {"cas": _train_on(x, y, epochs, seed, progress), "floor_cas": floor_cas(n, epochs, seed),
            "n_train": n, "epochs": epochs}
