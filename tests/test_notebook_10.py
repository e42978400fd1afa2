"""Notebook 10 (MCTS and self-play) runs headless on a small budget and shows what it claims."""

import re

import pytest

from notebook_tools import NOTEBOOKS, assert_displayed, assert_ran_clean, check_committed, executed_once

pytestmark = pytest.mark.notebook

PATH = NOTEBOOKS / "10_mcts_self_play.ipynb"
SMALL = dict(
    TREE_SIMULATIONS=200,
    STRENGTH_SIMULATIONS=[2, 1000],
    STRENGTH_GAMES=4,
    N_WORKERS=2,
    RUN_SELF_PLAY=True,
    SELF_PLAY_SIMULATIONS=8,
    SELF_PLAY_GAMES=2,
    SELF_PLAY_ITERATIONS=2,
    EVAL_UCT_SIMULATIONS=8,
    EVAL_GAMES=2,
    PARALLEL_POSITIONS=8,
    PARALLEL_SIMULATIONS=8,
    PLAY_SIMULATIONS=100,
    TICTACTOE_SIMULATIONS=300,
    SEED=0,
)

executed = executed_once(PATH, **SMALL)


def test_committed_notebook_is_clean_and_every_budget_is_a_parameter():
    nb = check_committed(PATH, SMALL, {"ucb_score": "ucb_score", "backup": "backup"})
    assert any(c.cell_type == "markdown" and "## 2. Self-play on a local cluster" in c.source for c in nb.cells)


def test_runs_without_errors_and_shows_its_claims(executed):
    text = assert_ran_clean(executed, correct=2)
    # the drawn search's move is one of the solver's best moves
    played, best = re.search(r"UCT plays (\d); the solver's best moves are \[([0-9, ]+)\]", text).groups()
    assert int(played) in [int(a) for a in best.split(",")]
    # against the solver UCT never wins; with 1,000 simulations it never loses either
    lines = dict(re.findall(r"^\s*(\d+) simulations/move: (.*)$", text, flags=re.M))
    assert set(lines) == {"2", "1000"}
    assert "loses 0%" in lines["1000"] and "draws 100%" in lines["1000"]
    assert "root-parallel" in text and "one tree" in text


def test_figures_and_the_boards_are_displayed(executed):
    # tree boards, strength vs simulations, root-parallel strength (+ win rate and timeline with self-play)
    assert_displayed(executed, images=4, widgets=2)
