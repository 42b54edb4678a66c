"""The server's model cache is bounded by bytes, not entries (hardening issue: 16 uploads of 200 MB each)."""
from torch import nn

from gan_core.serve.modelcache import ModelCache, module_bytes


def test_least_recently_used_models_leave_past_the_byte_budget():
    c = ModelCache(max_bytes=10)
    c.put(("checkpoint", "a"), "A", 4)
    c.put(("checkpoint", "b"), "B", 4)
    assert c.get(("checkpoint", "a")) == "A"          # a is now the most recent
    c.put(("checkpoint", "c"), "C", 4)                 # 12 > 10: b, the least recent, goes
    assert c.get(("checkpoint", "b")) is None and c.get(("checkpoint", "a")) == "A" and c.bytes == 8
    c.put(("explorer", "a"), "EA", 1)
    c.forget_prefix("a")                               # a pruned folder leaves memory too
    assert c.get(("checkpoint", "a")) is None and c.get(("explorer", "a")) is None and c.bytes == 4


def test_module_bytes_counts_parameters_and_buffers_once():
    lin, bn = nn.Linear(10, 5), nn.BatchNorm1d(5)
    assert module_bytes(lin) == (10 * 5 + 5) * 4
    assert module_bytes(lin, lin, None) == module_bytes(lin)
    assert module_bytes(bn) == (5 + 5 + 5 + 5) * 4 + 8    # weight, bias, running mean/var (+ the int64 count)
