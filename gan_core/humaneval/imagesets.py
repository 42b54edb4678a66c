"""Uploaded image sets as a quiz source: one zip of real images and one zip per model of its samples.

Two steps, both before anything is stored:

1. ``read_image_zip`` checks a zip completely in memory: size and count caps, no path tricks, only PNG/JPEG/
   WebP files that decode in full (truncated or disguised files are named in the message), at most
   ``MAX_SIDE`` pixels a side, and a decompression-bomb guard (each member's size is read from the zip and
   checked before it is inflated, and Pillow's pixel limit is set for the decode).
2. ``normalise`` sends every image, real or fake, down one path: decode, apply the EXIF orientation, drop
   every other piece of metadata, convert to the session's colour mode, centre-crop to a square, resize to
   the session's display size, pass through the same JPEG round trip (so a real set of JPEGs and a fake set
   of PNGs end up with the same compression artefacts), and encode as PNG with fixed settings. Nothing about
   an image's origin — file name, format, size, metadata, compression — survives into the bytes a
   participant receives.

Example:
    >>> import io, zipfile
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as zf:
    ...     for i in range(4):
    ...         b = io.BytesIO(); Image.new("RGB", (80, 60), (i, 2, 3)).save(b, "PNG"); zf.writestr(f"{i}.png", b.getvalue())
    >>> raws = read_image_zip(buf.getvalue(), "real images")
    >>> Image.open(io.BytesIO(normalise(raws[0], 64, "RGB"))).size
    (64, 64)
"""
from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import PurePosixPath

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_ZIP_BYTES = 50_000_000         # one uploaded zip (Streamlit's maxUploadSize is set to the same)
MAX_IMAGE_BYTES = 20_000_000       # one image file inside it
MAX_IMAGES = 2000                  # images per set
MIN_IMAGES = 4
MAX_SIDE = 1024                    # pixels a side, as uploaded
MAX_RATIO = 200                    # inflated / compressed size of a member: more is a zip bomb
FORMATS = {"PNG", "JPEG", "WEBP"}
EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp"}
DISPLAY_SIZES = (64, 96, 128, 192, 256)
MODES = ("L", "RGB")
JPEG_QUALITY = 92                  # the shared round trip: visually lossless, same artefacts for every set


class ImageSetError(ValueError):
    """An uploaded image set that cannot be used; the message names the set, the file and the problem."""


def _skipped(name: str) -> bool:
    """Folders and the files operating systems add to zips (macOS resource forks, thumbnails, dot files)."""
    p = PurePosixPath(name)
    return name.endswith("/") or p.parts[:1] == ("__MACOSX",) or p.name.startswith(".") or \
        p.name.lower() in ("thumbs.db", "desktop.ini")


def read_image_zip(data: bytes, what: str, max_images: int = MAX_IMAGES) -> list[bytes]:
    """The images of an uploaded zip as raw file bytes, sorted by name, after checking every one.

    Args:
        data: the zip's bytes.
        what: how the message names this set ("real images", "model B's images").
    Raises:
        ImageSetError: saying what is wrong and with which file.
    """
    if len(data) > MAX_ZIP_BYTES:
        raise ImageSetError(f"{what}: the zip is larger than {MAX_ZIP_BYTES // 1_000_000} MB.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist() if not _skipped(i.filename)]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImageSetError(f"{what}: the upload is not a zip file.") from None
    if len(infos) > max_images:
        raise ImageSetError(f"{what}: the zip holds {len(infos)} files; a set has at most {max_images} images.")
    if len(infos) < MIN_IMAGES:
        raise ImageSetError(f"{what}: the zip holds {len(infos)} images; a set needs at least {MIN_IMAGES}.")
    raws = []
    for info in sorted(infos, key=lambda i: i.filename):
        name = info.filename
        p = PurePosixPath(name)
        if name.startswith("/") or ".." in p.parts or "\\" in name:
            raise ImageSetError(f"{what}: {name[:80]!r} has a path outside the zip's folder; refusing the zip.")
        if p.suffix.lower() not in EXTENSIONS:
            raise ImageSetError(f"{what}: {p.name[:80]!r} is not a PNG, JPEG or WebP image (by its name).")
        if info.file_size > MAX_IMAGE_BYTES:
            raise ImageSetError(f"{what}: {p.name[:80]!r} is larger than {MAX_IMAGE_BYTES // 1_000_000} MB.")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 1_000_000:
            raise ImageSetError(f"{what}: {p.name[:80]!r} inflates {info.file_size // max(info.compress_size, 1)}"
                                "-fold: it looks like a zip bomb; refusing the zip.")
        try:
            with zf.open(info) as f:
                raw = f.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError):
            raise ImageSetError(f"{what}: {p.name[:80]!r} is damaged inside the zip (bad checksum, encrypted "
                                "or cut short).") from None
        if len(raw) != info.file_size:
            raise ImageSetError(f"{what}: the zip's sizes are inconsistent; refusing it.")
        _check_image(raw, f"{what}: {p.name[:80]!r}")
        raws.append(raw)
    return raws


def _open(raw: bytes) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE * 2  # Pillow refuses (DecompressionBombError) above this
    return Image.open(io.BytesIO(raw))


def _check_image(raw: bytes, label: str) -> None:
    try:
        with _open(raw) as img:
            if img.format not in FORMATS:
                raise ImageSetError(f"{label} is a {img.format} file; use PNG, JPEG or WebP.")
            w, h = img.size
            if max(w, h) > MAX_SIDE:
                raise ImageSetError(f"{label} is {w}x{h} pixels; images may be at most {MAX_SIDE} a side.")
            if min(w, h) < 8:
                raise ImageSetError(f"{label} is {w}x{h} pixels: too small to show.")
            img.load()  # decodes every pixel: a truncated file fails here, not in front of a participant
    except ImageSetError:
        raise
    except Image.DecompressionBombError:
        raise ImageSetError(f"{label} claims more pixels than any image of {MAX_SIDE} a side.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ImageSetError(f"{label} is not a readable image ({str(e)[:60]}).") from None


def normalise(raw: bytes, size: int, mode: str) -> bytes:
    """One image through the session's single path to a PNG of ``size`` x ``size`` in ``mode`` ("L"/"RGB").

    The same decoder, orientation, conversion, crop, resampling filter, JPEG round trip and PNG encoder for
    every image: two copies of a picture that differ only in format, size or metadata give the same bytes.
    """
    if size not in DISPLAY_SIZES or mode not in MODES:
        raise ValueError(f"size must be one of {DISPLAY_SIZES} and mode one of {MODES}.")
    with _open(raw) as img:
        img = ImageOps.exif_transpose(img)           # orientation is content; the rest of EXIF is dropped
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            img = img.convert("RGBA")
            flat = Image.new("RGBA", img.size, (255, 255, 255, 255))  # transparent parts become white
            img = Image.alpha_composite(flat, img)
        img = img.convert("RGB").convert(mode)
        img = ImageOps.fit(img, (size, size), Image.Resampling.LANCZOS)  # centre crop to a square, resize
    jpeg = io.BytesIO()
    img.save(jpeg, "JPEG", quality=JPEG_QUALITY, subsampling=0 if mode == "L" else 2)
    with Image.open(io.BytesIO(jpeg.getvalue())) as j:
        pixels = j.convert(mode)
        clean = Image.frombytes(mode, pixels.size, pixels.tobytes())  # a fresh image: no info, no ICC profile
    out = io.BytesIO()
    clean.save(out, "PNG", compress_level=6)
    return out.getvalue()


def colour_mode(raw_sets: list[list[bytes]]) -> str:
    """"RGB" when any image of any set has colour, else "L"."""
    for raws in raw_sets:
        for raw in raws[:50]:
            with _open(raw) as img:
                if img.mode not in ("L", "LA", "1", "I", "I;16", "F"):
                    small = img.convert("RGB").resize((16, 16))
                    r, g, b = small.split()
                    if r.tobytes() != g.tobytes() or g.tobytes() != b.tobytes():
                        return "RGB"
    return "L"
