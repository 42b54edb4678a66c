"""The pixels of a trial in a session of several arms or of uploaded image sets.

Where each image comes from: real images from mnist-5k or the uploaded real set (image set 0); fakes from
an app model (a seed through its generator) or the arm's uploaded set (image set k + 1). When a session has
uploaded sets, *every* image — uploaded or drawn by an app model — goes through ``imagesets.normalise`` at
the session's display size and colour mode, so no path leaves a mark of its own; otherwise (app models
against mnist-5k) images are shown as today: 28 px enlarged 8 times, nearest neighbour.

Example:
    >>> src = SessionImages(store, store.session(code))        # doctest: +SKIP
    >>> [a.shape for a in src.trial_arrays(store.next_trial(token))]  # doctest: +SKIP
    [(128, 128, 3), (128, 128, 3)]
"""
from __future__ import annotations

import hashlib
import io
import secrets
from functools import lru_cache

import numpy as np
from PIL import Image

from gan_core.humaneval.imagesets import colour_mode, normalise
from gan_core.humaneval.images import QuizImages

SCALE = 8  # 28 px app images shown at 224 px


_VEIL_SECRET = secrets.token_bytes(16)  # per server process: nobody can predict or undo a trial's veil


def veil(img: np.ndarray, token: str, index: int, position: int) -> np.ndarray:
    """The shown image with a faint noise (at most ±2 grey levels per displayed pixel) drawn from a secret,
    the participant and the trial: every participant's image bytes, and so its media URL, are unique per
    trial for real and fake alike. A URL shared in class leads nowhere, and a real digit's pixels are no
    longer the exact public mnist-5k pixels, which a search could find."""
    seed = hashlib.sha256(_VEIL_SECRET + f"{token}:{index}:{position}".encode()).digest()
    g = np.random.default_rng(int.from_bytes(seed[:8], "little"))
    return np.clip(img.astype(np.int16) + g.integers(-2, 3, img.shape), 0, 255).astype(np.uint8)


def png_of(array: np.ndarray) -> bytes:
    b = io.BytesIO()
    Image.fromarray(array).save(b, "PNG")
    return b.getvalue()


def array_of(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert(im.mode if im.mode in ("L", "RGB") else "RGB"))


@lru_cache(maxsize=1)
def _mnist():
    from gan_core.data.datasets import load_mnist5k

    return load_mnist5k()


@lru_cache(maxsize=8)
def _model(path: str) -> QuizImages:
    return QuizImages(path)


def model_images(model: str) -> QuizImages:
    """The generator (and mnist-5k reals) of an app model, by shipped name or checkpoint folder; cached."""
    from gan_core import resolve_checkpoint

    return _model(str(resolve_checkpoint(model)))


class SessionImages:
    """Draws the images of one session's trials. ``store`` gives the uploaded sets; ``info`` the session."""

    def __init__(self, store, info):
        self.store, self.info = store, info
        self.arms = list(info.arms) or [{"name": info.model, "kind": "model", "model": info.model}]
        self._mode = None

    @property
    def mode(self) -> str:
        """The session's colour mode: that of its stored images (all normalised alike), "L" without any."""
        if self._mode is None:
            self._mode = "L"
            if self.info.uses_uploads:
                counts = self.store.image_counts(self.info.code)
                if counts:
                    first = min(counts)
                    self._mode = Image.open(io.BytesIO(self.store.image(self.info.code, first, 0))).mode
        return self._mode

    def _finish(self, grey28: np.ndarray) -> np.ndarray:
        """An app-made 28x28 grey image in this session's display form."""
        if not self.info.uses_uploads:
            return np.kron(grey28, np.ones((SCALE, SCALE), np.uint8))
        return array_of(normalise(png_of(grey28), self.info.display_size, self.mode))

    def real(self, index: int) -> np.ndarray:
        if self.info.real_source == "images":
            return array_of(self.store.image(self.info.code, 0, index))
        data = _mnist()
        return self._finish(data.images[int(index) % len(data), 0].numpy())

    def fake(self, arm: int, ref: int) -> np.ndarray:
        spec = self.arms[arm]
        if spec["kind"] == "images":
            return array_of(self.store.image(self.info.code, arm + 1, ref))
        return self._finish(model_images(spec.get("model") or spec["name"]).fake(ref, self.info.truncation))

    def noise(self, index: int) -> np.ndarray:
        """A warm-up 'fake': speckle no attentive person takes for a real image, in the session's form."""
        if not self.info.uses_uploads:
            return np.kron(QuizImages.noise(index), np.ones((SCALE, SCALE), np.uint8))
        g = np.random.default_rng(int(index) + 77)
        shape = (self.info.display_size,) * 2 + ((3,) if self.mode == "RGB" else ())
        return (g.random(shape) ** 2 * 255).astype(np.uint8)

    def trial_arrays(self, trial) -> list[np.ndarray]:
        """The image(s) of a trial in display order (pairs: left, right)."""
        real = self.real(trial.real_index) if trial.real_index is not None else None
        if trial.qualification:
            fake = self.noise(trial.index)
        else:
            fake = self.fake(trial.arm or 0, trial.fake_seed) if trial.fake_seed is not None else None
        if trial.real_side is None:
            return [real if trial.is_real else fake]
        return [real, fake] if trial.real_side == 0 else [fake, real]


__all__ = ["SessionImages", "colour_mode", "model_images", "png_of", "array_of", "veil"]
