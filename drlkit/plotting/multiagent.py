"""Figures of multi-agent RL (notebook 09): matrix-game outcomes against the Nash equilibria, the moving
targets of independent learners, policy paths on the simplex, team learning curves and trajectories.

Every function draws what :mod:`drlkit.multiagent` computes (equilibria, learner results, rollouts)
and computes nothing of its own beyond picking what to show. Each takes an optional ``ax`` and
returns the Axes (or the Figure when it makes several panels).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .._checks import check_number
from .policy import plot_step_curves


def _axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def _mapping(value: Any, name: str, what: str) -> dict:
    if not isinstance(value, Mapping) or not value:
        raise TypeError(f"{name} must be a non-empty dict {what}; got {type(value).__name__}")
    return dict(value)


def _pure_cells(equilibria: Sequence[Any]) -> list[tuple[int, int]]:
    cells = []
    for eq in equilibria:
        if eq.is_pure:
            cells.append((int(np.argmax(eq.row)), int(np.argmax(eq.column))))
    return cells


def _mixed_label(equilibria: Sequence[Any]) -> str:
    mixed = [eq for eq in equilibria if not eq.is_pure]
    if not mixed:
        return "no mixed equilibrium"
    return "mixed NE: row " + "; ".join("(" + ", ".join(str(p) for p in eq.row) + ")" for eq in mixed)


# ------------------------------------------------------------------ matrix games
def plot_outcome_frequencies(result: Any, equilibria: Sequence[Any], ax: Any = None, title: str | None = None) -> Any:
    """Where independent learners end: the fraction of runs whose final greedy joint action is each cell of
    the payoff table (``result.outcome_frequencies()`` of a :class:`~drlkit.multiagent.MatrixRunResult`), each
    cell labelled with its payoffs ``A, B``; pure Nash equilibria (from
    :func:`~drlkit.multiagent.nash_equilibria`) framed in black, mixed ones named under the table."""
    freq = np.asarray(result.outcome_frequencies(), dtype=float)
    game = result.game
    n, m = game.shape
    ax = _axes(ax, (3.4, 3.2))
    ax.imshow(freq, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(m):
            ax.text(
                j,
                i,
                f"{game.A[i, j]:g}, {game.B[i, j]:g}\n{freq[i, j]:.0%}",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if freq[i, j] > 0.6 else "black",
            )
    import matplotlib.patches as patches

    for i, j in _pure_cells(equilibria):
        ax.add_patch(patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=3))
    ax.set_xticks(range(m), list(game.column_actions or game.actions), fontsize=8)
    ax.set_yticks(range(n), list(game.actions), fontsize=8)
    ax.set_xlabel(f"column player\n{_mixed_label(equilibria)}", fontsize=8)
    ax.set_ylabel("row player", fontsize=8)
    ax.set_title(title or game.name, fontsize=10)
    return ax


def plot_outcomes(results: Mapping[str, Any], equilibria: Mapping[str, Sequence[Any]]) -> Any:
    """:func:`plot_outcome_frequencies` for every game of ``results`` (``{game: MatrixRunResult}``),
    side by side, with ``equilibria = {game: [Equilibrium, ...]}``. Returns the Figure."""
    import matplotlib.pyplot as plt

    results = _mapping(results, "results", "game -> MatrixRunResult")
    missing = [g for g in results if g not in equilibria]
    if missing:
        raise KeyError(f"equilibria has no entry for {missing}; give the Nash equilibria of every game")
    fig, axes = plt.subplots(1, len(results), figsize=(3.4 * len(results), 3.7), layout="constrained")
    for ax, (name, result) in zip(np.atleast_1d(axes), results.items()):
        plot_outcome_frequencies(result, equilibria[name], ax=ax)
    return fig


def plot_moving_targets(results: Mapping[str, Any], player: int = 0, run: int = 0, rounds: int | None = None) -> Any:
    """The non-stationarity of independent learning, one panel per game: ``player``'s Q-values (solid) in
    traced ``run`` against what they estimate -- the expected payoff of each of its actions against the other
    player's *current* policy (dashed, ``result.expected_payoffs()``). The dashed lines move because the other
    player learns. ``rounds``: draw only the first ``rounds`` rounds (default all). Returns the Figure."""
    import matplotlib.pyplot as plt

    results = _mapping(results, "results", "label -> MatrixRunResult")
    player = check_number("player", player, low=0, high=1, integer=True)
    if rounds is not None:
        rounds = check_number("rounds", rounds, low=1, integer=True)
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.2), squeeze=False)
    for ax, (label, result) in zip(axes[0], results.items()):
        if result.Q_trace is None or not 0 <= run < result.Q_trace.shape[1]:
            traced = 0 if result.Q_trace is None else result.Q_trace.shape[1]
            raise ValueError(f"run must be one of the {traced} traced runs of {label!r} (trace_runs); got {run}")
        targets = result.expected_payoffs()[:rounds, run, player]
        q = result.Q_trace[1:, run, player][:rounds]
        names = result.game.actions if player == 0 else result.game.column_actions
        steps = np.arange(1, len(q) + 1)
        for a, name in enumerate(names):
            (line,) = ax.plot(steps, q[:, a], label=f"Q({name})")
            ax.plot(
                steps, targets[:, a], linestyle="--", color=line.get_color(), linewidth=1, label=f"payoff of {name} now"
            )
        ax.set_title(f"{label}: player {player}", fontsize=10)
        ax.set_xlabel("round")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("value")
    axes[0, -1].legend(fontsize=7, loc="lower right")
    return fig


def _simplex_xy(p: np.ndarray) -> np.ndarray:
    """Barycentric coordinates of 3-action distributions ``p (..., 3)`` in an equilateral triangle."""
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    return p @ corners


def plot_policy_paths(
    game: Any, paths: Mapping[str, Any], equilibria: Sequence[Any] = (), ax: Any = None, title: str | None = None
) -> Any:
    """Both players' mixed strategies over time, ``paths = {label: array (T, 2, k)}`` (from
    :func:`~drlkit.multiagent.gradient_ascent`, :func:`~drlkit.multiagent.fictitious_play` or
    ``MatrixRunResult.action_frequencies``), with the Nash equilibria as stars.

    A 2-action game is drawn as the unit square of joint policies (x: the row player's probability of its
    first action, y: the column player's): one point per time step. A 3-action game is drawn as the
    probability triangle, one path per player. Returns the Axes.
    """
    from ..envs.matrix_games import get_game

    game = get_game(game)
    paths = _mapping(paths, "paths", "label -> array (T, 2, k)")
    n, m = game.shape
    if (n, m) not in ((2, 2), (3, 3)):
        raise ValueError(f"plot_policy_paths draws 2x2 and 3x3 games; {game.name} is {n}x{m}")
    ax = _axes(ax, (4, 4))
    for label, path in paths.items():
        path = np.asarray(path, dtype=float)
        if path.ndim != 3 or path.shape[1] != 2 or path.shape[2] < n:
            raise ValueError(f"paths[{label!r}] must have shape (T, 2, {n}); got {path.shape}")
        if n == 2:
            (line,) = ax.plot(path[:, 0, 0], path[:, 1, 0], linewidth=1.2, label=label)
            ax.plot(path[0, 0, 0], path[0, 1, 0], "o", color=line.get_color(), markersize=5)
            ax.plot(path[-1, 0, 0], path[-1, 1, 0], "s", color=line.get_color(), markersize=5)
        else:
            for player, style in ((0, "-"), (1, ":")):
                xy = _simplex_xy(path[:, player, :3])
                (line,) = ax.plot(
                    xy[:, 0], xy[:, 1], style, linewidth=1.2, label=f"{label}, {'row' if player == 0 else 'column'}"
                )
                ax.plot(*xy[-1], "s", color=line.get_color(), markersize=5)
    for eq in equilibria:
        x, y = eq.as_arrays()
        point = (x[0], y[0]) if n == 2 else tuple(_simplex_xy(x))
        ax.plot(*point, "*", color="black", markersize=14, zorder=5)
    if n == 2:
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel(f"row player: P({game.actions[0]})")
        ax.set_ylabel(f"column player: P({(game.column_actions or game.actions)[0]})")
    else:
        corners = _simplex_xy(np.eye(3))
        ax.plot(*np.vstack([corners, corners[:1]]).T, color="0.5", linewidth=0.8)
        for corner, name in zip(corners, game.actions):
            ax.annotate(
                name,
                corner,
                textcoords="offset points",
                xytext=(0, -12 if corner[1] == 0 else 4),
                ha="center",
                fontsize=8,
            )
        ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(title or f"{game.name} (★ Nash equilibria)", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    return ax


# ------------------------------------------------------------ cooperative teams
def plot_team_curves(
    curves: Mapping[str, Any],
    steps: Any,
    reference: Mapping[str, float] | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Team return against joint env steps, mean ± std over seeds for each learner (``curves = {label: array
    (seeds, len(steps))}``, e.g. from :func:`drlkit.plotting.policy.returns_at_steps`), with dashed lines for
    ``reference`` levels such as ``{"random team": -81, "scripted team": -29}``. Returns the Axes."""
    curves = _mapping(curves, "curves", "label -> array (seeds, points)")
    ax = _axes(ax, (7, 4))
    plot_step_curves(curves, steps, ax=ax, band="std", ylabel="team return per episode", title=title)
    for i, (label, level) in enumerate((reference or {}).items()):
        ax.axhline(float(level), color=f"{0.2 + 0.3 * i:.1f}", linestyle="--", linewidth=1, label=label)
    ax.set_xlabel("joint environment steps")
    ax.legend(fontsize=8)
    return ax


def plot_agent_scaling(
    n_agents: Sequence[int], learned: Mapping[str, Any], random: Any, ax: Any = None, title: str | None = None
) -> Any:
    """Return per agent and episode against the number of agents: ``learned = {label: array (len(n_agents),
    seeds)}`` (team returns divided by the number of agents), and ``random (len(n_agents),)`` for a random
    team on the same envs. Points are seed means, bars their std. Returns the Axes."""
    counts = np.asarray(n_agents, dtype=float)
    learned = _mapping(learned, "learned", "label -> array (len(n_agents), seeds)")
    random = np.asarray(random, dtype=float)
    if counts.ndim != 1 or random.shape != counts.shape:
        raise ValueError(f"random must have one value per entry of n_agents {list(n_agents)}; got shape {random.shape}")
    ax = _axes(ax, (5, 3.6))
    for label, values in learned.items():
        values = np.asarray(values, dtype=float).reshape(len(counts), -1)
        ax.errorbar(
            counts,
            values.mean(1),
            yerr=values.std(1) if values.shape[1] > 1 else None,
            marker="o",
            capsize=3,
            label=label,
        )
    ax.plot(counts, random, "k--", marker="x", label="random team")
    ax.set_xticks(counts)
    ax.set_xlabel("number of agents")
    ax.set_ylabel("return per agent and episode")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def plot_trajectories(
    positions: Any, targets: Any, size: int | None = None, ax: Any = None, title: str | None = None
) -> Any:
    """The paths of ``K`` agents in one episode, ``positions (T+1, K, 2)`` as (row, column) cells of a
    ``size x size`` grid (or (x, y) points when ``size`` is None), with the ``targets (M, 2)`` as crosses.
    Start: circle, end: square; a target with an agent on it at the end is filled. Returns the Axes."""
    positions = np.asarray(positions, dtype=float)
    targets = np.asarray(targets, dtype=float)
    if positions.ndim != 3 or positions.shape[2] != 2 or len(positions) < 1:
        raise ValueError(f"positions must have shape (T+1, K, 2); got {positions.shape}")
    if targets.ndim != 2 or targets.shape[1] != 2:
        raise ValueError(f"targets must have shape (M, 2); got {targets.shape}")
    ax = _axes(ax, (3.6, 3.6))
    grid = size is not None
    # On a grid, (row, column) -> (x = column, y = row) with row 0 at the top; small offsets keep agents apart.
    to_xy = (lambda p: p[..., ::-1]) if grid else (lambda p: p)
    K = positions.shape[1]
    covered = np.zeros(len(targets), dtype=bool)
    for k in range(K):
        xy = to_xy(positions[:, k])
        if grid:
            xy = xy + (k - (K - 1) / 2) * 0.08
        (line,) = ax.plot(xy[:, 0], xy[:, 1], "-", linewidth=1.5, alpha=0.8, label=f"agent {k}")
        ax.plot(*xy[0], "o", color=line.get_color(), markersize=7)
        ax.plot(*xy[-1], "s", color=line.get_color(), markersize=7)
        covered |= np.linalg.norm(targets - positions[-1, k], axis=1) < (0.5 if grid else 0.1)
    t_xy = to_xy(targets)
    ax.scatter(
        t_xy[~covered, 0], t_xy[~covered, 1], marker="X", s=120, facecolors="none", edgecolors="black", label="target"
    )
    ax.scatter(
        t_xy[covered, 0],
        t_xy[covered, 1],
        marker="X",
        s=120,
        color="black",
        label="target reached" if covered.any() else None,
    )
    if grid:
        size = check_number("size", size, low=1, integer=True)
        ax.set_xticks(np.arange(-0.5, size, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, size, 1), minor=True)
        ax.grid(which="minor", color="0.85")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlim(-0.5, size - 0.5)
        ax.set_ylim(size - 0.5, -0.5)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def plot_play_frequencies(
    result: Any,
    equilibria: Sequence[Any] = (),
    window: int = 50,
    runs: int = 3,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """How often each player chose its *first* action, smoothed over ``window`` rounds
    (``result.action_frequencies``): thin lines for the first ``runs`` runs on their own, thick for the mean of
    all runs; solid row player, dashed column player. Dotted lines: the probability of that action in each mixed
    Nash equilibrium. A run that has converged is flat at 0 or 1; cycling play swings between them. Returns the Axes."""
    window = check_number("window", window, low=1, integer=True)
    total = result.actions.shape[1]
    runs = check_number("runs", runs, low=0, high=total, integer=True)
    ax = _axes(ax, (6, 3.2))
    game = result.game
    rounds = np.arange(1, len(result.actions) + 1)
    names = (game.actions[0], (game.column_actions or game.actions)[0])
    colors = ("tab:blue", "tab:orange")
    for r in range(runs):
        freq = result.action_frequencies(window, runs=[r])
        for player, style in ((0, "-"), (1, "--")):
            ax.plot(rounds, freq[:, player, 0], style, color=colors[player], linewidth=0.8, alpha=0.5)
    mean = result.action_frequencies(window)
    for player, style in ((0, "-"), (1, "--")):
        who = "row" if player == 0 else "column"
        ax.plot(
            rounds,
            mean[:, player, 0],
            style,
            color=colors[player],
            linewidth=2.5,
            label=f"{who}: P({names[player]}), mean of {total} runs",
        )
    for eq in equilibria:
        if not eq.is_pure:
            ax.axhline(float(eq.row[0]), color="black", linestyle=":", linewidth=1)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("round")
    ax.set_ylabel(f"frequency (last {window} rounds)")
    ax.set_title(title or f"{game.name}: thin lines = single runs", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    return ax
