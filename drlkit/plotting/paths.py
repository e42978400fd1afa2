"""Trajectories drawn on a gridworld: where does each learned greedy policy walk?"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from matplotlib.colors import ListedColormap

from ..envs.mdp import MDP
from .grid import plot_values


def plot_paths(
    mdp: MDP,
    paths: Mapping[str, Any],
    ax: Any = None,
    V: Any = None,
    colors: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> Any:
    """Draw each path (a sequence of states) as a line through the cell centres of ``mdp``'s grid.

    Parameters
    ----------
    mdp : MDP with a ``layout`` (states numbered row by row)
    paths : dict label -> sequence of states, e.g. from :func:`drlkit.tabular.greedy_path`
    V : array (S,), optional
        Values for the background heat map; without it the grid is drawn plain.
    colors : dict label -> matplotlib colour, optional

    Paths are shifted slightly from each other so that overlapping stretches stay
    visible; the legend gives each path's number of steps. Returns the Axes.
    """
    if not isinstance(mdp, MDP) or mdp.layout is None:
        raise ValueError("mdp must be a drlkit.MDP with a grid layout (e.g. drlkit.envs.cliff_walking())")
    rows, cols = mdp.layout
    background = np.zeros(mdp.n_states) if V is None else V
    plain = ListedColormap(["#b8c2d1"])  # one colour: a grid without values
    ax = plot_values(
        mdp,
        background,
        ax=ax,
        title=title,
        annotate=V is not None,
        colorbar=V is not None,
        cmap="viridis" if V is not None else plain,
    )
    offsets = np.linspace(-0.15, 0.15, len(paths)) if len(paths) > 1 else [0.0]
    for (label, path), offset in zip(paths.items(), offsets):
        states = np.asarray(path, dtype=int)
        if states.ndim != 1 or len(states) == 0 or states.min() < 0 or states.max() >= mdp.n_states:
            raise ValueError(f"paths[{label!r}] must be a non-empty sequence of states in [0, {mdp.n_states - 1}]")
        path_rows, path_cols = np.divmod(states, cols)
        color = None if colors is None else colors.get(label)
        ax.plot(
            path_cols + offset,
            path_rows + offset,
            marker="o",
            markersize=3,
            linewidth=2.5,
            color=color,
            label=f"{label} ({len(states) - 1} steps)",
        )
    if paths:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=len(paths), fontsize=8, frameon=False)
    return ax
