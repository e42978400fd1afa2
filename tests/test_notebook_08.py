"""Notebook 08 (shaping) runs headless on a small budget and shows what it claims."""

import re

import pytest

from notebook_tools import NOTEBOOKS, assert_displayed, assert_ran_clean, check_committed, executed_once

pytestmark = pytest.mark.notebook

PATH = NOTEBOOKS / "08_shaping.ipynb"
SMALL = dict(RUNS=40, EPISODES=15, GAMMA=0.95, MAX_STEPS=150, N_RANDOM_MDPS=10, BONUS=0.5, TEACHER_EPISODES=12, SEED=0)

executed = executed_once(PATH, **SMALL)


def test_committed_notebook_is_clean_and_every_budget_is_a_parameter():
    check_committed(PATH, SMALL, {"shaping_reward": "shaping_reward", "feedback_policy": "feedback_policy_mine"})


def test_runs_without_errors_and_shows_its_claims(executed):
    text = assert_ran_clean(executed, correct=2)
    plain, shaped = map(float, re.search(r"plain ([0-9.]+), shaped ([0-9.]+)", text).groups())
    assert shaped < plain
    assert "same optimal policy on the gridworld: True" in text
    assert f"unchanged on {SMALL['N_RANDOM_MDPS']} of {SMALL['N_RANDOM_MDPS']} random MDPs" in text
    assert "never reaches G" in text
    a, b = re.search(r"shaping rewards (-?[0-9.]+) = -Φ\(s0\) = (-?[0-9.]+)", text).groups()
    assert a == b
    speeds = dict(
        re.findall(
            r"^(no teacher|C=0.95, L=0.5|C=0.2, L=0.5 \(misleading\))\s+mean steps.*?([0-9.]+)$", text, flags=re.M
        )
    )
    assert float(speeds["C=0.95, L=0.5"]) < float(speeds["no teacher"]) < float(speeds["C=0.2, L=0.5 (misleading)"])


def test_figures_and_the_teacher_widget_are_displayed(executed):
    assert_displayed(executed, images=6, widgets=1)
