"""The playground's measurements on cases with known answers."""
import math

import numpy as np
import pytest
import torch

from gan_core.data.toy import sample_toy, toy_modes
from gan_core.training.playground import (PLAYGROUND_PRESETS, Playground, divergences, modes_covered, playground_config,
                                          preset)


def test_modes_covered_known_answers():
    g = torch.Generator().manual_seed(0)
    assert modes_covered(sample_toy("ring8", 4000, g), "ring8") == 8
    assert modes_covered(sample_toy("grid25", 8000, g), "grid25") == 25
    one = toy_modes("ring8")[3].repeat(500, 1)
    assert modes_covered(one, "ring8") == 1
    assert modes_covered(torch.zeros(100, 2), "ring8") == 0  # the centre of the ring is no mode
    assert modes_covered(sample_toy("moons", 100, g), "moons") is None


def test_divergences_known_answers():
    g = torch.Generator().manual_seed(0)
    a, b = sample_toy("ring8", 20000, g), sample_toy("ring8", 20000, g)
    same = divergences(a, b)
    assert same["js"] < 0.01 and same["kl"] < 0.05
    far = divergences(a, torch.full((20000, 2), -2.9))
    assert far["js"] == pytest.approx(math.log(2), abs=0.01) and far["kl"] > 5


def test_views_have_the_right_shapes_and_ranges():
    pg = Playground(playground_config(batch_size=32, width=16, loss="minimax"))
    pg.train(3)
    ax, z = pg.heatmap(res=20)
    assert ax.shape == (20,) and z.shape == (20, 20) and 0 <= z.min() and z.max() <= 1
    lines = pg.warped_grid(lines=5, per_line=7)
    assert len(lines) == 10 and lines[0].shape == (7, 2)
    p, g = pg.gradient_arrows(n=30)
    assert p.shape == g.shape == (30, 2) and np.isfinite(g).all()
    one_d = Playground(playground_config(noise_dim=1, batch_size=32, width=16))
    assert len(one_d.warped_grid()) == 1


def test_arrows_point_where_d_says_real():
    """Moving each point a little along its arrow raises D's score there: the arrows are -dL_G/dx."""
    pg = Playground(playground_config(batch_size=64, width=32, seed=1))
    pg.train(30)
    p, g = pg.gradient_arrows(n=100)
    D = pg.trainer.D.eval()
    with torch.no_grad():
        before = D(torch.from_numpy(p))
        after = D(torch.from_numpy(p + 1e-3 * g / (np.linalg.norm(g, axis=1, keepdims=True) + 1e-12)))
    assert (after >= before).float().mean() > 0.95


def test_slow_motion_phases():
    pg = Playground(playground_config(batch_size=16, width=8, n_critic=2))
    d = pg.d_step()
    assert d.phase == "D" and pg.step_count == 0 and "G did not change" in d.text
    g = pg.g_step()
    assert g.phase == "G" and pg.step_count == 1 and "js" in pg.history[-1]


def test_presets_and_bad_settings():
    for name in PLAYGROUND_PRESETS:
        assert preset(name).model.architecture == "toy"
    with pytest.raises(ValueError, match="1D or 2D"):
        playground_config(noise_dim=3)
    with pytest.raises(ValueError):
        Playground(preset("Default").replace(model=preset("Default").model.__class__(),
                                             dataset="mnist-5k"))


def test_training_slots_are_shared_and_history_is_bounded(monkeypatch):
    import threading

    from gan_core.training import playground as P

    pg = P.Playground(P.preset("Default"))
    monkeypatch.setattr(P, "TRAINING_SLOTS", threading.BoundedSemaphore(1))
    P.TRAINING_SLOTS.acquire()          # another playground holds the only slot
    assert pg.train(3, wait=0.05) == [] and pg.step_count == 0
    P.TRAINING_SLOTS.release()
    assert len(pg.train(3, wait=0.05)) == 3
    monkeypatch.setattr(P, "MAX_HISTORY", 40)
    pg.train(100)
    assert len(pg.history) <= 40 and pg.history[-1]["step"] == 103
    monkeypatch.setattr(P, "MAX_STEPS", 103)
    with pytest.raises(P.PlaygroundFull):
        pg.train(1)


def test_costly_settings_do_not_buy_a_bigger_share_of_the_training_slot(monkeypatch):
    """Hardening item 7: width 256, 6 layers, 20 D steps and unrolling make one step ~100x dearer; such a
    playground beside an ordinary one must not starve it (before: the victim trained in 4 of 30 ticks)."""
    import threading
    import time

    import gan_core.training.playground as pgmod

    monkeypatch.setattr(pgmod, "TRAINING_SLOTS", pgmod.FairSlots(1))
    torch.set_num_threads(1)
    hostile = pgmod.Playground(pgmod.playground_config(width=256, depth=6, n_critic=20, unrolled_steps=10))
    victim = pgmod.Playground(pgmod.playground_config())
    tick, ticks, trained = 0.3, 14, {"hostile": 0, "victim": 0}
    stop = time.monotonic() + tick * ticks

    def play(name, pg):
        torch.set_num_threads(1)
        while time.monotonic() < stop:
            start = time.monotonic()
            if pg.train(5, wait=tick / 2, budget=tick / 2):
                trained[name] += 1
            time.sleep(max(0.0, tick - (time.monotonic() - start)))

    threads = [threading.Thread(target=play, args=a) for a in (("hostile", hostile), ("victim", victim))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert trained["victim"] >= ticks // 2, trained
    assert hostile.step_count <= 6                 # ~1 s a step: it pays for each turn it overran
