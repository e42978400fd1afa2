"""Rollout collection and advantage estimation shared by REINFORCE, A2C, PPO and TRPO."""

import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch

from drlkit.agents.a2c import A2C
from drlkit.agents.advantages import compute_gae, discounted_returns, monte_carlo_returns
from drlkit.agents.reinforce import REINFORCE

from agent_tools import one_thread  # noqa: F401  (autouse fixture)

# A hand-built trajectory of one environment, 7 steps:
#   episode A: steps 0, 1, 2 -- terminates at step 2 (true terminal state: no bootstrap)
#   episode B: steps 3, 4    -- truncated by a time limit at step 4; its final state has value 2.5
#   episode C: steps 5, 6    -- still running at the end; the state after step 6 has value 0.7
REWARDS = np.array([1.0, 0.5, -1.0, 2.0, 1.0, 0.0, 3.0], dtype=np.float32)
VALUES = np.array([0.3, 0.2, -0.4, 1.1, 0.9, 0.5, 1.5], dtype=np.float32)
TERMINATED = [False, False, True, False, False, False, False]
TRUNCATED = [False, False, False, False, True, False, False]
FINAL_STATE_VALUE = 2.5
LAST_VALUE = 0.7


def _column(values):
    return np.asarray(values)[:, None]  # (T,) -> (T, N=1)


def _gae_by_definition(gamma, lam):
    """A_t = sum_k (gamma*lam)^k delta_{t+k} over the rest of t's episode, with the
    TD errors written out from each step's explicit successor value."""
    T = len(REWARDS)
    successor_value = []
    for t in range(T):
        if TERMINATED[t]:
            successor_value.append(0.0)
        elif TRUNCATED[t]:
            successor_value.append(FINAL_STATE_VALUE)
        elif t == T - 1:
            successor_value.append(LAST_VALUE)
        else:
            successor_value.append(float(VALUES[t + 1]))
    deltas = [float(REWARDS[t]) + gamma * successor_value[t] - float(VALUES[t]) for t in range(T)]
    advantages = []
    for t in range(T):
        total, k = 0.0, 0
        while True:
            total += (gamma * lam) ** k * deltas[t + k]
            if TERMINATED[t + k] or TRUNCATED[t + k] or t + k == T - 1:
                break
            k += 1
        advantages.append(total)
    return np.array(advantages)


def _gae(gamma, lam):
    dones = _column(np.logical_or(TERMINATED, TRUNCATED))
    bootstrap = _column([FINAL_STATE_VALUE if tr and not te else 0.0 for te, tr in zip(TERMINATED, TRUNCATED)])
    return compute_gae(
        _column(REWARDS),
        _column(VALUES),
        dones,
        bootstrap.astype(np.float32),
        np.array([LAST_VALUE], dtype=np.float32),
        gamma,
        lam,
    )


@pytest.mark.parametrize("gamma, lam", [(0.99, 0.95), (0.9, 0.0), (0.8, 1.0), (1.0, 0.5)])
def test_gae_matches_definition_across_termination_and_truncation(gamma, lam):
    advantages, returns = _gae(gamma, lam)
    np.testing.assert_allclose(advantages[:, 0], _gae_by_definition(gamma, lam), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(returns[:, 0], advantages[:, 0] + VALUES, rtol=1e-6)


def test_gae_with_lambda_one_gives_bootstrapped_discounted_returns():
    gamma = 0.9
    _, returns = _gae(gamma, 1.0)
    # Episode A ends in a terminal state: plain discounted sums.
    assert returns[2, 0] == pytest.approx(-1.0)
    assert returns[0, 0] == pytest.approx(1.0 + gamma * 0.5 + gamma**2 * -1.0)
    # Episode B is cut by a time limit: it bootstraps from its final state's value.
    assert returns[3, 0] == pytest.approx(2.0 + gamma * 1.0 + gamma**2 * FINAL_STATE_VALUE)
    # Episode C bootstraps from the value after the last step.
    assert returns[5, 0] == pytest.approx(0.0 + gamma * 3.0 + gamma**2 * LAST_VALUE)


def test_gae_columns_are_independent_environments():
    rng = np.random.default_rng(0)
    T, N = 6, 3
    rewards, values = rng.normal(size=(T, N)).astype(np.float32), rng.normal(size=(T, N)).astype(np.float32)
    dones = rng.random((T, N)) < 0.3
    bootstrap = np.where(dones, rng.normal(size=(T, N)), 0).astype(np.float32)
    last = rng.normal(size=N).astype(np.float32)
    together, _ = compute_gae(rewards, values, dones, bootstrap, last, 0.95, 0.9)
    for n in range(N):
        alone, _ = compute_gae(
            rewards[:, n : n + 1],
            values[:, n : n + 1],
            dones[:, n : n + 1],
            bootstrap[:, n : n + 1],
            last[n : n + 1],
            0.95,
            0.9,
        )
        np.testing.assert_allclose(together[:, n], alone[:, 0], rtol=1e-6)


def test_monte_carlo_returns_and_complete_mask():
    gamma = 0.5
    dones = _column(np.logical_or(TERMINATED, TRUNCATED))
    returns, complete = monte_carlo_returns(_column(REWARDS), dones, gamma)
    expected = [
        1.0 + 0.5 * 0.5 + 0.25 * -1.0,
        0.5 + 0.5 * -1.0,
        -1.0,  # episode A
        2.0 + 0.5 * 1.0,
        1.0,
    ]  # episode B: truncation ends the sum
    np.testing.assert_allclose(returns[:5, 0], expected, rtol=1e-6)
    # Episode C has not ended: its steps have no Monte-Carlo return yet.
    assert complete[:, 0].tolist() == [True] * 5 + [False] * 2


# --------------------------------------------------------------- collection
class CountingEnv(gym.Env):
    """Observation = steps taken in the episode; reward 1 per step; terminates after
    ``terminate_at`` steps (if set). Wrapped in a time limit by the tests."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, terminate_at=None):
        self.terminate_at = terminate_at
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        terminated = self.terminate_at is not None and self.t >= self.terminate_at
        return np.array([self.t], dtype=np.float32), 1.0, terminated, False, {}


def _time_limited(limit, terminate_at=None):
    return lambda: gym.wrappers.TimeLimit(CountingEnv(terminate_at), max_episode_steps=limit)


def test_truncation_bootstraps_from_the_final_observation_value():
    agent = A2C(_time_limited(4), seed=0, num_envs=2, n_steps=10)
    fragment = agent.collect()
    d = fragment.data
    assert d["obs"].shape == (10, 2, 1) and d["actions"].shape == (10, 2) and d["last_values"].shape == (2,)
    assert fragment.n_steps == 20 and agent.total_steps == 20
    truncated_steps = np.zeros((10, 2), dtype=bool)
    truncated_steps[[3, 7]] = True  # every 4th step ends an episode by the time limit
    np.testing.assert_array_equal(d["dones"], truncated_steps)
    with torch.no_grad():
        v_final = float(agent.value(torch.tensor([[4.0]])))
        v_obs = agent.value(torch.from_numpy(d["obs"])).numpy()
    np.testing.assert_allclose(d["bootstrap_values"][truncated_steps], v_final, rtol=1e-6)
    assert np.all(d["bootstrap_values"][~truncated_steps] == 0)
    np.testing.assert_allclose(d["values"], v_obs, rtol=1e-6)
    # After the time limit the next observation is the new episode's first one.
    np.testing.assert_array_equal(d["obs"][4, :, 0], [0.0, 0.0])
    assert fragment.episode_returns == [4.0] * 4 and fragment.episode_lengths == [4] * 4


def test_termination_does_not_bootstrap():
    agent = A2C(_time_limited(10, terminate_at=3), seed=0, num_envs=1, n_steps=6)
    d = agent.collect().data
    assert d["dones"][:, 0].tolist() == [False, False, True, False, False, True]
    assert np.all(d["bootstrap_values"] == 0)


def test_episodes_continue_across_fragments_and_fragments_pickle():
    agent = REINFORCE(_time_limited(5), seed=0, num_envs=1, n_steps=3)
    first, second = agent.collect(), agent.collect()
    assert first.episode_returns == [] and second.episode_returns == [5.0]
    np.testing.assert_array_equal(second.data["obs"][:, 0, 0], [3.0, 4.0, 0.0])
    copy = pickle.loads(pickle.dumps(second))
    assert all(isinstance(v, np.ndarray) for v in copy.data.values())
    np.testing.assert_array_equal(copy.data["rewards"], second.data["rewards"])


def test_collect_rounds_requested_steps_up_to_whole_vector_steps():
    agent = A2C("CartPole-v1", seed=0, num_envs=4, n_steps=5)
    assert agent.collect(10).n_steps == 12
    assert agent.collect().n_steps == 20
    with pytest.raises(ValueError, match="n_steps"):
        agent.collect(0)


def test_discounted_returns_by_hand():
    # G_2 = 3, G_1 = 2 + 0.5 * 3 = 3.5, G_0 = 1 + 0.5 * 3.5 = 2.75
    np.testing.assert_allclose(discounted_returns([1.0, 2.0, 3.0], 0.5), [2.75, 3.5, 3.0])
    # An episode ending at step 0 cuts the sum there; two environments side by side.
    rewards = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], dtype=np.float32)
    dones = np.array([[True, False], [False, False], [False, True]])
    returns = discounted_returns(rewards, 0.5, dones)
    assert returns.dtype == np.float32
    np.testing.assert_allclose(returns, [[1.0, 2.75], [3.5, 3.5], [3.0, 3.0]])


def test_the_former_module_name_still_imports_the_same_objects():
    from drlkit.agents import advantages, on_policy, rollout

    assert rollout.compute_gae is advantages.compute_gae
    assert rollout.monte_carlo_returns is advantages.monte_carlo_returns
    assert rollout.OnPolicyAgent is on_policy.OnPolicyAgent and rollout.OnPolicyConfig is on_policy.OnPolicyConfig
