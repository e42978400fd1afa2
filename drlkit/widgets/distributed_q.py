"""Merge period and number of workers, with sliders: error to Q* and bytes sent by distributed Q-learning.

:func:`explore_merges` runs :func:`drlkit.distributed.q_learning` once for every
(number of workers, merge period) pair on the Dask cluster, then shows a
:class:`MergeExplorer`: two sliders choose a pair, the figure shows

* left: ``max |Q - Q*|`` after each merge against the episodes each worker
  played, for every merge period with that many workers (the chosen one bold);
* right: the bytes each of those runs communicated (the chosen one coloured).

Moving a slider only redraws runs already made, so it answers at once and
needs no cluster.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from .._checks import check_number
from ..distributed.q_learning import DistributedQResult, format_bytes, q_learning
from ..plotting.q_merge import plot_communication, plot_merge_errors


class MergeExplorer(widgets.VBox):
    """Sliders "workers" and "merge every" above the plots of the chosen runs.

    ``results`` maps ``(n_workers, merge_every)`` to a result made with ``Q_star=``,
    for every combination of the worker counts and merge periods it mentions.
    """

    def __init__(self, results: Mapping[tuple[int, int], DistributedQResult]):
        self.results = dict(results)
        self.worker_counts = sorted({k for k, _ in self.results})
        self.merge_periods = sorted({m for _, m in self.results})
        errors = np.concatenate([r.merges["q_error"] for r in self.results.values()])
        # One y range for every picture, so that moving a slider compares like with like.
        self._ylim = (errors.min() / 1.5, errors.max() * 1.5)
        style = {"description_width": "initial"}
        self.workers_slider = widgets.SelectionSlider(
            options=self.worker_counts,
            value=self.worker_counts[len(self.worker_counts) // 2],
            description="workers",
            continuous_update=False,
            style=style,
        )
        self.merge_slider = widgets.SelectionSlider(
            options=self.merge_periods,
            value=self.merge_periods[0],
            description="merge every",
            continuous_update=False,
            style=style,
        )
        self.output = widgets.Output()
        super().__init__([widgets.HBox([self.workers_slider, self.merge_slider]), self.output])
        self.workers_slider.observe(self._redraw, names="value")
        self.merge_slider.observe(self._redraw, names="value")
        self._redraw()

    def _redraw(self, change: Any = None) -> None:
        n_workers, chosen = self.workers_slider.value, self.merge_slider.value
        runs = {f"every {m}": self.results[(n_workers, m)] for m in self.merge_periods}
        label = f"every {chosen}"
        result = runs[label]
        with self.output:
            self.output.clear_output(wait=True)
            fig, (error_ax, bytes_ax) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1.4, 1]})
            plot_merge_errors(runs, ax=error_ax, x="episodes", highlight=label)
            error_ax.set_ylim(*self._ylim)
            error_ax.set_title(
                f"{n_workers} worker(s), merge every {chosen} episodes: "
                f"final max|Q - Q*| = {result.merges['q_error'][-1]:.3f}"
            )
            plot_communication(runs, ax=bytes_ax, highlight=label)
            bytes_ax.set_title(
                f"{result.config.n_merges} merges, {format_bytes(result.merges['total_bytes'][-1])}, "
                f"{result.merges['wall_time'][-1]:.1f} s"
            )
            bytes_ax.set_xlabel("merge period")
            fig.tight_layout()
            display(fig)
            plt.close(fig)


def explore_merges(
    env: Any,
    worker_counts: Sequence[int] = (1, 2, 4),
    merge_periods: Sequence[int] = (2, 10, 50),
    *,
    Q_star: Any,
    episodes: int = 100,
    **q_learning_kwargs: Any,
) -> MergeExplorer:
    """Run distributed Q-learning for every (workers, merge period) pair; return the explorer.

    Parameters
    ----------
    env, Q_star, episodes, **q_learning_kwargs
        Passed to :func:`drlkit.distributed.q_learning` for every run (``Q_star`` is
        required: the plots show the error to it). Keep ``client=``, ``seed=`` etc. here.
    worker_counts : ints >= 1
        Values of the "workers" slider.
    merge_periods : ints >= 1
        Values of the "merge every" slider (episodes per worker between merges).

    Runs ``len(worker_counts) * len(merge_periods)`` trainings before returning;
    the sliders then only redraw.
    """
    worker_counts = _distinct_counts("worker_counts", worker_counts)
    merge_periods = _distinct_counts("merge_periods", merge_periods)
    for name in ("n_workers", "merge_every"):
        if name in q_learning_kwargs:
            raise TypeError(f"{name} is set by the sliders; give worker_counts= and merge_periods= instead")
    results = {
        (n_workers, merge_every): q_learning(
            env,
            n_workers=n_workers,
            merge_every=merge_every,
            episodes=episodes,
            Q_star=Q_star,
            **q_learning_kwargs,
        )
        for n_workers in worker_counts
        for merge_every in merge_periods
    }
    return MergeExplorer(results)


def _distinct_counts(name: str, values: Any) -> list[int]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise TypeError(f"{name} must be a non-empty list of integers >= 1; got {values!r}")
    counts = [check_number(f"{name}[{i}]", v, low=1, integer=True) for i, v in enumerate(values)]
    if len(set(counts)) != len(counts):
        raise ValueError(f"{name} must not repeat a value; got {list(values)}")
    return counts


__all__ = ["MergeExplorer", "explore_merges"]
