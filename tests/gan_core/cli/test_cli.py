import subprocess
import sys

import pytest
from PIL import Image

import gan_core
from gan_core.cli.main import main
from gan_core.latent.sampling import parse_seeds


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
    for f in ("config.json", "G.safetensors", "D.safetensors", "metrics.json", "samples.png"):
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


def test_select_by_fid_keeps_the_best_and_records_precision_recall(tmp_path):
    import json

    out = tmp_path / "sel"
    rc = main(["train", "--model", "dcgan", "--steps", "4", "--batch-size", "8", "--width", "8", "--select-by", "fid",
               "--eval-every", "2", "--eval-samples", "50", "--out", str(out), "--quiet"])
    assert rc == 0
    sel = json.loads((out / "metrics.json").read_text())["selection"]
    assert [s for s, _ in sel["history"]] == [2, 4]
    assert sel["best_value"] == pytest.approx(min(v for _, v in sel["history"]), abs=1e-3)
    assert sel["best_step"] == min(sel["history"], key=lambda row: row[1])[0]
    assert [row[0] for row in sel["precision_recall_history"]] == [2, 4]
    assert all(0.0 <= p <= 1.0 and 0.0 <= r <= 1.0 for _, p, r in sel["precision_recall_history"])


def test_train_with_clusters_records_them_and_refuses_them_for_conditional_models(tmp_path):
    import json

    out = tmp_path / "sc"
    assert main(["train", "--model", "dcgan", "--clusters", "4", "--steps", "2", "--batch-size", "8", "--width", "8",
                 "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "config.json").read_text())["model"]["clusters"] == 4
    assert gan_core.load_generator(out).clusters == 4
    r = subprocess.run([sys.executable, "-m", "gan_core.cli", "train", "--model", "cgan", "--clusters", "4", "--steps",
                        "1", "--out", str(tmp_path / "bad")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Self-conditioning" in r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    # acgan with clusters: D names the cluster; the saved G is unconditional and keeps the class term's weight
    un = tmp_path / "ac"
    assert main(["train", "--model", "acgan", "--clusters", "4", "--aux-weight", "5", "--steps", "2", "--batch-size",
                 "8", "--width", "8", "--clustering", "spectral", "--cluster-temperature", "0.02", "--out", str(un),
                 "--quiet"]) == 0
    cfg = json.loads((un / "config.json").read_text())
    assert cfg["model"]["num_classes"] == 0 and cfg["model"]["clusters"] == 4
    assert cfg["model"]["cluster_temperature"] == 0.02
    assert cfg["training"]["clustering"] == "spectral" and cfg["training"]["aux_weight"] == 5
    assert gan_core.load_generator(un).num_classes == 0
    assert gan_core.load_generator(un).cluster_temperature == 0.02     # the saved G draws with its temperature


def test_train_a_style_based_model_from_the_command_line(tmp_path):
    from gan_core.hub.checkpoints import load_checkpoint

    out = tmp_path / "sg"
    assert main(["train", "--model", "stylegan", "--steps", "2", "--width", "4", "--z-dim", "8", "--batch-size", "4",
                 "--style-mixing", "0.5", "--r1-gamma", "2", "--out", str(out), "--quiet"]) == 0
    ck = load_checkpoint(out)
    assert ck.model_config.architecture == "stylegan" and ck.generator.has_w
    tr = ck.config["training"]
    assert (tr["style_mixing"], tr["r1_gamma"], tr["beta1"]) == (0.5, 2.0, 0.0)
