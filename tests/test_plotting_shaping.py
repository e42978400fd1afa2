import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from drlkit.envs.gridworld import gridworld  # noqa: E402
from drlkit.planning import value_iteration  # noqa: E402
from drlkit.plotting.shaping import plot_action_distributions, plot_policies  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_policies_are_drawn_side_by_side_with_their_titles():
    mdp = gridworld(["S..", "..G"])
    plan = value_iteration(mdp, 0.9)
    fig = plot_policies(mdp, {"plain": (plan.V, plan.policy), "shaped": (plan.V - 1, plan.policy)})
    assert [ax.get_title() for ax in fig.axes] == ["plain", "shaped"]
    with pytest.raises(TypeError, match="panels"):
        plot_policies(mdp, {})


def test_action_distributions_are_grouped_bars():
    ax = plot_action_distributions({"a": [0.5, 0.5], "b": [0.9, 0.1]}, action_names=["L", "R"])
    assert np.allclose([p.get_height() for p in ax.patches], [0.5, 0.5, 0.9, 0.1])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["L", "R"]
    with pytest.raises(ValueError, match="summing to 1"):
        plot_action_distributions({"a": [0.5, 0.6]})
