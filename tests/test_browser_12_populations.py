"""Notebook 12 in JupyterLab: Run All works, and the crossover sliders redraw the model-parallel cost figure."""

import pytest
from test_notebook_12 import SMALL

from browser_tools import cell_errors, move_slider, output_images, run_in_lab, wait_for_image_change
from notebook_tools import NOTEBOOKS

pytestmark = pytest.mark.browser


def test_crossover_sliders_redraw_the_figure(lab, page):
    run_in_lab(page, lab, NOTEBOOKS / "12_populations_and_replay.ipynb", **SMALL)
    before = output_images(page)
    assert len(before) >= 6  # five figures and the crossover plot
    move_slider(page, "latency ms", -4)  # a link 10x faster: the crossover moves to smaller models
    after = wait_for_image_change(page, before)
    assert after[-1] != before[-1] and after[:-1] == before[:-1]
    move_slider(page, "GB/s", 2)
    wait_for_image_change(page, after)
    assert cell_errors(page) == []
