"""gan_core.latent.dissection: layers, ablate (restores everything, acts only in its thread), maps, the unit ranking."""
import threading

import numpy as np
import pytest
import torch

from gan_core.latent import dissection as dissect
from gan_core.latent.dissection import ablate, activations, cached_ranking, layers, map_grid, rank_units, top_units
from gan_core.models import DCGANGenerator, DigitClassifier, MLPGenerator
from gan_core.models.examples_dcgan import ExamplesDCGANGenerator


@pytest.fixture
def G():
    torch.manual_seed(0)
    return DCGANGenerator(z_dim=8, img_shape=(1, 28, 28), width=4, num_classes=3).eval()


def _y(n):
    return torch.arange(n) % 3


def test_layers_of_each_generator(G):
    assert list(layers(G)) == ["projection", "block 1", "block 2"]
    maps, x = activations(G, torch.randn(2, 8), _y(2))
    assert [tuple(m.shape) for m in maps.values()] == [(2, 8, 7, 7), (2, 8, 7, 7), (2, 4, 14, 14)]
    assert x.shape == (2, 1, 28, 28)
    assert list(layers(ExamplesDCGANGenerator(4, (3, 64, 64), 2))) == [f"block {i}" for i in range(1, 5)]
    assert layers(MLPGenerator(8, (1, 28, 28), 16)) == {}


def test_ablate_changes_only_inside_the_block_and_restores_everything(G):
    z, y = torch.randn(4, 8), _y(4)
    before_state = {k: v.clone() for k, v in G.state_dict().items()}
    with torch.no_grad():
        before = G(z, y)
        with ablate(G, "block 2", range(4)):                   # every unit of the last layer off
            inside = G(z, y)
        after = G(z, y)
    assert torch.equal(before, after) and not torch.equal(before, inside)
    # known answer: with the last layer all zero, the image is tanh(bias of the final convolution) everywhere
    assert torch.allclose(inside, torch.tanh(G.blocks[-2].bias).expand_as(inside))
    assert all(torch.equal(v, before_state[k]) for k, v in G.state_dict().items())
    with pytest.raises(RuntimeError):
        with ablate(G, "projection", [0]):
            raise RuntimeError("boom")
    with torch.no_grad():
        assert torch.equal(G(z, y), before)                    # the hook left with the error


def test_ablate_scale_and_unit_checks(G):
    z, y = torch.randn(2, 8), _y(2)
    with ablate(G, "projection", [1], scale=2.0):
        maps, _ = activations(G, z, y)
    plain, _ = activations(G, z, y)
    assert torch.allclose(maps["projection"][:, 1], 2 * plain["projection"][:, 1])
    assert torch.equal(maps["projection"][:, 0], plain["projection"][:, 0])
    with pytest.raises(KeyError, match="no layer"):
        with ablate(G, "nope", [0]):
            pass
    with pytest.raises(ValueError, match="units 0..7"):
        with ablate(G, "projection", [99]), torch.no_grad():
            G(z, y)


def test_ablate_acts_only_in_the_thread_that_opened_it(G):
    z, y = torch.randn(2, 8), _y(2)
    with torch.no_grad():
        plain = G(z, y)
    seen = {}
    with ablate(G, "block 1", range(8)):
        t = threading.Thread(target=lambda: seen.setdefault("other", G(z, y).detach()))
        t.start()
        t.join()
        with torch.no_grad():
            mine = G(z, y)
    assert torch.equal(seen["other"], plain) and not torch.equal(mine, plain)


def test_activations_record_only_their_own_threads_pass(G):
    """Another user's forward pass through the shared G, while this thread's hooks are registered, must not
    overwrite this thread's maps (the hooks are on the module, so they fire for every thread)."""
    z_mine, z_other = torch.zeros(1, 8), torch.full((1, 8), 3.0)
    with torch.no_grad():
        expected, _ = activations(G, z_mine, _y(1))
    inside = threading.Event()
    release = threading.Event()
    proj = layers(G)["block 2"]
    real_forward = proj.forward

    def slow_forward(x):   # this thread's pass pauses in its last layer while the other thread runs G
        out = real_forward(x)
        if threading.get_ident() == me:
            inside.set()
            release.wait(5)
        return out

    me = threading.get_ident()
    proj.forward = slow_forward

    def other():
        inside.wait(5)
        with torch.no_grad():
            G(z_other, _y(1))
        release.set()

    t = threading.Thread(target=other)
    t.start()
    try:
        with torch.no_grad():
            got, _ = activations(G, z_mine, _y(1))
    finally:
        t.join()
        proj.forward = real_forward
    for name in expected:
        assert torch.equal(got[name], expected[name]), name


def test_map_grid_orders_by_activation():
    maps = torch.zeros(3, 4, 4)
    maps[2] = 5.0
    maps[0, 0, 0] = 1.0
    grid, order = map_grid(maps)
    assert order == [2, 0, 1] and grid.dtype == np.uint8 and grid.shape == (2 * 5 + 1, 2 * 5 + 1)
    assert grid[1:5, 1:5].min() == 255                         # the strongest unit comes first, at full scale


def test_rank_units_matches_a_direct_measurement_and_is_cached(G, tmp_path, monkeypatch):
    torch.manual_seed(1)
    C = DigitClassifier(num_classes=3, width=4, feature_dim=8).eval()
    r = rank_units(G, C, n=30, seed=0)
    assert set(r["layers"]) == {"projection", "block 1", "block 2"} and sum(r["counts"]) == 30
    drop = np.asarray(r["layers"]["block 1"]["drop"])
    assert drop.shape == (3, 8)
    # the same number by hand for one unit and one class
    z, y = dissect.sample_inputs(G, 30, 0)
    p0 = dissect.class_probs(G, C, z, y)
    with ablate(G, "block 1", [5]):
        p = dissect.class_probs(G, C, z, y)
    k = int(p0.argmax(1).mode().values)
    m = p0.argmax(1) == k
    assert drop[k, 5] == pytest.approx(float((p0[m, k] - p[m, k]).mean()), abs=1e-5)
    assert top_units(r, "block 1", k, 3)[0] == int(np.argmax(drop[k]))
    # cached beside nothing shipped: in GAN_STUDIO_CACHE, keyed by the weights' bytes
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))
    wfile = tmp_path / "G.safetensors"
    wfile.write_bytes(b"weights")
    first = cached_ranking(G, C, wfile, n=30)
    monkeypatch.setattr(dissect, "rank_units", lambda *a, **k: pytest.fail("computed again"))
    assert cached_ranking(G, C, wfile, n=30) == first
    assert len(list((tmp_path / "cache" / "dissection").glob("*.json"))) == 1
