import subprocess
import sys

import pytest
from PIL import Image

import gan_core
from gan_core.cli import main, parse_seeds


def test_parse_seeds():
    assert parse_seeds("1-4,9") == [1, 2, 3, 4, 9]
    for bad in ("x", "5-1", "-3", ""):
        with pytest.raises(Exception):
            parse_seeds(bad)


def test_train_then_sample_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", "--model", "cgan", "--steps", "3", "--batch-size", "8", "--width", "8", "--out", str(out),
               "--quiet"])
    assert rc == 0
    for f in ("config.json", "generator.safetensors", "discriminator.safetensors", "metrics.json", "samples.png"):
        assert (out / f).is_file(), f
    G = gan_core.load_generator(out)
    assert G.num_classes == 10
    png = tmp_path / "grid.png"
    assert main(["sample", "--model", str(out), "--seeds", "1-6", "--nrow", "3", "--out", str(png)]) == 0
    im = Image.open(png)
    assert im.size == (3 * 30 + 2, 2 * 30 + 2)


def test_bad_input_is_one_line_error_not_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "gan_core.cli", "sample", "--model", str(tmp_path), "--out",
                        str(tmp_path / "x.png")], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("error:") and r.stderr.count("\n") == 1
    r = subprocess.run([sys.executable, "-m", "gan_core.cli", "train", "--steps", "0", "--out", str(tmp_path / "y")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "steps" in r.stderr and "Traceback" not in r.stderr
