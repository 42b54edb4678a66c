import numpy as np
import pytest
import torch

from gan_core.latent import sampling as sampler
from gan_core.models import ModelConfig, build_generator


def test_same_seed_same_z_whatever_the_batch():
    a = sampler.seeds_to_z([5, 6, 7], 16)
    b = sampler.seeds_to_z([7], 16)
    assert torch.equal(a[2], b[0]) and not torch.equal(a[0], a[1])
    u = sampler.seeds_to_z([5], 16, "uniform")
    assert u.min() >= -1 and u.max() <= 1


def test_truncation_pulls_toward_the_mean():
    z = sampler.seeds_to_z([1], 32)
    assert torch.equal(sampler.truncate(z, 1.0), z)
    assert torch.allclose(sampler.truncate(z, 0.5).norm(), 0.5 * z.norm())
    with pytest.raises(ValueError):
        sampler.truncate(z, -1)


def test_lerp_and_slerp_endpoints_and_norms():
    a, b = sampler.seeds_to_z([1, 2], 64)
    t = torch.linspace(0, 1, 5)
    for fn in (sampler.lerp, sampler.slerp):
        path = fn(a, b, t)
        assert path.shape == (5, 64)
        assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-5)
    # midpoint: slerp keeps a typical norm, lerp shrinks toward the origin
    assert sampler.slerp(a, b, 0.5).norm() > sampler.lerp(a, b, 0.5).norm()
    # parallel vectors fall back to a straight line
    assert torch.allclose(sampler.slerp(a, 2 * a, 0.5)[0], 1.5 * a, atol=1e-4)


def test_interpolation_through_waypoints():
    wp = sampler.seeds_to_z([1, 2, 3], 8)
    path = sampler.interpolate_path(wp, steps=4, method="lerp")
    assert path.shape == (7, 8)
    assert torch.allclose(path[3], wp[1]) and torch.allclose(path[-1], wp[2])
    with pytest.raises(ValueError):
        sampler.interpolate_path(wp[:1], 4)


def test_to_uint8_and_grid():
    x = torch.tensor([-1.0, 0.0, 1.0]).view(1, 1, 1, 3).repeat(2, 1, 3, 1)  # (2, 1, 3, 3)
    u = sampler.to_uint8(x)
    assert u.shape == (2, 3, 3, 1) and u.dtype == np.uint8 and u[0, 0, :, 0].tolist() == [0, 128, 255]
    grid = sampler.image_grid(x, nrow=2, padding=1, scale=2)
    assert grid.shape == ((3 + 2) * 2, (3 * 2 + 3) * 2, 3) and grid.dtype == np.uint8
    assert sampler.to_pil(u[0]).mode == "L"


def test_class_grid_holds_z_fixed_per_row():
    z, y = sampler.class_grid_inputs([4, 9], 10, 8)
    assert z.shape == (20, 8) and y.tolist() == list(range(10)) * 2
    assert torch.equal(z[0], z[9]) and not torch.equal(z[0], z[10])


def test_sefa_directions_are_orthonormal_eigenvectors():
    torch.manual_seed(0)
    G = build_generator(ModelConfig(width=8, z_dim=16))
    from gan_core.latent.directions import sefa_directions

    dirs, vals = sefa_directions(G, k=4)
    assert dirs.shape == (4, 16) and torch.all(vals[:-1] >= vals[1:])
    assert torch.allclose(dirs @ dirs.T, torch.eye(4), atol=1e-5)
    W = G.latent_weight().detach()
    # each direction is an eigenvector: (W^T W) d = lambda d
    assert torch.allclose((W.T @ W) @ dirs[0], vals[0] * dirs[0], rtol=1e-3, atol=1e-4)
    # moving along the top direction changes the first layer more than a random unit direction
    r = torch.randn(16)
    assert (W @ dirs[0]).norm() >= (W @ (r / r.norm())).norm()


def test_generate_batches_without_grad():
    G = build_generator(ModelConfig(width=8, z_dim=8)).eval()
    out = sampler.generate(G, torch.randn(10, 8), batch_size=3)
    assert out.shape == (10, 1, 28, 28) and not out.requires_grad


def test_parse_seeds_refuses_wide_ranges_before_expanding_them():
    import resource

    from gan_core.latent.sampling import SeedError, parse_seeds

    assert parse_seeds("1-4, 9") == [1, 2, 3, 4, 9]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for text in ("0-3000000", "0-99999999999", "1-40,50-90"):
        with pytest.raises(SeedError, match="at most 64 seeds"):
            parse_seeds(text, limit=64)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 50_000  # KiB: nothing was expanded
    for text in ("-3", "5-1", "x", "", "3000000000", "1" * 60):
        with pytest.raises(SeedError):
            parse_seeds(text, limit=64)


def test_load_checkpoint_sizes_the_networks_before_building_them(tmp_path):
    import json

    from gan_core.hub.checkpoints import CheckpointError, load_checkpoint

    (tmp_path / "config.json").write_text(json.dumps({"model": {"kind": "vanilla", "img_shape": [3, 128, 128],
                                                                "width": 2048}}))
    with pytest.raises(CheckpointError, match="M parameters"):
        load_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model": {"kind": "dcgan"}}))
    with pytest.raises(CheckpointError, match="G.safetensors is missing"):
        load_checkpoint(tmp_path)
