"""The browser harness itself, on two small notebooks written here.

The good notebook has a parameters cell, a cell that writes to stderr (a warning
and a progress line: not errors) and an ``interact`` FloatSlider redrawing a
matplotlib plot, whose callback raises past a threshold. The bad notebook
raises in its second cell.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import nbformat
import psutil
import pytest

from browser_tools import (
    cell_errors,
    move_slider,
    open_notebook,
    output_images,
    output_text,
    run_all,
    run_in_lab,
    wait_for_image_change,
)

pytestmark = pytest.mark.browser

GOOD_CELLS = [
    'FREQUENCY = 1.0\nGREETING = "hello"',
    "import sys\nimport warnings\n\n"
    'warnings.warn("a harmless warning")\n'
    'sys.stderr.write("progress: 50%\\n")\n'
    'print(f"frequency={FREQUENCY} greeting={GREETING}")',
    "import matplotlib.pyplot as plt\n"
    "import numpy as np\n"
    "from ipywidgets import FloatSlider, interact\n\n\n"
    "def draw(freq):\n"
    "    if freq >= 4.0:\n"
    '        raise ValueError(f"freq={freq} is too high for this plot")\n'
    "    x = np.linspace(0.0, 2.0 * np.pi, 200)\n"
    "    fig, ax = plt.subplots(figsize=(3, 2))\n"
    "    ax.plot(x, np.sin(freq * x))\n"
    "    plt.show()\n\n\n"
    'interact(draw, freq=FloatSlider(value=FREQUENCY, min=0.5, max=4.0, step=0.5, description="freq"));',
]

BAD_CELLS = [
    "STEPS = 3",
    'raise RuntimeError("deliberate failure in the second cell")',
    'print("this cell must not run")',
]


def write_notebook(path: Path, sources: list[str]) -> Path:
    cells = [nbformat.v4.new_code_cell(source) for source in sources]
    cells[0].metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(nb, str(path))
    return path


def listening_addresses(pid: int) -> set[str]:
    server = psutil.Process(pid)
    addresses = set()
    for process in [server, *server.children(recursive=True)]:
        for connection in process.net_connections(kind="inet"):
            if connection.status == psutil.CONN_LISTEN:
                addresses.add(connection.laddr.ip)
    return addresses


def test_good_notebook_runs_and_slider_redraws(lab, page, tmp_path):
    notebook = write_notebook(tmp_path / "harness_good.ipynb", GOOD_CELLS)
    open_notebook(page, lab, notebook, FREQUENCY=2.0, GREETING="injected")

    # The server hands the page the user settings that silence news and update checks.
    notification = page.evaluate(
        "async () => (await window.jupyterapp.serviceManager.settings"
        ".fetch('@jupyterlab/apputils-extension:notification'))"
    )
    assert notification["settings"]["fetchNews"] == "false"
    assert notification["settings"]["checkForUpdates"] is False

    assert run_all(page, timeout=120) is True
    assert cell_errors(page) == []
    assert "frequency=2.0 greeting=injected" in output_text(page)
    # The warning and progress line went to stderr and are on the page.
    assert page.get_by_text("a harmless warning").count() >= 1

    before = output_images(page)
    assert len(before) == 1 and before[0].startswith("data:image/png;base64,")
    assert move_slider(page, "freq", 1) == "2.50"
    after = wait_for_image_change(page, before)
    assert len(after) == 1 and after != before
    assert cell_errors(page) == []

    # Pushing the slider to 4.0 makes the callback raise inside the widget's output.
    assert move_slider(page, "freq", 3) == "4.00"
    page.wait_for_function(
        "() => !!document.querySelector('.widget-output .jp-OutputArea-output')"
        " && document.querySelector('.widget-output').textContent.includes('too high')"
    )
    errors = cell_errors(page)
    assert len(errors) == 1 and errors[0].startswith("ValueError: freq=4.0 is too high")

    with pytest.raises(AssertionError, match="no-such-slider"):
        move_slider(page, "no-such-slider", 1)

    # Server and kernel listen on the loopback interface only.
    addresses = listening_addresses(lab.process.pid)
    assert addresses and all(ipaddress.ip_address(a).is_loopback for a in addresses), addresses


def test_bad_notebook_reports_the_exception(lab, page, tmp_path):
    notebook = write_notebook(tmp_path / "harness_bad.ipynb", BAD_CELLS)
    open_notebook(page, lab, notebook, STEPS=1)

    assert run_all(page, timeout=120) is False
    errors = cell_errors(page)
    assert len(errors) == 1
    assert errors[0].startswith("RuntimeError: deliberate failure in the second cell")
    assert "this cell must not run" not in output_text(page)

    # The usual start of a notebook's test (open, Run All, no error shown) fails on it, naming the error.
    with pytest.raises(AssertionError, match="deliberate failure in the second cell"):
        run_in_lab(page, lab, notebook, timeout=120, STEPS=1)
