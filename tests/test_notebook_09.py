"""Notebook 09 (multi-agent RL) runs headless on a small budget and shows what it claims."""

import re

import pytest

from notebook_tools import (
    NOTEBOOKS,
    assert_exercises_set_up,
    assert_exercises_tagged,
    count_images,
    error_outputs,
    execute_notebook,
    output_text,
    parameter_names,
    read_committed_clean,
    widget_count,
)

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


@pytest.fixture(scope="module")
def executed():
    return execute_notebook(PATH, timeout=300, **SMALL)


def test_committed_notebook_is_clean_and_every_budget_is_a_parameter():
    nb = read_committed_clean(PATH)
    assert set(SMALL) == parameter_names(nb)
    assert_exercises_set_up(
        nb, {"is_nash": "is_nash_equilibrium", "iql_update": "iql_update", "critic_input": "critic_input"}
    )
    assert_exercises_tagged(nb, 3)


def test_runs_without_errors_and_the_exercises_pass(executed):
    assert error_outputs(executed) == []
    text = output_text(executed)
    assert text.count("Correct!") == 3 and "Not yet" not in text


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
    assert count_images(executed) == 7
    assert widget_count(executed) == 1
