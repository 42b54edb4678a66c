"""Bounded timelines: lists that record a run step by step (measurements, sample grids) without growing
for ever, so a long run or a server full of them keeps its memory bounded."""
from __future__ import annotations

from typing import Sequence


def keep_thinned(timeline: list, item, most: int) -> None:
    """Append ``item``; past ``most`` entries, drop every second one of the older half (the first and the
    recent ones stay), so the whole run stays visible at a coarser grain.

    Example:
        >>> t = []
        >>> for i in range(10): keep_thinned(t, i, 6)
        >>> len(t) <= 6, t[0], t[-1]
        (True, 0, 9)
    """
    timeline.append(item)
    if len(timeline) > most:
        old = timeline[1:most // 2]
        timeline[1:most // 2] = old[::2]


def evenly(rows: Sequence, most: int) -> tuple:
    """At most ``most`` items of ``rows``, evenly spaced, always keeping the last (for drawing or freezing a
    long timeline).

    Example:
        >>> evenly(range(10), 4)
        (0, 3, 6, 9)
    """
    rows = list(rows)
    if len(rows) <= most:
        return tuple(rows)
    k = -(-len(rows) // most)
    kept = rows[::k]
    if kept[-1] is not rows[-1]:
        kept[-1] = rows[-1]
    return tuple(kept)
