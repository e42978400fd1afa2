"""Notebook 07 in JupyterLab: Run All works (datasets collected on a local cluster) and the dataset slider redraws."""

import pytest

from browser_tools import cell_errors, changed_images, move_slider, output_images, run_in_lab, wait_for_image_change
from notebook_tools import NOTEBOOKS

pytestmark = [pytest.mark.browser, pytest.mark.cluster]

SMALL = dict(
    DATASET_STEPS=3_000,
    N_WORKERS=2,
    TRAIN_STEPS=400,
    EVAL_INTERVAL=200,
    EVAL_EPISODES=2,
    CQL_ALPHA=1.0,
    PENDULUM_STEPS=1_000,
    PENDULUM_TRAIN_STEPS=100,
    SEED=0,
)


def test_run_all_then_the_dataset_slider_switches_curves(lab, page):
    text = run_in_lab(page, lab, NOTEBOOKS / "07_offline_rl.ipynb", **SMALL)
    assert text.count("Correct!") == 2 and "round trip through Minari is exact: True" in text

    before = output_images(page)
    assert len(before) == 3  # score bars, the widget's curves, overestimation bars
    assert move_slider(page, "dataset", 2) == "expert"
    after = wait_for_image_change(page, before)
    assert changed_images(before, after) == [1]  # only the widget's figure
    assert cell_errors(page) == []
