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
from typing import Any

import numpy as np

from .._checks import check_number
from ..envs.games import Game, GameState, make_game

__all__ = ["UCTNode", "UCT", "ucb1"]


def ucb1(w: float, n: int, n_parent: int, c: float) -> float:
    """UCB1 score ``w/n + c*sqrt(ln n_parent / n)`` (``inf`` for an unvisited child)."""
    if n == 0:
        return math.inf
    return w / n + c * math.sqrt(math.log(n_parent) / n)


class UCTNode:
    """A tree node: ``state``, ``N``, ``W`` (for the player who moved into it), ``children``."""

    __slots__ = ("state", "parent", "action", "children", "untried", "N", "W", "terminal")

    def __init__(self, game: Game, state: GameState, parent: UCTNode | None = None,
                 action: int | None = None, rng: np.random.Generator | None = None) -> None:
        self.state, self.parent, self.action = state, parent, action
        self.children: dict[int, UCTNode] = {}
        self.terminal = game.winner(state)
        untried = game.legal_actions(state).tolist()
        if rng is not None:
            rng.shuffle(untried)
        self.untried: list[int] = untried
        self.N = 0
        self.W = 0.0

    @property
    def mover(self) -> int:
        """The player who moved into this node (-state.player)."""
        return -self.state.player

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
        seed: seed of the rollout / tie-break generator.
    """

    def __init__(self, game: Any = "tictactoe", n_simulations: int = 1000, c: float = math.sqrt(2),
                 seed: int | None = 0) -> None:
        self.game = make_game(game)
        self.n_simulations = check_number("n_simulations", n_simulations, low=1, integer=True)
        self.c = check_number("c", c, low=0)
        self.rng = np.random.default_rng(seed)
        self.root: UCTNode | None = None

    def _check_state(self, state: Any) -> GameState:
        if not isinstance(state, GameState):
            raise TypeError(f"state must be a GameState (use game.from_board(board)), got {type(state).__name__}")
        if state.board.shape != (self.game.rows, self.game.cols):
            raise ValueError(f"state board has shape {state.board.shape}, {self.game.name} needs "
                             f"({self.game.rows}, {self.game.cols})")
        if self.game.winner(state) is not None:
            raise ValueError("the game is over in this state: there is no move to search")
        return state

    def search(self, state: GameState, n_simulations: int | None = None) -> np.ndarray:
        """Run the simulations from ``state``; return root visit counts ``(n_actions,)`` int64."""
        state = self._check_state(state)
        n = self.n_simulations if n_simulations is None else check_number(
            "n_simulations", n_simulations, low=1, integer=True)
        game, rng, c = self.game, self.rng, self.c
        root = self.root = UCTNode(game, state, rng=rng)
        for _ in range(n):
            node = root
            # 1. select
            while not node.untried and node.terminal is None:
                log_n = math.log(node.N)
                best, best_score = None, -math.inf
                for child in node.children.values():
                    score = child.W / child.N + c * math.sqrt(log_n / child.N)
                    if score > best_score:
                        best, best_score = child, score
                node = best  # type: ignore[assignment]
            # 2. expand
            if node.untried and node.terminal is None:
                a = node.untried.pop()
                child = UCTNode(game, game.next_state(node.state, a), node, a, rng)
                node.children[a] = child
                node = child
            # 3. rollout
            z = node.terminal if node.terminal is not None else game.random_playout(node.state, rng)
            # 4. backup
            up: UCTNode | None = node
            while up is not None:
                up.N += 1
                up.W += z * up.mover
                up = up.parent
        counts = np.zeros(game.n_actions, dtype=np.int64)
        for a, child in root.children.items():
            counts[a] = child.N
        return counts

    def act(self, state: GameState) -> int:
        """The most visited root action after a search (ties broken at random)."""
        counts = self.search(state)
        best = np.flatnonzero(counts == counts.max())
        return int(best[self.rng.integers(len(best))])

    def root_values(self) -> np.ndarray:
        """Mean value Q ``(n_actions,)`` of each root child for the player at the root (nan if unvisited)."""
        if self.root is None:
            raise RuntimeError("call search() first")
        q = np.full(self.game.n_actions, np.nan)
        for a, child in self.root.children.items():
            q[a] = child.q()
        return q
