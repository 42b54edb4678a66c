"""A session's results as one self-contained HTML file (images inline, no scripts, no outside links):
protocol, arms, participants kept and excluded, the ranking with paired intervals, a chart, every pairwise
difference, and the hardest fakes of each arm — what a researcher pastes into a paper's appendix.

Example:
    >>> html = report("K7QX2M", "the instructor key")   # doctest: +SKIP
"""
from __future__ import annotations

import base64
import html
from collections import defaultdict

from gan_core.humaneval import staircase
from gan_core.humaneval.arms import rank_arms
from gan_core.humaneval.records import QuizError
from gan_core.humaneval.scoring import qualified
from gan_core.humaneval.sources import SessionImages, png_of

PROTOCOL_TEXT = {
    "hype-inf": ("HYPE∞ (Zhou et al., NeurIPS 2019): people judge each image without a time limit. The score is "
                 "the error rate on that arm's trials (fakes taken for real plus reals taken for fake); 50% "
                 "means people cannot tell the model's images from real ones. Higher ranks first."),
    "hype-time": ("HYPE-time (Zhou et al., NeurIPS 2019): each image is shown for a limited time, then masked. "
                  f"Exposures run from {staircase.MIN_MS} to {staircase.MAX_MS} ms in {staircase.STEP_MS} ms "
                  f"steps, starting at {staircase.START_MS} ms, one staircase per participant and arm: "
                  f"{staircase.DOWN_AFTER} correct answers in a row shorten the next exposure by one step, a "
                  "wrong answer lengthens it by one. A participant's threshold is the exposure they saw most "
                  "often; the score is the mean threshold over participants. Higher (people need longer) "
                  "ranks first."),
}


def _esc(x) -> str:
    return html.escape(str(x), quote=True)


def _fmt(v: float, protocol: str) -> str:
    if v != v:  # NaN
        return "—"
    return f"{v:.1%}" if protocol == "hype-inf" else f"{v:.0f} ms"


def _chart(ranked: dict) -> str:
    """A forest plot in inline SVG: each arm's score and 95% interval, best at the top."""
    arms = [ranked["arms"][a] for a in ranked["ranking"]]
    pct = ranked["protocol"] == "hype-inf"
    lo_v, hi_v = (0.0, 1.0) if pct else (staircase.MIN_MS, staircase.MAX_MS)
    W, row, left, right = 640, 34, 170, 30
    H = row * len(arms) + 50

    def x(v):
        return left + (W - left - right) * (min(max(v, lo_v), hi_v) - lo_v) / (hi_v - lo_v)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img" '
             f'aria-label="scores with 95% intervals" font-family="sans-serif" font-size="13">']
    for i in range(5):
        v = lo_v + (hi_v - lo_v) * i / 4
        parts.append(f'<line x1="{x(v):.1f}" y1="10" x2="{x(v):.1f}" y2="{H - 30}" stroke="#ddd"/>'
                     f'<text x="{x(v):.1f}" y="{H - 12}" text-anchor="middle">'
                     f'{_esc(f"{v:.0%}" if pct else f"{v:.0f} ms")}</text>')
    if pct:
        parts.append(f'<line x1="{x(0.5):.1f}" y1="10" x2="{x(0.5):.1f}" y2="{H - 30}" stroke="#999" '
                     'stroke-dasharray="4 3"/>')
    for i, a in enumerate(arms):
        y = 30 + i * row
        parts.append(f'<text x="{left - 10}" y="{y + 4}" text-anchor="end">{_esc(a["name"][:24])}</text>')
        if a["low"] == a["low"]:
            parts.append(f'<line x1="{x(a["low"]):.1f}" y1="{y}" x2="{x(a["high"]):.1f}" y2="{y}" '
                         'stroke="#1f77b4" stroke-width="3"/>')
        if a["score"] == a["score"]:
            parts.append(f'<circle cx="{x(a["score"]):.1f}" cy="{y}" r="5" fill="#1f77b4"/>')
    parts.append("</svg>")
    return "".join(parts)


def hardest_fakes(rows: list[dict], n_arms: int, per_arm: int = 4) -> dict[int, list[tuple[int, int, int]]]:
    """Per arm: (fake ref, times fooled, times shown) of the fakes that fooled people most."""
    stats = defaultdict(lambda: [0, 0])
    for r in rows:
        if r.get("qualification") or r.get("fake_seed") is None:
            continue
        s = stats[(r.get("arm") or 0, r["fake_seed"])]  # sessions of one model have no arm: it is arm 0
        s[0] += not r["correct"]
        s[1] += 1
    out = {}
    for a in range(n_arms):
        mine = [(ref, f, n) for (arm, ref), (f, n) in stats.items() if arm == a and f > 0]
        out[a] = sorted(mine, key=lambda t: (-t[1] / t[2], -t[2]))[:per_arm]
    return out


def build_report(store, info) -> str:
    """The HTML report of ``info``'s session (the caller has checked the instructor key)."""
    rows = store.rows(info.code)
    for r in rows:
        r["participant"] = r["number"]
    everyone = store.participants(info.code)
    ok = qualified(rows)
    scored = [r for r in rows if r["participant"] in ok]
    names = info.arm_names
    protocol = info.protocol
    ranked = rank_arms(scored, names, protocol=protocol, seed=0)
    removed = [p for p in everyone if p["removed"]]
    failed = sorted({r["participant"] for r in rows} - ok)
    src = SessionImages(store, info)
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
           f"<title>Human evaluation {_esc(info.code)}</title><style>",
           "body{font-family:sans-serif;max-width:860px;margin:2em auto;line-height:1.45;color:#222}"
           "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;"
           "text-align:left}th{background:#f4f4f4}.sep{color:#0a6b0a;font-weight:bold}"
           "figure{display:inline-block;margin:4px;text-align:center;font-size:12px}"
           "img{image-rendering:pixelated;border:1px solid #ccc}",
           "</style></head><body>",
           f"<h1>Human evaluation of {len(names)} generative model{'s' if len(names) != 1 else ''}</h1>",
           f"<p>Session {_esc(info.code)}, created {info.created_at:%Y-%m-%d %H:%M} UTC with GAN Studio.</p>",
           "<h2>Protocol</h2>", f"<p>{_esc(PROTOCOL_TEXT[protocol])}</p>",
           f"<p>Trials per participant: {info.n_trials} ({'side by side: which is real?' if info.mode == 'pair' else 'one image at a time: real or fake?'}), "
           f"{info.qualification} warm-up trials (real images against noise; participants with fewer than 75% "
           f"right are excluded). Arms are balanced within each participant and no participant sees a fake "
           f"twice. Real images: {'the uploaded real set' if info.real_source == 'images' else 'mnist-5k digits'}. "
           + (f"Every image was decoded, stripped of metadata, converted to {src.mode}, centre-cropped, resized "
              f"to {info.display_size} px and re-encoded identically (JPEG quality 92 round trip, then PNG), so "
              "file format, size and metadata cannot tell real from fake. " if info.uses_uploads else "")
           + "Intervals: 95% percentile bootstrap over participants (10,000 resamples, the same participants "
             "for every arm, so differences are paired); p-values: paired permutation test (10,000 swaps).</p>",
           "<h2>Arms</h2><table><tr><th>arm</th><th>source</th></tr>"]
    for a in (info.arms or [{"name": info.model, "kind": "model"}]):
        what = "uploaded image set" if a["kind"] == "images" else f"app model {a.get('model') or a['name']}"
        out.append(f"<tr><td>{_esc(a['name'])}</td><td>{_esc(what)}</td></tr>")
    out.append("</table>")
    out.append(f"<h2>Participants</h2><p>{len(everyone)} joined; {len(ok)} kept; "
               f"{len(failed)} excluded by the warm-up; {len(removed)} removed by the instructor. "
               f"{len(scored)} answers scored.</p>")
    out.append("<h2>Ranking</h2><table><tr><th>rank</th><th>arm</th><th>score</th><th>95% interval</th>"
               "<th>participants</th><th>answers</th></tr>")
    for rank, a in enumerate(ranked["ranking"], 1):
        arm = ranked["arms"][a]
        out.append(f"<tr><td>{rank}</td><td>{_esc(arm['name'])}</td><td>{_fmt(arm['score'], protocol)}</td>"
                   f"<td>{_fmt(arm['low'], protocol)} – {_fmt(arm['high'], protocol)}</td>"
                   f"<td>{arm['participants']}</td><td>{arm['answers']}</td></tr>")
    out.append("</table>" + _chart(ranked))
    out.append("<h2>Pairwise differences</h2><table><tr><th>pair</th><th>difference</th><th>95% interval"
               "</th><th>p (permutation)</th><th>separable at 95%</th></tr>")
    for p in ranked["pairs"]:
        d = (lambda v: f"{v * 100:+.1f} points") if protocol == "hype-inf" else (lambda v: f"{v:+.0f} ms")
        sep = "<span class='sep'>yes</span>" if p["separable"] else "no"
        out.append(f"<tr><td>{_esc(names[p['a']])} − {_esc(names[p['b']])}</td><td>{d(p['diff'])}</td>"
                   f"<td>{d(p['low'])} – {d(p['high'])}</td><td>{p['p']:.4f}</td><td>{sep}</td></tr>")
    out.append("</table>")
    if protocol == "hype-time":
        errs = [abs(r["achieved_ms"] - r["exposure_ms"]) for r in scored
                if r.get("achieved_ms") is not None and r.get("exposure_ms") is not None]
        if errs:
            errs.sort()
            out.append(f"<p>Exposure timing in participants' browsers: median |achieved − requested| "
                       f"{errs[len(errs) // 2]:.1f} ms over {len(errs)} trials (achieved exposures are stored "
                       "with every answer).</p>")
    out.append("<h2>Hardest fakes</h2>")
    for a, items in hardest_fakes(scored, len(names)).items():
        out.append(f"<h3>{_esc(names[a])}</h3>")
        if not items:
            out.append("<p>No fake of this arm fooled anyone.</p>")
        for ref, fooled, shown in items:
            try:
                img = src.fake(a, ref)
            except QuizError:   # the session ended and its uploaded images were deleted (store.purge_ended)
                out.append(f"<p>Fake {int(ref)} fooled {fooled} of {shown}; its image was deleted with the "
                           "session's uploads.</p>")
                continue
            uri = "data:image/png;base64," + base64.b64encode(png_of(img)).decode()
            out.append(f"<figure><img src='{uri}' width='{min(img.shape[1], 160)}' alt='fake of {_esc(names[a])}'>"
                       f"<figcaption>fooled {fooled} of {shown}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out)


def report(session_code: str, key: str, store=None) -> str:
    """The HTML report of a session, for its instructor (``key``). ``store``: default, the app's database."""
    from gan_core.humaneval.store import Store

    store = store or Store()
    info = store.check_key(session_code, key)
    return build_report(store, info)
