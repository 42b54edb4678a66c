"""Wall time of `gan-core evaluate` on 5,000 generated samples, with the time of each metric.

Target (issue 3): at most 60 s on 2 CPU cores, floors included.

    python bench/evaluate_speed.py [--model mnist-dcgan] [--samples 5000]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="mnist-dcgan")
    ap.add_argument("--samples", type=int, default=5000)
    args = ap.parse_args()
    cmd = [sys.executable, "-m", "gan_core.cli", "evaluate", "--model", args.model, "--samples", str(args.samples),
           "--json", "--quiet"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode:
        sys.exit(r.stderr.strip())
    report = json.loads(r.stdout)
    print(f"gan-core evaluate --model {args.model} --samples {args.samples}: {wall:.1f} s wall "
          f"(process start and imports included; target <= 60 s)")
    for stage, secs in report["timings_s"].items():
        print(f"  {stage:<22}{secs:7.2f} s")
    print(f"  {'sum of stages':<22}{sum(report['timings_s'].values()):7.2f} s")


if __name__ == "__main__":
    main()
