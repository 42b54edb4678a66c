"""Showing generated images in the app: crisp nearest-neighbour upscaling."""
from __future__ import annotations

import numpy as np
import streamlit as st

from gan_core.latent.explorer import upscale


def fast_png(img: np.ndarray) -> bytes:
    """A uint8 image (H, W[, C]) as PNG bytes at zlib level 1: lossless like st.image's own PNG (level 6), several
    times faster to make and a little larger. Encoding enlarged images at level 6 was most of a quiz answer's
    and a class change's server time."""
    from gan_core.latent.explorer import png_bytes

    return png_bytes(img, compress_level=1)


def show(image: np.ndarray, scale: int = 8, caption: str | None = None, width: int | None = None) -> None:
    """A uint8 (H, W, C) image, enlarged without blurring."""
    big = upscale(image, scale)
    # output_format="PNG": these bytes are sent as they are (with "auto", Streamlit re-encodes bytes as JPEG)
    st.image(fast_png(big), caption=caption, width=width or "content", output_format="PNG")


def grid(images: np.ndarray, nrow: int, scale: int = 3) -> np.ndarray:
    from gan_core.latent.sampling import image_grid

    return image_grid(images, nrow=nrow, scale=scale)


def inline_html(image: np.ndarray, scale: int = 8, caption: str | None = None, alt: str = "generated image") -> str:
    """The image as a self-contained HTML figure: the small PNG travels inside the page update (no second
    request for a media file) and the browser enlarges it with crisp, nearest-neighbour pixels."""
    import base64
    import html

    from gan_core.latent.explorer import png_bytes

    h, w = image.shape[:2]
    src = "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode()
    cap = (f'<figcaption style="font-size:14px;opacity:.6;text-align:center">{html.escape(caption)}</figcaption>'
           if caption else "")
    # At most `scale` times the size, narrower when the column is (the width/height attributes keep the shape).
    return (f'<figure data-testid="gs-image" style="margin:0;max-width:{w * scale}px">'
            f'<img src="{src}" alt="{html.escape(alt)}" width="{w * scale}" height="{h * scale}" '
            f'style="image-rendering:pixelated;display:block;width:100%;height:auto">{cap}</figure>')


def show_inline(image: np.ndarray, scale: int = 8, caption: str | None = None, alt: str = "generated image") -> None:
    """`show`, for an image that changes at every slider move: see `inline_html`."""
    st.html(inline_html(image, scale, caption, alt))


def scale_for(side: int, target: int = 336) -> int:
    """How many times to enlarge an image of ``side`` pixels so it shows about ``target`` pixels wide (a 28 px
    digit 12x, a 256 px face 1x)."""
    return max(1, target // max(1, int(side)))
