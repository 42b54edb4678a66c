"""One intake for untrusted images: every uploaded or drawn image goes through ``read_image``.

It reads what the file declares (format, width x height, frame count) before decoding, refuses by pixel count
against the caller's limits (never Pillow's process-wide ``Image.MAX_IMAGE_PIXELS``, which this module does not
touch), decodes only the first frame, reduced at decode time where the format allows (JPEG's DCT scaling,
Pillow's ``draft``), shrinks what is still larger than the caller needs, and returns uint8 pixels. So memory is
bounded by the limits, not by what a file claims: a 140-byte WebP declaring 4000x4000 is refused in
microseconds.

Example:
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("L", (300, 200), 255).save(buf, "PNG")
    >>> read_image(buf.getvalue(), "your photo", DIGIT).size
    (300, 200)
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_core.intake.errors import IntakeError

NAMES = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "GIF": "GIF", "BMP": "BMP"}


@dataclass(frozen=True)
class ImageLimits:
    """What one kind of image input may be."""

    formats: tuple[str, ...]              # Pillow format names, e.g. ("PNG", "JPEG", "WEBP")
    max_bytes: int                        # the encoded file
    max_pixels: int                       # declared width x height, after JPEG draft reduction (see below)
    max_side: int | None = None           # declared pixels a side (None: only max_pixels)
    min_side: int = 1
    max_frames: int | None = None         # declared frames (animated WebP/PNG/GIF); None: any, first one used
    reduce_to: int | None = None          # decode/shrink so that neither side exceeds this (None: full size)
    max_jpeg_pixels: int | None = None    # a JPEG may declare up to this many, as it decodes reduced


# Find your digit: photos and scans of one digit (a phone photo is 12 M pixels; it is decoded at 1/8 scale)
DIGIT = ImageLimits(formats=("PNG", "JPEG", "WEBP", "GIF", "BMP"), max_bytes=5_000_000, max_pixels=4_200_000,
                    max_side=4000, min_side=8, reduce_to=512, max_jpeg_pixels=16_000_000)
# The drawing canvas (224 CSS pixels, up to 4x on high-density screens)
CANVAS = ImageLimits(formats=("PNG",), max_bytes=2_000_000, max_pixels=1024 * 1024, max_side=1024, min_side=8,
                     max_frames=1, reduce_to=512)


def _frames(img: Image.Image) -> int:
    """Frames the file declares, where its header says so without decoding (WebP, APNG); else 1. GIF frames
    are not counted (counting them decodes them): only the first frame is ever read."""
    if img.format == "GIF":
        return 1
    try:
        return int(getattr(img, "n_frames", 1))
    except (OSError, ValueError, EOFError):
        return 1


def check_header(img: Image.Image, what: str, limits: ImageLimits) -> None:
    """Refuse an opened (not yet decoded) image by what it declares."""
    if img.format not in limits.formats:
        names = ", ".join(NAMES.get(f, f) for f in limits.formats)
        raise IntakeError(f"{what} is a {img.format or 'unknown'} file; this takes {names}.")
    w, h = img.size
    if limits.max_side is not None and max(w, h) > limits.max_side:
        raise IntakeError(f"{what} is {w}x{h} pixels; images may be at most {limits.max_side} a side.")
    if min(w, h) < limits.min_side:
        raise IntakeError(f"{what} is {w}x{h} pixels: too small (at least {limits.min_side} a side).")
    cap = limits.max_jpeg_pixels if img.format == "JPEG" and limits.max_jpeg_pixels else limits.max_pixels
    if w * h > cap:
        raise IntakeError(f"{what} is {w:,}x{h:,} pixels ({w * h / 1e6:.1f} M); at most {cap / 1e6:.1f} M.")
    frames = _frames(img)
    if limits.max_frames is not None and frames > limits.max_frames:
        raise IntakeError(f"{what} has {frames} frames; a still image is needed.")


def open_image(raw: bytes, what: str, limits: ImageLimits) -> Image.Image:
    """The image opened (header read, nothing decoded) and checked against ``limits``. Close it after use."""
    if len(raw) > limits.max_bytes:
        raise IntakeError(f"{what} is {len(raw) / 1e6:.1f} MB; at most {limits.max_bytes / 1e6:.0f} MB.")
    try:
        with warnings.catch_warnings():  # Pillow's own bomb warning: our limits are lower and checked below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # only these parsers run (plus GIF and BMP, so a renamed one is refused by name, not as garbage)
            img = Image.open(io.BytesIO(raw), formats=sorted(set(limits.formats) | {"GIF", "BMP"}))
    except Image.DecompressionBombError:
        raise IntakeError(f"{what} declares more pixels than any image this app takes.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        names = ", ".join(NAMES.get(f, f) for f in limits.formats)
        raise IntakeError(f"{what} is not a readable image (this takes {names}).") from None
    try:
        check_header(img, what, limits)
    except IntakeError:
        img.close()
        raise
    return img


def read_image(raw: bytes, what: str, limits: ImageLimits, exif: bool = True) -> Image.Image:
    """The first frame of an untrusted image, decoded within ``limits``: a loaded PIL image whose sides are at
    most ``limits.reduce_to`` (when set), with its EXIF orientation applied when ``exif``.

    Raises:
        IntakeError: too many bytes, pixels or frames declared, an unsupported format, or a file that does not
        decode in full (truncated, damaged).
    """
    img = open_image(raw, what, limits)
    try:
        if limits.reduce_to and img.format == "JPEG":
            # the DCT decodes at 1/2, 1/4 or 1/8 scale directly: a 12 M-pixel photo never exists in memory
            img.draft(img.mode, (limits.reduce_to, limits.reduce_to))
        w, h = img.size
        if w * h > limits.max_pixels:  # a JPEG that could not be reduced enough
            raise IntakeError(f"{what} is {w:,}x{h:,} pixels after reduction; at most "
                              f"{limits.max_pixels / 1e6:.1f} M.")
        img.load()                      # the first frame only; a truncated file fails here
        if exif:
            img = ImageOps.exif_transpose(img)
        if limits.reduce_to and max(img.size) > limits.reduce_to:
            img.thumbnail((limits.reduce_to, limits.reduce_to), Image.Resampling.BOX)
        return img
    except IntakeError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
        raise IntakeError(f"{what} is not a readable image: damaged or cut short ({str(e)[:60]}).") from None


def read_pixels(raw: bytes, what: str, limits: ImageLimits) -> np.ndarray:
    """``read_image`` as uint8 pixels: (H, W, 4) RGBA when the image has transparency, else (H, W, 3) RGB or
    (H, W) grey."""
    img = read_image(raw, what, limits)
    if "A" in img.getbands() or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
    elif img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8)
