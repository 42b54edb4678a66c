"""`gan-core train | sample | evaluate | pretrained` — the command line face of gan_core."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


class CLIError(Exception):
    """A user mistake: printed as one line, exit code 2."""


def parse_seeds(text: str, limit: int = 10_000) -> list[int]:
    """'1-4,9' -> [1, 2, 3, 4, 9]."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part[1:]:
                a, b = part.split("-", 1)
                a, b = int(a), int(b)
                if b < a:
                    raise CLIError(f"seed range {part} runs backwards")
                seeds.extend(range(a, b + 1))
            elif part:
                seeds.append(int(part))
            if len(seeds) > limit:
                raise CLIError(f"at most {limit} seeds at once")
    except ValueError:
        raise CLIError(f"could not read seeds {text!r}: use a list like 1-16 or 1,5,9") from None
    if not seeds or min(seeds) < 0:
        raise CLIError("seeds must be non-negative integers, e.g. 1-16")
    return seeds


def _train(args) -> int:
    import torch
    from tqdm import tqdm

    from . import data, sampler
    from .checkpoints import save_checkpoint
    from .trainer import Trainer, TrainingDiverged, default_config

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
    if args.model == "cgan":
        model["num_classes"] = ds.num_classes
    if args.spectral_norm:
        model["spectral_norm"] = True
    if args.noise:
        model["noise"] = args.noise
    overrides = {k: v for k, v in dict(
        loss=args.loss, lr_g=args.lr_g or args.lr, lr_d=args.lr_d or args.lr, batch_size=args.batch_size,
        n_critic=args.n_critic, seed=args.seed, device=args.device, label_smoothing=args.label_smoothing,
        ema_decay=args.ema_decay).items() if v is not None}
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

    diverged = None
    try:
        history = trainer.run(args.steps, [progress])
    except TrainingDiverged as e:
        diverged, history = str(e), []
    finally:
        bar.close()
    wall = time.perf_counter() - t0
    grid = sampler.image_grid(sampler.generate(trainer.G_ema, fixed_z, fixed_y), nrow=8)
    last = history[-1] if history else {}
    metrics = {"training": {"steps": trainer.step_count, "wall_time_s": round(wall, 2),
                            "final": {k: round(v, 5) for k, v in last.items() if isinstance(v, float)},
                            "diverged": diverged,
                            "how": "measured by the trainer during this run (losses of the last step)"}}
    save_checkpoint(out, trainer.checkpoint_config(), trainer.G_ema, trainer.D, metrics=metrics,
                    samples=sampler.to_pil(grid))
    if diverged:
        print(f"error: {diverged} Saved the last good weights to {out}.", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"saved {out} ({trainer.step_count} steps, {wall:.1f} s)")
    return 0


def _sample(args) -> int:
    import gan_core
    from . import sampler

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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gan-core", description="Train, sample and evaluate GANs.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a GAN and write a checkpoint folder")
    t.add_argument("--model", choices=["vanilla", "dcgan", "cgan", "wgan-gp"], default="dcgan")
    t.add_argument("--dataset", default="mnist-5k", help="mnist-5k (embedded), mnist, fashion-mnist, cifar10, "
                                                         "or folder:/path/to/images")
    t.add_argument("--steps", type=int, default=2000, help="generator updates")
    t.add_argument("--out", required=True, help="checkpoint folder to write")
    t.add_argument("--loss", choices=["minimax", "nonsaturating", "lsgan", "wgan-gp", "hinge"])
    t.add_argument("--lr", type=float, help="learning rate of both G and D")
    t.add_argument("--lr-g", type=float)
    t.add_argument("--lr-d", type=float)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--n-critic", type=int, help="D updates per G update")
    t.add_argument("--z-dim", type=int)
    t.add_argument("--width", type=int, help="base channels / hidden units")
    t.add_argument("--noise", choices=["gaussian", "uniform"])
    t.add_argument("--spectral-norm", action="store_true", help="spectral normalisation in D")
    t.add_argument("--label-smoothing", type=float, help="one-sided: real targets 1 - this")
    t.add_argument("--ema-decay", type=float)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", help="auto, cpu or cuda")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=_train)

    s = sub.add_parser("sample", help="write a PNG grid of samples")
    s.add_argument("--model", required=True, help="a shipped model name or a checkpoint folder")
    s.add_argument("--seeds", default="1-16", help="e.g. 1-16 or 3,7,42")
    s.add_argument("--label", type=int, help="class for conditional models (default: cycle through classes)")
    s.add_argument("--truncation", type=float, default=1.0)
    s.add_argument("--nrow", type=int, default=8)
    s.add_argument("--scale", type=int, default=1, help="enlarge each pixel this many times")
    s.add_argument("--out", required=True)
    s.set_defaults(func=_sample)
    return p


def main(argv: list[str] | None = None) -> int:
    from .checkpoints import CheckpointError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CLIError, CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
