"""Quiz under load: 60 simulated participants answering 20 trials each, all at once, on the SQLite default.

Each participant is a thread (as each browser session is in the Streamlit server) calling the page's code
path: Store.join, then next_trial / answer until done, with a random double submit now and then, and a
thinking time per trial drawn uniformly from --think (default 0.5-1.5 s: a brisk class; --think 0 0 is a
stress test with no thinking at all, where the queue behind SQLite's single writer dominates). Prints the
answers expected vs stored (must be equal: nothing lost, nothing doubled) and p50/p95 of recording one
answer. Target: p95 <= 100 ms.

With ``--arms 3 --image-sets`` the session compares three uploaded sets of RGB images (made here, 128 px,
normalised as an upload is) against an uploaded real set, and each participant also fetches every trial's
images the way the page does (stored PNG -> pixels -> the per-participant veil -> PNG): p95 of serving one
trial's images is printed above the last line (target <= 150 ms).

    python bench/quiz_load.py [--participants 60] [--trials 20] [--think 0.5 1.5] [--db sqlite:///path]
                              [--arms 3 --image-sets]
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from gan_core.humaneval import Store, normalise
from gan_core.humaneval.sources import SessionImages, png_of, veil


def image_sets(arms: int, n: int = 150, size: int = 128) -> dict[int, list[bytes]]:
    """A real set and one set per arm of random RGB pictures, normalised at ``size`` px as uploads are."""
    import io

    import numpy as np
    from PIL import Image

    g = np.random.default_rng(0)
    out = {}
    for k in range(arms + 1):
        out[k] = []
        for _ in range(n):
            b = io.BytesIO()
            Image.fromarray(g.integers(0, 255, (size // 8, size // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
                            ).save(b, "PNG")
            out[k].append(normalise(b.getvalue(), size, "RGB"))
    return out


def serve(src: SessionImages, token: str, t) -> None:
    """What the page does to show a trial: the images, veiled per participant and trial, as PNGs."""
    for i, img in enumerate(src.trial_arrays(t)):
        png_of(veil(img, token, t.index, i))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--participants", type=int, default=60)
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--think", type=float, nargs=2, default=[0.5, 1.5], metavar=("MIN", "MAX"),
                    help="seconds of thinking per trial")
    ap.add_argument("--db", default=None, help="SQLAlchemy URL (default: a fresh SQLite file, WAL)")
    ap.add_argument("--arms", type=int, default=1, help="models compared in the session (2-6 with --image-sets)")
    ap.add_argument("--image-sets", action="store_true", help="arms are uploaded RGB 128 px image sets")
    a = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    store = Store(a.db or f"sqlite:///{Path(tmp.name) / 'quiz.sqlite3'}")
    if a.image_sets:
        arms = [{"name": f"model {k + 1}", "kind": "images"} for k in range(a.arms)]
        code, _ = store.create_session("x", mode="pair", n_trials=a.trials, seed=1, arms=arms,
                                       images=image_sets(a.arms), display_size=128)
    else:
        code, _ = store.create_session("mnist-cgan", mode="pair", n_trials=a.trials, seed=1)
    src = SessionImages(store, store.session(code)) if a.image_sets else None
    latencies, errors, serving = [], [], []
    lock, start = threading.Lock(), threading.Barrier(a.participants)

    def participant(i: int) -> None:
        rng = random.Random(i)
        try:
            start.wait()
            token, _ = store.join(code, f"student {i}")
            while (t := store.next_trial(token)) is not None:
                if src is not None:
                    t0 = time.perf_counter()
                    serve(src, token, t)
                    with lock:
                        serving.append((time.perf_counter() - t0) * 1000)
                time.sleep(rng.uniform(*a.think))
                for _ in range(2 if rng.random() < 0.2 else 1):  # 20% double clicks
                    t0 = time.perf_counter()
                    store.answer(token, t.index, rng.choice(["left", "right"]), rng.randint(300, 3000))
                    with lock:
                        latencies.append((time.perf_counter() - t0) * 1000)
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=participant, args=(i,)) for i in range(a.participants)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    stored = len(store.rows(code))
    expected = a.participants * a.trials
    q = statistics.quantiles(latencies, n=100)
    kind = "SQLite (WAL, synchronous=FULL)" if store.url.startswith("sqlite") else store.engine.dialect.name
    print(f"database: {kind}; thinking {a.think[0]}-{a.think[1]} s")
    print(f"participants {a.participants} x trials {a.trials}: answers expected {expected}, stored {stored} "
          f"({'OK' if stored == expected else 'MISMATCH'}); calls incl. double clicks {len(latencies)}; "
          f"errors {len(errors)}")
    if serving:
        sq = statistics.quantiles(serving, n=100)
        print(f"{a.arms} arms of uploaded RGB 128 px image sets; serving a trial's images: p50 {sq[49]:.1f} ms, "
              f"p95 {sq[94]:.1f} ms (target p95 <= 150 ms)")
    print(f"record-an-answer latency: p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms (target p95 <= 100 ms); "
          f"wall {wall:.1f} s")
    for e in errors[:5]:
        print("error:", e)


if __name__ == "__main__":
    main()
