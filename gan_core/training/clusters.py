"""Self-conditioning without labels (after Liu et al. 2020, "Diverse Image Generation via Self-Conditioned GANs").

The real images are split into k clusters by k-means on their pixels; no class labels are used. The
discriminator is told which cluster each image belongs to, and the generator draws a cluster from its own
noise, so it learns one mode per cluster yet remains an unconditional generator: G(z) and nothing else.
Liu et al. cluster D's features and re-cluster during training; here the clusters are fixed, in pixel
space, which needs no extra pass over the data and lets any image be assigned by its nearest centre.

Example:
    >>> import torch
    >>> x = torch.cat([torch.zeros(5, 1, 2, 2), torch.ones(5, 1, 2, 2)])
    >>> labels, centres = kmeans_clusters(x, k=2, seed=0)
    >>> sorted(labels.bincount().tolist())
    [5, 5]
"""
from __future__ import annotations

import numpy as np
import torch


def kmeans_clusters(images: torch.Tensor, k: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """k-means on flattened pixels.

    Args:
        images: (N, C, H, W) floats (the [-1, 1] range the generator works in).
        k: number of clusters (2 <= k <= N).
        seed: k-means initialisation seed.

    Returns:
        labels (N,) int64, each image's nearest centre; centres (k, C*H*W) float32.
    """
    from sklearn.cluster import KMeans

    flat = images.detach().flatten(1).cpu().numpy().astype(np.float32)  # (N, C*H*W)
    if not 2 <= k <= len(flat):
        raise ValueError(f"Cannot make {k} clusters of {len(flat)} images.")
    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(flat)
    centres = torch.from_numpy(km.cluster_centers_.astype(np.float32))   # (k, C*H*W)
    labels = torch.cdist(torch.from_numpy(flat), centres).argmin(1)      # the same rule D uses
    return labels, centres


def deskew(images: torch.Tensor) -> torch.Tensor:
    """Straighten slanted handwriting: shear each image so that its ink's rows and columns are uncorrelated,
    and move its centre of mass to the middle (the moment-based deskewing of LeCun et al.'s MNIST results).

    Args:
        images: (N, 1, H, W) floats in [-1, 1], ink high (MNIST's convention).

    Returns:
        (N, 1, H, W) in [-1, 1]. An image with no ink is returned unchanged.

    Example:
        >>> import torch
        >>> x = -torch.ones(1, 1, 10, 10)
        >>> for r in range(1, 10): x[0, 0, r, 10 - r] = 1.0   # a stroke leaning right
        >>> ((deskew(x)[0, 0] > 0).sum(0) > 0).nonzero().flatten().tolist()   # the columns with ink: one
        [5]
    """
    import torch.nn.functional as F

    n, c, h, w = images.shape
    if c != 1:
        raise ValueError(f"Deskewing is for single-channel images (handwriting), not {c} channels.")
    ink = ((images[:, 0].float() + 1) / 2).clamp(0, 1)                       # (N, H, W), background 0
    rows = torch.arange(h, dtype=torch.float32).view(1, h, 1)
    cols = torch.arange(w, dtype=torch.float32).view(1, 1, w)
    total = ink.sum((1, 2)).clamp_min(1e-6)                                   # (N,)
    mr, mc = (ink * rows).sum((1, 2)) / total, (ink * cols).sum((1, 2)) / total
    var_r = (ink * (rows - mr.view(-1, 1, 1)) ** 2).sum((1, 2)) / total
    cov = (ink * (rows - mr.view(-1, 1, 1)) * (cols - mc.view(-1, 1, 1))).sum((1, 2)) / total
    slant = torch.where(var_r > 1e-6, cov / var_r.clamp_min(1e-6), torch.zeros_like(cov)).view(-1, 1, 1)
    r0, c0 = h / 2, w / 2                                     # the output's centre
    src_r = ((rows - r0) + mr.view(-1, 1, 1)).expand(n, h, w)                  # (N, H, W): where to read
    src_c = (cols - c0) + mc.view(-1, 1, 1) + slant * (rows - r0)
    grid = torch.stack([2 * src_c / (w - 1) - 1, 2 * src_r / (h - 1) - 1], -1)  # grid_sample's (x, y)
    out = F.grid_sample(ink.unsqueeze(1), grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    empty = (ink.sum((1, 2)) == 0).view(-1, 1, 1, 1)
    return torch.where(empty, images.float(), out * 2 - 1)


CLUSTERINGS = {
    "kmeans": "k-means on the pixels: instant; on 10 MNIST clusters barely more than half of each cluster's digits share a class",
    "spectral": "spectral clustering of a nearest-neighbour graph (30 PCA components, 10 neighbours): about a "
                "second more at the start; far purer clusters (the README gives the figures)",
    "spectral-deskewed": "the same, on the images with their slant straightened (handwriting only: one channel): "
                         "purer still, because a slanted 1 and an upright 1 now look "
                         "alike; yet measured no faster to digits in \"Fast digits, no labels\" (G must then draw "
                         "every slant of a cluster)",
}
SPECTRAL_MAX_FIT = 10_000  # spectral clustering runs on at most this many images; the rest join their nearest one


def find_clusters(images: torch.Tensor, k: int, method: str = "kmeans",
                  seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Cluster labels (N,) and centres (k, C*H*W) of ``images`` by ``method`` (a key of CLUSTERINGS)."""
    if method == "kmeans":
        return kmeans_clusters(images, k, seed)
    if method in ("spectral", "spectral-deskewed"):
        return spectral_clusters(images, k, seed, straighten=method == "spectral-deskewed")
    raise ValueError(f"Unknown clustering {method!r}; choose one of {', '.join(CLUSTERINGS)}.")


def spectral_clusters(images: torch.Tensor, k: int, seed: int = 0, neighbours: int = 10,
                      components: int = 30, straighten: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Spectral clustering (scikit-learn) of the images' nearest-neighbour graph in PCA space.

    Pixel k-means splits digits by ink position, so one cluster holds 4s and 9s alike; the neighbour graph
    follows the shapes' own manifold and keeps them apart far more often. No labels are used. Above
    SPECTRAL_MAX_FIT images, a random subset is clustered and every other image takes its nearest
    neighbour's cluster. The centres are the clusters' mean images (a cluster-conditioned D assigns a
    generated image to the nearest one, which matches the spectral labels for most images).
    ``straighten`` clusters the deskewed images (see ``deskew``); the centres stay means of the originals.

    Returns:
        labels (N,) int64; centres (k, C*H*W) float32.

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.cat([torch.randn(40, 1, 3, 3, generator=g), torch.randn(40, 1, 3, 3, generator=g) + 8])
        >>> labels, centres = spectral_clusters(x, k=2, components=4)
        >>> sorted(labels.bincount().tolist()), centres.shape
        ([40, 40], torch.Size([2, 9]))
    """
    from sklearn.cluster import SpectralClustering
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KNeighborsClassifier

    flat = images.detach().flatten(1).cpu().numpy().astype(np.float32)  # (N, C*H*W)
    seen = deskew(images.detach().cpu()).flatten(1).numpy() if straighten else flat  # what the graph is built on
    n = len(flat)
    if not 2 <= k <= n or n <= neighbours:
        raise ValueError(f"Cannot make {k} spectral clusters of {n} images (more than {neighbours} needed).")
    pca = PCA(min(components, n, flat.shape[1]), random_state=seed)
    fit = np.random.default_rng(seed).permutation(n)[:SPECTRAL_MAX_FIT] if n > SPECTRAL_MAX_FIT else np.arange(n)
    low = pca.fit_transform(seen[fit])
    part = SpectralClustering(k, affinity="nearest_neighbors", n_neighbors=neighbours, random_state=seed,
                              assign_labels="cluster_qr").fit_predict(low)
    labels = np.empty(n, np.int64)
    labels[fit] = part
    if len(fit) < n:
        rest = np.setdiff1d(np.arange(n), fit)
        labels[rest] = KNeighborsClassifier(1).fit(low, part).predict(pca.transform(seen[rest]))
    labels_t = torch.from_numpy(labels)
    flat_t = torch.from_numpy(flat)
    centres = torch.stack([flat_t[labels_t == c].mean(0) if (labels_t == c).any() else flat_t.mean(0)
                           for c in range(k)])
    return labels_t, centres


def argmax_offsets(prior: torch.Tensor, noise: str = "gaussian", n: int = 100_000, iters: int = 200,
                   seed: int = 0) -> torch.Tensor:
    """Offsets b such that argmax(z[:k] + b) over the noise distribution lands on cluster i with
    probability ``prior[i]``: G then draws clusters as often as they occur in the real data.

    Found by fixed-point iteration b += log(prior / observed share) on n fixed noise draws.

    Example:
        >>> b = argmax_offsets(torch.tensor([0.7, 0.2, 0.1]), n=20_000)
        >>> float(b[0] > b[1] > b[2])
        1.0
    """
    from gan_core.latent.sampling import sample_noise

    prior = prior.double() / prior.sum()
    k = len(prior)
    z = sample_noise(n, k, noise, torch.Generator().manual_seed(seed)).double()   # (n, k)
    b = torch.zeros(k, dtype=torch.float64)
    for _ in range(iters):
        share = torch.bincount((z + b).argmax(1), minlength=k).double() / n
        step = torch.log(prior / share.clamp_min(0.5 / n))
        if step.abs().max() < 1e-3:
            break
        b += 0.5 * step
    return (b - b.mean()).float()


def noise_in_clusters(clusters: torch.Tensor, z_dim: int, offsets: torch.Tensor, noise: str = "gaussian",
                      generator: torch.Generator | None = None, pool_factor: int = 32) -> torch.Tensor:
    """Noise for a self-conditioned G that draws the given clusters: row i is z ~ p(z | cluster i).

    The cluster depends only on z's first k entries, so those are taken from a pool of draws whose
    argmax(z[:k] + offsets) is the wanted cluster (exact rejection sampling); the other entries are fresh.
    The trainer uses this to give D fakes from the same clusters as its real batch, as a conditional
    GAN does with classes: D then judges the images, not how often each cluster came up.

    Args:
        clusters: (B,) int64 cluster per row. offsets: (k,) the generator's ``cluster_offset``.
    Returns:
        (B, z_dim) noise.
    """
    from gan_core.latent.sampling import sample_noise

    B, k = len(clusters), len(offsets)
    clusters, offsets = clusters.cpu(), offsets.detach().cpu()
    z = sample_noise(B, z_dim, noise, generator)                        # (B, z_dim)
    need = torch.ones(B, dtype=torch.bool)
    while need.any():
        pool = sample_noise(pool_factor * B, k, noise, generator)         # (pool, k)
        drawn = (pool + offsets).argmax(1)
        for c in clusters[need].unique().tolist():
            rows = (need & (clusters == c)).nonzero().squeeze(1)
            found = (drawn == c).nonzero().squeeze(1)[: len(rows)]
            z[rows[: len(found)], :k] = pool[found]
            need[rows[: len(found)]] = False
    return z
