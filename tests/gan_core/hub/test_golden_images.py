"""Every shipped generator still draws the very images it drew when tests/data/golden was written: uint8
samples of seeds 0-63 (conditional: class = seed % 10) compared pixel for pixel. A refactor of models,
checkpoints or sampling that changes what a user sees fails here."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import gan_core

DATA = Path(__file__).resolve().parents[2] / "data"
sys.path.insert(0, str(DATA))
from make_golden import samples  # noqa: E402

pytestmark = pytest.mark.pretrained


@pytest.fixture(autouse=True)
def _threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("name", gan_core.list_pretrained())
def test_shipped_generator_draws_the_golden_images(name):
    golden = np.load(DATA / "golden" / f"{name}.npz")["images"]
    now = samples(name)
    assert now.shape == golden.shape == (64, 28, 28, 1)
    differ = int((now != golden).sum())
    assert differ == 0, f"{name}: {differ} pixels differ from the golden samples (max {np.abs(now.astype(int) - golden).max()})"


def test_every_shipped_generator_has_golden_images():
    assert sorted(p.stem for p in (DATA / "golden").glob("*.npz")) == sorted(gan_core.list_pretrained())
