"""Figures of tree search on board games: a search tree's root statistics drawn on the board, game outcomes
against a fixed opponent, and win rates over training."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..envs.games import GameState, make_game

__all__ = ["plot_search_statistics", "plot_outcomes", "plot_win_rate"]

STONE_COLORS = {"tictactoe": {1: "tab:blue", -1: "tab:orange"}, "connect_four": {1: "tab:red", -1: "gold"}}


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_search_statistics(
    game: Any, state: GameState, counts: Any, values: Any, ax: Any = None, title: str | None = None
) -> Any:
    """The position with the root statistics of a search drawn on it.

    ``counts`` ``(n_actions,)`` are the visits of each root action and ``values`` ``(n_actions,)`` the mean value
    Q of each action for the player to move (nan where unvisited). Tic-tac-toe: each empty cell shows ``N`` and
    ``Q``, shaded by its share of the visits. Connect Four: the same above each column. Returns the Axes.
    """
    game = make_game(game)
    if not isinstance(state, GameState) or state.board.shape != (game.rows, game.cols):
        raise TypeError(f"state must be a {game.name} GameState, got {state!r}")
    counts = np.asarray(counts, dtype=float)
    values = np.asarray(values, dtype=float)
    if counts.shape != (game.n_actions,) or values.shape != (game.n_actions,):
        raise ValueError(
            f"counts and values must have shape ({game.n_actions},) for {game.name}; "
            f"got {counts.shape} and {values.shape}"
        )
    if (counts < 0).any():
        raise ValueError("counts must be non-negative visit counts")
    share = counts / max(counts.sum(), 1.0)
    rows, cols = game.rows, game.cols
    extra = 1 if game.gravity else 0  # Connect Four: one row of statistics above the board
    ax = _axes(ax, (0.8 * cols + 0.6, 0.8 * (rows + extra) + 0.6))
    colors = STONE_COLORS.get(game.name, {1: "tab:red", -1: "gold"})
    from matplotlib.patches import Circle, Rectangle

    ax.add_patch(Rectangle((0, 0), cols, rows, color="#2f5d9e" if game.gravity else "white", ec="black", lw=1))
    best = int(np.argmax(counts)) if counts.sum() > 0 else -1
    for r in range(rows):
        for c in range(cols):
            y = rows - 1 - r  # row 0 is the top of the board
            v = int(state.board[r, c])
            if not game.gravity:
                ax.add_patch(Rectangle((c, y), 1, 1, fill=False, ec="black", lw=1))
            if v:
                ax.add_patch(Circle((c + 0.5, y + 0.5), 0.38, color=colors[v]))
                ax.text(
                    c + 0.5,
                    y + 0.5,
                    "X" if v == 1 else "O",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=11,
                    fontweight="bold",
                )
            elif game.gravity:
                ax.add_patch(Circle((c + 0.5, y + 0.5), 0.38, color="white"))
    for a in range(game.n_actions):
        if counts[a] <= 0:
            continue
        if game.gravity:
            x, y = a, rows
        else:
            x, y = a % cols, rows - 1 - a // cols
        ax.add_patch(
            Rectangle(
                (x + 0.04, y + 0.04),
                0.92,
                0.92,
                color="tab:green",
                alpha=0.15 + 0.6 * share[a],
                lw=2 if a == best else 0,
                ec="black",
            )
        )
        q = "" if np.isnan(values[a]) else f"\nQ={values[a]:+.2f}"
        ax.text(x + 0.5, y + 0.5, f"N={int(counts[a])}{q}", ha="center", va="center", fontsize=8)
    ax.set_xlim(0, cols)
    ax.set_ylim(0, rows + extra)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(cols) + 0.5, [str(c) for c in range(cols)])
    ax.set_yticks([])
    mover = "X" if state.player == 1 else "O"
    ax.set_title(title if title is not None else f"{mover} to move: {int(counts.sum())} visits at the root")
    return ax


def plot_outcomes(
    x: Sequence[Any], outcomes: Mapping[str, Sequence[float]], ax: Any = None, xlabel: str = "", title: str = ""
) -> Any:
    """Stacked bars of game outcomes at each ``x``: ``outcomes = {"win": (K,), "draw": (K,), "loss": (K,)}``
    (fractions of the games, each bar summing to 1). Returns the Axes."""
    if not isinstance(outcomes, Mapping) or set(outcomes) != {"win", "draw", "loss"}:
        raise ValueError("outcomes must be a dict with the keys 'win', 'draw' and 'loss'")
    labels = [str(v) for v in x]
    arrays = {k: np.asarray(outcomes[k], dtype=float) for k in ("win", "draw", "loss")}
    for k, a in arrays.items():
        if a.shape != (len(labels),):
            raise ValueError(f"outcomes[{k!r}] must have one fraction per x ({len(labels)}), got shape {a.shape}")
    total = arrays["win"] + arrays["draw"] + arrays["loss"]
    if not np.allclose(total, 1.0, atol=1e-6) or any((a < 0).any() for a in arrays.values()):
        raise ValueError(f"win + draw + loss must be 1 at every x; got {np.round(total, 3).tolist()}")
    ax = _axes(ax, (5.5, 3.2))
    pos = np.arange(len(labels))
    bottom = np.zeros(len(labels))
    for k, color in (("win", "tab:green"), ("draw", "0.7"), ("loss", "tab:red")):
        ax.bar(pos, arrays[k], bottom=bottom, color=color, label=k, width=0.7)
        bottom += arrays[k]
    ax.set_xticks(pos, labels)
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction of games")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return ax


def plot_win_rate(
    frame: Any, x: str = "games", y: str = "win_rate_vs_uct", ax: Any = None, label: str = "", title: str = ""
) -> Any:
    """A win rate over training from a History frame (rows without a measurement are skipped). Returns the Axes."""
    for col in (x, y):
        if col not in getattr(frame, "columns", ()):
            raise ValueError(f"frame has no column {col!r}; it has {list(getattr(frame, 'columns', []))}")
    data = frame[[x, y]].dropna()
    ax = _axes(ax, (5.5, 3.2))
    ax.plot(data[x].to_numpy(), data[y].to_numpy(), marker="o", label=label or y)
    ax.axhline(0.5, color="0.5", linestyle=":", linewidth=1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(y.replace("_", " "))
    ax.set_title(title)
    if label:
        ax.legend(fontsize=8)
    return ax
