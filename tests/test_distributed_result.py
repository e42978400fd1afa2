"""DistributedResult tables and the distributed plots, on a hand-made run record (no cluster)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from drlkit.distributed import DistributedResult  # noqa: E402
from drlkit.plotting import (  # noqa: E402
    plot_return_curves,
    plot_staleness,
    plot_task_timeline,
    plot_worker_throughput,
)


def _row(updates, status, worker, version, staleness, steps, wall, compute, delay=0.0, submit=None):
    return {
        "updates": updates,
        "status": status,
        "worker": worker,
        "address": f"tcp://127.0.0.1:{9000 + worker}",
        "moved": False,
        "sync_round": -1,
        "version": version,
        "staleness": staleness,
        "weight": 0.5 if status == "applied" else math.nan,
        "env_steps": steps,
        "n_episodes": 0,
        "mean_return": math.nan,
        "submit_time": wall - compute - delay if submit is None else submit,
        "wall_time": wall,
        "compute_time": compute,
        "delay_time": delay,
        "apply_time": 0.001,
        "loss": 1.0,
    }


@pytest.fixture
def result():
    rows = [
        _row(1, "applied", 0, 0, 0, 100, 1.0, 0.8),
        _row(2, "applied", 1, 0, 1, 100, 1.5, 1.0, delay=0.4),
        _row(2, "dropped", 1, 0, 3, 100, 3.0, 1.0, delay=0.4),
        _row(3, "applied", 0, 1, 2, 100, 3.2, 0.8),
        _row(3, "cancelled", 1, 2, -1, 0, 3.3, math.nan, math.nan, submit=3.0),
    ]
    episodes = [
        {"wall_time": t, "step": s, "episode_return": r, "episode_length": int(r), "worker": 0, "version": 0}
        for t, s, r in [(0.5, 50, 10.0), (1.0, 100, 20.0), (2.0, 250, 30.0), (3.0, 400, 60.0)]
    ]
    return DistributedResult(
        agent=None,
        mode="async",
        n_workers=2,
        options={"total_steps": 400},
        metric_keys=("loss",),
        rows=rows,
        episodes=episodes,
        wall_time=4.0,
        env_steps=400,
    )


def test_counts_add_up_and_updates_come_from_the_rows(result):
    counts = result.counts()
    assert counts == {"applied": 3, "dropped": 1, "cancelled": 1, "lost": 0, "submitted": 5, "moved": 0, "updates": 3}
    assert result.update_rate == pytest.approx(3 / 4.0)
    assert result.steps_per_second == pytest.approx(100.0)
    assert list(result.to_frame().columns[-1:]) == ["loss"]


def test_summary_is_one_comparable_line(result):
    line = result.summary(window=2)
    assert line["mode"] == "async" and line["workers"] == 2 and line["updates"] == 3
    assert line["update_rate"] == pytest.approx(0.75) and line["steps_per_second"] == pytest.approx(100.0)
    assert line["mean_staleness"] == pytest.approx((0 + 1 + 3 + 2) / 4)  # applied and dropped rows
    assert (line["applied"], line["dropped"], line["cancelled"], line["lost"]) == (3, 1, 1, 0)
    assert line["episodes"] == 4 and line["final_return"] == pytest.approx(45.0)


def test_staleness_histogram_counts_applied_and_dropped_per_tau(result):
    table = result.staleness_histogram()
    assert table.index.tolist() == [0, 1, 2, 3]  # every tau up to the largest, zeros included
    assert table["applied"].tolist() == [1, 1, 1, 0]
    assert table["dropped"].tolist() == [0, 0, 0, 1]


def test_throughput_per_worker(result):
    table = result.throughput()
    assert table.loc[0, "env_steps"] == 200 and table.loc[1, "env_steps"] == 200  # cancelled rows excluded
    assert table.loc[1, "busy_time"] == pytest.approx(2.8)
    assert table.loc[0, "steps_per_second"] == pytest.approx(200 / 4.0)
    assert table.loc[1, "busy_fraction"] == pytest.approx(2.8 / 4.0)
    assert table.loc[1, "mean_staleness"] == pytest.approx(2.0)


def test_return_curve_is_a_trailing_mean(result):
    xs, curve = result.return_curve("step", window=2)
    assert xs.tolist() == [50, 100, 250, 400]
    assert curve.tolist() == [10.0, 15.0, 25.0, 45.0]
    with pytest.raises(ValueError, match="x must be"):
        result.return_curve("episodes")


def test_plots_draw_the_tables(result):
    ax = plot_staleness(result)
    heights = [p.get_height() for p in ax.patches]
    assert heights == [1, 1, 1, 0, 0, 0, 0, 1]  # applied bars, then dropped bars stacked on them
    plt.close(ax.figure)

    ax = plot_worker_throughput(result)
    assert [p.get_height() for p in ax.patches] == pytest.approx([50.0, 50.0])
    plt.close(ax.figure)

    ax = plot_return_curves({"a": result, "b": result}, x="wall_time", window=2, target=50)
    lines = ax.get_lines()
    assert lines[0].get_xdata().tolist() == [0.5, 1.0, 2.0, 3.0]
    assert lines[0].get_ydata().tolist() == [10.0, 15.0, 25.0, 45.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "target 50"]
    plt.close(ax.figure)

    ax = plot_return_curves([result, result])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["async, 2 workers", "async, 2 workers'"]
    plt.close(ax.figure)

    ax = plot_task_timeline(result)
    bars = [p for p in ax.patches if p.get_facecolor()[3] > 0]  # filled bars, not the delay hatching
    assert len(bars) == 5
    first = bars[0]
    assert first.get_x() == pytest.approx(0.2) and first.get_width() == pytest.approx(0.8)
    plt.close(ax.figure)


def test_plots_reject_other_objects():
    with pytest.raises(TypeError, match="DistributedResult"):
        plot_staleness({"rows": []})
    with pytest.raises(ValueError, match="x must be one of"):
        plot_return_curves([], x="time")
    with pytest.raises(ValueError, match="empty"):
        plot_return_curves([])
