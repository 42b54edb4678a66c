"""A finished or running training run frozen as a reference, so the next run can be drawn beside it: its
measurements step by step, its class coverage, and its samples (image grids, or the playground's points) at
each step they were taken. Plain data, bounded in size: a browser session keeps one.

Example:
    >>> ref = freeze("collapse, seed 0", {"lr_g": 2e-3}, [{"step": 1, "g_loss": 0.7}], snapshots=[(1, "grid")])
    >>> ref.at(5)
    (1, 'grid')
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from gan_core.training.timeline import evenly

MAX_ROWS = 2000
MAX_SNAPSHOTS = 60


@dataclass(frozen=True)
class Reference:
    label: str
    settings: dict
    history: tuple        # per-step measurement rows (dicts with "step")
    coverage: tuple       # per-check class coverage rows (image runs)
    snapshots: tuple      # ((step, samples), ...): image grids or arrays of 2D points, by step

    @property
    def last_step(self) -> int:
        return int(self.history[-1]["step"]) if self.history else 0

    def at(self, step: int) -> tuple[int, Any] | None:
        """The snapshot taken at ``step`` or the last one before it (the first one if all came later)."""
        if not self.snapshots:
            return None
        before = [s for s in self.snapshots if s[0] <= step]
        return before[-1] if before else self.snapshots[0]

    def series(self, key: str) -> tuple[list, list]:
        """(steps, values) of one measurement, where the rows have it."""
        rows = [r for r in self.history if r.get(key) is not None]
        return [r["step"] for r in rows], [r[key] for r in rows]


def freeze(label: str, settings: dict, history: Sequence[dict], coverage: Sequence[dict] = (),
           snapshots: Sequence[tuple] = ()) -> Reference:
    """Copy a run's records into a Reference (thinned to MAX_ROWS rows and MAX_SNAPSHOTS snapshots)."""
    if not history:
        raise ValueError("There is nothing to keep yet: train a few steps first.")
    return Reference(label, dict(settings), evenly([dict(r) for r in history], MAX_ROWS),
                     evenly([dict(r) for r in coverage], MAX_ROWS), evenly(list(snapshots), MAX_SNAPSHOTS))
