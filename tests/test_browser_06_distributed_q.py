"""Notebook 06 in JupyterLab: Run All succeeds (cluster started and closed) and the sliders redraw the explorer."""

import re

import pytest

from browser_tools import cell_errors, changed_images, move_slider, output_images, run_in_lab, wait_for_image_change
from notebook_tools import NOTEBOOKS

pytestmark = [pytest.mark.browser, pytest.mark.cluster]

SMALL = dict(
    EPISODES=40, MERGE_PERIODS=[4, 40], WIDGET_EPISODES=20, WIDGET_WORKERS=[1, 2, 4], WIDGET_PERIODS=[5, 10, 20]
)


def test_run_all_then_sliders_redraw_the_explorer(lab, page):
    text = run_in_lab(page, lab, NOTEBOOKS / "06_distributed_q_learning.ipynb", **SMALL)
    assert "Correct! average_merge" in text and "Correct! bytes_per_run" in text
    # The lab runs as `make tutorials` does: dashboard links go through its proxy.
    assert re.search(r"Dask dashboard: /proxy/\d+/status", text), text[:300]

    before = output_images(page)
    assert len(before) >= 6  # five figures drawn by cells and the explorer's
    assert move_slider(page, "merge every", 1) == "10"
    after = wait_for_image_change(page, before)
    # Only the explorer's picture (the last on the page) changed; the cluster is already closed,
    # so the sliders switch between runs made before.
    assert changed_images(before, after) == [len(before) - 1]

    assert move_slider(page, "workers", 1) == "4"
    wait_for_image_change(page, after)
    assert cell_errors(page) == []
