"""Notebook 06 (distributed Q-learning) runs headless on a small budget and shows what it claims."""

import re

import pytest

from notebook_tools import NOTEBOOKS, check_committed, count_images, executed_once, output_text, widget_count

pytestmark = [pytest.mark.notebook, pytest.mark.cluster]

PATH = NOTEBOOKS / "06_distributed_q_learning.ipynb"
SMALL = dict(EPISODES=40, MERGE_PERIODS=[4, 40], WIDGET_EPISODES=20, WIDGET_WORKERS=[1, 2], WIDGET_PERIODS=[5, 20])

executed = executed_once(PATH, timeout=180, **SMALL)


def test_committed_without_outputs_and_parameters_first():
    # SMALL shrinks the budgets only: the parameters cell holds more names (ALPHA, SEED, ...).
    exercises = {name: name for name in ("average_merge", "visit_weighted_merge", "bytes_per_run")}
    nb = check_committed(PATH, None, exercises)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code_cells[-1].source.strip() == "stack.close()"  # the cluster is shut down at the end


def test_exercise_checks_pass_with_the_reference_solutions(executed):
    text = output_text(executed)
    assert "Correct! average_merge returns the mean" in text
    assert "Correct! visit_weighted_merge weighs each table" in text
    assert "Correct! bytes_per_run matches" in text
    assert "Not yet" not in text


def test_a_custom_merge_reproduces_the_builtin_one_and_bytes_match_the_formula(executed):
    text = output_text(executed)
    assert "largest difference to the built-in visits merge: 0.0" in text
    recorded, predicted = re.search(r"recorded by the run: (\d+) bytes, predicted: (\d+) bytes", text).groups()
    assert recorded == predicted


def test_the_merge_period_table_uses_the_injected_periods(executed):
    text = output_text(executed)
    assert re.search(r"every 4\s+10\.0", text)  # 40 episodes in rounds of 4: 10 merges
    assert re.search(r"every 40\s+1\.0", text)
    assert "2 worker(s) x 40 episodes" in text


def test_plots_and_the_widget_are_displayed(executed):
    assert count_images(executed) >= 5
    assert widget_count(executed) == 1
