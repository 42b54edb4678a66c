import gc
import sys
import types

from ui import perf


def test_freezes_once_then_again_only_after_new_imports(monkeypatch):
    monkeypatch.setattr(perf, "_frozen_at_modules", 0)
    try:
        assert perf.freeze_long_lived() is True
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # the test process's modules, functions, classes …
        assert perf.freeze_long_lived() is False  # nothing new imported
        for i in range(perf.NEW_MODULES):
            monkeypatch.setitem(sys.modules, f"_gs_fake_module_{i}", types.ModuleType(f"_gs_fake_module_{i}"))
        assert perf.freeze_long_lived() is True
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()


def test_a_frozen_heap_makes_full_collections_cheap():
    junk = [[i] for i in range(200_000)]  # long-lived objects the collector would walk
    try:
        before = _objects_walked()
        gc.freeze()
        after = _objects_walked()
        assert after < before - 150_000
    finally:
        gc.unfreeze()
        del junk


def _objects_walked() -> int:
    """How many objects a full collection would examine (tracked objects outside the frozen generation)."""
    return len(gc.get_objects())
