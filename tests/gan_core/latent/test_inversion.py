"""gan_core.latent.inversion: MNIST-style preparation of a drawn digit, the z encoding, and the search itself."""
import numpy as np
import pytest
import torch
from scipy import ndimage

import gan_core
from gan_core.data.datasets import mnist5k_arrays
from gan_core.latent.inversion import DigitError, decode_z, encode_z, prepare_digit, project, reads_as


def _digit(i=7) -> np.ndarray:
    return mnist5k_arrays()[0][i, 0]                            # (28, 28) uint8, white on black


def _placed(d: np.ndarray, size: int, top: int, left: int, scale: int = 1) -> np.ndarray:
    big = np.kron(d, np.ones((scale, scale), np.uint8))
    canvas = np.zeros((size, size), np.uint8)
    canvas[top: top + big.shape[0], left: left + big.shape[1]] = big
    return canvas


def _check_mnist_like(out: np.ndarray):
    assert out.shape == (28, 28, 1) and out.dtype == np.uint8
    a = out[..., 0].astype(float)
    rows, cols = np.nonzero(a > 50)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 <= 21                # fits the 20x20 box (anti-aliasing: +1)
    cy, cx = ndimage.center_of_mass(a)
    assert abs(cy - 14) <= 1.0 and abs(cx - 14) <= 1.0          # centred by its centre of mass


@pytest.mark.parametrize("where", ["off-centre", "tiny", "huge"])
def test_prepare_reads_a_digit_wherever_and_however_large(where):
    d = _digit()
    img = {"off-centre": _placed(d, 200, 150, 5, 1),
           "tiny": _placed(d, 300, 10, 200, 1),
           "huge": _placed(d, 280, 0, 0, 10)}[where]
    out = prepare_digit(img)
    _check_mnist_like(out)
    ref = prepare_digit(d)
    assert np.corrcoef(out.ravel().astype(float), ref.ravel().astype(float))[0, 1] > 0.8


def test_prepare_inverts_dark_ink_on_paper_and_reads_rgba_canvases():
    d = _digit()
    ref = prepare_digit(d)
    paper = np.stack([255 - d] * 3, -1)                          # black ink on white, RGB
    assert np.abs(prepare_digit(paper).astype(int) - ref.astype(int)).max() <= 2
    rgba = np.zeros((28, 28, 4), np.uint8)                        # white strokes on a transparent canvas
    rgba[..., :3], rgba[..., 3] = 255, d
    assert np.abs(prepare_digit(rgba).astype(int) - ref.astype(int)).max() <= 2


@pytest.mark.parametrize("bad,match", [(np.zeros((100, 100), np.uint8), "blank"),
                                       (np.full((50, 50, 3), 128, np.uint8), "blank"),
                                       (np.pad(np.full((2, 1), 255, np.uint8), 20), "too little ink"),
                                       (np.zeros((4, 4), np.uint8), "at least 8x8"),
                                       (np.zeros((20, 20, 2), np.uint8), "grey, RGB or RGBA")])
def test_blank_or_unreadable_input_gets_a_message(bad, match):
    with pytest.raises(DigitError, match=match):
        prepare_digit(bad)


def test_more_ink_than_background_is_refused():
    noise = (np.random.default_rng(0).random((60, 60)) > 0.3).astype(np.uint8) * 255
    noise[0], noise[-1], noise[:, 0], noise[:, -1] = 0, 0, 0, 0
    with pytest.raises(DigitError, match="half of the image"):
        prepare_digit(noise)


def test_z_encoding_is_compact_and_checked():
    z = torch.randn(64)
    text = encode_z(z)
    assert len(text) == 171 and all(c.isalnum() or c in "-_" for c in text)
    assert torch.allclose(decode_z(text, 64)[0], z, atol=2e-3 * z.abs().max())
    for bad, dim in [(text, 100), ("!!!!", 64), ("", 64), (encode_z(torch.full((64,), float("nan"))), 64),
                     (encode_z(torch.full((64,), 50.0)), 64), ("A" * 1000, 64)]:
        with pytest.raises(ValueError):
            decode_z(bad, dim)


@pytest.mark.pretrained
def test_project_finds_a_digit_the_generator_drew():
    G = gan_core.load_generator("mnist-dcgan")
    before = {k: v.clone() for k, v in G.state_dict().items()}
    target = gan_core.sample(G, seeds=[11])
    r = project(G, target, steps=60, seed=0)
    assert r["z"].shape == (1, 64) and r["images"].shape == target.shape and r["labels"] is None
    assert r["history"].shape[1:] == (1, 28, 28, 1) and r["history"].shape[0] >= 2
    err = np.abs(r["images"].astype(float) - target).mean() / 255
    first = np.abs(r["history"][0].astype(float) - target).mean() / 255
    assert err < 0.05 and err < first                              # close, and closer than the best start
    from gan_core.metrics.scores import load_classifier

    C = load_classifier()
    assert reads_as(C, r["images"]).argmax() == reads_as(C, target).argmax()
    assert all(torch.equal(v, before[k]) for k, v in G.state_dict().items())
    assert all(p.requires_grad for p in G.parameters()) or not any(p.requires_grad for p in G.parameters())


@pytest.mark.pretrained
def test_project_finds_the_class_of_a_conditional_model():
    G = gan_core.load_generator("mnist-cgan")
    target = gan_core.sample(G, seeds=[5, 6], labels=[3, 8])
    r = project(G, target, steps=40, seed=1)
    assert r["labels"] == [3, 8]
    fixed = project(G, target, labels=[3, 8], steps=10, restarts=2)
    assert fixed["labels"] == [3, 8]
    with pytest.raises(ValueError, match="one label"):
        project(G, target, labels=[3])
    with pytest.raises(ValueError, match="uint8"):
        project(G, target.astype(np.float32))
