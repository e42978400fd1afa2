"""Notebook 09 (multi-agent RL) runs headless on a small budget and shows what it claims."""

import re

import pytest

from notebook_tools import NOTEBOOKS, assert_displayed, assert_ran_clean, check_committed, executed_once, output_text

pytestmark = [pytest.mark.notebook, pytest.mark.cluster]

PATH = NOTEBOOKS / "09_multi_agent.ipynb"
SMALL = dict(
    MATRIX_STEPS=900,
    MATRIX_RUNS=60,
    ALPHA=0.1,
    EPSILON=0.1,
    DYNAMICS_STEPS=100,
    TEAM_STEPS=2_000,
    SEEDS=[0],
    AGENT_COUNTS=[2, 3],
    N_WORKERS=2,
    DASK_STEPS=640,
    SEED=0,
)

executed = executed_once(PATH, **SMALL)


def test_committed_notebook_is_clean_and_every_budget_is_a_parameter():
    exercises = {"is_nash": "is_nash_equilibrium", "iql_update": "iql_update", "critic_input": "critic_input"}
    check_committed(PATH, SMALL, exercises)


def test_runs_without_errors_and_the_exercises_pass(executed):
    assert_ran_clean(executed, correct=3)


def test_independent_learners_defect_coordinate_and_cycle(executed):
    text = output_text(executed)
    share = float(re.search(r"prisoner's dilemma: mutual defection in (\d+)% of runs", text).group(1))
    assert share >= 95
    rows = {
        name: (float(pure), float(changes))
        for name, pure, changes in re.findall(
            r"^(\S.*?)\s+runs ending on a pure equilibrium\s+(\d+)%.*rounds:\s+([0-9.]+)$", text, flags=re.M
        )
    }
    assert rows["coordination"][0] >= 95 and rows["prisoner's dilemma"][1] < 1
    # No pure equilibrium to end on in the zero-sum games, and the greedy play keeps changing: cycling.
    for game in ("matching pennies", "rock-paper-scissors"):
        assert rows[game][0] == 0 and rows[game][1] > 10, rows[game]


def test_every_team_learner_beats_a_random_team(executed):
    text = output_text(executed)
    scores = {
        name: (float(score), float(random))
        for name, score, random in re.findall(
            r"^(IPPO|SharedPPO|MAPPO)\s+[\d,]+ parameters\s+team return\s+(-?[0-9.]+).*random team\s+(-?[0-9.]+)$",
            text,
            flags=re.M,
        )
    }
    assert set(scores) == {"IPPO", "SharedPPO", "MAPPO"}
    for name, (score, random) in scores.items():
        assert score > random + 1.0, (name, score, random)
    assert "per-agent returns of the workers' episodes add up to the team return: True" in text


def test_figures_and_the_explorer_are_displayed(executed):
    # outcomes, moving targets, simplex paths, team curves, scaling, trajectories, distributed curves
    assert_displayed(executed, images=7, widgets=1)
