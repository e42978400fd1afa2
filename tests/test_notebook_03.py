"""Notebook 03 (DQN) runs headless on a small budget and shows what it claims."""

import re

import pytest

from notebook_tools import NOTEBOOKS, assert_displayed, assert_ran_clean, check_committed, executed_once, output_text

pytestmark = pytest.mark.notebook

PATH = NOTEBOOKS / "03_dqn.ipynb"
SMALL = dict(
    TRAIN_STEPS=3000,
    EVAL_EVERY=1000,
    EVAL_EPISODES=3,
    RECORD_EVERY=1000,
    ABLATION_STEPS=1500,
    ABLATION_SEEDS=2,
    LIVE_EVERY=0.5,
)

executed = executed_once(PATH, **SMALL)


def test_committed_notebook_is_clean_and_every_budget_is_a_parameter():
    exercises = {"td_target": "td_target", "double_dqn_target": "double_dqn_target", "epsilon_schedule": "epsilon"}
    check_committed(PATH, SMALL, exercises)


def test_exercise_checks_pass_with_the_reference_solutions(executed):
    assert_ran_clean(executed, correct=3)


def test_injected_budgets_are_used(executed):
    text = output_text(executed)
    match = re.search(r"DQN after ([0-9,]+) steps .*mean return of (\d+) greedy episodes ([0-9.]+)", text)
    assert match, text[-2000:]
    steps, mean_return = int(match.group(1).replace(",", "")), float(match.group(3))
    assert int(match.group(2)) == SMALL["EVAL_EPISODES"]
    # evaluated every EVAL_EVERY steps until solved or out of budget
    checks = [int(s.replace(",", "")) for s in re.findall(r"^\s*([0-9,]+) steps: greedy return", text, flags=re.M)]
    assert checks == list(range(SMALL["EVAL_EVERY"], steps + 1, SMALL["EVAL_EVERY"]))
    assert steps == SMALL["TRAIN_STEPS"] or mean_return >= 475
    for variant in ("DQN", "no replay", "no target network"):
        assert re.search(
            rf"{variant}: greedy return after {SMALL['ABLATION_STEPS']:,} steps\s+[0-9.]+ \(per seed: "
            rf"\d+, \d+\)",
            text,
        ), variant


def test_replay_demo_shows_the_ring_buffer_wrapping(executed):
    text = output_text(executed)
    assert "rows hold [5 6 2 3 4], next write at row 2, 5 filled, 7 added in total" in text


def test_overestimation_demo_shows_the_bias_and_its_removal(executed):
    text = output_text(executed)
    biased = float(re.search(r"mean of max over estimates: ([0-9.]+)", text).group(1))
    double = float(re.search(r"evaluate with another: ([0-9.]+)", text).group(1))
    assert biased > 10.4 and abs(double - 10.0) < 0.05


def test_live_curves_plots_and_widgets_are_displayed(executed):
    # The live curves of the main run and of the three ablation cells, the averaged curves.
    # The ε schedule and the Q-value checkpoints are the widgets.
    assert_displayed(executed, images=5, widgets=2)
