"""The ε/α comparison widget reruns the learners when a slider moves."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from drlkit.envs import gridworld  # noqa: E402
from drlkit.widgets import compare_td_control  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_sliders_rerun_every_algorithm_with_the_new_values():
    widget = compare_td_control(runs=3, episodes=15, algorithms=["Q-learning", "Expected SARSA"], seed=4)
    assert set(widget.results) == {"Q-learning", "Expected SARSA"}
    before = widget.results["Q-learning"]
    assert before.config.epsilon == 0.1 and before.returns.shape == (3, 15)
    widget.epsilon_slider.value = 0.3
    widget.alpha_slider.value = 0.2
    for result in widget.results.values():
        assert result.config.epsilon == 0.3 and result.config.alpha == 0.2 and result.config.seed == 4
    assert widget.mean_q("Q-learning").shape == (48, 4)


def test_other_gridworlds_work():
    maze = gridworld(["S..", ".#.", "..G"], step_reward=-1.0, goal_reward=0.0)
    widget = compare_td_control(maze, runs=2, episodes=10)
    assert widget.results["SARSA"].Q.shape == (2, 9, 4)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(algorithms=["Q-learning", "TD(λ)"]), "algorithms"),
        (dict(algorithms="SARSA"), "algorithms"),
        (dict(epsilon=0.7), "epsilon"),
        (dict(alpha=0.0), "alpha"),
        (dict(runs=0), "runs"),
    ],
)
def test_bad_settings_name_the_field(kwargs, field):
    with pytest.raises((TypeError, ValueError), match=field):
        compare_td_control(**kwargs)
