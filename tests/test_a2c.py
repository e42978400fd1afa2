"""A2C: the gradient hooks, the gradient of a split fragment, plain and clipped steps.

The contract every algorithm shares (determinism, save/load, bad hyperparameters, History
columns, beating a random policy) is tested once for all in test_agent_contract.py."""

import numpy as np
import pytest

from drlkit.agents.a2c import A2C
from drlkit.agents.base import Fragment

from agent_tools import (
    assert_same_parameters,
    one_thread,  # noqa: F401  (autouse fixture)
)


def test_learn_from_equals_compute_then_apply_gradients():
    learner, worker = A2C("CartPole-v1", seed=0), A2C("CartPole-v1", seed=0)
    fragment = learner.collect()
    gradients, metrics = worker.compute_gradients(fragment)
    assert set(metrics) == set(A2C.LOG_KEYS)
    worker.apply_gradients(gradients)
    learner.learn_from(fragment)
    assert_same_parameters(learner, worker)


def test_gradient_of_a_fragment_is_the_mean_of_its_halves():
    """What synchronous data-parallel A2C relies on: averaging the gradients of two
    workers' rollouts gives the gradient on their union."""
    agent = A2C("CartPole-v1", seed=0, num_envs=8)
    fragment = agent.collect()

    def half(columns):
        data = {k: (v[columns] if k == "last_values" else v[:, columns]) for k, v in fragment.data.items()}
        return Fragment(data, fragment.n_steps // 2)

    whole, _ = agent.compute_gradients(fragment)
    left, _ = agent.compute_gradients(half(slice(0, 4)))
    right, _ = agent.compute_gradients(half(slice(4, 8)))
    for key in whole:
        np.testing.assert_allclose((left[key] + right[key]) / 2, whole[key], rtol=1e-4, atol=1e-6)


def test_apply_gradients_with_sgd_is_a_plain_gradient_step():
    agent = A2C("CartPole-v1", seed=0, optimizer="sgd", learning_rate=0.01, max_grad_norm=None)
    before = agent.get_parameters()
    gradients, _ = agent.compute_gradients(agent.collect())
    agent.apply_gradients(gradients)
    after = agent.get_parameters()
    for key in gradients:
        np.testing.assert_allclose(after[key], before[key] - 0.01 * gradients[key], rtol=1e-6, atol=1e-7)


def test_gradient_norm_is_clipped():
    agent = A2C("CartPole-v1", seed=0, optimizer="sgd", learning_rate=1.0, max_grad_norm=0.1)
    before = agent.get_parameters()
    gradients, _ = agent.compute_gradients(agent.collect())
    assert np.sqrt(sum((g**2).sum() for g in gradients.values())) > 0.1
    agent.apply_gradients(gradients)
    moved = np.sqrt(sum(((agent.get_parameters()[k] - before[k]) ** 2).sum() for k in gradients))
    assert moved == pytest.approx(0.1, rel=1e-3)


def test_apply_gradients_rejects_mismatched_gradients():
    agent = A2C("CartPole-v1", seed=0)
    gradients, _ = agent.compute_gradients(agent.collect())
    key = next(iter(gradients))
    with pytest.raises(ValueError, match="missing"):
        agent.apply_gradients({k: v for k, v in gradients.items() if k != key})
    with pytest.raises(ValueError, match="shape"):
        agent.apply_gradients({**gradients, key: np.zeros(3)})
