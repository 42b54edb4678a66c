"""Big StyleGAN2 generators on a laptop CPU: seconds per image for randomly initialised full-width generators
(NVlabs config F widths, read from the same formula their checkpoints follow: min(32768 / side, 512) channels,
8 mapping layers of 512), at 256 px and 1024 px, on 2 torch threads, float32 — and the low-resolution preview the
explorer shows first for a big model (the same synthesis stopped at a coarser block: StyleGAN2's skip outputs give
a real image there).

Targets: <= 1 s per 256 px image, <= 5 s per 1024 px image.

    python bench/stylegan_big.py [--sizes 256 1024] [--repeats 3]
"""
from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from machine import sgemm_gflops  # bench/ is on the path when this file runs
from gan_core.latent.wspace import preview_block
from gan_core.models.stylegan2 import StyleGAN2Generator


def config_f(side: int) -> StyleGAN2Generator:
    n = int(math.log2(side)) - 1
    channels = tuple(min(32768 // (4 * 2 ** i), 512) for i in range(n))
    return StyleGAN2Generator(512, 512, (3, side, side), channels, mapping_depth=8, conv_clamp=256).eval()


@torch.no_grad()
def seconds(fn, repeats: int) -> float:
    fn()                                   # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[256, 1024])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(2)
    print(f"machine: sgemm {sgemm_gflops():.0f} GFLOP/s on 2 threads")
    out = []
    for side in args.sizes:
        torch.manual_seed(0)
        G = config_f(side)
        params = sum(p.numel() for p in G.parameters()) / 1e6
        ws = G.mapping(torch.randn(1, 512))[:, None].expand(-1, G.num_ws, -1)
        full = seconds(lambda: G.synthesis(ws), args.repeats)
        block = preview_block(G)
        prev = seconds(lambda: G.synthesis(ws, stop_at=block), args.repeats)
        pside = 4 * 2 ** block
        print(f"{side:>5} px: {params:5.1f} M parameters, {full:6.2f} s per image; preview {pside} px "
              f"{prev:5.3f} s", flush=True)
        out.append((side, full, pside, prev))
    print("stylegan big: " + ", ".join(f"{s} px {f:.2f} s/image (preview {p} px {q:.2f} s)" for s, f, p, q in out))


if __name__ == "__main__":
    main()
