"""Pictures of distributed Q-learning: error to Q* per merge, bytes communicated, the workers' tables.

Each function takes results of :func:`drlkit.distributed.q_learning` (run with
``Q_star=`` for the error curves) and returns the matplotlib Axes or Figure.
"""

from __future__ import annotations

from typing import Any, Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from .._checks import check_choice
from ..distributed.q_learning import DistributedQResult, format_bytes
from ..envs.mdp import MDP
from .grid import plot_values

X_AXES = {
    "episodes": "episodes per worker",
    "total_episodes": "episodes, all workers together",
    "wall_time": "wall time (s)",
    "total_bytes": "bytes communicated",
}
"""What :func:`plot_merge_errors` can put on the x axis: a column of ``result.to_frame()`` -> its label."""

_MAX_MARKERS = 40  # beyond this many merges a line reads better without a marker per merge


def plot_merge_errors(
    results: Mapping[str, DistributedQResult],
    ax: Axes | None = None,
    x: str = "total_episodes",
    baselines: Mapping[str, Any] | None = None,
    highlight: str | None = None,
    title: str | None = None,
) -> Axes:
    r"""The error :math:`\max_{s,a} |Q(s,a) - Q^*(s,a)|` of the merged table after each merge.

    Parameters
    ----------
    results : dict label -> DistributedQResult
        Runs made with ``Q_star=``; one line (a marker per merge) each.
    x : "total_episodes", "episodes", "wall_time" or "total_bytes"
        The x axis (see :data:`X_AXES`).
    baselines : dict label -> array (E,), optional
        Error after every episode of single-process runs (e.g. from
        ``drlkit.tabular.q_learning(..., record_q=True).Q_history``), drawn dashed
        against their episode count; only with an episode x axis.
    highlight : label, optional
        Draw this run bold and the others faint.

    The y axis is logarithmic.
    """
    check_choice("x", x, X_AXES)
    _check_results(results)
    if baselines and x not in ("episodes", "total_episodes"):
        raise ValueError(f"baselines are per-episode curves: use x='episodes' or 'total_episodes', not {x!r}")
    if highlight is not None and highlight not in results:
        raise ValueError(f"highlight must be one of the labels {list(results)}; got {highlight!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))

    for label, result in results.items():
        errors = result.merges["q_error"]
        if np.isnan(errors).all():
            raise ValueError(f"results[{label!r}] has no q_error: run drlkit.distributed.q_learning with Q_star=")
        faint = highlight is not None and label != highlight
        ax.plot(
            result.merges[x],
            errors,
            label=str(label),
            marker="o" if len(errors) <= _MAX_MARKERS else None,
            markersize=3 if faint else 4,
            linewidth=1 if faint else 2.2,
            alpha=0.35 if faint else 1.0,
            zorder=1 if faint else 3,
        )
    for label, curve in (baselines or {}).items():
        curve = np.asarray(curve, dtype=float)
        if curve.ndim != 1:
            raise ValueError(f"baselines[{label!r}] must be one error per episode, shape (E,); got {curve.shape}")
        ax.plot(np.arange(1, len(curve) + 1), curve, linestyle="--", color="0.35", linewidth=1.2, label=str(label))
    ax.set_yscale("log")
    # Plain numbers (0.2, 0.3) rather than powers of ten: errors rarely span many decades.
    ax.yaxis.set_major_formatter(FuncFormatter(_plain))
    ax.yaxis.set_minor_formatter(FuncFormatter(_plain))
    if x == "total_bytes":
        ax.set_xscale("log")
    ax.set_xlabel(X_AXES[x])
    ax.set_ylabel("max |Q - Q*| after the merge")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def plot_communication(
    results: Mapping[str, DistributedQResult],
    ax: Axes | None = None,
    highlight: str | None = None,
    title: str | None = None,
) -> Axes:
    """Bars of the total payload bytes each run sent, labelled with the bytes and the final error.

    ``highlight`` colours one bar and greys the others. The y axis is logarithmic:
    the bytes are proportional to the number of merges.
    """
    _check_results(results)
    if highlight is not None and highlight not in results:
        raise ValueError(f"highlight must be one of the labels {list(results)}; got {highlight!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    labels = list(results)
    sent = np.array([results[label].merges["total_bytes"][-1] for label in labels], dtype=float)
    colors = ["tab:blue" if highlight is None or label == highlight else "0.75" for label in labels]
    bars = ax.bar(range(len(labels)), sent, color=colors)
    for bar, label in zip(bars, labels):
        result = results[label]
        error = result.merges["q_error"][-1]
        text = format_bytes(bar.get_height())
        if not np.isnan(error):
            text += f"\nerr {error:.2g}"
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(labels)), [str(label) for label in labels])
    ax.set_yscale("log")
    ax.set_ylim(sent.min() / 2, sent.max() * 8)  # room for the labels above the bars
    ax.set_ylabel("bytes communicated (payload)")
    if title:
        ax.set_title(title)
    return ax


def plot_worker_tables(mdp: MDP, result: DistributedQResult, title: str | None = None) -> Any:
    """The workers' tables at the last merge and the merged table, side by side (a Figure).

    Each panel is the grid of ``mdp`` coloured by :math:`\\max_a Q(s, a)` with the
    greedy action as an arrow, all on one colour scale.
    """
    if not isinstance(result, DistributedQResult):
        raise TypeError(f"result must be a DistributedQResult; got {type(result).__name__}")
    if not isinstance(mdp, MDP) or mdp.layout is None:
        raise ValueError("mdp must be the gridworld MDP the result was learned on (a drlkit.MDP with a layout)")
    if result.Q.shape != (mdp.n_states, mdp.n_actions):
        raise ValueError(f"result.Q has shape {result.Q.shape} but mdp has (S, A) = ({mdp.n_states}, {mdp.n_actions})")
    tables = [*result.worker_Q, result.Q]
    names = [f"worker {k}" for k in range(len(result.worker_Q))] + [f"merged ({result.config.merge})"]
    values = [table.max(axis=1) for table in tables]
    vmin, vmax = min(v.min() for v in values), max(v.max() for v in values)
    rows, cols = mdp.layout
    fig, axes = plt.subplots(1, len(tables), figsize=(len(tables) * (cols * 0.7 + 0.6), rows * 0.7 + 0.9))
    for ax, table, V, name in zip(np.atleast_1d(axes), tables, values, names):
        plot_values(
            mdp, V, table.argmax(axis=1), ax=ax, title=name, colorbar=False, annotate=False, vmin=vmin, vmax=vmax
        )
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _plain(value: float, position: Any) -> str:
    return f"{value:g}"


def _check_results(results: Any) -> None:
    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty dict label -> DistributedQResult")
    for label, result in results.items():
        if not isinstance(result, DistributedQResult):
            raise TypeError(f"results[{label!r}] must be a DistributedQResult; got {type(result).__name__}")


__all__ = ["X_AXES", "plot_communication", "plot_merge_errors", "plot_worker_tables"]
