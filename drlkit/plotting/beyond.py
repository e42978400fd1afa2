"""Plots of notebook 11: decentralised, bounded-staleness, federated, multi-task and compressed training.

* :func:`bytes_curve` / :func:`plot_return_vs_bytes` -- return against the bytes the run moved so far;
* :func:`plot_consensus` -- consensus distance per gossip round (log scale), one line per run;
* :func:`plot_consensus_rates` -- the measured contraction per gossip step against the spectral gap,
  with the λ2² prediction;
* :func:`plot_mixing_matrix` -- a mixing matrix as an image;
* :func:`plot_grid` -- a table of numbers (e.g. final return for local steps × heterogeneity) as a heat map;
* :func:`plot_per_task` -- grouped bars, one group per task (shared vs separate policies).

Each function takes its data explicitly and returns the matplotlib Axes.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .._checks import check_number
from .distributed import _axes, _check_result


def bytes_curve(result: Any, window: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """``(bytes, returns)``: for each finished episode, the payload bytes the run had moved when the
    driver received it, and the mean return of the last ``window`` episodes (both ``(episodes,)``)."""
    result = _check_result(result)
    window = check_number("window", window, low=1, integer=True)
    times, curve = result.return_curve(x="wall_time", window=window)
    rows = result.rows
    row_times = np.array([r["wall_time"] for r in rows], dtype=float)
    moved = np.cumsum([r.get("bytes_sent", 0) + r.get("bytes_received", 0) for r in rows], dtype=float)
    index = np.searchsorted(row_times, times, side="right") - 1
    # An episode is booked together with the row of the task that finished it: count that row.
    index = np.clip(index, 0, max(len(moved) - 1, 0))
    return (moved[index] if len(moved) else np.zeros(len(times))), curve


def plot_return_vs_bytes(results: Mapping[str, Any], window: int = 20, ax: Any = None) -> Any:
    """Mean return of the last ``window`` episodes against bytes moved (log x), one line per run."""
    if not isinstance(results, Mapping) or not results:
        raise TypeError("results must be a non-empty dict {label: DistributedResult}")
    ax = _axes(ax)
    for label, result in results.items():
        xs, curve = bytes_curve(result, window)
        ax.plot(np.maximum(xs, 1.0), curve, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("bytes moved (payload, all workers)")
    ax.set_ylabel(f"return (mean of last {window} episodes)")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_consensus(results: Mapping[str, Any], ax: Any = None) -> Any:
    """Consensus distance against gossip round, log y, one line per run (runs without rounds are skipped)."""
    if not isinstance(results, Mapping) or not results:
        raise TypeError("results must be a non-empty dict {label: DistributedResult}")
    ax = _axes(ax)
    for label, result in results.items():
        frame = _check_result(result, f"results[{label!r}]").consensus_frame()
        if len(frame):
            ax.plot(frame["round"], np.maximum(frame.consensus_distance, 1e-16), marker=".", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("gossip round")
    ax.set_ylabel("consensus distance  (1/N) Σ‖x_i − x̄‖²")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_consensus_rates(gaps: Sequence[float], rates: Sequence[float], labels: Sequence[str], ax: Any = None) -> Any:
    """Measured contraction of the consensus distance per step (``rates``) against the spectral gap
    1 − λ2 of each mixing matrix, with the curve (1 − gap)² that theory predicts."""
    g, r = np.asarray(gaps, dtype=float), np.asarray(rates, dtype=float)
    if g.shape != r.shape or g.ndim != 1 or len(labels) != len(g):
        raise ValueError("gaps, rates and labels must be 1-D and of equal length")
    ax = _axes(ax, (6, 4))
    line = np.linspace(0, 1, 101)
    ax.plot(line, (1 - line) ** 2, color="0.4", linestyle="--", label="theory λ2² = (1 − gap)²")
    ax.scatter(g, r, zorder=3, color="C3", label="measured")
    for gap, rate, label in zip(g, r, labels):
        ax.annotate(label, (gap, rate), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xlabel("spectral gap 1 − λ2")
    ax.set_ylabel("consensus distance ratio per step")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_mixing_matrix(weights: Any, ax: Any = None, title: str | None = None) -> Any:
    """A mixing matrix as an image (rows: the slot that merges, columns: whose parameters)."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"weights must be a square matrix, got shape {w.shape}")
    ax = _axes(ax, (4, 4))
    image = ax.imshow(w, cmap="viridis", vmin=0)
    ax.figure.colorbar(image, ax=ax, fraction=0.046)
    ax.set_xlabel("from slot j")
    ax.set_ylabel("slot i")
    if title:
        ax.set_title(title)
    return ax


def plot_grid(
    values: Any,
    row_labels: Sequence[Any],
    col_labels: Sequence[Any],
    ax: Any = None,
    xlabel: str = "",
    ylabel: str = "",
    title: str | None = None,
    fmt: str = "{:.0f}",
) -> Any:
    """A ``(rows, cols)`` table of numbers as a heat map with the numbers written in the cells."""
    v = np.asarray(values, dtype=float)
    if v.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"values has shape {v.shape}; expected ({len(row_labels)}, {len(col_labels)}) from the labels")
    ax = _axes(ax, (5, 3.5))
    image = ax.imshow(v, cmap="viridis", aspect="auto")
    ax.figure.colorbar(image, ax=ax)
    ax.set_xticks(range(len(col_labels)), [str(c) for c in col_labels])
    ax.set_yticks(range(len(row_labels)), [str(r) for r in row_labels])
    finite = v[np.isfinite(v)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            if np.isfinite(v[i, j]):
                color = "black" if v[i, j] > middle else "white"
                ax.text(j, i, fmt.format(v[i, j]), ha="center", va="center", color=color, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def plot_per_task(returns: Mapping[str, Sequence[float]], task_labels: Sequence[str], ax: Any = None) -> Any:
    """Grouped bars: for each task, one bar per policy (e.g. ``{"shared": [...], "separate": [...]}``)."""
    if not isinstance(returns, Mapping) or not returns:
        raise TypeError("returns must be a non-empty dict {policy label: one return per task}")
    for label, values in returns.items():
        if len(values) != len(task_labels):
            raise ValueError(f"returns[{label!r}] has {len(values)} values for {len(task_labels)} tasks")
    ax = _axes(ax, (6, 3.5))
    width = 0.8 / len(returns)
    x = np.arange(len(task_labels))
    for k, (label, values) in enumerate(returns.items()):
        ax.bar(x + (k - (len(returns) - 1) / 2) * width, values, width, label=label)
    ax.set_xticks(x, [str(t) for t in task_labels])
    ax.set_ylabel("evaluation return")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    return ax
