"""Bounded timelines: lists that record a run step by step (measurements, sample grids) without growing
for ever, so a long run or a server full of them keeps its memory bounded."""
from __future__ import annotations


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
