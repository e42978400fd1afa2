"""PPO: solving CartPole and Pendulum, the gradient hooks, annealing, value clipping.

The contract every algorithm shares (determinism, save/load, bad hyperparameters, History
columns, beating a random policy) is tested once for all in test_agent_contract.py."""

import numpy as np
import pytest

import drlkit
from drlkit.agents.ppo import PPO

from agent_tools import (
    history_frame,
    one_thread,  # noqa: F401  (autouse fixture)
)


@pytest.mark.slow
def test_solves_cartpole_within_benchmark_budget():
    agent = PPO("CartPole-v1", seed=0)
    best = 0.0
    while agent.total_steps < 100_000 and best < 475:
        agent.train(5_000)
        best = max(best, agent.evaluate(20).mean())
    assert best >= 475, f"best evaluation {best:.1f} after {agent.total_steps} steps"


@pytest.mark.slow
def test_improves_clearly_on_pendulum():
    agent = PPO("Pendulum-v1", seed=0, **PPO.pendulum_config())
    before = agent.evaluate(10).mean()
    agent.train(50_000)
    after = agent.evaluate(10).mean()
    assert before < -1000 and after > before + 500, (before, after)


def test_annealing_continues_where_a_checkpoint_stopped(tmp_path):
    agent = PPO("CartPole-v1", seed=0, n_steps=16, num_envs=4, batch_size=32, n_epochs=2, anneal_steps=5_000)
    agent.train(1_000)
    loaded = drlkit.load(agent.save(tmp_path / "ppo.pt"))
    # Training continues where it stopped: same annealing progress, same optimizer state.
    for a in (agent, loaded):
        a.train(500)
    assert loaded.total_steps == agent.total_steps
    np.testing.assert_allclose(loaded.history.updates("learning_rate"), agent.history.updates("learning_rate"))
    assert np.all(np.isfinite(loaded.history.updates("policy_loss")))


def test_compute_and_apply_gradients_equal_one_full_batch_update():
    config = dict(n_steps=16, num_envs=4, batch_size=64, n_epochs=1)
    learner, worker = PPO("CartPole-v1", seed=0, **config), PPO("CartPole-v1", seed=0, **config)
    fragment = learner.collect()
    gradients, metrics = worker.compute_gradients(fragment)
    assert set(gradients) == set(worker.get_parameters())
    assert all(
        isinstance(g, np.ndarray) and g.shape == p.shape
        for g, p in zip(gradients.values(), worker.get_parameters().values())
    )
    assert metrics["clip_fraction"] == 0.0  # the ratio is exactly 1 at the collecting parameters
    worker.apply_gradients(gradients)
    learner.learn_from(fragment)  # one epoch, one minibatch = the whole fragment
    for key, value in learner.get_parameters().items():
        np.testing.assert_allclose(worker.get_parameters()[key], value, rtol=1e-5, atol=1e-7, err_msg=key)


def test_learn_from_a_fragment_collected_elsewhere():
    learner, worker = PPO("CartPole-v1", seed=0), PPO("CartPole-v1", seed=1)
    worker.set_parameters(learner.get_parameters())
    before = learner.get_parameters()
    metrics = learner.learn_from(worker.collect())
    assert set(metrics) == set(PPO.LOG_KEYS)
    assert any(not np.array_equal(before[k], v) for k, v in learner.get_parameters().items())
    assert learner.total_steps == 0  # the learner counts steps it collects, not the worker's


def test_linear_annealing_of_learning_rate_and_clip_range():
    agent = PPO(
        "CartPole-v1",
        seed=0,
        n_steps=16,
        num_envs=4,
        batch_size=64,
        n_epochs=1,
        learning_rate=1e-3,
        clip_range=0.2,
        anneal_steps=640,
    )
    agent.train(1_000)
    frame = agent.history.to_frame().query("event == 'update'")
    remaining = np.clip(1 - frame["step"].to_numpy() / 640, 0, None)
    np.testing.assert_allclose(frame["learning_rate"], 1e-3 * remaining, rtol=1e-6)
    np.testing.assert_allclose(frame["clip_range"], 0.2 * remaining, rtol=1e-6)
    assert agent.optimizer.param_groups[0]["lr"] == 0.0


def test_value_clipping_only_increases_the_value_loss():
    agent = PPO("CartPole-v1", seed=0, n_steps=16, num_envs=4, batch_size=64)
    batch = agent._batch(agent.collect())
    batch["old_values"] = batch["old_values"] + 3.0  # the critic moved far from the collecting one
    _, unclipped = agent._loss(batch, clip_range=0.2)
    agent.config.clip_range_vf = 0.1
    _, clipped = agent._loss(batch, clip_range=0.2)
    assert clipped["value_loss"] > unclipped["value_loss"]
    assert clipped["policy_loss"] == unclipped["policy_loss"]


@pytest.mark.parametrize(
    "env, config",
    [
        ("CartPole-v1", dict(n_steps=16, num_envs=4, batch_size=32, n_epochs=2)),
        (
            "CartPole-v1",
            dict(
                n_steps=32,
                num_envs=2,
                batch_size=64,
                n_epochs=3,
                anneal_steps=1_500,
                ent_coef=0.01,
                clip_range_vf=0.2,
                normalize_advantage=False,
            ),
        ),
        ("Pendulum-v1", dict(n_steps=64, num_envs=2, batch_size=32, n_epochs=2, log_std_init=-0.5, gamma=0.9)),
    ],
)
def test_single_file_ppo_is_the_same_algorithm_as_the_agent(env, config):
    """The one-screen version (drlkit.agents.ppo_single_file) logs the same History, number for number."""
    from drlkit.agents.ppo_single_file import train_ppo

    agent = PPO(env, seed=5, **config)
    agent.train(1_500)
    single = train_ppo(env, 1_500, seed=5, **config).to_frame().drop(columns="wall_time")
    expected = history_frame(agent)
    assert (expected.event == "episode").sum() >= 2 and (expected.event == "update").sum() >= 2
    assert list(single.columns) == list(expected.columns)
    assert single.equals(expected), single.compare(expected).head()


def test_single_file_ppo_checks_its_hyperparameters():
    from drlkit.agents.ppo_single_file import train_ppo

    with pytest.raises(TypeError, match="did you mean 'clip_range'"):
        train_ppo("CartPole-v1", 100, clip_rang=0.1)
