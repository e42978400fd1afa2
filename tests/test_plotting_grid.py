"""Grid plots and the gridworld widget: the artists they draw, not their pixels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402

from drlkit import MDP  # noqa: E402
from drlkit.envs import cliff_walking, frozen_lake, gridworld  # noqa: E402
from drlkit.planning import policy_evaluation, policy_iteration, value_iteration  # noqa: E402
from drlkit.plotting import plot_convergence, plot_values  # noqa: E402
from drlkit.widgets import explore_gridworld  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def arrows(ax):
    quivers = [c for c in ax.collections if isinstance(c, Quiver)]
    assert len(quivers) <= 1
    return quivers[0] if quivers else None


def painted(ax, kind):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == kind]


def test_deterministic_policy_draws_one_arrow_per_acting_state():
    mdp = frozen_lake("4x4")
    result = value_iteration(mdp, 0.9)
    ax = plot_values(mdp, result.V, result.policy, title="FrozenLake")
    quiver = arrows(ax)
    assert quiver.N == int((~mdp.terminal).sum()) == 11
    # Arrows point the way of the chosen action: state 0 goes LEFT, (-1, 0) in (col, row) terms.
    assert result.policy[0] == 0
    assert quiver.U[0] < 0 and quiver.V[0] == 0
    assert len(painted(ax, "hole")) == 4 and len(painted(ax, "goal")) == 1
    assert ax.get_title() == "FrozenLake"


def test_heat_map_holds_the_values_row_by_row():
    mdp = frozen_lake("4x4")
    V = np.arange(16, dtype=float)
    ax = plot_values(mdp, V, colorbar=False)
    image = ax.images[0].get_array()
    assert image.shape == (4, 4)
    assert image[1, 2] == 6.0  # state 6 is row 1, column 2
    assert image.mask[1, 1] and image.mask[3, 3]  # hole and goal are painted over, not coloured
    assert arrows(ax) is None


def test_stochastic_policy_arrows_scale_with_probability():
    mdp = gridworld(["S..", ".#G"])
    policy = np.tile([0.5, 0.5, 0.0, 0.0], (6, 1))  # LEFT or DOWN, never RIGHT or UP
    ax = plot_values(mdp, np.zeros(6), policy)
    quiver = arrows(ax)
    acting = 4  # S and the three free cells; the wall and the goal get no arrows
    assert quiver.N == 2 * acting
    lengths = np.hypot(quiver.U, quiver.V)
    np.testing.assert_allclose(lengths, lengths[0])
    uneven = np.tile([0.9, 0.1, 0.0, 0.0], (6, 1))
    quiver = arrows(plot_values(mdp, np.zeros(6), uneven))
    lengths = np.hypot(quiver.U, quiver.V)
    assert lengths.max() == pytest.approx(9 * lengths.min())


def test_cliff_cells_and_walls_are_marked_and_get_no_arrows():
    mdp = cliff_walking()
    result = value_iteration(mdp, 1.0)
    ax = plot_values(mdp, result.V, result.policy)
    assert len(painted(ax, "cliff")) == 10
    assert arrows(ax).N == 48 - 10 - 1
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("C") == 10 and "G" in texts and "S" in texts
    assert "-13" in texts  # the start's optimal undiscounted return, written in its cell


def test_plot_values_draws_on_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    mdp = frozen_lake("4x4")
    assert plot_values(mdp, np.zeros(16), ax=right) is right
    assert not left.images and right.images


def test_plot_convergence_shows_deltas_on_a_log_scale():
    mdp = frozen_lake("4x4")
    result = value_iteration(mdp, 0.9, tol=1e-6)
    ax = plot_convergence(result)
    assert ax.get_yscale() == "log"
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_ydata(), result.deltas)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, result.iterations + 1))
    assert any(line.get_label() == "tol" for line in ax.lines)


def test_plot_convergence_for_policy_iteration_labels_policy_changes():
    result = policy_iteration(frozen_lake("4x4"), 0.9)
    ax = plot_convergence(result)
    labels = [t.get_text() for t in ax.texts]
    moved = result.deltas > 0
    assert labels == [str(c) for c in result.policy_changes[moved]]


def test_several_runs_share_one_axes():
    mdp = frozen_lake("4x4")
    ax = plot_convergence(value_iteration(mdp, 0.5), label="γ=0.5")
    plot_convergence(policy_evaluation(mdp, np.zeros(16, int), 0.9), ax=ax, label="π=LEFT")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "γ=0.5" in legend and "π=LEFT" in legend


def test_plot_errors_name_the_argument():
    mdp = frozen_lake("4x4")
    with pytest.raises(ValueError, match=r"V must have shape \(16,\)"):
        plot_values(mdp, np.zeros(15))
    with pytest.raises(ValueError, match="policy"):
        plot_values(mdp, np.zeros(16), policy=np.zeros(3, int))
    without_layout = MDP(P=mdp.P, R=mdp.R, terminal=mdp.terminal)
    with pytest.raises(ValueError, match="grid layout"):
        plot_values(without_layout, np.zeros(16))
    with pytest.raises(TypeError, match="result must be a PlanningResult"):
        plot_convergence(np.zeros(3))


def test_widget_recomputes_values_when_sliders_move():
    explorer = explore_gridworld("4x4", gamma=0.9)
    sliders = {w.description: w for w in explorer.children[0].children}
    assert set(sliders) == {"gamma", "slip"}
    assert sliders["slip"].value == pytest.approx(2 / 3)
    np.testing.assert_allclose(explorer.result.V, value_iteration(frozen_lake("4x4"), 0.9).V)

    sliders["gamma"].value = 0.5
    assert explorer.result.gamma == 0.5
    np.testing.assert_allclose(explorer.result.V, value_iteration(frozen_lake("4x4"), 0.5).V)
    sliders["slip"].value = 0.0
    # Without slipping the goal is certain: the start is worth gamma^5 (six moves, reward on the last).
    assert explorer.result.V[0] == pytest.approx(0.5**5)


def test_widget_accepts_maps_and_reports_bad_choices():
    explorer = explore_gridworld(["S..", "..G"], gamma=0.9, step_reward=-0.1)
    assert explorer.mdp.layout == (2, 3)
    assert explorer.result.V[0] == pytest.approx(-0.1 - 0.9 * 0.1 + 0.81)
    with pytest.raises(ValueError, match="world must be one of '4x4', '8x8', 'cliff'"):
        explore_gridworld("9x9")
    with pytest.raises(ValueError, match="gamma"):
        explore_gridworld("4x4", gamma=2.0)
    with pytest.raises(ValueError, match="unknown character"):
        explore_gridworld(["S.Q", "..G"])
