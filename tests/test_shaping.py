"""Reward shaping (potential-based invariance, the cycle counterexample, the gymnasium wrapper) and
policy shaping with a simulated teacher."""

import numpy as np
import pytest

import drlkit
from drlkit import tabular
from drlkit.envs.gridworld import gridworld
from drlkit.planning import value_iteration
from drlkit.shaping import (
    PotentialShaping,
    bonus_shaping,
    combine_policies,
    distance_potential,
    feedback_policy,
    goal_distances,
    policy_shaping,
    potential_shaping,
    progress_bonus,
)
from drlkit.tabular.environments import greedy_path

MAP = ["S.....", "......", "......", ".....G"]


def random_mdp(rng, S=8, A=3, n_terminal=2):
    P = rng.random((S, A, S)) ** 4
    P /= P.sum(axis=2, keepdims=True)
    R = rng.normal(size=(S, A, S))
    return drlkit.MDP(P=P, R=R, terminal=np.arange(S - n_terminal, S))


@pytest.mark.parametrize("seed", range(20))
def test_potential_shaping_keeps_the_optimal_policy_of_random_mdps(seed):
    rng = np.random.default_rng(seed)
    mdp = random_mdp(rng)
    gamma = float(rng.uniform(0.5, 0.95))
    phi = rng.normal(scale=5.0, size=mdp.n_states)
    plain = value_iteration(mdp, gamma, tol=1e-12)
    shaped = value_iteration(potential_shaping(mdp, phi, gamma), gamma, tol=1e-12)
    live = ~mdp.terminal
    np.testing.assert_array_equal(shaped.policy[live], plain.policy[live])
    # The theory's exact statement: Q'(s, a) = Q(s, a) - Φ(s) on non-terminal states.
    np.testing.assert_allclose(shaped.Q[live], plain.Q[live] - phi[live, None], atol=1e-8)


@pytest.mark.parametrize("seed", range(5))
def test_a_random_bonus_that_is_not_potential_based_changes_the_policy(seed):
    rng = np.random.default_rng(100 + seed)
    mdp = random_mdp(rng)
    bonus = rng.normal(scale=5.0, size=(mdp.n_states, mdp.n_actions, mdp.n_states))
    plain, shaped = value_iteration(mdp, 0.9).policy, value_iteration(bonus_shaping(mdp, bonus), 0.9).policy
    assert (plain != shaped)[~mdp.terminal].any()


def test_the_progress_bonus_makes_the_agent_farm_a_cycle_instead_of_reaching_the_goal():
    mdp = gridworld(MAP)
    gamma = 0.95
    plain = value_iteration(mdp, gamma).policy
    path = greedy_path(mdp, plain)
    assert mdp.terminal[path[-1]] and len(path) - 1 == goal_distances(mdp)[path[0]]
    farmed = value_iteration(bonus_shaping(mdp, progress_bonus(mdp, 0.5)), gamma).policy
    loop = greedy_path(mdp, farmed)
    assert not mdp.terminal[loop[-1]] and loop[-1] in loop[:-1]  # a cycle, never the goal
    # The potential-based version of the same idea keeps the optimal policy.
    safe = value_iteration(potential_shaping(mdp, distance_potential(mdp, gamma), gamma), gamma).policy
    np.testing.assert_array_equal(safe[~mdp.terminal], plain[~mdp.terminal])


@pytest.mark.slow
def test_potential_shaping_speeds_up_q_learning_on_a_sparse_gridworld():
    mdp = gridworld(MAP + ["......", "......"])
    gamma = 0.95
    common = dict(alpha=0.5, gamma=gamma, epsilon=0.1, runs=100, seed=0, max_steps_per_episode=200)
    plain = tabular.q_learning(mdp, 20, **common)
    shaped = tabular.q_learning(potential_shaping(mdp, distance_potential(mdp, gamma), gamma), 20, **common)
    assert shaped.lengths[:, :10].mean() < 0.6 * plain.lengths[:, :10].mean()


def test_distance_potential_is_the_value_of_walking_straight_to_the_goal():
    mdp = gridworld(MAP)
    V = value_iteration(mdp, 0.9).V
    np.testing.assert_allclose(distance_potential(mdp, 0.9), V, atol=1e-9)  # open grid: exactly V*


def test_the_wrapper_adds_telescoping_shaping_rewards():
    gamma = 0.9
    potential = lambda obs: float(obs[0] + 2 * obs[2])  # noqa: E731
    plain = drlkit.make_env("CartPole-v1")
    shaped = PotentialShaping(drlkit.make_env("CartPole-v1"), potential, gamma)
    obs0, _ = plain.reset(seed=3)
    shaped.reset(seed=3)
    rng = np.random.default_rng(0)
    discounted_gap, t, done = 0.0, 0, False
    while not done:
        action = int(rng.integers(2))
        obs, r, term, trunc, _ = plain.step(action)
        _, r_shaped, term2, trunc2, info = shaped.step(action)
        assert info["original_reward"] == r and (term, trunc) == (term2, trunc2)
        discounted_gap += gamma**t * (r_shaped - r)
        t += 1
        done = term or trunc
    assert term  # a random policy ends CartPole by termination: Φ(s_T) = 0
    assert discounted_gap == pytest.approx(-potential(obs0), abs=1e-9)


def test_bad_shaping_inputs_name_the_argument():
    mdp = gridworld(MAP)
    with pytest.raises(ValueError, match=r"potential must have one value per state, shape \(24,\)"):
        potential_shaping(mdp, np.zeros(3), 0.9)
    with pytest.raises(ValueError, match="potential must contain only finite"):
        potential_shaping(mdp, np.full(24, np.nan), 0.9)
    with pytest.raises(ValueError, match="gamma"):
        potential_shaping(mdp, np.zeros(24), 1.5)
    with pytest.raises(ValueError, match=r"bonus must have shape \(S, A, S\)"):
        bonus_shaping(mdp, np.zeros((24, 4)))
    with pytest.raises(TypeError, match="potential must be a function"):
        PotentialShaping(drlkit.make_env("CartPole-v1"), 3.0, 0.9)
    env = PotentialShaping(drlkit.make_env("CartPole-v1"), lambda obs: float("nan"), 0.9)
    with pytest.raises(ValueError, match="potential\\(obs\\) must be finite"):
        env.reset(seed=0)


# ------------------------------------------------------------- policy shaping
def test_feedback_policy_is_bayes_rule_for_the_teachers_labels():
    delta = np.array([[2.0, -1.0, 0.0]])
    C = 0.8
    p = np.array([C**2 / (C**2 + 0.2**2), 0.2 / (0.2 + C), 0.5])  # C^Δ / (C^Δ + (1-C)^Δ)
    np.testing.assert_allclose(feedback_policy(delta, C), [p / p.sum()])
    np.testing.assert_allclose(feedback_policy(np.zeros((2, 4)), 0.7), np.full((2, 4), 0.25))
    np.testing.assert_allclose(combine_policies(np.array([0.5, 0.5]), np.array([0.9, 0.1])), [0.9, 0.1])


def _speed(**kwargs):
    mdp = gridworld(MAP)
    return policy_shaping(mdp, episodes=15, runs=100, seed=0, **kwargs).lengths[:, :10].mean()


@pytest.mark.slow
def test_learning_speed_depends_on_the_teachers_consistency_and_likelihood():
    alone = _speed(likelihood=0.0)
    good = _speed(consistency=0.95, likelihood=0.5)
    rare = _speed(consistency=0.95, likelihood=0.05)
    noisy = _speed(consistency=0.5, likelihood=0.5)
    misleading = _speed(consistency=0.2, likelihood=0.5)
    assert good < rare < alone
    assert good < 0.6 * alone
    assert misleading > alone and misleading > noisy
    # An agent that knows its teacher lies (assumed C = true C) reads the labels backwards and profits.
    assert _speed(consistency=0.2, likelihood=0.5, assumed_consistency=None) < 0.6 * alone


def test_the_simulated_teacher_is_as_consistent_as_asked():
    res = policy_shaping(gridworld(MAP), consistency=0.7, likelihood=0.3, episodes=5, runs=50, seed=1)
    steps = res.lengths.sum()
    assert res.feedback.sum() == pytest.approx(0.3 * steps, rel=0.1)
    assert res.correct.sum() / res.feedback.sum() == pytest.approx(0.7, abs=0.03)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"consistency": 1.5}, "consistency"),
        ({"likelihood": -0.1}, "likelihood"),
        ({"assumed_consistency": 1.0}, "assumed_consistency"),
        ({"temperature": 0}, "temperature"),
        ({"runs": 0}, "runs"),
    ],
)
def test_policy_shaping_checks_its_arguments(kwargs, field):
    with pytest.raises(ValueError, match=field):
        policy_shaping(gridworld(MAP), **kwargs)
