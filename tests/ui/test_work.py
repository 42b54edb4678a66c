"""ui.work: pages woken for finished shared results take turns."""
import time

import pytest

from ui.work import Wakeups


def test_pages_woken_for_finished_results_take_turns():
    """30 pages noticing a shared result at once are handed wake-ups one spacing apart, not all the same instant;
    a page that notices later, after the line has drained, goes at once; none waits past the cap."""
    w = Wakeups(spacing=0.1)
    delays = [w.delay() for _ in range(30)]
    assert delays[0] == pytest.approx(0.0, abs=0.01)
    assert all(b - a == pytest.approx(0.1, abs=0.02) for a, b in zip(delays, delays[1:]))
    assert delays[-1] == pytest.approx(2.9, abs=0.05)
    time.sleep(3.0)
    assert w.delay() == pytest.approx(0.0, abs=0.01)
    assert max(w.delay() for _ in range(500)) <= 10.0
