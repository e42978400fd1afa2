"""Gridworld MDPs built from text maps.

A map is a list of equally long strings, one per grid row::

    S..#
    .H.G

Cell characters:

=========  ================================================================
``S``      start cell (exactly one); an ordinary free cell otherwise
``.``/``F`` free cell ("F" for frozen, as in FrozenLake maps)
``G``      goal: entering it pays ``goal_reward`` and ends the episode
``H``      hole: entering it pays ``hole_reward`` and ends the episode
``C``      cliff: entering it pays ``cliff_reward`` and sends the agent back to ``S``
``#``      wall: moves into a wall (or off the grid) leave the agent where it is
=========  ================================================================

States are the cells numbered row by row, ``s = row * cols + col``, so the
MDP has ``rows * cols`` states even though the agent can never stand on a
wall or cliff cell. Those cells, like the terminal ``G``/``H`` cells, are
absorbing with reward 0: their rows of ``P`` are never used by an episode and
keep every value at 0.

Actions follow gymnasium's FrozenLake: ``0=LEFT, 1=DOWN, 2=RIGHT, 3=UP``.
With slip probability ``p`` the agent makes the intended move with
probability ``1 - p`` and each of the two perpendicular moves with ``p / 2``
(``p = 2/3`` gives FrozenLake's "slippery" ice: 1/3 each).

The reward of a move depends only on the cell it enters: ``goal_reward``,
``hole_reward`` or ``cliff_reward`` for those cells, ``step_reward`` for
everything else (including bumping into a wall or the edge).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .._checks import check_choice, check_memory, check_number
from .mdp import MDP

ACTION_NAMES = ("LEFT", "DOWN", "RIGHT", "UP")
# (row, col) displacement of each action, in ACTION_NAMES order.
MOVES = ((0, -1), (1, 0), (0, 1), (-1, 0))

CELL_KINDS = {
    "S": "start",
    ".": "free",
    "F": "free",
    "G": "goal",
    "H": "hole",
    "C": "cliff",
    "#": "wall",
}

FROZEN_LAKE_MAPS = {
    "4x4": ["SFFF", "FHFH", "FFFH", "HFFG"],
    "8x8": [
        "SFFFFFFF",
        "FFFFFFFF",
        "FFFHFFFF",
        "FFFFFHFF",
        "FFFHFFFF",
        "FHHFFFHF",
        "FHFFHFHF",
        "FFFHFFFG",
    ],
}

CLIFF_WALKING_MAP = [
    "............",
    "............",
    "............",
    "SCCCCCCCCCCG",
]


def gridworld(
    text_map: Sequence[str] | str,
    slip: float = 0.0,
    step_reward: float = 0.0,
    goal_reward: float = 1.0,
    hole_reward: float = 0.0,
    cliff_reward: float = -100.0,
    continuing: bool = False,
) -> MDP:
    """Build the MDP of a gridworld drawn as text (see the module docstring).

    Parameters
    ----------
    text_map : list of str, or one string with a row per line
        The grid; rows must have equal length. Leading/trailing blank lines and
        surrounding spaces of a multi-line string are ignored.
    slip : float in [0, 1]
        Probability of sliding to one of the two perpendicular moves instead of
        the intended one (split equally between them).
    step_reward, goal_reward, hole_reward, cliff_reward : float
        Reward for entering an ordinary cell, a goal, a hole, a cliff cell.
    continuing : bool
        ``True`` states that episodes are not meant to end (no ``G``/``H`` reachable
        from ``S``). Otherwise such a map raises a :class:`~drlkit._checks.DrlkitWarning`,
        since every episode of a learner would then run to its step cap.

    Returns
    -------
    MDP with ``S = rows * cols`` states numbered row by row, 4 actions
    (LEFT, DOWN, RIGHT, UP), ``layout=(rows, cols)``, ``grid`` = the map rows,
    ``start`` = the ``S`` cell and ``terminal`` = the ``G`` and ``H`` cells.
    """
    grid = _parse_map(text_map)
    slip = check_number("slip", slip, low=0, high=1)
    rewards = {
        "step_reward": step_reward,
        "goal_reward": goal_reward,
        "hole_reward": hole_reward,
        "cliff_reward": cliff_reward,
    }
    for name, value in rewards.items():
        check_number(name, value)

    rows, cols = len(grid), len(grid[0])
    S, A = rows * cols, len(ACTION_NAMES)
    kind = [CELL_KINDS[ch] for row in grid for ch in row]
    start = kind.index("start")
    entry_reward = {
        "goal": goal_reward,
        "hole": hole_reward,
        "cliff": cliff_reward,
    }

    def move(s: int, direction: int) -> tuple[int, float]:
        """Next state and reward of a move that is certain to happen."""
        row, col = divmod(s, cols)
        d_row, d_col = MOVES[direction]
        row2, col2 = row + d_row, col + d_col
        if not (0 <= row2 < rows and 0 <= col2 < cols) or kind[row2 * cols + col2] == "wall":
            return s, float(step_reward)
        s2 = row2 * cols + col2
        reward = float(entry_reward.get(kind[s2], step_reward))
        if kind[s2] == "cliff":
            s2 = start
        return s2, reward

    # P, the reward mass and R3 are dense (S, A, S) arrays, plus the MDP's cumulative copy.
    check_memory(
        f"text_map of {rows} x {cols} cells (S = {S} states, dense (S, A, S) arrays)",
        4 * S * A * S * 8,
        "draw a smaller map (gridworlds are dense tabular models)",
    )
    P = np.zeros((S, A, S))
    reward_mass = np.zeros((S, A, S))  # sum of prob * reward per (s, a, s')
    for s in range(S):
        if kind[s] in ("goal", "hole", "wall", "cliff"):
            P[s, :, s] = 1.0  # absorbing, reward 0: never occupied during an episode
            continue
        for a in range(A):
            # Perpendicular moves are the neighbours of a in the cyclic LEFT, DOWN, RIGHT, UP order.
            outcomes = ((a, 1.0 - slip), ((a - 1) % A, slip / 2), ((a + 1) % A, slip / 2))
            for direction, prob in outcomes:
                if prob == 0.0:
                    continue
                s2, reward = move(s, direction)
                P[s, a, s2] += prob
                reward_mass[s, a, s2] += prob * reward
    # Per-transition reward r(s, a, s'); when two moves reach the same s' with
    # different rewards (e.g. cliff and wall bump both returning to S) it is their mean.
    R3 = np.divide(reward_mass, P, out=np.zeros_like(P), where=P > 0)
    terminal = np.array([k in ("goal", "hole") for k in kind])
    if not isinstance(continuing, (bool, np.bool_)):
        raise TypeError(f"continuing must be True or False; got {continuing!r}")
    if not continuing:
        _warn_if_no_reachable_end(grid, P, start, terminal)
    return MDP(
        P=P,
        R=R3,
        terminal=terminal,
        start=start,
        action_names=ACTION_NAMES,
        layout=(rows, cols),
        grid=tuple(grid),
    )


def frozen_lake(map_name: str = "4x4", slip: float = 2 / 3) -> MDP:
    """FrozenLake: reach ``G`` across slippery ice without falling into a hole ``H``.

    Reward 1 for reaching the goal, 0 otherwise; holes end the episode.
    ``slip=2/3`` (the default) has exactly the dynamics of gymnasium's
    ``FrozenLake-v1`` with ``is_slippery=True``; ``slip=0`` is the deterministic lake.
    """
    check_choice("map_name", map_name, FROZEN_LAKE_MAPS)
    return gridworld(FROZEN_LAKE_MAPS[map_name], slip=slip, step_reward=0.0, goal_reward=1.0, hole_reward=0.0)


def cliff_walking(slip: float = 0.0) -> MDP:
    """Cliff Walking (4x12): walk from ``S`` to ``G`` along a cliff.

    Every move costs -1 (entering the goal included); stepping onto the cliff
    costs -100 and puts the agent back on ``S`` without ending the episode.
    ``slip=0`` has exactly the dynamics of gymnasium's ``CliffWalking-v1``
    (with gymnasium's action order UP, RIGHT, DOWN, LEFT mapped to drlkit's
    LEFT, DOWN, RIGHT, UP); ``slip=2/3`` those of ``CliffWalkingSlippery-v1``.
    """
    return gridworld(CLIFF_WALKING_MAP, slip=slip, step_reward=-1.0, goal_reward=-1.0, cliff_reward=-100.0)


def _parse_map(text_map: Sequence[str] | str) -> list[str]:
    if isinstance(text_map, str):
        rows = [line.strip() for line in text_map.strip().splitlines()]
    elif isinstance(text_map, Sequence) and all(isinstance(row, str) for row in text_map):
        rows = list(text_map)
    else:
        raise TypeError(
            f"text_map must be a list of strings (one per row) or a multi-line string; got {type(text_map).__name__}"
        )
    if not rows or not rows[0]:
        raise ValueError("text_map is empty; draw at least one row, e.g. ['S.G']")
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        lengths = ", ".join(str(len(row)) for row in rows)
        raise ValueError(f"text_map rows must all have the same length; got row lengths {lengths}")
    for r, row in enumerate(rows):
        for c, ch in enumerate(row):
            if ch not in CELL_KINDS:
                allowed = " ".join(CELL_KINDS)
                raise ValueError(f"text_map has unknown character {ch!r} at row {r}, column {c}; allowed: {allowed}")
    starts = sum(row.count("S") for row in rows)
    if starts != 1:
        raise ValueError(f"text_map must contain exactly one start cell 'S'; found {starts}")
    return rows


def _warn_if_no_reachable_end(grid: list[str], P: np.ndarray, start: int, terminal: np.ndarray) -> None:
    """Warn when no goal/hole can be reached from ``S``: episodes would only end at a step cap."""
    import warnings

    from .._checks import DrlkitWarning

    seen, frontier = {start}, [start]
    while frontier:
        s = frontier.pop()
        for s2 in np.flatnonzero(P[s].sum(axis=0) > 0):
            if int(s2) not in seen:
                seen.add(int(s2))
                frontier.append(int(s2))
    if any(terminal[s] for s in seen):
        return
    why = (
        "has no goal 'G' or hole 'H'"
        if not terminal.any()
        else "has no goal 'G' or hole 'H' reachable from 'S' (walls cut them off)"
    )
    warnings.warn(
        f"text_map {grid!r} {why}, so no episode can end: learners run every episode to their step cap "
        "(max_steps_per_episode). Add a 'G', or pass continuing=True if that is what you mean.",
        DrlkitWarning,
        stacklevel=3,
    )


def cell_kinds(mdp: MDP) -> list[str] | None:
    """The kind of each state's cell (``"start"``, ``"free"``, ``"goal"``, ...), or None without a grid."""
    if mdp.grid is None:
        return None
    return [CELL_KINDS.get(ch, "free") for row in mdp.grid for ch in row]


__all__ = ["ACTION_NAMES", "MOVES", "cell_kinds", "cliff_walking", "frozen_lake", "gridworld"]
