"""Run tutorial notebooks headless with a small budget.

The first code cell of every notebook is its *parameters cell* (tagged
``parameters``) holding classroom-sized defaults. Tests do not edit it: they
insert a cell right after it that overrides some of its names, the way a reader
would, and run the whole notebook in a fresh kernel.
"""

from __future__ import annotations

import ast
import os
import time
from pathlib import Path
from queue import Empty
from typing import Any, Callable, Mapping

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
# Every successful run of a tutorial notebook is saved here (same file name); the documentation
# site renders these copies, so `make docs` after the tests executes nothing again.
EXECUTED = ROOT / "build" / "executed"
INJECTED_TAG = "injected-parameters"


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def parameters_cell_index(nb: nbformat.NotebookNode) -> int:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return i
    raise AssertionError("notebook has no code cell tagged 'parameters'")


def parameter_names(nb: nbformat.NotebookNode) -> set[str]:
    source = nb.cells[parameters_cell_index(nb)].source
    names = set()
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign):
            raise AssertionError(f"parameters cell must hold only assignments, found: {ast.unparse(node)}")
        names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def with_parameters(path: Path | str, **params: Any) -> nbformat.NotebookNode:
    """A copy of the notebook with ``params`` injected after its parameters cell."""
    nb = nbformat.read(str(path), as_version=4)
    index = parameters_cell_index(nb)
    unknown = set(params) - parameter_names(nb)
    if unknown:
        raise AssertionError(f"{Path(path).name}: not in the parameters cell: {sorted(unknown)}")
    if params:
        source = "# Parameters injected by the test suite\n" + "\n".join(
            f"{name} = {value!r}" for name, value in params.items()
        )
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": [INJECTED_TAG]})
        nb.cells.insert(index + 1, cell)
    return nb


SHELL_POLL_SLICE = 0.5  # seconds


def _poll_shell_in_slices(client: NotebookClient) -> None:
    """Make the client wait for each cell's reply in short polls instead of one long one.

    With asyncio zmq sockets, a reply that arrives while ``socket.poll(timeout)``
    is waiting is sometimes noticed only when the whole timeout has passed: the
    notebook then stalls for one full cell ``timeout`` (seen after cells that
    display ipywidgets). Short polls bound that delay to ``SHELL_POLL_SLICE``.
    """
    channel = client.kc.shell_channel
    poll_once = channel.get_msg

    async def get_msg(timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = SHELL_POLL_SLICE if deadline is None else deadline - time.monotonic()
            try:
                return await poll_once(timeout=max(0.0, min(SHELL_POLL_SLICE, remaining)))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    channel.get_msg = get_msg


def execute_notebook(path: Path | str, timeout: int = 300, **params: Any) -> nbformat.NotebookNode:
    """Execute a notebook (with ``params`` injected) in a fresh kernel; return it with outputs.

    Raises ``CellExecutionError`` with the failing cell's source and traceback.
    """
    path = Path(path)
    nb = with_parameters(path, **params)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.on_notebook_start = lambda **_: _poll_shell_in_slices(client)
    client.execute()
    if path.resolve().parent == NOTEBOOKS:
        save_executed(nb, EXECUTED / path.name)
    return nb


def save_executed(nb: nbformat.NotebookNode, target: Path) -> None:
    """Write an executed notebook atomically (parallel test workers never leave half a file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    nbformat.write(nb, str(tmp))
    os.replace(tmp, target)


def output_text(nb: nbformat.NotebookNode) -> str:
    """All text printed by the notebook (stdout and text/plain results)."""
    chunks = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                chunks.append(out.get("text", ""))
            elif "data" in out and "text/plain" in out["data"]:
                chunks.append(out["data"]["text/plain"])
    return "\n".join(chunks)


WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _outputs(nb: nbformat.NotebookNode):
    for cell in nb.cells:
        yield from cell.get("outputs", [])


def count_images(nb: nbformat.NotebookNode) -> int:
    """How many PNG figures the executed notebook displayed."""
    return sum("image/png" in out.get("data", {}) for out in _outputs(nb))


def widget_count(nb: nbformat.NotebookNode) -> int:
    """How many ipywidgets views the executed notebook displayed."""
    return sum(WIDGET_MIME in out.get("data", {}) for out in _outputs(nb))


def error_outputs(nb: nbformat.NotebookNode) -> list:
    """The error outputs of an executed notebook (empty when no cell raised)."""
    return [out for out in _outputs(nb) if out.get("output_type") == "error"]


def read_committed_clean(path: Path | str) -> nbformat.NotebookNode:
    """Read the committed notebook, asserting every code cell is stored without outputs or execution count."""
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    return nb


def exercise_stubs(nb: nbformat.NotebookNode) -> list:
    """The code cells that leave an exercise to the reader (``raise NotImplementedError``)."""
    return [c for c in nb.cells if c.cell_type == "code" and "raise NotImplementedError" in c.source]


def assert_exercises_set_up(nb: nbformat.NotebookNode, functions: dict[str, str]) -> None:
    """One stub per exercise; each function (``check name -> function name``) is defined twice,
    as the stub and as the reference solution, and passed to its ``check_<name>``."""
    assert len(exercise_stubs(nb)) == len(functions)
    for name, function in functions.items():
        assert sum(f"def {function}(" in c.source for c in nb.cells if c.cell_type == "code") == 2, function
        assert any(f"check_{name}({function})" in c.source for c in nb.cells), name


def assert_exercises_tagged(nb: nbformat.NotebookNode, n: int) -> None:
    """``n`` stub cells tagged ``exercise`` and ``n`` reference solutions tagged ``solution`` (student editions)."""
    tags = [c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code"]
    assert sum("exercise" in t for t in tags) == n and sum("solution" in t for t in tags) == n


# ----------------------------------------------------------------- the shape every notebook test shares
def executed_once(path: Path | str, timeout: int = 300, **params: Any) -> Callable[[], nbformat.NotebookNode]:
    """A module-scoped fixture named ``executed``: the notebook run once with ``params`` injected.

    Use it as ``executed = executed_once(PATH, **SMALL)`` in a test module."""

    @pytest.fixture(scope="module", name="executed")
    def executed() -> nbformat.NotebookNode:
        return execute_notebook(path, timeout=timeout, **params)

    return executed


def check_committed(
    path: Path | str, parameters: Mapping[str, Any] | None, exercises: dict[str, str]
) -> nbformat.NotebookNode:
    """The committed notebook holds no outputs; its first code cell is the parameters cell, which assigns exactly
    the names of ``parameters`` (every budget a test shrinks is a parameter; ``None``: names not checked); every
    exercise of ``exercises`` (``check name -> function name``) has a stub tagged ``exercise``, a reference
    solution tagged ``solution`` and its check (:func:`assert_exercises_set_up`). Returns the notebook."""
    nb = read_committed_clean(path)
    first_code_cell = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
    assert parameters_cell_index(nb) == first_code_cell, "the parameters cell is not the first code cell"
    if parameters is not None:
        names = parameter_names(nb)
        assert set(parameters) == names, f"parameters cell: {sorted(names)}, the test's: {sorted(parameters)}"
    assert_exercises_set_up(nb, exercises)
    assert_exercises_tagged(nb, len(exercises))
    return nb


def assert_ran_clean(nb: nbformat.NotebookNode, correct: int) -> str:
    """No cell of the executed notebook shows an error, exactly ``correct`` exercise checks passed and none
    failed. Returns all the text the notebook printed (:func:`output_text`)."""
    errors = error_outputs(nb)
    assert errors == [], [f"{e.get('ename')}: {e.get('evalue')}" for e in errors]
    text = output_text(nb)
    assert text.count("Correct!") == correct, f"{text.count('Correct!')} checks passed, expected {correct}"
    assert "Not yet" not in text, text[text.index("Not yet") :][:300]
    return text


def assert_displayed(nb: nbformat.NotebookNode, images: int, widgets: int) -> None:
    """The executed notebook displayed exactly ``images`` PNG figures and ``widgets`` ipywidgets views."""
    shown = (count_images(nb), widget_count(nb))
    assert shown == (images, widgets), f"(figures, widgets) displayed: {shown}, expected {(images, widgets)}"


__all__ = [
    "assert_displayed",
    "assert_exercises_tagged",
    "assert_ran_clean",
    "CellExecutionError",
    "EXECUTED",
    "NOTEBOOKS",
    "assert_exercises_set_up",
    "check_committed",
    "count_images",
    "error_outputs",
    "execute_notebook",
    "executed_once",
    "exercise_stubs",
    "notebook_paths",
    "output_text",
    "parameter_names",
    "read_committed_clean",
    "widget_count",
    "with_parameters",
]
