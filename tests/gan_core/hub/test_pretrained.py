"""The shipped checkpoints: complete, small, and as good as their cards say (measured here, not read)."""
import json
import subprocess
import sys

import pytest

import gan_core
from gan_core.training.classifier import accuracy
from gan_core.data.datasets import load_mnist5k, split
from gan_core.hub.pretrained import SHIPPED

pytestmark = [pytest.mark.pretrained, pytest.mark.evaluation]
GANS = ["mnist-vanilla", "mnist-dcgan", "mnist-cgan", "mnist-wgan-gp", "mnist-stylegan"]
FILES = ["config.json", "metrics.json", "samples.png", "card.md"]


def test_every_recipe_is_shipped_complete_and_small():
    root = gan_core.pretrained_dir()
    assert sorted(gan_core.list_pretrained(include_classifier=True)) == sorted(SHIPPED)
    total = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    assert total < 40 * 1024 * 1024, f"pretrained/ is {total / 2**20:.1f} MB"
    for name in SHIPPED:
        for f in FILES:
            assert (root / name / f).is_file(), f"{name}/{f}"
        card = (root / name / "card.md").read_text()
        for word in ("Command: `gan-core", "Seed", "Wall time", "cores", "mnist-5k"):
            assert word in card, f"{name} card lacks {word}"
    for name in GANS:
        assert (root / name / "G.safetensors").is_file() and (root / name / "D.safetensors").is_file()
        assert "real-data floor" in (root / name / "card.md").read_text()


def test_classifier_reaches_98_percent_on_data_it_never_saw():
    from gan_core.metrics.scores import load_classifier

    _, heldout = split(load_mnist5k(), 0.1, seed=0)
    acc = accuracy(load_classifier(), heldout)
    assert acc >= 0.98
    stored = json.loads((gan_core.pretrained_dir() / "mnist-classifier" / "metrics.json").read_text())
    assert stored["training"]["heldout_accuracy"] == pytest.approx(acc)


def evaluate_json(name: str) -> dict:
    r = subprocess.run([sys.executable, "-m", "gan_core.cli", "evaluate", "--model", name, "--json", "--quiet"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


KEYS = {"fid", "kid", "inception_score", "precision", "recall", "ppl", "classes_covered", "class_histogram",
        "conditional_accuracy", "floor_fid", "floor_kid", "floor_precision", "floor_recall", "cas", "floor_cas"}


@pytest.fixture(scope="module")
def measured():
    return {}


def evaluated(measured, name):
    if name not in measured:
        measured[name] = evaluate_json(name)
    return measured[name]


@pytest.mark.parametrize("name", ["mnist-dcgan", "mnist-cgan", "mnist-wgan-gp"])
def test_conv_models_cover_every_class_and_match_their_cards(measured, name):
    r = evaluated(measured, name)
    assert KEYS <= set(r)
    assert r["recall"] >= 0.5 and r["classes_covered"] >= 9
    assert (r["conditional_accuracy"] is None) == (name != "mnist-cgan")
    assert (r["cas"] is None) == (r["floor_cas"] is None) == (name != "mnist-cgan")
    card = json.loads((gan_core.pretrained_dir() / name / "metrics.json").read_text())["evaluation"]
    assert card["fid"] == pytest.approx(r["fid"], rel=1e-3)
    assert card["precision"] == pytest.approx(r["precision"], abs=1e-3)


@pytest.mark.parametrize("name", ["mnist-dcgan", "mnist-cgan", "mnist-wgan-gp", "mnist-stylegan"])
def test_all_ten_classes_each_at_least_5_percent(measured, name):
    r = evaluated(measured, name)
    assert r["classes_covered"] == 10 and min(r["class_histogram"]) >= 0.05


def test_cgan_meets_every_bar(measured):
    r = evaluated(measured, "mnist-cgan")
    assert r["conditional_accuracy"] >= 0.97
    assert r["cas"] >= 0.90 and r["floor_cas"] >= r["cas"] - 0.02    # Classification Accuracy Score
    assert r["precision"] >= 0.7 and r["recall"] >= 0.5


@pytest.mark.parametrize("name", ["mnist-dcgan", "mnist-wgan-gp"])
def test_unconditional_models_reach_the_precision_and_recall_bars_without_labels(measured, name):
    r = evaluated(measured, name)
    assert r["precision"] >= 0.7 and r["recall"] >= 0.5
    G = gan_core.load_generator(name)
    assert G.num_classes == 0 and G.clusters == 50  # self-conditioned on k-means clusters: G(z) needs no label


def test_stylegan_beats_the_dcgan_on_fid_and_precision_and_its_lower_recall_is_on_its_card(measured):
    sg, dc = evaluated(measured, "mnist-stylegan"), evaluated(measured, "mnist-dcgan")
    assert KEYS <= set(sg) and sg["classes_covered"] == 10
    assert sg["fid"] <= dc["fid"] and sg["precision"] >= dc["precision"]
    assert 0.4 <= sg["recall"] < dc["recall"]                      # fewer kinds of each digit: said on the card
    card = json.loads((gan_core.pretrained_dir() / "mnist-stylegan" / "metrics.json").read_text())["evaluation"]
    assert card["fid"] == pytest.approx(sg["fid"], rel=1e-3) and card["recall"] == pytest.approx(sg["recall"], abs=1e-3)
    assert "recall (0.43) stays below the DCGAN's" in (gan_core.pretrained_dir() / "mnist-stylegan" / "card.md").read_text()
    G = gan_core.load_generator("mnist-stylegan")
    assert G.has_w and G.clusters == 50 and G.num_ws == 6


def test_vanilla_is_reported_honestly():
    r = evaluate_json("mnist-vanilla")
    card = json.loads((gan_core.pretrained_dir() / "mnist-vanilla" / "metrics.json").read_text())["evaluation"]
    assert card["fid"] == pytest.approx(r["fid"], rel=1e-3) and card["precision"] == pytest.approx(r["precision"])


def test_evaluate_bad_input_is_one_line():
    for args in (["--model", "no-such"], ["--model", "mnist-dcgan", "--samples", "0"]):
        r = subprocess.run([sys.executable, "-m", "gan_core.cli", "evaluate", *args], capture_output=True, text=True)
        assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr


def test_a_model_trained_elsewhere_is_described_with_its_recipe(tmp_path):
    from gan_core.cli.main import main
    from gan_core.hub.pretrained import build

    run = tmp_path / "run"
    assert main(["train", "--model", "dcgan", "--steps", "2", "--batch-size", "8", "--width", "4", "--out", str(run),
                 "--select-by", "fid", "--eval-every", "1", "--eval-samples", "64", "--quiet"]) == 0
    root = tmp_path / "root"
    result = build("mnist-dcgan", root, trained=run, wall_note="shared the machine", n_samples=100)
    card = (root / "mnist-dcgan" / "card.md").read_text()
    assert f"Command: `{SHIPPED['mnist-dcgan']} --out pretrained/mnist-dcgan`" in card
    assert "shared the machine" in card and "real-data floor" in card
    stored = json.loads((root / "mnist-dcgan" / "metrics.json").read_text())
    assert stored["evaluation"]["fid"] == result["evaluation"]["fid"] > 0
    # the card lists precision / recall measured at each evaluation during training, as stored
    (s1, p1, r1), (s2, p2, r2) = stored["selection"]["precision_recall_history"]
    assert f"(step: P / R): {s1}: {p1:.2f} / {r1:.2f}, {s2}: {p2:.2f} / {r2:.2f}" in card
    assert gan_core.load_generator(root / "mnist-dcgan").z_dim == gan_core.load_generator(run).z_dim
    for args in (["mnist-dcgan", "mnist-cgan", "--trained", str(run)], ["mnist-dcgan", "--trained", str(tmp_path)]):
        r = subprocess.run([sys.executable, "-m", "gan_core.cli", "pretrained", *args, "--out-dir", str(root)],
                           capture_output=True, text=True)
        assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr, r.stderr
