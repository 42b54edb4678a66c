"""Zips of random pictures for the tests of uploaded image sets."""
from __future__ import annotations

import io
import zipfile

import numpy as np
from PIL import Image


def image_zip(seed: int, n: int = 12, size: tuple = (90, 70), fmt: str = "PNG") -> bytes:
    """A zip of ``n`` random RGB pictures of ``size`` (w, h) in ``fmt``, named img0.png, img1.png, ..."""
    g = np.random.default_rng(seed)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(n):
            b = io.BytesIO()
            Image.fromarray(g.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(b, fmt)
            zf.writestr(f"img{i}.{fmt.lower()}", b.getvalue())
    return buf.getvalue()
