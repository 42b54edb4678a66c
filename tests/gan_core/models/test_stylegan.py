"""The style-based generator (architecture "stylegan"): its contract, the ws order, noise modes, and the
training parts of StyleGame (style mixing, the mean w, lazy R1)."""
import pytest
import torch

from gan_core.models import ModelConfig, build_generator
from gan_core.training.config import TrainConfig
from gan_core.training.trainer import Trainer


def tiny(**kw):
    return ModelConfig(architecture="stylegan", z_dim=8, w_dim=12, width=4, mapping_depth=2, **kw)


@pytest.fixture(scope="module")
def digits():
    from gan_core.data.datasets import load_mnist5k

    return load_mnist5k().subset(torch.arange(0, 5000, 25))


def test_the_contract_mapping_synthesis_and_ws_order():
    torch.manual_seed(0)
    G = build_generator(tiny()).eval()
    assert (G.z_dim, G.w_dim, G.num_ws, G.has_w, G.img_shape) == (8, 12, 6, True, (1, 28, 28))   # 7 -> 14 -> 28
    z = torch.randn(3, 8)
    w = G.mapping(z)
    assert w.shape == (3, 12)
    ws = w[:, None].expand(-1, G.num_ws, -1)
    assert torch.equal(G(z), G.synthesis(ws))
    assert torch.allclose(G.mapping(z, psi=0.0), G.w_avg.expand(3, -1))
    with pytest.raises(ValueError, match=r"\(N, 6, 12\)"):
        G.synthesis(w)
    # every ws index changes the image; the last one feeds only the final toRGB
    for i in range(G.num_ws):
        other = ws.clone()
        other[:, i] = torch.randn(3, 12) * 3
        assert not torch.allclose(G.synthesis(other), G.synthesis(ws)), i


def test_images_are_not_clamped_and_noise_modes_do_what_they_say():
    torch.manual_seed(1)
    G = build_generator(tiny()).eval()
    with torch.no_grad():
        G.synthesis_net.torgbs[-1].bias.fill_(5.0)
        for layer in G.synthesis_net.convs:
            layer.noise_strength.fill_(0.5)
    z = torch.randn(2, 8)
    assert G(z).max() > 1.5                                   # what the original code returns: no tanh, no clamp
    assert torch.equal(G(z), G(z, noise_mode="const"))        # the default: the stored noise, the same image
    assert not torch.allclose(G(z, noise_mode="random"), G(z, noise_mode="random"))
    assert not torch.allclose(G(z, noise_mode="none"), G(z))
    with pytest.raises(ValueError, match="noise_mode"):
        G(z, noise_mode="loud")


def test_other_square_sizes_and_rgb():
    G = build_generator(ModelConfig(architecture="stylegan", z_dim=8, width=4, img_shape=(3, 32, 32)))
    assert G(torch.randn(2, 8)).shape == (2, 3, 32, 32) and G.num_ws == 8   # 4 -> 8 -> 16 -> 32


def test_settings_of_one_architecture_are_refused_for_the_others():
    with pytest.raises(ValueError, match="w_dim is a setting of other architectures"):
        ModelConfig(w_dim=16)
    with pytest.raises(ValueError, match="style-based"):
        TrainConfig(style_mixing=0.9)
    with pytest.raises(ValueError, match="probability"):
        TrainConfig(model=tiny(), style_mixing=1.5)


def test_style_mixing_gives_later_layers_a_second_w(digits, monkeypatch):
    t = Trainer(TrainConfig(model=tiny(), batch_size=8, style_mixing=1.0), digits)
    seen = []
    real_synthesis = t.G.synthesis
    monkeypatch.setattr(t.G, "synthesis", lambda ws, noise_mode="const": seen.append((ws, noise_mode))
                        or real_synthesis(ws, noise_mode))
    t.objective.generate(torch.randn(8, 8), None)
    ws, mode = seen[0]
    assert mode == "random"
    for row in ws:                   # each fake: w for the first layers, another w from a cut in 1..num_ws-1 on
        cut = next(i for i in range(1, t.G.num_ws) if not torch.equal(row[i], row[0]))
        assert all(torch.equal(row[i], row[0]) for i in range(cut))
        assert all(torch.equal(row[i], row[cut]) for i in range(cut, t.G.num_ws))


def test_lazy_r1_adds_the_penalty_every_r1_every_d_steps(digits, monkeypatch):
    def d_losses(gamma):
        t = Trainer(TrainConfig(model=tiny(), batch_size=8, r1_gamma=gamma, r1_every=2, seed=3), digits)
        return t, [t.objective.d_loss(t.D)[0].item() for _ in range(2)]

    _, plain = d_losses(0.0)
    t, r1 = d_losses(5.0)
    assert plain[0] == pytest.approx(r1[0])            # step 1: no penalty
    assert r1[1] > plain[1] + 1e-6                      # step 2: + gamma/2 |grad D(x)|^2 * r1_every
    penalised = []
    real_grad = torch.autograd.grad
    monkeypatch.setattr(torch.autograd, "grad", lambda *a, **k: penalised.append(t.objective.d_steps) or real_grad(*a, **k))
    for _ in range(4):
        t.objective.d_loss(t.D)
    assert penalised == [4, 6]                          # every second D step, and only then


def test_training_moves_the_mean_w_and_a_checkpoint_gives_the_same_images(digits, tmp_path):
    from gan_core.hub.checkpoints import load_checkpoint, save_checkpoint

    t = Trainer(TrainConfig(model=tiny(), batch_size=8, style_mixing=0.9, r1_gamma=1.0, r1_every=2), digits)
    t.run(4)
    assert t.G.w_avg.abs().sum() > 0 and torch.equal(t.G_ema.w_avg, t.G.w_avg)
    folder = save_checkpoint(tmp_path / "sg", t.checkpoint_config(), {"G": t.G_ema, "D": t.D})
    G = load_checkpoint(folder).generator
    z = torch.randn(4, 8)
    assert torch.equal(G(z), t.G_ema.eval()(z))


def test_inside_g_reads_the_synthesis_layers():
    from gan_core.latent.dissection import ablate, activations

    G = build_generator(tiny()).eval()
    maps, x = activations(G, torch.randn(1, 8))
    assert list(maps) == list(G.inside_layers()) and maps["conv 0 (7x7)"].shape[-1] == 7
    layer = list(maps)[-1]
    with ablate(G, layer, range(maps[layer].shape[1])):
        off = G(torch.zeros(1, 8))
    assert not torch.allclose(off, G(torch.zeros(1, 8)))
