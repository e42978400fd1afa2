"""Plots of distributed training runs (:class:`drlkit.distributed.DistributedResult`).

* :func:`plot_return_curves` -- return against wall-clock time or environment steps, several runs
  on one Axes (e.g. sync vs async);
* :func:`plot_staleness` -- how stale the applied and the dropped results were;
* :func:`plot_worker_throughput` -- environment steps per second of each worker slot;
* :func:`plot_task_timeline` -- when each worker computed, idled, and had results applied or thrown away.

Each takes the result(s) explicitly and returns the matplotlib Axes.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .._checks import check_choice, check_number

STATUS_COLORS = {"applied": "C2", "dropped": "C3", "cancelled": "0.6", "lost": "C1"}


def _axes(ax: Any, figsize: tuple[float, float] = (7, 4)) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def _check_result(result: Any, name: str = "result") -> Any:
    from ..distributed.result import DistributedResult

    if not isinstance(result, DistributedResult):
        raise TypeError(f"{name} must be a DistributedResult (from drlkit.distributed.train), "
                        f"got {type(result).__name__}")
    return result


def plot_return_curves(
    results: Mapping[str, Any] | Sequence[Any] | Any,
    x: str = "wall_time",
    window: int = 20,
    ax: Any = None,
    target: float | None = None,
) -> Any:
    """Mean return of the last ``window`` episodes against ``x`` for each run.

    Parameters
    ----------
    results : DistributedResult, list of them, or dict label -> DistributedResult
        A list is labelled by mode and worker count (e.g. ``"async, 4 workers"``).
    x : "wall_time" or "step"
        Seconds since training started, or environment steps over all workers.
        Wall time shows what parallelism buys; steps show what it costs in samples.
    window : int >= 1
        Episodes in the moving average.
    target : float, optional
        A return to mark with a dashed line (e.g. 475 for CartPole-v1).
    """
    check_choice("x", x, ("wall_time", "step"))
    window = check_number("window", window, low=1, integer=True)
    if isinstance(results, Mapping):
        labelled = dict(results)
    else:
        runs = [results] if not isinstance(results, Sequence) else list(results)
        labelled = {}
        for run in runs:
            label = f"{_check_result(run, 'results').mode}, {run.n_workers} worker{'s' * (run.n_workers != 1)}"
            while label in labelled:
                label += "'"
            labelled[label] = run
    if not labelled:
        raise ValueError("results is empty; give at least one DistributedResult")
    ax = _axes(ax)
    for label, result in labelled.items():
        xs, curve = _check_result(result, f"results[{label!r}]").return_curve(x=x, window=window)
        ax.plot(xs, curve, label=label)
    if target is not None:
        ax.axhline(target, color="0.3", linestyle="--", linewidth=1, label=f"target {target:g}")
    ax.set_xlabel("wall-clock seconds" if x == "wall_time" else "environment steps (all workers)")
    ax.set_ylabel(f"return (mean of last {window} episodes)")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_staleness(result: Any, ax: Any = None) -> Any:
    """Bar chart: number of results per staleness τ, applied and dropped stacked."""
    table = _check_result(result).staleness_histogram()
    ax = _axes(ax, (6, 3.5))
    taus = np.asarray(table.index, dtype=int)
    ax.bar(taus, table["applied"], color=STATUS_COLORS["applied"], label="applied")
    ax.bar(taus, table["dropped"], bottom=table["applied"], color=STATUS_COLORS["dropped"], label="dropped")
    ax.set_xlabel("staleness τ (updates applied while the work ran)")
    ax.set_ylabel("results")
    if len(taus):
        ax.set_xticks(taus)
    ax.set_title(f"{result.mode}: mean staleness {_mean_staleness(result):.2f}")
    ax.legend()
    return ax


def plot_worker_throughput(result: Any, ax: Any = None) -> Any:
    """Bars of environment steps per second for each worker slot, labelled with its busy fraction."""
    table = _check_result(result).throughput()
    ax = _axes(ax, (6, 3.5))
    bars = ax.bar(table.index.astype(str), table["steps_per_second"], color="C0")
    for bar, busy in zip(bars, table["busy_fraction"]):
        ax.annotate(f"busy {busy:.0%}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize="small")
    ax.set_xlabel("worker slot")
    ax.set_ylabel("environment steps / second")
    ax.set_title(f"{result.mode}: {result.steps_per_second:.0f} steps/s in total")
    return ax


def plot_task_timeline(result: Any, ax: Any = None, until: float | None = None) -> Any:
    """One row per worker slot: a bar per task from when the worker started it to when its
    result was handled, coloured by status (the hatched end is artificial delay);
    vertical lines mark workers killed or leaving.

    In ``sync`` the bars of a round end together (everyone waits for the slowest);
    in ``async`` each worker's bars follow each other without gaps.
    """
    frame = _check_result(result).to_frame()
    if until is not None:
        until = check_number("until", until, low=0, low_open=True)
        frame = frame[frame.wall_time <= until]
    ax = _axes(ax, (8, 0.6 * max(result.n_workers, 2) + 1.5))
    busy = frame.compute_time.fillna(0) + frame.delay_time.fillna(0)
    ends = frame.wall_time.to_numpy()
    # A bar spans the worker's busy time, ending when the driver handled the result.
    starts = np.maximum(ends - busy.to_numpy(), frame.submit_time.to_numpy())
    for status, color in STATUS_COLORS.items():
        rows = (frame.status == status).to_numpy()
        if not rows.any():
            continue
        ax.barh(frame.worker[rows], ends[rows] - starts[rows], left=starts[rows], height=0.6, color=color,
                edgecolor="white", linewidth=0.5, label=status)
        delay = frame.delay_time.fillna(0).to_numpy()[rows]
        if (delay > 0).any():
            ax.barh(frame.worker[rows], delay, left=ends[rows] - delay, height=0.6, color="none", hatch="///",
                    edgecolor="0.2", linewidth=0)
    for event in result.events:
        if event["event"] in ("killed", "worker left") and (until is None or event["wall_time"] <= until):
            ax.axvline(event["wall_time"], color="k", linestyle=":" if event["event"] == "worker left" else "-",
                       linewidth=1)
            ax.annotate(event["event"], (event["wall_time"], result.n_workers - 0.5), fontsize="x-small",
                        rotation=90, va="top")
    ax.set_yticks(range(result.n_workers + int(result.options.get("backup_workers", 0) or 0)))
    ax.set_xlabel("wall-clock seconds")
    ax.set_ylabel("worker slot")
    ax.set_title(f"{result.mode}: {result.updates} updates in {result.wall_time:.1f} s")
    ax.legend(loc="upper right", fontsize="small")
    return ax


def _mean_staleness(result: Any) -> float:
    frame = result.to_frame()
    values = frame.staleness[frame.status.isin(["applied", "dropped"])]
    return float(values.mean()) if len(values) else float("nan")
