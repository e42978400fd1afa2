"""Notebook 07 (offline RL) runs headless on a small budget and shows what it claims."""

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

pytestmark = pytest.mark.notebook

PATH = NOTEBOOKS / "07_offline_rl.ipynb"
SMALL = dict(
    DATASET_STEPS=4_000,
    N_WORKERS=2,
    TRAIN_STEPS=600,
    EVAL_INTERVAL=300,
    EVAL_EPISODES=3,
    CQL_ALPHA=1.0,
    PENDULUM_STEPS=2_000,
    PENDULUM_TRAIN_STEPS=200,
    SEED=0,
)


@pytest.fixture(scope="module")
def executed():
    return execute_notebook(PATH, timeout=300, **SMALL)


def test_committed_notebook_is_clean_and_every_budget_is_a_parameter():
    nb = read_committed_clean(PATH)
    assert set(SMALL) == parameter_names(nb)
    assert_exercises_set_up(nb, {"bc_loss": "bc_loss", "cql_regularizer": "cql_regularizer"})
    assert_exercises_tagged(nb, 2)


def test_runs_without_errors_and_the_exercises_pass(executed):
    assert error_outputs(executed) == []
    text = output_text(executed)
    assert text.count("Correct!") == 2 and "Not yet" not in text
    assert "round trip through Minari is exact: True" in text


def test_the_overestimation_table_shows_naive_dqn_above_cql(executed):
    text = output_text(executed)
    gaps = {
        name: float(m)
        for name, m in re.findall(r"^(naive DQN|CQL)\s+predicted.*overestimation\s+(-?[0-9.]+)", text, flags=re.M)
    }
    assert set(gaps) == {"naive DQN", "CQL"}
    assert gaps["naive DQN"] > gaps["CQL"]


def test_figures_and_the_dataset_widget_are_displayed(executed):
    assert count_images(executed) == 2  # score bars and overestimation bars
    assert widget_count(executed) == 1
