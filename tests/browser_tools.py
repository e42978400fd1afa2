"""Drive a real JupyterLab in headless Chromium, the way a student uses the notebooks.

Fixtures (exposed to every test through ``tests/conftest.py``):

``lab``
    One ``jupyter lab`` server per test session (per xdist worker), run from this
    Python environment, bound to 127.0.0.1 on a free port with a random token and
    a temporary root directory. Its user settings, workspaces, runtime files and
    kernel specs live in that temporary directory too, so the developer's own
    Jupyter configuration never leaks into the tests.
``page``
    A Playwright page in a fresh browser context of the system ``chromium``
    (installed by ``make system-deps``). When a test using it fails, a screenshot
    is saved and its path is added to the failure report.

Helpers: :func:`open_notebook`, :func:`run_all`, :func:`cell_errors`,
:func:`output_text`, :func:`output_images`, :func:`move_slider`,
:func:`wait_for_image_change`, :func:`changed_images`; :func:`run_in_lab`
does the usual start of a test (open, Run All, no error shown).

A typical test (``NN_topic.ipynb`` standing for a tutorial notebook)::

    @pytest.mark.browser
    def test_slider_redraws_the_plot(lab, page):
        run_in_lab(page, lab, NOTEBOOKS / "NN_topic.ipynb", EPISODES=20)
        before = output_images(page)
        assert move_slider(page, "gamma", 2) == "0.92"
        after = wait_for_image_change(page, before)
        assert changed_images(before, after) == [len(before) - 1]  # only the widget's figure
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import nbformat
import psutil
import pytest

from notebook_tools import with_parameters

ROOT = Path(__file__).resolve().parents[1]
BINDER_OVERRIDES = ROOT / "binder" / "overrides.json"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 1000}

SERVER_START_TIMEOUT = 90.0  # seconds; two busy cores can make the first start slow
KERNEL_START_TIMEOUT = 90.0
SHUTDOWN_TIMEOUT = 20.0

# Settings for the test server only, on top of binder/overrides.json:
# attach every cell to the DOM (no virtual scrolling) so that what a test looks
# for is present however long the notebook, and start the default kernel
# without asking when a notebook names none.
TEST_SETTINGS = {
    "@jupyterlab/notebook-extension:tracker": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,
    },
}

ARTIFACTS_DIR = Path(os.environ.get("DRLKIT_TEST_ARTIFACTS", Path(tempfile.gettempdir()) / "drlkit-test-artifacts"))


# ----------------------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------------------


@dataclass
class Lab:
    """A running JupyterLab server: ``url`` (no trailing slash), ``token``, ``root_dir``."""

    url: str
    token: str
    root_dir: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def api(self, method: str, endpoint: str, timeout: float = 10.0) -> Any:
        """Call the server's REST API (``endpoint`` like ``"/api/sessions"``); decoded JSON or None."""
        request = urllib.request.Request(
            self.url + endpoint, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with _DIRECT.open(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self, path: str | None = None) -> None:
        """Close the sessions (and so stop the kernels) of ``path``, or of every notebook."""
        for session in self.api("GET", "/api/sessions"):
            if path is None or session["path"] == path:
                self.api("DELETE", f"/api/sessions/{session['id']}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


# The server is local: never go through an http_proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings_file(settings_dir: Path, plugin_id: str) -> Path:
    """Where JupyterLab keeps a plugin's user settings:
    "@scope/pkg:plugin" -> "@scope/pkg/plugin.jupyterlab-settings"."""
    package, plugin = plugin_id.split(":")
    return settings_dir / package / f"{plugin}.jupyterlab-settings"


def _write_user_settings(settings_dir: Path) -> None:
    """Silence the news and update notifications whether or not ``make setup`` installed the overrides."""
    settings: dict[str, dict] = {}
    if BINDER_OVERRIDES.exists():
        settings.update(json.loads(BINDER_OVERRIDES.read_text()))
    settings.setdefault("@jupyterlab/apputils-extension:notification", {}).update(
        {"fetchNews": "false", "checkForUpdates": False}
    )
    for plugin_id, values in TEST_SETTINGS.items():
        settings.setdefault(plugin_id, {}).update(values)
    for plugin_id, values in settings.items():
        target = _settings_file(settings_dir, plugin_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values, indent=2))


def start_lab(base_dir: Path) -> Lab:
    """Start ``jupyter lab`` with everything it writes kept under ``base_dir``."""
    root_dir = base_dir / "root"
    settings_dir = base_dir / "user-settings"
    for directory in (root_dir, settings_dir):
        directory.mkdir(parents=True, exist_ok=True)
    _write_user_settings(settings_dir)

    env = dict(os.environ)
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(base_dir / "workspaces"),
        JUPYTER_CONFIG_DIR=str(base_dir / "config"),
        JUPYTER_DATA_DIR=str(base_dir / "data"),
        JUPYTER_RUNTIME_DIR=str(base_dir / "runtime"),
        JUPYTER_PREFER_ENV_PATH="1",
        IPYTHONDIR=str(base_dir / "ipython"),
        # As `make tutorials` does: Dask dashboard links through the lab's proxy.
        DASK_DISTRIBUTED__DASHBOARD__LINK="/proxy/{port}/status",
    )
    port, token = _free_port(), secrets.token_hex(24)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.expose_app_in_browser=True",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log_path = base_dir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=root_dir
        )
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, root_dir=root_dir, log_path=log_path, process=process)

    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {process.returncode}:\n{lab.log_tail()}")
        try:
            lab.api("GET", "/api/status", timeout=2.0)
            return lab
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            stop_lab(lab)
            raise RuntimeError(f"jupyter lab did not answer within {SERVER_START_TIMEOUT:.0f} s:\n{lab.log_tail()}")
        time.sleep(0.25)


def stop_lab(lab: Lab) -> None:
    """Shut the server down with its kernels; terminate, then kill, whatever is left."""
    try:
        server = psutil.Process(lab.process.pid)
        processes = [server, *server.children(recursive=True)]
    except psutil.NoSuchProcess:
        processes = []
    if lab.process.poll() is None:
        try:
            lab.api("POST", "/api/shutdown")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        try:
            lab.process.wait(SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            lab.process.terminate()
            try:
                lab.process.wait(SHUTDOWN_TIMEOUT / 2)
            except subprocess.TimeoutExpired:
                lab.process.kill()
                lab.process.wait()
    # Kernels run in their own sessions: make sure none outlives the server.
    survivors = []
    for proc in processes:
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                proc.terminate()
                survivors.append(proc)
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(survivors, timeout=5)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A JupyterLab server for the whole session (see :class:`Lab`)."""
    try:
        server = start_lab(tmp_path_factory.mktemp("lab"))
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    stop_lab(server)


# ----------------------------------------------------------------------------------
# The browser
# ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """The system Chromium driven by Playwright (never a downloaded browser)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "The browser tests need Chromium, which is not installed: run `make system-deps` "
            "(Debian package `chromium`).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Any, lab: Lab) -> Iterator[Any]:
    """A page in a fresh browser context; the kernels it started are stopped afterwards."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    new_page = context.new_page()
    # Leaving a notebook with unsaved outputs asks "leave the page?": say yes.
    new_page.on("dialog", lambda dialog: dialog.accept() if dialog.type == "beforeunload" else dialog.dismiss())
    yield new_page
    context.close()
    lab.shutdown_kernels()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[Any]:
    """On a failing browser test, screenshot the page and name the server log in the report."""
    report = yield
    if report.when == "call" and report.failed:
        page_ = getattr(item, "funcargs", {}).get("page")
        lab_ = getattr(item, "funcargs", {}).get("lab")
        if page_ is not None and not page_.is_closed():
            ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-150:]
            target = ARTIFACTS_DIR / f"{name}.png"
            try:
                page_.screenshot(path=str(target), full_page=True)
                report.sections.append(("browser screenshot", str(target)))
                print(f"\nbrowser screenshot: {target}", file=sys.stderr)
            except Exception as error:  # a crashed page must not hide the test's own failure
                report.sections.append(("browser screenshot", f"could not be taken: {error}"))
        if lab_ is not None:
            report.sections.append(("jupyter lab log (tail)", f"{lab_.log_path}\n{lab_.log_tail()}"))
    return report


# ----------------------------------------------------------------------------------
# Notebooks
# ----------------------------------------------------------------------------------

# JavaScript run in the page. `window.jupyterapp` exists because the server runs
# with --LabApp.expose_app_in_browser=True.
_JS_KERNEL_IDLE = """
(panel) => {
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}
"""

_JS_NOTEBOOK_READY = f"""
(path) => {{
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.context || panel.context.path !== path || !panel.content || !panel.content.model) {{
    return false;
  }}
  return ({_JS_KERNEL_IDLE})(panel);
}}
"""

_JS_RUN_ALL = """
() => {
  const state = { done: false, ok: null, error: null };
  window.__drlkitRunAll = state;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    (ok) => { state.ok = ok !== false; state.done = true; },
    (error) => { state.error = String(error); state.done = true; },
  );
}
"""

_JS_RUN_ALL_FINISHED = f"""
() => {{
  const state = window.__drlkitRunAll;
  const panel = window.jupyterapp.shell.currentWidget;
  if (!state || !state.done || !({_JS_KERNEL_IDLE})(panel)) return false;
  const cells = panel.content.model.cells;
  for (let i = 0; i < cells.length; i++) {{
    const cell = cells.get(i);
    if (cell.type === 'code' && cell.executionState === 'running') return false;
  }}
  return !Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-InputPrompt'))
    .some((prompt) => prompt.textContent.includes('[*]'));
}}
"""

_JS_CELL_SUMMARY = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  const summary = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type === 'code') {
      summary.push({ index: i, count: cell.executionCount, state: cell.executionState,
                     source: cell.sharedModel.getSource().slice(0, 80) });
    }
  }
  return summary;
}
"""

# Outputs of the notebook's code cells plus those captured by ipywidgets Output
# widgets (where `interact` puts what its callback prints, plots or raises). The
# latter live in the widget models, reached through the views on the page.
_JS_ALL_OUTPUTS = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const outputs = [];
  const cells = panel.content.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type === 'code') outputs.push(...cell.outputs.toJSON());
  }
  const seen = new Set();
  const visit = (widget) => {
    const model = widget._view && widget._view.model;
    if (model && !seen.has(model) && typeof model.get === 'function') {
      seen.add(model);
      if (model.get('_model_name') === 'OutputModel') outputs.push(...(model.get('outputs') || []));
    }
    for (const child of widget.children()) visit(child);
  };
  visit(panel);
  return outputs;
}
"""

_JS_VISIBLE_IMAGES = """
() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output img'))
  .filter((img) => {
    const box = img.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && img.checkVisibility({ visibilityProperty: true });
  })
  .map((img) => img.getAttribute('src'))
"""

_JS_IMAGES_CHANGED = f"""
(before) => {{
  const images = ({_JS_VISIBLE_IMAGES})();
  const panel = window.jupyterapp.shell.currentWidget;
  return images.length > 0 && JSON.stringify(images) !== JSON.stringify(before)
    && ({_JS_KERNEL_IDLE})(panel);
}}
"""

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def open_notebook(page: Any, lab: Lab, path: Path | str, **params: Any) -> Path:
    """Copy a notebook (``params`` injected after its parameters cell) into the server and open it.

    Returns the copy's path. Waits until the notebook is shown and its kernel is
    connected and idle. A kernel left running on an earlier copy is stopped first,
    so every opening starts from a fresh kernel.
    """
    path = Path(path)
    name = path.name
    lab.shutdown_kernels(name)
    target = lab.root_dir / name
    nbformat.write(with_parameters(path, **params), str(target))
    page.goto(f"{lab.url}/lab/tree/{quote(name)}?reset&token={lab.token}")
    page.locator(".jp-NotebookPanel").first.wait_for(state="visible", timeout=KERNEL_START_TIMEOUT * 1000)
    try:
        page.wait_for_function(_JS_NOTEBOOK_READY, arg=name, polling=200, timeout=KERNEL_START_TIMEOUT * 1000)
    except Exception as error:
        raise AssertionError(
            f"{name}: the kernel was not connected and idle after {KERNEL_START_TIMEOUT:.0f} s"
            f"\n--- jupyter lab log ---\n{lab.log_tail()}"
        ) from error
    return target


def run_all(page: Any, timeout: float = 300.0) -> bool:
    """Run all cells of the open notebook, as "Run > Run All Cells" does, and wait for the end.

    Returns once the run has finished (or stopped at an error), no cell is queued
    or running and the kernel is idle. Returns True when every code cell ran
    (each has an execution count); False when the run stopped early, e.g. on an
    error. Raises AssertionError, naming the cell still running, after
    ``timeout`` seconds.
    """
    page.evaluate(_JS_RUN_ALL)
    try:
        page.wait_for_function(_JS_RUN_ALL_FINISHED, polling=250, timeout=timeout * 1000)
    except Exception as error:
        running = [c for c in page.evaluate(_JS_CELL_SUMMARY) if c["state"] == "running" or c["count"] is None]
        raise AssertionError(
            f"Run All did not finish within {timeout:.0f} s; unfinished code cells: {running[:3]}"
        ) from error
    state = page.evaluate("() => window.__drlkitRunAll")
    if state.get("error"):
        raise AssertionError(f"Run All failed in JupyterLab: {state['error']}")
    return all(c["count"] is not None for c in page.evaluate(_JS_CELL_SUMMARY))


def run_in_lab(page: Any, lab: Lab, path: Path | str, timeout: float = 300.0, **params: Any) -> str:
    """Open the notebook (``params`` injected, see :func:`open_notebook`), Run All, and check that every code
    cell ran and no error shows. Returns all the text the notebook printed (:func:`output_text`)."""
    open_notebook(page, lab, path, **params)
    ran_every_cell = run_all(page, timeout=timeout)
    errors = cell_errors(page)
    assert errors == [], errors
    assert ran_every_cell is True, "Run All stopped before the last code cell"
    return output_text(page)


def cell_errors(page: Any) -> list[str]:
    """Errors (raised exceptions) shown in the open notebook, as ``"Name: message\\ntraceback"``.

    Covers cell outputs and ipywidgets Output areas (an ``interact`` callback that
    raised). Text written to stderr (warnings, progress bars) is not an error.
    """
    errors = []
    for output in page.evaluate(_JS_ALL_OUTPUTS):
        if output.get("output_type") == "error":
            traceback = _ANSI_ESCAPE.sub("", "\n".join(output.get("traceback", [])))
            errors.append(f"{output.get('ename')}: {output.get('evalue')}\n{traceback}".rstrip())
    return errors


def output_text(page: Any) -> str:
    """All text the open notebook printed (stdout and text/plain results), widget outputs included."""
    chunks = []
    for output in page.evaluate(_JS_ALL_OUTPUTS):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            text = output.get("text", "")
            chunks.append("".join(text) if isinstance(text, list) else text)
        elif "text/plain" in output.get("data", {}):
            text = output["data"]["text/plain"]
            chunks.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(chunks)


def output_images(page: Any) -> list[str]:
    """``src`` of every output image visible in the notebook (cell and widget outputs), in page order."""
    return page.evaluate(_JS_VISIBLE_IMAGES)


def changed_images(before: list[str], after: list[str]) -> list[int]:
    """Positions of the images that differ between two looks of :func:`output_images` (pairwise, in page order)."""
    return [i for i, (old, new) in enumerate(zip(before, after)) if old != new]


def _slider(page: Any, description: str) -> Any:
    label = page.locator(".widget-label", has_text=re.compile(rf"^\s*{re.escape(description)}\s*$"))
    sliders = page.locator(".widget-slider").filter(has=label).filter(visible=True)
    count = sliders.count()
    if count != 1:
        shown = page.locator(".widget-slider .widget-label").all_inner_texts()
        raise AssertionError(
            f"expected one visible slider described {description!r}, found {count}; slider labels on the page: {shown}"
        )
    return sliders.first


def move_slider(page: Any, description: str, steps: int) -> str:
    """Move the ipywidgets slider labelled ``description`` by ``steps`` (negative: to the left).

    Uses the keyboard on the slider handle, one arrow key press per step, as a
    user would. Returns the slider's readout text afterwards (e.g. ``"0.30"``).
    """
    slider = _slider(page, description)
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    key = "ArrowRight" if steps > 0 else "ArrowLeft"
    for _ in range(abs(steps)):
        handle.press(key)
    readout = slider.locator(".widget-readout")
    if readout.count() and readout.first.is_visible():
        return readout.first.inner_text().strip()
    return handle.get_attribute("aria-valuetext") or ""


def wait_for_image_change(page: Any, before: list[str], timeout: float = 60.0) -> list[str]:
    """Wait until the visible output images differ from ``before`` and the kernel is idle; return them.

    Several quick slider steps redraw several times: the images returned are the
    ones left once two looks half a second apart agree.
    """
    try:
        page.wait_for_function(_JS_IMAGES_CHANGED, arg=before, polling=200, timeout=timeout * 1000)
    except Exception as error:
        raise AssertionError(f"the output images did not change within {timeout:.0f} s") from error
    images = output_images(page)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(500)
        page.wait_for_function(_JS_IMAGES_CHANGED, arg=before, polling=200, timeout=timeout * 1000)
        latest = output_images(page)
        if latest == images:
            return latest
        images = latest
    return images


__all__ = [
    "Lab",
    "browser",
    "cell_errors",
    "changed_images",
    "lab",
    "move_slider",
    "open_notebook",
    "output_images",
    "output_text",
    "page",
    "pytest_runtest_makereport",
    "run_all",
    "run_in_lab",
    "start_lab",
    "stop_lab",
    "wait_for_image_change",
]
