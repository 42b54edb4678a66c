"""Keeping the server responsive: Python's cyclic garbage collector and a large, long-lived heap.

torch, torchmetrics, plotly, scikit-learn and SQLAlchemy leave over half a million Python objects alive
for the server's whole life. Every full (generation 2) collection walks all of them (hundreds of
milliseconds; bench/rerun_cost.py), during which every session's script, the training-job readers and the web server wait. Slider
moves that meet one take twice as long as the others. `gc.freeze()` moves the objects alive at that moment
out of the collector's sight; collections afterwards only walk what was created since.
"""
from __future__ import annotations

import gc
import sys
import threading

_lock = threading.Lock()
_frozen_at_modules = 0
NEW_MODULES = 20  # freeze again after a page has imported this many new modules (e.g. its first visit)


def freeze_long_lived() -> bool:
    """Collect once, then freeze what is alive, if enough new modules were imported since the last time.

    Call it at the end of a script run. Returns whether it froze. Cheap when there is nothing to do.
    """
    global _frozen_at_modules
    n = len(sys.modules)
    if n - _frozen_at_modules < NEW_MODULES:
        return False
    with _lock:
        if len(sys.modules) - _frozen_at_modules < NEW_MODULES:
            return False
        gc.collect()  # what is garbage now is not frozen with the rest
        gc.freeze()
        _frozen_at_modules = len(sys.modules)
    return True
