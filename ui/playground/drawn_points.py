"""The playground's "Your own data": paint the real distribution on a canvas, or upload or paste a CSV of
x,y; the set is clustered into modes, offered as a CSV download, and carried by the link when it is small.

Session state: ``pg_points`` (float32 (N, 2) or absent) is the set the playground trains on when the data
choice ``pg_dataset`` is "drawn".
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import streamlit as st

from gan_core.data import drawn_points as drawn
from ui.text import plain

CANVAS = 360                 # canvas pixels a side; the square [-3, 3]^2
MAX_CSV_MB = 1
LINK_KEY = "pts"


@lru_cache(maxsize=1)
def grid_image():
    """The canvas's background: the plot's square with a line at every unit and labelled axes."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (CANVAS, CANVAS), "white")
    d = ImageDraw.Draw(im)
    e = drawn.EXTENT
    for v in range(-int(e), int(e) + 1):
        p = round((v + e) / (2 * e) * (CANVAS - 1))
        colour = (150, 150, 150) if v == 0 else (225, 225, 225)
        d.line([(p, 0), (p, CANVAS)], fill=colour)
        d.line([(0, p), (CANVAS, p)], fill=colour)
        if v not in (-int(e), int(e)):
            d.text((p + 2, CANVAS // 2 + 2), str(v), fill=(120, 120, 120))
            d.text((CANVAS // 2 + 3, CANVAS - 1 - p - 12), str(v), fill=(120, 120, 120))
    return im


def from_link() -> None:
    """A link's ``?pts=``: becomes this session's own data (once per link text); bad text gets a warning."""
    s = st.session_state
    raw = st.query_params.get(LINK_KEY)
    if raw is None or s.get("pg_pts_link") == raw:
        return
    s.pg_pts_link = raw
    try:
        s.pg_points = drawn.decode_points(raw)
    except drawn.PointsError as e:
        st.warning(f"The link's own data could not be used: {plain(e)} The playground starts with the ring instead.")
        return
    s.pg_dataset = drawn.USER_DATASET


def to_link(points: np.ndarray | None) -> str | None:
    """Put the set in the link when it fits (returns the text), else take it out of the link."""
    text = drawn.link_text(points) if points is not None else None
    if text is None:
        st.query_params.pop(LINK_KEY, None)
    else:
        st.query_params[LINK_KEY] = text
        st.session_state.pg_pts_link = text   # not read back as a new link
    return text


def _use(points: np.ndarray, source: str, note: str | None = None) -> None:
    s = st.session_state
    s.pg_points = points
    s.pg_points_note = f"From your {source}: {len(points):,} points." + (f" {note}" if note else "")
    s.pg_playing = False


def _draw_tab() -> None:
    from streamlit_drawable_canvas import st_canvas

    c = st.columns([3, 2])
    with c[1]:
        tool = st.radio("Tool", ["Brush", "Dots"], key="pg_draw_tool", horizontal=True,
                        help="Brush: press and drag to paint; every painted spot becomes real data. Dots: each "
                             "click adds a round blob — a mode of its own.")
        spread = st.slider("Spread", 0.05, 1.0, 0.3, 0.05, key="pg_draw_spread",
                           help="The width of the brush or dot, in plot units: real points are scattered "
                                "evenly over the painted area, so a wider brush gives a wider cloud.")
        st.caption("Undo, redo and clear are in the toolbar above the canvas. Painted areas carry more points than thin "
                   f"strokes. The drawing becomes {drawn.DRAWN_POINTS} points (small enough to share as a link).")
        use = st.button("Train on this drawing", type="primary", key="pg_draw_use",
                        help="Turn the painting into real points and restart the playground on them.")
    px = max(2, round(spread / (2 * drawn.EXTENT) * CANVAS))
    with c[0]:
        r = st_canvas(fill_color="rgba(44,160,44,0.7)", stroke_width=px, stroke_color="rgba(44,160,44,0.7)",
                      background_image=grid_image(), height=CANVAS, width=CANVAS,
                      drawing_mode="freedraw" if tool == "Brush" else "point", point_display_radius=max(1, px // 2),
                      return_image_data=True, update_streamlit=True, key="pg_canvas")
    if use:
        ink = None if r is None else r.image_data
        if ink is None:
            st.warning("Nothing is drawn yet: paint on the square first.")
            return
        try:
            _use(drawn.points_from_ink(np.asarray(ink), seed=int(st.session_state.get("pg_seed", 0))), "drawing")
        except drawn.PointsError as e:
            st.warning(str(e))


def _csv_tab() -> None:
    up = st.file_uploader("A CSV file of x,y", type=["csv", "txt"], key="pg_csv_upload", max_upload_size=MAX_CSV_MB,
                          help=f"Two numbers per line, x and y; a header line is fine. At most "
                               f"{drawn.MAX_POINTS:,} points. Data outside the square are scaled to fit.")
    text = st.text_area("…or paste the points", key="pg_csv_text", height=120, placeholder="x,y\n0.5,1.2\n-1,0.3",
                        max_chars=drawn.MAX_CSV_BYTES,
                        help=f"The same format as the file: one point per line (at most {drawn.MAX_CSV_BYTES:,} "
                             "characters).")
    if st.button("Train on these points", type="primary", key="pg_csv_use",
                 help="Read the file (or, without one, the pasted text) and restart the playground on it."):
        raw = up.getvalue() if up is not None else (text or "")
        if not raw:
            st.warning("Choose a file or paste some points first.")
            return
        try:
            pts, note = drawn.parse_csv(raw)
        except drawn.PointsError as e:
            st.warning(str(e))
            return
        _use(pts, "file" if up is not None else "pasted points", note)


def editor() -> np.ndarray | None:
    """The own-data panel; returns the set to train on (None until there is one)."""
    s = st.session_state
    st.subheader("Your own data")
    t_draw, t_csv = st.tabs([":material/brush: Draw", ":material/table: CSV"])
    with t_draw:
        _draw_tab()
    with t_csv:
        _csv_tab()
    pts = s.get("pg_points")
    if pts is None:
        st.info("Paint the real distribution (or give a CSV), then press Train. Try a few blobs — can G cover "
                "them all?")
        to_link(None)
        return None
    modes = drawn.find_modes(pts)
    link = to_link(pts)
    plural = "s" if len(modes) != 1 else ""
    c = st.columns([4, 1])
    c[0].caption(f"{s.get('pg_points_note') or f'{len(pts):,} points.'} **{len(modes)} mode{plural}**: groups of "
                 f"points separated by gaps wider than {drawn.LINK:g} (groups under {drawn.MIN_MODE_SHARE:.0%} of "
                 "the points are strays). They are the crosses on the plot and the 'Modes covered' count. "
                 + ("The link holds this set: copy it to share." if link else
                    "The set is too large for a link: download it to share."))
    c[1].download_button("CSV", drawn.to_csv(pts), file_name="playground-points.csv", mime="text/csv",
                         icon=":material/download:", key="pg_points_csv", help="These points as x,y — open it again under CSV.")
    return pts
