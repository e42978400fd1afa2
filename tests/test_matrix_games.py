"""Matrix games: exact equilibria against hand-solved values, independent Q-learners, learning dynamics."""

from fractions import Fraction as F

import numpy as np
import pytest

from drlkit.envs.matrix_games import GAMES, MatrixGame
from drlkit.multiagent import (
    fictitious_play,
    gradient_ascent,
    independent_q_learning,
    is_nash,
    nash_equilibria,
    project_simplex,
)


def strategies(game):
    return {(eq.row, eq.column) for eq in nash_equilibria(game)}


def test_prisoners_dilemma_has_only_mutual_defection():
    # Defect strictly dominates: 5 > 3 and 1 > 0.
    assert strategies("prisoners_dilemma") == {((0, 1), (0, 1))}
    assert nash_equilibria("prisoners_dilemma")[0].row_payoff == 1


def test_stag_hunt_two_pure_and_one_mixed():
    # Mixed: the other hunts stag with q so that 4q = 3q + 3(1-q)  ->  q = 3/4.
    assert strategies("stag_hunt") == {((1, 0), (1, 0)), ((0, 1), (0, 1)), ((F(3, 4), F(1, 4)), (F(3, 4), F(1, 4)))}


def test_coordination_mixed_equilibrium_is_one_third():
    # 2p = 1(1-p)  ->  p = 1/3, payoff 2/3.
    eqs = nash_equilibria("coordination")
    mixed = [eq for eq in eqs if not eq.is_pure]
    assert len(eqs) == 3 and len(mixed) == 1
    assert mixed[0].row == (F(1, 3), F(2, 3)) and mixed[0].row_payoff == F(2, 3)


@pytest.mark.parametrize("game, k", [("matching_pennies", 2), ("rock_paper_scissors", 3)])
def test_zero_sum_games_have_only_the_uniform_equilibrium_with_value_zero(game, k):
    (eq,) = nash_equilibria(game)
    assert eq.row == eq.column == (F(1, k),) * k
    assert eq.row_payoff == eq.column_payoff == 0


def test_asymmetric_3x3_game_against_hand_solution():
    # Row payoffs of a shifted RPS where winning with rock pays 2: column mixes to make the
    # row player indifferent: -y_p + 2 y_s = y_r - y_s = -y_r + y_p  ->  y = (1/3, 5/12, 1/4);
    # the row player makes the column player indifferent: x_s - x_p = x_r - x_s = x_p - 2 x_r
    # ->  x = (1/4, 5/12, 1/3).
    A = np.array([[0, -1, 2], [1, 0, -1], [-1, 1, 0]])
    (eq,) = nash_equilibria(MatrixGame("rps2", A, -A, ("r", "p", "s")))
    assert eq.column == (F(1, 3), F(5, 12), F(1, 4))
    assert eq.row == (F(1, 4), F(5, 12), F(1, 3))
    assert is_nash(MatrixGame("rps2", A, -A, ("r", "p", "s")), *eq.as_arrays())


@pytest.mark.parametrize("name", list(GAMES))
def test_every_equilibrium_passes_the_independent_deviation_check(name):
    for eq in nash_equilibria(name):
        assert is_nash(name, *eq.as_arrays())
    assert not is_nash("prisoners_dilemma", np.array([1.0, 0.0]), np.array([1.0, 0.0]))


def test_bad_games_and_sizes_are_refused():
    with pytest.raises(ValueError, match="same shape"):
        MatrixGame("bad", [[1, 2]], [[1], [2]], ("a",))
    with pytest.raises(ValueError, match="game must be"):
        nash_equilibria("chess")
    big = MatrixGame("big", np.eye(6), np.eye(6), tuple("abcdef"))
    with pytest.raises(ValueError, match="up to 5x5"):
        nash_equilibria(big)


def test_independent_q_learners_defect_in_the_prisoners_dilemma():
    result = independent_q_learning("prisoners_dilemma", steps=1500, runs=100, alpha=0.1, epsilon=0.1, seed=0)
    freq = result.outcome_frequencies()
    assert freq[1, 1] >= 0.95, freq
    # In the last rounds the (exploring) learners mostly defect.
    assert (result.actions[-200:] == 1).mean() > 0.85


def test_independent_q_learners_coordinate_in_the_coordination_game():
    result = independent_q_learning("coordination", steps=1500, runs=100, alpha=0.1, epsilon=0.1, seed=1)
    final = result.final_greedy()
    assert (final[:, 0] == final[:, 1]).mean() >= 0.95
    freq = result.outcome_frequencies()
    assert freq[0, 0] > 0.2 and freq[1, 1] > 0.2  # both conventions occur across runs


def test_q_learning_runs_are_reproducible_and_seed_dependent():
    a = independent_q_learning("stag_hunt", steps=200, runs=20, seed=3)
    b = independent_q_learning("stag_hunt", steps=200, runs=20, seed=3)
    c = independent_q_learning("stag_hunt", steps=200, runs=20, seed=4)
    np.testing.assert_array_equal(a.actions, b.actions)
    assert not np.array_equal(a.actions, c.actions)


def test_q_learning_update_matches_a_hand_computation():
    # epsilon = 0 and q_init = 0: ties broken at random on step 0; afterwards the update is exact.
    result = independent_q_learning("coordination", steps=1, runs=1, alpha=0.5, epsilon=0.0, seed=0)
    i, j = result.actions[0, 0]
    expected = 0.5 * GAMES["coordination"].A[i, j]
    assert result.Q[0, 0, i] == pytest.approx(expected) and result.Q[0, 1, j] == pytest.approx(expected)


@pytest.mark.parametrize(
    "kwargs, field",
    [({"alpha": 0}, "alpha"), ({"epsilon": 2}, "epsilon"), ({"runs": 0}, "runs"), ({"steps": 1.5}, "steps")],
)
def test_q_learning_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises((TypeError, ValueError), match=field):
        independent_q_learning("coordination", **kwargs)


def test_fictitious_play_frequencies_converge_to_the_equilibrium_in_zero_sum_games():
    freq = fictitious_play("rock_paper_scissors", steps=3000)
    assert np.abs(freq[-1] - 1 / 3).max() < 0.03
    assert np.abs(freq[50] - 1 / 3).max() > np.abs(freq[-1] - 1 / 3).max()
    pennies = fictitious_play("matching_pennies", steps=3000)
    assert np.abs(pennies[-1] - 0.5).max() < 0.03


def test_gradient_ascent_converges_in_the_dilemma_and_cycles_in_matching_pennies():
    pd = gradient_ascent("prisoners_dilemma", steps=100, lr=0.1)
    np.testing.assert_allclose(pd[-1], [[0, 1], [0, 1]])
    mp = gradient_ascent("matching_pennies", steps=400, lr=0.05)
    distance = np.abs(mp[:, 0, 0] - 0.5) + np.abs(mp[:, 1, 0] - 0.5)
    # It never settles at (1/2, 1/2): the distance to the equilibrium does not shrink...
    assert distance[-100:].min() > distance[0] * 0.9
    # ...and the row player's strategy goes round: it crosses 1/2 several times.
    crossings = np.sum(np.diff(np.sign(mp[:, 0, 0] - 0.5)) != 0)
    assert crossings >= 2


def test_simplex_projection_against_brute_force():
    rng = np.random.default_rng(0)
    grid = np.array(
        [[a, b, 1 - a - b] for a in np.linspace(0, 1, 101) for b in np.linspace(0, 1, 101) if a + b <= 1 + 1e-12]
    )
    for v in rng.normal(size=(5, 3)):
        p = project_simplex(v)
        assert p.min() >= 0 and p.sum() == pytest.approx(1)
        best = grid[np.argmin(((grid - v) ** 2).sum(1))]
        assert ((p - v) ** 2).sum() <= ((best - v) ** 2).sum() + 1e-12


def test_iql_update_moves_only_each_players_own_action_towards_its_own_reward():
    from drlkit.multiagent import iql_update

    Q = np.zeros((2, 2, 2))
    new = iql_update(Q, np.array([[0, 1], [1, 1]]), np.array([[4.0, -2.0], [1.0, 3.0]]), alpha=0.5)
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 0], expected[0, 1, 1], expected[1, 0, 1], expected[1, 1, 1] = 2.0, -1.0, 0.5, 1.5
    np.testing.assert_array_equal(new, expected)
    assert not Q.any()  # the input is left alone


def test_q_trace_and_the_payoffs_it_chases():
    result = independent_q_learning(
        "matching_pennies", steps=200, runs=10, alpha=0.2, epsilon=0.2, seed=0, trace_runs=2
    )
    assert result.Q_trace.shape == (201, 2, 2, 2)
    np.testing.assert_array_equal(result.Q_trace[-1], result.Q[:2])
    pi = result.policies()
    np.testing.assert_allclose(pi.sum(-1), 1.0)
    # With a unique greedy action the ε-greedy policy gives it 1 - ε + ε/2 = 0.9.
    assert set(np.round(pi[50:].ravel(), 6)) <= {0.1, 0.9, 0.5}
    # Against the column player's policy y, the row player's actions pay A y = (2 y_0 - 1, 1 - 2 y_0).
    payoffs = result.expected_payoffs()
    y0 = pi[:, :, 1, 0]
    np.testing.assert_allclose(payoffs[:, :, 0, 0], 2 * y0 - 1)
    np.testing.assert_allclose(payoffs[:, :, 0, 1], 1 - 2 * y0)
    # The moving target: the row player's best action flips many times (it never does in the dilemma).
    flips = (np.diff(np.argmax(payoffs[:, 0, 0], axis=1)) != 0).sum()
    assert flips >= 5
    pd = independent_q_learning("prisoners_dilemma", steps=200, runs=5, seed=0).expected_payoffs()
    assert (pd[:, 0, 0, 1] > pd[:, 0, 0, 0]).all()  # defect pays more whatever the other plays
    with pytest.raises(ValueError, match="trace_runs"):
        independent_q_learning("coordination", steps=5, runs=3, trace_runs=4)


def test_action_frequencies_of_single_runs():
    result = independent_q_learning("coordination", steps=50, runs=4, seed=0)
    one = result.action_frequencies(window=1, runs=[2])
    np.testing.assert_array_equal(one[:, 0, 1], result.actions[:, 2, 0] == 1)
    np.testing.assert_allclose(result.action_frequencies(window=1, runs=[0, 1, 2, 3]), result.action_frequencies(1))
    with pytest.raises(ValueError, match="runs"):
        result.action_frequencies(runs=[4])
