"""Rules of the search games, checked against exhaustive enumeration and hand-made positions."""

import itertools
import pickle

import numpy as np
import pytest

from drlkit.envs.games import ConnectFour, TicTacToe, make_game


def _reachable(game, max_ply=None):
    """All positions reachable from the empty board (breadth first), grouped by ply."""
    frontier = {game.initial_state()}
    layers = [frontier]
    while frontier and (max_ply is None or len(layers) <= max_ply):
        nxt = set()
        for s in frontier:
            for a in game.legal_actions(s):
                nxt.add(game.next_state(s, a))
        frontier = nxt
        if nxt:
            layers.append(nxt)
    return layers


def _ttt_winner_by_hand(cells):
    lines = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]
    won = {cells[a] for a, b, c in lines if cells[a] != 0 and cells[a] == cells[b] == cells[c]}
    return won


def test_tictactoe_has_5478_legal_positions_by_play_and_by_board_check():
    game = TicTacToe()
    reached = set().union(*_reachable(game))
    assert len(reached) == 5478
    # independently: every one of the 3^9 boards accepted by from_board is reachable, and vice versa
    accepted = set()
    for cells in itertools.product((0, 1, -1), repeat=9):
        try:
            accepted.add(game.from_board(np.array(cells).reshape(3, 3)))
        except ValueError:
            pass
    assert accepted == reached


def test_tictactoe_winner_matches_hand_check_and_batch():
    game = TicTacToe()
    states = sorted(set().union(*_reachable(game)), key=lambda s: s.key())
    batch = game.winner_batch(np.stack([s.board for s in states]))
    for s, wb in zip(states, batch):
        cells = s.board.reshape(-1).tolist()
        won = _ttt_winner_by_hand(cells)
        expected = won.pop() if won else (0 if 0 not in cells else None)
        assert game.winner(s) == expected
        assert wb == (2 if expected is None else expected)


def test_connect_four_position_counts_match_known_sequence():
    # number of distinct positions after n plies (OEIS A212693): 1, 7, 49, 238, 1120, 4263, 16422
    layers = _reachable(ConnectFour(), max_ply=5)
    assert [len(layer) for layer in layers] == [1, 7, 49, 238, 1120, 4263]


@pytest.mark.parametrize(
    "board,winner",
    [
        # horizontal, bottom row
        ([".......", ".......", ".......", ".......", "OOO....", "XXXX..."], 1),
        # vertical in column 6
        ([".......", ".......", "......O", "...X..O", "...X..O", "...XX.O"], -1),
        # diagonal rising to the right
        ([".......", ".......", "...X...", "..XO...", ".XOO...", "XOOXX.."], 1),
        # diagonal falling to the right
        ([".......", ".......", "X......", "OX.....", "OOX....", "XXOX..O"], 1),
        # no line yet
        ([".......", ".......", ".......", ".......", ".......", "XXX.OO."], None),
    ],
)
def test_connect_four_known_positions(board, winner):
    game = ConnectFour()
    arr = np.array([[{"X": 1, "O": -1, ".": 0}[ch] for ch in row] for row in board])
    state = game.from_board(arr)
    assert game.winner(state) == winner
    assert game.winner_batch(arr[None])[0] == (2 if winner is None else winner)


def test_connect_four_gravity_and_action_effects():
    game = ConnectFour()
    s = game.initial_state()
    for _ in range(6):
        s = game.next_state(s, 3)
    assert s.board[:, 3].tolist() == [-1, 1, -1, 1, -1, 1]
    assert 3 not in game.legal_actions(s).tolist()
    with pytest.raises(ValueError, match="illegal move 3: the column is full"):
        game.next_state(s, 3)


def test_canonical_board_is_the_same_for_either_mover():
    game = TicTacToe()
    s = game.next_state(game.initial_state(), 4)
    c = game.canonical(s)  # O to move: its stones in plane 0, X's centre in plane 1
    assert c.shape == (2, 3, 3) and c.dtype == np.float32
    assert c[1, 1, 1] == 1 and c[0].sum() == 0


def test_states_are_immutable_and_games_pickle():
    game = ConnectFour()
    s = game.initial_state()
    with pytest.raises(ValueError):
        s.board[0, 0] = 1
    assert isinstance(pickle.loads(pickle.dumps(game)), ConnectFour)


@pytest.mark.parametrize(
    "board,message",
    [
        (np.zeros((3, 4)), r"shape \(3, 3\)"),
        ([[0, 0, 2], [0, 0, 0], [0, 0, 0]], "values must be -1, 0 or 1"),
        ([[1, 1, 0], [0, 0, 0], [0, 0, 0]], "impossible board: 2 stones of \\+1 and 0 of -1"),
        ([[1, 1, 1], [-1, -1, -1], [1, 0, 0]], "both players have a winning line"),
        ([[1, 1, 1], [-1, -1, 0], [-1, 0, 0]], "winner would have moved out of turn"),
    ],
)
def test_malformed_tictactoe_boards_are_rejected(board, message):
    with pytest.raises(ValueError, match=message):
        TicTacToe().from_board(board)


def test_bad_moves_and_players_give_clear_errors():
    game = TicTacToe()
    s = game.next_state(game.initial_state(), 0)
    with pytest.raises(ValueError, match=r"illegal move 0: the cell is occupied; legal actions are \[1, 2"):
        game.next_state(s, 0)
    with pytest.raises(ValueError, match=r"action must be in \[0, 8\]"):
        game.next_state(s, 9)
    with pytest.raises(TypeError, match="action must be an integer"):
        game.next_state(s, "4")
    with pytest.raises(ValueError, match="wrong player: 1 tried to move but -1 is to move"):
        game.check_player(s, 1)
    with pytest.raises(ValueError, match="wrong player: player=1 but the stone counts say -1"):
        game.from_board(s.board, player=1)
    floating = np.zeros((6, 7))
    floating[0, 0] = 1
    with pytest.raises(ValueError, match="row 0, column 0 floats"):
        ConnectFour().from_board(floating)
    with pytest.raises(ValueError, match="game must be one of 'tictactoe', 'connect_four'"):
        make_game("chess")
    won = game.from_board([[1, 1, 1], [-1, -1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="the game is over"):
        game.next_state(won, 5)


def test_random_playout_results_are_legal_outcomes():
    game = ConnectFour()
    rng = np.random.default_rng(0)
    results = [game.random_playout(game.initial_state(), rng) for _ in range(300)]
    assert set(results) <= {1, 0, -1}
    # the first player wins random games more often (a known first-move advantage)
    assert results.count(1) > results.count(-1)


@pytest.mark.parametrize("name", ["tictactoe", "connect_four"])
def test_fast_list_rules_agree_with_the_numpy_rules(name):
    """The padded-list board used by UCT's inner loop: same cells, same columns' free cells, and the last-move
    win test agrees with winner() after every move of 50 random games."""
    game = make_game(name)
    rng = np.random.default_rng(0)
    for _ in range(50):
        s = game.initial_state()
        while game.winner(s) is None:
            a = int(rng.choice(game.legal_actions(s)))
            nxt = game.next_state(s, a)
            cells, tops = game.fast_board(nxt)
            assert [cells[i] for i in game.fast_index] == nxt.board.reshape(-1).tolist()
            if game.gravity:
                assert [t >= game.fast_width for t in tops] == game.legal_mask(nxt).tolist()
            i = game.fast_index[int(np.flatnonzero((nxt.board != s.board).reshape(-1))[0])]  # the new stone
            assert game.fast_wins(cells, i, s.player) == (game.winner(nxt) == s.player)
            s = nxt
