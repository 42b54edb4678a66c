"""Uploaded image sets: every bad input gets a message naming it; every image leaves by one path."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from gan_core.humaneval.imagesets import ImageSetError, colour_mode, normalise, read_image_zip


def picture(seed=0, size=(96, 80), mode="RGB") -> Image.Image:
    g = np.random.default_rng(seed)
    base = np.kron(g.integers(0, 255, (size[1] // 8, size[0] // 8, 3)), np.ones((8, 8, 1))).astype(np.uint8)
    return Image.fromarray(base, "RGB").convert(mode)


def encoded(img: Image.Image, fmt: str, **kw) -> bytes:
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def zipped(files: dict, compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def pngs(n=5, **kw) -> dict:
    return {f"img{i:03d}.png": encoded(picture(i, **kw), "PNG") for i in range(n)}


def test_a_good_set_is_read_in_name_order_skipping_os_files():
    files = {**pngs(5), "__MACOSX/._img000.png": b"junk", ".DS_Store": b"junk", "sub/": b""}
    raws = read_image_zip(zipped(files), "real images")
    assert raws == [files[k] for k in sorted(pngs(5))]


@pytest.mark.parametrize("files, message", [
    ({"a.png": b"x"}, "at least 4"),
    ({**pngs(4), "../evil.png": encoded(picture(), "PNG")}, "path outside"),
    ({**pngs(4), "notes.txt": b"hello"}, "not a PNG, JPEG or WebP"),
    ({**pngs(4), "fake.png": b"this is not an image"}, "'fake.png' is not a readable image"),
    ({**pngs(4), "cut.png": encoded(picture(), "PNG")[:300]}, "'cut.png' is not a readable image"),
    ({**pngs(4), "gif.png": encoded(picture(), "GIF")}, "is a GIF file"),
    ({**pngs(4), "huge.png": encoded(Image.new("L", (1500, 20)), "PNG")}, "at most 1024 a side"),
    ({**pngs(4), "tiny.png": encoded(Image.new("L", (4, 4)), "PNG")}, "too small"),
])
def test_bad_sets_are_refused_naming_the_file(files, message):
    with pytest.raises(ImageSetError, match=message):
        read_image_zip(zipped(files), "model A's images")


def test_not_a_zip_too_many_files_zip_bomb_and_bad_crc():
    with pytest.raises(ImageSetError, match="not a zip"):
        read_image_zip(b"GIF89a", "real images")
    with pytest.raises(ImageSetError, match="at most 6 images"):
        read_image_zip(zipped(pngs(7)), "real images", max_images=6)
    bomb = zipped({**pngs(4), "bomb.png": b"\0" * 15_000_000}, zipfile.ZIP_DEFLATED)
    with pytest.raises(ImageSetError, match="zip bomb"):
        read_image_zip(bomb, "real images")
    data = bytearray(zipped(pngs(4)))
    at = bytes(data).index(pngs(4)["img002.png"][-40:])
    data[at + 5] ^= 0xFF
    with pytest.raises(ImageSetError, match="'img002.png' is damaged"):
        read_image_zip(bytes(data), "real images")


def test_normalisation_erases_format_size_and_metadata():
    """The same picture as a PNG with text chunks, a lossless WebP, a PNG with EXIF and an ICC profile, and a
    JPEG at twice the size: all leave as PNGs of one size, one mode, the same chunks and no metadata; the
    lossless ones give the very same bytes."""
    from PIL import PngImagePlugin

    img = picture(3, size=(120, 96))
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "StyleGAN2 sampler")
    exif = Image.Exif()
    exif[0x0131] = "my-gan v1"
    variants = {
        "png+text": encoded(img, "PNG", pnginfo=info),
        "webp lossless": encoded(img, "WEBP", lossless=True),
        "png+exif+icc": encoded(img, "PNG", exif=exif, icc_profile=b"\0" * 128),
        "jpeg 2x": encoded(img.resize((240, 192)), "JPEG", quality=80, exif=exif),
    }
    out = {k: normalise(v, 64, "RGB") for k, v in variants.items()}
    assert out["png+text"] == out["webp lossless"] == out["png+exif+icc"]
    for k, b in out.items():
        with Image.open(io.BytesIO(b)) as im:
            assert (im.format, im.mode, im.size) == ("PNG", "RGB", (64, 64)), k
            assert not im.info.keys() - {"dpi"} and not im.getexif(), (k, im.info)
        assert b"tEXt" not in b and b"eXIf" not in b and b"iCCP" not in b and b"StyleGAN" not in b
    grey = normalise(variants["jpeg 2x"], 128, "L")
    with Image.open(io.BytesIO(grey)) as im:
        assert (im.mode, im.size) == ("L", (128, 128))


def test_exif_orientation_is_applied_then_dropped():
    img = picture(5, size=(96, 64))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    a = normalise(encoded(img, "JPEG", quality=95, exif=exif), 64, "RGB")
    b = normalise(encoded(img.transpose(Image.Transpose.ROTATE_270), "JPEG", quality=95), 64, "RGB")
    diff = np.abs(np.asarray(Image.open(io.BytesIO(a))).astype(int) - np.asarray(Image.open(io.BytesIO(b))))
    assert diff.mean() < 3


def test_colour_mode_is_rgb_only_when_some_image_has_colour():
    grey = [encoded(picture(i, mode="L"), "PNG") for i in range(3)]
    grey_as_rgb = [encoded(picture(i, mode="L").convert("RGB"), "JPEG") for i in range(3)]
    assert colour_mode([grey, grey_as_rgb]) == "L"
    assert colour_mode([grey, [encoded(picture(9), "PNG")]]) == "RGB"
