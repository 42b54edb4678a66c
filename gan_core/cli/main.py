"""`gan-core train | train-classifier | sample | evaluate | import | pretrained | serve` — the command line face of
gan_core.

The first four live in ``gan_core.cli.commands``; `pretrained` (rebuild the shipped checkpoints from their
recipes) is added here, so ``gan_core.hub.pretrained`` can run a recipe through ``commands`` without importing
this entry point; so is `serve` (``gan_core.serve.replicas``: the app for a class, several processes behind nginx).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from gan_core.cli import commands
from gan_core.cli.commands import CLIError, dispatch


def _pretrained(args) -> int:
    import gan_core
    from gan_core.hub import pretrained

    if args.list:
        for name in gan_core.list_pretrained(include_classifier=True):
            print(name)
        return 0
    names = list(pretrained.SHIPPED) if args.all else args.names
    if not names:
        raise CLIError("name the models to rebuild, or pass --all (see --list)")
    out_root = Path(args.out_dir) if args.out_dir else gan_core.pretrained_dir()
    os.environ["GAN_STUDIO_PRETRAINED"] = str(out_root.resolve())  # the GANs measure with this classifier
    if args.trained and len(names) != 1:
        raise CLIError("--trained describes one model: name exactly one")
    for name in names:
        try:
            result = pretrained.build(name, out_root, trained=args.trained, wall_note=args.wall_note)
        except ValueError as e:
            raise CLIError(str(e)) from None
        print(f"built {name} in {result['wall_time_s']} s")
    return 0


def _serve(args) -> int:
    from gan_core.serve.replicas import ServeError, serve

    try:
        return serve(args.replicas, args.port, args.host)
    except ServeError as e:
        raise CLIError(str(e)) from None


def build_parser():
    p, sub = commands.build_parser()
    v = sub.add_parser("serve", help="serve the app to a class: N app processes behind nginx on this machine")
    v.add_argument("--replicas", type=int, default=2, help="app processes (one core each for their Python); "
                                                           "1 serves a single process without nginx")
    v.add_argument("--port", type=int, default=8501, help="the port students open")
    v.add_argument("--host", default="0.0.0.0", help="the address to listen on (default: every interface)")
    v.set_defaults(func=_serve)
    r = sub.add_parser("pretrained", help="list or rebuild the shipped checkpoints from their recipes")
    r.add_argument("names", nargs="*", help="models to rebuild (default with --all: every one, classifier first)")
    r.add_argument("--all", action="store_true")
    r.add_argument("--list", action="store_true")
    r.add_argument("--out-dir", help="where to write (default: the pretrained/ folder)")
    r.add_argument("--trained", type=Path, help="a folder already trained with the model's recipe: copy, "
                                                "evaluate and describe it instead of training again")
    r.add_argument("--wall-note", help="how the training shared the machine (written beside its wall time)")
    r.set_defaults(func=_pretrained)

    return p


def main(argv: list[str] | None = None) -> int:
    return dispatch(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
