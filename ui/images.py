"""Showing generated images in the app: crisp nearest-neighbour upscaling."""
from __future__ import annotations

import numpy as np
import streamlit as st

from gan_core.explore import upscale


def show(image: np.ndarray, scale: int = 8, caption: str | None = None, width: int | None = None) -> None:
    """A uint8 (H, W, C) image, enlarged without blurring."""
    big = upscale(image, scale)
    st.image(big[:, :, 0] if big.shape[2] == 1 else big, caption=caption, width=width or "content")


def grid(images: np.ndarray, nrow: int, scale: int = 3) -> np.ndarray:
    from gan_core.sampler import image_grid

    return image_grid(images, nrow=nrow, scale=scale)
