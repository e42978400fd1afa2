"""Notebook 02 (Q-learning and SARSA) runs headless with a small budget and shows what it claims."""

import re

import pytest

from notebook_tools import NOTEBOOKS, count_images, executed_once, output_text, widget_count

pytestmark = pytest.mark.notebook

SMALL = dict(
    RUNS=6, EPISODES=60, WIDGET_RUNS=3, WIDGET_EPISODES=20, CONVERGENCE_RUNS=2, CONVERGENCE_EPISODES=150, SMOOTH=5
)

executed = executed_once(NOTEBOOKS / "02_q_learning.ipynb", timeout=120, **SMALL)


def test_exercise_checks_pass_with_the_reference_solutions(executed):
    text = output_text(executed)
    assert "Correct! epsilon_greedy is right" in text
    assert "Correct! q_learning_target is right" in text
    assert "Correct! sarsa_update is right" in text
    assert "Not yet" not in text


def test_the_injected_budget_was_used(executed):
    text = output_text(executed)
    for label in ("Q-learning", "SARSA", "Expected SARSA"):
        assert re.search(rf"{label}\s+6 runs x 60 episodes in", text), label
    assert "1 run(s) x 60 episodes" in text
    assert "after 150 episodes" in text


def test_value_iteration_reference_and_the_learned_start_values(executed):
    text = output_text(executed)
    assert "optimal return from S: -13" in text
    start_values = dict(re.findall(r"(Q-learning|SARSA|Expected SARSA)\s+max_a Q\(S, a\) =\s*([-0-9.]+)", text))
    assert set(start_values) == {"Q-learning", "SARSA", "Expected SARSA"}
    # From Q0 = 0 >= Q*, Q-learning's estimates on a deterministic MDP never drop below Q*: V*(S) = -13.
    assert float(start_values["Q-learning"]) >= -13.05


def test_plots_and_the_widget_are_displayed(executed):
    assert count_images(executed) >= 6
    assert widget_count(executed) == 1
