"""One intake per kind of untrusted input. Everything a user hands the server — an uploaded or drawn image, a
zip, a model file — enters through one of these, which reads the declared sizes first and refuses before
anything is decoded, inflated, built or written:

- ``archives``: zip files, member by member (count, declared sizes, compression method, inflation ratio,
  total), for checkpoint zips, image-set zips and torch.save archives alike.
- ``images``: one image (declared width x height and frame count before decoding, refused by pixel count,
  decoded reduced where the format allows, uint8 out); never touches Pillow's process-wide pixel limit.
- ``models``: .pth state dicts and safetensors files, whose parameter count comes from tensor shapes and
  metadata before a network is built.

Example:
    >>> from gan_core.intake import images
    >>> images.read_image(b"not an image", "your file", images.DIGIT)   # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    IntakeError: your file is not a readable image (this takes PNG, JPEG, WebP, GIF, BMP).
"""
from gan_core.intake.errors import IntakeError

__all__ = ["IntakeError"]
