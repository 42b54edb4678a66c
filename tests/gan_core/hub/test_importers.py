"""gan-core import --from pytorch-examples-dcgan: good state dicts convert, everything else is refused unread."""
import pickle

import pytest
import torch

import gan_core
from gan_core.hub.checkpoints import CheckpointError
from gan_core.cli.commands import run
from gan_core.hub.importers import import_examples_dcgan
from gan_core.models.examples_dcgan import ExamplesDCGANDiscriminator, ExamplesDCGANGenerator
from tests.helpers import Boom


def _netG(nz=16, ngf=4, nc=3, seed=0):
    torch.manual_seed(seed)
    G = ExamplesDCGANGenerator(nz, (nc, 64, 64), ngf)
    for m in G.modules():  # non-trivial BatchNorm statistics, as after training
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return G.eval()


@pytest.mark.parametrize("nc", [1, 3])
def test_a_state_dict_converts_and_draws_the_same_images(tmp_path, nc):
    G = _netG(nc=nc)
    torch.save(G.state_dict(), tmp_path / "netG.pth")
    assert run(["import", "--from", "pytorch-examples-dcgan", str(tmp_path / "netG.pth"),
                "--out", str(tmp_path / "ckpt")]) == 0
    G2 = gan_core.load_generator(tmp_path / "ckpt")
    z = torch.randn(3, 16)
    with torch.no_grad():
        assert torch.equal(G(z), G2(z))
    imgs = gan_core.sample(G2, seeds=[1, 2])
    assert imgs.shape == (2, 64, 64, nc)
    cfg = gan_core.load_checkpoint(tmp_path / "ckpt").model_config
    assert (cfg.architecture, cfg.z_dim, cfg.width, cfg.img_shape) == ("examples-dcgan", 16, 4, (nc, 64, 64))


def test_data_parallel_prefix_and_old_batchnorm_keys(tmp_path):
    sd = {f"module.{k}": v for k, v in _netG().state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(sd, tmp_path / "netG.pth")
    import_examples_dcgan(tmp_path / "netG.pth", tmp_path / "out")
    assert gan_core.load_generator(tmp_path / "out").z_dim == 16


def test_wrong_shapes_netD_and_non_state_dicts_are_refused(tmp_path, capsys):
    sd = _netG().state_dict()
    sd["main.3.weight"] = torch.zeros(32, 8, 4, 4)            # a layer of the wrong size
    torch.save(sd, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match="main.3.weight"):
        import_examples_dcgan(tmp_path / "bad.pth", tmp_path / "o1")
    torch.save(ExamplesDCGANDiscriminator((3, 64, 64), 4).state_dict(), tmp_path / "netD.pth")
    with pytest.raises(CheckpointError, match="netD"):
        import_examples_dcgan(tmp_path / "netD.pth", tmp_path / "o2")
    torch.save(torch.zeros(3), tmp_path / "tensor.pth")
    with pytest.raises(CheckpointError, match="not a state dict"):
        import_examples_dcgan(tmp_path / "tensor.pth", tmp_path / "o3")
    (tmp_path / "junk.pth").write_bytes(b"not a torch file at all")
    assert run(["import", "--from", "pytorch-examples-dcgan", str(tmp_path / "junk.pth"), "--out",
                str(tmp_path / "o4")]) == 2
    assert "torch.save" in capsys.readouterr().err
    for o in ("o1", "o2", "o3", "o4"):
        assert not (tmp_path / o).exists()


@pytest.mark.parametrize("protocol", [2, 4])
def test_a_pth_with_a_payload_is_refused_and_never_runs(tmp_path, protocol):
    marker = tmp_path / f"pwned-{protocol}"
    sd = dict(_netG().state_dict())
    sd["main.0.weight"] = Boom(str(marker))                    # one entry builds an object when unpickled
    torch.save(sd, tmp_path / "evil.pth", pickle_protocol=protocol)
    with pytest.raises(CheckpointError, match="was refused: it holds more than tensors"):
        import_examples_dcgan(tmp_path / "evil.pth", tmp_path / "out")
    assert not marker.exists() and not (tmp_path / "out").exists()
    # a bare pickle (not a torch.save archive) with the same payload
    (tmp_path / "bare.pth").write_bytes(pickle.dumps({"main.0.weight": Boom(str(marker))}, protocol=protocol))
    with pytest.raises(CheckpointError):
        import_examples_dcgan(tmp_path / "bare.pth", tmp_path / "out")
    assert not marker.exists()
