"""Play a board game against a search bot in the notebook (ipywidgets).

:class:`GameBoard` -- Connect Four: a row of column buttons above the board; tic-tac-toe: a 3x3 grid of cell
buttons. Click to move; the bot answers at once and its search statistics (visits ``N`` and mean value ``Q`` of
each root action, for the bot) are shown under the board. An illegal click (a full column, an occupied cell, a
move after the end, a click while the bot thinks) changes nothing and says why.

The bot is anything with ``search(state)``: plain :class:`~drlkit.search.UCT`, :class:`~drlkit.search.PUCT` or a
trained AlphaZero agent. ``search`` may return the root visit counts ``(n_actions,)`` (values are then read from
``bot.root_values()`` or the root's ``W / N``), a pair ``(counts, values)``, or a dict with the keys
``"counts"``/``"visits"`` and ``"values"``/``"q"``. The bot plays the most visited action.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..envs.games import Game, GameState, make_game

__all__ = ["GameBoard", "play_against", "search_statistics"]

_STONE = {1: "#d62728", -1: "#f2c500"}  # Connect Four: red (X, first) and yellow (O)
_MARK = {1: "X", -1: "O", 0: ""}


def search_statistics(bot: Any, state: GameState, n_actions: int) -> tuple[np.ndarray, np.ndarray]:
    """Run ``bot.search(state)``; return root visit counts ``(n_actions,)`` and values ``(n_actions,)``
    (for the player to move; nan where unknown or unvisited)."""
    if not hasattr(bot, "search"):
        raise TypeError(f"bot must have a search(state) method (UCT, PUCT, AlphaZero); got {type(bot).__name__}")
    out = bot.search(state)
    values: Any = None
    if isinstance(out, dict):
        counts = out.get("counts", out.get("visits"))
        values = out.get("values", out.get("q"))
    elif isinstance(out, tuple) and len(out) == 2:
        counts, values = out
    else:
        counts = out
    if counts is None:
        raise TypeError(f"bot.search returned {type(out).__name__} without visit counts")
    counts = np.asarray(counts, dtype=float).reshape(-1)
    if counts.shape != (n_actions,):
        raise ValueError(f"bot.search returned {counts.shape[0]} visit counts, the game has {n_actions} actions")
    if values is None:
        if hasattr(bot, "root_values"):
            values = bot.root_values()
        elif getattr(bot, "root", None) is not None and hasattr(bot.root, "W"):
            n = np.asarray(bot.root.N, dtype=float)
            values = np.divide(bot.root.W, n, out=np.full(n_actions, np.nan), where=n > 0)
        else:
            values = np.full(n_actions, np.nan)
    values = np.asarray(values, dtype=float).reshape(-1)
    values = np.where(counts > 0, values, np.nan)
    return counts, values


class GameBoard:
    """A game between you (``human`` = +1 moves first, -1 second) and ``bot``; display it with ``.widget``."""

    def __init__(self, game: Any, bot: Any, human: int = 1) -> None:
        self.game: Game = make_game(game)
        if human not in (1, -1):
            raise ValueError(f"human must be 1 (you move first) or -1 (the bot moves first), got {human!r}")
        if not hasattr(bot, "search"):
            raise TypeError(f"bot must have a search(state) method (UCT, PUCT, AlphaZero); got {type(bot).__name__}")
        self.bot, self.human = bot, human
        self.busy = False
        g = self.game
        if g.gravity:
            self.buttons = [
                widgets.Button(
                    description=f"▼ {c}", layout=widgets.Layout(width="52px"), tooltip=f"drop a stone in column {c}"
                )
                for c in range(g.cols)
            ]
            buttons_box: Any = widgets.HBox(self.buttons)
        else:
            self.buttons = [
                widgets.Button(description="", layout=widgets.Layout(width="56px", height="56px"), tooltip=f"cell {a}")
                for a in range(g.n_actions)
            ]
            buttons_box = widgets.GridBox(
                self.buttons, layout=widgets.Layout(grid_template_columns=f"repeat({g.cols}, 60px)")
            )
        for a, button in enumerate(self.buttons):
            button.add_class("drlkit-move")
            button.on_click(lambda _b, a=a: self.click(a))
        self.board_html = widgets.HTML()
        self.board_html.add_class("drlkit-board")
        self.message = widgets.HTML()
        self.message.add_class("drlkit-game-message")
        self.stats_html = widgets.HTML()
        self.stats_html.add_class("drlkit-search-stats")
        self.new_game_button = widgets.Button(description="new game", icon="refresh")
        self.new_game_button.on_click(lambda _b: self.reset())
        parts = [buttons_box, self.board_html] if g.gravity else [buttons_box]
        self.widget = widgets.VBox([*parts, self.message, self.stats_html, self.new_game_button])
        self.widget.add_class("drlkit-game")
        self.reset()

    # -- game flow ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """A new game; the bot moves first when you play second."""
        self.state = self.game.initial_state()
        self.moves: list[int] = []
        self.last_stats: tuple[np.ndarray, np.ndarray] | None = None
        self.stats_html.value = ""
        self._say(
            f"You play {'X (first)' if self.human == 1 else 'O (second)'}: click "
            f"{'a column' if self.game.gravity else 'a cell'}."
        )
        if self.state.player != self.human:
            self._bot_move()
        self._render()

    def click(self, action: int) -> bool:
        """Your move ``action``; returns False (and says why) when it is refused."""
        if self.busy:
            return self._refuse("wait: the bot is still thinking.")
        if self.game.winner(self.state) is not None:
            return self._refuse("the game is over: click 'new game' to play again.")
        if not self.game.legal_mask(self.state)[action]:
            what = f"column {action} is full" if self.game.gravity else f"cell {action} is already taken"
            return self._refuse(f"illegal move: {what}. Legal moves: {self.game.legal_actions(self.state).tolist()}.")
        self._play(action)
        if self.game.winner(self.state) is None:
            self._bot_move()
        self._render()
        return True

    def _play(self, action: int) -> None:
        self.state = self.game.next_state(self.state, action)
        self.moves.append(action)

    def _bot_move(self) -> None:
        self.busy = True
        try:
            self._say("The bot is thinking...")
            counts, values = search_statistics(self.bot, self.state, self.game.n_actions)
            legal = self.game.legal_mask(self.state)
            masked = np.where(legal, counts, -1.0)
            best = np.flatnonzero(masked == masked.max())
            action = int(best[0]) if len(best) == 1 else int(best[np.argmax(np.nan_to_num(values[best], nan=-2))])
            self.last_stats = (counts, values)
            self._play(action)
            self.stats_html.value = self._stats_table(counts, values, action)
            self._say(f"The bot played {'column' if self.game.gravity else 'cell'} {action}. Your turn.")
        finally:
            self.busy = False

    # -- drawing -----------------------------------------------------------------------------------
    def _say(self, text: str, kind: str = "info") -> None:
        color = {"info": "#333", "refused": "#b00020", "over": "#1a6b1a"}[kind]
        self.message.value = f'<span class="drlkit-{kind}" style="color:{color}">{html.escape(text)}</span>'

    def _refuse(self, text: str) -> bool:
        self._say(text, "refused")
        return False

    def _render(self) -> None:
        g, board = self.game, self.state.board
        if g.gravity:
            cells = []
            for r in range(g.rows):
                row = []
                for c in range(g.cols):
                    v = int(board[r, c])
                    stone = (
                        f'<div class="drlkit-stone drlkit-stone-{_MARK[v]}" style="width:40px;height:40px;'
                        f'border-radius:50%;background:{_STONE[v]}"></div>'
                        if v
                        else '<div style="width:40px;height:40px;border-radius:50%;background:white"></div>'
                    )
                    row.append(f'<td style="padding:3px">{stone}</td>')
                cells.append(f"<tr>{''.join(row)}</tr>")
            self.board_html.value = (
                f'<table style="background:#2f5d9e;border-collapse:separate;'
                f'border-radius:6px;margin-left:4px">{"".join(cells)}</table>'
            )
        else:
            for a, button in enumerate(self.buttons):
                button.description = _MARK[int(board.reshape(-1)[a])]
        w = g.winner(self.state)
        if w is not None:
            text = "Draw." if w == 0 else "You win!" if w == self.human else "The bot wins."
            self._say(f"{text} Click 'new game' to play again.", "over")

    def _stats_table(self, counts: np.ndarray, values: np.ndarray, played: int) -> str:
        label = "column" if self.game.gravity else "cell"
        head = "".join(f"<th style='padding:2px 6px'>{a}</th>" for a in range(self.game.n_actions))
        n_row = "".join(
            f"<td style='padding:2px 6px{';font-weight:bold' if a == played else ''}'>{int(n)}</td>"
            for a, n in enumerate(counts)
        )
        q_row = "".join(f"<td style='padding:2px 6px'>{'' if np.isnan(q) else f'{q:+.2f}'}</td>" for q in values)
        return (
            f"<div>Bot's search: {int(counts.sum())} visits at the root; it played {label} {played}. "
            f"N = visits, Q = mean value for the bot (+1 win, -1 loss).</div>"
            f"<table class='drlkit-stats-table'><tr><th>{label}</th>{head}</tr>"
            f"<tr><th>N</th>{n_row}</tr><tr><th>Q</th>{q_row}</tr></table>"
        )

    def _ipython_display_(self) -> None:  # pragma: no cover - display hook in a notebook
        from IPython.display import display

        display(self.widget)


def play_against(bot: Any, game: Any = "connect_four", human: int = 1) -> GameBoard:
    """A :class:`GameBoard` to play ``game`` against ``bot`` (display it, or its ``.widget``)."""
    return GameBoard(game, bot, human=human)
