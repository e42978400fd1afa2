"""Figures of reward and policy shaping: policies side by side, and the agent's action distributions."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..envs.mdp import MDP
from .grid import plot_values


def plot_policies(mdp: MDP, panels: Mapping[str, tuple[Any, Any]], axes: Sequence[Any] | None = None) -> Any:
    """One grid per entry of ``panels`` = ``{title: (V (S,), policy (S,))}``, side by side, on a common
    colour scale of each panel's own values. Returns the Figure."""
    import matplotlib.pyplot as plt

    if not isinstance(panels, Mapping) or not panels:
        raise TypeError("panels must be a non-empty dict: title -> (V, policy)")
    if axes is None:
        fig, grid = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4))
        axes = list(np.atleast_1d(grid))
    for ax, (title, (V, policy)) in zip(axes, panels.items()):
        plot_values(mdp, V, policy, ax=ax, title=title, colorbar=False, annotate=False)
    return axes[0].figure


def plot_action_distributions(
    distributions: Mapping[str, Any], action_names: Sequence[str] | None = None, ax: Any = None
) -> Any:
    """Grouped bars of action distributions in one state, e.g. ``{"Boltzmann π_Q": ..., "feedback π_F": ...,
    "combined": ...}`` (each an array ``(A,)`` summing to 1). Returns the Axes."""
    import matplotlib.pyplot as plt

    if not isinstance(distributions, Mapping) or not distributions:
        raise TypeError("distributions must be a non-empty dict: label -> probabilities (A,)")
    arrays = {k: np.asarray(v, dtype=float) for k, v in distributions.items()}
    n_actions = len(next(iter(arrays.values())))
    for label, p in arrays.items():
        if p.shape != (n_actions,) or abs(p.sum() - 1) > 1e-6 or (p < 0).any():
            raise ValueError(f"distribution {label!r} must be {n_actions} non-negative probabilities summing to 1")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    width = 0.8 / len(arrays)
    x = np.arange(n_actions)
    for i, (label, p) in enumerate(arrays.items()):
        ax.bar(x + (i - (len(arrays) - 1) / 2) * width, p, width, label=label)
    ax.set_xticks(x, list(action_names) if action_names is not None else [str(a) for a in range(n_actions)])
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.legend(fontsize=8)
    return ax
