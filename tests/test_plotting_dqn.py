"""Figures and widgets of the DQN notebook: ε schedule, greedy episodes, Q-network snapshots."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from drlkit.agents.dqn import DQN  # noqa: E402
from drlkit.exercises.dqn import reference_epsilon  # noqa: E402
from drlkit.plotting.dqn import (  # noqa: E402
    QNetworkRecorder,
    epsilon_schedule,
    greedy_episode,
    plot_epsilon_schedule,
    plot_q_values,
)
from drlkit.widgets.dqn import explore_epsilon_schedule, explore_q_values  # noqa: E402

from agent_tools import one_thread  # noqa: E402,F401  (autouse fixture)

SMALL = dict(
    hidden_sizes=(16,),
    learning_starts=100,
    train_freq=50,
    gradient_steps=2,
    batch_size=16,
    buffer_size=1_000,
    exploration_steps=400,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_epsilon_schedule_agrees_with_the_agent_and_the_exercise():
    agent = DQN(
        "CartPole-v1", exploration_initial_eps=0.9, exploration_final_eps=0.05, **{k: v for k, v in SMALL.items()}
    )
    steps = np.array([0, 1, 100, 399, 400, 401, 5000])
    expected = [agent.exploration_rate(int(s)) for s in steps]
    np.testing.assert_allclose(epsilon_schedule(steps, 0.9, 0.05, 400), expected)
    np.testing.assert_allclose([reference_epsilon(int(s), 0.9, 0.05, 400) for s in steps], expected)
    np.testing.assert_allclose(epsilon_schedule(steps, 0.9, 0.05, 0), 0.05)


def test_plot_epsilon_schedule_reports_the_share_of_random_steps():
    ax = plot_epsilon_schedule(1.0, 0.0, 1000, 2000, learning_starts=300)
    # mean of ε over steps 0..1999: (sum_{s<1000} (1 - s/1000)) / 2000 = 500.5 / 2000 = 25.0 %
    assert "random actions: 25%" in ax.get_legend().get_texts()[0].get_text()
    x, y = ax.get_lines()[0].get_data()
    np.testing.assert_allclose(y, np.clip(1 - x / 1000, 0, 1))
    with pytest.raises(ValueError, match="final"):
        plot_epsilon_schedule(1.0, 1.5, 1000, 2000)


def test_greedy_episode_matches_evaluate():
    agent = DQN("CartPole-v1", seed=0, **SMALL)
    agent.train(600)
    states, rewards = greedy_episode(agent, seed=123)
    assert states.shape == (len(rewards), 4)
    assert rewards.sum() == agent.evaluate(1, seed=123)[0]
    np.testing.assert_array_equal(agent.act(states[:5]), [agent.act(s) for s in states[:5]])
    short, _ = greedy_episode(agent, seed=123, max_steps=3)
    np.testing.assert_array_equal(short, states[:3])


def test_recorder_keeps_snapshots_at_the_requested_steps():
    agent = DQN("CartPole-v1", seed=0, **SMALL)
    states = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    untrained = agent.q_values(states)
    recorder = QNetworkRecorder(every=200)
    recorder.record(agent)
    agent.train(800, callbacks=recorder)
    # updates happen every 50 steps from step 150 on; a snapshot at the first update after each multiple of 200
    np.testing.assert_array_equal(recorder.steps, [0, 200, 400, 600, 800])
    q = recorder.q_values(states)
    assert q.shape == (5, 7, 2)
    np.testing.assert_allclose(q[0], untrained, rtol=1e-6)
    np.testing.assert_allclose(q[-1], agent.q_values(states), rtol=1e-6)  # the last snapshot is the end
    assert not np.allclose(q[0], q[-1])
    with pytest.raises(ValueError, match="no snapshots"):
        QNetworkRecorder(every=10).q_values(states)
    with pytest.raises(ValueError, match="states"):
        recorder.q_values(states[0])


def test_plot_q_values_draws_each_action_and_checks_its_input():
    steps = np.array([0, 1000, 2000])
    q = np.random.default_rng(0).normal(size=(3, 50, 2)) + np.array([0.0, 10.0, 50.0])[:, None, None]
    values, centred, training = plot_q_values(steps, q, index=1, gamma=0.99, action_labels=["left", "right"])
    np.testing.assert_allclose(values.get_lines()[0].get_ydata(), q[1, :, 0])
    np.testing.assert_allclose(values.get_lines()[1].get_ydata(), q[1, :, 1])
    half_gap = (q[1, :, 0] - q[1, :, 1]) / 2  # with two actions, centring gives plus/minus half the gap
    np.testing.assert_allclose(centred.get_lines()[0].get_ydata(), half_gap)
    np.testing.assert_allclose(centred.get_lines()[1].get_ydata(), -half_gap)
    np.testing.assert_allclose(training.get_lines()[0].get_ydata(), q.max(axis=2).mean(axis=1))
    assert "1,000" in values.get_title()
    with pytest.raises(ValueError, match="index"):
        plot_q_values(steps, q, index=3)
    with pytest.raises(ValueError, match="q_values"):
        plot_q_values(steps, q[0])
    with pytest.raises(ValueError, match="action_labels"):
        plot_q_values(steps, q, action_labels=["only one"])


def test_widgets_redraw_when_a_slider_moves(monkeypatch):
    drawn = []
    monkeypatch.setattr("drlkit.widgets.dqn.plot_q_values", lambda *a, **k: drawn.append(k.get("index")))
    q = np.zeros((4, 10, 2))
    widget = explore_q_values(np.arange(4) * 100, q, gamma=0.9)
    widget.slider.value = 3
    assert drawn[-2:] == [0, 3]  # the first drawing, then the one for the new slider value
    assert widget.slider.max == 3

    schedule = explore_epsilon_schedule(1.0, 0.05, 2000, total_steps=10_000, learning_starts=500)
    schedule.decay.value = 4000
    schedule.final.value = 0.2
    with pytest.raises(ValueError, match="exploration_steps"):
        explore_epsilon_schedule(exploration_steps=50_000, total_steps=10_000)
