import io
import zipfile

import pytest
import torch

from gan_core.hub.checkpoints import CheckpointError, checkpoint_zip, extract_checkpoint_zip, load_checkpoint, save_checkpoint
from gan_core.models import ModelConfig, build_generator


def _zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_round_trip_through_a_zip(tmp_path):
    cfg = ModelConfig(width=8, z_dim=8)
    folder = save_checkpoint(tmp_path / "m", {"model": cfg.to_dict()}, {"G": build_generator(cfg).eval()})
    out = extract_checkpoint_zip(checkpoint_zip(folder), tmp_path / "up")
    assert load_checkpoint(out).generator.z_dim == 8


def _checkpoint_files(tmp_path, **model) -> dict:
    cfg = ModelConfig(**{"width": 8, "z_dim": 8, **model})
    folder = save_checkpoint(tmp_path / "src", {"model": cfg.to_dict()}, {"G": build_generator(cfg).eval()})
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_rejects_non_zip_missing_config_and_path_tricks(tmp_path):
    with pytest.raises(CheckpointError, match="not a zip"):
        extract_checkpoint_zip(b"hello", tmp_path / "a")
    with pytest.raises(CheckpointError, match="config.json"):
        extract_checkpoint_zip(_zip({"notes.txt": "x"}), tmp_path / "b")
    files = _checkpoint_files(tmp_path)
    out = extract_checkpoint_zip(_zip({"../../evil/config.json": "{}", **files, "run.sh": "rm -rf /"}),
                                 tmp_path / "c")
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    assert not (tmp_path / "evil").exists()


def _nothing_written(root) -> bool:
    return not root.exists() or not any(root.iterdir())


@pytest.mark.parametrize("config, message", [
    ({"model": {"kind": "cgan", "num_classes": 5000000, "width": 1}}, "num_classes must be between"),
    ({"model": {"kind": "dcgan", "z_dim": 64.5}}, "z_dim must be a whole number"),
    ({"model": {"kind": "vanilla", "img_shape": [3, 4000, 4000]}}, "at most 128x128"),
    ({"model": {"kind": "vanilla", "img_shape": [3, 128, 128], "width": 2048}}, "M parameters"),
    ({"model": {"kind": "classifier", "feature_dim": 10**9}}, "feature_dim must be between"),
    ({"model": {"kind": "classifier", "img_shape": [1, 100, 100]}}, "classifier reads"),
    ({"model": "dcgan"}, "describes no valid model|not a checkpoint's config"),
    ("not json", "not a checkpoint's config"),
])
def test_config_is_judged_before_anything_is_built_or_written(tmp_path, config, message):
    """A config.json alone (no weights) that would size huge networks is refused without allocating them
    (the peak memory of the process does not grow by the 2.4 GB that hole cost) and without writing a file."""
    import json
    import resource

    body = config if isinstance(config, str) else json.dumps(config)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(CheckpointError, match=message):
        extract_checkpoint_zip(_zip({"config.json": body}), tmp_path / "up" / "x")
    assert _nothing_written(tmp_path / "up")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 300_000


def test_a_member_with_a_bad_crc_is_refused_and_nothing_is_left(tmp_path):
    files = _checkpoint_files(tmp_path)
    data = bytearray(_zip(files))
    weights = bytes(files["G.safetensors"][-64:])
    at = bytes(data).index(weights)
    data[at + 10] ^= 0xFF  # flip a byte inside the stored (uncompressed) weights: the CRC no longer matches
    with pytest.raises(CheckpointError, match="damaged"):
        extract_checkpoint_zip(bytes(data), tmp_path / "up" / "x")
    assert _nothing_written(tmp_path / "up")


def test_weights_that_do_not_match_leave_nothing_behind(tmp_path):
    files = _checkpoint_files(tmp_path)
    other = _checkpoint_files(tmp_path / "o", width=16)
    with pytest.raises(CheckpointError, match="shape"):
        extract_checkpoint_zip(_zip({**files, "G.safetensors": other["G.safetensors"]}),
                               tmp_path / "up" / "x")
    assert _nothing_written(tmp_path / "up")


def test_the_classifier_or_a_toy_is_not_accepted_as_a_generator(tmp_path):
    from ui.models import usable_generator
    from gan_core.hub.checkpoints import Checkpoint
    from gan_core.models import ClassifierConfig

    with pytest.raises(CheckpointError, match="classifier, not a generator"):
        usable_generator(Checkpoint(tmp_path, {}, ClassifierConfig(), networks={"classifier": object()}))
    with pytest.raises(CheckpointError, match="toy"):
        usable_generator(Checkpoint(tmp_path, {}, ModelConfig(architecture="toy", img_shape=(2,)), networks={"G": object()}))


def test_upload_folder_is_pruned_least_recently_used_first(tmp_path):
    import os
    import time

    from gan_core.hub.checkpoints import prune_folders

    for i in range(5):
        (tmp_path / f"f{i}").mkdir()
        (tmp_path / f"f{i}" / "w").write_bytes(b"0" * 1000)
        os.utime(tmp_path / f"f{i}", (time.time() - 100 + i, time.time() - 100 + i))
    removed = prune_folders(tmp_path, max_bytes=10_000, max_entries=3)
    assert sorted(p.name for p in removed) == ["f0", "f1"]
    removed = prune_folders(tmp_path, max_bytes=1500, max_entries=3, keep="f2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f2", "f4"]


def test_oversized_upload_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="larger"):
        extract_checkpoint_zip(b"0" * 50_000_001, tmp_path / "d")


def test_the_picker_filters_by_task_and_classes_from_config_json_alone(tmp_path):
    """Only config.json is read to list models: a folder without any weights still sorts by task and classes."""
    import json

    from gan_core.hub.checkpoints import read_model_config
    from ui.models import _fits

    def folder(name, model):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps({"model": model}))
        return str(tmp_path / name)

    images = folder("images", ModelConfig(num_classes=10).to_dict())
    points = folder("points", ModelConfig(architecture="toy", img_shape=(2,)).to_dict())
    old = folder("old", {"kind": "dcgan"})   # an earlier version's config
    clf = folder("clf", {"kind": "classifier"})
    assert read_model_config(images).task == "noise->image" and read_model_config(points).task == "noise->points"
    assert [_fits(p, "noise->image", None) for p in (images, points, old, clf)] == [True, False, True, False]
    assert _fits(images, "noise->image", True) and not _fits(old, "noise->image", True)
    assert _fits(points, "noise->points", None)
    assert not _fits(folder("bad", {"kind": "gan"}), "noise->image", None)
