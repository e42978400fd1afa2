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

from typing import Any

import numpy as np

from .._checks import check_number
from ..envs.games import GameState, make_game
from .uct import UCT

__all__ = ["root_parallel_search", "uct_visit_counts"]


def uct_visit_counts(task: tuple[str, bytes, int, int, int, float]) -> np.ndarray:
    """One tree (a worker task): ``(game name, board bytes, player, n_simulations, seed, c)`` -> counts."""
    name, board, player, n_sim, seed, c = task
    game = make_game(name)
    arr = np.frombuffer(board, dtype=np.int8).reshape(game.rows, game.cols).copy()
    state = game.from_board(arr, player)
    return UCT(game, n_simulations=n_sim, c=c, seed=seed).search(state)


def root_parallel_search(game: Any, state: GameState, *, n_trees: int = 2, n_simulations: int = 1000,
                         c: float = float(np.sqrt(2)), seed: int = 0, client: Any = None,
                         timeout: float = 600.0) -> np.ndarray:
    """Summed root visit counts ``(n_actions,)`` of ``n_trees`` independent UCT searches on the cluster."""
    from ..distributed import map_tasks

    game = make_game(game)
    if not isinstance(state, GameState):
        raise TypeError(f"state must be a GameState, got {type(state).__name__}")
    n_trees = check_number("n_trees", n_trees, low=1, integer=True)
    n_simulations = check_number("n_simulations", n_simulations, low=1, integer=True)
    if game.winner(state) is not None:
        raise ValueError("the game is over in this state: there is no move to search")
    tasks = [(game.name, state.board.tobytes(), state.player, n_simulations, seed + 1000 * k, float(c))
             for k in range(n_trees)]
    counts = map_tasks(uct_visit_counts, tasks, client=client, timeout=timeout, name="root-parallel-uct")
    return np.sum(counts, axis=0)
