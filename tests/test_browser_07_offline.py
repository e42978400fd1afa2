"""Notebook 07 in JupyterLab: Run All works (datasets collected on a local cluster) and the dataset slider redraws."""

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
    open_notebook(page, lab, NOTEBOOKS / "07_offline_rl.ipynb", **SMALL)
    assert run_all(page, timeout=300) is True
    assert cell_errors(page) == []
    text = output_text(page)
    assert text.count("Correct!") == 2 and "round trip through Minari is exact: True" in text

    before = output_images(page)
    assert len(before) == 3  # score bars, the widget's curves, overestimation bars
    assert move_slider(page, "dataset", 2) == "expert"
    after = wait_for_image_change(page, before)
    changed = [i for i, (old, new) in enumerate(zip(before, after)) if old != new]
    assert changed == [1]  # only the widget's figure
    assert cell_errors(page) == []
