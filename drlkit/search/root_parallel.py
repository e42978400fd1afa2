"""Root-parallel MCTS: independent UCT trees on Dask workers, visit counts summed on the driver.

Chaslot, Winands & van den Herik (2008), "Parallel Monte-Carlo tree search".
Each of ``n_trees`` workers runs plain UCT from the same position with its own
seed and ``n_simulations`` simulations; the driver plays

    a* = argmax_a  sum_k N_k(root, a).

With ``n_trees`` trees this spends ``n_trees * n_simulations`` simulations in
the wall-clock time of one search (when there are as many workers). The tasks
go through :func:`drlkit.distributed.map_tasks`, the engine's door for
independent work (bounded wait, retries when a worker dies).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._checks import check_number
from ..envs.games import GameState, make_game
from .uct import UCT

__all__ = ["root_parallel_search", "root_parallel_searches", "uct_visit_counts"]


def uct_visit_counts(task: tuple[str, bytes, int, int, int, float]) -> np.ndarray:
    """One tree (a worker task): ``(game name, board bytes, player, n_simulations, seed, c)`` -> counts."""
    name, board, player, n_sim, seed, c = task
    game = make_game(name)
    arr = np.frombuffer(board, dtype=np.int8).reshape(game.rows, game.cols).copy()
    state = game.from_board(arr, player)
    return UCT(game, n_simulations=n_sim, c=c, seed=seed).search(state)


def root_parallel_search(
    game: Any,
    state: GameState,
    *,
    n_trees: int = 2,
    n_simulations: int = 1000,
    c: float = float(np.sqrt(2)),
    seed: int = 0,
    client: Any = None,
    timeout: float = 600.0,
) -> np.ndarray:
    """Summed root visit counts ``(n_actions,)`` of ``n_trees`` independent UCT searches on the cluster."""
    return root_parallel_searches(
        game, [state], n_trees=n_trees, n_simulations=n_simulations, c=c, seed=seed, client=client, timeout=timeout
    )[0]


def root_parallel_searches(
    game: Any,
    states: Sequence[GameState],
    *,
    n_trees: int = 2,
    n_simulations: int = 1000,
    c: float = float(np.sqrt(2)),
    seed: int = 0,
    client: Any = None,
    timeout: float = 600.0,
) -> np.ndarray:
    """:func:`root_parallel_search` of many positions in one round of tasks: summed counts ``(len(states),
    n_actions)``. Position ``i`` is searched with the seeds ``seed + i + 1000 * k``, k < ``n_trees``, as
    ``root_parallel_search(game, states[i], seed=seed + i, ...)`` would."""
    from ..distributed import map_tasks

    game = make_game(game)
    if isinstance(states, GameState) or not isinstance(states, Sequence) or len(states) == 0:
        raise TypeError(f"states must be a non-empty list of GameState, got {type(states).__name__}")
    for i, state in enumerate(states):
        if not isinstance(state, GameState):
            raise TypeError(f"state must be a GameState, got {type(state).__name__}" + (f" at index {i}" if i else ""))
        if game.winner(state) is not None:
            raise ValueError(
                "the game is over in this state: there is no move to search"
                + (f" (states[{i}])" if len(states) > 1 else "")
            )
    n_trees = check_number("n_trees", n_trees, low=1, integer=True)
    n_simulations = check_number("n_simulations", n_simulations, low=1, integer=True)
    tasks = [
        (game.name, state.board.tobytes(), state.player, n_simulations, seed + i + 1000 * k, float(c))
        for i, state in enumerate(states)
        for k in range(n_trees)
    ]
    counts = map_tasks(uct_visit_counts, tasks, client=client, timeout=timeout, name="root-parallel-uct")
    return np.asarray(counts).reshape(len(states), n_trees, game.n_actions).sum(axis=1)
