"""Root-parallel UCT on a real local Dask cluster."""

import numpy as np
import pytest

import drlkit
from drlkit.envs.games import TicTacToe
from drlkit.search import Solver, root_parallel_search, root_parallel_searches, uct_visit_counts


@pytest.mark.cluster
def test_root_parallel_sums_independent_trees_and_finds_the_win():
    game = TicTacToe()
    state = game.from_board([[1, 0, 0], [0, 0, 0], [0, -1, 0]])  # X has a forced win
    other = game.next_state(game.initial_state(), 4)
    with drlkit.cluster(n_workers=2) as client:
        counts = root_parallel_search(game, state, n_trees=2, n_simulations=800, seed=0, client=client)
        many = root_parallel_searches(game, [other, state], n_trees=2, n_simulations=800, seed=0, client=client)
    # many positions in one round: position i is searched as root_parallel_search(..., seed=seed + i) would
    assert (
        many[1].tolist()
        == sum(
            uct_visit_counts(("tictactoe", state.board.tobytes(), 1, 800, s, float(np.sqrt(2)))) for s in (1, 1001)
        ).tolist()
    )
    assert many[0].sum() == 1600 and many[0][4] == 0
    # the same two trees computed on the driver (same seeds) add up to the same counts
    local = sum(uct_visit_counts(("tictactoe", state.board.tobytes(), 1, 800, s, float(np.sqrt(2)))) for s in (0, 1000))
    assert counts.tolist() == local.tolist()
    assert counts.sum() == 1600
    assert int(np.argmax(counts)) in Solver(game).optimal_actions(state)


def test_root_parallel_bad_input():
    game = TicTacToe()
    with pytest.raises(ValueError, match="n_trees must be in"):
        root_parallel_search(game, game.initial_state(), n_trees=0)
    with pytest.raises(TypeError, match="state must be a GameState"):
        root_parallel_search(game, np.zeros((3, 3)))
    with pytest.raises(TypeError, match="states must be a non-empty list"):
        root_parallel_searches(game, [])
