"""Latency of the latent explorer in a real headless Chromium (issue 4 targets: first image <= 3 s, p50 <= 150 ms, p95 <= 300 ms).

Starts the app, opens /latent, then moves a SeFa slider 30 times and prints p50/p95 of the time from the
key press until the new image is painted (its src changed and the image finished decoding). Also prints
the time to the first image on a warm server (opened in a fresh browser context: nothing cached, like a
first visit) and the generator's own time for one image.

    python bench/ui_latency.py [--moves 30]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import CHROMIUM, CHROMIUM_ARGS, run_app  # noqa: E402

PAINTED = """(before) => { const i = document.querySelector("[data-testid='gs-image'] img");
  return i && i.src !== before && i.complete && i.naturalWidth > 0; }"""


def generator_ms(reps: int = 200) -> float:
    import gan_core

    G = gan_core.load_generator("mnist-dcgan")
    torch.set_num_threads(2)
    z = torch.randn(1, G.z_dim)
    with torch.no_grad():
        for _ in range(10):
            G(z)
        t0 = time.perf_counter()
        for _ in range(reps):
            G(z)
    return (time.perf_counter() - t0) / reps * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=30)
    ap.add_argument("--first-runs", type=int, default=5, help="page openings timed for the first image")
    ap.add_argument("--verbose", action="store_true", help="print each move's websocket traffic")
    ap.add_argument("--pause-ms", type=int, default=0,
                    help="wait this long after each painted image before the next move (0: move at once, "
                         "like a student dragging; the page may still be finishing the previous move)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with run_app() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/latent?model=mnist-dcgan&seed=1", wait_until="domcontentloaded")  # warm the server
        page.wait_for_selector("[data-testid='gs-image'] img", timeout=180_000)
        page.close()
        firsts = []
        for k in range(args.first_runs):  # each in a fresh browser context: nothing cached
            if k:
                page.close()
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            t0 = time.perf_counter()
            page.goto(url + f"/latent?model=mnist-dcgan&seed={2 + k}", wait_until="domcontentloaded")
            page.wait_for_selector("[data-testid='gs-image'] img", timeout=60_000)
            firsts.append(time.perf_counter() - t0)
            page.get_by_text("Latent arithmetic").wait_for(timeout=120_000)  # let the page finish before the next
        page.get_by_text("Direction 1", exact=True).wait_for()
        slider = page.get_by_role("slider").nth(1)
        slider.focus()
        times, sent, first_reply = [], [], []
        frames: list[tuple[str, float]] = []  # websocket traffic: where the time goes
        page.on("websocket", lambda ws: (ws.on("framesent", lambda _: frames.append(("sent", time.perf_counter()))),
                                         ws.on("framereceived", lambda _: frames.append(("recv", time.perf_counter())))))
        page.reload(wait_until="domcontentloaded")  # so the listener sees the app's websocket
        page.get_by_text("Direction 1", exact=True).wait_for()
        page.wait_for_selector("[data-testid='gs-image'] img")
        # Measure moves on a page that has finished loading (a move made earlier waits for the rest of the page).
        page.get_by_text("Latent arithmetic").wait_for(timeout=120_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
        page.wait_for_timeout(1000)
        slider = page.get_by_role("slider").nth(1)
        slider.focus()
        for i in range(args.moves):
            if args.pause_ms:
                page.wait_for_timeout(args.pause_ms)
            before = page.locator("[data-testid='gs-image'] img").first.get_attribute("src")
            frames.clear()
            t0 = time.perf_counter()
            slider.press("ArrowRight" if (i // 8) % 2 == 0 else "ArrowLeft")
            page.wait_for_function(PAINTED, arg=before, timeout=30_000, polling="raf")
            t1 = time.perf_counter()
            times.append((t1 - t0) * 1000)
            ts = next((t for k, t in frames if k == "sent" and t >= t0), None)
            tr = next((t for k, t in frames if k == "recv" and ts is not None and t >= ts), None)
            if args.verbose:
                print(f"move {i}: {times[-1]:.0f} ms, frames sent {sum(k == 'sent' for k, _ in frames)}, "
                      f"received {sum(k == 'recv' for k, _ in frames)}, last received at "
                      f"{(max((t for k, t in frames if k == 'recv'), default=t0) - t0) * 1000:.0f} ms")
            if ts is not None and tr is not None:
                sent.append((ts - t0) * 1000)
                first_reply.append((tr - ts) * 1000)
        browser.close()
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    print(f"first image on /latent (warm server, fresh browser context) over {len(firsts)} openings: median "
          f"{statistics.median(firsts):.2f} s, max {max(firsts):.2f} s  (target <= 3 s; "
          f"{', '.join(f'{x:.2f}' for x in firsts)})")
    print(f"slider -> painted image over {len(times)} moves: p50 {statistics.median(times):.0f} ms, "
          f"p95 {p95:.0f} ms, max {times[-1]:.0f} ms  (targets: p50 <= 150, p95 <= 300)")
    if sent:
        print(f"  of which (medians): key press -> widget value sent {statistics.median(sent):.0f} ms, "
              f"sent -> first reply from the server {statistics.median(first_reply):.0f} ms, "
              f"the rest (more deltas, image fetch, decode, paint) "
              f"{statistics.median(times) - statistics.median(sent) - statistics.median(first_reply):.0f} ms")
    print(f"generator alone, one image: {generator_ms():.2f} ms  (target <= 5 ms)")


if __name__ == "__main__":
    main()
