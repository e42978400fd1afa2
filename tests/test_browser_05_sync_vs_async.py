"""Notebook 05 in JupyterLab: Run All without errors, then use the scenario explorer as a student would."""

import time

import pytest

from browser_tools import cell_errors, move_slider, output_images, run_in_lab, wait_for_image_change
from notebook_tools import NOTEBOOKS

pytestmark = [pytest.mark.browser, pytest.mark.cluster]

SMALL = dict(TOTAL_STEPS=2048, TIME_LIMIT=1.0, KILL_AT=0.5, MAX_WORKERS=3)

# Run the first code cell whose source starts with ``prefix`` (as Shift+Enter would, without moving on);
# resolves to the execution count it had before.
_JS_RUN_CELL = """
(prefix) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const index = panel.content.widgets.findIndex(
    (cell) => cell.model.type === 'code' && cell.model.sharedModel.getSource().startsWith(prefix));
  if (index < 0) throw new Error('no code cell starts with ' + prefix);
  const before = panel.content.widgets[index].model.executionCount;
  panel.content.activeCellIndex = index;
  window.jupyterapp.commands.execute('notebook:run-cell');
  return before;
}
"""

_JS_CELL_DONE = """
([prefix, before]) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cell = panel.content.widgets.find(
    (c) => c.model.type === 'code' && c.model.sharedModel.getSource().startsWith(prefix));
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return cell.model.executionCount !== null && cell.model.executionCount !== before
    && !!kernel && kernel.status === 'idle';
}
"""


# Inside the embedded dashboard page: how many tasks of drlkit's the task-stream plot holds (-1: not rendered yet).
_JS_TASKS_IN_STREAM = """
() => {
  if (!window.Bokeh || !window.Bokeh.documents || !window.Bokeh.documents.length) return -1;
  if (!document.querySelector('.bk-Figure, .bk-Canvas, canvas, [class*="bk-"]')) return -1;
  let tasks = 0;
  for (const doc of window.Bokeh.documents) {
    for (const model of doc.all_models) {
      const data = model.data;
      if (!data || !data.duration || !data.name) continue;
      for (const name of data.name) if (String(name).startsWith('drlkit')) tasks += 1;
    }
  }
  return tasks;
}
"""


def tasks_in_stream(page) -> int:
    frames = [f for f in page.frames if "individual-task-stream" in f.url]
    if not frames:
        return -1
    try:
        return frames[-1].evaluate(_JS_TASKS_IN_STREAM)
    except Exception:  # the frame is still loading
        return -1


def run_cell(page, prefix: str, timeout: float = 120.0) -> None:
    before = page.evaluate(_JS_RUN_CELL, prefix)
    page.wait_for_function(_JS_CELL_DONE, arg=[prefix, before], polling=250, timeout=timeout * 1000)


def test_run_all_then_explore_a_straggler_scenario(lab, page):
    run_in_lab(page, lab, NOTEBOOKS / "05_sync_vs_async.ipynb", timeout=400, **SMALL)
    try:
        # A slider redraws the expected schedule at once (no cluster needed).
        before = output_images(page)
        assert move_slider(page, "straggler slowdown", 2) == "2.0"
        after_slider = wait_for_image_change(page, before)

        # Run All ended by shutting the cluster down; start it again, as the notebook says, and train.
        run_cell(page, "stack = ExitStack()")
        # The embedded task stream of the new cluster, loaded through the lab's proxy (as on Binder).
        run_cell(page, "show_task_stream(client)")
        frame = page.locator("iframe[src*='/proxy/'][src*='individual-task-stream']").last
        frame.wait_for(state="visible", timeout=30_000)
        page.locator(".widget-button", has_text="Run scenario").click()
        wait_for_image_change(page, after_slider, timeout=240)
        # While and after the scenario trains, its tasks show up in the task stream.
        deadline = time.monotonic() + 60
        while tasks_in_stream(page) <= 0 and time.monotonic() < deadline:
            page.wait_for_timeout(500)
        assert tasks_in_stream(page) > 0, "the embedded task stream shows no drlkit task"
        # The plot redraws while the scenario trains; its row joins the summary table when it ends.
        table = page.locator(".widget-html-content table")
        deadline = time.monotonic() + 240
        while "#3 async 2w straggler ×2" not in table.inner_text() and time.monotonic() < deadline:
            page.wait_for_timeout(500)
        assert "#3 async 2w straggler ×2" in table.inner_text()
        assert cell_errors(page) == []
    finally:
        run_cell(page, "stack.close()")
