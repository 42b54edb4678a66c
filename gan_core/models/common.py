"""Small pieces shared by the networks."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class Generator(nn.Module):
    """What every generator declares, so callers read it instead of probing. Task noise -> image (and
    noise -> points for the playground's toy models):

    - ``z_dim``, ``img_shape``, ``num_classes`` (0: unconditional), ``clusters`` (self-conditioning: z's first
      entries pick one of that many clusters; 0: none) and ``noise`` (how z is drawn, "gaussian" or "uniform";
      ``build_generator`` sets it from ``ModelConfig.noise``);
    - ``has_w`` (a style-based W space) and ``takes_image`` (an input image instead of z): False here;
    - ``latent_weight()``: the weight that first reads z, as (out, z_dim), which SeFa factorises;
    - ``inside_layers()``: the layers /inside may show, in order, {name: module whose output is that layer's
      feature maps}, and ``as_maps(name, out)``: such an output as (B, C, H, W).
    """
    task: str = "noise->image"
    z_dim: int = 0
    img_shape: tuple = ()
    num_classes: int = 0
    clusters: int = 0
    noise: str = "gaussian"
    has_w: bool = False
    takes_image: bool = False

    def latent_weight(self) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not say which weight reads z")

    def inside_layers(self) -> dict[str, nn.Module]:
        return {}

    def as_maps(self, name: str, out: torch.Tensor) -> torch.Tensor:
        return out


def relu_layers(body: nn.Module, first: int = 1) -> dict[str, nn.Module]:
    """Every ReLU of ``body`` as a layer /inside can show: {"block 1": relu, ...}, numbered from ``first``."""
    relus = [m for m in body.modules() if isinstance(m, nn.ReLU)]
    return {f"block {i + first}": m for i, m in enumerate(relus)}


class Discriminator(nn.Module):
    """What every discriminator (or critic) declares: ``img_shape``, ``num_classes`` (it is given the class),
    ``clusters`` (it is given the cluster; ``set_cluster_centres`` tells it where they are) and ``aux_classes``
    (a second head names the class or cluster, AC-GAN; 0: none)."""
    img_shape: tuple = ()
    num_classes: int = 0
    clusters: int = 0
    aux_classes: int = 0

    def set_cluster_centres(self, centres: torch.Tensor) -> None:
        """The clusters' centres in pixels, (clusters, C*H*W); only a cluster-conditioned D keeps them."""


class ClusterCode:
    """For a self-conditioned generator (``clusters`` > 0 and a ``cluster_offset`` buffer, set by the trainer):
    the cluster each z draws is the largest of z's first ``clusters`` entries, shifted by the offsets so that
    clusters come up as often as in the real data."""
    clusters: int = 0
    cluster_temperature: float = 0.05

    def cluster_of(self, z: torch.Tensor) -> torch.Tensor:
        """The cluster each z draws, (B,) int64 (self-conditioned generators only)."""
        return (z[:, : self.clusters] + self.cluster_offset).argmax(1)

    def cluster_code(self, z: torch.Tensor) -> torch.Tensor:
        """(B, clusters): a softmax that is one-hot at ``cluster_of(z)`` except near a tie."""
        return torch.softmax((z[:, : self.clusters] + self.cluster_offset) / self.cluster_temperature, 1)


class NearestCluster:
    """For a cluster-conditioned discriminator: it keeps the clusters' centres in pixels (a ``centroids``
    buffer) and tells an image's cluster by the nearest one."""
    clusters: int = 0

    def set_cluster_centres(self, centres: torch.Tensor) -> None:
        if self.clusters:
            self.centroids.copy_(centres)

    def cluster_of(self, x: torch.Tensor) -> torch.Tensor:
        """Index of the nearest cluster centre (in pixels) for each image, (B,) int64."""
        with torch.no_grad():
            return torch.cdist(x.detach().flatten(1), self.centroids).argmin(1)


def maybe_sn(layer: nn.Module, enabled: bool) -> nn.Module:
    """Wrap ``layer`` in spectral normalisation when ``enabled``."""
    return spectral_norm(layer) if enabled else layer


def as_onehot(y: torch.Tensor | None, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """Labels as (B, num_classes) floats.

    Integer labels become one-hot rows; float rows are used as given, so a blend such as
    0.7 * onehot(3) + 0.3 * onehot(8) morphs one class into another.
    """
    if y is None:
        raise ValueError(f"This model is conditional: pass class labels y (0..{num_classes - 1}).")
    if y.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8):
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
            raise ValueError(f"Class labels must be in 0..{num_classes - 1}.")
        return torch.nn.functional.one_hot(y.long(), num_classes).to(like.dtype)
    if y.dim() != 2 or y.shape[1] != num_classes:
        raise ValueError(f"Soft labels must have shape (B, {num_classes}), got {tuple(y.shape)}.")
    return y.to(like.dtype)
