"""A2C: learning, determinism, checkpoints, gradient hooks and input validation."""
import numpy as np
import pytest

import drlkit
from drlkit.agents.a2c import A2C
from drlkit.agents.base import Fragment

from agent_tools import (
    RANDOM_CARTPOLE_RETURN,
    assert_reloaded_agent_acts_and_learns_alike,
    assert_same_parameters,
    history_frame,
    one_thread,  # noqa: F401  (autouse fixture)
)


@pytest.mark.slow
def test_beats_random_policy_on_cartpole_quickly():
    agent = A2C("CartPole-v1", seed=0)
    agent.train(25_000)
    assert agent.evaluate(10).mean() > 5 * RANDOM_CARTPOLE_RETURN


def test_same_seed_same_history_and_different_seed_differs():
    runs = [A2C("CartPole-v1", seed=s) for s in (3, 3, 4)]
    for agent in runs:
        agent.train(2_000)
    assert history_frame(runs[0]).equals(history_frame(runs[1]))
    assert not history_frame(runs[0]).equals(history_frame(runs[2]))


def test_save_load_round_trip_and_continued_training(tmp_path):
    agent = A2C("CartPole-v1", seed=0)
    agent.train(2_000)
    loaded = drlkit.load(agent.save(tmp_path / "a2c.pt"))
    assert loaded.optimizer.state_dict()["state"].keys() == agent.optimizer.state_dict()["state"].keys()
    # The same fragment gives the same update in both (same parameters, same RMSprop statistics).
    assert_reloaded_agent_acts_and_learns_alike(agent, loaded)
    loaded.train(1_000)
    assert loaded.total_steps > agent.total_steps


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
    assert np.sqrt(sum((g ** 2).sum() for g in gradients.values())) > 0.1
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


@pytest.mark.parametrize("bad, field", [
    (dict(learning_rate=-1e-3), "learning_rate"),
    (dict(gamma=1.01), "gamma"),
    (dict(gae_lambda=-0.1), "gae_lambda"),
    (dict(n_steps=0), "n_steps"),
    (dict(num_envs=-2), "num_envs"),
    (dict(ent_coef=-1.0), "ent_coef"),
    (dict(vf_coef=-1.0), "vf_coef"),
    (dict(optimizer="adagrad"), "optimizer"),
    (dict(max_grad_norm=0), "max_grad_norm"),
    (dict(normalize_advantage=1), "normalize_advantage"),
])
def test_bad_hyperparameters_name_the_field(bad, field):
    with pytest.raises((ValueError, TypeError), match=field):
        A2C("CartPole-v1", **bad)


def test_unknown_env_id_is_reported():
    with pytest.raises(ValueError, match="unknown gymnasium environment id 'Cartpole-v1'"):
        A2C("Cartpole-v1")
