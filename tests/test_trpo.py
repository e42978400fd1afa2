"""TRPO: conjugate gradient, the natural gradient, the trust-region step and its line search.

The contract every algorithm shares (determinism, save/load, bad hyperparameters, History
columns, beating a random policy) is tested once for all in test_agent_contract.py."""

import copy

import numpy as np
import pytest
import torch

from drlkit.agents.trpo import TRPO, conjugate_gradient

from agent_tools import (
    one_thread,  # noqa: F401  (autouse fixture)
)


def test_conjugate_gradient_solves_a_symmetric_positive_definite_system():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(12, 12))
    a = m @ m.T + 0.5 * np.eye(12)
    b = rng.normal(size=12)
    matrix = torch.tensor(a)
    x = conjugate_gradient(lambda v: matrix @ v, torch.tensor(b), iters=40)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), rtol=1e-6, atol=1e-8)


def test_conjugate_gradient_is_exact_after_n_steps_on_a_small_system():
    a = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
    b = np.array([1.0, -2.0, 0.5])
    matrix = torch.tensor(a)
    x = conjugate_gradient(lambda v: matrix @ v, torch.tensor(b), iters=3)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), rtol=1e-10)
    # Fewer iterations: only an approximation.
    x1 = conjugate_gradient(lambda v: matrix @ v, torch.tensor(b), iters=1)
    assert not np.allclose(x1.numpy(), np.linalg.solve(a, b))


def _mean_kl(old_policy, new_policy, obs):
    with torch.no_grad():
        return float(old_policy(obs).kl(new_policy(obs)).mean())


@pytest.mark.parametrize("env, max_kl", [("CartPole-v1", 0.01), ("CartPole-v1", 1e-4), ("Pendulum-v1", 0.005)])
def test_policy_step_satisfies_the_kl_constraint(env, max_kl):
    agent = TRPO(env, seed=0, max_kl=max_kl, n_steps=64, num_envs=4)
    for _ in range(3):
        fragment = agent.collect()
        old_policy = copy.deepcopy(agent.policy)
        metrics = agent.learn_from(fragment)
        kl = _mean_kl(old_policy, agent.policy, torch.from_numpy(fragment.data["obs"]))
        assert metrics["step_fraction"] > 0, "the line search should accept a step"
        assert 0 < kl <= max_kl * (1 + 1e-4)
        assert kl == pytest.approx(metrics["kl"], rel=1e-3)
        assert metrics["surrogate_improvement"] > 0


def test_rejected_line_search_keeps_the_old_policy():
    agent = TRPO("CartPole-v1", seed=0, n_steps=64, num_envs=4, backtrack_iters=1)
    fragment = agent.collect()
    # Zero rewards and values make every advantage zero: no step can improve the surrogate,
    # so the line search accepts none.
    fragment.data["rewards"][:] = 0.0
    fragment.data["values"][:] = 0.0
    fragment.data["bootstrap_values"][:] = 0.0
    fragment.data["last_values"][:] = 0.0
    before = {k: v.copy() for k, v in agent.get_parameters().items() if k.startswith("policy.")}
    metrics = agent.learn_from(fragment)
    assert metrics["step_fraction"] == 0.0 and metrics["kl"] == 0.0
    for key, value in before.items():
        np.testing.assert_array_equal(agent.get_parameters()[key], value)


def test_natural_gradient_solves_the_damped_fisher_system():
    """x = (F + damping I)^-1 g: enough conjugate-gradient steps make F x + damping x equal g."""
    agent = TRPO("CartPole-v1", seed=0, n_steps=32, num_envs=4, hidden_sizes=(4,))
    fragment = agent.collect()
    obs = torch.from_numpy(fragment.data["obs"].reshape(-1, 4))
    actions = torch.from_numpy(fragment.data["actions"].reshape(-1))
    old_log_probs = torch.from_numpy(fragment.data["log_probs"].reshape(-1))
    advantages = torch.from_numpy(np.random.default_rng(0).normal(size=len(obs)).astype(np.float32))
    problem = TRPO.natural_gradient(agent.policy, obs, actions, old_log_probs, advantages, cg_iters=60, damping=0.1)
    n_params = sum(p.numel() for p in agent.policy.parameters())
    assert problem.gradient.shape == problem.direction.shape == (n_params,)
    torch.testing.assert_close(problem.fisher_product(problem.direction), problem.gradient, rtol=1e-3, atol=1e-5)
    # At the collecting parameters the surrogate is the mean advantage and the KL is 0.
    assert problem.surrogate_old.item() == pytest.approx(float(advantages.mean()), abs=1e-6)
    assert problem.mean_kl().item() == pytest.approx(0.0, abs=1e-7)
