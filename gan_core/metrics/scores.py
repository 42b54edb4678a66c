"""GAN metrics in the feature space of the shipped digit classifier (Inception weights are not reachable).

Every score comes with its floor: the same metric between two disjoint halves of the real data, i.e. the
best a perfect generator could expect to get with this many samples.

Example:
    >>> import gan_core, gan_core.metrics.scores as M
    >>> report = M.evaluate(gan_core.load_generator("mnist-dcgan"), n_samples=1000)   # doctest: +SKIP
    >>> report["fid"], report["floor_fid"]                                           # doctest: +SKIP
"""
from __future__ import annotations

import functools
import math
import time
import warnings
from typing import Callable

import numpy as np
import torch
from torch import nn

from gan_core.data.datasets import load_mnist5k
from gan_core.latent.sampling import generate, sample_noise, slerp, truncate

# torchmetrics warns that KID/IS keep features in memory: at 128 floats per image that is a few MB here
warnings.filterwarnings("ignore", message=r"Metric `(Kernel Inception Distance|InceptionScore)` will save")

Progress = Callable[[str, float], None]  # (what is running, fraction done in [0, 1])
COVERAGE_MIN_SHARE = 0.05                  # a class counts as covered with >= 5% of samples


class ClassifierFeatures(nn.Module):
    """The classifier's penultimate layer as a torchmetrics feature extractor (images in [-1, 1])."""

    def __init__(self, classifier: nn.Module, batch_size: int = 1000):
        super().__init__()
        self.classifier, self.batch_size = classifier.eval(), batch_size
        self.num_features = classifier.feature_dim

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.classifier.features(x[i:i + self.batch_size])
                          for i in range(0, len(x), self.batch_size)])  # (N, feature_dim)


class ClassifierLogits(ClassifierFeatures):
    """The classifier's logits, for torchmetrics' InceptionScore."""

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.classifier(x[i:i + self.batch_size]) for i in range(0, len(x), self.batch_size)])


@functools.lru_cache(maxsize=1)
def load_classifier() -> nn.Module:
    """The shipped ``pretrained/mnist-classifier`` in eval mode."""
    from gan_core import resolve_checkpoint
    from gan_core.hub.checkpoints import load_checkpoint

    return load_checkpoint(resolve_checkpoint("mnist-classifier")).classifier.requires_grad_(False)


# ----------------------------------------------------------------------------- the metrics

def fid(real: torch.Tensor, fake: torch.Tensor, classifier: nn.Module) -> float:
    """Frechet distance between Gaussians fitted to classifier features (Heusel et al. 2017). Lower is better."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    m = FrechetInceptionDistance(feature=ClassifierFeatures(classifier), normalize=True)
    m.update(real, real=True)
    m.update(fake, real=False)
    return float(m.compute())


def kid(real: torch.Tensor, fake: torch.Tensor, classifier: nn.Module, seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al. 2018): unbiased MMD^2 with a cubic kernel, mean and std
    over 50 random subsets. Lower is better; ~0 for the same distribution."""
    from torchmetrics.image.kid import KernelInceptionDistance

    size = min(1000, len(real), len(fake))
    m = KernelInceptionDistance(feature=ClassifierFeatures(classifier), subsets=50, subset_size=size, normalize=True)
    m.update(real, real=True)
    m.update(fake, real=False)
    with torch.random.fork_rng():
        torch.manual_seed(seed)  # torchmetrics draws the subsets from the global RNG
        mean, std = m.compute()
    return float(mean), float(std)


def inception_score(images: torch.Tensor, classifier: nn.Module, seed: int = 0) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) from the classifier's logits, over 10 splits (Salimans et al. 2016).
    Higher is better; at most the number of classes (10)."""
    from torchmetrics.image.inception import InceptionScore

    m = InceptionScore(feature=ClassifierLogits(classifier), splits=10)
    with torch.random.fork_rng():
        torch.manual_seed(seed)  # torchmetrics shuffles before splitting
        m.update(images)
        mean, std = m.compute()
    return float(mean), float(std)


def _kth_nn_radii(feats: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    """Distance from each point to its k-th nearest other point in the same set, (N,)."""
    radii = []
    for i in range(0, len(feats), chunk):
        d = torch.cdist(feats[i:i + chunk], feats)                  # (chunk, N)
        radii.append(d.kthvalue(k + 1, dim=1).values)               # +1: the point itself is at distance 0
    return torch.cat(radii)


def _inside_manifold(queries: torch.Tensor, support: torch.Tensor, radii: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """For each query: is it inside at least one support point's k-NN ball? (M,) bool."""
    out = []
    for i in range(0, len(queries), chunk):
        d = torch.cdist(queries[i:i + chunk], support)             # (chunk, N)
        out.append((d <= radii.unsqueeze(0)).any(1))
    return torch.cat(out)


def precision_recall(real_feats: torch.Tensor, fake_feats: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) with k-NN manifolds.

    Precision: share of fakes inside the real manifold (quality). Recall: share of reals inside the fake
    manifold (variety). Both higher is better, at most 1.
    """
    real_feats, fake_feats = real_feats.double(), fake_feats.double()
    precision = _inside_manifold(fake_feats, real_feats, _kth_nn_radii(real_feats, k)).float().mean().item()
    recall = _inside_manifold(real_feats, fake_feats, _kth_nn_radii(fake_feats, k)).float().mean().item()
    return precision, recall


def class_coverage(logits: torch.Tensor, num_classes: int = 10) -> dict:
    """Mode-collapse detector: which classes the classifier sees among unconditional samples.

    Returns the histogram (shares per class), classes with at least 5% of samples, and the KL divergence
    of the histogram from uniform (0 = perfectly balanced, log(10) ~ 2.30 = a single class).
    """
    pred = logits.argmax(1)
    hist = torch.bincount(pred, minlength=num_classes).double() / len(pred)
    nz = hist[hist > 0]
    kl = float((nz * (nz * num_classes).log()).sum())
    return {"class_histogram": [round(float(h), 4) for h in hist], "classes_covered": int((hist >= COVERAGE_MIN_SHARE).sum()),
            "kl_from_uniform": kl}


def digit_readiness(logits: torch.Tensor, threshold: float = 0.9) -> dict:
    """How many samples look like a clear digit: the share the classifier reads with probability >=
    ``threshold``, and how many different classes those confident samples cover.

    The "time to digits" criterion of the live-training page: at least 80% confident, at least 9 classes.
    """
    prob, pred = logits.softmax(1).max(1)
    sure = prob >= threshold
    return {"confident_share": float(sure.float().mean()),
            "confident_classes": int(pred[sure].unique().numel()),
            "digits_ready": bool(sure.float().mean() >= 0.8 and pred[sure].unique().numel() >= 9)}


@torch.no_grad()
def conditional_accuracy(G: nn.Module, classifier: nn.Module, n: int = 1000, seed: int = 0,
                         truncation: float = 1.0) -> dict:
    """How often the classifier reads G(z, y) as y, overall and per class. Higher is better."""
    if not G.num_classes:
        raise ValueError("Conditional accuracy needs a conditional generator.")
    g = torch.Generator().manual_seed(seed)
    z = truncate(sample_noise(n, G.z_dim, G.noise, g), truncation)
    y = torch.arange(n) % G.num_classes
    pred = classifier(generate(G, z, y)).argmax(1)
    per = [float((pred[y == c] == c).double().mean()) for c in range(G.num_classes)]
    return {"conditional_accuracy": float((pred == y).double().mean()), "per_class_accuracy": per}


@torch.no_grad()
def perceptual_path_length(G: nn.Module, classifier: nn.Module, n: int = 1000, eps: float = 1e-4, seed: int = 0,
                           batch_size: int = 250) -> float:
    """StyleGAN's PPL (Karras et al. 2019) in z: slerp between two latents at t and t + eps, squared feature
    distance divided by eps^2, mean after keeping the 1st-99th percentiles. Lower means a smoother space."""
    g = torch.Generator().manual_seed(seed)
    noise = G.noise
    feat = ClassifierFeatures(classifier)
    dists = []
    for i in range(0, n, batch_size):
        b = min(batch_size, n - i)
        z0, z1 = sample_noise(b, G.z_dim, noise, g), sample_noise(b, G.z_dim, noise, g)
        t = torch.rand(b, 1, generator=g)
        # slerp in float64 so the 1e-4 step is not lost to rounding (t + eps itself is float32, as shipped)
        za = slerp(z0.double(), z1.double(), t.double())
        zb = slerp(z0.double(), z1.double(), (t + eps).double())
        y = torch.randint(G.num_classes, (b,), generator=g) if G.num_classes else None
        fa = feat(generate(G, za.float(), y))
        fb = feat(generate(G, zb.float(), y))
        dists.append(((fa.double() - fb.double()) ** 2).sum(1) / eps ** 2)
    d = torch.cat(dists).numpy()
    lo, hi = np.percentile(d, 1, method="lower"), np.percentile(d, 99, method="higher")
    return float(d[(d >= lo) & (d <= hi)].mean())


@torch.no_grad()
def nearest_training_images(samples: torch.Tensor, train: torch.Tensor, classifier: nn.Module | None = None,
                            k: int = 1) -> dict:
    """The memorization check: for each sample, its nearest training images.

    Args:
        samples: (M, C, H, W) in [-1, 1]; train: (N, C, H, W) in [-1, 1].
        classifier: when given, distances are also measured in its feature space.
    Returns:
        {"pixel": (indices (M, k), distances (M, k)), "feature": ... or None}; pixel distances are RMS
        differences in [-1, 1] units, so 0 means an exact copy.
    """
    def knn(q, s):
        d = torch.cdist(q.flatten(1).double(), s.flatten(1).double())
        dist, idx = d.topk(k, dim=1, largest=False)
        return idx, dist

    idx, dist = knn(samples, train)
    out = {"pixel": (idx, dist / math.sqrt(samples[0].numel())), "feature": None}
    if classifier is not None:
        f = ClassifierFeatures(classifier)
        out["feature"] = knn(f(samples), f(train))
    return out


# ----------------------------------------------------------------------------- floors and the full report

@functools.lru_cache(maxsize=4)
def real_halves(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """mnist-5k in two disjoint, class-balanced halves of 2,500 images (for the floors)."""
    ds = load_mnist5k()
    g = torch.Generator().manual_seed(seed)
    a, b = [], []
    for c in range(ds.num_classes):
        idx = torch.nonzero(ds.labels == c).squeeze(1)
        idx = idx[torch.randperm(len(idx), generator=g)]
        a.append(idx[: len(idx) // 2])
        b.append(idx[len(idx) // 2:])
    x = ds.batch()
    return x[torch.cat(a)], x[torch.cat(b)]


@functools.lru_cache(maxsize=4)
def floors(seed: int = 0) -> dict:
    """Each metric between the two real halves: what a perfect generator would score here."""
    C = load_classifier()
    a, b = real_halves(seed)
    fa, fb = ClassifierFeatures(C)(a), ClassifierFeatures(C)(b)
    p, r = precision_recall(fa, fb)
    kmean, kstd = kid(a, b, C, seed)
    is_mean, _ = inception_score(b, C, seed)
    cov = class_coverage(C(b))
    return {"floor_fid": fid(a, b, C), "floor_kid": kmean, "floor_kid_std": kstd, "floor_precision": p,
            "floor_recall": r, "floor_inception_score": is_mean, "floor_classes_covered": cov["classes_covered"],
            "floor_n": len(a)}


def evaluate(G: nn.Module, n_samples: int = 5000, seed: int = 0, truncation: float = 1.0, ppl_samples: int = 1000,
             progress: Progress | None = None, classifier: nn.Module | None = None) -> dict:
    """All metrics for one generator against all of mnist-5k, with floors and per-metric timings.

    Args:
        G: any generator with the gan_core interface (z_dim, num_classes, img_shape, forward(z, y)).
        n_samples: generated images (> 0).
        seed: fixes the noise, the labels and the metrics' random subsets.
        progress: called as progress(stage, fraction) for a progress bar.
    Returns:
        a dict with fid, kid, inception_score, precision, recall, ppl, classes_covered, class_histogram,
        conditional_accuracy and cas with floor_cas (None when unconditional), the floor_* values and
        "timings_s".
    """
    if n_samples <= 0:
        raise ValueError("n_samples must be positive.")
    if tuple(G.img_shape) != (1, 28, 28):
        raise ValueError(f"These metrics judge 28x28 digits; this generator makes {tuple(G.img_shape)} images.")
    return _stages(G, n_samples, seed, truncation, ppl_samples, progress or (lambda *_: None),
                   classifier or load_classifier())


def _stages(G, n, seed, truncation, ppl_samples, progress, C) -> dict:
    timings, out = {}, {}
    stages = ["generate", "fid", "kid", "inception_score", "precision_recall", "coverage", "ppl",
              "conditional_accuracy", "cas", "floors"]

    def run(name, fn):
        progress(name, stages.index(name) / len(stages))
        t0 = time.perf_counter()
        result = fn()
        timings[name] = round(time.perf_counter() - t0, 3)
        return result

    g = torch.Generator().manual_seed(seed)
    z = truncate(sample_noise(n, G.z_dim, G.noise, g), truncation)
    y = torch.arange(n) % G.num_classes if G.num_classes else None  # conditional: every class equally
    fake = run("generate", lambda: generate(G, z, y))
    real = load_mnist5k().batch()
    out["fid"] = run("fid", lambda: fid(real, fake, C))
    out["kid"], out["kid_std"] = run("kid", lambda: kid(real, fake, C, seed))
    out["inception_score"], out["inception_score_std"] = run("inception_score", lambda: inception_score(fake, C, seed))
    fe = ClassifierFeatures(C)
    out["precision"], out["recall"] = run("precision_recall", lambda: precision_recall(fe(real), fe(fake)))
    out.update(run("coverage", lambda: class_coverage(ClassifierLogits(C)(fake))))
    out["ppl"] = run("ppl", lambda: perceptual_path_length(G, C, ppl_samples, seed=seed))
    out["conditional_accuracy"], out["per_class_accuracy"] = None, None
    if G.num_classes:
        acc = run("conditional_accuracy", lambda: conditional_accuracy(G, C, min(n, 2000), seed, truncation))
        out.update(acc)
    out["cas"], out["floor_cas"] = None, None
    if G.num_classes == 10:  # CAS: a classifier trained on as many generated pairs as samples (at most 4,500)
        from gan_core.metrics.cas import classification_accuracy_score

        cas = run("cas", lambda: classification_accuracy_score(G, min(n, 4500), seed=seed))
        out["cas"], out["floor_cas"] = cas["cas"], cas["floor_cas"]
    out.update(run("floors", lambda: floors(0)))
    progress("done", 1.0)
    out.update({"n_samples": n, "seed": seed, "truncation": truncation, "ppl_samples": ppl_samples,
                "timings_s": timings,
                "how": "features/logits of pretrained/mnist-classifier; real set: all 5,000 mnist-5k images; "
                       "floors: two disjoint class-balanced halves of mnist-5k (2,500 each)"})
    return out


class FIDTracker:
    """FID of successive sample sets against fixed real data, the real statistics computed once.

    Used to keep the best checkpoint during training.
    """

    def __init__(self, real: torch.Tensor, classifier: nn.Module):
        from torchmetrics.image.fid import FrechetInceptionDistance

        self.features = ClassifierFeatures(classifier)
        self.metric = FrechetInceptionDistance(feature=self.features, reset_real_features=False)
        self.metric.update(real, real=True)
        self.real_feats = self.features(real)

    def __call__(self, fake: torch.Tensor) -> float:
        self.metric.reset()  # keeps the real features
        self.metric.update(fake, real=False)
        return float(self.metric.compute())

    def precision_recall(self, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
        """Improved precision and recall of ``fake`` against the same real data."""
        return precision_recall(self.real_feats, self.features(fake), k)
