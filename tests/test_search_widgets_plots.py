"""The game board widget (without a browser), the search figures and the search exercises' checks."""

import contextlib
import io
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from drlkit.envs.games import ConnectFour, TicTacToe  # noqa: E402
from drlkit.exercises.search import check_backup, check_ucb_score  # noqa: E402
from drlkit.plotting.search import plot_outcomes, plot_search_statistics, plot_win_rate  # noqa: E402
from drlkit.search import PUCT, UCT, Solver  # noqa: E402
from drlkit.widgets.games import GameBoard, play_against, search_statistics  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _said(check, fn):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ok = check(fn)
    return ok, out.getvalue()


# -- widget ------------------------------------------------------------------------------------------
def test_connect_four_board_bot_answers_and_shows_its_statistics():
    board = play_against(UCT("connect_four", n_simulations=200, seed=0), "connect_four")
    assert "drlkit-stone" not in board.board_html.value
    assert board.click(3) is True
    assert board.state.board[5, 3] == 1  # our stone at the bottom of column 3
    assert (board.state.board != 0).sum() == 2 and board.state.player == 1  # the bot answered
    assert board.board_html.value.count("drlkit-stone ") == 2
    counts, values = board.last_stats
    assert counts.sum() == 200 and counts[board.moves[-1]] == counts.max()  # the most visited column
    assert "200 visits" in board.stats_html.value and f"column {board.moves[-1]}" in board.message.value


def test_illegal_clicks_are_refused_with_a_message():
    game = ConnectFour()
    board = GameBoard(game, UCT(game, n_simulations=30, seed=1))
    full = game.from_board(np.array([[1], [-1], [1], [-1], [1], [-1]]) * (np.arange(7) == 0))
    board.state = full
    before = board.state
    assert board.click(0) is False
    assert (
        board.state is before and "column 0 is full" in board.message.value and "drlkit-refused" in board.message.value
    )
    ttt = GameBoard("tictactoe", UCT("tictactoe", n_simulations=50, seed=0))
    ttt.click(4)
    taken = next(a for a in range(9) if ttt.state.board.reshape(-1)[a] != 0 and a != 4)
    assert ttt.click(taken) is False and f"cell {taken} is already taken" in ttt.message.value
    assert [b.description for b in ttt.buttons].count("X") == 1 and [b.description for b in ttt.buttons].count("O") == 1


def test_a_full_game_against_the_solver_bot_ends_and_refuses_more_moves():
    class SolverBot:  # any object with search(state) -> counts can be the bot
        def __init__(self):
            self.solver = Solver("tictactoe")

        def search(self, state):
            counts = np.zeros(9)
            counts[self.solver.act(state)] = 1
            return counts

    board = GameBoard("tictactoe", SolverBot(), human=-1)
    assert (board.state.board != 0).sum() == 1  # the bot moved first
    while TicTacToe().winner(board.state) is None:
        board.click(int(TicTacToe().legal_actions(board.state)[0]))
    assert "The bot wins" in board.message.value or "Draw" in board.message.value
    assert board.click(0) is False and "game is over" in board.message.value
    board.reset()
    assert (board.state.board != 0).sum() == 1


def test_search_statistics_accepts_the_bots_forms():
    ttt = TicTacToe()
    s = ttt.initial_state()
    counts, values = search_statistics(PUCT(ttt, n_simulations=20), s, 9)
    assert counts.sum() == 20 and np.isfinite(values[counts > 0]).all()

    class PairBot:
        def search(self, state):
            return np.arange(9), np.linspace(-1, 1, 9)

    class DictBot:
        def search(self, state):
            return {"visits": np.ones(9), "values": np.zeros(9)}

    assert search_statistics(PairBot(), s, 9)[0][8] == 8 and np.isnan(search_statistics(PairBot(), s, 9)[1][0])
    assert search_statistics(DictBot(), s, 9)[0].sum() == 9
    with pytest.raises(TypeError, match="search"):
        GameBoard("tictactoe", object())
    with pytest.raises(ValueError, match="human must be"):
        GameBoard("tictactoe", PairBot(), human=0)
    with pytest.raises(ValueError, match="game must be one of"):
        GameBoard("chess", PairBot())


# -- figures -----------------------------------------------------------------------------------------
def test_search_statistics_are_written_on_the_board():
    ttt = TicTacToe()
    s = ttt.next_state(ttt.initial_state(), 4)
    uct = UCT(ttt, n_simulations=100, seed=0)
    counts = uct.search(s)
    counts2, q = uct.statistics()
    assert (counts2 == counts).all()
    ax = plot_search_statistics(ttt, s, counts, q)
    texts = [t.get_text() for t in ax.texts]
    assert "X" in texts and sum(t.startswith("N=") for t in texts) == 8
    assert f"N={counts[0]}\nQ={q[0]:+.2f}" in texts
    c4 = ConnectFour()
    ax = plot_search_statistics(c4, c4.initial_state(), np.arange(7), np.zeros(7))
    assert sum(t.get_text().startswith("N=") for t in ax.texts) == 6  # column 0 has no visits
    with pytest.raises(ValueError, match="shape"):
        plot_search_statistics(ttt, s, np.ones(7), np.ones(7))


def test_outcomes_are_stacked_bars_and_win_rates_a_line():
    ax = plot_outcomes([4, 16], {"win": [0, 0], "draw": [0.25, 1], "loss": [0.75, 0]})
    assert [round(p.get_height(), 2) for p in ax.patches] == [0, 0, 0.25, 1, 0.75, 0]
    with pytest.raises(ValueError, match="must be 1"):
        plot_outcomes([1], {"win": [0.5], "draw": [0.5], "loss": [0.5]})
    with pytest.raises(ValueError, match="keys"):
        plot_outcomes([1], {"win": [1]})
    frame = pd.DataFrame({"games": [4, 8, 12], "win_rate_vs_uct": [0.25, np.nan, 0.75]})
    ax = plot_win_rate(frame)
    assert ax.lines[0].get_xdata().tolist() == [4, 12]
    with pytest.raises(ValueError, match="no column"):
        plot_win_rate(frame, y="loss")


# -- exercises ---------------------------------------------------------------------------------------
def test_ucb_check_passes_the_formula_and_names_common_mistakes():
    def right(w, n, n_parent, c):
        return math.inf if n == 0 else w / n + c * math.sqrt(math.log(n_parent) / n)

    assert _said(check_ucb_score, right)[0] is True
    ok, said = _said(
        check_ucb_score, lambda w, n, n_parent, c: math.inf if n == 0 else w + c * math.sqrt(math.log(n_parent) / n)
    )
    assert ok is False and "mean value w / n" in said
    ok, said = _said(check_ucb_score, lambda w, n, n_parent, c: w / n + c * math.sqrt(math.log(n_parent) / n))
    assert ok is False and "n = 0" in said


def test_backup_check_passes_the_rule_and_names_the_sign_mistake():
    assert _said(check_backup, lambda N, W, movers, z: (N + 1, W + z * movers))[0] is True
    ok, said = _said(check_backup, lambda N, W, movers, z: (N + 1, W + z))
    assert ok is False and "z * mover" in said
    ok, said = _said(check_backup, lambda N, W, movers, z: (N, W + z * movers))
    assert ok is False and "one more visit" in said


def test_backup_rule_is_what_uct_does():
    """The exercise's rule, replayed on a real UCT tree: after one more simulation the path's statistics moved by it."""
    ttt = TicTacToe()
    uct = UCT(ttt, n_simulations=60, seed=2)
    uct.search(ttt.initial_state())
    root = uct.root
    for child in root.children.values():  # every node's W is the sum of z * mover over the simulations through it
        assert abs(child.W) <= child.N
    total = sum(c.N for c in root.children.values())
    assert total == 60
