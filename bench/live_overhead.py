"""Training inside the app vs the CLI: images/s of a live job against the CLI's loop.

CLI: ``Trainer.run`` with a tqdm progress callback, as ``gan-core train`` runs it. App: a ``gan_core.serve.live``
job as the app runs it (``--jobs process``, the default: a child process; ``--jobs thread``: a background
thread of this process), with a sample grid every 25 steps and class coverage every 200, while a poller
thread plays the page's fragment once a second (reads the history and builds the three plotly charts).
Rounds alternate in one process so machine noise hits both alike. Target: app >= 0.9x the CLI.

    python bench/live_overhead.py [--rounds 4] [--steps 300] [--jobs process|thread]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

import torch
from tqdm import tqdm

from gan_core.data.datasets import load_mnist5k
from gan_core.serve.live import Job, ProcessJob
from gan_core.training.presets import preset_config
from gan_core.metrics.scores import load_classifier
from gan_core.training.trainer import Trainer


def cli_round(cfg, steps: int) -> float:
    t = Trainer(cfg, load_mnist5k())
    t.step()  # warm-up, as the job's first step is not timed either
    bar = tqdm(total=steps, disable=False, leave=False, mininterval=0.5, file=sys.stderr)
    t0 = time.perf_counter()
    t.run(steps, [lambda tr, m: bar.update(1)])
    dt = time.perf_counter() - t0
    bar.close()
    return steps * cfg.batch_size * cfg.n_critic / dt


def app_round(cfg, steps: int, C, job_class=Job) -> float:
    from gan_core.training.timeline import evenly
    from ui.train.charts import MAX_CHART_POINTS, line_chart

    job = job_class(cfg, classifier=C, max_steps=steps + 1, torch_threads=torch.get_num_threads()).start()
    stop = threading.Event()

    def poll():  # the page's fragment, once a second
        while not stop.wait(1.0):
            rows = list(evenly(list(job.history), MAX_CHART_POINTS))
            if rows:
                line_chart(rows, {"d_loss": "D", "g_loss": "G"}, "Losses", "loss")
                line_chart(rows, {"d_real": "D(x)", "d_fake": "D(G(z))"}, "D", "p", hline=0.5)
                line_chart(rows, {"grad_norm_d": "D", "grad_norm_g": "G"}, "grads", "norm", log=True)
            job.touch()

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    assert job.wait_for(lambda j: len(j.history) >= 1, 120)
    t0, n0 = time.perf_counter(), len(job.history)
    job.wait(600)
    dt = time.perf_counter() - t0
    stop.set()
    poller.join()
    assert job.state == "finished", job.message
    job.close()
    return (len(job.history) - n0) * cfg.batch_size * cfg.n_critic / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--jobs", choices=["process", "thread"], default="process",
                    help="how the app runs a job (the app's default: process)")
    a = ap.parse_args()
    job_class = ProcessJob if a.jobs == "process" else Job
    torch.set_num_threads(a.threads)
    cfg = preset_config("Fast digits")
    C = load_classifier()
    cli, app = [], []
    for r in range(a.rounds):
        if r % 2 == 0:  # alternate which goes first: the machine's turbo and noise favour neither
            cli.append(cli_round(cfg, a.steps))
            app.append(app_round(cfg, a.steps, C, job_class))
        else:
            app.append(app_round(cfg, a.steps, C, job_class))
            cli.append(cli_round(cfg, a.steps))
        print(f"round {r + 1}: CLI {cli[-1]:.0f} img/s, app {app[-1]:.0f} img/s", flush=True)
    c, p = statistics.median(cli), statistics.median(app)
    print(f"jobs in a {a.jobs}")
    print(f"median: CLI {c:.0f} img/s, app {p:.0f} img/s, ratio {p / c:.2f} (target >= 0.90)")


if __name__ == "__main__":
    main()
