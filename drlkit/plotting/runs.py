"""Learning curves of saved runs (``drlkit plot``): runs of the same setting, mean ± band over seeds.

Different seeds finish their episodes at different steps, so each run's episode
returns are first put on one shared grid of environment steps (or seconds):
:func:`resample_returns` gives, at each grid point, the return of the last
episode that ended by then (a step function, no look-ahead). The grid runs up to
the shortest run of the group, so every point is an average over all seeds.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .._checks import check_choice, check_number
from .curves import plot_learning_curves


def episode_points(history: Any, x: str = "step") -> tuple[np.ndarray, np.ndarray]:
    """``(x, returns)`` of the finished episodes of one run, each of shape ``(episodes,)``.

    ``history`` is a History DataFrame (``agent.history.to_frame()`` or a run's ``history.csv``).
    """
    check_choice("x", x, ("step", "wall_time"))
    for column in ("event", x, "episode_return"):
        if column not in history.columns:
            raise ValueError(f"a run history needs the column {column!r}; it has {list(history.columns)}")
    episodes = history[history["event"] == "episode"]
    return episodes[x].to_numpy(dtype=float), episodes["episode_return"].to_numpy(dtype=float)


def resample_returns(runs: Sequence[Any], x: str = "step", points: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Episode returns of several runs on one grid: ``(grid (points,), curves (runs, points))``.

    The grid goes from the first episode end of any run to the last episode end of the run that
    stopped earliest. ``curves[r, k]`` is the return of run ``r``'s last episode that ended at or
    before ``grid[k]`` (its first episode's return before that).
    """
    points = check_number("points", points, low=2, integer=True)
    pairs = [episode_points(run, x) for run in runs]
    if not pairs:
        raise ValueError("no runs to plot")
    for i, (xs, _) in enumerate(pairs):
        if len(xs) == 0:
            raise ValueError(f"run {i} has no finished episode (train it for more steps)")
    start = min(xs[0] for xs, _ in pairs)
    stop = min(xs[-1] for xs, _ in pairs)
    grid = np.linspace(start, max(stop, start), points)
    curves = np.empty((len(pairs), points))
    for r, (xs, returns) in enumerate(pairs):
        index = np.searchsorted(xs, grid, side="right") - 1
        curves[r] = returns[np.clip(index, 0, len(returns) - 1)]
    return grid, curves


def plot_runs(
    groups: Mapping[str, Sequence[Any]],
    x: str = "step",
    points: int = 100,
    smooth: int = 1,
    band: str | None = "std",
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """One curve per label: mean ± band over its runs of the episode return against ``x``.

    ``groups`` maps a label to the History DataFrames of its runs (one per seed). Each group is
    resampled with :func:`resample_returns` and drawn by :func:`plot_learning_curves`. Returns the Axes.
    """
    import matplotlib.pyplot as plt

    if not isinstance(groups, Mapping) or not groups:
        raise ValueError("groups must be a non-empty dict label -> list of run histories")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for label, runs in groups.items():
        try:
            grid, curves = resample_returns(runs, x=x, points=points)
        except ValueError as exc:
            raise ValueError(f"{label}: {exc}") from None
        plot_learning_curves(
            {label: curves},
            ax=ax,
            smooth=smooth,
            band=band,
            x=grid,
            xlabel="environment steps" if x == "step" else "seconds",
            ylabel="episode return",
            title=title,
        )
    return ax
