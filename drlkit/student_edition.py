"""Student editions of the tutorial notebooks: the reference solutions taken out, the exercise stubs left in.

An exercise in a notebook is a stub cell tagged ``exercise`` (a function whose body is
``raise NotImplementedError``) and, further down, a cell tagged ``solution`` that defines the
same function again with a reference solution (so that *Run All* works in the teacher's
edition); markdown cells that introduce a solution are tagged ``solution`` too. The student
edition (``drlkit student-edition --out DIR`` or ``make student-editions``):

* drops markdown cells tagged ``solution``;
* removes from each code cell tagged ``solution`` the definitions of the functions (and classes)
  an ``exercise`` cell defines, keeping its other statements (the ``check_...(fn)`` call that
  follows a solution in the same cell stays, and now checks the student's function);
  a cell left empty is dropped;
* clears every output.

So the student's own definition, written in the stub cell, is the one every later cell uses.
"""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any

EXERCISE, SOLUTION = "exercise", "solution"


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def defined_names(source: str) -> set[str]:
    """Names of the functions and classes defined at the top level of a code cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def strip_definitions(source: str, names: set[str]) -> str:
    """``source`` without the top-level definitions of ``names`` (decorators included)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            drop.update(range(start - 1, node.end_lineno or node.lineno))
    kept = "".join(line for i, line in enumerate(lines) if i not in drop)
    return kept.strip("\n")


def student_edition(nb: Any) -> tuple[Any, int]:
    """The student edition of a notebook (nbformat node; not modified) and the number of solutions removed."""
    nb = copy.deepcopy(nb)
    exercise_names: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type == "code" and EXERCISE in _tags(cell):
            exercise_names |= defined_names(cell.source)
    cells, removed = [], 0
    for cell in nb.cells:
        if SOLUTION in _tags(cell):
            removed += cell.cell_type == "code"
            if cell.cell_type != "code":
                continue
            rest = strip_definitions(cell.source, exercise_names)
            if not rest.strip():
                continue
            cell.source = rest
            cell.metadata["tags"] = [t for t in _tags(cell) if t != SOLUTION]
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return nb, removed


def check_tags(nb: Any, name: str = "notebook") -> None:
    """Every ``solution`` code cell redefines something an ``exercise`` cell defines, and vice versa."""
    exercises = [c for c in nb.cells if c.cell_type == "code" and EXERCISE in _tags(c)]
    solutions = [c for c in nb.cells if c.cell_type == "code" and SOLUTION in _tags(c)]
    stubbed = set().union(*(defined_names(c.source) for c in exercises)) if exercises else set()
    solved = set().union(*(defined_names(c.source) for c in solutions)) if solutions else set()
    if stubbed != solved:
        raise ValueError(f"{name}: exercise stubs define {sorted(stubbed)} but solution cells define {sorted(solved)}")


def write_student_editions(source: Path, out: Path, overwrite: bool = False) -> list[tuple[Path, int]]:
    """Write the student edition of every ``*.ipynb`` in ``source`` to ``out``; returns (path, solutions removed)."""
    import nbformat

    notebooks = sorted(Path(source).glob("*.ipynb"))
    if not notebooks:
        raise ValueError(f"no notebooks (*.ipynb) in {source}")
    out = Path(out)
    if out.resolve() == Path(source).resolve():
        raise ValueError("--out must differ from the teacher notebooks' folder")
    existing = [out / p.name for p in notebooks if (out / p.name).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} exists; pass --overwrite to replace the student editions in {out}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        check_tags(nb, path.name)
        edition, removed = student_edition(nb)
        nbformat.write(edition, out / path.name)
        written.append((out / path.name, removed))
    return written
