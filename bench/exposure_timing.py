"""HYPE-time's exposure timing in a real headless Chromium (issue 13 target: p95 <= 20 ms).

Runs the exposure element's own JavaScript (ui/static/exposure.js, the file the quiz page mounts) in a page,
100 times with requested exposures spread over 100-1000 ms, and reads back the exposure it achieved (the
time between the requestAnimationFrame frame that showed the image and the one that showed the mask).
Prints the absolute error |achieved - requested| as p50 and p95, with the frame interval the browser ran at.

    python bench/exposure_timing.py [--n 100]
"""
from __future__ import annotations

import argparse
import base64
import io
import statistics
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

HARNESS = """<!DOCTYPE html><html><body><div id="host"></div><script>
let mod = null;
window.load = async (js) => {
  mod = await import(URL.createObjectURL(new Blob([js], {type: 'text/javascript'})));
  return typeof mod.default;
};
window.mount = (data) => new Promise((resolve) => {
  const host = document.getElementById('host');
  mod.default({data, parentElement: host, setTriggerValue: () => {}});
  const root = host.querySelector('.hype-root');
  const poll = () => root.dataset.achieved && root.dataset.trial === String(data.trial)
    ? resolve(parseFloat(root.dataset.achieved)) : requestAnimationFrame(poll);
  poll();
});
window.frameMs = () => new Promise((resolve) => { const t = []; const f = (ts) => { t.push(ts);
  if (t.length < 61) requestAnimationFrame(f); else resolve((t[60] - t[0]) / 60); }; requestAnimationFrame(f); });
</script></body></html>"""


def uri(seed: int) -> str:
    b = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (128, 128, 3), dtype=np.uint8)).save(b, "PNG")
    return "data:image/png;base64," + base64.b64encode(b.getvalue()).decode()


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    args = ap.parse_args()
    js = (ROOT / "ui/static/exposure.js").read_text()
    requested = [int(v) for v in np.linspace(100, 1000, args.n).round()]
    np.random.default_rng(0).shuffle(requested)
    errors = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content(HARNESS)
        assert page.evaluate("(js) => window.load(js)", js) == "function"
        frame = page.evaluate("window.frameMs()")
        img, mask = uri(1), uri(2)
        for i, ms in enumerate(requested):
            achieved = page.evaluate("(d) => window.mount(d)", {"trial": i, "image": img, "mask": mask, "ms": ms,
                                                                 "size": 128, "fixation": 50})
            errors.append(abs(achieved - ms))
        browser.close()
    errors.sort()
    p50 = statistics.median(errors)
    p95 = errors[min(len(errors) - 1, int(round(0.95 * (len(errors) - 1))))]
    print(f"{len(errors)} exposures requested from 100 to 1000 ms; browser frame interval {frame:.2f} ms")
    print(f"absolute error: mean {statistics.fmean(errors):.2f} ms, max {errors[-1]:.2f} ms")
    print(f"exposure error: p50 {p50:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
