"""/train's chart axes: whole steps on x, full labels on the log axis, a loss range the first spike does not
squash."""
from ui.train.charts import line_chart, log_ticks, robust_range, step_axis


def test_step_axis_ticks_are_whole_steps():
    for last in (1, 3, 7, 199, 200, 1234, 50_000):
        ax = step_axis(last)
        assert isinstance(ax["dtick"], int) and ax["dtick"] >= 1 and ax["tickformat"] == ",d"
        assert last / ax["dtick"] <= 10       # a handful of ticks, never dozens
    assert step_axis(200)["dtick"] in (50, 20, 100) and step_axis(3)["dtick"] == 1


def test_log_ticks_label_values_not_digits():
    vals, text = log_ticks(20, 70)
    assert vals == [20, 50] and text == ["20", "50"]
    vals, text = log_ticks(0.003, 40)
    assert text == ["0.005", "0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1", "2", "5", "10", "20"]
    vals, _ = log_ticks(31, 33)          # narrower than any nice step: the nice values around it
    assert vals[0] <= 31 and vals[-1] >= 33 and len(vals) >= 2


def test_robust_range_ignores_the_first_spike_only():
    losses = [400.0, 120.0] + [1.0 + 0.01 * (i % 7) for i in range(200)]
    lo, hi = robust_range(losses)
    assert hi < 2 and lo > 0.8
    assert robust_range([1.0 + 0.01 * (i % 7) for i in range(200)]) is None   # nothing cut off: plotly's range
    assert robust_range([1.0, 400.0]) is None                                 # too few points to judge


def test_loss_chart_says_when_the_spike_is_off_the_scale():
    rows = [{"step": i + 1, "d_loss": 1.0, "g_loss": 400.0 if i == 0 else 2.0 + 0.1 * (i % 3)} for i in range(100)]
    fig = line_chart(rows, {"d_loss": "D loss", "g_loss": "G loss"}, "Losses", "loss", robust=True)
    assert "off the scale" in fig.layout.title.text and fig.layout.yaxis.range[1] < 10
    grad = line_chart([{"step": i + 1, "g": 20 + i, "d": 30 + i} for i in range(40)], {"g": "g", "d": "d"},
                      "Gradient norms", "norm", log=True)
    assert list(grad.layout.yaxis.ticktext) == ["20", "50"] and grad.layout.yaxis.type == "log"


def test_steps_per_second_and_what_keeps_the_machine_busy(monkeypatch):
    from types import SimpleNamespace

    import ui.train.charts as lv

    job = SimpleNamespace(config=SimpleNamespace(batch_size=64, n_critic=5),
                          history=[{"images_per_s": 64 * 5 * r} for r in (1.0, 2.0, 3.0)])
    assert lv.steps_per_second(job) == 2.0           # the median, from images/s over batch x critic steps
    assert lv.steps_per_second(SimpleNamespace(config=job.config, history=[])) is None
    monkeypatch.setattr(lv, "job_manager", lambda: SimpleNamespace(running=lambda: 3))
    monkeypatch.setattr(lv.os, "getloadavg", lambda: (5.0, 4.0, 3.0))
    monkeypatch.setattr(lv.os, "cpu_count", lambda: 2)
    monkeypatch.setattr("ui.work.work_queue", lambda: SimpleNamespace(running=lambda: 1))
    said = lv.busy_reasons()
    assert said == ["2 other training runs", "1 computation for the class", "load average 5.0 on 2 cores"]
    monkeypatch.setattr(lv, "job_manager", lambda: SimpleNamespace(running=lambda: 1))
    monkeypatch.setattr(lv.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    monkeypatch.setattr("ui.work.work_queue", lambda: SimpleNamespace(running=lambda: 0))
    assert lv.busy_reasons() == []


def test_every_preset_has_a_measured_idle_rate():
    from gan_core.training.presets import PRESETS

    assert all(isinstance(p.get("idle_rate"), int) and p["idle_rate"] > 0 for p in PRESETS.values())
