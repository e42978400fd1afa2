"""REINFORCE: the Monte-Carlo loss, the baseline, no update without a finished episode.

The contract every algorithm shares (determinism, save/load, bad hyperparameters, History
columns, beating a random policy) is tested once for all in test_agent_contract.py."""

import numpy as np
import torch

from drlkit.agents.base import Fragment
from drlkit.agents.reinforce import REINFORCE

from agent_tools import (
    assert_same_parameters,
    one_thread,  # noqa: F401  (autouse fixture)
)


def test_without_baseline_there_is_no_critic():
    agent = REINFORCE("CartPole-v1", seed=0, baseline=False, n_steps=50)
    assert set(agent.networks()) == {"policy"}
    fragment = agent.collect()
    assert np.all(fragment.data["values"] == 0)
    assert set(agent.compute_gradients(fragment)[0]) == set(agent.get_parameters())


def _single_step_fragment(obs, action, reward, done):
    """A one-env fragment of two steps built by hand."""
    data = {
        "obs": np.array(obs, dtype=np.float32)[:, None],
        "actions": np.array(action)[:, None],
        "log_probs": np.zeros((2, 1), np.float32),
        "values": np.zeros((2, 1), np.float32),
        "rewards": np.array(reward, dtype=np.float32)[:, None],
        "dones": np.array(done)[:, None],
        "bootstrap_values": np.zeros((2, 1), np.float32),
        "last_values": np.zeros(1, np.float32),
    }
    return Fragment(data, 2)


def test_policy_gradient_is_the_score_function_times_the_return():
    """With no baseline and no normalisation, the loss gradient is
    -mean_t G_t grad log pi(a_t|s_t) over the steps of finished episodes only."""
    agent = REINFORCE("CartPole-v1", seed=0, baseline=False, normalize_advantage=False, gamma=0.5)
    obs = np.random.default_rng(0).normal(size=(2, 4))
    # The episode ends at step 0 (return 2.0); step 1 starts one that does not end: it is left out.
    fragment = _single_step_fragment(obs, [1, 0], [2.0, 7.0], [True, False])
    gradients, metrics = agent.compute_gradients(fragment)
    assert metrics["complete_fraction"] == 0.5
    agent.policy.zero_grad()
    log_prob = agent.policy(torch.tensor(obs[:1], dtype=torch.float32)).log_prob(torch.tensor([1]))
    (-(2.0 * log_prob).mean()).backward()
    for name, param in agent.policy.named_parameters():
        np.testing.assert_allclose(gradients[f"policy.{name}"], param.grad.numpy(), rtol=1e-5, atol=1e-8)


def test_no_finished_episode_means_no_update():
    agent = REINFORCE("CartPole-v1", seed=0)
    fragment = _single_step_fragment(np.zeros((2, 4)), [0, 1], [1.0, 1.0], [False, False])
    before = agent.get_parameters()
    gradients, metrics = agent.compute_gradients(fragment)
    assert metrics["complete_fraction"] == 0 and all(np.all(g == 0) for g in gradients.values())
    agent.learn_from(fragment)
    for key, value in agent.get_parameters().items():
        np.testing.assert_array_equal(value, before[key])


def test_learn_from_equals_compute_then_apply_gradients():
    learner, worker = REINFORCE("CartPole-v1", seed=0), REINFORCE("CartPole-v1", seed=0)
    fragment = learner.collect()
    worker.apply_gradients(worker.compute_gradients(fragment)[0])
    learner.learn_from(fragment)
    assert_same_parameters(learner, worker)
