"""Notebook 03 in JupyterLab: Run All works, the live curve shows, and the sliders redraw their figures."""

import pytest

from browser_tools import cell_errors, move_slider, output_images, run_in_lab, wait_for_image_change
from notebook_tools import NOTEBOOKS

pytestmark = pytest.mark.browser

SMALL = dict(
    TRAIN_STEPS=2000,
    EVAL_EVERY=1000,
    EVAL_EPISODES=2,
    RECORD_EVERY=500,
    ABLATION_STEPS=1500,
    ABLATION_SEEDS=1,
    LIVE_EVERY=0.5,
)


def test_run_all_then_move_the_checkpoint_and_schedule_sliders(lab, page):
    run_in_lab(page, lab, NOTEBOOKS / "03_dqn.ipynb", **SMALL)
    # ε schedule, live curve, Q-values, three live ablation curves, averaged curves; the live curves get a last
    # redraw as their cell ends, which the page may still be rendering
    for _ in range(20):
        before = output_images(page)
        if len(before) >= 7:
            break
        page.wait_for_timeout(500)
    assert len(before) == 7

    assert move_slider(page, "checkpoint", 2) == "2"
    after = wait_for_image_change(page, before)
    assert after != before and cell_errors(page) == []

    move_slider(page, "decay steps", -3)
    wait_for_image_change(page, after)
    assert cell_errors(page) == []
