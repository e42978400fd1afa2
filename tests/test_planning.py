"""Planning against independent answers: hand-solved MDPs, exact linear solves, random policies."""

import numpy as np
import pytest

from drlkit import MDP
from drlkit.envs import cliff_walking, frozen_lake, gridworld
from drlkit.planning import (
    ConvergenceError,
    PlanningResult,
    bellman_expectation_backup,
    greedy_policy,
    policy_evaluation,
    policy_iteration,
    q_values,
    value_iteration,
)


def exact_values(mdp: MDP, policy, gamma: float) -> np.ndarray:
    """V^pi from the linear system (I - gamma P_pi) V = r_pi.

    Solved on the states that can hold value: terminal states and cells that only
    loop on themselves with reward 0 (walls, cliff cells) are worth 0.
    """
    pi = np.eye(mdp.n_actions)[policy] if np.ndim(policy) == 1 else np.asarray(policy, float)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    r_pi = np.einsum("sa,sa->s", pi, mdp.R)
    dead = np.array([(mdp.P[s, :, s] == 1).all() and (mdp.R[s] == 0).all() for s in range(mdp.n_states)])
    live = ~mdp.terminal & ~dead
    V = np.zeros(mdp.n_states)
    A = np.eye(live.sum()) - gamma * P_pi[np.ix_(live, live)]
    V[live] = np.linalg.solve(A, r_pi[live])
    return V


def chain() -> MDP:
    """Two states and a terminal one: s0 --stay(+1)--> s0, s0 --go(0)--> s1 --go(+10)--> end.

    Action 0 = "stay" (s1 stays too, reward 0), action 1 = "go".
    Hand solution: V*(s1) = 10; V*(s0) = max(1 / (1 - g), 10 g) -- staying forever is
    worth 1 + g + g^2 + ... = 1 / (1 - g), going is worth 0 + g * 10.
    """
    P = np.zeros((3, 2, 3))
    R = np.zeros((3, 2))
    P[0, 0, 0] = 1.0
    R[0, 0] = 1.0
    P[0, 1, 1] = 1.0
    P[1, 0, 1] = 1.0
    P[1, 1, 2] = 1.0
    R[1, 1] = 10.0
    P[2, :, 2] = 1.0
    return MDP(P=P, R=R, terminal=[2], start=0)


@pytest.mark.parametrize("gamma, stay_is_better", [(0.5, False), (0.8, False), (0.95, True)])
def test_value_iteration_matches_hand_solved_chain(gamma, stay_is_better):
    result = value_iteration(chain(), gamma, tol=1e-12)
    expected_s0 = max(1 / (1 - gamma), 10 * gamma)
    assert result.V[1] == pytest.approx(10.0)
    assert result.V[2] == 0.0
    assert result.V[0] == pytest.approx(expected_s0, abs=1e-9)
    assert result.policy[0] == (0 if stay_is_better else 1)
    assert result.policy[1] == 1


def test_value_iteration_on_deterministic_corridor_counts_discounted_steps():
    # S . . G with goal reward 1: V*(cell k steps from G) = gamma^(k-1).
    gamma = 0.9
    result = value_iteration(gridworld(["S..G"]), gamma)
    np.testing.assert_allclose(result.V, [gamma**2, gamma, 1.0, 0.0], atol=1e-9)
    assert (result.policy[:3] == 2).all()  # RIGHT


def test_value_iteration_stops_exactly_at_tolerance_and_records_history():
    mdp = frozen_lake("4x4")
    result = value_iteration(mdp, 0.9, tol=1e-6)
    assert result.history.shape == (result.iterations + 1, mdp.n_states)
    np.testing.assert_array_equal(result.history[0], 0.0)
    np.testing.assert_allclose(result.deltas, np.abs(np.diff(result.history, axis=0)).max(axis=1))
    assert result.deltas[-1] < 1e-6 <= result.deltas[-2]
    # Each sweep is a gamma-contraction: changes shrink at least by gamma once rewards are propagated.
    assert (result.deltas[1:] <= 0.9 * result.deltas[:-1] + 1e-12).all()
    frame = result.to_frame()
    assert list(frame.columns) == ["max_delta"] and len(frame) == result.iterations


@pytest.mark.parametrize("make", [lambda: frozen_lake("4x4"), lambda: frozen_lake("8x8", slip=0.2), cliff_walking])
@pytest.mark.parametrize("gamma", [0.0, 0.7, 0.95])
def test_policy_evaluation_matches_linear_solve(make, gamma):
    mdp = make()
    rng = np.random.default_rng(1)
    deterministic = rng.integers(0, 4, mdp.n_states)
    stochastic = rng.dirichlet(np.ones(4), mdp.n_states)
    for policy in (deterministic, stochastic):
        result = policy_evaluation(mdp, policy, gamma, tol=1e-11)
        np.testing.assert_allclose(result.V, exact_values(mdp, policy, gamma), atol=1e-8)
        assert (result.V[mdp.terminal] == 0).all()


def safest_cliff_path() -> np.ndarray:
    """Cliff walking: 3 up, 11 right along the top row, 3 down; it reaches the goal from everywhere."""
    policy = np.full(48, 2)  # RIGHT
    policy[12::12] = 3  # UP along the first column, below the top-left corner
    policy[11::12] = 1  # DOWN along the last column
    return policy


def test_policy_evaluation_with_gamma_one_on_a_proper_policy():
    mdp = cliff_walking()
    result = policy_evaluation(mdp, safest_cliff_path(), gamma=1.0)
    assert result.V[36] == pytest.approx(-(3 + 11 + 3))
    np.testing.assert_allclose(result.V, exact_values(mdp, safest_cliff_path(), 1.0), atol=1e-9)


def test_policy_iteration_with_gamma_one_from_a_proper_policy():
    # Undiscounted, the optimal route walks right next to the cliff: 1 up, 11 right, 1 down.
    result = policy_iteration(cliff_walking(), gamma=1.0, initial_policy=safest_cliff_path())
    assert result.V[36] == pytest.approx(-13)
    assert result.policy_changes[0] > 0


def test_q_values_and_greedy_policy_from_their_definition():
    mdp = frozen_lake("4x4")
    V = np.random.default_rng(2).random(16)
    Q = q_values(mdp, V, 0.9)
    V0 = np.where(mdp.terminal, 0, V)
    for s in (0, 6, 14):
        for a in range(4):
            assert Q[s, a] == pytest.approx(mdp.R[s, a] + 0.9 * mdp.P[s, a] @ V0)
    np.testing.assert_array_equal(greedy_policy(mdp, V, 0.9), Q.argmax(axis=1))
    policy = np.zeros(16, dtype=int)
    np.testing.assert_allclose(bellman_expectation_backup(mdp, V, policy, 0.9), Q[:, 0])


@pytest.mark.parametrize(
    "make, gamma",
    [
        (lambda: frozen_lake("4x4"), 0.9),
        (lambda: frozen_lake("8x8"), 0.99),
        (lambda: frozen_lake("8x8", slip=0.1), 0.95),
        (lambda: cliff_walking(), 0.9),
        (lambda: cliff_walking(slip=0.2), 0.95),
        (lambda: gridworld(["S..#.", ".#...", "...HG"], slip=0.3, step_reward=-0.04), 0.99),
    ],
)
def test_policy_iteration_agrees_with_value_iteration(make, gamma):
    mdp = make()
    vi = value_iteration(mdp, gamma, tol=1e-12, max_iterations=100_000)
    pi = policy_iteration(mdp, gamma, tol=1e-12)
    np.testing.assert_allclose(pi.V, vi.V, atol=1e-8)
    # Both policies are optimal: their exact values equal V* (ties may pick different actions).
    for policy in (vi.policy, pi.policy):
        np.testing.assert_allclose(exact_values(mdp, policy, gamma), vi.V, atol=1e-7)
    assert pi.policy_changes[-1] == 0 and (pi.policy_changes[:-1] > 0).all()
    # Policy improvement theorem: each policy is at least as good as the previous one everywhere.
    assert (np.diff(pi.history[1:], axis=0) >= -1e-9).all()
    assert set(pi.to_frame().columns) == {"max_delta", "policy_changes", "evaluation_sweeps"}


@pytest.mark.parametrize("map_name, gamma", [("4x4", 0.99), ("8x8", 0.95)])
def test_frozen_lake_optimal_policy_beats_random_policies(map_name, gamma):
    mdp = frozen_lake(map_name)
    optimal = value_iteration(mdp, gamma)
    V_opt = exact_values(mdp, optimal.policy, gamma)
    rng = np.random.default_rng(3)
    for _ in range(200):
        V_other = exact_values(mdp, rng.integers(0, 4, mdp.n_states), gamma)
        assert (V_opt >= V_other - 1e-9).all()
    # Bellman optimality: no single action beats the greedy one anywhere.
    Q = q_values(mdp, V_opt, gamma)
    np.testing.assert_allclose(Q.max(axis=1)[~mdp.terminal], V_opt[~mdp.terminal], atol=1e-9)
    # Facts about FrozenLake that follow from the map: slipping makes the goal uncertain,
    # yet the start state has positive value; holes and the goal are worth 0.
    assert 0 < V_opt[0] < 1
    assert (V_opt[mdp.terminal] == 0).all()


def test_cliff_walking_optimal_path_hugs_the_cliff():
    # Undiscounted: the shortest safe route (up, 11 right, down) costs 13.
    result = value_iteration(cliff_walking(), gamma=1.0)
    assert result.V[36] == pytest.approx(-13)
    assert result.policy[36] == 3  # UP from the start
    assert (result.policy[24:35] == 2).all()  # then RIGHT along the row just above the cliff


def test_gamma_one_without_termination_raises_convergence_error():
    mdp = cliff_walking()
    always_left = np.zeros(48, dtype=int)
    with pytest.raises(ConvergenceError, match="gamma=1.*never reaches a terminal state"):
        policy_evaluation(mdp, always_left, gamma=1.0, max_iterations=500)
    with pytest.raises(ConvergenceError, match="initial_policy"):
        policy_iteration(mdp, gamma=1.0, max_evaluation_sweeps=500)
    with pytest.raises(ConvergenceError, match="max_iterations=3"):
        value_iteration(frozen_lake(), 0.9, max_iterations=3)


def test_result_type_and_terminal_rows():
    mdp = frozen_lake("4x4")
    result = value_iteration(mdp, 0.9)
    assert isinstance(result, PlanningResult)
    assert result.V.shape == (16,) and result.Q.shape == (16, 4) and result.policy.shape == (16,)
    assert (result.Q[mdp.terminal] == 0).all()
    assert "value_iteration" in repr(result)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m: value_iteration(m, gamma=1.2), ValueError, r"gamma must be in \[0, 1\], got 1.2"),
        (lambda m: value_iteration(m, gamma=-0.1), ValueError, "gamma"),
        (lambda m: value_iteration(m, 0.9, tol=0), ValueError, "tol must be in"),
        (lambda m: value_iteration(m, 0.9, max_iterations=0), ValueError, "max_iterations"),
        (
            lambda m: policy_evaluation(m, np.zeros(15, int), 0.9),
            ValueError,
            r"policy must be .*\(16,\).*got shape \(15,\)",
        ),
        (lambda m: policy_evaluation(m, np.full(16, 4), 0.9), ValueError, r"policy actions must be in \[0, 3\]"),
        (
            lambda m: policy_evaluation(m, np.full((16, 4), 0.3), 0.9),
            ValueError,
            r"policy rows must sum to 1; policy\[0\] sums to 1.2",
        ),
        (
            lambda m: policy_evaluation(m, np.full((16, 3), 1 / 3), 0.9),
            ValueError,
            r"policy must be .*\(16, 4\).*got shape \(16, 3\)",
        ),
        (lambda m: policy_evaluation(m, np.zeros(16), 0.9), ValueError, "policy must hold integer actions"),
        (lambda m: policy_iteration(m, 0.9, initial_policy=[0] * 3), ValueError, "initial_policy"),
        (lambda m: value_iteration("FrozenLake-v1", 0.9), TypeError, "mdp must be a drlkit.MDP"),
    ],
)
def test_bad_input_names_the_field(call, error, match):
    with pytest.raises(error, match=match):
        call(frozen_lake("4x4"))


def test_terminal_states_are_worth_zero_whatever_their_rows_of_the_model_say():
    # gymnasium's CliffWalking model gives the goal ordinary moves with negative rewards; drlkit's
    # makes it absorbing. Episodes end there either way, so the values must agree.
    theirs = MDP.from_gymnasium("CliffWalking-v1")
    assert theirs.terminal[47] and (theirs.R[47] < 0).all()
    for gamma in (0.9, 1.0):
        V_theirs = value_iteration(theirs, gamma).V
        V_ours = value_iteration(cliff_walking(), gamma).V
        occupiable = np.r_[0:37, 47]
        np.testing.assert_allclose(V_theirs[occupiable], V_ours[occupiable], atol=1e-9)
        assert V_theirs[47] == 0.0
