"""Do the failure presets of /train fail the way they promise? Prints, every 100 steps, G's mean gradient
norm, mean D(x) and D(G(z)), and the class coverage of 256 fixed samples read by mnist-classifier.

"Vanishing gradients on purpose" should drive ||grad G|| towards 0 with D(G(z)) near 0; "Mode collapse on
purpose" should keep the classes with >= 5% of samples well below 10 with one class dominating.

    python bench/failure_presets.py [--steps 800]
"""
from __future__ import annotations

import argparse
import time

import torch

from gan_core.training.presets import preset_config
from gan_core.metrics.scores import class_coverage, load_classifier
from gan_core.training.trainer import Trainer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=800)
    a = ap.parse_args()
    torch.set_num_threads(2)
    C = load_classifier()
    for name in ("Vanishing gradients on purpose", "Mode collapse on purpose"):
        cfg = preset_config(name)
        t = Trainer(cfg)
        z = torch.randn(256, cfg.model.z_dim, generator=torch.Generator().manual_seed(0))
        t0 = time.perf_counter()
        print(name)
        while t.step_count < a.steps:
            h = t.run(100)
            with torch.no_grad():
                cov = class_coverage(C(t.G_ema.eval()(z)))
            mean = {k: sum(m[k] for m in h) / len(h) for k in ("grad_norm_g", "d_real", "d_fake")}
            print(f"  step {t.step_count:5d} ({time.perf_counter() - t0:4.0f} s): |grad G| {mean['grad_norm_g']:.3g}, "
                  f"D(x) {mean['d_real']:.2f}, D(G(z)) {mean['d_fake']:.3f}, classes >= 5%: "
                  f"{cov['classes_covered']}, largest class {max(cov['class_histogram']):.0%}", flush=True)


if __name__ == "__main__":
    main()
