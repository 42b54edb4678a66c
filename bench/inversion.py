"""Inversion: how well gan_core.latent.inversion finds real digits in the shipped generators' latent spaces.

200 real digits of mnist-5k (drawn with a fixed seed from all 5,000, so not the first 200) are inverted, one
at a time, into mnist-dcgan and mnist-cgan (the class searched, not given), with torch on 2 threads. For
each model: the share whose reconstruction the classifier reads as the digit's true class ("agreement"),
the share it reads as whatever it reads in the input, the mean absolute pixel error, and the median seconds
per image. The last line gives the lower agreement of the two models and the median time over all images.
Targets: agreement >= 90% for both, median <= 2 s per image.

A style-based model (mnist-stylegan) is searched in Z, in W (one w for every layer) and in W+ (one w per layer)
on the same digits: one row per space. (The known result, Abdal et al. 2019: W+ reconstructs best.)

    python bench/inversion.py [--n 200] [--models mnist-dcgan mnist-cgan mnist-stylegan]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import gan_core
from gan_core.data.datasets import mnist5k_arrays
from gan_core.metrics.scores import load_classifier
from gan_core.latent.inversion import project, reads_as


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--models", nargs="+", default=["mnist-dcgan", "mnist-cgan"])
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    torch.set_num_threads(2)
    X, y = mnist5k_arrays()
    idx = np.random.default_rng(args.seed).choice(len(X), args.n, replace=False)
    C = load_classifier()
    all_times, agreements = [], []
    print(f"{'model':<24}{'agreement':>10}{'same read':>10}{'pixel err':>10}{'median s':>9}{'p90 s':>7}")
    runs = []
    for name in args.models:
        G = gan_core.load_generator(name)
        runs += [(name, G, s) for s in (("z", "w", "w+") if getattr(G, "has_w", False) else ("z",))]
    for name, G, space in runs:
        times, agree, same, err = [], 0, 0, []
        for i in idx:
            img = X[i].transpose(1, 2, 0)[None]
            t = time.perf_counter()
            r = project(G, img, classifier=C, seed=int(i), space=space)
            times.append(time.perf_counter() - t)
            p_in, p_out = reads_as(C, np.concatenate([img, r["images"]]))
            agree += int(p_out.argmax() == y[i])
            same += int(p_out.argmax() == p_in.argmax())
            err.append(float(np.abs(r["images"].astype(float) - img).mean() / 255))
        if space == "z":
            agreements.append(agree / len(idx))
            all_times += times
        label = name if not getattr(G, "has_w", False) else f"{name} in {space.upper()}"
        print(f"{label:<24}{agree / len(idx):>10.1%}{same / len(idx):>10.1%}{np.mean(err):>10.3f}"
              f"{statistics.median(times):>9.2f}{np.percentile(times, 90):>7.2f}", flush=True)
    print(f"inversion: agreement {100 * min(agreements):.0f}%, median {statistics.median(all_times):.2f} s per image")


if __name__ == "__main__":
    main()
