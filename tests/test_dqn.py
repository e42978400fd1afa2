"""DQN and Double DQN: the TD targets, the ε schedule, the hooks, the update schedule, what a checkpoint keeps.

The contract every algorithm shares (determinism, save/load, bad hyperparameters, History
columns, beating a random policy) is tested once for all in test_agent_contract.py."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import drlkit
from drlkit.agents.dqn import DQN, td_target

from agent_tools import (
    history_frame,
    one_thread,  # noqa: F401  (autouse fixture)
)

SMALL = dict(
    hidden_sizes=(32,),
    learning_starts=200,
    train_freq=50,
    gradient_steps=10,
    batch_size=32,
    buffer_size=2_000,
    exploration_steps=1_000,
)


# ---------------------------------------------------------------- TD targets
def test_dqn_and_double_dqn_targets_follow_their_formulas():
    gamma = 0.9
    rewards = torch.tensor([1.0, 0.5, -1.0, 0.0])
    terminated = torch.tensor([0.0, 0.0, 1.0, 0.0])
    next_q_target = torch.tensor([[1.0, 4.0], [2.0, 3.0], [5.0, 6.0], [7.0, -1.0]])
    next_q_online = torch.tensor([[9.0, 0.0], [0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])

    # independent computation, one transition at a time
    expected_dqn, expected_double = [], []
    for i in range(4):
        bootstrap = 0.0 if terminated[i] else gamma
        expected_dqn.append(float(rewards[i]) + bootstrap * max(next_q_target[i].tolist()))
        chosen = int(np.argmax(next_q_online[i].tolist()))
        expected_double.append(float(rewards[i]) + bootstrap * float(next_q_target[i, chosen]))
    assert expected_dqn == pytest.approx([1 + 0.9 * 4, 0.5 + 0.9 * 3, -1.0, 0.9 * 7])

    dqn = td_target(rewards, terminated, next_q_target, gamma)
    double = td_target(rewards, terminated, next_q_target, gamma, next_q_online)
    assert dqn.tolist() == pytest.approx(expected_dqn)
    assert double.tolist() == pytest.approx(expected_double)
    # They differ only where the online network prefers another action than the target network,
    # by gamma * (max of the target row - target value of the online choice); row 0: 0.9 * (4 - 1).
    assert (dqn - double).tolist() == pytest.approx([0.9 * 3, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("double_dqn", [True, False])
def test_agent_targets_use_the_online_and_target_networks_as_configured(double_dqn):
    agent = DQN("CartPole-v1", seed=0, double_dqn=double_dqn, gamma=0.95, **SMALL)
    with torch.no_grad():  # make the two networks disagree
        for p in agent.target_net.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    batch = {
        "next_obs": torch.randn(16, 4, generator=torch.Generator().manual_seed(2)),
        "rewards": torch.linspace(-1, 1, 16),
        "terminated": (torch.arange(16) % 3 == 0).float(),
    }
    q_online = agent.q_net(batch["next_obs"]).detach().numpy()
    q_target = agent.target_net(batch["next_obs"]).detach().numpy()
    choice = q_online.argmax(1) if double_dqn else q_target.argmax(1)
    assert (q_online.argmax(1) != q_target.argmax(1)).any()  # the test can tell the two apart
    expected = batch["rewards"].numpy() + 0.95 * (1 - batch["terminated"].numpy()) * q_target[np.arange(16), choice]
    np.testing.assert_allclose(agent._td_targets(batch).numpy(), expected, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------ exploration
def test_epsilon_decays_linearly_over_exploration_steps_then_stays():
    agent = DQN(
        "CartPole-v1",
        exploration_initial_eps=1.0,
        exploration_final_eps=0.1,
        exploration_steps=1000,
        **{k: v for k, v in SMALL.items() if k != "exploration_steps"},
    )
    assert agent.exploration_rate(0) == 1.0
    assert agent.exploration_rate(500) == pytest.approx(0.55)
    assert agent.exploration_rate(1000) == pytest.approx(0.1)
    assert agent.exploration_rate(50_000) == pytest.approx(0.1)
    agent.train(600)
    assert agent.exploration_rate() == pytest.approx(1.0 - 0.9 * agent.total_steps / 1000)
    # a second call continues the schedule instead of restarting it
    agent.train(600)
    assert agent.exploration_rate() == pytest.approx(0.1)
    assert (
        DQN(
            "CartPole-v1", exploration_steps=0, **{k: v for k, v in SMALL.items() if k != "exploration_steps"}
        ).exploration_rate()
        == 0.04
    )


# ------------------------------------------------------------------ hooks
def test_collect_returns_true_transitions_and_advances_steps():
    agent = DQN("CartPole-v1", seed=3, num_envs=2, **SMALL)
    fragment = agent.collect(301)  # rounded up to whole steps of both envs
    assert fragment.n_steps == 302 and agent.total_steps == 302
    data = fragment.data
    assert data["obs"].shape == data["next_obs"].shape == (151, 2, 4)
    assert data["actions"].shape == data["rewards"].shape == data["terminated"].shape == (151, 2)
    assert set(np.unique(data["actions"])) <= {0, 1}
    # CartPole terminates when the pole or cart leaves its bounds: the stored s' of a terminal
    # transition must be that out-of-bounds state, not the first state of the next episode.
    terminal_next = data["next_obs"][data["terminated"]]
    assert len(terminal_next) == len(fragment.episode_returns) > 0
    out_of_bounds = (np.abs(terminal_next[:, 0]) > 2.4) | (np.abs(terminal_next[:, 2]) > 12 * 2 * np.pi / 360)
    assert out_of_bounds.all()
    # elsewhere s' is the next step's s
    continuing = ~data["terminated"][:-1]
    np.testing.assert_array_equal(data["next_obs"][:-1][continuing], data["obs"][1:][continuing])
    assert sum(fragment.episode_lengths) <= 302


def test_time_limit_truncation_is_not_terminal():
    agent = DQN(lambda: gym.make("CartPole-v1", max_episode_steps=5), seed=0, **SMALL)
    fragment = agent.collect(40)
    # With ε = 1 CartPole rarely falls within 5 steps: most episodes end by truncation, which
    # must not be stored as terminal (the learner keeps bootstrapping from s').
    assert fragment.episode_lengths.count(5) >= 3
    assert fragment.data["terminated"].sum() == sum(1 for n in fragment.episode_lengths if n < 5)


def test_learn_from_adds_to_replay_and_takes_the_gradient_steps_due():
    agent = DQN("CartPole-v1", seed=0, **SMALL)  # learning_starts=200, train_freq=50, gradient_steps=10
    assert agent.learn_from(agent.collect(150)) == {}  # before learning_starts: only stored
    assert len(agent.replay) == 150 and agent._n_updates == 0
    before = [p.clone() for p in agent.q_net.parameters()]
    metrics = agent.learn_from(agent.collect(100))  # 50 steps after learning_starts: one round is due
    assert agent._n_updates == 10
    assert set(metrics) == set(DQN.LOG_KEYS) and np.isfinite(metrics["loss"])
    assert any(not torch.equal(a, b) for a, b in zip(before, agent.q_net.parameters()))
    assert agent.learn_from(agent.collect(30)) == {}  # 30 < train_freq: nothing due yet
    agent.learn_from(agent.collect(170))  # 200 steps since the last round: four rounds
    assert agent._n_updates == 50
    assert len(agent.replay) == 450


def test_training_rounds_do_not_depend_on_how_steps_are_split():
    whole, pieces = DQN("CartPole-v1", seed=0, **SMALL), DQN("CartPole-v1", seed=0, **SMALL)
    whole.learn_from(whole.collect(430))
    for n in (130, 90, 7, 203):
        pieces.learn_from(pieces.collect(n))
    assert whole._n_updates == pieces._n_updates == 40  # (430 - 200) // 50 rounds of 10


def test_learn_from_a_fragment_collected_by_another_agent():
    learner = DQN("CartPole-v1", seed=0, **SMALL)
    worker = DQN("CartPole-v1", seed=1, **SMALL)
    worker.set_parameters(learner.get_parameters())
    np.testing.assert_array_equal(worker.act(np.ones((3, 4))), learner.act(np.ones((3, 4))))
    learner.learn_from(worker.collect(300))
    assert learner._n_updates == 20 and learner.total_steps == 0  # collect counts steps, learn_from does not


def test_hard_and_soft_target_updates():
    hard = DQN("CartPole-v1", seed=0, target_update_interval=7, **SMALL)
    hard.learn_from(hard.collect(500))  # 60 gradient steps; last copy after step 56
    assert hard._n_updates == 60  # then 4 steps without a copy
    online, target = hard.get_parameters(), hard.target_net.state_dict()
    assert any(not np.array_equal(online[f"q_net.{k}"], v.numpy()) for k, v in target.items())

    copy_each_step = DQN("CartPole-v1", seed=0, target_update_interval=1, **SMALL)
    copy_each_step.learn_from(copy_each_step.collect(300))
    assert copy_each_step._n_updates == 20
    for key, value in copy_each_step.target_net.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), copy_each_step.get_parameters()[f"q_net.{key}"])

    soft = DQN("CartPole-v1", seed=0, target_update_interval=1, tau=0.1, **SMALL)
    old_target = {k: v.clone() for k, v in soft.target_net.state_dict().items()}
    soft._update_target()
    for key, value in soft.target_net.state_dict().items():
        online = soft.q_net.state_dict()[key]
        torch.testing.assert_close(value, 0.9 * old_target[key] + 0.1 * online)


# ---------------------------------------------------------------- learning
@pytest.mark.slow
def test_solves_cartpole_within_its_budget():
    """Mean of 20 greedy episodes reaches 475 (of 500) on seed 0 within 60k steps of the defaults."""
    agent = DQN("CartPole-v1", seed=0)
    best = 0.0
    while agent.total_steps < 60_000:
        agent.train(5_000)
        best = max(best, agent.evaluate(20).mean())
        if best >= 475:
            break
    assert best >= 475, f"best mean evaluation return {best:.1f} after {agent.total_steps} steps"


def test_train_logs_episodes_and_one_update_per_train_freq_steps():
    agent = DQN("CartPole-v1", seed=0, **SMALL)
    agent.train(1_000)
    frame = agent.history.to_frame()
    episodes = frame[frame.event == "episode"]
    assert episodes.episode_length.sum() <= 1_000 and len(episodes) > 10
    # the step logged with each episode is when it ended: lengths add up to it (one env)
    np.testing.assert_array_equal(episodes.step.to_numpy(), np.cumsum(episodes.episode_length.to_numpy()))
    updates = frame[frame.event == "update"]
    assert len(updates) == (1_000 - 200) // 50 and updates.loss.notna().all()


# ------------------------------------------------------------ checkpoints
def test_save_load_round_trip_acts_identically_and_continues(tmp_path):
    agent = DQN("CartPole-v1", seed=4, **SMALL)
    agent.train(800)
    path = agent.save(tmp_path / "dqn.pt")
    loaded = drlkit.load(path)
    assert isinstance(loaded, DQN) and loaded.total_steps == agent.total_steps
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))
    np.testing.assert_allclose(loaded.q_values(obs), agent.q_values(obs))
    np.testing.assert_array_equal(loaded.replay.rows, agent.replay.rows)
    for key, value in agent.target_net.state_dict().items():
        torch.testing.assert_close(loaded.target_net.state_dict()[key], value, rtol=0, atol=0)
    assert loaded.exploration_rate() == agent.exploration_rate()
    assert history_frame(loaded).equals(history_frame(agent))

    # Training continues from the checkpoint (replay, schedule, RNGs, optimizer), the same
    # way every time it is loaded; the envs start fresh episodes.
    again = drlkit.load(path)
    n_updates = loaded._n_updates
    loaded.train(500)
    again.train(500)
    assert loaded.total_steps == agent.total_steps + 500
    assert loaded._n_updates == n_updates + 100
    assert len(loaded.replay) == 1_300
    assert history_frame(loaded).equals(history_frame(again))


# ---------------------------------------------------------------- bad input
def test_continuous_actions_are_refused_with_a_suggestion():
    with pytest.raises(ValueError, match="Discrete") as info:
        DQN("Pendulum-v1")
    assert "PPO" in str(info.value) and "Pendulum-v1" in str(info.value)


def test_exploration_rate_of_an_array_of_steps_is_the_schedule_elementwise():
    agent = DQN(
        "CartPole-v1",
        exploration_initial_eps=0.9,
        exploration_final_eps=0.05,
        exploration_steps=400,
        **{k: v for k, v in SMALL.items() if k != "exploration_steps"},
    )
    steps = np.array([0, 1, 199, 400, 401, 10_000])
    np.testing.assert_array_equal(agent.exploration_rate(steps), [agent.exploration_rate(int(s)) for s in steps])
    assert isinstance(agent.exploration_rate(3), float)
