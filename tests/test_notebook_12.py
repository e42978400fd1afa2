"""Notebook 12 (populations, shared and prioritised replay, a model split over two workers) runs headless on a
small budget and shows what it claims."""

import re

import pytest

from notebook_tools import NOTEBOOKS, assert_displayed, assert_ran_clean, check_committed, executed_once

pytestmark = pytest.mark.notebook

PATH = NOTEBOOKS / "12_populations_and_replay.ipynb"
SMALL = dict(
    PBT_ENV="Acrobot-v1",
    N_MEMBERS=2,
    INTERVAL_STEPS=1024,
    PBT_ROUNDS=2,
    DQN_STEPS=1200,
    EXPLORATION_RATES=[0.3, 0.01],
    APEX_STEPS=1600,
    N_ACTORS=2,
    PIPE_WIDTH=32,
    PIPE_STEPS=3,
    N_WORKERS=2,
    SEED=0,
)

executed = executed_once(PATH, **SMALL)


def test_committed_notebook_is_clean_and_every_budget_is_a_parameter():
    check_committed(PATH, SMALL, {name: name for name in ("exploit_explore", "sum_tree_find", "importance_weights")})


def test_runs_without_errors_and_shows_its_claims(executed):
    text = assert_ran_clean(executed, correct=3)
    for label in ("PBT", "random search"):
        scores = re.search(rf"{label}: best member's score per round \[([-0-9., ]+)\]", text).group(1).split(",")
        assert len(scores) == SMALL["PBT_ROUNDS"]
    assert re.search(r"PBT made \d+ copies", text)
    assert "shared replay: greedy return" in text and "private replays: greedy return" in text
    moved = dict(re.findall(r"(central|distributed): \d+ learner updates, \d+ updates/s, ([0-9.]+) MB moved", text))
    assert set(moved) == {"central", "distributed"}
    assert re.search(r"1 micro-batch\(es\): loss [0-9.]+ -> [0-9.]+", text)
    assert re.search(r"measured: [0-9.]+ GFLOP/s per worker", text)


def test_figures_and_the_crossover_widget_are_displayed(executed):
    # best score + lineage, schedules, DQN population curves, Ape-X curves + bytes, pipeline split
    assert_displayed(executed, images=5, widgets=1)
