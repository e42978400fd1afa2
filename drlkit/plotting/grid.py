"""Pictures of gridworld MDPs: value heat maps with policy arrows, and convergence curves."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from mpl_toolkits.axes_grid1 import make_axes_locatable

from ..envs.gridworld import MOVES, cell_kinds
from ..envs.mdp import MDP
from ..planning import PlanningResult, policy_matrix

# Cells the agent never stands on are painted over the heat map with a letter.
_CELL_STYLE = {
    "goal": ("#f2c14e", "G"),
    "hole": ("#151515", "H"),
    "cliff": ("#7f2a2a", "C"),
    "wall": ("#8d8d8d", ""),
}
_ARROW_LENGTH = 0.55  # in cell widths, for a probability-1 action


def plot_values(
    mdp: MDP,
    V: Any,
    policy: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
    annotate: bool | None = None,
    colorbar: bool = True,
    cmap: Any = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Axes:
    """Heat map of state values ``V`` (shape ``(S,)``) on the grid of ``mdp``, with policy arrows.

    Parameters
    ----------
    mdp : MDP with a ``layout`` (e.g. from :mod:`drlkit.envs.gridworld`)
    V : array (S,)
    policy : int array (S,) or probabilities (S, A), optional
        A deterministic policy draws one arrow per state; a stochastic one draws an
        arrow for every action, its length proportional to the action's probability
        (the largest probability in the plot gets the longest arrow).
        Arrows are drawn only in states where the agent acts (not terminal, wall or
        cliff cells).
    annotate : bool, optional
        Write the value in each cell; default: when the grid has at most 100 cells.
    colorbar, cmap : colour bar on/off and the matplotlib colormap.
    vmin, vmax : value range of the colour scale (default: that of ``V``); fix them
        to compare several plots.

    Returns the matplotlib Axes. Goal, hole, cliff and wall cells are painted over
    and marked ``G``, ``H``, ``C``; the start cell is marked ``S``.
    """
    if not isinstance(mdp, MDP) or mdp.layout is None:
        raise ValueError(
            "mdp must be a drlkit.MDP with a grid layout (e.g. drlkit.envs.frozen_lake()); "
            f"got {type(mdp).__name__}" + (" without layout" if isinstance(mdp, MDP) else "")
        )
    rows, cols = mdp.layout
    V = np.asarray(V, dtype=float)
    if V.shape != (mdp.n_states,):
        raise ValueError(f"V must have shape ({mdp.n_states},), one value per state; got shape {V.shape}")
    pi = None if policy is None else policy_matrix(mdp, policy)
    kinds = cell_kinds(mdp) or ["free"] * mdp.n_states
    annotate = rows * cols <= 100 if annotate is None else annotate

    if ax is None:
        _, ax = plt.subplots(figsize=(min(1.0 * cols + 1.5, 12), min(1.0 * rows + 0.5, 9)))
    painted = np.array([k in _CELL_STYLE for k in kinds])
    # The colour scale covers the cells where the agent can be, so that a -100
    # cliff or a wall does not wash out the differences that matter.
    grid = np.ma.masked_array(V, mask=painted).reshape(rows, cols)
    image = ax.imshow(grid, cmap=cmap, origin="upper", vmin=vmin, vmax=vmax)
    if colorbar:
        # A colour bar exactly as tall as the grid, however wide the grid is.
        bar_ax = make_axes_locatable(ax).append_axes("right", size=0.2, pad=0.1)
        ax.figure.colorbar(image, cax=bar_ax, label="value")

    for s, kind in enumerate(kinds):
        row, col = divmod(s, cols)
        if kind in _CELL_STYLE:
            colour, letter = _CELL_STYLE[kind]
            ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, facecolor=colour, edgecolor="none", gid=kind))
            ax.text(col, row, letter, ha="center", va="center", color="white", fontsize=12, weight="bold")
            continue
        if kind == "start":
            ax.text(col - 0.42, row - 0.42, "S", ha="left", va="top", fontsize=8, weight="bold", color="white")
        if annotate:
            ax.text(
                col,
                row + 0.45,
                _short(V[s]),
                ha="center",
                va="bottom",
                fontsize=7,
                color=_contrasting(image, V[s]),
            )

    if pi is not None:
        acting = ~mdp.terminal & ~painted
        states, actions = np.nonzero(pi * acting[:, None] > 0)
        if np.ndim(policy) == 1:  # one centred arrow per state
            pivot, lengths = "middle", np.full(len(states), _ARROW_LENGTH)
        else:  # a star of arrows from the centre, the most likely action(s) reaching near the cell's edge
            probabilities = pi[states, actions]
            pivot, lengths = "tail", 0.42 * probabilities / max(probabilities.max(initial=0.0), 1e-12)
        d_row = np.array([MOVES[a][0] for a in actions])
        d_col = np.array([MOVES[a][1] for a in actions])
        centre_row = states // cols - (0.1 if annotate else 0.0)  # leave room for the value below
        ax.quiver(
            states % cols,
            centre_row,
            d_col * lengths,
            d_row * lengths,
            angles="xy",
            scale_units="xy",
            scale=1,
            pivot=pivot,
            units="xy",
            width=0.06,
            headwidth=3,
            headlength=2.5,
            headaxislength=2.2,
            color="white",
            edgecolor="black",
            linewidth=0.5,
            gid="policy",
        )

    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="both", bottom=False, left=False, labelbottom=False, labelleft=False)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    if title:
        ax.set_title(title)
    return ax


def plot_convergence(result: PlanningResult, ax: Axes | None = None, label: str | None = None) -> Axes:
    """The largest value change per iteration, :math:`\\max_s |V_k(s) - V_{k-1}(s)|`, on a log scale.

    For policy evaluation and value iteration the dashed grey line is the contraction
    bound :math:`\\gamma^k` (scaled to the first change), and the dotted line ``tol``.
    For policy iteration each point is one evaluate-improve step, labelled with the
    number of states whose action changed. Iterations with no change at all are
    not drawn (log scale). Returns the Axes; call it again on the same ``ax`` to compare runs.
    """
    if not isinstance(result, PlanningResult):
        raise TypeError(f"result must be a PlanningResult (from drlkit.planning); got {type(result).__name__}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    steps = np.arange(1, result.iterations + 1)
    moved = result.deltas > 0
    label = label or f"{result.method.replace('_', ' ')} (γ={result.gamma:g})"
    changes_per_step = result.policy_changes
    pi_mode = changes_per_step is not None
    ax.semilogy(steps[moved], result.deltas[moved], marker="o" if pi_mode else None, markersize=4, label=label)
    if changes_per_step is not None:
        for k, changes, delta in zip(steps[moved], changes_per_step[moved], result.deltas[moved]):
            ax.annotate(str(changes), (k, delta), textcoords="offset points", xytext=(3, 4), fontsize=7)
        ax.set_xlabel("policy iteration step (labels: actions changed)")
    else:
        if 0 < result.gamma < 1 and moved.any():
            first = result.deltas[0]
            ax.semilogy(steps, first * result.gamma ** (steps - 1), "--", color="grey", linewidth=1, label="γ^k bound")
        ax.axhline(result.tol, linestyle=":", color="black", linewidth=1, label="tol")
        ax.set_xlabel("sweep k")
    ax.set_ylabel("max |ΔV|")
    ax.legend(fontsize=8)
    return ax


def _short(value: float) -> str:
    if abs(value) >= 10:
        return f"{value:.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _contrasting(image, value: float) -> str:
    red, green, blue, _ = image.cmap(image.norm(value))
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


__all__ = ["plot_convergence", "plot_values"]
