import math

import pytest
import torch

from gan_core.data.datasets import load_mnist5k
from gan_core.models import ModelConfig
from gan_core.training.config import TrainConfig
from gan_core.training.recipes import default_config
from gan_core.training.trainer import Trainer, TrainingDiverged

KEYS = {"step", "d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "images_per_s", "epoch"}


def tiny(kind: str, **kw) -> TrainConfig:
    return default_config(kind, model=dict(width=8, z_dim=8), batch_size=16, **kw)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist5k()


@pytest.mark.parametrize("kind", ["vanilla", "dcgan", "cgan", "acgan", "wgan-gp"])
def test_every_model_kind_trains_on_mnist5k(kind, mnist):
    t = Trainer(tiny(kind), mnist)
    before_g = [p.detach().clone() for p in t.G.parameters()]
    before_d = [p.detach().clone() for p in t.D.parameters()]
    hist = t.run(3)
    assert len(hist) == 3 and KEYS <= set(hist[-1])
    assert all(math.isfinite(v) for h in hist for v in h.values())
    assert any(not torch.equal(a, b) for a, b in zip(before_g, t.G.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before_d, t.D.parameters()))
    assert t.step_count == 3


def test_n_critic_counts_discriminator_updates(mnist):
    t = Trainer(tiny("wgan-gp"), mnist)
    t.step()
    assert t.images_seen == 5 * 16
    assert t.opt_d.state[next(iter(t.D.parameters()))]["step"] == 5
    assert t.opt_g.state[next(iter(t.G.parameters()))]["step"] == 1


@pytest.mark.parametrize("loss", ["minimax", "nonsaturating", "lsgan", "hinge"])
def test_every_loss_trains(loss, mnist):
    t = Trainer(tiny("dcgan", loss=loss), mnist)
    assert all(math.isfinite(v) for v in t.step().values())


def test_same_seed_same_weights_and_different_seed_differs(mnist):
    a, b, c = (Trainer(tiny("dcgan", seed=s), mnist) for s in (1, 1, 2))
    for t in (a, b, c):
        t.run(4)
    assert all(torch.equal(p, q) for p, q in zip(a.G_ema.parameters(), b.G_ema.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.G_ema.parameters(), c.G_ema.parameters()))


def test_ema_generator_trails_the_live_generator(mnist):
    t = Trainer(tiny("dcgan", ema_decay=0.9), mnist)
    t.run(30)
    p_ema, p = next(t.G_ema.parameters()), next(t.G.parameters())
    assert not torch.equal(p_ema, p) and not p_ema.requires_grad


def test_divergence_raises_naming_the_step_and_keeps_last_good_weights(mnist):
    t = Trainer(tiny("dcgan"), mnist)
    t.run(2)
    good = {k: v.clone() for k, v in t.D.state_dict().items()}
    with torch.no_grad():
        t.objective.real[:] = float("nan")  # poison the data: the next D loss is NaN
    with pytest.raises(TrainingDiverged, match="step 2") as e:
        t.step()
    assert e.value.step == 2
    for k, v in t.D.state_dict().items():
        if v.is_floating_point() and "running" not in k:
            assert torch.equal(v, good[k]), k
    assert all(torch.isfinite(p).all() for p in t.G.parameters())


def test_exploding_gradient_counts_as_divergence(mnist):
    t = Trainer(tiny("dcgan", max_grad_norm=1e-12), mnist)
    with pytest.raises(TrainingDiverged, match="gradient norm"):
        t.step()


def test_callbacks_see_every_step_and_can_stop(mnist):
    seen = []

    def cb(trainer, m):
        seen.append(m["step"])
        if m["step"] == 3:
            trainer.should_stop = True

    Trainer(tiny("dcgan"), mnist).run(10, [cb])
    assert seen == [1, 2, 3]


def test_toy_model_trains_on_2d_data():
    t = Trainer(default_config("toy", batch_size=32))
    h = t.run(5)
    assert h[-1]["step"] == 5 and math.isfinite(h[-1]["d_loss"])


@pytest.mark.parametrize("bad,match", [
    (dict(lr_g=0), "lr_g"), (dict(batch_size=0), "batch_size"), (dict(n_critic=0), "n_critic"),
    (dict(loss="wgan"), "Unknown loss"), (dict(label_smoothing=0.7), "label_smoothing"),
    (dict(loss="wgan-gp"), "BatchNorm"), (dict(dataset="ring8"), "Toy"), (dict(device="tpu"), "device"),
])
def test_config_validation_messages(bad, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(model=ModelConfig(), **bad)


def test_mismatched_data_shape_is_rejected(mnist):
    with pytest.raises(ValueError, match="32"):
        Trainer(TrainConfig(model=ModelConfig(img_shape=(3, 32, 32))), mnist)


def test_config_round_trips():
    cfg = tiny("cgan", lr_g=1e-3)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_diffaugment_translation_shifts_whole_pixels_with_background_fill():
    from gan_core.training.objectives import diff_translate

    x = -torch.ones(64, 1, 8, 8)
    x[:, :, 3, 4] = 1.0  # one bright pixel per image
    out = diff_translate(x, torch.Generator().manual_seed(0), max_shift=0.25)
    assert torch.all((out == 1).flatten(1).sum(1) == 1)  # still exactly one bright pixel, background -1
    assert set(out.unique().tolist()) == {-1.0, 1.0}
    moved = (out != x).flatten(1).any(1)
    assert moved.any()
    x.requires_grad_(True)
    diff_translate(x, torch.Generator().manual_seed(0)).sum().backward()
    assert x.grad is not None


def test_training_with_augmentation(mnist):
    t = Trainer(tiny("dcgan", augment="translation"), mnist)
    assert all(math.isfinite(v) for v in t.step().values())
    with pytest.raises(ValueError, match="augment"):
        tiny("dcgan", augment="flip")


def test_acgan_trains_the_class_head_on_real_digits_and_pushes_g_toward_the_label(mnist):
    import torch.nn.functional as F

    t = Trainer(tiny("acgan", lr_d=2e-3, seed=0), mnist)
    real, labels = t.objective.real[:500], t.objective.labels[:500]

    def class_loss():
        t.D.eval()
        with torch.no_grad():
            return F.cross_entropy(t.D.scores_and_classes(real)[1], labels).item()

    before = class_loss()
    t.run(60)
    assert class_loss() < before - 0.5  # D's head learned to name real digits (chance is ln 10 = 2.30)

    def g_after_one_step(weight):  # the same seed and batch; only the class term's weight differs
        tr = Trainer(tiny("acgan", seed=0, aux_weight=weight), mnist)
        tr.step()
        return [p.detach().clone() for p in tr.G.parameters()]

    with_term, without = g_after_one_step(1.0), g_after_one_step(0.0)
    assert any(not torch.allclose(a, b) for a, b in zip(with_term, without))  # the class term reaches G
