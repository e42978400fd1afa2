"""Student editions: solutions tagged in every notebook, taken out by `drlkit student-edition`; each check tells a
student with the stub what is missing, and passes the teacher's reference solution."""

from __future__ import annotations

import ast
import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from drlkit.student_edition import EXERCISE, SOLUTION, check_tags, defined_names, student_edition

from notebook_tools import NOTEBOOKS, with_parameters

PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
CHECK_CALL = re.compile(r"^(check_\w+)\((\w+)(\)|,)", re.M)


def _tags(cell):
    return cell.metadata.get("tags", [])


def _exercises(nb):
    return [c for c in nb.cells if c.cell_type == "code" and EXERCISE in _tags(c)]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_stub_is_tagged_and_has_a_tagged_solution(path):
    nb = nbformat.read(path, as_version=4)
    stubs = [c for c in nb.cells if c.cell_type == "code" and "raise NotImplementedError" in c.source]
    assert stubs == _exercises(nb), "every stub cell (raise NotImplementedError) is tagged 'exercise', and only those"
    check_tags(nb, path.name)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_the_student_edition_keeps_the_stubs_and_checks_and_drops_the_solutions(path):
    teacher = nbformat.read(path, as_version=4)
    student, removed = student_edition(teacher)
    names = set().union(*(defined_names(c.source) for c in _exercises(teacher))) if _exercises(teacher) else set()
    assert removed == sum(c.cell_type == "code" and SOLUTION in _tags(c) for c in teacher.cells)
    assert not any(SOLUTION in _tags(c) for c in student.cells)
    for name in names:  # defined once, in the stub
        defining = [c for c in student.cells if c.cell_type == "code" and name in defined_names(c.source)]
        assert len(defining) == 1 and "raise NotImplementedError" in defining[0].source, name
    calls = lambda nb: sorted(CHECK_CALL.findall("\n".join(c.source for c in nb.cells if c.cell_type == "code")))
    assert calls(student) == calls(teacher)
    assert student.cells[0].source == teacher.cells[0].source
    nbformat.validate(student)


def _check_namespace(nb):
    """The parameters and the imports of a notebook, run here: what the stub and solution cells need."""
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and ("parameters" in _tags(cell) or "from drlkit.exercises" in cell.source):
            python = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            tree = ast.parse(python)
            if "parameters" not in _tags(cell):  # imports only: no cluster, no training
                tree.body = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
            exec(compile(tree, cell.get("id", "cell"), "exec"), namespace)
    return namespace


def _definitions(source, names):
    from drlkit.student_edition import strip_definitions

    rest = strip_definitions(source, names)
    lines = [line for line in source.splitlines() if line not in rest.splitlines() or not line.strip()]
    return "\n".join(lines)


def _run_check(check, fn):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ok = check(fn)
    return ok, out.getvalue()


EXERCISE_CASES = []
for _path in PATHS:
    _nb = nbformat.read(_path, as_version=4)
    for _cell in _exercises(_nb):
        for _name in sorted(defined_names(_cell.source)):
            EXERCISE_CASES.append(pytest.param(_path, _name, id=f"{_path.stem}-{_name}"))


@pytest.mark.parametrize(("path", "name"), EXERCISE_CASES)
def test_each_check_tells_a_student_with_the_stub_what_is_missing_and_passes_the_solution(path, name):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    checks = [m for c in code for m in CHECK_CALL.findall(c.source) if m[1] == name]
    assert checks, f"{path.name}: no check_...({name}) call"
    namespace = _check_namespace(nb)
    if checks[0][2] != ")":
        pytest.skip(f"{checks[0][0]} takes results of the notebook's runs: checked by the student-edition run")
    check = namespace[checks[0][0]]
    stub = next(c for c in code if EXERCISE in _tags(c) and name in defined_names(c.source))
    exec(stub.source, namespace)
    ok, said = _run_check(check, namespace[name])
    assert ok is False, said
    assert said.strip() and "Traceback" not in said
    assert re.search(r"NotImplementedError|not implemented|stub", said), said
    solution = next(c for c in code if SOLUTION in _tags(c) and name in defined_names(c.source))
    exec(_definitions(solution.source, {name}), namespace)
    ok, said = _run_check(check, namespace[name])
    assert ok is True, said


def test_the_command_writes_student_editions_and_never_overwrites(tmp_path):
    script = Path(sys.executable).with_name("drlkit")
    done = subprocess.run(
        [str(script), "student-edition", "--out", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert {p.name for p in tmp_path.glob("*.ipynb")} == {p.name for p in PATHS}
    for path in PATHS:
        written = nbformat.read(tmp_path / path.name, as_version=4)
        expected, _ = student_edition(nbformat.read(path, as_version=4))
        assert [c.source for c in written.cells] == [c.source for c in expected.cells]
    again = subprocess.run(
        [str(script), "student-edition", "--out", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 2 and "--overwrite" in again.stderr and len(again.stderr.splitlines()) == 1


SMALL = {
    "01_mdps": dict(MAP="4x4", TOL=1e-6),
    "02_q_learning": "test_notebook_02",
    "03_dqn": "test_notebook_03",
    "04_policy_gradients": "test_notebook_04",
    "05_sync_vs_async": "test_notebook_05",
    "06_distributed_q_learning": "test_notebook_06",
    "09_multi_agent": "test_notebook_09",
    "10_mcts_self_play": "test_notebook_10",
    "11_beyond_parameter_server": "test_notebook_11",
    "12_populations_and_replay": "test_notebook_12",
}


def _small_parameters(stem):
    value = SMALL.get(stem, {})
    if isinstance(value, str):
        import importlib

        value = getattr(importlib.import_module(value), "SMALL", {})
    return value


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_student_edition_runs_up_to_each_exercise(path, tmp_path):
    """Run the student edition (small parameters) up to its last check: each check is reached and says 'Not yet';
    the only errors on the way come from the stubs (NotImplementedError) or from what they left undefined."""
    from nbclient import NotebookClient

    nb = with_parameters(path, **_small_parameters(path.stem))
    student, _ = student_edition(nb)
    last_check = max(
        (i for i, c in enumerate(student.cells) if c.cell_type == "code" and CHECK_CALL.search(c.source)), default=None
    )
    if last_check is None:
        pytest.skip(f"{path.name} has no exercises")
    student.cells = student.cells[: last_check + 1]
    (tmp_path / path.name).write_text(nbformat.writes(student))
    client = NotebookClient(
        student, timeout=240, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    errors = [
        (i, o)
        for i, c in enumerate(student.cells)
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    first_stub = min(i for i, c in enumerate(student.cells) if EXERCISE in _tags(c))
    assert all(i > first_stub for i, _ in errors), "the notebook fails before its first exercise"
    if errors:
        assert errors[0][1]["ename"] == "NotImplementedError", errors[0][1]
    for cell in student.cells:
        if cell.cell_type == "code" and CHECK_CALL.search(cell.source):
            text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
            assert "Not yet" in text or "NotImplementedError" in text, (path.name, cell.source, text)
            # The check itself never raises; a later line of the same cell may use the stub (NotImplementedError).
            assert all(
                o.get("ename") == "NotImplementedError" for o in cell.outputs if o.get("output_type") == "error"
            ), (path.name, cell.source)
