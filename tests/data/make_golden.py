"""Write the golden samples tests/gan_core/test_golden_images.py compares with: uint8 images of seeds 0-63 of
every shipped generator (conditional ones: class = seed % 10), from the commit that wrote them.

    python tests/data/make_golden.py      # only when a change is meant to alter the shipped images
"""
from pathlib import Path

import numpy as np
import torch

import gan_core

HERE = Path(__file__).resolve().parent / "golden"
SEEDS = list(range(64))


def samples(name: str) -> np.ndarray:
    torch.set_num_threads(1)   # one summation order, whatever the machine's core count
    G = gan_core.load_generator(name)
    labels = [s % G.num_classes for s in SEEDS] if G.num_classes else None
    return gan_core.sample(G, SEEDS, labels=labels)


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    for name in gan_core.list_pretrained():
        np.savez_compressed(HERE / f"{name}.npz", images=samples(name))
        print(name, (HERE / f"{name}.npz").stat().st_size, "bytes")
