"""Stage the executed tutorial notebooks for the documentation site (``make docs`` runs this first).

The test suite saves every notebook it runs, with its outputs, to ``build/executed/<name>.ipynb``
(``tests/notebook_tools.execute_notebook``). This script copies those runs into ``docs/notebooks/``,
where the site renders them without executing anything. A notebook whose executed copy is missing, or
older than the notebook itself, is run first through its own test file (``tests/test_notebook_NN.py``),
so it gets exactly the small parameters the tests use.

In the staged copy, ipywidgets outputs (which need a live kernel) and the embedded Dask dashboard of the
finished run are replaced by a one-line note.

    python scripts/docs_notebooks.py            # stage, running what is missing
    python scripts/docs_notebooks.py --no-run   # stage only what exists; fail if something is missing
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXECUTED = ROOT / "build" / "executed"
STAGED = ROOT / "docs" / "notebooks"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "*An interactive widget is shown here when you run the notebook.*"
LIVE_FRAME_NOTE = "*The live Dask dashboard is embedded here when you run the notebook.*"


def missing_or_stale(notebooks: list[Path]) -> list[Path]:
    """Notebooks without an executed copy at least as new as the notebook itself."""
    stale = []
    for nb in notebooks:
        copy = EXECUTED / nb.name
        if not copy.is_file() or copy.stat().st_mtime < nb.stat().st_mtime:
            stale.append(nb)
    return stale


def run_tests_of(notebooks: list[Path]) -> None:
    """Execute the notebooks through their test files (the tests' small parameters)."""
    tests = [ROOT / "tests" / f"test_notebook_{nb.name[:2]}.py" for nb in notebooks]
    absent = [t.name for t in tests if not t.is_file()]
    if absent:
        sys.exit(f"docs: no test file to execute {', '.join(absent)} with")
    print(
        f"docs: executing {len(tests)} notebook(s) through their tests: {' '.join(t.name for t in tests)}", flush=True
    )
    status = subprocess.call(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *map(str, tests)], cwd=ROOT
    )
    if status:
        sys.exit(f"docs: the notebook tests failed (exit status {status}); no site without executed notebooks")


def _live_frame(out: nbformat.NotebookNode) -> bool:
    """An embedded page of the run's own Dask dashboard (gone once the run ended)."""
    html = out.get("data", {}).get("text/html", "")
    html = "".join(html) if isinstance(html, list) else html
    return "<iframe" in html and ("127.0.0.1" in html or "/proxy/" in html)


def without_widgets(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Replace widget views (live only with a kernel) and embedded dashboards of the finished run by a
    note; drop the stored widget state."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            if WIDGET_MIME in out.get("data", {}):
                out = nbformat.v4.new_output("display_data", data={"text/markdown": WIDGET_NOTE})
            elif _live_frame(out):
                out = nbformat.v4.new_output("display_data", data={"text/markdown": LIVE_FRAME_NOTE})
            outputs.append(out)
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return nb


def stage(notebooks: list[Path]) -> None:
    """Write the staged copies; an unchanged copy is left alone, so Sphinx does not read it again."""
    STAGED.mkdir(parents=True, exist_ok=True)
    (STAGED / ".gitignore").write_text("*\n")  # generated: never committed
    names = {path.name for path in notebooks}
    for old in STAGED.glob("*.ipynb"):
        if old.name not in names:
            old.unlink()
    for path in notebooks:
        nb = nbformat.read(str(EXECUTED / path.name), as_version=4)
        text = nbformat.writes(without_widgets(nb))
        target = STAGED / path.name
        if not target.is_file() or target.read_text() != text:
            target.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="do not execute missing notebooks; fail instead")
    args = parser.parse_args(argv)
    notebooks = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    todo = missing_or_stale(notebooks)
    if todo and args.no_run:
        sys.exit(f"docs: no executed copy of {', '.join(nb.name for nb in todo)} in {EXECUTED}")
    if todo:
        run_tests_of(todo)
        still = missing_or_stale(todo)
        if still:
            sys.exit(f"docs: the tests did not save an executed copy of {', '.join(nb.name for nb in still)}")
    stage(notebooks)
    print(f"docs: {len(notebooks)} executed notebooks staged in {STAGED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
