import json
import pickle

import pytest
import torch

import gan_core
from tests.helpers import Boom
from gan_core.hub.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from gan_core.models import ModelConfig, build_discriminator, build_generator


@pytest.fixture()
def ckpt(tmp_path):
    cfg = ModelConfig(conditioning="class", num_classes=10, width=8, z_dim=8)
    torch.manual_seed(0)
    G, D = build_generator(cfg).eval(), build_discriminator(cfg).eval()
    folder = save_checkpoint(tmp_path / "m", {"model": cfg.to_dict()}, {"G": G, "D": D}, metrics={"fid": 1.0})
    return folder, G, D


def test_round_trip_reproduces_outputs_exactly(ckpt):
    folder, G, D = ckpt
    c = load_checkpoint(folder, discriminator=True)
    z, y = torch.randn(5, 8), torch.arange(5)
    with torch.no_grad():
        assert torch.equal(c.generator(z, y), G(z, y))
        x = G(z, y)
        assert torch.equal(c.discriminator(x, y), D(x, y))
    assert not c.generator.training and c.metrics == {"fid": 1.0}
    assert gan_core.load_generator(folder).num_classes == 10


def test_missing_folder_and_missing_files(tmp_path, ckpt):
    with pytest.raises(CheckpointError, match="not a folder"):
        load_checkpoint(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="config.json is missing"):
        load_checkpoint(tmp_path / "empty")
    folder, _, _ = ckpt
    (folder / "G.safetensors").unlink()
    with pytest.raises(CheckpointError, match="G.safetensors is missing"):
        load_checkpoint(folder)


def test_corrupt_config_and_weights(ckpt):
    folder, _, _ = ckpt
    (folder / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(folder)
    (folder / "config.json").write_text(json.dumps({"model": {"kind": "dcgan", "z_dim": -3}}))
    with pytest.raises(CheckpointError, match="z_dim"):
        load_checkpoint(folder)
    (folder / "config.json").write_text(json.dumps({"model": {"kind": "cgan", "num_classes": 10, "width": 8,
                                                              "z_dim": 8}}))
    (folder / "G.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage")
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_checkpoint(folder)


def test_mismatched_shapes_are_reported(ckpt):
    folder, _, _ = ckpt
    cfg = json.loads((folder / "config.json").read_text())
    cfg["model"]["z_dim"] = 12
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="shape"):
        load_checkpoint(folder)


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_disguised_pickle_is_refused_and_never_runs(ckpt, tmp_path, protocol):
    folder, _, _ = ckpt
    marker = tmp_path / f"pwned-{protocol}"
    (folder / "G.safetensors").write_bytes(pickle.dumps(Boom(str(marker)), protocol=protocol))
    with pytest.raises(CheckpointError, match="safetensors"):
        load_checkpoint(folder)
    assert not marker.exists()


def test_torch_save_archive_is_refused(ckpt, tmp_path):
    folder, G, _ = ckpt
    torch.save(G.state_dict(), folder / "G.safetensors")
    with pytest.raises(CheckpointError, match="pickle or a torch.save"):
        load_checkpoint(folder)


def test_nan_weights_are_refused(ckpt):
    from safetensors.torch import load_file, save_file

    folder, _, _ = ckpt
    w = load_file(str(folder / "G.safetensors"))
    k = next(k for k, v in w.items() if v.is_floating_point())
    w[k][...] = float("nan")
    save_file(w, str(folder / "G.safetensors"))
    with pytest.raises(CheckpointError, match="NaN"):
        load_checkpoint(folder)


def test_a_generator_declares_how_its_z_is_drawn_and_a_checkpoint_keeps_it(tmp_path):
    """``G.noise`` comes from the config when the network is built (not attached by the loader), so a
    uniform-noise model loaded from disk samples uniform z, as in training."""
    import numpy as np

    cfg = ModelConfig(width=8, z_dim=8, noise="uniform")
    G = build_generator(cfg).eval()
    assert G.noise == "uniform" and build_generator(ModelConfig(width=8, z_dim=8)).noise == "gaussian"
    save_checkpoint(tmp_path / "u", {"model": cfg.to_dict()}, {"G": G})
    loaded = gan_core.load_generator(tmp_path / "u")
    assert loaded.noise == "uniform"
    z = gan_core.seeds_to_z([3, 4], 8, "uniform")
    assert np.array_equal(gan_core.sample(loaded, [3, 4]), gan_core.to_uint8(gan_core.generate(G, z)))
