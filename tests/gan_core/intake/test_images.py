"""The image intake: sizes are read from the header and refused before a pixel is decoded; Pillow's
process-wide limit is never changed (hardening issue items 3, 4 and 9)."""
import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from gan_core.humaneval.imagesets import ImageSetError, normalise, read_image_zip
from gan_core.intake import IntakeError
from gan_core.intake.images import CANVAS, DIGIT, read_image, read_pixels


def _png(img: Image.Image) -> bytes:
    b = io.BytesIO()
    img.save(b, "PNG")
    return b.getvalue()


@pytest.fixture
def no_decoding(monkeypatch):
    """Fails the test if any image is decoded."""
    def load(self):
        raise AssertionError("an image was decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_a_140_byte_animated_webp_declaring_4000x4000_is_refused_undecoded(no_decoding):
    frames = [Image.new("L", (4000, 4000), v) for v in (0, 255)]
    b = io.BytesIO()
    frames[0].save(b, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    assert len(b.getvalue()) < 1000
    with pytest.raises(IntakeError, match="4,000x4,000"):
        read_image(b.getvalue(), "That file", DIGIT)


def test_a_small_4000x4000_png_is_refused_undecoded(no_decoding):
    raw = _png(Image.new("L", (4000, 4000)))
    assert len(raw) < 100_000
    with pytest.raises(IntakeError, match="pixels"):
        read_image(raw, "That file", DIGIT)


def test_a_huge_canvas_message_is_refused_undecoded(no_decoding):
    with pytest.raises(IntakeError, match="at most 1024 a side"):
        read_pixels(_png(Image.new("RGBA", (4500, 4500))), "The drawing", CANVAS)


def test_a_12_megapixel_photo_is_decoded_reduced_not_at_full_size():
    b = io.BytesIO()
    Image.new("RGB", (4000, 3000), (200, 190, 180)).save(b, "JPEG")
    img = read_image(b.getvalue(), "photo", DIGIT)
    assert max(img.size) <= DIGIT.reduce_to
    a = read_pixels(b.getvalue(), "photo", DIGIT)
    assert a.dtype == np.uint8 and a.shape == (384, 512, 3)


def test_the_intake_never_changes_pillows_global_limit():
    before = Image.MAX_IMAGE_PIXELS
    sets = {f"{i}.png": _png(Image.new("RGB", (40, 30), (i, 0, 0))) for i in range(4)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in sets.items():
            zf.writestr(k, v)
    for raw in read_image_zip(buf.getvalue(), "real images"):
        normalise(raw, 64, "RGB")
    assert Image.MAX_IMAGE_PIXELS == before
    b = io.BytesIO()   # a 3000x3000 photo on Find your digit still opens for everyone
    Image.new("RGB", (3000, 3000), 128).save(b, "JPEG")
    assert read_pixels(b.getvalue(), "photo", DIGIT).shape[:2] == (512, 512)


def _padded_png(pad: int) -> bytes:
    """An 8x8 PNG with a private ancillary chunk of ``pad`` zero bytes before its image data."""
    raw = _png(Image.new("L", (8, 8), 100))
    chunk = b"prVt" + bytes(pad)
    private = struct.pack(">I", pad) + chunk + struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    at = raw.index(b"IDAT") - 4
    return raw[:at] + private + raw[at:]


def test_small_members_padded_with_zeros_are_refused_as_a_zip_bomb():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(5):
            zf.writestr(f"{i}.png", _padded_png(990_000))
    assert len(buf.getvalue()) < 30_000          # 5 x 990 KB of members in a few KB
    with pytest.raises(ImageSetError, match="zip bomb"):
        read_image_zip(buf.getvalue(), "real images")
