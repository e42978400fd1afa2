"""Notebook 01 in JupyterLab: Run All succeeds and the γ slider redraws the value map."""

import pytest

from browser_tools import cell_errors, changed_images, move_slider, output_images, run_in_lab, wait_for_image_change
from notebook_tools import NOTEBOOKS

pytestmark = pytest.mark.browser


def test_run_all_then_gamma_slider_redraws_values(lab, page):
    text = run_in_lab(page, lab, NOTEBOOKS / "01_mdps.ipynb", timeout=240, MAP="4x4", TOL=1e-6, GAMMA=0.9)
    assert "Correct! Your sweep matches" in text and "Correct! Your policy is greedy" in text

    before = output_images(page)
    assert len(before) >= 6  # five figures in cells and the widget's own
    assert move_slider(page, "gamma", -3) == "0.87"
    after = wait_for_image_change(page, before)
    assert len(after) == len(before)
    # Only the widget's picture (the last on the page) changed; the figures drawn by cells stay.
    assert changed_images(before, after) == [len(before) - 1]
    assert cell_errors(page) == []
