"""Notebook 04 in JupyterLab: Run All works and the sliders redraw their figures."""

import pytest

from browser_tools import cell_errors, move_slider, output_images, run_in_lab, wait_for_image_change
from notebook_tools import NOTEBOOKS

pytestmark = pytest.mark.browser

SMALL = dict(
    TRAIN_STEPS=2000,
    SEEDS=1,
    GRADIENT_EPISODES=6,
    PPO_STEPS=2048,
    RECORD_EVERY=1000,
    LEARNING_RATES=[1e-3, 3e-3],
    LR_STEPS=1024,
    TRPO_STEPS=1024,
    PENDULUM_STEPS=2048,
    LIVE_EVERY=0.5,
)


def test_run_all_then_move_the_clip_range_and_checkpoint_sliders(lab, page):
    run_in_lab(page, lab, NOTEBOOKS / "04_policy_gradients.ipynb", **SMALL)

    before = output_images(page)
    assert move_slider(page, "clip range", 2) == "0.30"
    after = wait_for_image_change(page, before)
    assert after != before and cell_errors(page) == []

    assert move_slider(page, "checkpoint", 1) == "1"
    wait_for_image_change(page, after)
    assert cell_errors(page) == []
