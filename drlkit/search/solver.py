"""Exact minimax solver for small games (tic-tac-toe): the ground truth for search tests.

The value of a position for the player to move is

    V(s) = r(s)                         if s is terminal (+1 win, 0 draw, -1 loss)
    V(s) = max_a  -V(next(s, a))        otherwise (negamax form of minimax),

memoised on the position, so every one of tic-tac-toe's 5,478 reachable
positions is solved once. An action is *optimal* when it attains the max.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..envs.games import Game, GameState, make_game

__all__ = ["Solver"]


class Solver:
    """Memoised negamax over a game small enough to enumerate (tic-tac-toe)."""

    def __init__(self, game: Any = "tictactoe") -> None:
        self.game: Game = make_game(game)
        if self.game.rows * self.game.cols > 16:
            raise ValueError(f"Solver only enumerates small boards (<= 16 cells); {self.game.name} is too big")
        self._values: dict[bytes, int] = {}

    def value(self, state: GameState) -> int:
        """Game-theoretic value (+1/0/-1) for the player to move."""
        key = state.key()
        v = self._values.get(key)
        if v is None:
            t = self.game.terminal_value(state)
            if t is not None:
                v = int(t)
            else:
                v = max(-self.value(self.game.next_state(state, a)) for a in self.game.legal_actions(state))
            self._values[key] = v
        return v

    def action_values(self, state: GameState) -> dict[int, int]:
        """``{action: value for the mover after playing it}``."""
        return {int(a): -self.value(self.game.next_state(state, a)) for a in self.game.legal_actions(state)}

    def optimal_actions(self, state: GameState) -> list[int]:
        """All actions attaining the minimax value."""
        q = self.action_values(state)
        best = max(q.values())
        return [a for a, v in q.items() if v == best]

    def act(self, state: GameState, rng: np.random.Generator | None = None) -> int:
        """A perfect move (uniform among the optimal ones when ``rng`` is given, else the first)."""
        best = self.optimal_actions(state)
        return int(best[0] if rng is None else best[int(rng.integers(len(best)))])

    def n_positions(self) -> int:
        """Number of positions solved so far (5,478 after solving the empty tic-tac-toe board)."""
        return len(self._values)
