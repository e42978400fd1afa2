"""Notebook 08 in JupyterLab: Run All works and the teacher's C and L sliders rerun policy shaping."""

import pytest

from browser_tools import cell_errors, changed_images, move_slider, output_images, run_in_lab, wait_for_image_change
from notebook_tools import NOTEBOOKS

pytestmark = pytest.mark.browser

SMALL = dict(RUNS=30, EPISODES=10, GAMMA=0.95, MAX_STEPS=100, N_RANDOM_MDPS=5, BONUS=0.5, TEACHER_EPISODES=8, SEED=0)


def test_run_all_then_the_teacher_sliders_redraw(lab, page):
    assert run_in_lab(page, lab, NOTEBOOKS / "08_shaping.ipynb", **SMALL).count("Correct!") == 2

    before = output_images(page)
    assert len(before) == 7  # six figures drawn by cells and the teacher explorer's
    assert move_slider(page, "consistency C", -12) == "0.20"
    after = wait_for_image_change(page, before)
    assert changed_images(before, after) == [len(before) - 1]
    assert move_slider(page, "likelihood L", 2) == "0.40"
    wait_for_image_change(page, after)
    assert cell_errors(page) == []
