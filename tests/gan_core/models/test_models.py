import pytest
import torch

from gan_core.models import (LEGACY_KINDS, ClassifierConfig, ModelConfig, build_classifier, build_discriminator,
                             build_generator)


@pytest.mark.parametrize("kind,shape", [("vanilla", (1, 28, 28)), ("dcgan", (1, 28, 28)), ("dcgan", (3, 32, 32)),
                                        ("cgan", (1, 28, 28)), ("acgan", (1, 28, 28)), ("wgan-gp", (1, 28, 28)),
                                        ("toy", (2,))])
def test_generator_interface_and_ranges(kind, shape):
    cfg = ModelConfig(**LEGACY_KINDS[kind], img_shape=shape, num_classes=10 if kind in ("cgan", "acgan") else 0, width=8,
                      z_dim=16)
    G, D = build_generator(cfg), build_discriminator(cfg)
    assert G.z_dim == 16 and G.img_shape == shape and G.num_classes == cfg.num_classes
    y = torch.arange(4) % 10 if cfg.conditional else None
    x = G(torch.randn(4, 16), y)
    assert x.shape == (4, *shape)
    if kind != "toy":
        assert x.min() >= -1 and x.max() <= 1
    assert D(x, y).shape == (4,)


def test_wgan_critic_has_no_batchnorm_and_dcgan_has():
    crit = build_discriminator(ModelConfig(critic="plain", width=8))
    disc = build_discriminator(ModelConfig(width=8))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in crit.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in disc.modules())


def test_spectral_norm_wraps_discriminator_layers():
    D = build_discriminator(ModelConfig(width=8, spectral_norm=True))
    assert any("parametrizations" in k for k in D.state_dict())


def test_conditional_generator_accepts_soft_labels_for_morphing():
    G = build_generator(ModelConfig(conditioning="class", num_classes=10, width=8)).eval()
    z = torch.randn(1, G.z_dim)
    hard = G(z, torch.tensor([3]))
    soft = G(z, torch.nn.functional.one_hot(torch.tensor([3]), 10).float())
    assert torch.allclose(hard, soft, atol=1e-6)
    with pytest.raises(ValueError, match="conditional"):
        G(z)
    with pytest.raises(ValueError, match="0..9"):
        G(z, torch.tensor([10]))


@pytest.mark.parametrize("bad,match", [(dict(architecture="gan"), "Unknown architecture"), (dict(z_dim=0), "z_dim"),
                                       (dict(conditioning="class"), "num_classes"), (dict(img_shape=(1, 64, 64)), "28x28"),
                                       (dict(noise="laplace"), "noise"), (dict(architecture="toy"), "2D")])
def test_model_config_rejects_bad_values_with_clear_messages(bad, match):
    with pytest.raises(ValueError, match=match):
        ModelConfig(**bad)


def test_model_config_round_trips_through_dict():
    cfg = ModelConfig(conditioning="class", num_classes=10, img_shape=(3, 32, 32))
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert "kind" not in cfg.to_dict() and cfg.to_dict()["conditioning"] == "class"


def test_classifier_features_and_logits():
    C = build_classifier(ClassifierConfig(width=8, feature_dim=32))
    x = torch.zeros(3, 1, 28, 28)
    assert C.features(x).shape == (3, 32) and C(x).shape == (3, 10)


def test_acgan_discriminator_sees_only_the_image_and_names_its_class():
    D = build_discriminator(ModelConfig(conditioning="aux-class", num_classes=10, width=8)).eval()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    scores, classes = D.scores_and_classes(x)
    assert scores.shape == (5,) and classes.shape == (5, 10)
    assert torch.allclose(D(x), scores) and torch.allclose(D(x, torch.arange(5)), scores)  # the label is not an input
    assert not hasattr(D, "label_map")
    with pytest.raises(ValueError, match="no class head"):
        build_discriminator(ModelConfig(conditioning="class", num_classes=10, width=8)).scores_and_classes(x)
    with pytest.raises(ValueError, match="num_classes"):
        ModelConfig(conditioning="aux-class")


@pytest.mark.parametrize("kind", ["vanilla", "dcgan", "cgan", "acgan", "wgan-gp", "toy", "examples-dcgan"])
def test_every_network_declares_what_it_offers(kind):
    """The contract callers read instead of probing: a generator's z_dim, img_shape, num_classes, clusters,
    noise; a discriminator's img_shape, num_classes, clusters, aux_classes."""
    from gan_core.models.common import Discriminator, Generator

    extra = {"toy": dict(z_dim=2, img_shape=(2,)), "examples-dcgan": dict(img_shape=(3, 64, 64)),
             "cgan": dict(num_classes=10), "acgan": dict(num_classes=10)}.get(kind, {})
    cfg = ModelConfig(**LEGACY_KINDS[kind], **({"width": 8, "z_dim": 8} | extra))
    G, D = build_generator(cfg), build_discriminator(cfg)
    assert isinstance(G, Generator) and isinstance(D, Discriminator)
    assert G.z_dim == cfg.z_dim and G.noise == cfg.noise and isinstance(G.clusters, int)
    assert isinstance(G.num_classes, int) and isinstance(D.aux_classes, int) and tuple(D.img_shape) == tuple(G.img_shape)
    assert D.aux_classes == (cfg.num_classes or cfg.clusters if kind == "acgan" else 0)
