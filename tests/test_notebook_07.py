"""Notebook 07 (offline RL) runs headless on a small budget and shows what it claims."""

import re

import pytest

from notebook_tools import NOTEBOOKS, assert_displayed, assert_ran_clean, check_committed, executed_once, output_text

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

executed = executed_once(PATH, **SMALL)


def test_committed_notebook_is_clean_and_every_budget_is_a_parameter():
    check_committed(PATH, SMALL, {"bc_loss": "bc_loss", "cql_regularizer": "cql_regularizer"})


def test_runs_without_errors_and_the_exercises_pass(executed):
    text = assert_ran_clean(executed, correct=2)
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
    assert_displayed(executed, images=2, widgets=1)  # score bars and overestimation bars; the dataset explorer
