"""What a hostile student's few-KB inputs cost the server: the hardening issue's reproductions, measured.

Each case runs in a fresh Python process (so its peak memory is its own): the hostile input is built, then sent
through the same function the app uses, and the case prints the wall time, the growth of the process's peak
resident memory over its level just before the input (ru_maxrss), and what happened (refused, with the
message, or accepted). Cases that need a function that does not exist in a checkout are skipped, so the same
script measures an older commit too (run it from that checkout: ``python /path/to/bench/hostile_inputs.py``).

    python bench/hostile_inputs.py [--only pth_stride0 pth_deflate ...]

The last line is ``hostile inputs: worst peak +N MB, worst time N s`` over the cases that ran.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = ["pth_stride0", "pth_deflate", "imageset_padded", "digit_png_4000", "digit_webp_4000",
         "ranking_35M", "playground_hog", "line_201_sessions", "pillow_global", "activations_threads",
         "csv_huge", "markdown_link"]


def _has(rel: str) -> bool:
    """Whether the checkout being measured (the one gan_core is imported from) has this file; an import would
    not tell, since an editable install finds modules a checkout lacks in another one."""
    import gan_core

    return (Path(gan_core.__file__).resolve().parent.parent / rel).is_file()


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------- the cases (each in its own process)
def pth_stride0(tmp: Path):
    """Item 1: a 7,960-byte state dict of stride-0 tensors that says 'examples DCGAN, ngf=512'."""
    import torch

    from gan_core.hub.importers import import_examples_dcgan

    one = torch.zeros(1)
    torch.save({"main.0.weight": one.expand(100, 4096, 4, 4), "main.12.weight": one.expand(512, 3, 4, 4)},
               tmp / "netG.pth")
    size = (tmp / "netG.pth").stat().st_size
    return lambda: import_examples_dcgan(tmp / "netG.pth", tmp / "out"), f"{size:,}-byte .pth"


def pth_deflate(tmp: Path):
    """Item 2: a .pth re-zipped with DEFLATE: ~1 MB that torch.load would inflate to a 1 GB tensor."""
    import zipfile

    from gan_core.hub.importers import import_examples_dcgan

    # built in another process: this one's peak memory must not already hold the 1 GB tensor
    subprocess.run([sys.executable, "-c", "import torch, sys; torch.save({'w': torch.zeros(250_000_000)}, "
                    f"{str(tmp / 'plain.pth')!r})"], check=True)
    with zipfile.ZipFile(tmp / "plain.pth") as zin, \
            zipfile.ZipFile(tmp / "bomb.pth", "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            with zin.open(info) as src, zout.open(info.filename, "w") as dst:
                while block := src.read(1 << 20):
                    dst.write(block)
    (tmp / "plain.pth").unlink()
    size = (tmp / "bomb.pth").stat().st_size
    return lambda: import_examples_dcgan(tmp / "bomb.pth", tmp / "out"), f"{size / 1e3:,.0f} KB .pth"


def imageset_padded(tmp: Path):
    """Item 3: 400 8x8 PNGs, each padded with a 990 KB private chunk of zeros, deflated into one zip."""
    import io
    import struct
    import zipfile
    import zlib

    from PIL import Image

    from gan_core.humaneval.imagesets import read_image_zip

    b = io.BytesIO()
    Image.new("L", (8, 8), 100).save(b, "PNG")
    raw = b.getvalue()
    chunk = b"prVt" + bytes(990_000)
    pad = struct.pack(">I", 990_000) + chunk + struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    at = raw.index(b"IDAT") - 4
    png = raw[:at] + pad + raw[at:]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(400):
            zf.writestr(f"{i:03d}.png", png)
    data = buf.getvalue()
    return lambda: len(read_image_zip(data, "real images")), f"{len(data) / 1e6:.2f} MB zip"


def _digit_path(raw: bytes):
    """The Find-your-digit upload path of this checkout: the image intake where it exists, else what the page
    did before it (Pillow at full size, RGBA, then prepare_digit)."""
    import numpy as np

    from gan_core.latent.inversion import prepare_digit

    if _has("gan_core/intake/images.py"):
        from gan_core.intake.images import DIGIT, read_pixels
    else:
        import io

        from PIL import Image

        def read_pixels(raw, what, limits):
            with Image.open(io.BytesIO(raw)) as im:
                return np.asarray(im.convert("RGBA"))
        DIGIT = None
    return lambda: prepare_digit(read_pixels(raw, "That file", DIGIT)).shape


def digit_png_4000(tmp: Path):
    """Item 4: a 4000x4000 PNG of a digit-like stroke on black (68 KB), uploaded to Find your digit."""
    import io

    from PIL import Image, ImageDraw

    im = Image.new("L", (4000, 4000), 0)
    ImageDraw.Draw(im).line([(1500, 800), (2500, 3200)], fill=255, width=300)
    b = io.BytesIO()
    im.save(b, "PNG", optimize=True)
    return _digit_path(b.getvalue()), f"{len(b.getvalue()) / 1e3:.0f} KB PNG"


def digit_webp_4000(tmp: Path):
    """Item 4: an animated lossless WebP declaring 4000x4000 (about 140 bytes)."""
    import io

    from PIL import Image

    frames = [Image.new("L", (4000, 4000), v) for v in (0, 255)]
    b = io.BytesIO()
    frames[0].save(b, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    return _digit_path(b.getvalue()), f"{len(b.getvalue())}-byte WebP"


def ranking_35M(tmp: Path):
    """Item 5: a 35 M-parameter 28x28 DCGAN (width 672) sent to /inside's unit ranking. With a budget the
    ranking is refused at once with its estimate; without one (older checkouts) it would hold the worker for
    hours, so it is skipped there."""
    import torch

    from gan_core.hub.checkpoints import save_checkpoint
    from gan_core.models import ModelConfig, build_generator

    cfg = ModelConfig(width=672, z_dim=64)
    G = build_generator(cfg).eval()
    folder = save_checkpoint(tmp / "big", {"model": cfg.to_dict()}, {"G": G})
    n = sum(p.numel() for p in G.parameters())
    del G
    if not _has("gan_core/serve/worktasks.py"):
        return None, f"{n / 1e6:.0f} M parameters (no budget in this checkout: not run)"
    from gan_core.serve import worktasks
    from gan_core.serve.workers import OverBudget, WorkContext

    def run():
        try:
            worktasks.unit_ranking(WorkContext(lambda f, s: None, limit=300), str(folder), 400)
        except OverBudget as e:
            raise RuntimeError(str(e)) from None
    torch.set_num_threads(1)
    return run, f"{n / 1e6:.0f} M parameters"


def playground_hog(tmp: Path):
    """Item 7: a playground of width 256, 6 layers, 20 D steps, unrolled 10 beside an ordinary one on one
    slot, both playing (a tick every 0.5 s, 0.25 s of training each); counts the ordinary one's ticks that
    trained, of 30."""
    import threading

    import torch

    import gan_core.training.playground as pgmod

    torch.set_num_threads(1)
    slots = getattr(pgmod, "FairSlots", None)
    pgmod.TRAINING_SLOTS = slots(1) if slots else __import__("threading").BoundedSemaphore(1)
    hostile = pgmod.Playground(pgmod.playground_config(width=256, depth=6, n_critic=20, unrolled_steps=10))
    victim = pgmod.Playground(pgmod.playground_config())
    trained = {"victim": 0}

    def run():
        stop = time.monotonic() + 15.0

        def play(name, pg):
            torch.set_num_threads(1)
            while time.monotonic() < stop:
                start = time.monotonic()
                try:
                    rows = pg.train(5, wait=0.25, budget=0.25)
                except TypeError:       # no per-turn budget in this checkout
                    rows = pg.train(5, wait=0.25)
                if rows and name == "victim":
                    trained["victim"] += 1
                time.sleep(max(0.0, 0.5 - (time.monotonic() - start)))

        ts = [threading.Thread(target=play, args=a) for a in (("hostile", hostile), ("victim", victim))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return f"victim trained in {trained['victim']} of 30 ticks"
    return run, "two playgrounds, one slot"


def line_201_sessions(tmp: Path):
    """Item 8: 201 sessions from one address each ask for a computation; how many get into the line."""
    import threading

    from gan_core.serve.workqueue import WorkQueue

    q = WorkQueue(workers=1, light_workers=0)
    gate = threading.Event()

    def run():
        got = 0
        for i in range(201):
            try:
                try:
                    q.submit(f"script{i}", ("x", i), lambda p: gate.wait(30), "x", client="10.0.0.66")
                except TypeError:      # no client in this checkout
                    q.submit(f"script{i}", ("x", i), lambda p: gate.wait(30), "x")
                got += 1
            except Exception:
                pass
        gate.set()
        q.shutdown()
        return f"{got} of 201 accepted"
    return run, "201 sessions, one address"


def pillow_global(tmp: Path):
    """Item 9: does one image-set upload lower Pillow's pixel limit for the whole server?"""
    import io
    import zipfile

    from PIL import Image

    from gan_core.humaneval.imagesets import normalise, read_image_zip

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(4):
            b = io.BytesIO()
            Image.new("RGB", (40, 30), (i, 0, 0)).save(b, "PNG")
            zf.writestr(f"{i}.png", b.getvalue())

    def run():
        before = Image.MAX_IMAGE_PIXELS
        for raw in read_image_zip(buf.getvalue(), "real images"):
            normalise(raw, 64, "RGB")
        return f"Image.MAX_IMAGE_PIXELS {before:,} -> {Image.MAX_IMAGE_PIXELS:,}"
    return run, "one 4-image set"


def activations_threads(tmp: Path):
    """Item 10: dissect.activations in one thread while another runs the same G: how many of 2,000 calls
    returned the other thread's maps."""
    import threading

    import torch

    from gan_core.latent.dissection import activations
    from gan_core.models import DCGANGenerator

    torch.manual_seed(0)
    G = DCGANGenerator(z_dim=8, img_shape=(1, 28, 28), width=8).eval()
    mine, other = torch.zeros(1, 8), torch.full((1, 8), 3.0)
    with torch.no_grad():
        expected, _ = activations(G, mine)

    def run():
        stop = threading.Event()

        def noise():
            with torch.no_grad():
                while not stop.is_set():
                    G(other)
        t = threading.Thread(target=noise)
        t.start()
        wrong = 0
        with torch.no_grad():
            for _ in range(2000):
                got, _ = activations(G, mine)
                wrong += any(not torch.equal(got[k], expected[k]) for k in expected)
        stop.set()
        t.join()
        return f"{wrong} of 2,000 calls returned another thread's maps"
    return run, "two threads, one G"


def csv_huge(tmp: Path):
    """Item 11: a CSV of numbers near the float64 limit."""
    import numpy as np

    from gan_core.data.drawn_points import parse_csv

    def run():
        pts, _ = parse_csv("-1.7e308,1.7e308\n1.7e308,1.7e308\n0,1.7e308")
        return f"points finite: {bool(np.isfinite(pts).all())}"
    return run, "3-line CSV"


def markdown_link(tmp: Path):
    """Item 12: a link's value shown in a warning: is it still a markdown link?"""
    import re

    if _has("ui/text.py"):
        from ui.text import quoted
    else:
        def quoted(v, n):
            return repr(str(v)[:n])
    value = "[Your session expired: sign in](http://evil.example)"

    def run():
        shown = f"There is no model called {quoted(value, 60)} here"
        link = re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", shown)
        return f"renders as a link: {bool(link)}"
    return run, "?model=[...](http://...)"


# ---------------------------------------------------------------------- driver
def run_case(name: str) -> dict:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        fn, what = globals()[name](tmp)
        if fn is None:
            return {"case": name, "input": what, "skipped": True}
        base = _peak_mb()
        start = time.perf_counter()
        try:
            out = fn()
            outcome = f"accepted ({out})" if out is not None else "accepted"
        except Exception as e:  # a refusal is the expected outcome of most cases
            outcome = f"refused: {str(e)[:160]}"
        seconds = time.perf_counter() - start
        written = sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file() and "out" in f.parts)
        return {"case": name, "input": what, "seconds": round(seconds, 3), "peak_mb": round(_peak_mb() - base, 1),
                "written_mb": round(written / 1e6, 1), "outcome": outcome}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=CASES, default=CASES)
    ap.add_argument("--case", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case)))
        return
    here = Path.cwd()
    worst_mb, worst_s = 0.0, 0.0
    for name in args.only:
        p = subprocess.run([sys.executable, __file__, "--case", name], capture_output=True, text=True, cwd=here,
                           env={**os.environ, "PYTHONPATH": str(here)}, timeout=1800)
        if p.returncode != 0:
            print(f"{name}: the case process failed: {p.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        if r.get("skipped"):
            print(f"{name:20s} {r['input']}: skipped")
            continue
        worst_mb, worst_s = max(worst_mb, r["peak_mb"]), max(worst_s, r["seconds"])
        print(f"{name:20s} {r['input']:34s} {r['seconds']:8.3f} s  peak +{r['peak_mb']:8.1f} MB  "
              f"written {r['written_mb']:6.1f} MB  {r['outcome']}")
    print(f"hostile inputs: worst peak +{worst_mb:,.0f} MB, worst time {worst_s:,.1f} s")


if __name__ == "__main__":
    main()
