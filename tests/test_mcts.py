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


@pytest.mark.parametrize(
    "board",
    [
        [[1, 1, 0], [-1, -1, 0], [0, 0, 0]],  # X wins at once (cell 2)
        [[1, 0, 0], [0, 0, 0], [0, -1, 0]],  # X has a forced win by a fork (value +1)
    ],
)
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


# -- PUCT ---------------------------------------------------------------------------
from drlkit.search import PUCT, puct_scores, visit_policy  # noqa: E402


def _fixed_evaluator(boards):
    p = np.array([[0.5, 0.3, 0.2, 0, 0, 0, 0, 0, 0]] * len(boards))
    return p, np.full(len(boards), 0.5)


def test_puct_formula_by_hand():
    P = np.array([0.5, 0.3, 0.2])
    N = np.array([1, 1, 0])
    W = np.array([-0.5, 0.5, 0.0])
    # sqrt(2) = 1.41421
    expected = [-0.5 + 0.5 * 1.41421356 / 2, 0.5 + 0.3 * 1.41421356 / 2, 0.2 * 1.41421356]
    assert puct_scores(P, N, W, 1.0) == pytest.approx(expected)


def test_puct_tree_and_backups_by_hand():
    # Worked by hand with c_puct = 1 and a leaf value of +0.5 for every mover:
    # sims 1-4 visit actions 0, 1, 2, 3 (each edge W = -0.5); in sim 5 action 0 scores
    # -0.5 + 0.5 * sqrt(4) / 2 = 0 (ties with unvisited zero-prior cells, lowest index wins),
    # descends, expands (0 -> 1) and backs up +0.5 into root edge 0.
    game = TicTacToe()
    search = PUCT(game, _fixed_evaluator, n_simulations=5, c_puct=1.0)
    counts = search.search(game.initial_state())
    assert counts.tolist() == [2, 1, 1, 1, 0, 0, 0, 0, 0]
    assert search.root.W.tolist() == pytest.approx([0.0, -0.5, -0.5, -0.5, 0, 0, 0, 0, 0])
    child = search.root.children[0]
    assert child.N.tolist() == [0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert child.W[1] == pytest.approx(-0.5)
    assert child.P[:3].tolist() == pytest.approx([0.0, 0.6, 0.4])  # illegal cell 0 masked, renormalised


def test_puct_terminal_backup_and_forced_win():
    game = TicTacToe()
    state = game.from_board([[1, 1, 0], [-1, -1, 0], [0, 0, 0]])
    search = PUCT(game, n_simulations=200, c_puct=1.0)
    counts = search.search(state)
    assert int(np.argmax(counts)) == 2
    assert search.root.W[2] == pytest.approx(counts[2])  # every visit of the winning edge is worth +1


def test_dirichlet_noise_and_temperature():
    game = TicTacToe()
    s = game.next_state(game.initial_state(), 4)
    search = PUCT(game, n_simulations=1, dirichlet_alpha=0.3, dirichlet_eps=0.25, seed=1)
    search.search(s)
    P = search.root.P
    assert P.sum() == pytest.approx(1) and P[4] == 0
    assert not np.allclose(P[P > 0], 1 / 8)  # noise moved the uniform prior
    assert (P[P > 0] >= 0.75 / 8 - 1e-12).all()  # but kept (1 - eps) of it
    counts = np.array([1, 3, 0, 4])
    assert visit_policy(counts, 1.0) == pytest.approx(counts / 8)
    assert visit_policy(counts, 0.5) == pytest.approx(counts**2 / 26)
    assert visit_policy(counts, 0).tolist() == [0, 0, 0, 1]
    with pytest.raises(ValueError, match="temperature must be in"):
        visit_policy(counts, -1)
    with pytest.raises(ValueError, match="dirichlet_eps must be in"):
        PUCT(game, dirichlet_eps=2)
