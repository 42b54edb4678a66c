"""Your own 2D data for the playground: points painted on a canvas or read from a CSV, their modes found by
clustering, and a short text form that lets a link carry them.

Every set is stored on a grid of 3/127 (about 0.024) over the playground's square [-3, 3]^2, the precision a
link can carry, so a shared set trains exactly as the original. Training samples the points with a small
Gaussian jitter (JITTER), so the real distribution is a smooth density around what was drawn.

Example:
    >>> pts, note = parse_csv("x,y\\n0,0\\n1,1\\n-1,1")
    >>> len(pts), note is None
    (3, True)
    >>> decode_points(encode_points(pts)).tolist() == pts.tolist()
    True
"""
from __future__ import annotations

import base64
import binascii
import csv
import io
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

USER_DATASET = "drawn"      # TrainConfig.dataset for a user's own points (held in TrainConfig.points)
EXTENT = 3.0                # the playground's square
FIT = 2.5                   # data outside the square are scaled to fit within +-FIT
MAX_POINTS = 5000           # a CSV may hold at most this many rows
MAX_CSV_BYTES = 200_000     # and at most this many bytes
DRAWN_POINTS = 400          # points sampled from a painted canvas (small enough for a link)
JITTER = 0.03               # std of the noise added to every sampled real point
URL_MAX_CHARS = 2000        # a set travels in the link when its text form is at most this long
FIT_POINTS = 1000           # clustering looks at a fixed subsample of at most this many points
_Q = 127 / EXTENT           # quantisation: int8 steps per unit


class PointsError(ValueError):
    """The points cannot be used; the message says why in one sentence."""


def quantise(points: np.ndarray) -> np.ndarray:
    """Points rounded to the grid a link can carry (float32, (N, 2))."""
    q = np.clip(np.round(np.asarray(points, dtype=np.float64) * _Q), -127, 127)
    return (q / _Q).astype(np.float32)


def _checked(points: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Scale into the square if needed, quantise, and refuse sets that are not a distribution."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise PointsError("Points need exactly two numbers each: x and y.")
    if len(pts) > MAX_POINTS:
        raise PointsError(f"Too many points: {len(pts):,}; the playground takes at most {MAX_POINTS:,}.")
    if not np.isfinite(pts).all():
        raise PointsError("Some values are not finite numbers (NaN or infinity).")
    if len(np.unique(pts, axis=0)) < 2:
        raise PointsError("All the points are the same point: a GAN needs a spread of points to learn from.")
    note = None
    if np.abs(pts).max() > EXTENT - 0.2:
        # in units of the largest magnitude first, so hi - lo and the centre cannot overflow (1.7e308 - -1.7e308)
        unit = float(np.abs(pts).max())
        u = pts / unit
        lo, hi = u.min(0), u.max(0)
        centre_u, half_u = (lo + hi) / 2, float((hi - lo).max()) / 2
        centre, scale = centre_u * unit, FIT / half_u / unit
        pts = (u - centre_u) * (FIT / half_u)
        note = (f"Your points were shifted by {-centre[0]:.3g}, {-centre[1]:.3g} and scaled by {scale:.3g} to fit "
                f"the playground's square [-{EXTENT:g}, {EXTENT:g}]².")
    out = quantise(pts)
    if len(np.unique(out, axis=0)) < 2:
        raise PointsError("The points are too close together to tell apart on the playground's grid "
                          f"({1 / _Q:.3f}); spread them out.")
    return out, note


def parse_csv(text: str | bytes) -> tuple[np.ndarray, str | None]:
    """Points from CSV text: two columns x,y, an optional header line, lines starting with # skipped;
    commas, semicolons, tabs or spaces between the numbers. Returns (points, note about scaling or None).
    Raises PointsError naming the first bad line."""
    if isinstance(text, bytes):
        if len(text) > MAX_CSV_BYTES:
            raise PointsError(f"The file is {len(text):,} bytes; at most {MAX_CSV_BYTES:,} are read.")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PointsError("The file is not text (UTF-8): save it as CSV.") from None
    if len(text) > MAX_CSV_BYTES:
        raise PointsError(f"The text is {len(text):,} characters; at most {MAX_CSV_BYTES:,} are read.")
    rows: list[tuple[float, float]] = []
    for n, raw in enumerate(io.StringIO(text), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c for c in re.split(r"[,;\t ]+", line) if c]
        try:
            vals = [float(c) for c in cells]
        except ValueError:
            if not rows and n == _first_line(text):
                continue  # a header such as "x,y"
            bad = next(c for c in cells if not _is_number(c))
            raise PointsError(f"Line {n}: {bad[:20]!r} is not a number.") from None
        if len(vals) != 2:
            raise PointsError(f"Line {n} has {len(vals)} values; each line needs two: x,y.")
        if not all(np.isfinite(vals)):
            raise PointsError(f"Line {n} holds a value that is not a finite number (NaN or infinity).")
        rows.append((vals[0], vals[1]))
        if len(rows) > MAX_POINTS:
            raise PointsError(f"More than {MAX_POINTS:,} points; the playground takes at most {MAX_POINTS:,}.")
    if not rows:
        raise PointsError("No points found: the text needs lines of two numbers, x,y.")
    return _checked(np.array(rows))


def _first_line(text: str) -> int:
    for n, raw in enumerate(io.StringIO(text), start=1):
        if raw.strip() and not raw.strip().startswith("#"):
            return n
    return 0


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def to_csv(points: np.ndarray) -> str:
    """The points as CSV text with a header, readable by parse_csv."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["x", "y"])
    w.writerows([f"{x:.4g}", f"{y:.4g}"] for x, y in np.asarray(points, dtype=np.float64))
    return buf.getvalue()


def points_from_ink(rgba: np.ndarray, n: int = DRAWN_POINTS, seed: int = 0) -> np.ndarray:
    """``n`` points spread over the painted pixels of a canvas image (H, W, 4) that covers the square: each
    painted pixel is equally likely, so a thick brush stroke is a wide cloud and a dot a small one."""
    a = np.asarray(rgba)
    if a.ndim != 3 or a.shape[2] < 4 or min(a.shape[:2]) < 8:
        raise PointsError("The canvas image has the wrong shape.")
    rows, cols = np.nonzero(a[..., 3] > 0)
    if len(rows) == 0:
        raise PointsError("Nothing is drawn yet: paint on the square first.")
    rng = np.random.default_rng(seed)
    pick = rng.integers(len(rows), size=n)
    h, w = a.shape[:2]
    x = (cols[pick] + rng.random(n)) / w * 2 * EXTENT - EXTENT
    y = EXTENT - (rows[pick] + rng.random(n)) / h * 2 * EXTENT
    return _checked(np.stack([x, y], 1))[0]


def encode_points(points: np.ndarray) -> str:
    """The text form for a link: int8 grid steps, zlib, base64url (no padding)."""
    q = np.clip(np.round(np.asarray(points, dtype=np.float64) * _Q), -127, 127).astype(np.int8)
    return base64.urlsafe_b64encode(zlib.compress(q.tobytes(), 9)).decode().rstrip("=")


def decode_points(text: str) -> np.ndarray:
    """The points of encode_points's text; PointsError for anything else (length, alphabet, size)."""
    if not isinstance(text, str) or not 4 <= len(text) <= 4 * URL_MAX_CHARS:
        raise PointsError("The link's point set has the wrong length.")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise PointsError("The link's point set holds characters it should not.")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        d = zlib.decompressobj()
        data = d.decompress(raw, 2 * MAX_POINTS + 1)      # bounded: a small text cannot expand without limit
    except (binascii.Error, zlib.error, ValueError):
        raise PointsError("The link's point set is damaged.") from None
    if len(data) > 2 * MAX_POINTS or len(data) % 2 or d.unconsumed_tail:
        raise PointsError("The link's point set is damaged.")
    q = np.frombuffer(data, dtype=np.int8).reshape(-1, 2)
    pts, _ = _checked(q.astype(np.float64) / _Q)
    return pts


def link_text(points: np.ndarray) -> str | None:
    """encode_points's text when it is short enough for a link, else None (offer a download instead)."""
    t = encode_points(points)
    return t if len(t) <= URL_MAX_CHARS else None


def sample(points: torch.Tensor, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` real points: drawn points chosen at random, each with Gaussian jitter of std JITTER."""
    idx = torch.randint(len(points), (n,), generator=generator)
    return points[idx] + JITTER * torch.randn(n, 2, generator=generator)


@dataclass(frozen=True)
class Modes:
    """The modes of a point set: the groups of points that hang together (no gap wider than LINK between
    neighbours), each with its share of the points and a centre (the point nearest its mean)."""
    points: np.ndarray     # (M, 2) the reference points, each in one mode
    labels: np.ndarray     # (M,) the mode of each
    shares: np.ndarray     # (K,) each mode's share of the real points
    centres: np.ndarray    # (K, 2)

    def __len__(self) -> int:
        return len(self.shares)

    def covered(self, points: torch.Tensor | np.ndarray) -> int:
        """Modes that hold at least a quarter of their real share of the generated points, counting a point
        for the mode of the nearest real point when it lies within NEAR of it — for equal modes this is the
        playground's measure for its mixtures (a quarter of a fair share)."""
        x = torch.as_tensor(np.asarray(points), dtype=torch.float32)
        d, nn = torch.cdist(x, torch.from_numpy(self.points)).min(1)
        lab = torch.from_numpy(self.labels)[nn[d <= NEAR]]
        counts = torch.bincount(lab, minlength=len(self)).numpy() / max(len(x), 1)
        return int((counts >= self.shares / 4).sum())


LINK = 0.25        # points closer than this belong to the same mode (single-linkage clustering)
NEAR = 0.15        # a generated point within this of a real point counts for that point's mode (5 jitters)
MIN_MODE_SHARE = 0.01   # groups with fewer of the points are strays, not modes


def find_modes(points: np.ndarray, seed: int = 0) -> Modes:
    """Cluster the points into modes: single-linkage clustering cut at LINK, i.e. the groups separated by
    gaps, whatever their shape (a blob, a stroke, a spiral arm). Groups under MIN_MODE_SHARE are left out.
    At most FIT_POINTS points (a fixed subsample) are used. Cached per point set."""
    pts = np.asarray(points, dtype=np.float32)
    return _find_modes(pts.tobytes(), seed)


@lru_cache(maxsize=64)
def _find_modes(raw: bytes, seed: int) -> Modes:
    from sklearn.cluster import AgglomerativeClustering

    x = np.frombuffer(raw, dtype=np.float32).reshape(-1, 2)
    if len(x) > FIT_POINTS:
        x = x[np.random.default_rng(seed).choice(len(x), FIT_POINTS, replace=False)]
    lab = AgglomerativeClustering(n_clusters=None, distance_threshold=LINK, linkage="single").fit_predict(x)
    keep = [k for k in np.unique(lab) if (lab == k).mean() >= MIN_MODE_SHARE]
    order = sorted(keep, key=lambda k: tuple(x[lab == k].mean(0)))          # a stable order: by x, then y
    new = {k: i for i, k in enumerate(order)}
    mask = np.isin(lab, order)
    x, lab = x[mask], np.array([new[k] for k in lab[mask]], dtype=np.int64)
    shares = np.bincount(lab, minlength=len(order)) / len(lab)
    centres = []
    for i in range(len(order)):
        members = x[lab == i]
        centres.append(members[np.linalg.norm(members - members.mean(0), axis=1).argmin()])
    return Modes(np.ascontiguousarray(x), lab, shares, np.array(centres, dtype=np.float32).reshape(-1, 2))
