"""Behaviour of the tabular learners: what they learn, how they are seeded, how they fail.

Reference values come from a value iteration written here, independently of
drlkit.planning and of the learners.
"""

import gymnasium as gym
import numpy as np
import pytest

from drlkit import MDP
from drlkit.envs import cliff_walking, gridworld
from drlkit.tabular import (
    LinearDecay,
    epsilon_greedy,
    epsilon_greedy_probabilities,
    expected_sarsa,
    greedy_path,
    q_learning,
    sarsa,
)
from drlkit.tabular.vectorised import epsilon_greedy_batch, expected_values_batch

LEARNERS = {"q_learning": q_learning, "sarsa": sarsa, "expected_sarsa": expected_sarsa}


# ------------------------------------------------------------- references
def optimal_q(mdp: MDP, gamma: float) -> np.ndarray:
    """Q* by value iteration: Q(s,a) = R(s,a) + gamma * sum_s' P(s'|s,a) max_a' Q(s',a'), 0 at terminals."""
    Q = np.zeros_like(mdp.R)
    for _ in range(100_000):
        V = np.where(mdp.terminal, 0.0, Q.max(axis=1))
        new_Q = mdp.R + gamma * mdp.P @ V
        if np.abs(new_Q - Q).max() < 1e-12:
            return new_Q
        Q = new_Q
    raise AssertionError("value iteration did not converge")


def epsilon_greedy_fixed_point(mdp: MDP, gamma: float, epsilon: float) -> np.ndarray:
    """Q with Q(s,a) = R + gamma * sum_s' P * sum_a' pi_eps(a'|s') Q(s',a'), pi_eps ε-greedy w.r.t. Q itself."""
    Q = np.zeros_like(mdp.R)
    A = mdp.n_actions
    for _ in range(100_000):
        best = Q == Q.max(axis=1, keepdims=True)
        pi = epsilon / A + (1 - epsilon) * best / best.sum(axis=1, keepdims=True)
        V = np.where(mdp.terminal, 0.0, (pi * Q).sum(axis=1))
        new_Q = mdp.R + gamma * mdp.P @ V
        if np.abs(new_Q - Q).max() < 1e-12:
            return new_Q
        Q = new_Q
    raise AssertionError("did not converge")


def random_deterministic_mdp(n_states=6, n_actions=3, seed=0) -> MDP:
    """Deterministic transitions and rewards; state n_states is terminal; starts anywhere else."""
    rng = np.random.default_rng(seed)
    S = n_states + 1
    P = np.zeros((S, n_actions, S))
    next_states = rng.integers(0, S, size=(S, n_actions))
    P[np.arange(S)[:, None], np.arange(n_actions)[None, :], next_states] = 1.0
    R = rng.uniform(-1, 1, size=(S, n_actions))
    R[n_states] = 0.0
    return MDP(P=P, R=R, terminal=[n_states])


def slippery_grid_with_exploring_starts() -> tuple[MDP, np.ndarray]:
    """A 3x4 gridworld with a wall, slip 0.2, -1 per step; episodes start on any free cell."""
    grid = gridworld(["....", ".#.G", "S..."], slip=0.2, step_reward=-1.0, goal_reward=0.0)
    free = np.array([c not in "#G" for c in "".join(grid.grid)])
    mdp = MDP(P=grid.P, R=grid.R, terminal=grid.terminal, start=free / free.sum(), layout=grid.layout, grid=grid.grid)
    return mdp, free


# ------------------------------------------------------------- ε-greedy
def test_epsilon_greedy_breaks_ties_at_random_and_explores_uniformly():
    rng = np.random.default_rng(0)
    tied = np.array([1.0, 0.0, 1.0, 0.0])
    greedy_choices = np.array([epsilon_greedy(tied, 0.0, rng) for _ in range(2000)])
    assert set(greedy_choices) == {0, 2}
    assert abs(np.mean(greedy_choices == 0) - 0.5) < 0.05
    choices = np.array([epsilon_greedy(np.array([0.0, 1.0, 0.0, 0.0]), 0.4, rng) for _ in range(4000)])
    assert abs(np.mean(choices == 1) - (0.6 + 0.4 / 4)) < 0.03


def test_batched_epsilon_greedy_has_the_same_distribution_as_the_one_run_rule():
    rng = np.random.default_rng(1)
    q = np.array([[1.0, 0.0, 1.0, 0.5]] * 20000)
    epsilon = 0.3
    actions = epsilon_greedy_batch(q, np.full(len(q), epsilon), rng)
    frequencies = np.bincount(actions, minlength=4) / len(actions)
    np.testing.assert_allclose(frequencies, epsilon_greedy_probabilities(q[0], epsilon), atol=0.015)


def test_expected_value_uses_the_epsilon_greedy_probabilities_with_ties_shared():
    q = np.array([2.0, 2.0, -1.0])
    probabilities = epsilon_greedy_probabilities(q, 0.3)
    np.testing.assert_allclose(probabilities, [0.1 + 0.35, 0.1 + 0.35, 0.1])
    np.testing.assert_allclose(expected_values_batch(q[None, :], np.array([0.3])), [probabilities @ q])


# ------------------------------------------------------------- what is learned
@pytest.mark.parametrize("vectorised", [True, False])
def test_q_learning_converges_to_value_iteration_q_on_a_deterministic_mdp(vectorised):
    mdp = random_deterministic_mdp()
    Q_star = optimal_q(mdp, gamma=0.9)
    # Purely random behaviour (epsilon=1): Q-learning is off-policy, it still learns Q*.
    result = q_learning(
        mdp,
        episodes=2000,
        gamma=0.9,
        epsilon=1.0,
        alpha=0.5,
        max_steps_per_episode=30,
        runs=3,
        seed=0,
        vectorised=vectorised,
    )
    live = ~mdp.terminal  # a terminal state's row is never used
    assert np.abs(result.Q - Q_star)[:, live].max() < 1e-6
    assert (result.greedy_policy()[:, live] == Q_star.argmax(axis=1)[live]).all()


def test_expected_sarsa_learns_its_own_epsilon_greedy_values_not_q_star():
    mdp = random_deterministic_mdp(seed=3)
    Q_eps = epsilon_greedy_fixed_point(mdp, gamma=0.9, epsilon=0.5)
    live = ~mdp.terminal
    assert np.abs(Q_eps - optimal_q(mdp, 0.9))[live].max() > 0.1  # the two targets are distinguishable
    result = expected_sarsa(mdp, episodes=800, gamma=0.9, epsilon=0.5, alpha=0.5, max_steps_per_episode=30, seed=0)
    assert np.abs(result.Q - Q_eps)[live].max() < 1e-6


@pytest.mark.slow
def test_q_learning_finds_the_optimal_policy_on_a_slippery_grid():
    mdp, free = slippery_grid_with_exploring_starts()
    Q_star = optimal_q(mdp, gamma=0.9)
    optimal_actions = Q_star >= Q_star.max(axis=1, keepdims=True) - 1e-9  # (S, A), ties allowed
    result = q_learning(mdp, episodes=4000, gamma=0.9, epsilon=0.3, alpha=LinearDecay(0.5, 0.01, 3000), runs=20, seed=0)
    policies = result.greedy_policy()  # (runs, S)
    optimal_everywhere = [optimal_actions[np.arange(mdp.n_states), p][free].all() for p in policies]
    assert np.mean(optimal_everywhere) >= 0.9
    assert np.abs(result.Q - Q_star)[:, free].mean() < 0.15


def _greedy_path_lengths(mdp, result):
    """Steps of each run's greedy path to the goal, or -1 when it never gets there."""
    lengths = []
    for policy in result.greedy_policy():
        path = greedy_path(mdp, policy)
        lengths.append(len(path) - 1 if mdp.terminal[path[-1]] else -1)
    return np.array(lengths)


@pytest.mark.slow
@pytest.mark.parametrize("env", ["drlkit", "CliffWalking-v1"])
def test_cliff_walking_sarsa_walks_safely_and_q_learning_along_the_edge(env):
    mdp = cliff_walking() if env == "drlkit" else MDP.from_gymnasium(env)
    settings = dict(episodes=500, runs=50, gamma=1.0, epsilon=0.1, alpha=0.5, seed=0)
    q = q_learning(mdp if env == "drlkit" else env, **settings)
    s = sarsa(mdp if env == "drlkit" else env, **settings)
    # While exploring with epsilon = 0.1, SARSA's careful path earns more than Q-learning's ...
    last = slice(-100, None)
    assert s.returns[:, last].mean() > q.returns[:, last].mean() + 10
    # ... although Q-learning's greedy path is the optimal one, right along the cliff (13 steps),
    q_lengths = _greedy_path_lengths(mdp, q)
    assert np.mean(q_lengths == 13) >= 0.9
    # while SARSA's greedy path keeps away from the edge and is longer.
    s_lengths = _greedy_path_lengths(mdp, s)
    assert np.mean(s_lengths > 13) >= 0.7
    assert not (s_lengths == 13).any()
    # Q-learning's values are those of the optimal policy: -13 from the start.
    assert np.median(q.Q[:, 36].max(axis=1)) == pytest.approx(-13, abs=0.5)


# ------------------------------------------------------------- both engines agree
@pytest.mark.slow
@pytest.mark.parametrize("algorithm", list(LEARNERS))
def test_vectorised_and_one_run_loops_agree_in_distribution(algorithm):
    mdp = gridworld(["S...", "...G"], slip=0.3, step_reward=-1.0, goal_reward=0.0)
    settings = dict(episodes=15, runs=300, gamma=1.0, epsilon=0.2, alpha=0.5, seed=0)
    fast = LEARNERS[algorithm](mdp, vectorised=True, **settings)
    loop = LEARNERS[algorithm](mdp, vectorised=False, **settings)
    assert fast.config.vectorised and not loop.config.vectorised
    statistics = {
        # The first episode with Q0 = 0 depends on how ties are broken.
        "first length": lambda r: r.lengths[:, 0],
        "total steps": lambda r: r.lengths.sum(axis=1),
        "last returns": lambda r: r.returns[:, -5:].mean(axis=1),
        "start value": lambda r: r.Q[:, 0].max(axis=1),
    }
    for name, statistic in statistics.items():
        a, b = statistic(fast), statistic(loop)
        standard_error = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        assert abs(a.mean() - b.mean()) < 4 * standard_error, name


# ------------------------------------------------------------- seeding, shapes, engines
@pytest.mark.parametrize("vectorised", [True, False])
def test_same_seed_same_result_different_seed_different_result(vectorised):
    run = lambda seed: sarsa(cliff_walking(), episodes=30, runs=3, seed=seed, vectorised=vectorised)
    a, b, c = run(7), run(7), run(8)
    np.testing.assert_array_equal(a.Q, b.Q)
    np.testing.assert_array_equal(a.returns, b.returns)
    assert not np.array_equal(a.returns, c.returns)


def test_one_run_on_a_gymnasium_id_is_reproducible():
    a = q_learning("FrozenLake-v1", episodes=40, seed=3)
    b = q_learning("FrozenLake-v1", episodes=40, seed=3)
    np.testing.assert_array_equal(a.returns, b.returns)
    assert a.Q.shape == (16, 4) and a.returns.shape == (40,)


def test_unseeded_runs_record_the_seed_that_reproduces_them():
    first = q_learning(cliff_walking(), episodes=20)
    again = q_learning(cliff_walking(), episodes=20, seed=first.config.seed)
    np.testing.assert_array_equal(first.Q, again.Q)


def test_result_shapes_frame_and_greedy_policy():
    result = expected_sarsa("CliffWalking-v1", episodes=12, runs=4, seed=0, epsilon=LinearDecay(0.5, 0.0, 10))
    assert result.config.vectorised and result.config.env == "CliffWalking-v1"
    assert result.Q.shape == (4, 48, 4)
    assert result.returns.shape == result.lengths.shape == (4, 12)
    np.testing.assert_array_equal(result.greedy_policy(), result.Q.argmax(axis=2))
    frame = result.to_frame()
    assert list(frame.columns) == ["run", "episode", "return", "length", "epsilon", "alpha"]
    assert len(frame) == 4 * 12
    row = frame[(frame.run == 2) & (frame.episode == 5)].iloc[0]
    assert row["return"] == result.returns[2, 5] and row["length"] == result.lengths[2, 5]
    assert row["epsilon"] == pytest.approx(0.5 - 0.05 * 5)
    # Every step of Cliff Walking costs at least 1.
    assert (result.returns <= -result.lengths).all()


def test_env_time_limit_applies_to_both_engines():
    env = gym.make("CliffWalking-v1", max_episode_steps=20)
    for vectorised in (True, False):
        result = q_learning(env, episodes=10, runs=3, seed=0, vectorised=vectorised)
        # With Q0 = 0 the first walk to the goal takes far more than 20 steps.
        assert result.lengths.max() == 20 and result.lengths[:, 0].tolist() == [20, 20, 20]


def test_max_steps_per_episode_cuts_episodes():
    result = sarsa(cliff_walking(), episodes=5, runs=2, max_steps_per_episode=7, seed=0)
    assert result.lengths.max() == 7


class CoinEnv(gym.Env):
    """Two states, no model: action 1 in state 0 pays 1 and ends; anything else pays 0."""

    observation_space = gym.spaces.Discrete(2)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return (1, 1.0, True, False, {}) if action == 1 else (0, 0.0, False, False, {})


def test_gymnasium_env_without_a_model_runs_the_loop_once_per_run():
    result = q_learning(CoinEnv, episodes=50, runs=3, gamma=0.9, seed=0)
    assert not result.config.vectorised
    assert result.Q.shape == (3, 2, 2)
    assert (result.greedy_policy()[:, 0] == 1).all()
    with pytest.raises(TypeError, match="vectorised=True"):
        q_learning(CoinEnv, episodes=5, runs=3, vectorised=True)


def test_record_q_keeps_q_after_every_episode():
    result = q_learning(cliff_walking(), episodes=6, runs=2, seed=0, record_q=True)
    assert result.Q_history.shape == (2, 6, 48, 4)
    np.testing.assert_array_equal(result.Q_history[:, -1], result.Q)
    single = q_learning(cliff_walking(), episodes=6, seed=0, record_q=True)
    assert single.Q_history.shape == (6, 48, 4)


def test_q0_sets_the_initial_table():
    mdp = random_deterministic_mdp()
    Q0 = np.full((mdp.n_states, mdp.n_actions), 5.0)
    Q0[mdp.n_states - 1] = 0.0  # the terminal state
    result = q_learning(mdp, episodes=1, Q0=Q0, max_steps_per_episode=1, seed=0, alpha=1.0, gamma=0.0)
    # After one step with alpha=1, gamma=0 exactly one entry became its reward; the rest kept Q0.
    changed = result.Q != Q0
    assert changed.sum() <= 1
    np.testing.assert_allclose(result.Q[changed], mdp.R[changed])


# ------------------------------------------------------------- errors name the field
@pytest.mark.parametrize(
    "kwargs, error, field",
    [
        (dict(alpha=0.0), ValueError, r"alpha must be in \(0, 1\]"),
        (dict(alpha=1.5), ValueError, "alpha"),
        (dict(gamma=-0.1), ValueError, r"gamma must be in \[0, 1\]"),
        (dict(gamma=1.01), ValueError, "gamma"),
        (dict(episodes=0), ValueError, "episodes"),
        (dict(episodes=-3), ValueError, "episodes"),
        (dict(episodes=2.5), TypeError, "episodes"),
        (dict(runs=0), ValueError, "runs"),
        (dict(epsilon=-0.1), ValueError, r"epsilon must be in \[0, 1\]"),
        (dict(epsilon=1.2), ValueError, "epsilon"),
        (dict(epsilon=LinearDecay(0.1, -0.5, 4)), ValueError, "epsilon"),
        (dict(max_steps_per_episode=0), ValueError, "max_steps_per_episode"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(Q0=np.zeros((3, 3))), ValueError, r"Q0 must be .* shape \(S, A\) = \(48, 4\)"),
        (dict(Q0="zero"), TypeError, "Q0"),
        (dict(vectorised="yes"), TypeError, "vectorised"),
        (dict(record_q=True, runs=2000, episodes=2000), ValueError, "record_q"),
    ],
)
def test_bad_arguments_raise_errors_naming_the_field(kwargs, error, field):
    with pytest.raises(error, match=field):
        sarsa("CliffWalking-v1", **{"episodes": 5, **kwargs})


def test_unknown_env_id_is_named():
    with pytest.raises(ValueError, match="CliffWalkin-v1.*did you mean 'CliffWalking-v1'"):
        q_learning("CliffWalkin-v1", episodes=5)


def test_non_discrete_spaces_are_refused():
    with pytest.raises(TypeError, match="Discrete observation_space"):
        q_learning("CartPole-v1", episodes=5)
