"""Notebook 09 in JupyterLab: Run All works and the independent-learners explorer reruns for its game, α and ε."""

import pytest

from browser_tools import (
    cell_errors,
    move_slider,
    open_notebook,
    output_images,
    output_text,
    run_all,
    wait_for_image_change,
)
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
    open_notebook(page, lab, NOTEBOOKS / "09_multi_agent.ipynb", **SMALL)
    assert run_all(page, timeout=300) is True
    assert cell_errors(page) == []
    assert output_text(page).count("Correct!") == 3

    before = output_images(page)
    # outcomes, moving targets, the explorer's figure, simplex paths, team curves, scaling, trajectories
    assert len(before) == 7
    explorer = 2
    assert move_slider(page, "exploration ε", 4) == "0.30"
    after = wait_for_image_change(page, before)
    assert [i for i, (old, new) in enumerate(zip(before, after)) if old != new] == [explorer]
    assert move_slider(page, "learning rate α", -5) == "0.05"
    again = wait_for_image_change(page, after)
    page.locator(".widget-dropdown select").filter(visible=True).select_option("stag_hunt")
    final = wait_for_image_change(page, again)
    assert [i for i, (old, new) in enumerate(zip(before, final)) if old != new] == [explorer]
    assert cell_errors(page) == []
