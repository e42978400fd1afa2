"""Sphinx configuration of the drlkit documentation site (``make docs`` builds it into build/docs).

Pages are MyST Markdown; the API reference comes from the docstrings (autodoc, reStructuredText with
``:math:``); the tutorial notebooks are rendered with the outputs of their last test run
(``build/executed/``, staged into ``docs/notebooks/`` by ``scripts/docs_notebooks.py``): nothing is
executed while the site builds. MathJax is served from the site itself, so the math renders offline.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import drlkit  # noqa: E402

project = "drlkit"
author = "the drlkit authors"
copyright = "the drlkit authors"
version = release = drlkit.__version__

extensions = [
    "myst_nb",  # MyST Markdown pages and .ipynb notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 files copied into the site: math renders without a network
]

exclude_patterns = ["_build", "notebooks/README.md", "**/.ipynb_checkpoints"]
suppress_warnings = ["myst.header"]  # README sections keep their own heading levels when included

# MyST: $...$ math in Markdown, ```{eval-rst} blocks, heading anchors for links into README sections.
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# Notebooks: rendered as stored (executed by the test suite), never executed during the build.
nb_execution_mode = "off"
nb_ipywidgets_js: dict = {}  # no widget JavaScript from a CDN; widget outputs are replaced by a note
nb_merge_streams = True

# API reference: every public name from the docstrings, in source order, with type hints in the text.
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_inherit_docstrings = False  # an override without a docstring is not listed again (nor gymnasium's text)
autosummary_generate = False
napoleon_google_docstring = True  # "Args:" sections
napoleon_numpy_docstring = True

html_theme = "furo"
html_title = f"drlkit {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_copy_source = False


# ------------------------------------------------------------------ local extensions
def _hyperparameters_as_rubric(app, what, name, obj, options, lines: list[str]) -> None:
    """An algorithm's docstring ends with a "Hyperparameters (...)" section (``Agent.__init_subclass__``
    appends it for ``help()``); a section title is not allowed inside an autodoc entry, so it becomes a rubric."""
    for i in range(len(lines) - 1):
        title, underline = lines[i], lines[i + 1]
        if title.startswith("Hyperparameters") and underline and set(underline) == {"-"}:
            lines[i : i + 2] = [f".. rubric:: {title}", ""]
            break


def setup(app):
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class CliHelp(SphinxDirective):
        """``drlkit --help`` and ``drlkit COMMAND --help`` for every command, as literal blocks."""

        def run(self):
            import argparse
            import os

            import drlkit.cli
            from drlkit.cli import build_parser

            self.env.note_dependency(drlkit.cli.__file__)  # rebuilt when the parser changes
            os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal width: make it fixed
            parser = build_parser()
            result: list = []
            subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
            for name, sub in [("drlkit", parser), *((f"drlkit {n}", p) for n, p in subparsers.choices.items())]:
                result.append(nodes.rubric(text=name))
                block = nodes.literal_block(text=sub.format_help())
                block["language"] = "text"
                result.append(block)
            return result

    app.add_directive("drlkit-cli-help", CliHelp)
    app.connect("autodoc-process-docstring", _hyperparameters_as_rubric)
    return {"parallel_read_safe": True}
