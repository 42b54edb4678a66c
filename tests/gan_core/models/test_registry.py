"""The architecture registry, the old-kind mapping and what each family declares."""
import json
import shutil
from pathlib import Path

import pytest
import torch

from gan_core.models import (FAMILIES, LEGACY_KINDS, Family, ModelConfig, build_discriminator, build_generator,
                             register)
from gan_core.models.common import Discriminator, Generator
from gan_core.models.registry import for_task

PRETRAINED = Path(__file__).resolve().parents[3] / "pretrained"
SHIPPED = {"mnist-dcgan": ("dcgan", "clusters", "batchnorm"), "mnist-cgan": ("dcgan", "class", "batchnorm"),
           "mnist-wgan-gp": ("dcgan", "clusters", "plain"), "mnist-vanilla": ("mlp", "none", "plain")}


LEGACY = Path(__file__).resolve().parents[2] / "data" / "legacy"   # the shipped config.json files as earlier versions wrote them


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_folder_as_earlier_versions_wrote_it_still_loads(name, tmp_path):
    """Earlier versions wrote one "kind" (stored twice, under "model" and "training") and generator.safetensors /
    discriminator.safetensors: such a folder (the shipped config.json as it was, the shipped weights under their
    old names) loads as today's, with the same networks and the same weights."""
    from gan_core.hub.checkpoints import load_checkpoint

    folder = tmp_path / name
    folder.mkdir()
    raw = json.loads((LEGACY / f"{name}.config.json").read_text())
    assert "kind" in raw["model"] and "kind" in raw["training"]["model"]
    (folder / "config.json").write_text(json.dumps(raw))
    shutil.copy(PRETRAINED / name / "G.safetensors", folder / "generator.safetensors")
    shutil.copy(PRETRAINED / name / "D.safetensors", folder / "discriminator.safetensors")
    old, new = load_checkpoint(folder, discriminator=True), load_checkpoint(PRETRAINED / name, discriminator=True)
    m = old.model_config
    assert (m.architecture, m.conditioning, m.critic) == SHIPPED[name] and m == new.model_config
    assert ModelConfig.from_dict(m.to_dict()) == m      # and today's format round-trips
    for net in ("G", "D"):
        want = new.networks[net].state_dict()
        assert all(torch.equal(v, want[k]) for k, v in old.networks[net].state_dict().items())


def test_the_shipped_folders_store_each_setting_once_and_networks_by_name():
    for name in SHIPPED:
        raw = json.loads((PRETRAINED / name / "config.json").read_text())
        assert "model" not in raw["training"] and "dataset" not in raw and "kind" not in raw["model"]
        assert {"G.safetensors", "D.safetensors"} <= {p.name for p in (PRETRAINED / name).iterdir()}


def test_every_old_kind_maps_to_registered_fields():
    extra = {"cgan": dict(num_classes=10), "acgan": dict(num_classes=10), "toy": dict(img_shape=[2]),
             "examples-dcgan": dict(img_shape=[3, 64, 64])}
    for kind in LEGACY_KINDS:
        m = ModelConfig.from_dict({"kind": kind, **extra.get(kind, {})})
        assert m.architecture in FAMILIES
    with pytest.raises(ValueError, match="Unknown model kind"):
        ModelConfig.from_dict({"kind": "gan"})
    acgan = ModelConfig.from_dict({"kind": "acgan", "num_classes": 10})
    assert build_discriminator(acgan).aux_classes == 10 and build_discriminator(acgan).num_classes == 0


def test_the_critic_form_is_its_own_field():
    bn = build_discriminator(ModelConfig(width=8))
    plain = build_discriminator(ModelConfig(width=8, critic="plain"))
    has_bn = lambda D: any(isinstance(m, torch.nn.BatchNorm2d) for m in D.modules())  # noqa: E731
    assert has_bn(bn) and not has_bn(plain)
    with pytest.raises(ValueError, match="plain"):
        ModelConfig(architecture="mlp", critic="batchnorm")   # the 2014 MLP's D has no BatchNorm to switch


def test_tasks_come_from_the_config_alone():
    assert ModelConfig().task == "noise->image" and ModelConfig(architecture="toy", img_shape=(2,)).task == "noise->points"
    assert set(for_task("noise->image")) >= {"mlp", "dcgan", "examples-dcgan"} and for_task("noise->points") == ["toy"]


class _Tiny(Generator):
    def __init__(self, z_dim, img_shape):
        super().__init__()
        self.z_dim, self.img_shape = z_dim, tuple(img_shape)
        self.fc = torch.nn.Linear(z_dim, int(torch.tensor(img_shape).prod()))

    def latent_weight(self):
        return self.fc.weight

    def forward(self, z, y=None):
        return torch.tanh(self.fc(z)).view(len(z), *self.img_shape)


class _TinyD(Discriminator):
    def __init__(self, img_shape):
        super().__init__()
        self.img_shape = tuple(img_shape)
        self.fc = torch.nn.Linear(int(torch.tensor(img_shape).prod()), 1)

    def forward(self, x, y=None):
        return self.fc(x.flatten(1)).squeeze(1)


def test_one_registration_makes_a_new_architecture_buildable_and_trainable():
    """What "Adding an architecture" in the README promises: a module with its networks and one register()
    call; the config, the builders, the trainer and the sampler need no change."""
    from gan_core.data.datasets import load_dataset
    from gan_core.latent.sampling import generate, seeds_to_z
    from gan_core.training.config import TrainConfig
    from gan_core.training.trainer import Trainer

    fam = Family(name="tiny-test", task="noise->image", label="a tiny test network", critics=("plain",),
                 generator=lambda c: _Tiny(c.z_dim, c.img_shape), discriminator=lambda c: _TinyD(c.img_shape))
    register(fam)
    try:
        cfg = ModelConfig(architecture="tiny-test", z_dim=4)
        assert isinstance(build_generator(cfg), _Tiny) and cfg.critic == "plain"
        t = Trainer(TrainConfig(model=cfg, batch_size=8, loss="wgan-gp"), load_dataset("mnist-5k"))
        m = t.step()
        assert m["step"] == 1 and torch.isfinite(torch.tensor(m["g_loss"]))
        assert generate(t.G_ema, seeds_to_z([0, 1, 2], 4)).shape == (3, 1, 28, 28)
        with pytest.raises(ValueError, match="already"):
            register(Family(name="tiny-test", task="noise->image", label="another", generator=_Tiny,
                            discriminator=_TinyD))
    finally:
        del FAMILIES["tiny-test"]


def test_inside_layers_are_declared_by_the_generator():
    G = build_generator(ModelConfig(width=8, z_dim=8)).eval()
    names = list(G.inside_layers())
    assert names[0] == "projection" and names[1:] == [f"block {i}" for i in range(1, len(names))]
    assert build_generator(ModelConfig(architecture="mlp", width=8)).inside_layers() == {}
    ex = build_generator(ModelConfig(architecture="examples-dcgan", img_shape=(1, 64, 64), width=4))
    assert list(ex.inside_layers()) == [f"block {i}" for i in range(1, 5)]
