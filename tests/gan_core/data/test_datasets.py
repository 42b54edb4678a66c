import gzip
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.data import datasets as data
from gan_core.data import toy


def test_mnist5k_is_embedded_balanced_and_scaled():
    ds = data.load_mnist5k()
    assert len(ds) == 5000 and ds.img_shape == (1, 28, 28) and ds.num_classes == 10
    assert torch.bincount(ds.labels).tolist() == [500] * 10
    x = ds.batch(torch.arange(10))
    assert x.dtype == torch.float32 and x.min() == -1.0 and x.max() == 1.0


def test_split_is_stratified_disjoint_and_seeded():
    ds = data.load_mnist5k()
    tr, te = data.split(ds, 0.1, seed=1)
    assert len(tr) == 4500 and len(te) == 500
    assert torch.bincount(te.labels).tolist() == [50] * 10
    tr2, te2 = data.split(ds, 0.1, seed=1)
    assert torch.equal(te.images, te2.images)


def _write_idx(root, prefix, images, labels):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    n = len(images)
    (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
    (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.astype(np.uint8).tobytes())


def test_torchvision_mnist_loads_from_idx_files_we_write(tmp_path):
    ds5 = data.load_mnist5k()
    imgs = ds5.images[:, 0].numpy()
    labels = ds5.labels.numpy()
    _write_idx(tmp_path, "train", imgs[:300], labels[:300])
    _write_idx(tmp_path, "t10k", imgs[300:400], labels[300:400])
    ds = data.load_torchvision("mnist", tmp_path, train=True, download=False)
    assert len(ds) == 300 and ds.img_shape == (1, 28, 28)
    assert torch.equal(ds.images[:, 0], torch.from_numpy(imgs[:300]))
    assert torch.equal(ds.labels, torch.from_numpy(labels[:300]))
    test = data.load_torchvision("mnist", tmp_path, train=False, download=False)
    assert len(test) == 100


def test_missing_torchvision_data_names_the_folder_to_fill(tmp_path):
    with pytest.raises(data.DatasetUnavailable, match=str(tmp_path / "FashionMNIST")):
        data.load_torchvision("fashion-mnist", tmp_path, download=False)


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(data.DatasetUnavailable, match="Unknown dataset"):
        data.load_dataset("imagenet")


def test_image_folder_skips_and_counts_corrupt_files(tmp_path):
    for cls in ("cats", "dogs"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.fromarray(np.full((40, 30, 3), 50 * i, np.uint8)).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    (tmp_path / "dogs" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    ds = data.load_image_folder(tmp_path, size=28, channels=1)
    assert len(ds) == 6 and ds.skipped == 2 and ds.num_classes == 2
    assert ds.img_shape == (1, 28, 28)
    assert sorted(ds.labels.tolist()) == [0, 0, 0, 1, 1, 1]


def test_flat_image_folder_is_one_class(tmp_path):
    for i in range(2):
        Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / f"{i}.jpg")
    ds = data.load_dataset(f"folder:{tmp_path}", size=32, channels=3)
    assert len(ds) == 2 and ds.img_shape == (3, 32, 32)


def test_folder_without_images_is_a_clear_error(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(data.DatasetUnavailable, match="No readable images"):
        data.load_image_folder(tmp_path)


@pytest.mark.parametrize("name", toy.TOY_DATASETS)
def test_toy_sampler_is_seeded(name):
    a = toy.sample_toy(name, 500, torch.Generator().manual_seed(3))
    b = toy.sample_toy(name, 500, torch.Generator().manual_seed(3))
    c = toy.sample_toy(name, 500, torch.Generator().manual_seed(4))
    assert a.shape == (500, 2) and torch.equal(a, b) and not torch.equal(a, c)
    assert a.abs().max() < 4


def test_ring8_points_sit_near_their_modes():
    pts = toy.sample_toy("ring8", 2000, torch.Generator().manual_seed(0))
    d = torch.cdist(pts, toy.toy_modes("ring8")).min(1).values
    assert (d < 0.3).all()
    nearest = torch.cdist(pts, toy.toy_modes("ring8")).argmin(1)
    assert torch.bincount(nearest, minlength=8).min() > 150  # all 8 modes used
