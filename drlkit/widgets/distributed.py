r"""Widgets, live figures and tables of notebook 05: synchronous vs asynchronous training on Dask.

Everything here reads the record a run of :func:`drlkit.distributed.train`
keeps (a :class:`~drlkit.distributed.DistributedResult`), so it works live --
while the record grows -- and afterwards. The figures of single runs (return
curves, task timelines, staleness, per-worker throughput) are in
:mod:`drlkit.plotting.distributed`.

* :func:`run_table` -- one line per run: updates, steps/s, staleness, dropped results, return;
* :func:`plot_scaling` -- environment steps per second against the number of workers;
* :func:`simulate_schedule`, :func:`plot_schedule`, :func:`describe_schedule` -- the task
  schedule of an idealised run (every task equally long but a straggler's), to see what
  sync and async do before (or instead of) running them;
* :class:`LiveRunPlot` -- an ``on_update`` hook for ``drlkit.distributed.train`` that
  redraws the return curves (against wall-clock time and against environment
  steps) while the run trains, next to finished runs, and can stop it after a time limit;
* :func:`run_live` -- train with that hook and print a one-line summary;
* :func:`explore_scenarios` -- widgets choose a scenario (mode, workers, a straggler,
  η, staleness-aware merging, a staleness cap) and its idealised schedule redraws at
  once; "Run scenario" trains it with the curves redrawn live, and every run stays on
  the plot and in the table for comparison;
* :func:`show_dashboard_link` -- the Dask dashboard as a link.
"""
from __future__ import annotations

import io
import math
import time
from typing import Any, Callable, Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, Image, display
from matplotlib.figure import Figure

from .._checks import check_choice, check_number
from ..distributed import DistributedResult, train
from ..plotting.distributed import plot_return_curves
from ._explorer import SLIDER_STYLE

#: Training modes the scenario explorer offers.
SCENARIO_MODES = ("sync", "async")
X_AXES = {"wall_time": "wall-clock seconds", "step": "environment steps (all workers)"}
#: Columns of :func:`run_table`.
TABLE_COLUMNS = ("mode", "workers", "updates", "env steps", "seconds", "env steps/s", "updates/s",
                 "mean staleness", "max staleness", "dropped", "return")


# ------------------------------------------------------------------- checks
def _check_runs(runs: Any, name: str = "runs") -> dict[str, DistributedResult]:
    """``runs`` as a dict label -> DistributedResult (a single result gets its mode as label)."""
    if isinstance(runs, DistributedResult):
        return {runs.mode: runs}
    if not isinstance(runs, Mapping):
        raise TypeError(f"{name} must be a dict {{label: DistributedResult}}, got {type(runs).__name__}")
    for label, result in runs.items():
        if not isinstance(result, DistributedResult):
            raise TypeError(f"{name}[{label!r}] must be a DistributedResult (what drlkit.distributed.train "
                            f"returns), got {type(result).__name__}")
    return {str(label): result for label, result in runs.items()}


def _new_axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


# ------------------------------------------------------------------ figures
def plot_scaling(workers: Sequence[int], steps_per_second: Sequence[float], ax: Any = None,
                 cores: int | None = None, label: str = "measured") -> Any:
    """Environment steps per second against the number of workers, with ideal linear scaling
    from the first point; ``cores`` marks how many CPU cores the machine has."""
    workers = np.asarray(workers, dtype=float)
    rates = np.asarray(steps_per_second, dtype=float)
    if workers.ndim != 1 or workers.shape != rates.shape or len(workers) == 0:
        raise ValueError(f"workers and steps_per_second must be 1-D of equal, non-zero length; got shapes "
                         f"{workers.shape} and {rates.shape}")
    if (workers < 1).any() or not np.isfinite(rates).all() or (rates < 0).any():
        raise ValueError("workers must be >= 1 and steps_per_second finite and >= 0")
    ax = _new_axes(ax, (5, 3.4))
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


# ------------------------------------------------------------------- tables
def run_table(runs: Mapping[str, DistributedResult] | DistributedResult, window: int = 20):
    """One row per run: mode, workers, updates, env steps, seconds, env steps/s, updates/s,
    mean and max staleness of the applied results, results dropped, and the mean return
    of the last ``window`` episodes."""
    import pandas as pd

    runs = _check_runs(runs)
    window = check_number("window", window, low=1, integer=True)
    rows = {label: _summary(result, window) for label, result in runs.items()}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(TABLE_COLUMNS))


def _summary(result: DistributedResult, window: int) -> dict[str, Any]:
    frame = result.to_frame()
    applied = frame[frame.status == "applied"]
    returns = [e["episode_return"] for e in result.episodes[-window:]]
    return {
        "mode": result.mode,
        "workers": result.n_workers,
        "updates": result.updates,
        "env steps": result.env_steps,
        "seconds": round(result.wall_time, 2),
        "env steps/s": round(result.steps_per_second, 1),
        "updates/s": round(result.update_rate, 2),
        "mean staleness": round(float(applied.staleness.mean()), 2) if len(applied) else math.nan,
        "max staleness": int(applied.staleness.max()) if len(applied) else 0,
        "dropped": result.counts()["dropped"],
        "return": round(float(np.mean(returns)), 1) if returns else math.nan,
    }


def describe_run(label: str, result: DistributedResult, window: int = 20) -> str:
    """A one-line summary of a run (what :func:`run_live` prints)."""
    s = _summary(result, window)
    return (f"{label}: {s['updates']} updates, {s['env steps']:,} env steps in {s['seconds']:.1f} s "
            f"({s['env steps/s']:,.0f} env steps/s), mean staleness {s['mean staleness']:.2f}, "
            f"{s['dropped']} dropped, return (last {window} episodes) {s['return']:.1f}")


# ------------------------------------------------------------- live figure
class LiveRunPlot:
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

    def __init__(self, label: str, compare: Mapping[str, DistributedResult] | None = None,
                 time_limit: float | None = None, interval: float = 2.0, window: int = 20,
                 output: widgets.Output | None = None) -> None:
        self.label = str(label)
        self.compare = _check_runs(compare or {}, "compare")
        if self.label in self.compare:
            raise ValueError(f"label {self.label!r} is already used by a run in compare; choose another label")
        self.time_limit = None if time_limit is None else check_number("time_limit", time_limit, low=0, low_open=True)
        self.interval = check_number("interval", interval, low=0)
        self.window = check_number("window", window, low=1, integer=True)
        if output is not None and not isinstance(output, widgets.Output):
            raise TypeError(f"output must be an ipywidgets.Output, got {type(output).__name__}")
        self.output = output
        #: Redraws so far and the driver seconds they took.
        self.redraws, self.draw_time = 0, 0.0
        self._last_draw = -math.inf
        self._handle: Any = None
        # Not a pyplot figure: the notebook must not show it again when the cell ends.
        self.figure = Figure(figsize=(11, 3.6))
        self.axes = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.86, wspace=0.22)

    def __call__(self, result: DistributedResult) -> bool:
        if time.perf_counter() - self._last_draw >= self.interval:
            self.draw(result)
        return self.time_limit is None or result.wall_time < self.time_limit

    def draw(self, result: DistributedResult, final: bool = False) -> None:
        """Redraw with ``result`` as the current run (``final``: it has finished)."""
        started = time.perf_counter()
        runs = {**self.compare, self.label: result}  # the same order in both panels: the same colours
        for ax, x in zip(self.axes, X_AXES):
            ax.clear()
            plot_return_curves(runs, x=x, ax=ax, window=self.window)
        state = "finished" if final else "training"
        self.figure.suptitle(f"{self.label} ({state}): {result.updates} updates, {result.env_steps:,} env steps, "
                             f"{result.wall_time:.1f} s", fontsize="medium")
        self._show()
        self.redraws += 1
        self._last_draw = time.perf_counter()
        self.draw_time += self._last_draw - started

    def png(self) -> bytes:
        """The figure as it was last drawn, as PNG bytes."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.DPI)
        return buffer.getvalue()

    def _show(self) -> None:
        if self.output is None and not _in_kernel():
            return  # a script or a test: the figure is still drawn, see ``self.figure``
        image = Image(data=self.png(), format="png")
        if self.output is not None:
            with self.output:
                self.output.clear_output(wait=True)
                display(image)
        elif self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)


def _in_kernel() -> bool:
    """True inside a Jupyter kernel, where display handles update the cell's output."""
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def run_live(agent: Any, mode: str = "sync", *, label: str | None = None,
             compare: Mapping[str, DistributedResult] | None = None, time_limit: float | None = None,
             interval: float = 2.0, window: int = 20, output: widgets.Output | None = None,
             quiet: bool = False, **options: Any) -> DistributedResult:
    """:func:`drlkit.distributed.train` with a :class:`LiveRunPlot` redrawn while it trains.

    ``options`` go to ``train`` (``total_steps``, ``n_workers``, ``slowdown``, ...).
    With ``time_limit`` the run stops after that many seconds of training, and
    ``total_steps`` may be left out. Prints a one-line summary (unless ``quiet``)
    and returns the :class:`~drlkit.distributed.DistributedResult`.
    """
    label = mode if label is None else str(label)
    plot = LiveRunPlot(label, compare=compare, time_limit=time_limit, interval=interval, window=window,
                       output=output)
    if "total_steps" not in options:
        if time_limit is None:
            raise TypeError("run_live needs total_steps=..., time_limit=... or both")
        options["total_steps"] = 10**9  # the time limit ends the run
    user_hook = options.pop("on_update", None)

    def on_update(result: DistributedResult) -> bool:
        keep_going = plot(result)
        if user_hook is not None and user_hook(result) is False:
            keep_going = False
        return keep_going

    result = train(agent, mode, on_update=on_update, **options)
    drawing = plot.draw_time  # while training; the final redraw below is not part of the run
    plot.draw(result, final=True)
    if not quiet:
        print(f"{describe_run(label, result, window)}; live plot {drawing:.1f} s")
    return result


# ---------------------------------------------------------- schedule model
def simulate_schedule(mode: str, n_workers: int, slowdown: float = 1.0, duration: float = 12.0,
                      max_staleness: int | None = None) -> list[dict[str, Any]]:
    """The task schedule of an idealised run, in units of one task's time.

    Every task takes 1 time unit, except worker slot 0's, which take
    ``slowdown`` units (a straggler); sending, merging and drawing take no time.
    ``"sync"``: rounds in which every slot runs one task, each round starting
    when the slowest task of the previous one ends. ``"async"``: every slot
    starts its next task the moment its result has been handled; a result
    stamped with version ``v`` arriving at server version ``V`` has staleness
    ``V - v`` and is dropped when that exceeds ``max_staleness``. Tasks ending
    at the same moment are handled in slot order.

    Returns one dict per task that ended within ``duration``: ``slot``,
    ``start``, ``end``, ``version`` (the server's version when it was sent),
    ``staleness`` and ``status`` (``"applied"`` or ``"dropped"``).
    """
    mode = check_choice("mode", mode, SCENARIO_MODES)
    n_workers = check_number("n_workers", n_workers, low=1, integer=True)
    slowdown = check_number("slowdown", slowdown, low=1)
    duration = check_number("duration", duration, low=0, low_open=True)
    if max_staleness is not None:
        max_staleness = check_number("max_staleness", max_staleness, low=0, integer=True)
    task_time = [slowdown] + [1.0] * (n_workers - 1)
    tasks: list[dict[str, Any]] = []
    if mode == "sync":
        start, version = 0.0, 0
        while start + max(task_time) <= duration:
            tasks += [{"slot": i, "start": start, "end": start + task_time[i], "version": version, "staleness": 0,
                       "status": "applied"} for i in range(n_workers)]
            start, version = start + max(task_time), version + 1
        return tasks
    version = 0
    running = {i: (0.0, 0) for i in range(n_workers)}  # slot -> (start, version it was sent with)
    while True:
        slot = min(running, key=lambda i: (running[i][0] + task_time[i], i))
        start, stamp = running[slot]
        end = start + task_time[slot]
        if end > duration:
            return tasks
        staleness = version - stamp
        dropped = max_staleness is not None and staleness > max_staleness
        tasks.append({"slot": slot, "start": start, "end": end, "version": stamp, "staleness": staleness,
                      "status": "dropped" if dropped else "applied"})
        version += 0 if dropped else 1
        running[slot] = (end, version)


def plot_schedule(tasks: Sequence[Mapping[str, Any]], n_workers: int, ax: Any = None, title: str | None = None) -> Any:
    """Draw a schedule from :func:`simulate_schedule`: one row per worker slot, one bar per task
    labelled with its staleness τ (applied green, dropped red); idle time is left blank."""
    n_workers = check_number("n_workers", n_workers, low=1, integer=True)
    ax = _new_axes(ax, (11, 0.45 * n_workers + 1.3))
    for task in tasks:
        color = "C2" if task["status"] == "applied" else "C3"
        width = task["end"] - task["start"]
        ax.barh(task["slot"], width, left=task["start"], height=0.7, color=color, edgecolor="white")
        ax.text(task["start"] + width / 2, task["slot"], f"τ={task['staleness']}", ha="center", va="center",
                fontsize="x-small", color="white")
    ax.set_yticks(range(n_workers), ["slot 0 (straggler)" if i == 0 else f"slot {i}" for i in range(n_workers)]
                  if n_workers > 1 else ["slot 0"])
    ax.set_ylim(n_workers - 0.5, -0.5)
    ax.set_xlabel("time (one task = 1)")
    if title:
        ax.set_title(title, fontsize="medium")
    return ax


def describe_schedule(tasks: Sequence[Mapping[str, Any]], mode: str, n_workers: int, duration: float) -> str:
    """Updates (sync: rounds; async: applied results), mean staleness of the applied results,
    results dropped and how busy the fast slots were, for a schedule of ``duration`` time units."""
    mode = check_choice("mode", mode, SCENARIO_MODES)
    applied = [t for t in tasks if t["status"] == "applied"]
    updates = len({t["version"] for t in tasks}) if mode == "sync" else len(applied)
    mean_tau = float(np.mean([t["staleness"] for t in applied])) if applied else math.nan
    text = f"{updates} updates, mean τ {mean_tau:.1f}, {len(tasks) - len(applied)} dropped"
    if n_workers > 1:
        busy = sum(t["end"] - t["start"] for t in tasks if t["slot"] != 0) / ((n_workers - 1) * duration)
        text += f", fast workers busy {busy:.0%}"
    return text


# -------------------------------------------------------------- scenarios
NO_CAP = -1  # the staleness slider's "none"
#: Length, in task times, of the schedule the explorer previews.
PREVIEW_DURATION = 12.0


class ScenarioExplorer(widgets.VBox):
    """Widgets for a training scenario, the schedule it would have (redrawn at once when a
    widget changes), a "Run scenario" button, live curves of every run so far and a table
    comparing them (see :func:`explore_scenarios`).

    Every finished run is kept in :attr:`results` (label -> DistributedResult).
    """

    def __init__(self, make_agent: Callable[[], Any], client: Any, total_steps: int, fragment_steps: int | None,
                 n_workers: int, max_workers: int, runs: Mapping[str, DistributedResult], interval: float) -> None:
        self.make_agent, self.client = make_agent, client
        self.fragment_steps, self.interval = fragment_steps, interval
        self.results: dict[str, DistributedResult] = dict(runs)
        self.mode = widgets.ToggleButtons(options=list(SCENARIO_MODES), value="async", description="mode",
                                          style=SLIDER_STYLE)
        self.workers = widgets.IntSlider(value=n_workers, min=1, max=max_workers, description="workers",
                                         continuous_update=False, style=SLIDER_STYLE)
        self.slowdown = widgets.FloatSlider(value=1.0, min=1.0, max=5.0, step=0.5, description="straggler slowdown",
                                            continuous_update=False, readout_format=".1f", style=SLIDER_STYLE)
        self.eta = widgets.FloatSlider(value=round(1.0 / n_workers, 2), min=0.05, max=1.0, step=0.05,
                                       description="η", continuous_update=False, readout_format=".2f",
                                       style=SLIDER_STYLE)
        self.staleness_aware = widgets.Checkbox(value=False, description="staleness-aware (η / τ)",
                                                style=SLIDER_STYLE, indent=False)
        self.max_staleness = widgets.SelectionSlider(
            options=[("none", NO_CAP)] + [(str(k), k) for k in range(0, 9)], value=NO_CAP,
            description="staleness cap", continuous_update=False, style=SLIDER_STYLE)
        step = 1024
        self.total_steps = widgets.IntSlider(value=total_steps, min=step, max=max(8 * total_steps, 4 * step),
                                             step=step, description="env steps", continuous_update=False,
                                             style=SLIDER_STYLE)
        self.run_button = widgets.Button(description="Run scenario", button_style="primary", icon="play")
        self.clear_button = widgets.Button(description="Clear runs", icon="trash")
        self.preview = widgets.Output()
        self.output = widgets.Output()
        self.table = widgets.HTML()
        self.run_button.on_click(lambda _: self.run())
        self.clear_button.on_click(lambda _: self.clear())
        self.mode.observe(self._enable_async_options, names="value")
        for control in (self.mode, self.workers, self.slowdown, self.max_staleness):
            control.observe(self._show_preview, names="value")
        controls = widgets.VBox([
            self.mode,
            widgets.HBox([self.workers, self.slowdown, self.total_steps]),
            widgets.HBox([self.eta, self.staleness_aware, self.max_staleness]),
        ])
        super().__init__([controls, self.preview, widgets.HBox([self.run_button, self.clear_button]),
                          self.output, self.table])
        self._enable_async_options()
        self._show_preview()
        self._show_runs()

    # ----------------------------------------------------------- scenario
    def scenario(self) -> dict[str, Any]:
        """The ``drlkit.distributed.train`` options the widgets describe now."""
        options: dict[str, Any] = {"n_workers": self.workers.value, "total_steps": self.total_steps.value}
        if self.fragment_steps is not None:
            options["fragment_steps"] = self.fragment_steps
        if self.slowdown.value > 1.0:
            options["slowdown"] = {0: self.slowdown.value}
        if self.mode.value == "async":
            options["eta"] = self.eta.value
            options["staleness_aware"] = self.staleness_aware.value
            if self.max_staleness.value != NO_CAP:
                options["max_staleness"] = self.max_staleness.value
        return options

    def label(self) -> str:
        """A short name of the scenario, numbered so that every run keeps its own line."""
        parts = [f"#{len(self.results) + 1} {self.mode.value}", f"{self.workers.value}w"]
        if self.slowdown.value > 1.0:
            parts.append(f"straggler ×{self.slowdown.value:g}")
        if self.mode.value == "async":
            parts.append(f"η={self.eta.value:g}" + ("/τ" if self.staleness_aware.value else ""))
            if self.max_staleness.value != NO_CAP:
                parts.append(f"cap {self.max_staleness.value}")
        return " ".join(parts)

    def schedule(self) -> list[dict[str, Any]]:
        """The idealised schedule of the current scenario (:func:`simulate_schedule`)."""
        cap = self.max_staleness.value if self.mode.value == "async" and self.max_staleness.value != NO_CAP else None
        return simulate_schedule(self.mode.value, self.workers.value, self.slowdown.value, PREVIEW_DURATION, cap)

    def run(self) -> DistributedResult | None:
        """Train a fresh agent in the current scenario, redrawing live; keep the result."""
        label = self.label()
        self.run_button.disabled = True
        try:
            result = run_live(self.make_agent(), self.mode.value, label=label, compare=self.results,
                              interval=self.interval, output=self.output, quiet=True, client=self.client,
                              **self.scenario())
        except Exception as exc:  # show what went wrong next to the widgets, keep the earlier runs
            with self.output:
                print(f"{label} stopped: {type(exc).__name__}: {exc}")
            return None
        finally:
            self.run_button.disabled = False
        self.results[label] = result
        self._show_table()
        return result

    def clear(self) -> None:
        """Forget every run."""
        self.results = {}
        self._show_runs()

    # ------------------------------------------------------------ drawing
    def _enable_async_options(self, change: Any = None) -> None:
        synchronous = self.mode.value != "async"
        for control in (self.eta, self.staleness_aware, self.max_staleness):
            control.disabled = synchronous

    def _show_preview(self, change: Any = None) -> None:
        tasks = self.schedule()
        with self.preview:
            self.preview.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(11, 0.45 * self.workers.value + 1.3))
            plot_schedule(tasks, self.workers.value, ax=ax, title=(
                f"expected schedule, {self.mode.value}: "
                f"{describe_schedule(tasks, self.mode.value, self.workers.value, PREVIEW_DURATION)} "
                f"(a model: no overheads, every task equally long but the straggler's)"))
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    def _show_runs(self) -> None:
        with self.output:
            self.output.clear_output(wait=True)
            fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
            for ax, x in zip(axes, X_AXES):
                if self.results:
                    plot_return_curves(self.results, x=x, ax=ax)
                else:
                    ax.set_xlabel(X_AXES[x])
            if not self.results:
                fig.suptitle("choose a scenario and press Run scenario", fontsize="medium")
            fig.tight_layout()
            display(fig)
            plt.close(fig)
        self._show_table()

    def _show_table(self) -> None:
        self.table.value = run_table(self.results).to_html(float_format=lambda v: f"{v:g}") if self.results else ""


def explore_scenarios(
    make_agent: Callable[[], Any],
    client: Any = None,
    total_steps: int = 16_384,
    fragment_steps: int | None = None,
    n_workers: int = 2,
    max_workers: int = 4,
    runs: Mapping[str, DistributedResult] | None = None,
    interval: float = 2.0,
) -> ScenarioExplorer:
    """A scenario explorer: choose mode (sync/async), workers, a straggler's slowdown, η,
    staleness-aware merging and a staleness cap; the expected schedule redraws at once,
    and "Run scenario" trains it for real with the curves redrawn live.

    ``make_agent()`` returns a fresh agent for every run. ``client`` defaults to the
    current Dask client at the time of each run. ``runs`` are earlier results shown
    from the start. More workers than Dask worker processes share the processes
    (more streams of experience, not more computing power).
    """
    if not callable(make_agent):
        raise TypeError(f"make_agent must be a function returning a new agent, got {type(make_agent).__name__}")
    total_steps = check_number("total_steps", total_steps, low=1024, integer=True)
    if fragment_steps is not None:
        fragment_steps = check_number("fragment_steps", fragment_steps, low=1, integer=True)
    max_workers = check_number("max_workers", max_workers, low=1, high=16, integer=True)
    n_workers = check_number("n_workers", n_workers, low=1, high=max_workers, integer=True)
    interval = check_number("interval", interval, low=0)
    return ScenarioExplorer(make_agent, client, total_steps, fragment_steps, n_workers, max_workers,
                            _check_runs(runs or {}), interval)


def show_dashboard_link(client: Any) -> HTML:
    """The Dask dashboard's address as a link (it opens in a new browser tab)."""
    link = getattr(client, "dashboard_link", None)
    if not link:
        raise ValueError("this client has no dashboard (is bokeh installed where the scheduler runs?)")
    return HTML(f'<p>Dask dashboard: <a href="{link}" target="_blank">{link}</a></p>')
