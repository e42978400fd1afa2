"""Notebook 01 (MDPs and dynamic programming) runs headless and shows what it claims."""

import re

import pytest

from notebook_tools import NOTEBOOKS, count_images, executed_once, output_text, widget_count

pytestmark = pytest.mark.notebook

executed = executed_once(NOTEBOOKS / "01_mdps.ipynb", timeout=120, MAP="4x4", TOL=1e-6)


def number_after(label: str, text: str) -> float:
    match = re.search(re.escape(label) + r"\s*([-+0-9.e]+)", text)
    assert match, f"{label!r} not printed"
    return float(match.group(1))


def test_exercise_checks_pass_with_the_reference_solutions(executed):
    text = output_text(executed)
    assert "Correct! Your sweep matches drlkit.planning" in text
    assert "Correct! Your policy is greedy with respect to V" in text


def test_printed_comparisons_agree(executed):
    text = output_text(executed)
    assert "MDP with 16 states (5 terminal), 4 actions" in text  # MAP was injected
    # Sweeps stopped at TOL=1e-6 are within TOL * gamma / (1 - gamma) of the exact solution.
    assert number_after("between the sweeps and the linear solve:", text) < 1e-5
    assert number_after("largest difference to drlkit.planning:", text) < 1e-5
    assert number_after("largest difference between their values:", text) < 1e-5
    assert "policy_evaluation did not converge" in text and "gamma=1" in text


def test_plots_and_the_widget_are_displayed(executed):
    assert count_images(executed) >= 5
    assert widget_count(executed) == 1
