"""LiveCurve: the data it holds, its labels, throttled redraws and harmless use outside a notebook."""

import numpy as np
import pytest

from drlkit.agents.dqn import DQN
from drlkit.plotting import live as live_module
from drlkit.plotting.live import LiveCurve, moving_average

from agent_tools import one_thread  # noqa: F401  (autouse fixture)

SMALL = dict(hidden_sizes=(16,), learning_starts=100, train_freq=50, gradient_steps=2, batch_size=16, buffer_size=1_000)


def test_moving_average_matches_a_direct_computation():
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0])
    expected = [np.mean(values[max(0, i - 2) : i + 1]) for i in range(len(values))]
    np.testing.assert_allclose(moving_average(values, 3), expected)
    np.testing.assert_allclose(moving_average(values, 1), values)
    np.testing.assert_allclose(moving_average(values, 100), np.cumsum(values) / np.arange(1, 8))
    assert moving_average(np.array([]), 5).shape == (0,)
    with pytest.raises(ValueError, match="window"):
        moving_average(values, 0)


def test_callback_holds_the_agents_episodes():
    live = LiveCurve(every=0.0)
    agent = DQN("CartPole-v1", seed=0, **SMALL)
    agent.train(600, callbacks=live)
    ((label, (x, y)),) = live.curves.items()
    assert label == "DQN seed 0"
    np.testing.assert_array_equal(x, agent.history.episode_steps)
    np.testing.assert_array_equal(y, agent.history.episode_returns)
    assert len(y) > 5


def test_several_runs_get_their_own_curves():
    live = LiveCurve(every=3600)
    agents = [DQN("CartPole-v1", seed=0, **SMALL) for _ in range(2)]
    for agent in agents:
        agent.train(200, callbacks=live)  # same class and seed: labels must still differ
    third = DQN("CartPole-v1", seed=1, **SMALL)
    third.train(200, callbacks=live.track("no replay"))
    assert list(live.curves) == ["DQN seed 0", "DQN seed 0 (2)", "no replay"]
    agents[0].train(200, callbacks=live)  # continuing a run extends its own curve
    assert len(live.curves) == 3
    np.testing.assert_array_equal(live.curves["DQN seed 0"][1], agents[0].history.episode_returns)


def test_update_accepts_points_and_checks_them():
    live = LiveCurve()
    live.update(100, 20.0, label="worker 0")
    live.update([200, 300], [25.0, 30.0], label="worker 0")
    live.update(np.array([150]), np.array([11.0]), label="worker 1")
    x, y = live.curves["worker 0"]
    np.testing.assert_array_equal(x, [100, 200, 300])
    np.testing.assert_array_equal(y, [20, 25, 30])
    assert list(live.curves) == ["worker 0", "worker 1"]
    with pytest.raises(ValueError, match="shapes"):
        live.update([1, 2], [3.0], label="worker 0")
    with pytest.raises(TypeError, match="label"):
        live.update(1, 2, label="")
    assert len(live.curves["worker 0"][0]) == 3  # the bad calls added nothing


def test_draws_headless_with_raw_and_smoothed_lines():
    live = LiveCurve(target=475, window=2, title="CartPole")
    live.update([1, 2, 3], [10.0, 20.0, 60.0], label="a")
    live.update([1, 2], [5.0, 7.0], label="b")
    figure = live.draw()
    lines = figure.axes[0].get_lines()
    assert len(lines) == 2 * 2 + 1  # raw + moving average per curve, and the target line
    np.testing.assert_allclose(lines[1].get_ydata(), [10.0, 15.0, 40.0])
    assert lines[-1].get_ydata()[0] == 475
    assert live.png()[:8] == b"\x89PNG\r\n\x1a\n"
    live.refresh()  # outside a notebook: nothing to show, no error
    assert "a: 3" in repr(live)


def test_bad_arguments():
    with pytest.raises(ValueError, match="every"):
        LiveCurve(every=-1)
    with pytest.raises(ValueError, match="window"):
        LiveCurve(window=0)
    with pytest.raises(TypeError, match="target"):
        LiveCurve(target="high")
    live = LiveCurve()
    live.update(1, 1.0, label="mine")
    with pytest.raises(ValueError, match="mine"):
        DQN("CartPole-v1", **SMALL).train(200, callbacks=live.track("mine"))
    DQN("CartPole-v1", **SMALL).train(200, callbacks=live.track("agent"))
    with pytest.raises(ValueError, match="agent"):
        live.update(1, 1.0, label="agent")


@pytest.fixture
def fake_notebook(monkeypatch):
    """An IPython shell standing in for a kernel, and a record of what LiveCurve displays."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shown = []

    class Handle:
        def update(self, image):
            shown.append(("update", image))

    def display(image, display_id):
        shown.append(("display", image))
        return Handle()

    monkeypatch.setattr(live_module, "_in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", display)
    yield shell, shown
    InteractiveShell.clear_instance()


def test_in_a_notebook_redraws_at_most_every_interval_and_when_the_cell_ends(fake_notebook):
    shell, shown = fake_notebook
    live = LiveCurve(every=3600)
    agent = DQN("CartPole-v1", seed=0, **SMALL)
    agent.train(1_000, callbacks=live)  # 18 updates, but only the first one redraws
    assert [kind for kind, _ in shown] == ["display"]
    shell.events.trigger("post_run_cell", None)  # the cell ends: show the final state once
    assert [kind for kind, _ in shown] == ["display", "update"]
    assert shown[-1][1].data[:4] == b"\x89PNG"
    shell.events.trigger("post_run_cell", None)  # later cells: nothing more
    assert len(shown) == 2
    agent.train(1_000, callbacks=live)  # training on in a new cell shows a new figure there at once
    assert [kind for kind, _ in shown] == ["display", "update", "display"]
    shell.events.trigger("post_run_cell", None)
    assert [kind for kind, _ in shown] == ["display", "update", "display", "update"]


def test_in_a_notebook_every_zero_redraws_on_every_update(fake_notebook):
    _, shown = fake_notebook
    live = LiveCurve(every=0)
    DQN("CartPole-v1", seed=0, **SMALL).train(400, callbacks=live)  # 6 updates
    assert [kind for kind, _ in shown] == ["display"] + ["update"] * 5
