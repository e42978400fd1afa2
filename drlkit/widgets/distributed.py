r"""Widgets of notebook 05: synchronous vs asynchronous training on Dask.

* :func:`explore_scenarios` -- widgets choose a scenario (mode, workers, a straggler,
  η, staleness-aware merging, a staleness cap) and its idealised schedule redraws at
  once; "Run scenario" trains it with the curves redrawn live, and every run stays on
  the plot and in the table for comparison;
* :func:`run_live` -- train with a :class:`~drlkit.plotting.distributed.LiveRunPlot` and print a one-line summary;
* :func:`run_table` -- :meth:`DistributedResult.summary_table <drlkit.distributed.DistributedResult.summary_table>`,
  one line per run;
* :func:`show_dashboard_link` -- the Dask dashboard as a link.
* :func:`show_task_stream` -- the dashboard's live task stream, embedded in the notebook.

What they draw and compute lives elsewhere and is importable from here as before: the figures
(:func:`~drlkit.plotting.distributed.plot_scaling`, :func:`~drlkit.plotting.distributed.plot_schedule`,
:class:`~drlkit.plotting.distributed.LiveRunPlot`) in :mod:`drlkit.plotting.distributed`, the schedule model
(:func:`~drlkit.distributed.schedule.simulate_schedule`, :func:`~drlkit.distributed.schedule.describe_schedule`)
in :mod:`drlkit.distributed.schedule`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import HTML, IFrame, display

from .._checks import check_number
from ..distributed import DistributedResult, dashboard_url, train
from ..distributed.result import TABLE_COLUMNS
from ..distributed.schedule import SCENARIO_MODES, describe_schedule, simulate_schedule
from ..plotting.distributed import X_AXES, LiveRunPlot, check_runs, plot_return_curves, plot_scaling, plot_schedule
from ._explorer import SLIDER_STYLE

__all__ = [
    "SCENARIO_MODES",
    "TABLE_COLUMNS",
    "LiveRunPlot",
    "ScenarioExplorer",
    "describe_run",
    "describe_schedule",
    "explore_scenarios",
    "plot_scaling",
    "plot_schedule",
    "run_live",
    "run_table",
    "show_dashboard_link",
    "show_task_stream",
    "simulate_schedule",
]
_check_runs = check_runs  # the former private name


def run_table(runs: Mapping[str, DistributedResult] | DistributedResult, window: int = 20):
    """One row per run: mode, workers, updates, env steps, seconds, env steps/s, updates/s,
    mean and max staleness of the applied results, results dropped, and the mean return
    of the last ``window`` episodes (:meth:`DistributedResult.summary_table`)."""
    return DistributedResult.summary_table(check_runs(runs), window)


def describe_run(label: str, result: DistributedResult, window: int = 20) -> str:
    """A one-line summary of a run (what :func:`run_live` prints)."""
    s = result.table_row(check_number("window", window, low=1, integer=True))
    return (
        f"{label}: {s['updates']} updates, {s['env steps']:,} env steps in {s['seconds']:.1f} s "
        f"({s['env steps/s']:,.0f} env steps/s), mean staleness {s['mean staleness']:.2f}, "
        f"{s['dropped']} dropped, return (last {window} episodes) {s['return']:.1f}"
    )


def run_live(
    agent: Any,
    mode: str = "sync",
    *,
    label: str | None = None,
    compare: Mapping[str, DistributedResult] | None = None,
    time_limit: float | None = None,
    interval: float = 2.0,
    window: int = 20,
    output: widgets.Output | None = None,
    quiet: bool = False,
    **options: Any,
) -> DistributedResult:
    """:func:`drlkit.distributed.train` with a :class:`LiveRunPlot` redrawn while it trains.

    ``options`` go to ``train`` (``total_steps``, ``n_workers``, ``slowdown``, ...).
    With ``time_limit`` the run stops after that many seconds of training, and
    ``total_steps`` may be left out. Prints a one-line summary (unless ``quiet``)
    and returns the :class:`~drlkit.distributed.DistributedResult`.
    """
    label = mode if label is None else str(label)
    plot = LiveRunPlot(label, compare=compare, time_limit=time_limit, interval=interval, window=window, output=output)
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

    def __init__(
        self,
        make_agent: Callable[[], Any],
        client: Any,
        total_steps: int,
        fragment_steps: int | None,
        n_workers: int,
        max_workers: int,
        runs: Mapping[str, DistributedResult],
        interval: float,
    ) -> None:
        self.make_agent, self.client = make_agent, client
        self.fragment_steps, self.interval = fragment_steps, interval
        self.results: dict[str, DistributedResult] = dict(runs)
        self.mode = widgets.ToggleButtons(
            options=list(SCENARIO_MODES), value="async", description="mode", style=SLIDER_STYLE
        )
        self.workers = widgets.IntSlider(
            value=n_workers, min=1, max=max_workers, description="workers", continuous_update=False, style=SLIDER_STYLE
        )
        self.slowdown = widgets.FloatSlider(
            value=1.0,
            min=1.0,
            max=5.0,
            step=0.5,
            description="straggler slowdown",
            continuous_update=False,
            readout_format=".1f",
            style=SLIDER_STYLE,
        )
        self.eta = widgets.FloatSlider(
            value=round(1.0 / n_workers, 2),
            min=0.05,
            max=1.0,
            step=0.05,
            description="η",
            continuous_update=False,
            readout_format=".2f",
            style=SLIDER_STYLE,
        )
        self.staleness_aware = widgets.Checkbox(
            value=False, description="staleness-aware (η / τ)", style=SLIDER_STYLE, indent=False
        )
        self.max_staleness = widgets.SelectionSlider(
            options=[("none", NO_CAP)] + [(str(k), k) for k in range(0, 9)],
            value=NO_CAP,
            description="staleness cap",
            continuous_update=False,
            style=SLIDER_STYLE,
        )
        step = 1024
        self.total_steps = widgets.IntSlider(
            value=total_steps,
            min=step,
            max=max(8 * total_steps, 4 * step),
            step=step,
            description="env steps",
            continuous_update=False,
            style=SLIDER_STYLE,
        )
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
        controls = widgets.VBox(
            [
                self.mode,
                widgets.HBox([self.workers, self.slowdown, self.total_steps]),
                widgets.HBox([self.eta, self.staleness_aware, self.max_staleness]),
            ]
        )
        super().__init__(
            [controls, self.preview, widgets.HBox([self.run_button, self.clear_button]), self.output, self.table]
        )
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
            result = run_live(
                self.make_agent(),
                self.mode.value,
                label=label,
                compare=self.results,
                interval=self.interval,
                output=self.output,
                quiet=True,
                client=self.client,
                **self.scenario(),
            )
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
            plot_schedule(
                tasks,
                self.workers.value,
                ax=ax,
                title=(
                    f"expected schedule, {self.mode.value}: "
                    f"{describe_schedule(tasks, self.mode.value, self.workers.value, PREVIEW_DURATION)} "
                    f"(a model: no overheads, every task equally long but the straggler's)"
                ),
            )
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
    return ScenarioExplorer(
        make_agent, client, total_steps, fragment_steps, n_workers, max_workers, check_runs(runs or {}), interval
    )


def show_dashboard_link(client: Any) -> HTML:
    """The Dask dashboard's address as a link (it opens in a new browser tab)."""
    link = dashboard_url(client, "status")
    return HTML(f'<p>Dask dashboard: <a href="{link}" target="_blank">{link}</a></p>')


def show_task_stream(client: Any, height: int = 320) -> IFrame:
    """The dashboard's live task stream, embedded in the notebook (one row per worker thread, one bar per task).

    It loads through the same address as :func:`show_dashboard_link` (the hub's or JupyterLab's
    proxy where one is configured), so it works on Binder as on a laptop.
    """
    height = check_number("height", height, low=100, high=2000, integer=True)
    url = dashboard_url(client, "individual-task-stream")
    return IFrame(url, width="100%", height=height)
