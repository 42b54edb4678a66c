"""StyleGAN2 generators trained elsewhere (rosinality/stylegan2-pytorch, NVlabs/stylegan2-ada-pytorch), in plain
PyTorch on the CPU in float32: no custom CUDA ops, nothing of the original code. Written from the StyleGAN2 paper
(Karras et al. 2020) and the two checkpoint layouts (gan_core.hub.stylegan2_import converts either into this
module's state dict).

The network, in the order both originals compute it:

- mapping: z normalised by its second moment (and, for a conditional model, the embedded class normalised the
  same way, concatenated), then ``mapping_depth`` fully connected layers with leaky ReLU (gain sqrt 2), weights
  scaled by ``mapping_lr / sqrt(fan_in)`` (equalized learning rate with the mapping's 0.01 multiplier);
- synthesis from a learned 4x4 constant: per resolution a modulated 3x3 conv (after the base, an upsampling one:
  a transposed convolution of stride 2, then the stored 4x4 FIR filter with gain 4, padding 1), a second one,
  noise (stored constant, random or none) times a learned strength, bias, leaky ReLU times sqrt 2, clamped to
  ``conv_clamp`` when the checkpoint sets one (NVlabs' fp16 layers; honoured here in float32, as its
  ``force_fp32`` does); a modulated 1x1 toRGB (no demodulation, clamped likewise) added to the coarser image
  upsampled by the stored filter (zero insertion, padding 2 and 1, gain 4).
- ws order is NVlabs' (and rosinality's ``inject_index``): ws[0] the 4x4 conv, ws[1] the 4x4 toRGB and the first
  8x8 conv, ws[2] the second 8x8 conv, ws[3] the 8x8 toRGB and the first 16x16 conv, ...; num_ws = 2 log2(size) - 2.

The contract of every style-based G here (see gan_core.latent.wspace): ``G(z, y=None, noise_mode="const")``
returns images NOT clamped; ``mapping(z, psi)``; ``synthesis(ws, noise_mode)``; ``z_dim``, ``w_dim``,
``img_shape``, ``num_ws``, ``w_avg``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.models.common import Generator, as_onehot
from gan_core.models.registry import Family, register
from gan_core.models.stylegan import NOISE_MODES, normalize_2nd_moment, skip_synthesis

SQRT2 = math.sqrt(2)


def upfirdn2d(x: torch.Tensor, f: torch.Tensor, up: int = 1, pad: tuple = (0, 0, 0, 0), gain: float = 1.0):
    """Upsample by zero insertion, pad (x0, x1, y0, y1), convolve each channel with the 2D filter ``f``
    (flipped: a true convolution, as both originals do) times ``gain``."""
    N, C, H, W = x.shape
    if up > 1:
        x = F.pad(x.reshape(N, C, H, 1, W, 1), [0, up - 1, 0, 0, 0, up - 1]).reshape(N, C, H * up, W * up)
    x = F.pad(x, list(pad))
    k = (f.flip([0, 1]) * gain).to(x.dtype)[None, None].expand(C, 1, *f.shape)
    return F.conv2d(x, k, groups=C)


class Dense(nn.Module):
    """A fully connected layer with equalized learning rate; ``act``: leaky ReLU with gain sqrt 2."""

    def __init__(self, in_f: int, out_f: int, lr_mul: float = 1.0, act: bool = False, bias_init: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_f, in_f) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_f,), float(bias_init)))
        self.scale, self.lr_mul, self.act = lr_mul / math.sqrt(in_f), lr_mul, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return F.leaky_relu(x, 0.2) * SQRT2 if self.act else x


def modulated_conv(x, weight, styles, demodulate: bool, up: bool, filt: torch.Tensor | None):
    """A convolution whose weights are scaled per input channel by each sample's style (and, demodulated,
    per output channel back to unit norm); one grouped convolution for the whole batch."""
    N, C, H, W = x.shape
    O, _, k, _ = weight.shape
    w = weight[None] * (styles[:, None, :, None, None] / math.sqrt(C * k * k))   # (N, O, C, k, k)
    if demodulate:
        w = w * torch.rsqrt(w.pow(2).sum((2, 3, 4), keepdim=True) + 1e-8)
    x = x.reshape(1, N * C, H, W)
    if up:
        x = F.conv_transpose2d(x, w.transpose(1, 2).reshape(N * C, O, k, k), stride=2, groups=N)
        x = upfirdn2d(x, filt, pad=(1, 1, 1, 1), gain=4)
    else:
        x = F.conv2d(x, w.reshape(N * O, C, k, k), padding=k // 2, groups=N)
    return x.reshape(N, O, *x.shape[2:])


class StyleConv(nn.Module):
    """Modulated 3x3 conv (upsampling when ``up``), noise, bias, leaky ReLU x sqrt 2, clamp."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, side: int, up: bool, clamp: float):
        super().__init__()
        self.affine = Dense(w_dim, in_ch, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(side, side))
        self.register_buffer("filter", torch.full((4, 4), 1 / 16))    # replaced by the checkpoint's own
        self.up, self.clamp = up, clamp
        self.act = nn.Identity()          # its output is the layer's feature maps (/inside reads and switches it)

    def forward(self, x, w, noise_mode="const"):
        x = modulated_conv(x, self.weight, self.affine(w), True, self.up, self.filter)
        if noise_mode == "const":
            x = x + self.noise_const * self.noise_strength
        elif noise_mode == "random":
            x = x + torch.randn(len(x), 1, *x.shape[2:], dtype=x.dtype) * self.noise_strength
        x = F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * SQRT2
        return self.act(x.clamp(-self.clamp, self.clamp) if self.clamp else x)


class ToImage(nn.Module):
    def __init__(self, in_ch: int, channels: int, w_dim: int, clamp: float):
        super().__init__()
        self.affine = Dense(w_dim, in_ch, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(channels, in_ch, 1, 1))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.clamp = clamp

    def forward(self, x, w):
        x = modulated_conv(x, self.weight, self.affine(w), False, False, None) + self.bias[None, :, None, None]
        return x.clamp(-self.clamp, self.clamp) if self.clamp else x


class StyleGAN2Generator(Generator):
    """A StyleGAN2 generator of any size from 4x4 up, with ``channels[i]`` channels at side 4 * 2**i."""
    has_w = True

    def __init__(self, z_dim: int, w_dim: int, img_shape: tuple, channels: tuple, mapping_depth: int = 8,
                 mapping_lr: float = 0.01, conv_clamp: float = 0.0, num_classes: int = 0):
        super().__init__()
        self.z_dim, self.w_dim, self.img_shape, self.num_classes = z_dim, w_dim, tuple(img_shape), num_classes
        n_res = len(channels)
        if 4 * 2 ** (n_res - 1) != self.img_shape[1]:
            raise ValueError(f"{n_res} resolutions from 4x4 make {4 * 2 ** (n_res - 1)} px, not {self.img_shape[1]}.")
        if num_classes:
            self.embed = Dense(num_classes, w_dim)
        dims = [z_dim + (w_dim if num_classes else 0)] + [w_dim] * mapping_depth
        self.mapping_layers = nn.ModuleList(Dense(a, b, mapping_lr, act=True) for a, b in zip(dims[:-1], dims[1:]))
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.const = nn.Parameter(torch.randn(channels[0], 4, 4))
        clamp = float(conv_clamp or 0)
        self.convs = nn.ModuleList([StyleConv(channels[0], channels[0], w_dim, 4, False, clamp)])
        self.torgbs = nn.ModuleList([ToImage(channels[0], self.img_shape[0], w_dim, clamp)])
        for i in range(1, n_res):
            s = 4 * 2 ** i
            self.convs.append(StyleConv(channels[i - 1], channels[i], w_dim, s, True, clamp))
            self.convs.append(StyleConv(channels[i], channels[i], w_dim, s, False, clamp))
            self.torgbs.append(ToImage(channels[i], self.img_shape[0], w_dim, clamp))
        self.register_buffer("skip_filters", torch.full((max(n_res - 1, 1), 4, 4), 1 / 16))  # the checkpoint's
        self.num_ws = 2 * n_res

    def mapping(self, z: torch.Tensor, psi: float = 1.0, y: torch.Tensor | None = None) -> torch.Tensor:
        x = normalize_2nd_moment(z)
        if self.num_classes:
            x = torch.cat([x, normalize_2nd_moment(self.embed(as_onehot(y, self.num_classes, z)))], 1)
        for layer in self.mapping_layers:
            x = layer(x)
        return x if psi == 1 else self.w_avg.lerp(x, psi)

    def synthesis(self, ws: torch.Tensor, noise_mode="const", stop_at: int | None = None) -> torch.Tensor:
        """Images for ws (N, num_ws, w_dim); ``stop_at``: the image of that resolution block (0 = 4x4), from the
        skip outputs: a real, coarser image of the same synthesis."""
        if ws.dim() != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be (N, {self.num_ws}, {self.w_dim}), got {tuple(ws.shape)}.")
        return skip_synthesis(self.const, self.convs, self.torgbs, ws, noise_mode, stop_at,
                              lambda img, b: upfirdn2d(img, self.skip_filters[b - 1], up=2, pad=(2, 1, 2, 1), gain=4))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, noise_mode: str = "const",
                psi: float = 1.0) -> torch.Tensor:
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {noise_mode!r}.")
        w = self.mapping(z, psi, y)
        return self.synthesis(w[:, None].expand(-1, self.num_ws, -1), noise_mode)

    # ------------------------------------------------------------------ what the pages read
    @property
    def n_convs(self) -> int:
        return len(self.convs)

    def conv_sides(self) -> list[int]:
        return [int(c.noise_const.shape[-1]) for c in self.convs]

    def style_layers(self):
        return [(i, c.affine) for i, c in enumerate(self.convs)] + \
            [(2 * b + 1, t.affine) for b, t in enumerate(self.torgbs)]

    def latent_weight(self) -> torch.Tensor:
        first = self.mapping_layers[0]
        return (first.weight * first.scale)[:, : self.z_dim]

    def inside_layers(self) -> dict[str, nn.Module]:
        return {f"conv {i} ({c.noise_const.shape[-1]}x{c.noise_const.shape[-1]})": c.act for i, c in enumerate(self.convs)}


def _check(cfg) -> None:
    c, h, w = cfg.img_shape
    n = len(cfg.channels)
    if h != w or n < 1 or 4 * 2 ** (n - 1) != h:
        raise ValueError(f"A StyleGAN2 generator makes square images of 4 * 2**k pixels with one channel count per "
                         f"resolution from 4x4; got {h}x{w} and {n} channel counts.")


register(Family(
    name="stylegan2", task="noise->image", label="StyleGAN2 (imported)", critics=("plain",), check=_check,
    conditionings=("none", "class"), networks=("G",),
    fields=("w_dim", "mapping_depth", "channels", "conv_clamp", "mapping_lr"),
    generator=lambda cfg: StyleGAN2Generator(cfg.z_dim, cfg.w_dim or cfg.z_dim, cfg.img_shape, tuple(cfg.channels),
                                             cfg.mapping_depth or 8, cfg.mapping_lr or 0.01, cfg.conv_clamp,
                                             cfg.num_classes),
    discriminator=None))
