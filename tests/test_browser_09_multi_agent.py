"""Notebook 09 in JupyterLab: Run All works and the independent-learners explorer reruns for its game, α and ε."""

import pytest

from browser_tools import cell_errors, changed_images, move_slider, output_images, run_in_lab, wait_for_image_change
from notebook_tools import NOTEBOOKS

pytestmark = pytest.mark.browser

# The Dask section is skipped here (N_WORKERS=0): tests/test_notebook_09.py runs it headless.
SMALL = dict(
    MATRIX_STEPS=600,
    MATRIX_RUNS=40,
    ALPHA=0.1,
    EPSILON=0.1,
    DYNAMICS_STEPS=60,
    TEAM_STEPS=800,
    SEEDS=[0],
    AGENT_COUNTS=[2],
    N_WORKERS=0,
    DASK_STEPS=640,
    SEED=0,
)


def test_run_all_then_the_explorer_reruns_the_learners(lab, page):
    assert run_in_lab(page, lab, NOTEBOOKS / "09_multi_agent.ipynb", **SMALL).count("Correct!") == 3

    before = output_images(page)
    # outcomes, moving targets, the explorer's figure, simplex paths, team curves, scaling, trajectories
    assert len(before) == 7
    explorer = 2
    assert move_slider(page, "exploration ε", 4) == "0.30"
    after = wait_for_image_change(page, before)
    assert changed_images(before, after) == [explorer]
    assert move_slider(page, "learning rate α", -5) == "0.05"
    again = wait_for_image_change(page, after)
    page.locator(".widget-dropdown select").filter(visible=True).select_option("stag_hunt")
    final = wait_for_image_change(page, again)
    assert changed_images(before, final) == [explorer]
    assert cell_errors(page) == []
