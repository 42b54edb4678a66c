"""Remedies for mode collapse: each layer and loss on a tiny batch with a known answer, gradients flow, the
trainer's unrolled D and feature matching, the config checks, and the CLI."""
import math

import pytest
import torch

from gan_core.models import ModelConfig, build_discriminator
from gan_core.models.minibatch import MinibatchDiscrimination, MinibatchStd, pack, unpack_scores
from gan_core.training.remedies import REMEDIES, active, with_remedy
from gan_core.training.config import TrainConfig
from gan_core.training.trainer import Trainer


def test_minibatch_std_known_answer():
    out = MinibatchStd()(torch.tensor([[0.0, 2.0], [2.0, 2.0]]))
    assert torch.allclose(out, torch.tensor([[0.0, 2.0, 0.5], [2.0, 2.0, 0.5]]))   # std (1, 0) -> mean 0.5
    assert MinibatchStd()(torch.ones(1, 3))[0, -1] == 0                             # one sample: no spread


def test_minibatch_discrimination_known_answer_and_gradients():
    mbd = MinibatchDiscrimination(2, kernels=1, dims=2)
    with torch.no_grad():
        mbd.T.copy_(torch.eye(2))                                   # M_i = h_i
    h = torch.tensor([[0.0, 0.0], [0.0, 0.0], [3.0, 0.0]], requires_grad=True)
    o = mbd(h)[:, -1]
    e3 = math.exp(-3)
    assert torch.allclose(o, torch.tensor([1 + e3, 1 + e3, 2 * e3]), atol=1e-6)   # closeness to the others
    o.sum().backward()
    assert h.grad is not None and mbd.T.grad is not None and mbd.T.grad.abs().sum() > 0


def test_pack_and_unpack():
    x = torch.arange(4.0).view(4, 1, 1, 1)
    p = pack(x, 2, training=True)
    assert p.shape == (2, 2, 1, 1) and p[0].flatten().tolist() == [0, 1] and p[1].flatten().tolist() == [2, 3]
    e = pack(x, 2, training=False)                                  # judged alone: packed with its copies
    assert e.shape == (4, 2, 1, 1) and e[3].flatten().tolist() == [3, 3]
    assert pack(x[:3], 2, training=True).shape == (2, 2, 1, 1)     # an odd batch is completed
    assert unpack_scores(torch.tensor([1.0, 2.0]), 2, 3, True).tolist() == [1, 1, 2]
    assert unpack_scores(torch.tensor([1.0, 2.0]), 2, 2, False).tolist() == [1, 2]


@pytest.mark.parametrize("model", [dict(width=8, minibatch_std=True, minibatch_disc=4, pack=2),
                                   dict(conditioning="aux-class", width=8, num_classes=10, minibatch_disc=4),
                                   dict(architecture="toy", img_shape=(2,), z_dim=2, width=16, pack=3, minibatch_std=True)])
def test_discriminators_with_remedies_score_every_sample_and_learn(model):
    cfg = ModelConfig(**model)
    D = build_discriminator(cfg).train()
    x = torch.randn(6, *cfg.img_shape)
    s = D(x)
    assert s.shape == (6,)
    s.mean().backward()
    assert all(p.grad is not None for n, p in D.named_parameters() if not n.startswith("classify"))
    assert D.eval()(x[:1]).shape == (1,)                           # one sample can still be judged


def test_config_checks():
    for bad, msg in [(dict(conditioning="class", num_classes=10, pack=2), "unconditional"),
                     (dict(architecture="mlp", minibatch_std=True), "DCGAN family"),
                     (dict(pack=5), "pack must be between"),
                     (dict(minibatch_std="yes"), "true or false")]:
        with pytest.raises(ValueError, match=msg):
            ModelConfig(**bad)
    with pytest.raises(ValueError, match="PacGAN"):
        TrainConfig(model=ModelConfig(critic="plain", pack=2), loss="wgan-gp")
    with pytest.raises(ValueError, match="unrolled_steps"):
        TrainConfig(unrolled_steps=11)


def _tiny(**kw) -> TrainConfig:
    return TrainConfig(model=ModelConfig(architecture="toy", img_shape=(2,), z_dim=2, width=16), dataset="ring8",
                       batch_size=32, ema_decay=0.0, **kw)


def test_feature_matching_is_the_distance_between_mean_features():
    t = Trainer(_tiny(feature_matching=True))
    t.step()
    d_before = {k: v.clone() for k, v in t.D.state_dict().items()}
    # the G step alone: its loss is ||E f(real) - E f(fake)||^2 >= 0, and D is untouched by it
    t.discriminator_step(keep_fake=True)
    d_before = {k: v.clone() for k, v in t.D.state_dict().items()}
    m = t.generator_step()
    assert m["g_loss"] >= 0 and math.isfinite(m["g_loss"])
    assert all(torch.equal(v, d_before[k]) for k, v in t.D.state_dict().items())


def test_unrolled_d_trains_a_copy_and_leaves_d_and_its_optimizer_alone():
    t = Trainer(_tiny(unrolled_steps=3))
    t.discriminator_step(keep_fake=True)
    d_before = {k: v.clone() for k, v in t.D.state_dict().items()}
    steps_before = [s["step"].clone() for s in t.opt_d.state.values()]
    from gan_core.training.unrolled import unrolled_copy

    copy = unrolled_copy(t.objective, t.D, t.opt_d)   # with the objective's own D loss
    assert copy is not t.D
    assert any(not torch.equal(v, d_before[k]) for k, v in copy.state_dict().items())   # the copy moved on
    t.generator_step()
    assert all(torch.equal(v, d_before[k]) for k, v in t.D.state_dict().items())
    assert [s["step"] for s in t.opt_d.state.values()] == steps_before


def test_remedy_table_round_trips_and_every_remedy_trains_the_collapse_preset():
    from gan_core.training.presets import preset_config
    from gan_core.training.playground import preset

    for name in REMEDIES:
        cfg = with_remedy(preset_config("Mode collapse on purpose", batch_size=8), name)
        assert name in active(cfg)
        t = Trainer(cfg.replace(model=cfg.model.__class__(**{**cfg.model.to_dict(), "width": 8})))
        assert math.isfinite(t.step()["g_loss"])
        pg = with_remedy(preset("Mode collapse on purpose", batch_size=16), name) \
            if REMEDIES[name]["where"] == "both" else None
        if pg is not None:
            assert math.isfinite(Trainer(pg).step()["d_loss"])
    with pytest.raises(ValueError, match="Unknown remedy"):
        with_remedy(_tiny(), "Magic")


def test_a_remedy_may_set_other_values_in_the_playground():
    from gan_core.training.presets import preset_config
    from gan_core.training.playground import preset

    img = with_remedy(preset_config("Mode collapse on purpose"), "Two learning rates")
    toy = with_remedy(preset("Mode collapse on purpose", seed=3), "Two learning rates")
    assert (img.lr_g, img.lr_d) == (1e-4, 4e-4) and (toy.lr_g, toy.lr_d, toy.seed) == (1e-3, 2e-3, 3)
    assert "Two learning rates" in active(toy) and "Two learning rates" not in active(preset("Default"))


def test_cli_trains_with_remedies_and_the_checkpoint_loads(tmp_path):
    import gan_core
    from gan_core.cli.commands import run

    out = tmp_path / "run"
    assert run(["train", "--model", "dcgan", "--width", "8", "--steps", "2", "--batch-size", "8", "--out", str(out),
                "--minibatch-disc", "4", "--minibatch-std", "--pack", "2", "--feature-matching", "--unrolled", "1",
                "--quiet"]) == 0
    ck = gan_core.load_checkpoint(out, discriminator=True)
    m, tr = ck.model_config, ck.config["training"]
    assert (m.minibatch_disc, m.minibatch_std, m.pack) == (4, True, 2)
    assert tr["feature_matching"] is True and tr["unrolled_steps"] == 1
    assert ck.discriminator is not None


def test_full_unrolling_in_the_playground_differentiates_through_d_s_future_steps():
    t = Trainer(_tiny(unrolled_steps=2))
    t.step()                                                        # D's optimizer has moments now
    d_before = {k: v.clone() for k, v in t.D.state_dict().items()}
    z, _ = t.objective.noise(32)

    def grads(loss_fn):
        t.G.zero_grad(set_to_none=True)
        loss_fn(t.G(z)).backward()
        return torch.cat([p.grad.flatten() for p in t.G.parameters()])

    from gan_core.training import losses

    g_plain = grads(lambda fake: losses.generator_loss("nonsaturating", t.D(fake)))
    from gan_core.training.unrolled import unrolled_generator_loss

    g_unrolled = grads(lambda fake: unrolled_generator_loss(t.objective, t.D, t.opt_d, fake))
    assert torch.isfinite(g_unrolled).all() and not torch.allclose(g_plain, g_unrolled)
    assert all(torch.equal(v, d_before[k]) for k, v in t.D.state_dict().items())   # D itself never moved


@pytest.mark.parametrize("other", ["feature_matching", "minibatch_disc"])
def test_playground_unrolling_beside_feature_matching_or_minibatch_disc_uses_a_first_order_copy(monkeypatch, other):
    cfg = _tiny(unrolled_steps=2)
    cfg = cfg.replace(feature_matching=True) if other == "feature_matching" else \
        cfg.replace(model=cfg.model.__class__(**{**cfg.model.to_dict(), "minibatch_disc": 4}))
    t = Trainer(cfg)
    t.step()
    plain = Trainer(_tiny(unrolled_steps=2))
    plain.step()
    used = []
    from gan_core.training import unrolled

    monkeypatch.setattr(unrolled, "unrolled_copy", lambda obj, D, opt: used.append("copy") or t.D)
    monkeypatch.setattr(unrolled, "unrolled_generator_loss", lambda obj, D, opt, fake: used.append("full"))
    t.generator_step()
    assert used == ["copy"]                 # unrolled (not silently dropped), and not the costly full version
    monkeypatch.setattr(unrolled, "unrolled_generator_loss", lambda obj, D, opt, fake: used.append("full") or fake.sum())
    plain.generator_step()
    assert used == ["copy", "full"]
