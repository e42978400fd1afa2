"""Two-player, zero-sum, perfect-information board games for tree search.

A game is a small stateless object with five rules; a position is an
immutable :class:`GameState` (a read-only ``int8`` board plus the player to
move), so search trees can share states without copying.

Conventions (both games):

* ``board`` has shape ``(rows, cols)``; ``+1`` is the first player ("X",
  red), ``-1`` the second ("O", yellow), ``0`` empty.
* ``state.player`` is the player to move (``+1`` or ``-1``).
* ``winner(state)`` is ``+1``/``-1`` for a win, ``0`` for a draw and
  ``None`` while the game goes on.
* ``canonical(state)`` is ``board * player`` as ``float32`` of shape
  ``(2, rows, cols)``: plane 0 holds the mover's stones, plane 1 the
  opponent's -- the input of a policy-value network, the same whoever moves.

Win checks are vectorised with numpy: every winning line is a row of a
precomputed index array ``lines`` of shape ``(n_lines, k)`` and a board wins
for ``p`` when ``board.flat[lines].sum(1)`` reaches ``k * p``.
``winner_batch`` applies the same test to a stack of boards ``(B, rows, cols)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["GameState", "Game", "TicTacToe", "ConnectFour", "make_game", "GAMES"]


@dataclass(frozen=True, eq=False)
class GameState:
    """A position: read-only ``board`` ``(rows, cols)`` int8 and ``player`` to move (+1/-1)."""

    board: np.ndarray
    player: int

    def key(self) -> bytes:
        """Hashable identity of the position (board bytes + mover)."""
        return self.board.tobytes() + (b"+" if self.player == 1 else b"-")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GameState) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __repr__(self) -> str:
        marks = {1: "X", -1: "O", 0: "."}
        rows = ["".join(marks[int(v)] for v in row) for row in self.board]
        return f"GameState(player={'X' if self.player == 1 else 'O'}, board={'/'.join(rows)})"


def _lines(rows: int, cols: int, k: int) -> np.ndarray:
    idx = np.arange(rows * cols).reshape(rows, cols)
    out = []
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                rr, cc = r + dr * (k - 1), c + dc * (k - 1)
                if 0 <= rr < rows and 0 <= cc < cols:
                    out.append([idx[r + dr * i, c + dc * i] for i in range(k)])
    return np.array(out, dtype=np.intp)


class Game:
    """Rules shared by the k-in-a-row games; subclasses set the geometry and gravity."""

    name: str = "game"
    rows: int
    cols: int
    k: int
    gravity: bool = False

    def __init__(self) -> None:
        self.lines = _lines(self.rows, self.cols, self.k)
        self.n_actions = self.cols if self.gravity else self.rows * self.cols
        self._initial = GameState(self._freeze(np.zeros((self.rows, self.cols), np.int8)), 1)
        # lines through each cell, for the "did the last move win" test of play()
        self._lines_at = [self.lines[(self.lines == i).any(1)] for i in range(self.rows * self.cols)]
        self._init_fast()

    # -- construction and validation ------------------------------------------------
    @staticmethod
    def _freeze(board: np.ndarray) -> np.ndarray:
        board.setflags(write=False)
        return board

    def initial_state(self) -> GameState:
        """The empty board, first player (+1) to move."""
        return self._initial

    def from_board(self, board: Any, player: int | None = None) -> GameState:
        """Validate a board (nested lists or array of -1/0/1) and return its state.

        The mover is implied by the stone counts (+1 moves first); passing a
        ``player`` that disagrees raises. Raises ``ValueError`` naming the
        problem for a wrong shape, values outside {-1, 0, 1}, impossible stone
        counts, floating Connect Four stones, or two winners.
        """
        try:
            arr = np.asarray(board)
        except Exception as exc:  # ragged lists
            raise ValueError(f"board must be a {self.rows}x{self.cols} grid of -1/0/1, got {board!r}") from exc
        if arr.shape != (self.rows, self.cols):
            raise ValueError(f"board must have shape ({self.rows}, {self.cols}) for {self.name}, got {arr.shape}")
        if arr.dtype.kind not in "iuf" or not np.isin(arr, (-1, 0, 1)).all():
            raise ValueError(f"board values must be -1, 0 or 1, got {sorted(set(np.unique(arr).tolist()))!r}")
        arr = arr.astype(np.int8)
        n_x, n_o = int((arr == 1).sum()), int((arr == -1).sum())
        if n_x - n_o not in (0, 1):
            raise ValueError(
                f"impossible board: {n_x} stones of +1 and {n_o} of -1 (+1 moves first, "
                "so it has the same number or one more)"
            )
        implied = 1 if n_x == n_o else -1
        if player is not None and player != implied:
            raise ValueError(f"wrong player: player={player!r} but the stone counts say {implied:+d} is to move")
        if self.gravity:
            filled = arr != 0
            # a stone must sit on the bottom row or on another stone (row 0 is the top)
            floating = filled[:-1] & ~filled[1:]
            if floating.any():
                r, c = np.argwhere(floating)[0]
                raise ValueError(f"malformed board: stone at row {r}, column {c} floats above an empty cell")
        wins = self._winning_players(arr)
        if len(wins) == 2:
            raise ValueError("malformed board: both players have a winning line")
        if wins == {1} and implied != -1 or wins == {-1} and implied != 1:
            raise ValueError("malformed board: the winner would have moved out of turn")
        return GameState(self._freeze(arr), implied)

    def _winning_players(self, board: np.ndarray) -> set[int]:
        sums = board.reshape(-1)[self.lines].sum(1)
        return {p for p in (1, -1) if (sums == self.k * p).any()}

    # -- rules ----------------------------------------------------------------------
    def legal_actions(self, state: GameState) -> np.ndarray:
        """Legal action indices (int array, ascending); empty once the game is over."""
        if self.winner(state) is not None:
            return np.empty(0, dtype=np.intp)
        return np.flatnonzero(self.legal_mask(state))

    def legal_mask(self, state: GameState) -> np.ndarray:
        """Boolean mask ``(n_actions,)`` of playable actions (ignores whether the game is over)."""
        if self.gravity:
            return state.board[0] == 0
        return state.board.reshape(-1) == 0

    def _cell(self, state: GameState, action: int) -> int:
        if self.gravity:
            col = state.board[:, action]
            row = int(np.flatnonzero(col == 0)[-1])
            return row * self.cols + action
        return action

    def next_state(self, state: GameState, action: Any) -> GameState:
        """The position after the mover plays ``action``; raises ``ValueError`` if it is illegal."""
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
            raise TypeError(f"action must be an integer in [0, {self.n_actions - 1}], got {action!r}")
        action = int(action)
        if not 0 <= action < self.n_actions:
            raise ValueError(f"action must be in [0, {self.n_actions - 1}] for {self.name}, got {action}")
        if self.winner(state) is not None:
            raise ValueError(f"illegal move {action}: the game is over")
        if not self.legal_mask(state)[action]:
            what = "column is full" if self.gravity else "cell is occupied"
            raise ValueError(
                f"illegal move {action}: the {what}; legal actions are {self.legal_actions(state).tolist()}"
            )
        board = state.board.copy()
        board.reshape(-1)[self._cell(state, action)] = state.player
        return GameState(self._freeze(board), -state.player)

    def play(self, state: GameState, action: int) -> tuple[GameState, int | None]:
        """Fast path for search: the next position and its winner, without validation.

        ``action`` must be legal in a position that is not over (search only plays
        those); the win test looks only at the lines through the new stone.
        """
        board = state.board.copy()
        flat = board.reshape(-1)
        # gravity: the empty cells of a column are its top ones, so the stone lands below the last of them
        cell = (int((board[:, action] == 0).sum()) - 1) * self.cols + action if self.gravity else action
        flat[cell] = state.player
        sums = flat[self._lines_at[cell]].sum(1)
        if (sums == self.k * state.player).any():
            w: int | None = state.player
        else:
            w = None if 0 in (flat[: self.cols] if self.gravity else flat) else 0
        return GameState(self._freeze(board), -state.player), w

    def winner(self, state: GameState) -> int | None:
        """+1 / -1 if that player has a line, 0 for a full board, None otherwise."""
        flat = state.board.reshape(-1)
        sums = flat[self.lines].sum(1)
        if (sums == self.k).any():
            return 1
        if (sums == -self.k).any():
            return -1
        return 0 if not (flat == 0).any() else None

    def winner_batch(self, boards: np.ndarray) -> np.ndarray:
        """Vectorised ``winner`` for ``boards`` ``(B, rows, cols)``: int8 ``(B,)``; 2 means not over."""
        flat = boards.reshape(len(boards), -1)
        sums = flat[:, self.lines].sum(2)
        out = np.full(len(boards), 2, dtype=np.int8)
        out[~(flat == 0).any(1)] = 0
        out[(sums == -self.k).any(1)] = -1
        out[(sums == self.k).any(1)] = 1
        return out

    def terminal_value(self, state: GameState) -> float | None:
        """Game result from the point of view of the player to move, or None if not over."""
        w = self.winner(state)
        return None if w is None else float(w * state.player)

    def canonical(self, state: GameState) -> np.ndarray:
        """Network input ``(2, rows, cols)`` float32: mover's stones, opponent's stones."""
        b = state.board * state.player
        return np.stack([b == 1, b == -1]).astype(np.float32)

    def check_player(self, state: GameState, player: int) -> None:
        """Raise ``ValueError`` if ``player`` is not the one to move in ``state``."""
        if player != state.player:
            raise ValueError(f"wrong player: {player!r} tried to move but {state.player:+d} is to move")

    # -- fast rules on plain lists (the inner loops of search) ------------------------
    # A position is also kept as a padded list ``cells`` of (rows + 2) * (cols + 1) + 1 ints: cell (r, c) lives at
    # index (r + 1) * W + c with W = cols + 1, every other index stays 0. Walking from a cell in one of the four
    # directions (1, W, W + 1, W - 1) therefore stops at a 0 before leaving the board, so "did the last move make k
    # in a row" is a few list look-ups, with no bounds checks and no numpy call.
    def _init_fast(self) -> None:
        W = self.cols + 1
        self.fast_width = W
        self.fast_index = [(r + 1) * W + c for r in range(self.rows) for c in range(self.cols)]
        self.fast_size = (self.rows + 2) * W + 1
        self.fast_dirs = (1, W, W + 1, W - 1)

    def fast_board(self, state: GameState) -> tuple[list[int], list[int]]:
        """``(cells, tops)``: the padded cell list of ``state`` and, for Connect Four, the padded index of the
        lowest empty cell of each column (an index below ``fast_width`` means the column is full; ``[]`` for
        tic-tac-toe)."""
        cells = [0] * self.fast_size
        for i, v in zip(self.fast_index, state.board.reshape(-1).tolist()):
            cells[i] = v
        tops: list[int] = []
        if self.gravity:
            W = self.fast_width
            for c in range(self.cols):
                top = c  # full
                for r in range(self.rows - 1, -1, -1):
                    if cells[(r + 1) * W + c] == 0:
                        top = (r + 1) * W + c
                        break
                tops.append(top)
        return cells, tops

    def fast_wins(self, cells: list[int], i: int, p: int) -> bool:
        """Whether the stone ``p`` at padded index ``i`` completes k in a row."""
        k = self.k
        for d in self.fast_dirs:
            n = 1
            j = i + d
            while cells[j] == p:
                n += 1
                j += d
            j = i - d
            while cells[j] == p:
                n += 1
                j -= d
            if n >= k:
                return True
        return False

    def fast_playout(self, cells: list[int], tops: list[int], player: int, rand: Any) -> int:
        """Play uniformly random moves on ``cells`` (modified in place) from ``player`` to move; return the
        winner (+1, -1, 0). ``rand()`` draws a float in [0, 1)."""
        k, d1, d2, d3, d4 = self.k, *self.fast_dirs
        if self.gravity:
            W = self.fast_width
            free = [c for c in range(self.cols) if tops[c] >= W]
            tops = tops[:]
        else:
            free = [i for i in self.fast_index if cells[i] == 0]
        while free:
            j = int(rand() * len(free))
            if self.gravity:
                c = free[j]
                i = tops[c]
                tops[c] = i - W
                if i - W < W:
                    free[j] = free[-1]
                    free.pop()
            else:
                i = free[j]
                free[j] = free[-1]
                free.pop()
            cells[i] = player
            for d in (d1, d2, d3, d4):
                n = 1
                m = i + d
                while cells[m] == player:
                    n += 1
                    m += d
                m = i - d
                while cells[m] == player:
                    n += 1
                    m -= d
                if n >= k:
                    return player
            player = -player
        return 0

    def random_playout(self, state: GameState, rng: np.random.Generator) -> int:
        """Play uniformly random moves to the end; return the winner (+1, -1, 0)."""
        w = self.winner(state)
        if w is not None:
            return w
        cells, tops = self.fast_board(state)
        return self.fast_playout(cells, tops, state.player, rng.random)

    def render(self, state: GameState) -> str:
        """Text picture of the board (X = +1, O = -1)."""
        marks = {1: "X", -1: "O", 0: "."}
        return "\n".join(" ".join(marks[int(v)] for v in row) for row in state.board)

    def __reduce__(self):  # games pickle by name, for Dask
        return (make_game, (self.name,))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class TicTacToe(Game):
    """Tic-tac-toe: 3x3, three in a row; action = cell index ``3 * row + col``."""

    name, rows, cols, k, gravity = "tictactoe", 3, 3, 3, False


class ConnectFour(Game):
    """Connect Four: 6 rows x 7 columns, four in a row; action = column, row 0 is the top."""

    name, rows, cols, k, gravity = "connect_four", 6, 7, 4, True


GAMES = {"tictactoe": TicTacToe, "connect_four": ConnectFour}
#: Other spellings of the game names that :func:`make_game` accepts.
GAME_ALIASES = {"connect4": "connect_four", "connectfour": "connect_four", "tic_tac_toe": "tictactoe"}


def make_game(game: Any) -> Game:
    """A game from its name (``"tictactoe"``, ``"connect_four"`` or an alias such as ``"connect4"``) or a Game."""
    if isinstance(game, Game):
        return game
    if isinstance(game, str):
        game = GAME_ALIASES.get(game, game)
    if game not in GAMES:
        raise ValueError(f"game must be one of {', '.join(map(repr, GAMES))} or a Game; got {game!r}")
    return GAMES[game]()
