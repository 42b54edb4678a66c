"""Dissection: do the units gan_core.latent.dissection ranks for a digit really draw it?

For mnist-cgan and mnist-dcgan: units are ranked on 400 samples (seed 0), as the Inside G page does. Then, on
1,000 other samples (seed 123), for each class: the top 8 units of the best layer for that class are switched
off together, and so are 8 random units of the same layer (the mean over 5 random draws). Printed: the mean
fall in the classifier's probability of that class, over the samples it reads as that class with nothing
switched off. The last line averages over both models and all classes. Target: top-8 drop >= 3x random-8 drop.

    python bench/dissection.py [--models mnist-cgan mnist-dcgan]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import gan_core
from gan_core.latent.dissection import ablate, sample_inputs, best_layer, class_probs, rank_units, top_units
from gan_core.metrics.scores import load_classifier


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["mnist-cgan", "mnist-dcgan"])
    ap.add_argument("--rank-samples", type=int, default=400)
    ap.add_argument("--test-samples", type=int, default=1000)
    args = ap.parse_args()
    torch.set_num_threads(2)
    C = load_classifier()
    tops, rands = [], []
    for name in args.models:
        G = gan_core.load_generator(name)
        t = time.perf_counter()
        r = rank_units(G, C, n=args.rank_samples, seed=0)
        print(f"{name}: ranked {sum(v['units'] for v in r['layers'].values())} units in "
              f"{time.perf_counter() - t:.1f} s")
        z, y = sample_inputs(G, args.test_samples, 123)
        p0 = class_probs(G, C, z, y)
        read = p0.argmax(1)
        rng = np.random.default_rng(0)
        print(f"  {'class':<6}{'layer':<12}{'top-8 drop':>11}{'random-8':>10}{'samples':>9}")
        for k in range(p0.shape[1]):
            m = read == k
            if not m.any():
                continue
            layer = best_layer(r, k)
            with ablate(G, layer, top_units(r, layer, k, 8)):
                top = float((p0[m, k] - class_probs(G, C, z, y)[m, k]).mean())
            rs = []
            for _ in range(5):
                with ablate(G, layer, rng.choice(r["layers"][layer]["units"], 8, replace=False).tolist()):
                    rs.append(float((p0[m, k] - class_probs(G, C, z, y)[m, k]).mean()))
            tops.append(top)
            rands.append(float(np.mean(rs)))
            print(f"  {k:<6}{layer:<12}{top:>11.3f}{rands[-1]:>10.3f}{int(m.sum()):>9}", flush=True)
    print(f"ratio {np.mean(tops) / max(np.mean(rands), 1e-9):.1f}x")
    print(f"dissection: top-8 drop {np.mean(tops):.3f}, random-8 drop {np.mean(rands):.3f}")


if __name__ == "__main__":
    main()
