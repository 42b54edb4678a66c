"""A style-based generator (StyleGAN2, Karras et al. 2020, "Analyzing and Improving the Image Quality of
StyleGAN") small enough to train on digits on a CPU, and its residual discriminator.

- ``mapping``: z -> w, normalised z then ``mapping_depth`` fully connected layers (learning rate 0.01x, as the
  paper's mapping network), and a running mean ``w_avg`` for truncation toward the mean w.
- ``synthesis``: a learned constant at the base resolution (7x7 for 28x28 images, 4x4 for powers of two),
  then one block per doubling; each 3x3 convolution is *modulated* by a per-layer style (an affine map of w)
  and *demodulated* (its output scaled back to unit variance), then gets per-pixel noise with a learned
  strength. Every block adds its own RGB (or gray) output to the upsampled sum of the coarser ones (the
  paper's skip generator), so every resolution gives a real image.
- Why modulation and demodulation rather than StyleGAN's AdaIN: AdaIN normalises each feature map by its own
  statistics, which the 2020 paper traced to the "droplet" artefacts; demodulation normalises through the
  weights instead (the expected statistics), keeps the per-layer control of styles, and is what the StyleGAN2
  checkpoints people explore use.
- Upsampling is bilinear then a 3x3 convolution (resize-then-convolve, no transposed convolutions, so no
  checkerboard pattern).
- Weights are stored unit-scaled and multiplied by 1/sqrt(fan_in) when used ("equalized learning rate",
  Karras et al. 2018), as in all the StyleGAN papers.

The contract beyond ``models.common.Generator``: ``G(z, y=None, noise_mode="const")`` returns images NOT
clamped (clamp for display only); ``G.w_dim``, ``G.num_ws``; ``G.mapping(z)`` -> (N, w_dim), untruncated;
``G.synthesis(ws, noise_mode=...)`` with ws (N, num_ws, w_dim) in NVlabs' order: index 0 feeds the base conv,
index 1 the base toRGB and the next block's first conv, and so on. ``noise_mode``: "const" uses the noise
stored in the model (the same seed, the same image), "random" draws new noise, "none" leaves it out.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.models.common import ClusterCode, Discriminator, Generator, NearestCluster
from gan_core.models.minibatch import MinibatchStd
from gan_core.models.registry import Family, register

NOISE_MODES = ("const", "random", "none")
W_AVG_BETA = 0.995            # the running mean of w moves this slowly (the StyleGAN papers' value)
MAPPING_LR = 0.01             # the mapping network learns 100x slower (Karras et al. 2019, appendix C)
MAPPING_DEPTH = 4             # the papers use 8 layers of 512; 4 are plenty for digits


def noise_modes(noise_mode, n_convs: int) -> list[str]:
    """One noise mode per conv from a mode or a sequence of ``n_convs`` modes, checked.

    Example:
        >>> noise_modes("none", 3), noise_modes(["const", "random"], 2)
        (['none', 'none', 'none'], ['const', 'random'])
    """
    modes = [noise_mode] * n_convs if isinstance(noise_mode, str) else list(noise_mode)
    if len(modes) != n_convs or any(m not in NOISE_MODES for m in modes):
        raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)} (or a list of one per conv layer, "
                         f"{n_convs}), got {noise_mode!r}.")
    return modes


def base_resolution(side: int) -> tuple[int, int]:
    """(base side, doublings) for a square image: the smallest side >= 4 reached by halving ``side`` evenly.

    Example:
        >>> base_resolution(28), base_resolution(32), base_resolution(1024)
        ((7, 2), (4, 3), (4, 8))
    """
    n = 0
    while side % 2 == 0 and side // 2 >= 4:
        side, n = side // 2, n + 1
    return side, n


class EqualLinear(nn.Module):
    """A linear layer with equalized learning rate: weights N(0, 1) / lr_mul, scaled by lr_mul / sqrt(fan_in)."""

    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0, lr_mul: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.scale, self.lr_mul = lr_mul / math.sqrt(in_features), lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


def normalize_2nd_moment(x: torch.Tensor) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + 1e-8)


class MappingNetwork(nn.Module):
    """z (N, z_dim) -> w (N, w_dim): normalised z through ``depth`` leaky-ReLU layers. With ``clusters`` (a
    self-conditioned G), the code of the cluster z draws is embedded in w_dim numbers, normalised and
    concatenated to z first, as StyleGAN2-ADA's mapping does with a class."""

    def __init__(self, z_dim: int, w_dim: int, depth: int, clusters: int = 0):
        super().__init__()
        dims = [z_dim + (w_dim if clusters else 0)] + [w_dim] * depth
        if clusters:
            self.embed = EqualLinear(clusters, w_dim)
        self.layers = nn.ModuleList(EqualLinear(a, b, lr_mul=MAPPING_LR) for a, b in zip(dims[:-1], dims[1:]))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, code: torch.Tensor | None = None) -> torch.Tensor:
        x = normalize_2nd_moment(z)
        if code is not None:
            x = torch.cat([x, normalize_2nd_moment(self.embed(code))], 1)
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2) * math.sqrt(2)
        return x


class ModulatedConv(nn.Module):
    """A k x k convolution whose weights are scaled per input channel by the sample's style, then (when
    ``demodulate``) per output channel back to unit expected variance (StyleGAN2, section 2.2)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, w_dim: int, demodulate: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.affine = EqualLinear(w_dim, in_ch, bias_init=1.0)     # the style: starts at 1 (no change)
        self.scale, self.demodulate, self.padding = 1 / math.sqrt(in_ch * kernel * kernel), demodulate, kernel // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        s = self.affine(w)                                                   # (N, in)
        wt = self.weight[None] * self.scale * s[:, None, :, None, None]      # (N, out, in, k, k)
        if self.demodulate:
            wt = wt * torch.rsqrt(wt.pow(2).sum((2, 3, 4), keepdim=True) + 1e-8)
        out = F.conv2d(x.reshape(1, N * C, H, W), wt.reshape(-1, C, *wt.shape[3:]), padding=self.padding, groups=N)
        return out.reshape(N, -1, H, W)


class StyleLayer(nn.Module):
    """Modulated 3x3 conv (after a 2x bilinear upsampling when ``up``), noise with a learned strength, bias,
    leaky ReLU. ``noise_const`` is the layer's stored noise (noise_mode "const")."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, side: int, up: bool = False):
        super().__init__()
        self.up = up
        self.conv = ModulatedConv(in_ch, out_ch, 3, w_dim)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(1, 1, side, side))
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.act = nn.LeakyReLU(0.2)       # a module, so /inside can read and switch this layer's units

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = self.conv(x, w)
        if noise_mode == "const":
            x = x + self.noise_const * self.noise_strength
        elif noise_mode == "random":
            x = x + torch.randn(len(x), 1, *x.shape[2:], device=x.device, dtype=x.dtype) * self.noise_strength
        return self.act(x + self.bias[None, :, None, None]) * math.sqrt(2)


class ToRGB(nn.Module):
    """A modulated 1x1 convolution to image channels, without demodulation (StyleGAN2's tRGB)."""

    def __init__(self, in_ch: int, channels: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv(in_ch, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


class SynthesisNetwork(nn.Module):
    """ws (N, num_ws, w_dim) -> images: a constant at the base side, then one block per doubling."""

    def __init__(self, w_dim: int, img_shape: tuple, width: int):
        super().__init__()
        channels, side = img_shape[0], img_shape[1]
        base, n_up = base_resolution(side)
        ch = [min(width * 2 ** (n_up - i), 8 * width) for i in range(n_up + 1)]   # channels per resolution
        self.const = nn.Parameter(torch.randn(ch[0], base, base))
        self.convs = nn.ModuleList([StyleLayer(ch[0], ch[0], w_dim, base)])
        self.torgbs = nn.ModuleList([ToRGB(ch[0], channels, w_dim)])
        for i in range(1, n_up + 1):
            s = base * 2 ** i
            self.convs.extend([StyleLayer(ch[i - 1], ch[i], w_dim, s, up=True), StyleLayer(ch[i], ch[i], w_dim, s)])
            self.torgbs.append(ToRGB(ch[i], channels, w_dim))
        self.num_ws = 2 * (n_up + 1)

    def forward(self, ws: torch.Tensor, noise_mode="const", stop_at: int | None = None) -> torch.Tensor:
        """The image; with ``stop_at`` (a block index) the image of that coarser resolution instead.
        ``noise_mode``: one mode for every layer, or a sequence of one per conv (conv i takes ws[i])."""
        return skip_synthesis(self.const, self.convs, self.torgbs, ws, noise_mode, stop_at,
                              lambda img, b: F.interpolate(img, scale_factor=2, mode="bilinear", align_corners=False))


def skip_synthesis(const, convs, torgbs, ws, noise_mode, stop_at, upsample) -> torch.Tensor:
    """StyleGAN2's skip synthesis in NVlabs' ws order, for any layers of that shape: the constant through
    convs[0] (ws[0]) and torgbs[0] (ws[1]); then per block b two convs (ws[2b-1], ws[2b]) and an image added to
    ``upsample(img, b)`` (torgbs[b], ws[2b+1]). ``stop_at``: the image of that block instead of the last."""
    modes = noise_modes(noise_mode, len(convs))
    x = const[None].expand(len(ws), *const.shape)
    x = convs[0](x, ws[:, 0], modes[0])
    img = torgbs[0](x, ws[:, 1])
    for b in range(1, len(torgbs)):
        if stop_at is not None and b > stop_at:
            break
        x = convs[2 * b - 1](x, ws[:, 2 * b - 1], modes[2 * b - 1])
        x = convs[2 * b](x, ws[:, 2 * b], modes[2 * b])
        img = upsample(img, b) + torgbs[b](x, ws[:, 2 * b + 1])
    return img


class StyleGANGenerator(ClusterCode, Generator):
    """The style-based generator: ``mapping`` then ``synthesis`` (see the module's docstring).

    Example:
        >>> G = StyleGANGenerator(z_dim=16, w_dim=16, img_shape=(1, 28, 28), width=8, mapping_depth=2)
        >>> G.num_ws, G(torch.randn(2, 16)).shape
        (6, torch.Size([2, 1, 28, 28]))
    """
    has_w = True

    def __init__(self, z_dim: int, w_dim: int, img_shape: tuple, width: int = 32, mapping_depth: int = 4,
                 clusters: int = 0, cluster_temperature: float = 0.05):
        super().__init__()
        self.z_dim, self.w_dim, self.img_shape = z_dim, w_dim, tuple(img_shape)
        self.clusters, self.cluster_temperature = clusters, cluster_temperature
        if clusters:
            assert clusters <= z_dim, "the cluster is read from the first `clusters` entries of z"
            self.register_buffer("cluster_offset", torch.zeros(clusters))  # set by the trainer
        self.mapping_net = MappingNetwork(z_dim, w_dim, mapping_depth, clusters)
        self.synthesis_net = SynthesisNetwork(w_dim, self.img_shape, width)
        self.num_ws = self.synthesis_net.num_ws

    @property
    def w_avg(self) -> torch.Tensor:
        return self.mapping_net.w_avg

    def mapping(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        """w for each z, (N, w_dim); ``psi`` < 1 moves it toward the mean w (the truncation trick)."""
        w = self.mapping_net(z, self.cluster_code(z) if self.clusters else None)
        return w if psi == 1 else self.w_avg.lerp(w, psi)

    def synthesis(self, ws: torch.Tensor, noise_mode="const", stop_at: int | None = None) -> torch.Tensor:
        """Images for ws (N, num_ws, w_dim), one w per layer in NVlabs' order. ``noise_mode``: one mode, or one
        per conv layer (conv i takes ws[i]); ``stop_at``: the image of that block's (coarser) resolution."""
        if ws.dim() != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be (N, {self.num_ws}, {self.w_dim}), got {tuple(ws.shape)}.")
        return self.synthesis_net(ws, noise_mode, stop_at)

    @property
    def n_convs(self) -> int:
        return len(self.synthesis_net.convs)

    def conv_sides(self) -> list[int]:
        """The side of each conv layer's output, in order (conv i takes ws[i])."""
        return [int(c.noise_const.shape[-1]) for c in self.synthesis_net.convs]

    def style_layers(self) -> list[tuple[int, nn.Module]]:
        """(ws index, the layer's style affine (w_dim -> in channels)) for every modulated layer: what SeFa on
        the modulation weights factorises."""
        out = [(i, c.conv.affine) for i, c in enumerate(self.synthesis_net.convs)]
        return out + [(2 * b + 1, t.conv.affine) for b, t in enumerate(self.synthesis_net.torgbs)]

    @torch.no_grad()
    def track_w_avg(self, w: torch.Tensor) -> None:
        """Move the mean w toward this batch's (training only)."""
        self.mapping_net.w_avg.lerp_(w.detach().mean(0), 1 - W_AVG_BETA)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, noise_mode: str = "const",
                psi: float = 1.0) -> torch.Tensor:
        assert z.dim() == 2 and z.shape[1] == self.z_dim, f"z must be (B, {self.z_dim}), got {tuple(z.shape)}"
        w = self.mapping(z, psi)
        return self.synthesis(w[:, None].expand(-1, self.num_ws, -1), noise_mode)

    def latent_weight(self) -> torch.Tensor:
        """The mapping network's first layer, (w_dim, z_dim): what first reads z."""
        layer = self.mapping_net.layers[0]
        return (layer.weight * layer.scale)[:, : self.z_dim]

    def inside_layers(self) -> dict[str, nn.Module]:
        side = lambda i: self.synthesis_net.convs[i].noise_const.shape[-1]  # noqa: E731
        return {f"conv {i} ({side(i)}x{side(i)})": c.act for i, c in enumerate(self.synthesis_net.convs)}


class StyleGANDiscriminator(NearestCluster, Discriminator):
    """StyleGAN2's residual discriminator, scaled down: fromRGB, residual blocks that halve the side (skip path
    1x1 and both summed / sqrt(2)), minibatch std, a 3x3 conv and two dense layers to one logit. With
    ``clusters`` it is told each image's cluster through a projection (Miyato & Koyama 2018, as StyleGAN2-ADA's
    conditional D): the logit gains the dot product of the last features with the cluster's embedding."""

    def __init__(self, img_shape: tuple, width: int = 32, clusters: int = 0):
        super().__init__()
        self.img_shape, self.clusters = tuple(img_shape), clusters
        c, side = img_shape[0], img_shape[1]
        base, n_down = base_resolution(side)
        ch = [min(width * 2 ** i, 8 * width) for i in range(n_down + 1)]
        self.from_rgb = nn.Conv2d(c, ch[0], 1)
        self.blocks = nn.ModuleList()
        for i in range(n_down):
            self.blocks.append(nn.ModuleDict({
                "conv0": nn.Conv2d(ch[i], ch[i], 3, padding=1), "conv1": nn.Conv2d(ch[i], ch[i + 1], 3, padding=1),
                "skip": nn.Conv2d(ch[i], ch[i + 1], 1, bias=False)}))
        self.mbstd = MinibatchStd()
        self.conv = nn.Conv2d(ch[-1] + 1, ch[-1], 3, padding=1)
        self.fc = nn.Linear(ch[-1] * base * base, ch[-1])
        self.out = nn.Linear(ch[-1], 1)
        if clusters:
            self.embed = nn.Embedding(clusters, ch[-1])
            self.register_buffer("centroids", torch.zeros(clusters, c * side * side))  # set by the trainer

    def penultimate(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = F.leaky_relu(self.from_rgb(x), 0.2)
        for b in self.blocks:
            skip = F.avg_pool2d(b["skip"](h), 2)
            h = F.leaky_relu(b["conv0"](h), 0.2)
            h = F.avg_pool2d(F.leaky_relu(b["conv1"](h), 0.2), 2)
            h = (h + skip) / math.sqrt(2)
        N, C, H, W = h.shape
        spread = h.std(0, unbiased=False).mean() if N > 1 else h.new_zeros(())
        h = torch.cat([h, spread.expand(N, 1, H, W)], 1)        # minibatch std as one more feature map
        h = F.leaky_relu(self.conv(h), 0.2)
        return F.leaky_relu(self.fc(h.flatten(1)), 0.2)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.penultimate(x)
        logit = self.out(h).squeeze(1)                           # (B,) logits
        if self.clusters:
            y = self.cluster_of(x) if y is None else y
            logit = logit + (self.embed(y) * h).sum(1) / math.sqrt(h.shape[1])
        return logit


def _check(cfg) -> None:
    c, h, w = cfg.img_shape
    if h != w or base_resolution(h)[0] > 8:
        raise ValueError(f"The style-based generator makes square images whose side halves evenly down to 4-8 "
                         f"pixels (28, 32, 64, ...), got {h}x{w}.")


def _objective(trainer, dataset=None):
    from gan_core.training.objectives import StyleGame

    return StyleGame(trainer, dataset)


register(Family(
    name="stylegan", task="noise->image", label="StyleGAN2 (style-based)", critics=("plain",), check=_check,
    objective=_objective, conditionings=("none", "clusters"),
    fields=("w_dim", "mapping_depth"),
    generator=lambda cfg: StyleGANGenerator(cfg.z_dim, cfg.w_dim or cfg.z_dim, cfg.img_shape, cfg.width,
                                            cfg.mapping_depth or MAPPING_DEPTH, cfg.clusters,
                                            cfg.cluster_temperature),
    discriminator=lambda cfg: StyleGANDiscriminator(cfg.img_shape, cfg.width, cfg.clusters)))
