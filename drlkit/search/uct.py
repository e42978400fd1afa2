"""Plain UCT: Monte Carlo tree search with UCB1 selection and random rollouts.

Kocsis & Szepesvari (2006), "Bandit based Monte-Carlo planning"; Browne et al.
(2012), "A survey of Monte Carlo tree search methods".

Each node ``s`` keeps a visit count ``N(s)`` and a total value ``W(s)`` from
the point of view of the player who *moved into* ``s``. One simulation:

1. **Select**: from the root, while the node is fully expanded and not
   terminal, go to the child maximising UCB1

       UCB1(s, a) = W(s_a) / N(s_a) + c * sqrt( ln N(s) / N(s_a) ).

2. **Expand**: add one untried child.
3. **Rollout**: play uniformly random moves to the end; the result
   ``z`` in {+1, 0, -1} is the winner.
4. **Backup**: every node on the path gets ``N += 1`` and ``W += z * p``,
   where ``p`` is the player who moved into it (so each node's value is for
   the player choosing it).

The move played is the root child with the most visits.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np

from .._checks import check_number
from ..envs.games import GameState, make_game

__all__ = ["UCTNode", "UCT", "ucb1"]


def ucb1(w: float, n: int, n_parent: int, c: float) -> float:
    """UCB1 score ``w/n + c*sqrt(ln n_parent / n)`` (``inf`` for an unvisited child)."""
    if n == 0:
        return math.inf
    return w / n + c * math.sqrt(math.log(n_parent) / n)


class UCTNode:
    """A tree node: ``N``, ``W`` (for ``mover``, the player who moved into it), ``children`` by action, the
    ``untried`` actions, the ``action`` that led to it (-1 at the root), ``terminal`` (the winner +1/-1, 0 for
    a draw, None while the game goes on)."""

    __slots__ = ("parent", "action", "children", "untried", "N", "W", "terminal", "mover")

    def __init__(
        self, parent: UCTNode | None, action: int, mover: int, terminal: int | None, untried: list[int]
    ) -> None:
        self.parent, self.action, self.mover, self.terminal = parent, action, mover, terminal
        self.children: dict[int, UCTNode] = {}
        self.untried = untried
        self.N = 0
        self.W = 0.0

    def q(self) -> float:
        """Mean value for the player who moved into this node (0 if unvisited)."""
        return self.W / self.N if self.N else 0.0


class UCT:
    """UCT search on a :class:`~drlkit.envs.games.Game`.

    Args:
        game: ``"tictactoe"``, ``"connect_four"`` or a Game.
        n_simulations: simulations per move, >= 1.
        c: exploration constant of UCB1, >= 0 (``sqrt(2)`` is the textbook value for rewards in [0, 1];
           results here are in [-1, 1]).
        seed: seed of the rollout / tie-break generators.

    The tree holds statistics only; positions are replayed along the path on the game's padded plain-list board
    (:meth:`~drlkit.envs.games.Game.fast_board`), and a move's win test looks only at the lines through it.
    """

    def __init__(
        self, game: Any = "tictactoe", n_simulations: int = 1000, c: float = math.sqrt(2), seed: int | None = 0
    ) -> None:
        self.game = make_game(game)
        self.n_simulations = check_number("n_simulations", n_simulations, low=1, integer=True)
        self.c = check_number("c", c, low=0)
        self.rng = np.random.default_rng(seed)
        self._random = random.Random(seed)
        self.root: UCTNode | None = None

    def _check_state(self, state: Any) -> GameState:
        if not isinstance(state, GameState):
            raise TypeError(f"state must be a GameState (use game.from_board(board)), got {type(state).__name__}")
        if state.board.shape != (self.game.rows, self.game.cols):
            raise ValueError(
                f"state board has shape {state.board.shape}, {self.game.name} needs "
                f"({self.game.rows}, {self.game.cols})"
            )
        if self.game.winner(state) is not None:
            raise ValueError("the game is over in this state: there is no move to search")
        return state

    def search(self, state: GameState, n_simulations: int | None = None) -> np.ndarray:
        """Run the simulations from ``state``; return root visit counts ``(n_actions,)`` int64."""
        state = self._check_state(state)
        n = (
            self.n_simulations
            if n_simulations is None
            else check_number("n_simulations", n_simulations, low=1, integer=True)
        )
        game, c = self.game, self.c
        rand = self._random.random
        gravity, W, index, fast_wins, playout = (
            game.gravity,
            game.fast_width,
            game.fast_index,
            game.fast_wins,
            game.fast_playout,
        )
        root_cells, root_tops = game.fast_board(state)
        root_empty = root_cells.count(0) - (game.fast_size - len(index))  # empty board cells
        sqrt, log = math.sqrt, math.log

        def legal(cells: list[int], tops: list[int]) -> list[int]:
            if gravity:
                moves = [a for a in range(game.cols) if tops[a] >= W]
            else:
                moves = [a for a in range(game.n_actions) if cells[index[a]] == 0]
            return moves

        root = self.root = UCTNode(None, -1, -state.player, None, legal(root_cells, root_tops))
        for _ in range(n):
            node = root
            cells = root_cells[:]
            tops = root_tops[:] if gravity else root_tops
            player = state.player
            empty = root_empty
            # 1. select: descend by UCB1 while every move of the node has a child, replaying the moves
            while not node.untried and node.terminal is None:
                cl = c * sqrt(log(node.N))
                best, best_score = node, -math.inf
                for child in node.children.values():
                    cn = child.N
                    score = child.W / cn + cl / sqrt(cn)
                    if score > best_score:
                        best, best_score = child, score
                node = best
                a = node.action
                if gravity:
                    i = tops[a]
                    tops[a] = i - W
                else:
                    i = index[a]
                cells[i] = player
                player = -player
                empty -= 1
            # 2. expand one untried move
            if node.untried and node.terminal is None:
                untried = node.untried  # a random untried move: swap it to the end and pop it
                j = int(rand() * len(untried))
                a = untried[j]
                untried[j] = untried[-1]
                untried.pop()
                if gravity:
                    i = tops[a]
                    tops[a] = i - W
                else:
                    i = index[a]
                cells[i] = player
                empty -= 1
                terminal = player if fast_wins(cells, i, player) else (0 if empty == 0 else None)
                child = UCTNode(node, a, player, terminal, [] if terminal is not None else legal(cells, tops))
                node.children[a] = child
                node = child
                player = -player
            # 3. roll out to the end of the game
            z = node.terminal if node.terminal is not None else playout(cells, tops, player, rand)
            # 4. back up: N += 1 and W += z * (player who moved into the node) along the path
            back: UCTNode | None = node
            while back is not None:
                back.N += 1
                back.W += z * back.mover
                back = back.parent
        counts = np.zeros(game.n_actions, dtype=np.int64)
        for a, child in root.children.items():
            counts[a] = child.N
        return counts

    def act(self, state: GameState) -> int:
        """The most visited root action after a search (ties broken at random)."""
        counts = self.search(state)
        best = np.flatnonzero(counts == counts.max())
        return int(best[self.rng.integers(len(best))])

    def statistics(self, path: Any = ()) -> tuple[np.ndarray, np.ndarray]:
        """Visit counts ``(n_actions,)`` and mean values Q ``(n_actions,)`` (for the player to move there; nan if
        unvisited) of the children of the node reached from the last search's root by the actions ``path``."""
        if self.root is None:
            raise RuntimeError("call search() first")
        node = self.root
        for i, a in enumerate(path):
            if a not in node.children:
                raise ValueError(
                    f"path {list(path)!r}: action {a!r} at depth {i} is not in the tree (its node has "
                    f"children {sorted(node.children)})"
                )
            node = node.children[a]
        counts = np.zeros(self.game.n_actions, dtype=np.int64)
        q = np.full(self.game.n_actions, np.nan)
        for a, child in node.children.items():
            counts[a] = child.N
            q[a] = child.q()
        return counts, q

    def root_values(self) -> np.ndarray:
        """Mean value Q ``(n_actions,)`` of each root child for the player at the root (nan if unvisited)."""
        if self.root is None:
            raise RuntimeError("call search() first")
        q = np.full(self.game.n_actions, np.nan)
        for a, child in self.root.children.items():
            q[a] = child.q()
        return q
