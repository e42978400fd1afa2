"""The documentation site builds, warnings as errors, and shows what it promises.

A small site is built with the real configuration (``docs/conf.py``): the real agents API page, the
command-line help page and a notebook with a figure and math in its outputs, stored the way the test suite
stores executed notebooks. ``make docs`` builds the whole site the same way.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("sphinx", reason="the docs extra: pip install -c constraints.txt -e '.[docs]'")
pytest.importorskip("myst_nb")

import drlkit

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _figure_png() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from drlkit.plotting import plot_learning_curves

    ax = plot_learning_curves({"PPO": [[0.0, 10.0, 50.0, 200.0], [0.0, 20.0, 80.0, 300.0]]})
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png")
    plt.close(ax.figure)
    return buffer.getvalue()


def _executed_notebook() -> nbformat.NotebookNode:
    import base64

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A tiny tutorial\n\nThe return $G_t = \\sum_k \\gamma^k r_{t+k}$."),
        nbformat.v4.new_code_cell(
            "plot_learning_curves(curves)",
            execution_count=1,
            outputs=[
                nbformat.v4.new_output(
                    "display_data",
                    data={"image/png": base64.b64encode(_figure_png()).decode(), "text/plain": "<Figure>"},
                ),
                nbformat.v4.new_output("stream", name="stdout", text="mean return of the last episodes 250.0\n"),
            ],
        ),
    ]
    return nb


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    (src / "api").mkdir()
    shutil.copy(DOCS / "api" / "agents.md", src / "api" / "agents.md")
    (src / "cli.md").write_text("# Command line\n\n```{drlkit-cli-help}\n```\n")
    (src / "notebooks").mkdir()
    nbformat.write(_executed_notebook(), str(src / "notebooks" / "tiny.ipynb"))
    (src / "index.md").write_text("# drlkit\n\n```{toctree}\napi/agents\ncli\nnotebooks/tiny\n```\n")
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "html",
            "-W",
            "--keep-going",
            "-q",
            "-c",
            str(DOCS),
            "-d",
            str(out / ".doctrees"),
            str(src),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    return out


def _section(html: str, anchor: str) -> str:
    """The HTML of one documented object: from its anchor to the next object of the same kind."""
    start = html.index(f'id="{anchor}"')
    following = re.search(r'<dl class="py class">', html[start:])
    return html[start : start + following.start()] if following else html[start:]


def test_api_page_documents_ppo_with_every_hyperparameter_and_its_math(site):
    html = (site / "api" / "agents.html").read_text()
    ppo = _section(html, "drlkit.PPO")
    for field in dataclasses.fields(drlkit.PPO.Config):
        assert f">{field.name}<" in ppo or f"{field.name}</" in ppo, field.name
    assert "Adam step size" in ppo  # the #: comment where learning_rate is declared
    # The algorithm's math (module docstring of drlkit.agents.ppo) is on the page as math, not as LaTeX text
    assert re.search(r'class="math[^"]*">\s*\\\[[^<]*\\mathrm\{clip\}', html), "clipped objective missing"


def test_math_renders_without_a_network(site):
    html = (site / "api" / "agents.html").read_text()
    scripts = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', html)
    assert scripts and all(not s.startswith(("http:", "https:", "//")) for s in scripts), scripts
    assert (site / "api" / scripts[0].split("?")[0]).resolve().is_file()
    assert not re.search(r'src="(https?:)?//', html), "the page loads something from the network"


def test_notebook_page_shows_its_outputs(site):
    html = (site / "notebooks" / "tiny.html").read_text()
    images = re.findall(r'<img[^>]*src="([^"]+\.png)"', html)
    assert images, "no output image on the notebook page"
    assert (site / "notebooks" / images[0]).resolve().read_bytes().startswith(b"\x89PNG")
    assert "mean return of the last episodes 250.0" in html
    assert 'class="math' in html


def test_cli_page_has_the_help_of_every_command(site):
    html = (site / "cli.html").read_text()
    for command in ("train", "evaluate", "plot", "sweep", "tutorials", "student-edition"):
        assert f"usage: drlkit {command}" in html, command
    assert "--steps" in html and "--grid" in html


def _staging_module():
    spec = importlib.util.spec_from_file_location("docs_notebooks", ROOT / "scripts" / "docs_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_staging_replaces_widget_views_and_keeps_the_rest():
    staging = _staging_module()
    nb = _executed_notebook()
    view = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    nb.cells[1].outputs.append(
        nbformat.v4.new_output(
            "display_data", data={staging.WIDGET_MIME: view, "text/plain": "interactive(children=(FloatSlider(...),))"}
        )
    )
    frame = '<iframe width="100%" src="http://127.0.0.1:40123/individual-task-stream"></iframe>'
    nb.cells[1].outputs.append(nbformat.v4.new_output("display_data", data={"text/html": frame}))
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    staged = staging.without_widgets(nb)
    kinds = [list(out.get("data", {"stream": 1})) for out in staged.cells[1].outputs]
    assert kinds == [["image/png", "text/plain"], ["stream"], ["text/markdown"], ["text/markdown"]]
    assert staged.cells[1].outputs[2].data["text/markdown"] == staging.WIDGET_NOTE
    assert staged.cells[1].outputs[3].data["text/markdown"] == staging.LIVE_FRAME_NOTE
    assert "widgets" not in staged.metadata
