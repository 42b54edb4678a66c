"""What the explorer pages compute, without Streamlit: latent edits, judgements, strips, maps, arithmetic.

Example:
    >>> ex = Explorer(gan_core.load_generator("mnist-dcgan"))          # doctest: +SKIP
    >>> img = ex.image(ex.z_for(seed=7, directions={0: 2.0}))         # doctest: +SKIP
"""
from __future__ import annotations

import io
from typing import Sequence

import numpy as np
import torch
from torch import nn

from gan_core.training import losses
from gan_core.latent.directions import sefa_directions
from gan_core.latent.sampling import (class_grid_inputs, generate, interpolate_path, seeds_to_z, to_uint8,
                                      truncate)


class Explorer:
    """One generator with its discriminator (optional) and the reference classifier (optional).

    Args:
        G: a generator in eval mode. D: its discriminator. classifier: the digit classifier.
        loss: the loss D was trained with, to read its output ("nonsaturating" -> a probability).
        k: how many closed-form (SeFa) directions to compute.
    """

    def __init__(self, G: nn.Module, D: nn.Module | None = None, classifier: nn.Module | None = None,
                 loss: str = "nonsaturating", k: int = 8):
        self.G, self.D, self.C, self.loss = G.eval(), None if D is None else D.eval(), classifier, loss
        self.noise = G.noise
        self.directions, self.eigenvalues = sefa_directions(G, min(k, G.z_dim))   # (k, z_dim), (k,)

    @classmethod
    def from_checkpoint(cls, ck, classifier: nn.Module | None) -> "Explorer":
        """The explorer every page (and every work-queue worker) builds for a loaded checkpoint: its G and D, the
        loss D was trained with, and ``classifier`` for 28x28 grayscale models only."""
        G = ck.generator
        C = classifier if tuple(G.img_shape) == (1, 28, 28) else None
        return cls(G, ck.discriminator, C, loss=ck.config.get("training", {}).get("loss", "nonsaturating"))

    @property
    def has_w(self) -> bool:
        """A style-based G: truncation (psi) moves w toward the mean w instead of z toward 0."""
        return bool(getattr(self.G, "has_w", False))

    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None, psi: float = 1.0) -> torch.Tensor:
        """G's images for z, truncated in W by ``psi`` for a style-based G (others are truncated in z by
        ``z_for``, and ``psi`` must be 1 for them)."""
        if self.has_w:
            with torch.no_grad():
                return self.G(z, y, psi=float(psi)) if psi != 1 else generate(self.G, z, y)
        if psi != 1:
            raise ValueError("Only a style-based model is truncated in W; truncate z with z_for.")
        return generate(self.G, z, y)

    @property
    def conditional(self) -> bool:
        return bool(self.G.num_classes)

    @property
    def clusters(self) -> int:
        """Number of clusters a self-conditioned G draws from its z (0 for other generators)."""
        return int(self.G.clusters)

    def cluster(self, z: torch.Tensor) -> int | None:
        """The cluster a self-conditioned G draws for z (1, z_dim); None for other generators."""
        return int(self.G.cluster_of(z)[0]) if self.clusters else None

    # -------------------------------------------------------------- one image
    def z_for(self, seed: int, truncation: float = 1.0, directions: dict[int, float] | None = None,
              dims: dict[int, float] | None = None, base: torch.Tensor | None = None) -> torch.Tensor:
        """z of ``seed`` (or ``base``, a z found by gan_core.latent.inversion, in its place) (truncated), moved ``directions[i]`` standard deviations along SeFa direction i and
        ``dims[j]`` along raw dimension j. Directions are unit vectors and z ~ N(0, I) has unit standard
        deviation along any unit vector, so the offsets are in sigmas. Returns (1, z_dim)."""
        z = base.reshape(1, -1).clone() if base is not None else seeds_to_z([seed], self.G.z_dim, self.noise)
        z = truncate(z, truncation)
        for i, amount in (directions or {}).items():
            z = z + float(amount) * self.directions[int(i)]
        for j, amount in (dims or {}).items():
            if not 0 <= int(j) < self.G.z_dim:
                raise ValueError(f"z has dimensions 0..{self.G.z_dim - 1}, not {j}.")
            z[0, int(j)] += float(amount)
        return z

    def _y(self, label: int | None, n: int) -> torch.Tensor | None:
        if not self.conditional:
            return None
        if label is None or not 0 <= int(label) < self.G.num_classes:
            raise ValueError(f"Pick a class between 0 and {self.G.num_classes - 1}.")
        return torch.full((n,), int(label), dtype=torch.long)

    def images(self, z: torch.Tensor, label: int | None = None, psi: float = 1.0) -> np.ndarray:
        """uint8 (N, H, W, C) for z (N, z_dim); ``psi``: truncation in W (style-based models only)."""
        return to_uint8(self.generate(z, self._y(label, len(z)), psi))

    def image(self, z: torch.Tensor, label: int | None = None, psi: float = 1.0) -> np.ndarray:
        return self.images(z, label, psi)[0]

    @torch.no_grad()
    def judge(self, z: torch.Tensor, label: int | None = None) -> dict:
        """What D and the classifier think of G(z): {"realness", "realness_is_probability", "class_probs"}."""
        x = generate(self.G, z, self._y(label, len(z)))
        out = {"realness": None, "realness_is_probability": self.loss in losses.PROBABILITY_LOSSES,
               "class_probs": None}
        if self.D is not None:
            out["realness"] = float(losses.d_probability(self.loss, self.D(x, self._y(label, len(z))))[0])
        if self.C is not None:
            out["class_probs"] = torch.softmax(self.C(x), 1)[0].tolist()
        return out

    @torch.no_grad()
    def view(self, z: torch.Tensor, direction: int, label: int | None = None,
             sigmas: Sequence[float] = (-3, -2, -1, 0, 1, 2, 3), psi: float = 1.0) -> dict:
        """Everything the explorer shows for one z, from one forward pass of G: the image, the strip along
        ``direction`` (``sigmas`` must hold 0: that frame is the image itself) and ``judge``'s verdict on the
        image. Same results as ``image``, ``direction_strip`` and ``judge``, which would run G three times."""
        i = list(sigmas).index(0)
        zs = z + torch.tensor(sigmas, dtype=z.dtype).view(-1, 1) * self.directions[direction]
        zs[i] = z[0]                      # exactly z, not z + 0 * d
        y = self._y(label, len(zs))
        x = self.generate(zs, y, psi)
        out = {"image": None, "strip": to_uint8(x), "realness": None,
               "realness_is_probability": self.loss in losses.PROBABILITY_LOSSES, "class_probs": None}
        out["image"] = out["strip"][i]
        xi = x[i:i + 1]
        if self.D is not None:
            out["realness"] = float(losses.d_probability(self.loss, self.D(xi, self._y(label, 1)))[0])
        if self.C is not None:
            out["class_probs"] = torch.softmax(self.C(xi), 1)[0].tolist()
        return out

    # -------------------------------------------------------------- strips and paths
    def direction_strip(self, z: torch.Tensor, direction: int, sigmas: Sequence[float] = (-3, -2, -1, 0, 1, 2, 3),
                        label: int | None = None) -> np.ndarray:
        """What one direction does: G(z + s * d) for each s, uint8 (len(sigmas), H, W, C)."""
        zs = z + torch.tensor(sigmas, dtype=z.dtype).view(-1, 1) * self.directions[direction]
        return self.images(zs, label)

    @torch.no_grad()
    def interpolation(self, waypoints: torch.Tensor, steps: int, method: str, label: int | None = None,
                      psi: float = 1.0) -> dict:
        """Frames along a path through the waypoints and how far each step moves in classifier feature space
        (a PPL-style smoothness readout: even steps = smooth, spikes = sudden changes)."""
        z = interpolate_path(waypoints, steps, method)
        x = self.generate(z, self._y(label, len(z)), psi)
        dist = None
        if self.C is not None:
            f = self.C.features(x)
            dist = (f[1:] - f[:-1]).norm(dim=1).tolist()
        return {"frames": to_uint8(x), "step_distances": dist, "z": z}

    # -------------------------------------------------------------- many samples
    @torch.no_grad()
    def latent_map(self, seeds: Sequence[int], method: str = "pca", label_of_seed=None) -> dict:
        """Samples for ``seeds`` projected to 2D from classifier features, with predicted classes.

        Returns {"seeds", "labels" (class given to G or None), "xy" (N, 2), "pred" (N,), "confidence" (N,)}.
        """
        if self.C is None:
            raise ValueError("The latent map needs the classifier.")
        seeds = list(seeds)
        z = seeds_to_z(seeds, self.G.z_dim, self.noise)
        labels = torch.tensor([label_of_seed(s) for s in seeds]) if self.conditional else None
        x = generate(self.G, z, labels)
        feats = self.C.features(x)
        probs = torch.softmax(self.C.head(feats), 1)
        xy = project_2d(feats.numpy(), method)
        return {"seeds": seeds, "labels": None if labels is None else labels.tolist(), "xy": xy,
                "pred": probs.argmax(1).numpy(), "confidence": probs.max(1).values.numpy()}

    @torch.no_grad()
    def arithmetic(self, a: int, b: int, c: int, n: int = 2000, min_confidence: float = 0.9,
                   start: torch.Tensor | None = None) -> dict:
        """Latent arithmetic: mean z of samples the classifier reads as a, b, c (confidently); then a - b + c.
        With ``start`` (a z, e.g. a found digit's), it replaces mean(a): start - mean(b) + mean(c).

        Returns images of the three means and of the result, and how many samples went into each mean.
        """
        if self.conditional:
            raise ValueError("Latent arithmetic over classes is for unconditional models.")
        if self.C is None:
            raise ValueError("Latent arithmetic needs the classifier.")
        z = seeds_to_z(range(100_000, 100_000 + n), self.G.z_dim, self.noise)
        probs = torch.softmax(self.C(generate(self.G, z)), 1)
        conf, pred = probs.max(1)
        means, counts = {}, {}
        for cls in ({b, c} if start is not None else {a, b, c}):
            mask = (pred == cls) & (conf >= min_confidence)
            counts[cls] = int(mask.sum())
            if counts[cls] == 0:
                raise ValueError(f"None of {n} samples was read as a {cls} with confidence >= {min_confidence}; "
                                 "this model rarely draws that digit.")
            means[cls] = z[mask].mean(0, keepdim=True)
        first = start.reshape(1, -1) if start is not None else means[a]
        if start is not None:
            counts[a] = counts.get(a, 0)
        result = first - means[b] + means[c]
        imgs = self.images(torch.cat([first, means[b], means[c], result]))
        pred_result = int(self.C(generate(self.G, result)).argmax(1))
        return {"images": imgs, "counts": counts, "result_reads_as": pred_result}


def project_2d(features: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(N, D) -> (N, 2) with scikit-learn's PCA or t-SNE."""
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(features)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(features) - 1) // 3)))
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(features)
    raise ValueError("method must be 'pca' or 'tsne'.")


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement of a uint8 (H, W, C) image: crisp pixels."""
    return np.ascontiguousarray(image.repeat(factor, 0).repeat(factor, 1))


def gif_bytes(frames: np.ndarray, scale: int = 4, duration_ms: int = 80, boomerang: bool = True) -> bytes:
    """An animated, looping GIF of uint8 frames (N, H, W, C)."""
    from PIL import Image

    seq = list(frames) + (list(frames[-2:0:-1]) if boomerang and len(frames) > 2 else [])
    ims = [Image.fromarray(upscale(f, scale)[:, :, 0] if f.shape[2] == 1 else upscale(f, scale)) for f in seq]
    buf = io.BytesIO()
    ims[0].save(buf, format="GIF", save_all=True, append_images=ims[1:], duration=duration_ms, loop=0)
    return buf.getvalue()


def png_bytes(image: np.ndarray, compress_level: int = 6) -> bytes:
    """PNG of a uint8 (H, W[, C]) image (zlib ``compress_level``: 1 is fastest, 6 Pillow's default)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image[:, :, 0] if image.ndim == 3 and image.shape[2] == 1 else image).save(
        buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def strip(frames: np.ndarray, padding: int = 2) -> np.ndarray:
    """Frames side by side, uint8 (H, N*(W+pad)-pad, C)."""
    h, w, c = frames.shape[1:]
    out = np.full((h, len(frames) * (w + padding) - padding, c), 255, np.uint8)
    for i, f in enumerate(frames):
        out[:, i * (w + padding): i * (w + padding) + w] = f
    return out


def class_samples(ex: Explorer, label: int, seeds: Sequence[int], truncation: float = 1.0) -> np.ndarray:
    """G(z_seed, label) for each seed, uint8 (N, H, W, C)."""
    return ex.images(truncate(seeds_to_z(seeds, ex.G.z_dim, ex.noise), truncation), label)


@torch.no_grad()
def every_class(ex: Explorer, seeds: Sequence[int], truncation: float = 1.0) -> np.ndarray:
    """Rows are seeds, columns classes: one z held fixed per row. uint8 (R, K, H, W, C)."""
    z, y = class_grid_inputs(seeds, ex.G.num_classes, ex.G.z_dim, ex.noise)
    imgs = to_uint8(generate(ex.G, truncate(z, truncation), y))
    return imgs.reshape(len(seeds), ex.G.num_classes, *imgs.shape[1:])


@torch.no_grad()
def morph(ex: Explorer, seed: int, a: int, b: int, ts: Sequence[float], truncation: float = 1.0) -> dict:
    """Blend the class input from a to b for a fixed z: label = (1 - t) onehot(a) + t onehot(b).

    Returns frames uint8 (T, H, W, C) and, when the classifier is there, P(a) and P(b) per frame.
    """
    K = ex.G.num_classes
    if not K:
        raise ValueError("Class morphing needs a conditional model.")
    t = torch.tensor(list(ts), dtype=torch.float32).view(-1, 1)
    eye = torch.eye(K)
    soft = (1 - t) * eye[a] + t * eye[b]                                         # (T, K)
    z = truncate(seeds_to_z([seed], ex.G.z_dim, ex.noise), truncation).repeat(len(t), 1)
    x = ex.G(z, soft)
    out = {"frames": to_uint8(x), "p_a": None, "p_b": None}
    if ex.C is not None:
        p = torch.softmax(ex.C(x), 1)
        out["p_a"], out["p_b"] = p[:, a].tolist(), p[:, b].tolist()
    return out


@torch.no_grad()
def sorted_by_class(ex: Explorer, n: int = 200, per_class: int = 8, seed_base: int = 0) -> dict[int, np.ndarray]:
    """Unconditional samples grouped by what the classifier reads, most confident first."""
    if ex.C is None:
        raise ValueError("Sorting by class needs the classifier.")
    z = seeds_to_z(range(seed_base, seed_base + n), ex.G.z_dim, ex.noise)
    x = generate(ex.G, z)
    p = torch.softmax(ex.C(x), 1)
    conf, pred = p.max(1)
    imgs = to_uint8(x)
    groups = {}
    for c in range(p.shape[1]):
        idx = torch.nonzero(pred == c).squeeze(1)
        idx = idx[conf[idx].argsort(descending=True)][:per_class]
        groups[c] = imgs[idx.numpy()]
    return groups


@torch.no_grad()
def discriminator_scores(ex: Explorer, n: int = 1000, seed: int = 0) -> dict:
    """D's outputs on n real mnist-5k images and n generated ones (as probabilities when D's loss has them)."""
    from gan_core.data.datasets import load_mnist5k

    if ex.D is None:
        raise ValueError("This checkpoint has no discriminator.")
    ds = load_mnist5k()
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds), generator=g)[:n]
    real, y_real = ds.batch(idx), ds.labels[idx]
    z = seeds_to_z(range(200_000 + seed, 200_000 + seed + n), ex.G.z_dim, ex.noise)
    y_fake = torch.arange(n) % ex.G.num_classes if ex.conditional else None
    fake = generate(ex.G, z, y_fake)
    yr = y_real if ex.conditional else None
    read = lambda s: losses.d_probability(ex.loss, s).numpy()  # noqa: E731
    return {"real": read(ex.D(real, yr)), "fake": read(ex.D(fake, y_fake)),
            "is_probability": ex.loss in losses.PROBABILITY_LOSSES}


@torch.no_grad()
def memorization(ex: Explorer, n: int = 8, seed: int = 0) -> dict:
    """n samples with their nearest mnist-5k images in pixel space and in classifier feature space."""
    from gan_core.data.datasets import load_mnist5k
    from gan_core.metrics.scores import nearest_training_images

    ds = load_mnist5k()
    z = seeds_to_z(range(300_000 + seed, 300_000 + seed + n), ex.G.z_dim, ex.noise)
    y = torch.arange(n) % ex.G.num_classes if ex.conditional else None
    x = generate(ex.G, z, y)
    train = ds.batch()
    nn_ = nearest_training_images(x, train, ex.C, k=1)
    pix_idx, pix_d = nn_["pixel"]
    out = {"samples": to_uint8(x), "pixel_images": to_uint8(train[pix_idx[:, 0]]), "pixel_dist": pix_d[:, 0].tolist()}
    if nn_["feature"] is not None:
        f_idx, f_d = nn_["feature"]
        out["feature_images"], out["feature_dist"] = to_uint8(train[f_idx[:, 0]]), f_d[:, 0].tolist()
    # for scale: how far real digits sit from their nearest *other* real digit, in pixel space
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:200]
    # exact differences, not cdist's matrix-multiply path (which leaves ~5e-7 where a digit meets itself)
    d = torch.cdist(train[idx].flatten(1).double(), train.flatten(1).double(), compute_mode="donot_use_mm_for_euclid_dist")
    d[torch.arange(len(idx)), idx] = float("inf")          # each digit's own pair, excluded by index
    d[d == 0] = float("inf")                               # and exact duplicates elsewhere in the set
    out["real_to_real_pixel"] = float(d.min(1).values.median() / np.sqrt(train[0].numel()))
    return out
