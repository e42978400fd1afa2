"""PUCT: Monte Carlo tree search guided by a policy-value function.

Silver et al. (2017), "Mastering the game of Go without human knowledge";
Silver et al. (2018), "A general reinforcement learning algorithm that masters
chess, shogi and Go through self-play".

Statistics live on the edges ``(s, a)``: visit count ``N(s, a)``, total value
``W(s, a)`` for the player to move in ``s``, mean ``Q = W / N`` (0 when
unvisited) and prior ``P(s, a)`` from the network. One simulation descends
from the root choosing

    a* = argmax_a  Q(s, a) + c_puct * P(s, a) * sqrt(sum_b N(s, b)) / (1 + N(s, a))

(ties: lowest action index) until it reaches a position not yet in the tree.
That leaf is evaluated once, ``(p, v) = f(canonical(leaf))`` with ``v`` the
value for the leaf's mover (the game result if the leaf is terminal), and the
backup adds ``-v`` to the edge entering the leaf, ``+v`` to the one above, and
so on, alternating sign with the mover.

At the root, exploration noise ``P <- (1 - eps) P + eps * Dir(alpha)`` on the
legal actions; the move is sampled from ``pi(a) ~ N(root, a) ** (1 / T)``
(``T -> 0``: the most visited action).

``evaluate`` maps a batch of canonical boards ``(B, 2, rows, cols)`` float32
to ``(priors (B, n_actions), values (B,))``; priors on illegal actions are
masked and the rest renormalised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._checks import check_number
from ..envs.games import Game, GameState, make_game

__all__ = ["PUCT", "PUCTNode", "puct_scores", "visit_policy", "uniform_evaluator"]

Evaluator = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def puct_scores(P: np.ndarray, N: np.ndarray, W: np.ndarray, c_puct: float) -> np.ndarray:
    """``Q + c_puct * P * sqrt(sum N) / (1 + N)`` for arrays ``(n_actions,)``; ``Q = 0`` where ``N = 0``."""
    q = np.divide(W, N, out=np.zeros_like(W, dtype=float), where=N > 0)
    return q + c_puct * P * np.sqrt(N.sum()) / (1.0 + N)


def visit_policy(counts: np.ndarray, temperature: float) -> np.ndarray:
    """Move distribution ``pi ~ counts ** (1/T)`` ``(n_actions,)``; ``T = 0`` puts all mass on the argmax."""
    counts = np.asarray(counts, dtype=float)
    check_number("temperature", temperature, low=0)
    if counts.sum() <= 0:
        raise ValueError("counts must contain at least one visit")
    if temperature == 0:
        pi = np.zeros_like(counts)
        pi[np.argmax(counts)] = 1.0
        return pi
    x = np.log(np.maximum(counts, 1e-300)) / temperature
    x[counts == 0] = -np.inf
    x = np.exp(x - x.max())
    return x / x.sum()


def uniform_evaluator(game: Game) -> Evaluator:
    """Uniform priors and value 0: PUCT then behaves like a UCT without rollouts."""

    def f(boards: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b = len(boards)
        return np.full((b, game.n_actions), 1.0 / game.n_actions), np.zeros(b)

    return f


class PUCTNode:
    """Edge statistics ``P, N, W`` ``(n_actions,)`` of one expanded position, plus its children."""

    __slots__ = ("state", "P", "N", "W", "children", "legal", "terminal")

    def __init__(self, state: GameState, priors: np.ndarray, legal: np.ndarray, terminal: float | None):
        self.state, self.legal, self.terminal = state, legal, terminal
        self.P = priors
        self.N = np.zeros(len(priors), dtype=np.int64)
        self.W = np.zeros(len(priors), dtype=float)
        self.children: dict[int, PUCTNode] = {}


class PUCT:
    """PUCT search with a policy-value evaluator.

    Args:
        game: ``"tictactoe"``, ``"connect_four"`` or a Game.
        evaluate: policy-value function on canonical boards (see module docstring); default uniform.
        n_simulations: simulations per move, >= 1.
        c_puct: exploration weight, >= 0.
        dirichlet_alpha: Dirichlet concentration at the root, > 0.
        dirichlet_eps: weight of the root noise, in [0, 1] (0: no noise, for evaluation).
        seed: seed of the noise and move sampling.
    """

    def __init__(
        self,
        game: Any = "connect_four",
        evaluate: Evaluator | None = None,
        n_simulations: int = 100,
        c_puct: float = 1.5,
        dirichlet_alpha: float = 1.0,
        dirichlet_eps: float = 0.0,
        seed: int | None = 0,
    ) -> None:
        self.game = make_game(game)
        if evaluate is not None and not callable(evaluate):
            raise TypeError(f"evaluate must be callable(boards) -> (priors, values), got {type(evaluate).__name__}")
        self.evaluate = evaluate or uniform_evaluator(self.game)
        self.n_simulations = check_number("n_simulations", n_simulations, low=1, integer=True)
        self.c_puct = check_number("c_puct", c_puct, low=0)
        self.dirichlet_alpha = check_number("dirichlet_alpha", dirichlet_alpha, low=0, low_open=True)
        self.dirichlet_eps = check_number("dirichlet_eps", dirichlet_eps, low=0, high=1)
        self.rng = np.random.default_rng(seed)
        self.root: PUCTNode | None = None

    def _expand(self, state: GameState) -> tuple[PUCTNode, float]:
        game = self.game
        t = game.terminal_value(state)
        legal = game.legal_mask(state)
        if t is not None:
            return PUCTNode(state, np.zeros(game.n_actions), legal & False, t), t
        priors, values = self.evaluate(game.canonical(state)[None])
        p = np.asarray(priors, dtype=float).reshape(-1)
        if p.shape != (game.n_actions,):
            raise ValueError(f"evaluate returned priors of shape {np.shape(priors)}, expected (1, {game.n_actions})")
        p = np.where(legal, np.maximum(p, 0), 0)
        p = p / p.sum() if p.sum() > 0 else legal / legal.sum()
        return PUCTNode(state, p, legal, None), float(np.asarray(values).reshape(-1)[0])

    def search(self, state: GameState, n_simulations: int | None = None) -> np.ndarray:
        """Run the simulations from ``state``; return root visit counts ``(n_actions,)``."""
        if not isinstance(state, GameState):
            raise TypeError(f"state must be a GameState (use game.from_board(board)), got {type(state).__name__}")
        if self.game.winner(state) is not None:
            raise ValueError("the game is over in this state: there is no move to search")
        n = (
            self.n_simulations
            if n_simulations is None
            else check_number("n_simulations", n_simulations, low=1, integer=True)
        )
        root, _ = self._expand(state)
        if self.dirichlet_eps > 0:
            legal = np.flatnonzero(root.legal)
            noise = self.rng.dirichlet([self.dirichlet_alpha] * len(legal))
            root.P = root.P.copy()
            root.P[legal] = (1 - self.dirichlet_eps) * root.P[legal] + self.dirichlet_eps * noise
        self.root = root
        for _ in range(n):
            node, path = root, []
            while True:
                scores = puct_scores(node.P, node.N, node.W, self.c_puct)
                scores[~node.legal] = -np.inf
                a = int(np.argmax(scores))
                path.append((node, a))
                child = node.children.get(a)
                if child is None:
                    child, v = self._expand(self.game.next_state(node.state, a))
                    node.children[a] = child
                    break
                if child.terminal is not None:
                    v = child.terminal
                    break
                node = child
            # v is for the mover at the leaf; the edge into it belongs to the other player
            for parent, a in reversed(path):
                v = -v
                parent.N[a] += 1
                parent.W[a] += v
        return root.N.copy()

    def act(self, state: GameState, temperature: float = 0.0) -> int:
        """Search, then sample from ``visit_policy(counts, temperature)``."""
        pi = visit_policy(self.search(state), temperature)
        return int(self.rng.choice(len(pi), p=pi))
