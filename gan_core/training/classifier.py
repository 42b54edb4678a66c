"""Training the digit classifier that gives the metrics their feature space.

It trains on 90% of mnist-5k with small random affine jitter and is scored on the held-out 10%,
which it never sees.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import torch
import torch.nn.functional as F

from gan_core.data.datasets import ImageDataset, load_mnist5k, split
from gan_core.models import ClassifierConfig, build_classifier


def random_affine(x: torch.Tensor, generator: torch.Generator, degrees: float = 10.0, translate: float = 0.1,
                  scale: tuple = (0.9, 1.1)) -> torch.Tensor:
    """A different small rotation/shift/zoom per image (B, C, H, W); background stays at -1."""
    B = x.shape[0]
    ang = (torch.rand(B, generator=generator) * 2 - 1) * math.radians(degrees)
    s = scale[0] + torch.rand(B, generator=generator) * (scale[1] - scale[0])
    t = (torch.rand(B, 2, generator=generator) * 2 - 1) * translate * 2  # grid units span [-1, 1]
    cos, sin = torch.cos(ang) / s, torch.sin(ang) / s
    theta = torch.stack([torch.stack([cos, -sin, t[:, 0]], 1), torch.stack([sin, cos, t[:, 1]], 1)], 1)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


@torch.no_grad()
def accuracy(model, ds: ImageDataset, batch_size: int = 500) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(ds), batch_size):
        x, y = ds.batch(slice(i, i + batch_size)), ds.labels[i:i + batch_size]
        correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(ds)


def train_classifier(epochs: int = 20, batch_size: int = 64, lr: float = 2e-3, seed: int = 0,
                     config: ClassifierConfig | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     train_images: torch.Tensor | None = None,
                     train_labels: torch.Tensor | None = None) -> tuple[torch.nn.Module, dict]:
    """Train on 90% of mnist-5k (or on ``train_images`` (N, 1, 28, 28) in [-1, 1] with ``train_labels``, as
    the Classification Accuracy Score does with generated digits); return the model and its measured
    accuracy on the fixed held-out 10% of mnist-5k.

    Returns:
        (classifier in eval mode, {"heldout_accuracy", "train_size", "heldout_size", "epochs", "wall_time_s"})
    """
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    train, heldout = split(load_mnist5k(), 0.1, seed=0)  # the split is fixed: metrics docs refer to it
    X, Y = train.batch(), train.labels
    if train_images is not None:
        if train_labels is None or len(train_labels) != len(train_images) or len(train_images) == 0:
            raise ValueError("give one label per training image")
        X, Y = train_images.float(), torch.as_tensor(train_labels, dtype=torch.long)
    model = build_classifier(config or ClassifierConfig())
    opt = torch.optim.AdamW(model.parameters(), lr, weight_decay=1e-4)
    steps_per_epoch = math.ceil(len(Y) / batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * steps_per_epoch)
    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(Y), generator=g)
        for i in range(steps_per_epoch):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            x = random_affine(X[idx], g)
            loss = F.cross_entropy(model(x), Y[idx], label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        if progress:
            progress(epoch + 1, epochs)
    model.eval()
    train_acc = accuracy(model, train) if train_images is None else None
    return model, {"heldout_accuracy": accuracy(model, heldout), "train_accuracy": train_acc,
                   "train_size": len(Y), "heldout_size": len(heldout), "epochs": epochs, "seed": seed,
                   "wall_time_s": round(time.perf_counter() - t0, 1)}
