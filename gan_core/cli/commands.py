"""The commands `gan-core train | train-classifier | sample | evaluate`: parsers and what each runs.

``gan_core.cli`` adds `pretrained` (whose recipes call ``run`` here) and is the console entry point; this
module never imports it, so the recipes need no command-line entry point.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from gan_core.training.clusters import CLUSTERINGS
from gan_core.latent.sampling import parse_seeds


class CLIError(Exception):
    """A user mistake: printed as one line, exit code 2."""


def _train(args) -> int:
    import torch
    from tqdm import tqdm

    from gan_core.data import datasets as data

    from gan_core.latent import sampling as sampler
    from gan_core.hub.checkpoints import save_checkpoint
    from gan_core.training.recipes import RECIPES, default_config
    from gan_core.training.trainer import Trainer, TrainingDiverged

    if args.steps <= 0:
        raise CLIError("--steps must be positive")
    try:
        ds = data.load_dataset(args.dataset)
    except data.DatasetUnavailable as e:
        raise CLIError(str(e)) from None
    model = {"img_shape": ds.img_shape}
    for key in ("z_dim", "width"):
        if getattr(args, key) is not None:
            model[key] = getattr(args, key)
    conditioning = RECIPES[args.model]["model"].get("conditioning", "none")
    if conditioning == "class" or (conditioning == "aux-class" and not args.clusters):
        model["num_classes"] = ds.num_classes
    elif conditioning == "aux-class":   # D names self-found clusters instead of classes: unconditional
        model["num_classes"] = 0
    if args.spectral_norm:
        model["spectral_norm"] = True
    if args.noise:
        model["noise"] = args.noise
    if args.clusters:
        model["clusters"] = args.clusters
    if args.cluster_temperature is not None:
        model["cluster_temperature"] = args.cluster_temperature
    for key in ("minibatch_std", "minibatch_disc", "pack"):  # remedies in D (gan_core.training.remedies)
        if getattr(args, key):
            model[key] = getattr(args, key)
    overrides = {k: v for k, v in dict(
        loss=args.loss, lr_g=args.lr_g or args.lr, lr_d=args.lr_d or args.lr, batch_size=args.batch_size,
        n_critic=args.n_critic, seed=args.seed, device=args.device, label_smoothing=args.label_smoothing,
        ema_decay=args.ema_decay, augment=args.augment, feature_matching=args.feature_matching or None,
        unrolled_steps=args.unrolled or None, aux_weight=args.aux_weight,
        clustering=args.clustering, style_mixing=args.style_mixing, r1_gamma=args.r1_gamma).items() if v is not None}
    try:
        cfg = default_config(args.model, model=model, dataset=args.dataset, **overrides)
        trainer = Trainer(cfg, ds)
    except ValueError as e:
        raise CLIError(str(e)) from None
    out = Path(args.out)
    fixed_z = sampler.seeds_to_z(range(64), cfg.model.z_dim, cfg.model.noise)
    fixed_y = torch.arange(64) % cfg.model.num_classes if cfg.model.conditional else None
    t0 = time.perf_counter()
    bar = tqdm(total=args.steps, desc=f"train {args.model}", unit="step", disable=args.quiet)

    def progress(tr, m):
        bar.update(1)
        if m["step"] % 10 == 0:
            bar.set_postfix(d=f"{m['d_loss']:.3f}", g=f"{m['g_loss']:.3f}", img_s=f"{m['images_per_s']:.0f}")

    callbacks = [progress]
    selection = None
    if args.select_by == "fid":
        selection = _BestByFID(trainer, args.eval_every, args.eval_samples, bar)
        callbacks.append(selection)
    diverged = None
    try:
        history = trainer.run(args.steps, callbacks)
    except TrainingDiverged as e:
        diverged, history = str(e), []
    finally:
        bar.close()
    wall = time.perf_counter() - t0
    if selection is not None:
        selection(trainer, {"step": trainer.step_count}, final=True)
        selection.restore(trainer)
    grid = sampler.image_grid(sampler.generate(trainer.G_ema, fixed_z, fixed_y), nrow=8)
    last = history[-1] if history else {}
    metrics = {"training": {"steps": trainer.step_count, "wall_time_s": round(wall, 2),
                            "final": {k: round(v, 5) for k, v in last.items() if isinstance(v, float)},
                            "diverged": diverged,
                            "how": "measured by the trainer during this run (losses of the last step)"}}
    if selection is not None:
        metrics["selection"] = selection.summary()
    save_checkpoint(out, trainer.checkpoint_config(), {"G": trainer.G_ema, "D": trainer.D}, metrics=metrics,
                    samples=sampler.to_pil(grid))
    if diverged:
        print(f"error: {diverged} Saved the last good weights to {out}.", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"saved {out} ({trainer.step_count} steps, {wall:.1f} s)")
    return 0


class _BestByFID:
    """Callback: every ``every`` steps, FID of the EMA generator on fixed noise; remembers the best weights."""

    def __init__(self, trainer, every: int, n: int, bar):
        import torch

        from gan_core.metrics import scores as metrics

        from gan_core.latent import sampling as sampler

        if every <= 0 or n <= 1:
            raise CLIError("--eval-every and --eval-samples must be positive")
        self.every, self.bar = every, bar
        self.tracker = metrics.FIDTracker(trainer.objective.dataset.batch(), metrics.load_classifier())
        m = trainer.config.model
        self.z = sampler.seeds_to_z(range(10_000, 10_000 + n), m.z_dim, m.noise)
        self.y = torch.arange(n) % m.num_classes if m.conditional else None
        self.best, self.best_step, self.best_state, self.history = float("inf"), 0, None, []
        self.pr_history: list[tuple[int, float, float]] = []

    def __call__(self, trainer, m, final: bool = False):
        import copy

        from gan_core.latent import sampling as sampler

        if not final and m["step"] % self.every:
            return
        if final and self.history and self.history[-1][0] == trainer.step_count:
            return
        fake = sampler.generate(trainer.G_ema, self.z, self.y)
        value = self.tracker(fake)
        precision, recall = self.tracker.precision_recall(fake)
        self.history.append((trainer.step_count, round(value, 4)))
        self.pr_history.append((trainer.step_count, round(precision, 4), round(recall, 4)))
        if value < self.best:
            self.best, self.best_step = value, trainer.step_count
            self.best_state = (copy.deepcopy(trainer.G_ema.state_dict()), copy.deepcopy(trainer.D.state_dict()))
        self.bar.write(f"step {trainer.step_count}: FID {value:.3f} (best {self.best:.3f} at step {self.best_step}), "
                       f"precision {precision:.3f}, recall {recall:.3f}")

    def restore(self, trainer):
        if self.best_state is not None:
            trainer.G_ema.load_state_dict(self.best_state[0])
            trainer.D.load_state_dict(self.best_state[1])

    def summary(self) -> dict:
        return {"metric": "fid", "samples": len(self.z), "best_step": self.best_step, "best_value": self.best,
                "history": self.history, "precision_recall_history": self.pr_history,
                "how": "FID of the EMA generator on fixed noise against all of mnist-5k, in mnist-classifier "
                       "features; the checkpoint kept is the one with the lowest FID"}


def _sample(args) -> int:
    import gan_core
    from gan_core.latent import sampling as sampler

    seeds = parse_seeds(args.seeds)
    G = gan_core.load_generator(args.model)
    labels = None
    if G.num_classes:
        if args.label is None:
            labels = [i % G.num_classes for i in range(len(seeds))]
        elif not 0 <= args.label < G.num_classes:
            raise CLIError(f"--label must be in 0..{G.num_classes - 1}")
        else:
            labels = [args.label] * len(seeds)
    elif args.label is not None:
        raise CLIError("this model is unconditional: --label does not apply")
    imgs = gan_core.sample(G, seeds, labels=labels, truncation=args.truncation)
    grid = sampler.image_grid(imgs, nrow=args.nrow, scale=args.scale)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sampler.to_pil(grid).save(out)
    print(f"wrote {out} ({len(seeds)} images)")
    return 0


def _train_classifier(args) -> int:
    from tqdm import tqdm

    from gan_core.latent import sampling as sampler
    from gan_core.hub.checkpoints import save_checkpoint
    from gan_core.training.classifier import train_classifier
    from gan_core.data.datasets import load_mnist5k
    from gan_core.models import ClassifierConfig

    if args.epochs <= 0:
        raise CLIError("--epochs must be positive")
    cfg = ClassifierConfig(width=args.width)
    bar = tqdm(total=args.epochs, desc="train classifier", unit="epoch", disable=args.quiet)
    model, info = train_classifier(epochs=args.epochs, seed=args.seed, config=cfg,
                                   progress=lambda e, n: bar.update(1))
    bar.close()
    from gan_core import __version__

    info["how"] = "accuracy measured on the held-out 10% of mnist-5k after the last epoch"
    grid = sampler.image_grid(load_mnist5k().batch(slice(0, 5000, 50)), nrow=10)
    save_checkpoint(args.out, {"model": cfg.to_dict(), "dataset": "mnist-5k", "gan_core_version": __version__},
                    {"classifier": model}, metrics={"training": info}, samples=sampler.to_pil(grid))
    if not args.quiet:
        print(f"saved {args.out}: held-out accuracy {info['heldout_accuracy']:.2%}")
    return 0


EVAL_ROWS = [  # (key, label, floor key, which way is better)
    ("fid", "FID", "floor_fid", "lower"), ("kid", "KID", "floor_kid", "lower"),
    ("inception_score", "Inception score", "floor_inception_score", "higher"),
    ("precision", "Precision (k=3)", "floor_precision", "higher"), ("recall", "Recall (k=3)", "floor_recall", "higher"),
    ("classes_covered", "Classes covered", "floor_classes_covered", "10 = all"), ("ppl", "PPL", None, "lower"),
    ("conditional_accuracy", "Conditional accuracy", None, "higher"), ("cas", "CAS", "floor_cas", "higher"),
]


def _evaluate(args) -> int:
    from tqdm import tqdm

    import gan_core
    from gan_core.metrics import scores as metrics

    if args.samples <= 0:
        raise CLIError("--samples must be positive")
    if args.seed < 0:
        raise CLIError("--seed must be non-negative")
    G = gan_core.load_generator(args.model)
    bar = tqdm(total=100, desc="evaluate", unit="%", file=sys.stderr, disable=args.quiet,
               bar_format="{l_bar}{bar}| {elapsed}")

    def progress(stage, frac):
        bar.set_description(f"evaluate: {stage}")
        bar.n = int(frac * 100)
        bar.refresh()

    report = metrics.evaluate(G, n_samples=args.samples, seed=args.seed, truncation=args.truncation,
                              progress=progress)
    bar.close()
    if args.json:
        print(json.dumps({"model": str(args.model), **report}))
        return 0
    print(f"{args.model}: {args.samples} samples, seed {args.seed}, truncation {args.truncation}")
    print(f"{'metric':<22}{'model':>12}{'real floor':>12}  better   time (s)")
    timing_of = {"fid": "fid", "kid": "kid", "inception_score": "inception_score", "precision": "precision_recall",
                 "recall": "precision_recall", "classes_covered": "coverage", "ppl": "ppl",
                 "conditional_accuracy": "conditional_accuracy", "cas": "cas"}
    for key, label, floor, better in EVAL_ROWS:
        v = report.get(key)
        fv = report.get(floor) if floor else None
        fmt = (lambda x: "—" if x is None else (f"{x:.4f}" if isinstance(x, float) else str(x)))
        t = report["timings_s"].get(timing_of[key])
        print(f"{label:<22}{fmt(v):>12}{fmt(fv):>12}  {better:<8} {'' if t is None else f'{t:.2f}'}")
    print("class histogram: " + " ".join(f"{i}:{h:.1%}" for i, h in enumerate(report["class_histogram"])))
    print(f"floors computed in {report['timings_s'].get('floors', 0):.2f} s; {report['how']}")
    return 0


def build_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    p = argparse.ArgumentParser(prog="gan-core", description="Train, sample and evaluate GANs.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a GAN and write a checkpoint folder")
    from gan_core.training.losses import LOSSES
    from gan_core.training.recipes import RECIPES

    models = {name: r["label"] for name, r in RECIPES.items() if name != "toy"}   # the toy one is the playground's
    t.add_argument("--model", choices=list(models), default="dcgan",
                   help="; ".join(f"{k}: {v}" for k, v in models.items()))
    t.add_argument("--dataset", default="mnist-5k", help="mnist-5k (embedded), mnist, fashion-mnist, cifar10, "
                                                         "or folder:/path/to/images")
    t.add_argument("--steps", type=int, default=2000, help="generator updates")
    t.add_argument("--out", required=True, help="checkpoint folder to write")
    t.add_argument("--loss", choices=list(LOSSES))
    t.add_argument("--lr", type=float, help="learning rate of both G and D")
    t.add_argument("--lr-g", type=float)
    t.add_argument("--lr-d", type=float)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--n-critic", type=int, help="D updates per G update")
    t.add_argument("--z-dim", type=int)
    t.add_argument("--width", type=int, help="base channels / hidden units")
    t.add_argument("--noise", choices=["gaussian", "uniform"])
    t.add_argument("--spectral-norm", action="store_true", help="spectral normalisation in D")
    t.add_argument("--clusters", type=int, default=0, metavar="K",
                   help="self-conditioning (dcgan, wgan-gp): D is told which of K k-means clusters of the real "
                        "images each image is in, G draws the cluster from its own z; no labels are used. With "
                        "acgan, D names the cluster instead of the class")
    t.add_argument("--clustering", choices=list(CLUSTERINGS),
                   help="how --clusters are found: kmeans (pixels, instant; the default), spectral (a "
                        "nearest-neighbour graph: about a second more, purer clusters) or spectral-deskewed "
                        "(the same on slant-straightened images; single-channel handwriting only)")
    t.add_argument("--cluster-temperature", type=float, metavar="T",
                   help="with --clusters: softmax temperature of G's cluster code (default 0.05); lower leaves "
                        "fewer z between two clusters, so fewer blended samples")
    t.add_argument("--aux-weight", type=float, help="acgan: weight of the class (or cluster) term, default 1")
    t.add_argument("--label-smoothing", type=float, help="one-sided: real targets 1 - this")
    t.add_argument("--style-mixing", type=float, metavar="P",
                   help="stylegan: share of fakes whose later layers take a second z's w (StyleGAN: 0.9)")
    t.add_argument("--r1-gamma", type=float, metavar="G",
                   help="stylegan: weight of the R1 penalty on real images, applied every 16 D steps")
    t.add_argument("--ema-decay", type=float)
    t.add_argument("--minibatch-std", action="store_true",
                   help="remedy: D sees the spread of its features across the batch (Karras et al. 2018)")
    t.add_argument("--minibatch-disc", type=int, default=0, metavar="K",
                   help="remedy: minibatch discrimination with K kernels in D (Salimans et al. 2016; 8 typical)")
    t.add_argument("--pack", type=int, default=1, metavar="M",
                   help="remedy: D judges M samples at once (PacGAN, Lin et al. 2018); unconditional models only")
    t.add_argument("--feature-matching", action="store_true",
                   help="remedy: G matches the mean of D's features on real data (Salimans et al. 2016)")
    t.add_argument("--unrolled", type=int, default=0, metavar="K",
                   help="remedy: G is scored by a copy of D trained K steps ahead (Metz et al. 2017)")
    t.add_argument("--augment", choices=["none", "translation"],
                   help="DiffAugment translation of D's inputs (real and fake): steadier D on small datasets")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", help="auto, cpu or cuda")
    t.add_argument("--select-by", choices=["none", "fid"], default="none",
                   help="keep the checkpoint with the best metric instead of the last one (needs mnist-classifier)")
    t.add_argument("--eval-every", type=int, default=1000, help="steps between evaluations for --select-by")
    t.add_argument("--eval-samples", type=int, default=2000, help="samples per evaluation for --select-by")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=_train)

    c = sub.add_parser("train-classifier", help="train the digit classifier the metrics measure with")
    c.add_argument("--epochs", type=int, default=15)
    c.add_argument("--width", type=int, default=16)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--out", required=True)
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(func=_train_classifier)

    e = sub.add_parser("evaluate", help="FID, KID, IS, precision/recall, PPL, coverage, with real-data floors")
    e.add_argument("--model", required=True, help="a shipped model name or a checkpoint folder")
    e.add_argument("--samples", type=int, default=5000)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--truncation", type=float, default=1.0)
    e.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.set_defaults(func=_evaluate)

    s = sub.add_parser("sample", help="write a PNG grid of samples")
    s.add_argument("--model", required=True, help="a shipped model name or a checkpoint folder")
    s.add_argument("--seeds", default="1-16", help="e.g. 1-16 or 3,7,42")
    s.add_argument("--label", type=int, help="class for conditional models (default: cycle through classes)")
    s.add_argument("--truncation", type=float, default=1.0)
    s.add_argument("--nrow", type=int, default=8)
    s.add_argument("--scale", type=int, default=1, help="enlarge each pixel this many times")
    s.add_argument("--out", required=True)
    s.set_defaults(func=_sample)

    i = sub.add_parser("import", help="convert a generator trained elsewhere into a checkpoint folder")
    i.add_argument("--from", dest="source", required=True,
                   choices=["pytorch-examples-dcgan", "stylegan2-rosinality", "stylegan2-ada-pkl"],
                   help="pytorch-examples-dcgan: netG saved by github.com/pytorch/examples dcgan/main.py; "
                        "stylegan2-rosinality: a rosinality/stylegan2-pytorch .pt (converted or train.py's); "
                        "stylegan2-ada-pkl: an NVlabs/stylegan2-ada-pytorch network snapshot .pkl")
    i.add_argument("pth", help="the file (read without running any code in it: torch.load(weights_only=True) "
                               "for .pth/.pt, a restricted unpickler for NVlabs' .pkl)")
    i.add_argument("--out", required=True, help="checkpoint folder to write")
    i.set_defaults(func=_import)
    return p, sub


def _import(args) -> int:
    from gan_core.hub.importers import import_generator

    folder = import_generator(args.source, args.pth, args.out)
    print(f"wrote {folder} (open it on any page, or zip it and upload it in the model picker)")
    return 0


def run(argv: list[str]) -> int:
    """Run one of these commands (e.g. a recipe's ``train ...``); user mistakes print one line, exit 2."""
    return dispatch(build_parser()[0].parse_args(argv))


def dispatch(args) -> int:
    from gan_core.hub.checkpoints import CheckpointError

    try:
        return args.func(args)
    except (CLIError, CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
