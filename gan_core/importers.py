"""Generators trained elsewhere, converted into checkpoint folders: ``import_generator(source, file, out)``.

Example:
    >>> from gan_core.importers import import_generator                                          # doctest: +SKIP
    >>> import_generator("stylegan2-rosinality", "stylegan2-ffhq.pt", "ffhq")                      # doctest: +SKIP
"""
from gan_core.hub.importers import SOURCES, import_generator  # noqa: F401

__all__ = ["SOURCES", "import_generator"]
