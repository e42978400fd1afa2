"""Notebook 10 in JupyterLab: Run All works, and the boards are played by clicking -- the bot answers each move
with a stone of its own and its search statistics, and an illegal click is refused with a message."""

import pytest
from test_notebook_10 import SMALL

from browser_tools import cell_errors, run_in_lab
from notebook_tools import NOTEBOOKS

pytestmark = pytest.mark.browser


def _wait_for(page, locator, text, timeout=60_000):
    locator.filter(has_text=text).first.wait_for(state="visible", timeout=timeout)


def test_clicking_columns_the_bot_answers_and_illegal_clicks_are_refused(lab, page):
    run_in_lab(page, lab, NOTEBOOKS / "10_mcts_self_play.ipynb", **SMALL)

    connect_four, tictactoe = page.locator(".drlkit-game").nth(0), page.locator(".drlkit-game").nth(1)
    stones = connect_four.locator(".drlkit-stone")
    assert stones.count() == 0
    for n_moves, column in enumerate((3, 2), start=1):
        connect_four.locator(".drlkit-move", has_text=f"▼ {column}").click()
        page.wait_for_function(
            "([el, n]) => el.querySelectorAll('.drlkit-stone').length === n",
            arg=[connect_four.element_handle(), 2 * n_moves],
            timeout=60_000,
        )
        _wait_for(page, connect_four.locator(".drlkit-game-message"), "The bot played column")
        stats = connect_four.locator(".drlkit-search-stats")
        # The Connect Four bot is the self-play agent when section 2 ran (its own simulations), else plain UCT.
        bot_simulations = SMALL["SELF_PLAY_SIMULATIONS"] if SMALL["RUN_SELF_PLAY"] else SMALL["PLAY_SIMULATIONS"]
        assert f"{bot_simulations} visits at the root" in stats.inner_text()
        assert stats.locator("table tr").count() == 3  # columns, visits N, values Q
    assert connect_four.locator(".drlkit-stone-X").count() == 2 and connect_four.locator(".drlkit-stone-O").count() == 2

    cells = tictactoe.locator(".drlkit-move")
    cells.nth(4).click()
    _wait_for(page, tictactoe.locator(".drlkit-game-message"), "The bot played cell")
    marks = cells.all_inner_texts()
    assert marks.count("X") == 1 and marks.count("O") == 1 and marks[4] == "X"
    cells.nth(4).click()  # the cell is taken: refused, nothing changes
    _wait_for(page, tictactoe.locator(".drlkit-game-message"), "illegal move: cell 4 is already taken")
    assert cells.all_inner_texts() == marks
    assert cell_errors(page) == []
