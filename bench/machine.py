"""The machine's own speed, printed on the first line of the server benches so that figures from different
machines (these differ by 30% and more) can be read side by side."""
from __future__ import annotations

import time


def sgemm_gflops(threads: int = 2, n: int = 1024, repeats: int = 10) -> float:
    """float32 matrix multiply throughput on ``threads`` threads, GFLOP/s (best of three timings)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(repeats):
                a @ b
            best = min(best, time.perf_counter() - t0)
        return 2 * n ** 3 * repeats / best / 1e9
    finally:
        torch.set_num_threads(old)
