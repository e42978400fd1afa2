"""Figures of notebook 09 draw what the multi-agent package computes (checked against those numbers)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from drlkit.agents.history import History  # noqa: E402
from drlkit.multiagent import fictitious_play, gradient_ascent, independent_q_learning, nash_equilibria  # noqa: E402
from drlkit.plotting.multiagent import (  # noqa: E402
    plot_agent_scaling,
    plot_moving_targets,
    plot_outcome_frequencies,
    plot_outcomes,
    plot_play_frequencies,
    plot_policy_paths,
    plot_team_curves,
    plot_trajectories,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def dilemma():
    return independent_q_learning("prisoners_dilemma", steps=300, runs=20, seed=0, trace_runs=2)


def test_outcome_table_shows_the_frequencies_and_frames_only_the_pure_equilibria(dilemma):
    ax = plot_outcome_frequencies(dilemma, nash_equilibria("prisoners_dilemma"))
    np.testing.assert_allclose(ax.images[0].get_array(), dilemma.outcome_frequencies())
    texts = [t.get_text() for t in ax.texts]
    assert texts[3] == f"1, 1\n{dilemma.outcome_frequencies()[1, 1]:.0%}"  # (defect, defect): payoffs and share
    frames = [p for p in ax.patches]
    assert len(frames) == 1 and frames[0].get_xy() == (0.5, 0.5)  # the (defect, defect) cell
    stag = independent_q_learning("stag_hunt", steps=50, runs=5, seed=0)
    ax = plot_outcome_frequencies(stag, nash_equilibria("stag_hunt"))
    assert len(ax.patches) == 2 and "3/4" in ax.get_xlabel()  # two pure equilibria framed, the mixed one named


def test_outcomes_need_the_equilibria_of_every_game(dilemma):
    fig = plot_outcomes({"prisoners_dilemma": dilemma}, {"prisoners_dilemma": nash_equilibria("prisoners_dilemma")})
    assert len(fig.axes) == 1
    with pytest.raises(KeyError, match="prisoners_dilemma"):
        plot_outcomes({"prisoners_dilemma": dilemma}, {})
    with pytest.raises(TypeError, match="results"):
        plot_outcomes({}, {})


def test_moving_targets_draw_the_q_trace_and_the_expected_payoffs(dilemma):
    fig = plot_moving_targets({"pd": dilemma}, player=1, run=1, rounds=100)
    lines = fig.axes[0].lines
    assert len(lines) == 4  # Q and its target for each of the two actions
    np.testing.assert_allclose(lines[0].get_ydata(), dilemma.Q_trace[1:101, 1, 1, 0])
    np.testing.assert_allclose(lines[1].get_ydata(), dilemma.expected_payoffs()[:100, 1, 1, 0])
    with pytest.raises(ValueError, match="traced runs"):
        plot_moving_targets({"pd": dilemma}, run=5)


def test_policy_paths_in_the_square_and_in_the_triangle():
    path = gradient_ascent("matching_pennies", steps=40, lr=0.05)
    ax = plot_policy_paths("matching_pennies", {"ga": path}, nash_equilibria("matching_pennies"))
    x, y = ax.lines[0].get_data()
    np.testing.assert_allclose(x, path[:, 0, 0])
    np.testing.assert_allclose(y, path[:, 1, 0])
    stars = [line for line in ax.lines if line.get_marker() == "*"]
    assert len(stars) == 1 and stars[0].get_data() == ([0.5], [0.5])  # the mixed equilibrium
    rps = fictitious_play("rock_paper_scissors", steps=30)
    ax = plot_policy_paths("rock_paper_scissors", {"fp": rps}, nash_equilibria("rock_paper_scissors"))
    (star,) = [line.get_xydata()[0] for line in ax.lines if line.get_marker() == "*"]
    np.testing.assert_allclose(star, [0.5, np.sqrt(3) / 6])  # the centroid of the triangle
    with pytest.raises(ValueError, match=r"shape \(T, 2, 2\)"):
        plot_policy_paths("matching_pennies", {"bad": np.zeros((5, 3))})


def test_play_frequencies_are_the_smoothed_actions(dilemma):
    ax = plot_play_frequencies(dilemma, window=10, runs=1)
    single, mean = ax.lines[0].get_ydata(), ax.lines[2].get_ydata()
    np.testing.assert_allclose(single, dilemma.action_frequencies(10, runs=[0])[:, 0, 0])
    np.testing.assert_allclose(mean, dilemma.action_frequencies(10)[:, 0, 0])
    with pytest.raises(ValueError, match="runs"):
        plot_play_frequencies(dilemma, runs=21)


def _history(returns, steps):
    h = History(("loss",))
    for r, s in zip(returns, steps):
        h.log_episode(s, 0.0, r, 10)
    return h


def test_team_curves_and_reference_lines():
    steps = np.array([10, 20])
    ax = plot_team_curves({"MAPPO": np.array([[1.0, 3.0], [3.0, 5.0]])}, steps, reference={"random team": 0.5})
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [2.0, 4.0])
    assert ax.lines[-1].get_ydata()[0] == 0.5
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["MAPPO (2 runs)", "random team"]
    with pytest.raises(ValueError, match="points"):
        plot_team_curves({"MAPPO": np.zeros((2, 3))}, steps)


def test_agent_scaling_points_are_seed_means():
    ax = plot_agent_scaling([2, 3], {"shared": [[1.0, 3.0], [0.5, 0.5]]}, [0.2, 0.3])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [2.0, 0.5])
    with pytest.raises(ValueError, match="one value per entry"):
        plot_agent_scaling([2, 3], {"shared": [[1.0], [2.0]]}, [0.2])


def test_trajectories_on_a_grid_mark_covered_targets():
    positions = np.array([[[0, 0], [3, 3]], [[0, 1], [3, 2]], [[1, 1], [3, 2]]])
    targets = np.array([[1, 1], [0, 3]])
    ax = plot_trajectories(positions, targets, size=4)
    x, y = ax.lines[0].get_data()
    np.testing.assert_allclose(x + 0.04, positions[:, 0, 1])  # x is the column (agents slightly offset)
    np.testing.assert_allclose(y + 0.04, positions[:, 0, 0])
    open_targets, reached = ax.collections
    np.testing.assert_allclose(reached.get_offsets(), [[1, 1]])
    np.testing.assert_allclose(open_targets.get_offsets(), [[3, 0]])
    with pytest.raises(ValueError, match=r"\(T\+1, K, 2\)"):
        plot_trajectories(np.zeros((3, 2)), targets)
