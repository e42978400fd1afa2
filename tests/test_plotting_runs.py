"""Learning curves of saved runs: resampling onto a shared grid, and the drawn mean ± band."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from drlkit.plotting.curves import plot_learning_curves
from drlkit.plotting.runs import plot_runs, resample_returns


def _history(steps, returns):
    rows = [
        {"event": "episode", "step": s, "wall_time": s / 100, "episode_return": r, "episode_length": 1}
        for s, r in zip(steps, returns)
    ]
    rows.insert(
        1, {"event": "update", "step": steps[0], "wall_time": 0.0, "episode_return": np.nan, "episode_length": -1}
    )
    return pd.DataFrame(rows)


def test_resample_takes_the_last_finished_episode_and_stops_at_the_shortest_run():
    a = _history([10, 20, 30, 40], [1.0, 2.0, 3.0, 4.0])
    b = _history([15, 25], [10.0, 20.0])
    grid, curves = resample_returns([a, b], points=4)
    np.testing.assert_allclose(grid, [10, 15, 20, 25])  # up to run b's last episode
    # Hand-worked: run a at 10,15,20,25 -> 1,1,2,2; run b -> (first episode) 10, 10, 10, 20.
    np.testing.assert_allclose(curves, [[1, 1, 2, 2], [10, 10, 10, 20]])


def test_resample_names_a_run_without_episodes():
    empty = pd.DataFrame(columns=["event", "step", "wall_time", "episode_return", "episode_length"])
    with pytest.raises(ValueError, match="run 1 has no finished episode"):
        resample_returns([_history([1, 2], [0, 1]), empty])
    with pytest.raises(ValueError, match="column 'step'"):
        resample_returns([pd.DataFrame({"event": ["episode"]})])


def test_plot_runs_draws_the_mean_and_band_at_the_step_positions():
    runs = [_history([10, 20, 30, 40], [1.0, 2.0, 3.0, 4.0]), _history([10, 20, 30, 40], [3.0, 4.0, 5.0, 6.0])]
    ax = plot_runs({"PPO": runs}, points=4, band="minmax")
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_xdata(), [10, 20, 30, 40])
    np.testing.assert_allclose(line.get_ydata(), [2, 3, 4, 5])
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(1.0) and band[:, 1].max() == pytest.approx(6.0)
    assert ax.get_legend().get_texts()[0].get_text() == "PPO (2 runs)"
    assert ax.get_xlabel() == "environment steps"


def test_plot_learning_curves_x_must_match_the_curve_length():
    with pytest.raises(ValueError, match="x has shape"):
        plot_learning_curves({"a": np.ones((2, 5))}, x=np.arange(4))
