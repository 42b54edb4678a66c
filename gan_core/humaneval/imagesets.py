"""Uploaded image sets as a quiz source: one zip of real images and one zip per model of its samples.

Two steps, both before anything is stored:

1. ``read_image_zip`` / ``iter_image_zip`` check a zip through the intake (``gan_core.intake``): size and count
   caps, every member's declared size, compression and inflation ratio checked before it is inflated (a
   990 KB chunk of zeros padding an 8x8 PNG is a zip bomb, whatever the member's size), the set's inflated
   total capped, no path tricks, only PNG/JPEG/WebP files that decode in full (truncated or disguised files
   are named in the message), at most ``MAX_SIDE`` pixels a side, counted from each file's header before it
   is decoded (Pillow's process-wide pixel limit is never touched).
2. ``normalise`` sends every image, real or fake, down one path: decode, apply the EXIF orientation, drop
   every other piece of metadata, convert to the session's colour mode, centre-crop to a square, resize to
   the session's display size, pass through the same JPEG round trip (so a real set of JPEGs and a fake set
   of PNGs end up with the same compression artefacts), and encode as PNG with fixed settings. Nothing about
   an image's origin — file name, format, size, metadata, compression — survives into the bytes a
   participant receives.

``prepare_sets`` does both for a whole comparison, one image at a time (a set's raw files are never all held),
within a cap on images and bytes per session; the app runs it in a worker process (``gan_core.serve.worktasks``).

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
import os
import time
from pathlib import PurePosixPath
from typing import Callable, Iterator

from PIL import Image, ImageOps

from gan_core.intake import IntakeError
from gan_core.intake.archives import ZipLimits, open_zip, read_member, safe_path
from gan_core.intake.images import ImageLimits, open_image, read_image

MAX_ZIP_BYTES = 50_000_000         # one uploaded zip (Streamlit's maxUploadSize is set to the same)
MAX_IMAGE_BYTES = 20_000_000       # one image file inside it
MAX_IMAGES = 2000                  # images per set
MIN_IMAGES = 4
MAX_SIDE = 1024                    # pixels a side, as uploaded
MAX_RATIO = 200                    # inflated / compressed size of a member: more is a zip bomb
MAX_SET_BYTES = 250_000_000        # one set's files, inflated
MAX_SESSION_IMAGES = 6000          # images of one comparison session, all sets
MAX_SESSION_BYTES = 300_000_000    # normalised PNGs of one session, as stored
FORMATS = ("PNG", "JPEG", "WEBP")
EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp"}
DISPLAY_SIZES = (64, 96, 128, 192, 256)
MODES = ("L", "RGB")
JPEG_QUALITY = 92                  # the shared round trip: visually lossless, same artefacts for every set
SET_IMAGE = ImageLimits(formats=FORMATS, max_bytes=MAX_IMAGE_BYTES, max_pixels=MAX_SIDE * MAX_SIDE,
                        max_side=MAX_SIDE, min_side=8)
SET_ZIP = ZipLimits(max_members=MAX_IMAGES, max_member_bytes=MAX_IMAGE_BYTES, max_total_bytes=MAX_SET_BYTES,
                    max_ratio=MAX_RATIO)


class ImageSetError(ValueError):
    """An uploaded image set that cannot be used; the message names the set, the file and the problem."""


def _skipped(name: str) -> bool:
    """Folders and the files operating systems add to zips (macOS resource forks, thumbnails, dot files)."""
    p = PurePosixPath(name)
    return name.endswith("/") or p.parts[:1] == ("__MACOSX",) or p.name.startswith(".") or \
        p.name.lower() in ("thumbs.db", "desktop.ini")


def iter_image_zip(data: bytes | str | os.PathLike, what: str, max_images: int = MAX_IMAGES) -> Iterator[bytes]:
    """The images of an uploaded zip as raw file bytes, sorted by name, each checked before it is yielded; only
    one member is inflated at a time.

    Raises:
        ImageSetError: saying what is wrong and with which file.
    """
    if isinstance(data, (bytes, bytearray)) and len(data) > MAX_ZIP_BYTES:
        raise ImageSetError(f"{what}: the zip is larger than {MAX_ZIP_BYTES // 1_000_000} MB.")
    try:
        zf, _ = open_zip(data, what, SET_ZIP, counted=lambda i: False)   # a zip at all? nothing is read yet
        infos = sorted((i for i in zf.infolist() if not _skipped(i.filename)), key=lambda i: i.filename)
    except IntakeError:
        raise ImageSetError(f"{what}: the upload is not a zip file.") from None
    with zf:
        if len(infos) > max_images:
            raise ImageSetError(f"{what}: the zip holds {len(infos)} files; a set has at most {max_images} images.")
        if len(infos) < MIN_IMAGES:
            raise ImageSetError(f"{what}: the zip holds {len(infos)} images; a set needs at least {MIN_IMAGES}.")
        for info in infos:
            name, p = info.filename, PurePosixPath(info.filename)
            if not safe_path(name):
                raise ImageSetError(f"{what}: {name[:80]!r} has a path outside the zip's folder; refusing the zip.")
            if p.suffix.lower() not in EXTENSIONS:
                raise ImageSetError(f"{what}: {p.name[:80]!r} is not a PNG, JPEG or WebP image (by its name).")
        try:  # every member's declared size, method and ratio, and the set's total, before anything inflates
            open_zip(data, what, SET_ZIP, counted=lambda i: not _skipped(i.filename))[0].close()
            for info in infos:
                raw = read_member(zf, info, what)
                _check_image(raw, f"{what}: {PurePosixPath(info.filename).name[:80]!r}")
                yield raw
        except IntakeError as e:
            raise ImageSetError(str(e)) from None


def read_image_zip(data: bytes, what: str, max_images: int = MAX_IMAGES) -> list[bytes]:
    """``iter_image_zip`` as a list (at most MAX_SET_BYTES of raw files)."""
    return list(iter_image_zip(data, what, max_images))


def _check_image(raw: bytes, label: str) -> None:
    try:
        read_image(raw, label, SET_IMAGE, exif=False)  # decodes every pixel: a truncated file fails here
    except IntakeError as e:
        raise ImageSetError(str(e)) from None


def normalise(raw: bytes, size: int, mode: str) -> bytes:
    """One image through the session's single path to a PNG of ``size`` x ``size`` in ``mode`` ("L"/"RGB").

    The same decoder, orientation, conversion, crop, resampling filter, JPEG round trip and PNG encoder for
    every image: two copies of a picture that differ only in format, size or metadata give the same bytes.
    """
    if size not in DISPLAY_SIZES or mode not in MODES:
        raise ValueError(f"size must be one of {DISPLAY_SIZES} and mode one of {MODES}.")
    try:
        img = read_image(raw, "an image", SET_IMAGE)        # orientation is content; the rest of EXIF is dropped
    except IntakeError as e:
        raise ImageSetError(str(e)) from None
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


def _has_colour(raw: bytes) -> bool:
    try:
        img = open_image(raw, "an image", SET_IMAGE)
    except IntakeError:
        return False
    with img:
        if img.mode in ("L", "LA", "1", "I", "I;16", "F"):
            return False
        small = img.convert("RGB").resize((16, 16))
        r, g, b = small.split()
        return r.tobytes() != g.tobytes() or g.tobytes() != b.tobytes()


def colour_mode(raw_sets: list[list[bytes]]) -> str:
    """"RGB" when any image of any set has colour, else "L"."""
    return "RGB" if any(_has_colour(raw) for raws in raw_sets for raw in raws[:50]) else "L"


def prepare_sets(zips: dict[int, bytes | str | os.PathLike], names: dict[int, str], size: int,
                 progress: Callable[[float, str], None] | None = None,
                 budget: Callable[[float, str], None] | None = None) -> dict[int, list[bytes]]:
    """Every set of a comparison, checked in full and then normalised: {set: [PNG bytes]}.

    Two passes over each zip, one image in memory at a time: the first checks every file and decides the
    session's colour mode (RGB when any of the first 50 images of any set has colour), the second normalises.
    At most MAX_SESSION_IMAGES images and MAX_SESSION_BYTES of output per session. ``budget(seconds, what)``,
    when given, is told the measured cost of the rest after the first 20 images (and may refuse it).
    """
    counts, colour = {}, False
    for k, z in zips.items():
        n = 0
        for i, raw in enumerate(iter_image_zip(z, names[k])):
            colour = colour or (i < 50 and _has_colour(raw))
            n += 1
        counts[k] = n
        if sum(counts.values()) > MAX_SESSION_IMAGES:
            raise ImageSetError(f"The sets hold more than {MAX_SESSION_IMAGES:,} images in all; a session takes "
                                "at most that many.")
        if progress:
            progress(0.2 * len(counts) / len(zips), f"checked {names[k]}")
    mode, total, done, stored = ("RGB" if colour else "L"), sum(counts.values()), 0, 0
    started = time.monotonic()
    out: dict[int, list[bytes]] = {}
    for k, z in zips.items():
        out[k] = []
        for raw in iter_image_zip(z, names[k]):
            png = normalise(raw, size, mode)
            stored += len(png)
            if stored > MAX_SESSION_BYTES:
                raise ImageSetError(f"The prepared images exceed {MAX_SESSION_BYTES // 1_000_000} MB; use fewer "
                                    "images or a smaller display size.")
            out[k].append(png)
            done += 1
            if budget and done == 20 < total:
                budget((time.monotonic() - started) / done * (total - done), f"Preparing {total:,} images")
            if progress and (done % 20 == 0 or done == total):
                progress(0.2 + 0.8 * done / total, f"preparing images: {done} of {total}")
    return out
