"""Plots of notebook 11 draw what they are given (checked on the drawn artists)."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from drlkit.distributed import DistributedResult
from drlkit.distributed.mixing import mixing_matrix
from drlkit.plotting.beyond import (
    bytes_curve,
    plot_consensus,
    plot_consensus_rates,
    plot_grid,
    plot_mixing_matrix,
    plot_per_task,
    plot_return_vs_bytes,
)


def _result(mode="gossip"):
    result = DistributedResult(agent=None, mode=mode, n_workers=2, options={}, metric_keys=())
    for k, wall in enumerate([1.0, 2.0, 3.0]):
        result.rows.append({"wall_time": wall, "bytes_sent": 100, "bytes_received": 50 * (k + 1)})
        result.episodes.append({"wall_time": wall, "step": 10 * (k + 1), "episode_return": float(k)})
        result.consensus.append({"round": k, "wall_time": wall, "step": 10 * k, "consensus_distance": 10.0**-k})
    return result


def test_bytes_curve_counts_what_moved_until_each_episode():
    xs, curve = bytes_curve(_result(), window=1)
    assert xs.tolist() == [150, 350, 600] and curve.tolist() == [0.0, 1.0, 2.0]


def test_plots_draw_their_data():
    ax = plot_return_vs_bytes({"ring": _result()}, window=1)
    assert ax.lines[0].get_xdata().tolist() == [150, 350, 600] and ax.get_xscale() == "log"
    ax = plot_consensus({"ring": _result(), "central": _result("sync")})
    assert ax.lines[0].get_ydata().tolist() == [1.0, 0.1, 0.01]
    ax = plot_consensus_rates([0.2, 1.0], [0.64, 0.0], ["ring", "complete"])
    assert ax.collections[0].get_offsets().tolist() == [[0.2, 0.64], [1.0, 0.0]]
    ax = plot_mixing_matrix(mixing_matrix("ring", 4))
    np.testing.assert_allclose(ax.images[0].get_array(), mixing_matrix("ring", 4))
    ax = plot_grid([[1, 2], [3, 4]], ["K=1", "K=4"], ["same", "varied"])
    assert [t.get_text() for t in ax.texts] == ["1", "2", "3", "4"]
    ax = plot_per_task({"shared": [1, 2], "separate": [3, 4]}, ["short", "long"])
    assert [p.get_height() for p in ax.patches] == [1, 2, 3, 4]


def test_plots_reject_mismatched_input():
    with pytest.raises(ValueError, match="expected \\(2, 2\\)"):
        plot_grid([[1, 2]], ["a", "b"], ["c", "d"])
    with pytest.raises(ValueError, match="2 values for 3 tasks"):
        plot_per_task({"shared": [1, 2]}, ["a", "b", "c"])
    with pytest.raises(TypeError, match="dict"):
        plot_consensus([])
