"""W space tools of a style-based generator: layer groups, mixing, stochastic variation, layer-wise directions,
and the search for a digit in W and W+."""
import numpy as np
import pytest
import torch

from gan_core.latent import wspace as W
from gan_core.latent.inversion import encode_z, project
from gan_core.latent.sampling import to_uint8
from gan_core.models import ModelConfig, build_generator


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    G = build_generator(ModelConfig(architecture="stylegan", z_dim=8, w_dim=12, width=4, mapping_depth=2)).eval()
    with torch.no_grad():
        for c in G.synthesis_net.convs:
            c.noise_strength.fill_(0.5)          # untrained strengths are 0: the noise would change nothing
    return G


def test_groups_name_ws_indices_and_resolutions(G):
    assert W.layer_groups(G) == {"coarse": [0, 1], "middle": [2, 3], "fine": [4, 5]}
    assert W.ws_sides(G) == [7, 7, 14, 14, 28, 28]
    assert W.describe(G, [0, 1]) == "ws 0-1 (7x7)" and W.describe(G, [3, 4]) == "ws 3-4 (14x14 to 28x28)"


def test_groups_of_a_1024px_layout_follow_the_paper():
    class Big:                 # the grouping reads only num_ws and the image side
        has_w, num_ws, img_shape = True, 18, (3, 1024, 1024)

    g = W.layer_groups(Big())
    assert g["coarse"] == [0, 1, 2, 3] and g["middle"] == [4, 5, 6, 7] and g["fine"] == list(range(8, 18))
    assert W.describe(Big(), g["coarse"]) == "ws 0-3 (4x4 to 8x8)"


def test_a_model_without_w_is_refused():
    G = build_generator(ModelConfig(z_dim=8, width=8))
    with pytest.raises(ValueError, match="no W space"):
        W.layer_groups(G)
    with pytest.raises(ValueError, match="space='z'"):
        project(G, to_uint8(G.eval()(torch.randn(1, 8))), space="w")


def test_mixing_grid_cells_are_a_with_bs_chosen_layers(G):
    r = W.mixing_grid(G, [1, 2], [3, 4, 5], W.layer_groups(G)["fine"])
    assert r["grid"].shape == (2, 3, 28, 28, 1) and r["a"].shape == (2, 28, 28, 1) and r["b"].shape == (3, 28, 28, 1)
    wa, wb = W.ws_of_seeds(G, [2]), W.ws_of_seeds(G, [4])
    expect = W.render(G, W.mix(wa, wb, [4, 5]))[0]
    assert np.array_equal(r["grid"][1, 1], expect)
    # mixing every layer gives B itself; mixing none gives A
    full = W.mixing_grid(G, [1], [3], range(6))
    assert np.array_equal(full["grid"][0, 0], full["b"][0])
    assert np.array_equal(W.mixing_grid(G, [1], [3], [])["grid"][0, 0], full["a"][0])
    with pytest.raises(ValueError, match="0 to 5"):
        W.mixing_grid(G, [1], [3], [6])


def test_stochastic_variation_varies_only_where_noise_is_redrawn(G):
    ws = W.ws_of_seeds(G, [7])
    none = W.stochastic_variation(G, ws, 6, [])
    assert none["mean_std"] < 1e-6 and len({im.tobytes() for im in none["images"]}) == 1
    fine = W.stochastic_variation(G, ws, 6, ["fine"])
    assert fine["mean_std"] > 1e-3 and fine["std"].shape == (28, 28)
    again = W.stochastic_variation(G, ws, 6, ["fine"])
    assert np.array_equal(fine["images"], again["images"])          # the same seed, the same draws
    with pytest.raises(ValueError, match="coarse, middle, fine"):
        W.stochastic_variation(G, ws, 4, ["all"])
    with pytest.raises(ValueError, match="1 to 64"):
        W.stochastic_variation(G, ws, 0)


def test_ganspace_directions_are_the_principal_axes_of_w(G):
    d = W.ganspace(G, k=4, n=4000)
    v = d["directions"]
    assert v.shape == (4, 12) and torch.allclose(v @ v.T, torch.eye(4), atol=1e-4)
    assert (d["sigmas"][:-1] >= d["sigmas"][1:]).all() and float(d["explained"].sum()) <= 1.0
    w = W.sample_w(G, 4000, seed=5)
    along = ((w - w.mean(0)) @ v.T).std(0)
    assert torch.allclose(along, d["sigmas"], rtol=0.1)             # measured spread on fresh samples


def test_sefa_in_w_reads_the_chosen_layers_affines(G):
    every = W.sefa_w(G, None, k=3)
    coarse = W.sefa_w(G, [0], k=3)
    assert every["directions"].shape == (3, 12)
    A = G.synthesis_net.convs[0].conv.affine
    M = (A.weight * A.scale).detach().double()
    top = torch.linalg.eigh(M.T @ M).eigenvectors[:, -1].float()
    assert abs(float(coarse["directions"][0] @ top)) == pytest.approx(1.0, abs=1e-4)
    assert not torch.allclose(every["directions"][0].abs(), coarse["directions"][0].abs(), atol=1e-3)


def test_an_edit_moves_only_its_layer_range(G):
    ws = W.ws_of_seeds(G, [3])
    d = W.ganspace(G, k=2, n=2000)
    out = W.edit(ws, d["directions"], d["sigmas"], {0: 2.0, 1: 0.0}, {0: [4, 5], 1: [0]})
    moved = (out - ws).abs().sum((0, 2))
    assert moved[:4].sum() == 0 and (moved[4:] > 0).all()
    assert torch.allclose(out[0, 4] - ws[0, 4], 2.0 * d["sigmas"][0] * d["directions"][0])
    with pytest.raises(ValueError, match="low end first"):
        W.layer_range(G, 4, 2)


@pytest.mark.parametrize("space", ["w", "w+"])
def test_find_a_digit_in_w_and_w_plus(G, space):
    target = to_uint8(G(torch.randn(2, 8, generator=torch.Generator().manual_seed(9))))
    r = project(G, target, steps=40, restarts=2, candidates=64, space=space, classifier=None)
    assert r["z"] is None and r["ws"].shape == (2, G.num_ws, G.w_dim) and r["space"] == space
    again = W.render(G, r["ws"])
    assert np.array_equal(again, r["images"])                       # the found ws draws the returned image
    if space == "w":
        assert torch.equal(r["ws"][:, 0], r["ws"][:, -1])
    text = encode_z(r["ws"][0, 0] if space == "w" else r["ws"][0].reshape(-1))
    assert torch.allclose(W.ws_from_text(text, G), r["ws"][:1], atol=0.02, rtol=1e-2)


def test_w_plus_fits_at_least_as_well_as_w_from_the_same_start(G):
    target = to_uint8(G(torch.randn(3, 8, generator=torch.Generator().manual_seed(4))) * 0.8)
    loss = {s: project(G, target, steps=60, restarts=2, candidates=64, space=s, classifier=None)["loss"].mean()
            for s in ("w", "w+")}
    assert loss["w+"] <= loss["w"] * 1.05


def test_ws_from_text_refuses_what_is_not_a_w(G):
    with pytest.raises(ValueError):
        W.ws_from_text("abc", G)
    with pytest.raises(ValueError):
        W.ws_from_text(encode_z(torch.zeros(5)), G)


def test_styles_per_layer_are_each_layers_affine_of_its_w(G):
    ws = W.ws_of_seeds(G, [2])
    ws[:, 3] += 1.0                                   # a different w at ws 3 only
    rows = W.styles(G, ws)
    assert [(r["ws"], r["layer"], r["side"]) for r in rows][:4] == [(0, "conv 0", 7), (1, "conv 1", 14),
                                                                    (1, "toRGB", 7), (2, "conv 2", 14)]
    assert len(rows) == G.n_convs + 3
    conv3 = next(r for r in rows if r["layer"] == "conv 3")
    aff = G.synthesis_net.convs[3].conv.affine
    with torch.no_grad():
        assert np.allclose(conv3["scales"], aff(ws[:, 3])[0].numpy())


def test_a_big_models_preview_is_a_real_coarser_image_of_the_same_synthesis():
    from gan_core.models.stylegan2 import StyleGAN2Generator

    torch.manual_seed(0)
    G = StyleGAN2Generator(8, 8, (3, 256, 256), (4,) * 7, mapping_depth=2).eval()
    b = W.preview_block(G)
    assert (b, W.block_side(G, b)) == (3, 32)
    ws = W.ws_of_seeds(G, [1])
    r = W.mixing_grid(G, [1], [2], W.layer_groups(G)["fine"], stop_at=b)
    assert r["grid"].shape == (1, 1, 32, 32, 3)
    with torch.no_grad():
        assert W.render(G, ws, stop_at=6).shape == (1, 256, 256, 3)     # the last block is the full image
        assert torch.equal(G.synthesis(ws, stop_at=6), G.synthesis(ws))
