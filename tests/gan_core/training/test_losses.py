import math

import pytest
import torch

from gan_core.training import losses


def test_minimax_discriminator_loss_matches_value_function():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-1.0, 0.3])
    v = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()
    assert torch.allclose(losses.discriminator_loss("minimax", real, fake), -v)


def test_saturating_generator_loss_is_log_one_minus_d():
    fake = torch.tensor([-3.0, 0.0, 1.0])
    expected = torch.log(1 - torch.sigmoid(fake)).mean()
    assert torch.allclose(losses.generator_loss("minimax", fake), expected, atol=1e-6)


def test_saturating_loss_vanishes_where_non_saturating_does_not():
    # D rejects the fakes confidently: D(G(z)) ~ sigmoid(-8)
    fake = torch.full((4,), -8.0, requires_grad=True)
    (g_sat,) = torch.autograd.grad(losses.generator_loss("minimax", fake), fake)
    (g_ns,) = torch.autograd.grad(losses.generator_loss("nonsaturating", fake), fake)
    assert g_sat.abs().max() < 1e-3 < g_ns.abs().min()


def test_one_sided_label_smoothing_changes_only_real_targets():
    real, fake = torch.zeros(3), torch.zeros(3)
    plain = losses.discriminator_loss("nonsaturating", real, fake, 0.0)
    smooth = losses.discriminator_loss("nonsaturating", real, fake, 0.1)
    # at logit 0 the BCE is log 2 whatever the target, so use a confident real score instead
    real = torch.full((3,), 5.0)
    assert losses.discriminator_loss("nonsaturating", real, fake, 0.1) > losses.discriminator_loss(
        "nonsaturating", real, fake, 0.0)
    assert torch.allclose(plain, smooth)
    assert torch.allclose(losses.discriminator_loss("lsgan", torch.full((2,), 0.9), torch.zeros(2), 0.1),
                          torch.tensor(0.0))


def test_wasserstein_and_hinge():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0])
    assert losses.discriminator_loss("wgan-gp", real, fake).item() == pytest.approx(-0.5 - 2.0)
    assert losses.discriminator_loss("hinge", real, fake).item() == pytest.approx(0.0 + 0.5)
    assert losses.generator_loss("hinge", fake).item() == pytest.approx(0.5)


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic():
    w = torch.zeros(1, 4)
    w[0, 0] = 1.0  # D(x) = x_0 has gradient norm exactly 1
    D = lambda x: (x.flatten(1) * w).sum(1)  # noqa: E731
    gp = losses.gradient_penalty(D, torch.randn(8, 1, 2, 2), torch.randn(8, 1, 2, 2))
    assert gp.item() == pytest.approx(0.0, abs=1e-10)
    D2 = lambda x: 3 * x.flatten(1)[:, 0]  # noqa: E731
    assert losses.gradient_penalty(D2, torch.randn(8, 4), torch.randn(8, 4)).item() == pytest.approx(4.0)


def test_unknown_loss_is_rejected():
    with pytest.raises(ValueError, match="Unknown loss"):
        losses.generator_loss("gan", torch.zeros(1))
    assert set(losses.LOSSES) == {"minimax", "nonsaturating", "lsgan", "wgan-gp", "hinge"}
    assert math.isclose(losses.d_probability("minimax", torch.zeros(1)).item(), 0.5)
