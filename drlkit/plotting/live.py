"""A learning curve that redraws in the notebook while an agent trains.

>>> from drlkit.plotting.live import LiveCurve
>>> live = LiveCurve(every=1.0, target=475)
>>> agent.train(30_000, callbacks=live)                  # doctest: +SKIP

The curve shows episode return against environment steps, the raw returns
faintly and their moving average boldly, one colour per run. Several runs can
share one figure: pass ``live.track("label")`` as the callback of each, or feed
points directly with :meth:`LiveCurve.update` (e.g. returns arriving from Dask
workers).

Redrawing a figure takes tens of milliseconds, so the curve redraws at most once
every ``every`` seconds (and once more when the notebook cell finishes); in
between a callback costs about a microsecond. Outside a notebook nothing is
displayed -- the data is still collected, and :meth:`LiveCurve.draw` still
renders the figure, e.g. for ``live.figure.savefig(...)``.
"""

from __future__ import annotations

import io
import time
import weakref
from typing import Any, Callable

import numpy as np
from matplotlib.figure import Figure

from .._checks import check_number


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each position (fewer at the start), same shape as ``values``."""
    values = np.asarray(values, dtype=float)
    window = check_number("window", window, low=1, integer=True)
    if values.size == 0:
        return values
    sums = np.cumsum(values)
    out = sums.copy()
    out[window:] = sums[window:] - sums[:-window]
    counts = np.minimum(np.arange(1, values.size + 1), window)
    return out / counts


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where display handles update cell outputs)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class LiveFigure:
    """A figure redrawn in place in a notebook while something runs: the base of :class:`LiveCurve`
    and of :class:`drlkit.plotting.distributed.LiveRunPlot`.

    ``figure`` is a plain matplotlib :class:`~matplotlib.figure.Figure`, not a pyplot one, so
    the notebook does not show it a second time when the cell ends. :meth:`show` puts it, as a
    PNG, into ``output`` (an ``ipywidgets.Output``) if one was given, else into the running
    cell's output through an IPython display handle (updated in place on later calls); in a
    script or a test it does nothing, and the figure can still be saved.
    """

    #: Resolution of the displayed image (lower draws faster).
    DPI = 90

    def __init__(self, figure: Figure, output: Any = None) -> None:
        if output is not None and not (hasattr(output, "clear_output") and hasattr(output, "__enter__")):
            raise TypeError(f"output must be an ipywidgets.Output, got {type(output).__name__}")
        self.figure = figure
        self.output = output
        self._handle: Any = None  # IPython display handle of the figure in the running cell's output

    def png(self) -> bytes:
        """The figure as it is now, as PNG bytes."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.DPI)
        return buffer.getvalue()

    def show(self) -> None:
        """Display :meth:`png` in ``output`` or the running cell (nothing outside a notebook)."""
        if self.output is None and not _in_notebook():
            return
        from IPython.display import Image, display

        image = Image(data=self.png(), format="png")
        if self.output is not None:
            with self.output:
                self.output.clear_output(wait=True)
                display(image)
        elif self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)


class LiveCurve(LiveFigure):
    """Training callback drawing episode return vs. environment step, updated while training runs.

    Parameters
    ----------
    every:
        Minimum seconds between two redraws in a notebook.
    window:
        Episodes in the moving average drawn over the raw returns.
    target:
        Optional return to mark with a dashed line (e.g. 475 for CartPole-v1).
    title, xlabel, ylabel, figsize:
        Figure decoration.
    """

    def __init__(
        self,
        every: float = 2.0,
        window: int = 20,
        target: float | None = None,
        title: str | None = None,
        xlabel: str = "environment steps",
        ylabel: str = "episode return",
        figsize: tuple[float, float] = (7.0, 3.5),
    ) -> None:
        self.every = check_number("every", every, low=0)
        self.window = check_number("window", window, low=1, integer=True)
        self.target = None if target is None else check_number("target", target)
        self.title, self.xlabel, self.ylabel = title, xlabel, ylabel
        super().__init__(Figure(figsize=figsize))
        self.ax = self.figure.add_subplot()
        # label -> the History of a tracked agent, or the (x, y) lists given to update(); in order added
        self._curves: dict[str, Any] = {}
        self._agent_labels: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # for agents passed unlabelled
        self._last_refresh = -np.inf
        self._notebook = _in_notebook()
        self._stale = False  # data changed since the last redraw
        self._hooked = False  # redraw registered for the end of the running cell

    # ------------------------------------------------------------ feeding
    def __call__(self, agent: Any) -> None:
        """The callback ``agent.train`` calls after every update: track this agent's episodes."""
        if agent not in self._agent_labels:
            self._agent_labels[agent] = self._new_label(f"{type(agent).__name__} seed {agent.seed}")
        self._follow(self._agent_labels[agent], agent)

    def track(self, label: str) -> Callable[[Any], None]:
        """A callback that draws the agent it is called with under ``label``."""
        if not isinstance(label, str) or not label:
            raise TypeError(f"label must be a non-empty string, got {label!r}")
        return lambda agent: self._follow(label, agent)

    def update(self, x: Any, y: Any, label: str = "run") -> None:
        """Add points (scalars or equal-length 1-D arrays) to the curve ``label``, e.g. (step, return)
        of episodes reported by Dask workers."""
        if not isinstance(label, str) or not label:
            raise TypeError(f"label must be a non-empty string, got {label!r}")
        x_arr = np.atleast_1d(np.asarray(x, dtype=float))
        y_arr = np.atleast_1d(np.asarray(y, dtype=float))
        if x_arr.ndim != 1 or x_arr.shape != y_arr.shape:
            raise ValueError(
                f"x and y must be scalars or 1-D arrays of one length; got shapes {x_arr.shape} and {y_arr.shape}"
            )
        if not isinstance(self._curves.get(label, ()), tuple):
            raise ValueError(f"label {label!r} already draws an agent's history; use another label")
        xs, ys = self._curves.setdefault(label, ([], []))
        xs.extend(x_arr.tolist())
        ys.extend(y_arr.tolist())
        self._stale = True
        self._maybe_refresh()

    def _follow(self, label: str, agent: Any) -> None:
        if isinstance(self._curves.get(label), tuple):
            raise ValueError(f"label {label!r} already holds points given to update(); use another label")
        self._curves[label] = agent.history
        self._stale = True
        self._maybe_refresh()

    def _new_label(self, base: str) -> str:
        label, n = base, 2
        while label in self._curves:
            label, n = f"{base} ({n})", n + 1
        return label

    # ------------------------------------------------------------ reading
    @property
    def curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``label -> (x, y)``: environment steps and episode returns of every curve, in order added."""
        curves = {}
        for label, source in self._curves.items():
            if isinstance(source, tuple):
                curves[label] = (np.array(source[0]), np.array(source[1]))
            else:
                curves[label] = (source.episode_steps.astype(float), source.episode_returns)
        return curves

    # ------------------------------------------------------------ drawing
    def _maybe_refresh(self) -> None:
        # In a notebook the first data of each cell shows the figure at once (and arranges its last redraw).
        if time.perf_counter() - self._last_refresh >= self.every or (self._notebook and self._handle is None):
            self.refresh()

    def refresh(self) -> None:
        """Redraw now, and show or update the figure when running in a notebook."""
        self._last_refresh = time.perf_counter()
        if self._notebook:
            self._show()
            if not self._hooked:  # one last redraw when the cell ends, so the last episodes show
                from IPython import get_ipython

                get_ipython().events.register("post_run_cell", self._cell_finished)
                self._hooked = True
        self._stale = False

    def draw(self) -> Figure:
        """Redraw the figure from the current data and return it (also works outside a notebook)."""
        ax = self.ax
        ax.clear()
        colors = [f"C{i % 10}" for i in range(len(self._curves))]
        for color, (label, (x, y)) in zip(colors, self.curves.items()):
            if len(x) == 0:
                ax.plot([], [], color=color, label=f"{label} (no episode yet)")
                continue
            ax.plot(x, y, color=color, alpha=0.25, linewidth=0.8)
            ax.plot(
                x,
                moving_average(y, self.window),
                color=color,
                linewidth=2,
                label=f"{label}: {y[-self.window :].mean():.1f} (last {min(len(y), self.window)})",
            )
        if self.target is not None:
            ax.axhline(self.target, color="0.3", linestyle="--", linewidth=1, label=f"target {self.target:g}")
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel(self.ylabel)
        if self.title:
            ax.set_title(self.title)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", fontsize="small")
        ax.grid(alpha=0.3)
        self.figure.tight_layout()
        return self.figure

    def png(self) -> bytes:
        """The current figure as PNG bytes (redrawn first)."""
        self.draw()
        return super().png()

    def _show(self) -> None:
        self.show()

    def _cell_finished(self, *result: Any) -> None:
        from IPython import get_ipython

        get_ipython().events.unregister("post_run_cell", self._cell_finished)
        self._hooked = False
        if self._stale:
            self._show()
            self._stale = False
        self._handle = None  # the next cell that trains shows its own figure

    def __repr__(self) -> str:
        sizes = ", ".join(f"{label}: {len(x)}" for label, (x, _) in self.curves.items())
        return f"LiveCurve({sizes or 'empty'})"
