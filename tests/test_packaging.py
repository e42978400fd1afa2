"""The ways of installing drlkit agree with each other.

pyproject.toml declares the dependencies, constraints.txt pins them (every
install goes through it), environment.yml and binder/environment.yml are the
conda-forge equivalents for conda users and Binder, and `.ci/run` runs what the
README tells contributors to run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CHECKED_EXTRAS = ("notebooks", "test", "multiagent", "offline")

# PyPI requirement -> its conda-forge packages, where the names differ. The lighter
# conda-forge packages are chosen on purpose: `dask` would add pyarrow and
# `matplotlib` would add Qt, neither of which drlkit uses.
CONDA_NAMES = {
    "torch": ["pytorch"],
    "dask[distributed]": ["dask-core", "distributed"],
    "matplotlib": ["matplotlib-base"],
}
# conda-forge package -> the PyPI distribution whose constraints.txt pin it must match.
PYPI_NAME_OF_CONDA = {"pytorch": "torch", "dask-core": "dask", "matplotlib-base": "matplotlib"}


def read_constraints() -> dict[str, str]:
    """constraints.txt as {canonical name: pinned version}; every line must be an `==` pin."""
    pins = {}
    for number, line in enumerate((ROOT / "constraints.txt").read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", (
            f"constraints.txt line {number}: {line!r} is not a single `name==version` pin"
        )
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"constraints.txt pins {name} twice"
        pins[name] = specifiers[0].version
    return pins


def declared_requirements() -> list[Requirement]:
    """Runtime dependencies plus the notebooks and test extras of pyproject.toml."""
    project = PYPROJECT["project"]
    lines = list(project["dependencies"])
    for extra in CHECKED_EXTRAS:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def requirements_of_extras(requirement: Requirement) -> list[Requirement]:
    """What the installed distribution adds for the extras named, e.g. dask[distributed] -> distributed."""
    added = []
    for extra in requirement.extras:
        for line in requires(requirement.name) or []:
            dependency = Requirement(line)
            if canonicalize_name(dependency.name) == canonicalize_name(requirement.name):
                continue
            if dependency.marker is not None and dependency.marker.evaluate({"extra": extra}):
                added.append(dependency)
    return added


def conda_dependencies(path: Path) -> tuple[dict[str, tuple[str | None, str | None]], list]:
    """Conda packages of an environment file as {name: (version, build)}, and its pip list."""
    environment = yaml.safe_load(path.read_text())
    packages, pip = {}, []
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip.extend(entry.get("pip", []))
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(?:==?([^=\s]+)(?:=(\S+))?)?", entry.strip())
        assert match, f"{path.name}: cannot read the dependency {entry!r} (expected name or name=version[=build])"
        name, pinned, build = match.groups()
        assert name not in packages, f"{path.name} lists {name} twice"
        packages[name] = (pinned, build)
    return packages, pip


def conda_names_of(requirement: Requirement) -> list[str]:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    key = canonicalize_name(requirement.name) + extras
    return CONDA_NAMES.get(key, [canonicalize_name(requirement.name)])


def test_constraints_pin_the_cpu_torch_release():
    assert read_constraints()["torch"] == "2.13.0"
    torch_requirement = next(r for r in declared_requirements() if r.name == "torch")
    assert str(torch_requirement.specifier) == "==2.13.0"


@pytest.mark.parametrize("requirement", declared_requirements(), ids=str)
def test_every_declared_dependency_is_pinned_within_its_range(requirement):
    pins = read_constraints()
    for needed in [requirement, *requirements_of_extras(requirement)]:
        name = canonicalize_name(needed.name)
        origin = "pyproject.toml" if needed is requirement else f"{requirement} in pyproject.toml"
        assert name in pins, f"{needed.name} (from {origin}) has no `==` pin in constraints.txt"
        assert needed.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {needed}"
        )


@pytest.mark.parametrize("requirement", declared_requirements(), ids=str)
def test_installed_version_is_the_pinned_one(requirement):
    """The environment the tests run in was installed through constraints.txt."""
    pin = read_constraints()[canonicalize_name(requirement.name)]
    try:
        installed = version(requirement.name)
    except PackageNotFoundError:
        pytest.fail(f"{requirement.name} is not installed: run `make setup`")
    # `==2.13.0` accepts a local build label such as 2.13.0+cpu.
    assert SpecifierSet(f"=={pin}").contains(Version(installed), prereleases=True), (
        f"{requirement.name} {installed} is installed but constraints.txt pins {pin}"
    )


def test_conda_environment_has_the_pyproject_packages_at_the_pinned_versions():
    packages, pip = conda_dependencies(ROOT / "environment.yml")
    project = PYPROJECT["project"]
    declared = [Requirement(line) for line in project["dependencies"] + project["optional-dependencies"]["notebooks"]]
    expected = {name for requirement in declared for name in conda_names_of(requirement)}
    listed = set(packages) - {"python", "pip"}
    assert listed == expected, (
        f"environment.yml lacks {sorted(expected - listed)} and has extra {sorted(listed - expected)}"
    )

    pins = read_constraints()
    for name, (pinned, _build) in packages.items():
        if name in ("python", "pip"):
            continue
        assert pinned is not None, f"environment.yml: {name} has no version; pin the one of constraints.txt"
        pypi_name = canonicalize_name(PYPI_NAME_OF_CONDA.get(name, name))
        assert pinned == pins[pypi_name], (
            f"environment.yml pins {name}={pinned} but constraints.txt pins {pypi_name}=={pins[pypi_name]}"
        )
    assert packages["pytorch"][1] is not None and packages["pytorch"][1].startswith("cpu"), (
        "environment.yml must ask for the CPU build of pytorch (build string cpu_*)"
    )

    python = packages["python"][0]
    assert python is not None and SpecifierSet(project["requires-python"]).contains(f"{python}.0"), (
        f"environment.yml's python={python} is outside requires-python {project['requires-python']}"
    )
    assert "pip" in packages and pip == ["-e .[multiagent,offline]"], (
        "environment.yml must install drlkit itself with its PyPI-only extras: `pip: [-e .[multiagent,offline]]`"
    )


def test_binder_environment_is_the_root_one_without_the_project_install():
    root_environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    binder_environment = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    assert binder_environment["channels"] == root_environment["channels"], (
        "the two environment files use different channels"
    )
    root_packages, _ = conda_dependencies(ROOT / "environment.yml")
    binder_packages, binder_pip = conda_dependencies(ROOT / "binder" / "environment.yml")
    differing = sorted(
        name
        for name in set(root_packages) | set(binder_packages)
        if root_packages.get(name) != binder_packages.get(name)
    )
    assert not differing, f"binder/environment.yml and environment.yml differ on {differing}"
    # Binder builds the environment before copying the repository: no local pip installs.
    assert binder_pip == [], (
        f"binder/environment.yml must not pip-install {binder_pip}: binder/postBuild installs drlkit"
    )


def test_binder_installs_drlkit_and_the_lab_settings():
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    lines = [line.strip() for line in post_build.read_text().splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert any(re.search(r"pip install .*--no-deps.* -e \.$", c) for c in commands), commands
    assert any(
        re.search(r"pip install .*--constraint constraints\.txt -e \"\.\[multiagent,offline\]\"$", c) for c in commands
    ), commands
    assert any(c.startswith("cp binder/overrides.json ") for c in commands), commands


def test_lab_overrides_are_valid_jupyterlab_settings():
    """binder/overrides.json must validate against the installed JupyterLab's schemas (e.g. fetchNews is a string)."""
    from jupyterlab.commands import get_app_dir

    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text())
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false" and notification["checkForUpdates"] is False
    schemas = Path(get_app_dir()) / "schemas"
    for plugin_id, values in overrides.items():
        package, plugin = plugin_id.split(":")
        schema = json.loads((schemas / package / f"{plugin}.json").read_text())
        jsonschema.validate(values, schema)


def readme_test_commands(readme: Path) -> list[str]:
    """Commands in the first code block after the README's "Run the tests" heading."""
    lines = readme.read_text().splitlines()
    heading = next(
        (i for i, line in enumerate(lines) if re.match(r"#+\s*Run the tests\b", line.strip(), re.IGNORECASE)), None
    )
    assert heading is not None, "README.md has no 'Run the tests' heading"
    fence = next(i for i in range(heading + 1, len(lines)) if lines[i].strip().startswith("```"))
    end = next(i for i in range(fence + 1, len(lines)) if lines[i].strip().startswith("```"))
    block = [line.strip() for line in lines[fence + 1 : end]]
    return [line.removeprefix("$ ") for line in block if line and not line.startswith("#")]


def ci_commands() -> list[str]:
    """What .ci/run executes, without comments, shell options and the `cd` to the repository."""
    commands = []
    for line in (ROOT / ".ci" / "run").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("set ") or line.startswith("cd "):
            continue
        commands.append(line)
    return commands


def test_ci_runs_the_readme_test_command():
    assert ci_commands() == ["make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test:", makefile, re.MULTILINE), "the Makefile has no `test` target"
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("README.md does not exist yet: only .ci/run was checked")
    assert readme_test_commands(readme) == ci_commands()


def test_repo2docker_builds_binder_from_the_binder_directory():
    repo2docker = shutil.which("repo2docker", path=str(Path(sys.executable).parent)) or shutil.which("repo2docker")
    assert repo2docker, "repo2docker is missing: it comes with the test extra (`make setup`)"
    result = subprocess.run(
        [repo2docker, "--no-build", "--debug", "--user-id", "1000", "--user-name", "jovyan", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dockerfile = result.stdout + result.stderr
    assert "Building conda environment for python=3.11" in dockerfile
    assert re.search(r'env update -p \$\{NB_PYTHON_PREFIX\} --file "binder/environment.yml"', dockerfile)
    assert "RUN ./binder/postBuild" in dockerfile
    assert 'R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile


@pytest.mark.slow  # a fresh interpreter importing torch
def test_importing_drlkit_does_not_start_jupyter():
    """drlkit runs on Dask workers and in scripts: importing it must not load the notebook server stack."""
    code = (
        "import sys, drlkit; "
        "print(drlkit.__file__); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'jupyter_server', 'jupyterlab', 'ipykernel', 'notebook', 'tornado'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    location, loaded = result.stdout.splitlines()[-2:]
    assert Path(location).resolve().is_relative_to(ROOT / "drlkit"), (
        f"drlkit imported from {location}, not this checkout"
    )
    assert loaded == "[]", f"`import drlkit` loads {loaded}"
