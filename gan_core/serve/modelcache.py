"""A server-wide least-recently-used cache bounded by bytes (loaded models, refused uploads), thread-safe.

``st.cache_resource(max_entries=16)`` bounds entries, not memory: 16 uploaded models of 200 MB each would
stay resident. This one counts what each entry holds and drops the least recently used past its budget.

Example:
    >>> c = ModelCache(max_bytes=10)
    >>> _ = c.put("a", "A", 6); _ = c.put("b", "B", 6)      # over budget: "a" goes
    >>> c.get("a"), c.get("b"), c.bytes
    (None, 'B', 6)
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Hashable

from torch import nn


def module_bytes(*modules: nn.Module | None) -> int:
    """Bytes of the parameters and buffers of ``modules`` (None skipped; shared tensors counted once)."""
    seen, total = set(), 0
    for m in modules:
        if m is None:
            continue
        for t in list(m.parameters()) + list(m.buffers()):
            if t.data_ptr() not in seen:
                seen.add(t.data_ptr())
                total += t.numel() * t.element_size()
    return total


class ModelCache:
    """An LRU of (key -> value, size in bytes); the newest entry is kept even when it alone exceeds the budget."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        with self._lock:
            return sum(size for _, size in self._items.values())

    def get(self, key: Hashable) -> Any:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            self._items.move_to_end(key)
            return hit[0]

    def put(self, key: Hashable, value: Any, size: int) -> Any:
        """Store and return ``value`` (a value stored by another thread in the meantime wins: one copy each)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
            self._items[key] = (value, int(size))
            total = sum(s for _, s in self._items.values())
            while total > self.max_bytes and len(self._items) > 1:
                _, (_, s) = self._items.popitem(last=False)
                total -= s
            return value

    def forget_prefix(self, path: str) -> None:
        """Drop every entry whose key names ``path`` (keys are (kind, path) tuples)."""
        with self._lock:
            for k in [k for k in self._items if isinstance(k, tuple) and len(k) > 1 and k[1] == path]:
                del self._items[k]
