"""UCT against the exact tic-tac-toe solver and hand-made positions."""
import math

import numpy as np
import pytest

from drlkit.envs.games import ConnectFour, TicTacToe
from drlkit.search import UCT, Solver, ucb1


def _play(game, x_player, o_player):
    s = game.initial_state()
    while game.winner(s) is None:
        s = game.next_state(s, (x_player if s.player == 1 else o_player)(s))
    return game.winner(s)


def test_ucb1_matches_hand_computation():
    assert ucb1(3.0, 4, 10, 2.0) == pytest.approx(0.75 + 2.0 * math.sqrt(math.log(10) / 4))
    assert ucb1(0.0, 0, 10, 1.0) == math.inf


@pytest.mark.parametrize("uct_side", [1, -1])
def test_uct_never_loses_to_the_exact_solver(uct_side):
    game = TicTacToe()
    solver = Solver(game)
    uct = UCT(game, n_simulations=1500, seed=uct_side + 5)
    rng = np.random.default_rng(1)
    for _ in range(3):
        perfect = lambda s: solver.act(s, rng)  # noqa: E731 - random among perfect moves
        result = _play(game, uct.act, perfect) if uct_side == 1 else _play(game, perfect, uct.act)
        assert result != -uct_side, "UCT lost to the solver"
        assert result == 0  # perfect play by the solver cannot be beaten either


@pytest.mark.parametrize("board", [
    [[1, 1, 0], [-1, -1, 0], [0, 0, 0]],   # X wins at once (cell 2)
    [[1, 0, 0], [0, 0, 0], [0, -1, 0]],    # X has a forced win by a fork (value +1)
])
def test_uct_finds_forced_tictactoe_wins(board):
    game = TicTacToe()
    solver = Solver(game)
    state = game.from_board(board)
    assert solver.value(state) == 1  # the hand-made position really is a forced win
    uct = UCT(game, n_simulations=3000, seed=0)
    assert uct.act(state) in solver.optimal_actions(state)


def test_hand_made_positions_are_forced_wins():
    game = TicTacToe()
    solver = Solver(game)
    assert solver.value(game.from_board([[1, 1, 0], [-1, -1, 0], [0, 0, 0]])) == 1
    assert solver.value(game.from_board([[1, 0, 0], [0, 0, 0], [0, -1, 0]])) == 1
    assert solver.value(game.initial_state()) == 0
    assert solver.n_positions() == 5478


def test_uct_wins_and_blocks_in_connect_four():
    game = ConnectFour()
    rows = [".......", ".......", ".......", "O......", "O......", "XXX...."]
    arr = np.array([[{"X": 1, "O": -1, ".": 0}[ch] for ch in row] for row in rows])
    win = game.from_board(np.vstack([arr[:5], [[1, 1, 1, 0, 0, -1, 0]]]))
    assert win.player == 1  # X to move wins in column 3
    uct = UCT(game, n_simulations=800, seed=0)
    assert uct.act(win) == 3
    blocked = game.from_board(arr)  # O to move must block column 3
    assert blocked.player == -1
    assert uct.act(blocked) == 3


def test_backups_are_consistent():
    game = TicTacToe()
    uct = UCT(game, n_simulations=400, seed=3)
    counts = uct.search(game.initial_state())
    assert counts.sum() == 400 and uct.root.N == 400

    def check(node):
        if node.children:
            # a node is visited once when expanded, then once per simulation passing through a child
            assert node.N == 1 + sum(c.N for c in node.children.values()) or node.parent is None
            for child in node.children.values():
                assert -child.N <= child.W <= child.N
                check(child)
    check(uct.root)
    assert np.nanmax(np.abs(uct.root_values())) <= 1


def test_uct_bad_input():
    with pytest.raises(ValueError, match="n_simulations must be in"):
        UCT("tictactoe", n_simulations=0)
    uct = UCT("tictactoe", n_simulations=10)
    with pytest.raises(TypeError, match="state must be a GameState"):
        uct.search([[0, 0, 0]] * 3)
    with pytest.raises(ValueError, match="state board has shape"):
        uct.search(ConnectFour().initial_state())
    over = TicTacToe().from_board([[1, 1, 1], [-1, -1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="the game is over"):
        uct.search(over)
