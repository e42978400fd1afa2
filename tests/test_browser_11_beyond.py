"""Notebook 11 in JupyterLab: Run All works, then the gossip explorer redraws for its graph and slot count."""

import pytest

from browser_tools import changed_images, move_slider, output_images, run_in_lab, wait_for_image_change
from notebook_tools import NOTEBOOKS

pytestmark = [pytest.mark.browser, pytest.mark.cluster]

SMALL = dict(
    N_WORKERS=2,
    SLOTS=4,
    TOTAL_STEPS=640,
    LOCAL_STEPS=2,
    STRAGGLER_DELAY=0.05,
    SSP_BOUNDS=[0, None],
    FED_LOCAL_STEPS=[1, 2],
    GOSSIP_N=8,
)


def test_run_all_then_the_gossip_explorer_redraws(lab, page):
    assert run_in_lab(page, lab, NOTEBOOKS / "11_beyond_parameter_server.ipynb", **SMALL).count("Correct!") == 3

    before = output_images(page)
    # the explorer, rates vs gap, averaging, federated grids, per-task bars, compression
    assert len(before) == 6
    explorer = 0
    assert move_slider(page, "slots N", 2) == "12"
    after = wait_for_image_change(page, before)
    assert changed_images(before, after) == [explorer]
    page.locator(".widget-dropdown select").filter(visible=True).first.select_option("complete")
    final = wait_for_image_change(page, after)
    assert changed_images(after, final) == [explorer]
