"""What the StyleGAN paper (Karras et al. 2019) claimed about W, measured on a style-based model of ours.

- Perceptual path length (section 4.1), full paths, epsilon 1e-4: in Z along slerp of z (as metrics.scores does), in W along lerp of w, on
  the same pairs and the same t; distances in the shipped classifier's 128-d features (the paper used VGG16
  LPIPS, which cannot be downloaded here); the 1st-99th percentiles kept, as the paper does. It found W's far lower.
- Linear separability: a logistic regression (scikit-learn) predicts the digit class the classifier reads in
  G(z), from z and from w, on the same samples (3/4 train, 1/4 test); test accuracy. (The paper's measure is
  the conditional entropy of attribute labels given an SVM's side; accuracy is the same idea, stated plainly.)
  A self-conditioned model draws its cluster from z's first entries, so z carries the class fairly directly.
- Style mixing: over pairs A, B the classifier reads as different digits, the share of mixes that keep A's digit
  when B gives the fine styles, and that take B's digit when B gives the coarse styles.

    python bench/stylegan_spaces.py [--model mnist-stylegan] [--n 2000]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import gan_core
from gan_core.latent import wspace as W
from gan_core.latent.sampling import slerp
from gan_core.metrics.scores import load_classifier


def _trim_mean(d: np.ndarray) -> float:
    lo, hi = np.percentile(d, 1, method="lower"), np.percentile(d, 99, method="higher")
    return float(d[(d >= lo) & (d <= hi)].mean())


@torch.no_grad()
def path_lengths(G, C, n: int, eps: float = 1e-4, seed: int = 0, batch: int = 250) -> tuple[float, float]:
    g = torch.Generator().manual_seed(seed)
    dz, dw = [], []
    for i in range(0, n, batch):
        b = min(batch, n - i)
        z0, z1 = torch.randn(b, G.z_dim, generator=g), torch.randn(b, G.z_dim, generator=g)
        t = torch.rand(b, generator=g).double()
        za = slerp(z0.double(), z1.double(), t).float()
        zb = slerp(z0.double(), z1.double(), t + eps).float()
        fa, fb = C.features(G(za).clamp(-1, 1)), C.features(G(zb).clamp(-1, 1))
        dz.append(((fa.double() - fb.double()) ** 2).sum(1) / eps ** 2)
        w0, w1 = G.mapping(z0).double(), G.mapping(z1).double()
        wa = w0.lerp(w1, t[:, None]).float()
        wb = w0.lerp(w1, (t + eps)[:, None]).float()
        xa = G.synthesis(wa[:, None].expand(-1, G.num_ws, -1)).clamp(-1, 1)
        xb = G.synthesis(wb[:, None].expand(-1, G.num_ws, -1)).clamp(-1, 1)
        dw.append(((C.features(xa).double() - C.features(xb).double()) ** 2).sum(1) / eps ** 2)
    return _trim_mean(torch.cat(dz).numpy()), _trim_mean(torch.cat(dw).numpy())


@torch.no_grad()
def separability(G, C, n: int, seed: int = 1) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, G.z_dim, generator=g)
    w = G.mapping(z)
    y = torch.cat([C(G(z[i:i + 500]).clamp(-1, 1)).argmax(1) for i in range(0, n, 500)]).numpy()
    cut = 3 * n // 4
    acc = []
    for X in (z.numpy(), w.numpy()):
        X = (X - X[:cut].mean(0)) / (X[:cut].std(0) + 1e-8)
        clf = LogisticRegression(max_iter=2000).fit(X[:cut], y[:cut])
        acc.append(float(clf.score(X[cut:], y[cut:])))
    return acc[0], acc[1]


@torch.no_grad()
def mixing(G, C, n: int, seed: int = 2) -> dict:
    groups = W.layer_groups(G)
    sa, sb = range(10_000, 10_000 + n), range(20_000, 20_000 + n)
    wa, wb = W.ws_of_seeds(G, sa), W.ws_of_seeds(G, sb)
    read = lambda ws: torch.cat([C(G.synthesis(ws[i:i + 500]).clamp(-1, 1)).argmax(1)  # noqa: E731
                                 for i in range(0, len(ws), 500)])
    ya, yb = read(wa), read(wb)
    differ = ya != yb
    fine = read(W.mix(wa, wb, groups["fine"]))
    coarse = read(W.mix(wa, wb, groups["coarse"]))
    return {"pairs": int(differ.sum()), "fine_keeps_a": float((fine == ya)[differ].float().mean()),
            "coarse_takes_b": float((coarse == yb)[differ].float().mean()),
            "coarse_keeps_a": float((coarse == ya)[differ].float().mean()),
            "fine": W.describe(G, groups["fine"]), "coarse": W.describe(G, groups["coarse"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="mnist-stylegan")
    ap.add_argument("--n", type=int, default=2000, help="paths for PPL, pairs for mixing")
    ap.add_argument("--separability-n", type=int, default=8000)
    args = ap.parse_args()
    torch.set_num_threads(2)
    G = gan_core.load_generator(args.model)
    W.require_w(G)
    C = load_classifier()
    ppl_z, ppl_w = path_lengths(G, C, args.n)
    print(f"PPL (full paths, eps 1e-4, classifier features): Z (slerp) {ppl_z:,.1f}   W (lerp) {ppl_w:,.1f}   "
          f"W/Z {ppl_w / ppl_z:.2f}", flush=True)
    sz, sw = separability(G, C, args.separability_n)
    print(f"Linear separability (logistic regression, test accuracy on the class the classifier reads): "
          f"from z {sz:.1%}   from w {sw:.1%}", flush=True)
    m = mixing(G, C, args.n)
    print(f"Style mixing over {m['pairs']} pairs read as different digits: B's fine styles ({m['fine']}) keep A's "
          f"digit in {m['fine_keeps_a']:.1%}; B's coarse styles ({m['coarse']}) bring B's digit in "
          f"{m['coarse_takes_b']:.1%} (A's digit stays in {m['coarse_keeps_a']:.1%})", flush=True)
    print(f"stylegan spaces: PPL Z {ppl_z:.0f} vs W {ppl_w:.0f}, separability z {sz:.1%} vs w {sw:.1%}, "
          f"fine mix keeps A {m['fine_keeps_a']:.1%}, coarse mix takes B {m['coarse_takes_b']:.1%}")


if __name__ == "__main__":
    main()
