import io
import zipfile

import pytest
import torch

from gan_core.checkpoints import CheckpointError, checkpoint_zip, extract_checkpoint_zip, load_checkpoint, save_checkpoint
from gan_core.models import ModelConfig, build_generator


def _zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_round_trip_through_a_zip(tmp_path):
    cfg = ModelConfig(kind="dcgan", width=8, z_dim=8)
    folder = save_checkpoint(tmp_path / "m", {"model": cfg.to_dict()}, build_generator(cfg).eval())
    out = extract_checkpoint_zip(checkpoint_zip(folder), tmp_path / "up")
    assert load_checkpoint(out).generator.z_dim == 8


def test_rejects_non_zip_missing_config_and_path_tricks(tmp_path):
    with pytest.raises(CheckpointError, match="not a zip"):
        extract_checkpoint_zip(b"hello", tmp_path / "a")
    with pytest.raises(CheckpointError, match="config.json"):
        extract_checkpoint_zip(_zip({"notes.txt": "x"}), tmp_path / "b")
    out = extract_checkpoint_zip(_zip({"../../evil/config.json": "{}", "config.json": "{}", "run.sh": "rm -rf /"}),
                                 tmp_path / "c")
    assert sorted(p.name for p in out.iterdir()) == ["config.json"]
    assert not (tmp_path / "evil").exists()
    with pytest.raises(CheckpointError):
        load_checkpoint(out)  # the loader still judges what was extracted


def test_oversized_upload_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="larger"):
        extract_checkpoint_zip(b"0" * 50_000_001, tmp_path / "d")
