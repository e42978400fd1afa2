"""Plots of distributed training runs (:class:`drlkit.distributed.DistributedResult`).

* :func:`plot_return_curves` -- return against wall-clock time or environment steps, several runs
  on one Axes (e.g. sync vs async);
* :func:`plot_staleness` -- how stale the applied and the dropped results were;
* :func:`plot_worker_throughput` -- environment steps per second of each worker slot;
* :func:`plot_task_timeline` -- when each worker computed, idled, and had results applied or thrown away;
* :func:`plot_scaling` -- environment steps per second against the number of workers;
* :func:`plot_schedule` -- a schedule of the model in :mod:`drlkit.distributed.schedule`;
* :class:`LiveRunPlot` -- an ``on_update`` hook of ``drlkit.distributed.train`` that redraws the
  return curves (against wall-clock time and environment steps) while a run trains.

Each function takes the result(s) explicitly and returns the matplotlib Axes.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from .._checks import check_choice, check_number
from .live import LiveFigure

if TYPE_CHECKING:
    from ..distributed.result import DistributedResult

STATUS_COLORS = {"applied": "C2", "dropped": "C3", "cancelled": "0.6", "lost": "C1"}
#: The x axes of :class:`LiveRunPlot`'s two panels.
X_AXES = {"wall_time": "wall-clock seconds", "step": "environment steps (all workers)"}


def _axes(ax: Any, figsize: tuple[float, float] = (7, 4)) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def _check_result(result: Any, name: str = "result") -> Any:
    from ..distributed.result import DistributedResult

    if not isinstance(result, DistributedResult):
        raise TypeError(
            f"{name} must be a DistributedResult (from drlkit.distributed.train), got {type(result).__name__}"
        )
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
        ax.annotate(
            f"busy {busy:.0%}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize="small",
        )
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
        ax.barh(
            frame.worker[rows],
            ends[rows] - starts[rows],
            left=starts[rows],
            height=0.6,
            color=color,
            edgecolor="white",
            linewidth=0.5,
            label=status,
        )
        delay = frame.delay_time.fillna(0).to_numpy()[rows]
        if (delay > 0).any():
            ax.barh(
                frame.worker[rows],
                delay,
                left=ends[rows] - delay,
                height=0.6,
                color="none",
                hatch="///",
                edgecolor="0.2",
                linewidth=0,
            )
    for event in result.events:
        if event["event"] in ("killed", "worker left") and (until is None or event["wall_time"] <= until):
            ax.axvline(
                event["wall_time"], color="k", linestyle=":" if event["event"] == "worker left" else "-", linewidth=1
            )
            ax.annotate(
                event["event"], (event["wall_time"], result.n_workers - 0.5), fontsize="x-small", rotation=90, va="top"
            )
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


def check_runs(runs: Any, name: str = "runs") -> dict[str, DistributedResult]:
    """``runs`` as a dict label -> DistributedResult (see :func:`drlkit.distributed.result.check_runs`)."""
    from ..distributed.result import check_runs as check

    return check(runs, name)


# ------------------------------------------------------- scaling, schedules
def plot_scaling(
    workers: Any, steps_per_second: Any, ax: Any = None, cores: int | None = None, label: str = "measured"
) -> Any:
    """Environment steps per second (a sequence) against the numbers of ``workers`` (a sequence of
    the same length), with ideal linear scaling from the first point; ``cores`` marks how many CPU
    cores the machine has."""
    workers = np.asarray(workers, dtype=float)
    rates = np.asarray(steps_per_second, dtype=float)
    if workers.ndim != 1 or workers.shape != rates.shape or len(workers) == 0:
        raise ValueError(
            f"workers and steps_per_second must be 1-D of equal, non-zero length; got shapes "
            f"{workers.shape} and {rates.shape}"
        )
    if (workers < 1).any() or not np.isfinite(rates).all() or (rates < 0).any():
        raise ValueError("workers must be >= 1 and steps_per_second finite and >= 0")
    ax = _axes(ax, (5, 3.4))
    ax.plot(workers, rates, "o-", label=label)
    ax.plot(workers, rates[0] * workers / workers[0], "--", color="0.5", label="ideal (linear)")
    if cores is not None:
        cores = check_number("cores", cores, low=1, integer=True)
        ax.axvline(cores, color="tab:red", linestyle=":", label=f"{cores} CPU cores")
    ax.set_xlabel("workers")
    ax.set_ylabel("environment steps / s")
    ax.set_xticks(workers)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    return ax


def plot_schedule(tasks: Sequence[Mapping[str, Any]], n_workers: int, ax: Any = None, title: str | None = None) -> Any:
    """Draw a schedule from :func:`drlkit.distributed.schedule.simulate_schedule`: one row per worker
    slot, one bar per task labelled with its staleness τ (applied green, dropped red); idle time is blank."""
    n_workers = check_number("n_workers", n_workers, low=1, integer=True)
    ax = _axes(ax, (11, 0.45 * n_workers + 1.3))
    for task in tasks:
        color = "C2" if task["status"] == "applied" else "C3"
        width = task["end"] - task["start"]
        ax.barh(task["slot"], width, left=task["start"], height=0.7, color=color, edgecolor="white")
        ax.text(
            task["start"] + width / 2,
            task["slot"],
            f"τ={task['staleness']}",
            ha="center",
            va="center",
            fontsize="x-small",
            color="white",
        )
    ax.set_yticks(
        range(n_workers),
        ["slot 0 (straggler)" if i == 0 else f"slot {i}" for i in range(n_workers)] if n_workers > 1 else ["slot 0"],
    )
    ax.set_ylim(n_workers - 0.5, -0.5)
    ax.set_xlabel("time (one task = 1)")
    if title:
        ax.set_title(title, fontsize="medium")
    return ax


# -------------------------------------------------------------- live figure
class LiveRunPlot(LiveFigure):
    """An ``on_update`` hook for :func:`drlkit.distributed.train` that redraws the return
    curves (against wall-clock time and against environment steps) while the run trains.

    >>> plot = LiveRunPlot("async", compare={"sync": sync_result})          # doctest: +SKIP
    >>> result = drlkit.distributed.train(agent, "async", total_steps=20_000, on_update=plot)  # doctest: +SKIP
    >>> plot.draw(result, final=True)                                       # doctest: +SKIP

    Drawing runs on the driver between two updates, so it delays the run (by
    roughly a tenth of a second per redraw on a laptop); :attr:`draw_time`
    adds it up.

    Parameters
    ----------
    label : str
        Name of the run being trained, in the legend.
    compare : {label: DistributedResult}, optional
        Finished runs drawn alongside as references.
    time_limit : float > 0, optional
        Stop the run (the hook returns False) once it has trained this many seconds.
    interval : float >= 0
        Seconds between redraws.
    window : int >= 1
        Episodes averaged per point of the curves.
    output : ipywidgets.Output, optional
        Draw into this widget; by default into the output of the running cell.
    """

    #: Resolution of the redrawn image (lower draws faster).
    DPI = 80

    def __init__(
        self,
        label: str,
        compare: Mapping[str, Any] | None = None,
        time_limit: float | None = None,
        interval: float = 2.0,
        window: int = 20,
        output: Any = None,
    ) -> None:
        # Not a pyplot figure: the notebook must not show it again when the cell ends.
        figure = Figure(figsize=(11, 3.6))
        super().__init__(figure, output)
        self.label = str(label)
        self.compare = check_runs(compare or {}, "compare")
        if self.label in self.compare:
            raise ValueError(f"label {self.label!r} is already used by a run in compare; choose another label")
        self.time_limit = None if time_limit is None else check_number("time_limit", time_limit, low=0, low_open=True)
        self.interval = check_number("interval", interval, low=0)
        self.window = check_number("window", window, low=1, integer=True)
        #: Redraws so far and the driver seconds they took.
        self.redraws, self.draw_time = 0, 0.0
        self._last_draw = -math.inf
        self.axes = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.86, wspace=0.22)

    def __call__(self, result: Any) -> bool:
        if time.perf_counter() - self._last_draw >= self.interval:
            self.draw(result)
        return self.time_limit is None or result.wall_time < self.time_limit

    def draw(self, result: Any, final: bool = False) -> None:
        """Redraw with ``result`` as the current run (``final``: it has finished)."""
        started = time.perf_counter()
        runs = {**self.compare, self.label: result}  # the same order in both panels: the same colours
        for ax, x in zip(self.axes, X_AXES):
            ax.clear()
            plot_return_curves(runs, x=x, ax=ax, window=self.window)
        state = "finished" if final else "training"
        self.figure.suptitle(
            f"{self.label} ({state}): {result.updates} updates, {result.env_steps:,} env steps, "
            f"{result.wall_time:.1f} s",
            fontsize="medium",
        )
        self.show()
        self.redraws += 1
        self._last_draw = time.perf_counter()
        self.draw_time += self._last_draw - started
