"""Prioritised replay: the sum-tree samples in proportion to priorities, importance weights follow
the formula, bad α/β/priorities are refused by name, and DQN learns with it."""

import math

import numpy as np
import pytest
import torch

from drlkit.agents.dqn import DQN
from drlkit.agents.prioritized_replay import (
    PrioritizedReplayBuffer,
    SumTree,
    importance_weights,
    sampling_probabilities,
)


def transitions(n: int, obs_dim: int = 2):
    k = np.arange(n, dtype=np.float32)
    obs = np.repeat(k[:, None], obs_dim, axis=1)
    return obs, k % 2, k, obs + 1, np.zeros(n)


def test_sum_tree_sums_and_walks_like_a_cumulative_sum():
    rng = np.random.default_rng(1)
    values = rng.random(13)
    tree = SumTree(13)
    tree.update(np.arange(13), values)
    assert tree.total == pytest.approx(values.sum())
    assert tree.minimum == pytest.approx(values.min())
    u = rng.random(500) * values.sum()
    # The leaf that holds u is the first whose cumulative sum exceeds u: an independent computation.
    np.testing.assert_array_equal(tree.find(u), np.searchsorted(np.cumsum(values), u, side="right"))
    tree.update([3, 3], [5.0, 0.0])  # a repeated index keeps its last value
    assert tree.leaves()[3] == 0.0 and tree.total == pytest.approx(values.sum() - values[3])


def test_sum_tree_samples_in_proportion_to_priorities():
    priorities = np.array([1.0, 2.0, 0.0, 4.0, 8.0, 0.5, 3.0])
    tree = SumTree(len(priorities))
    tree.update(np.arange(len(priorities)), priorities)
    n = 40_000
    counts = np.bincount(tree.sample(n, np.random.default_rng(0)), minlength=len(priorities))
    p = priorities / priorities.sum()
    # Each count is at most as variable as a binomial(n, p_i) (stratified draws are less so): 5 standard deviations.
    tolerance = 5 * np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(counts - n * p) <= tolerance), (counts, n * p, tolerance)
    assert counts[2] == 0  # priority 0 is never drawn


def test_buffer_samples_by_priority_to_the_alpha():
    buffer = PrioritizedReplayBuffer(capacity=6, obs_dim=2, alpha=0.5)
    buffer.add(*transitions(6), priorities=[1, 4, 9, 16, 0, 25])
    expected = np.sqrt([1, 4, 9, 16, 0, 25]) / np.sqrt([1, 4, 9, 16, 0, 25]).sum()
    np.testing.assert_allclose(buffer.probabilities(), expected)
    np.testing.assert_allclose(sampling_probabilities([1, 4, 9, 16, 0, 25], 0.5), expected)
    n = 30_000
    rows, indices, _ = buffer.sample_prioritized(n, np.random.default_rng(3), beta=0.4)
    np.testing.assert_array_equal(rows[:, 0], indices)  # each row is the transition at that index
    counts = np.bincount(indices, minlength=6)
    assert np.all(np.abs(counts - n * expected) <= 5 * np.sqrt(n * expected * (1 - expected)) + 1e-9)


def test_importance_weights_match_the_formula():
    buffer = PrioritizedReplayBuffer(capacity=8, obs_dim=2, alpha=0.7)
    priorities = np.array([0.5, 1.0, 2.0, 3.0, 0.1])
    buffer.add(*transitions(5), priorities=priorities)
    _, indices, weights = buffer.sample_prioritized(64, np.random.default_rng(0), beta=0.6)
    scaled = priorities**0.7
    P = scaled / scaled.sum()
    N = 5
    w = (N * P) ** -0.6
    np.testing.assert_allclose(weights, w[indices] / w.max(), rtol=1e-5)
    assert weights.max() <= 1.0
    # Weight of the least likely transition is 1; β = 0 gives no correction at all.
    np.testing.assert_allclose(importance_weights([P.min(), P.max()], N, 0.6), [1.0, (P.max() / P.min()) ** -0.6])
    np.testing.assert_array_equal(importance_weights(P, N, 0.0), np.ones(N))


def test_new_transitions_get_the_largest_priority_and_updates_move_it():
    buffer = PrioritizedReplayBuffer(capacity=4, obs_dim=2, alpha=1.0)
    buffer.add(*transitions(2))
    buffer.update_priorities([0], [7.0])
    buffer.add(*transitions(3))  # wraps: rows 2, 3, 0 get the max priority seen, 7
    np.testing.assert_allclose(buffer.priorities, [7.0, 1.0, 7.0, 7.0])
    buffer.update_priorities([1, 2], [0.5, 2.0])
    np.testing.assert_allclose(buffer.probabilities(), np.array([7, 0.5, 2, 7]) / 16.5)


def test_checkpoint_keeps_the_priorities():
    buffer = PrioritizedReplayBuffer(capacity=5, obs_dim=2, alpha=0.6)
    buffer.add(*transitions(4), priorities=[1, 2, 3, 4])
    other = PrioritizedReplayBuffer(capacity=5, obs_dim=2, alpha=0.6)
    other.load_state_dict(buffer.state_dict())
    np.testing.assert_allclose(other.probabilities(), buffer.probabilities())
    assert other.max_priority == buffer.max_priority


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: PrioritizedReplayBuffer(4, 2, alpha=1.5), "alpha"),
        (lambda: PrioritizedReplayBuffer(4, 2, alpha=-0.1), "alpha"),
        (lambda: PrioritizedReplayBuffer(4, 2).add(*transitions(2), priorities=[1.0, -1.0]), "priorities"),
        (lambda: PrioritizedReplayBuffer(4, 2).add(*transitions(2), priorities=[1.0, math.nan]), "priorities"),
        (lambda: PrioritizedReplayBuffer(4, 2).add(*transitions(2), priorities=[1.0]), "priorities"),
        (lambda: importance_weights([0.5], 2, beta=2.0), "beta"),
        (lambda: sampling_probabilities([1.0, -2.0], 0.5), "priorities"),
        (lambda: DQN("CartPole-v1", prioritized_replay=True, priority_alpha=1.2), "priority_alpha"),
        (lambda: DQN("CartPole-v1", prioritized_replay=True, priority_beta=-0.5), "priority_beta"),
        (lambda: DQN("CartPole-v1", prioritized_replay="yes"), "prioritized_replay"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


def test_sampling_bad_beta_and_empty_buffer():
    buffer = PrioritizedReplayBuffer(4, 2)
    with pytest.raises(ValueError, match="empty"):
        buffer.sample_prioritized(2, np.random.default_rng(0), beta=0.5)
    buffer.add(*transitions(2))
    with pytest.raises(ValueError, match="beta"):
        buffer.sample_prioritized(2, np.random.default_rng(0), beta=1.5)
    with pytest.raises(ValueError, match="priorities"):
        buffer.update_priorities([0], [-3.0])


def test_dqn_gradient_step_weights_each_loss_and_refreshes_priorities():
    torch.set_num_threads(1)
    agent = DQN(
        "CartPole-v1",
        seed=0,
        prioritized_replay=True,
        learning_starts=64,
        batch_size=32,
        train_freq=64,
        gradient_steps=1,
        priority_beta=1.0,
    )
    agent.learn_from(agent.collect(128))
    assert isinstance(agent.replay, PrioritizedReplayBuffer)
    touched = agent.replay.priorities[: len(agent.replay)]
    # After the gradient steps some priorities are |δ| + ε, no longer the initial 1.
    assert np.any(np.abs(touched - 1.0) > 1e-3)
    # Save and load keeps the priorities.
    import tempfile

    import drlkit

    with tempfile.TemporaryDirectory() as tmp:
        loaded = drlkit.load(agent.save(f"{tmp}/a.pt"))
    np.testing.assert_allclose(loaded.replay.priorities, agent.replay.priorities)


@pytest.mark.slow
def test_dqn_with_prioritized_replay_learns_cartpole():
    torch.set_num_threads(1)
    agent = DQN("CartPole-v1", seed=0, prioritized_replay=True)
    agent.train(20_000)
    assert agent.evaluate(10).mean() > 150
