"""The model-file intake: a few KB that declare a huge network, or a zip that inflates, are refused before
anything is built, inflated or written (hardening issue items 1, 2 and 5)."""
import io
import json
import zipfile

import pytest
import torch

import gan_core.hub.importers as importers
from gan_core.hub.checkpoints import CheckpointError, checkpoint_zip, extract_checkpoint_zip, save_checkpoint
from gan_core.intake import IntakeError
from gan_core.intake.models import read_state_dict
from gan_core.models import ModelConfig, build_generator


def _stride0_examples_dcgan(nz: int, ngf: int, nc: int = 3) -> dict:
    """A state dict whose shapes say 'PyTorch-examples DCGAN with ngf', every tensor a stride-0 view of one
    number: a few KB on disk."""
    one = torch.zeros(1)
    return {"main.0.weight": one.expand(nz, 8 * ngf, 4, 4), "main.12.weight": one.expand(ngf, nc, 4, 4)}


def test_a_tiny_pth_declaring_a_huge_network_is_refused_before_anything_is_built(tmp_path, monkeypatch):
    # first and last layers only: 2 M numbers declared in the file, but ngf=512 implies a 200 M-parameter G
    torch.save(_stride0_examples_dcgan(nz=4, ngf=512), tmp_path / "netG.pth")
    assert (tmp_path / "netG.pth").stat().st_size < 10_000
    built = []
    monkeypatch.setattr(importers, "build_generator", lambda cfg: built.append(cfg) or build_generator(cfg))
    with pytest.raises(CheckpointError, match="M parameters"):
        importers.import_examples_dcgan(tmp_path / "netG.pth", tmp_path / "out")
    assert built == [] and not (tmp_path / "out").exists()


def test_stride0_tensors_are_counted_by_their_declared_shapes(tmp_path):
    torch.save({"w": torch.zeros(1).expand(60_000, 1_000)}, tmp_path / "big.pth")
    with pytest.raises(IntakeError, match="60 M parameters"):
        read_state_dict(tmp_path / "big.pth")


def _rezip(src, dst, method):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", method) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))


def test_a_pth_rezipped_with_deflate_is_refused_before_torch_load_inflates_it(tmp_path, monkeypatch):
    torch.save({"w": torch.zeros(2_000_000)}, tmp_path / "plain.pth")          # 8 MB stored
    _rezip(tmp_path / "plain.pth", tmp_path / "bomb.pth", zipfile.ZIP_DEFLATED)
    assert (tmp_path / "bomb.pth").stat().st_size < 100_000                     # 8 MB of zeros -> ~8 KB
    loads = []
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(a))
    with pytest.raises(IntakeError, match="compressed"):
        read_state_dict(tmp_path / "bomb.pth")
    assert loads == []


def test_a_stored_archive_as_torch_save_writes_it_still_loads(tmp_path):
    torch.save({"w": torch.arange(10.0)}, tmp_path / "ok.pth")
    _rezip(tmp_path / "ok.pth", tmp_path / "stored.pth", zipfile.ZIP_STORED)
    assert torch.equal(read_state_dict(tmp_path / "stored.pth")["w"], torch.arange(10.0))


def test_a_checkpoint_zip_of_constant_weights_is_refused_as_a_bomb(tmp_path):
    cfg = ModelConfig(width=64, z_dim=16)
    G = build_generator(cfg)
    for p in G.parameters():
        p.data.zero_()
    folder = save_checkpoint(tmp_path / "m", {"model": cfg.to_dict()}, {"G": G.eval()})
    data = checkpoint_zip(folder)
    assert len(data) < 200_000 < (folder / "G.safetensors").stat().st_size
    with pytest.raises(CheckpointError, match="zip bomb"):
        extract_checkpoint_zip(data, tmp_path / "up")
    assert not (tmp_path / "up").exists()


def test_a_weights_member_larger_than_its_config_can_need_is_refused_unread(tmp_path):
    cfg = ModelConfig(width=8, z_dim=8)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:   # stored, so the ratio check does not apply: the size check does
        zf.writestr("config.json", json.dumps({"model": cfg.to_dict()}))
        zf.writestr("G.safetensors", bytes(5_000_000))
    with pytest.raises(CheckpointError, match="more than the networks"):
        extract_checkpoint_zip(buf.getvalue(), tmp_path / "up")


def test_two_identical_uploads_racing_keep_one_folder(tmp_path):
    from gan_core.hub.checkpoints import publish_folder

    for i in range(2):
        (tmp_path / f"s{i}").mkdir()
        (tmp_path / f"s{i}" / "config.json").write_text("{}")
    publish_folder(tmp_path / "s0", tmp_path / "out")
    publish_folder(tmp_path / "s1", tmp_path / "out")   # the second finds the first's folder and keeps it
    assert (tmp_path / "out" / "config.json").is_file() and (tmp_path / "s1").exists()
