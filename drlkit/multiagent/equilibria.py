"""Exact Nash equilibria of small two-player matrix games, by support enumeration.

A pair of mixed strategies :math:`(x, y)` -- probability vectors over the row
and the column player's actions -- is a *Nash equilibrium* when neither player
gains by deviating alone:

.. math::
    x^\\top A y \\ \\ge\\ e_i^\\top A y \\quad \\forall i, \\qquad
    x^\\top B y \\ \\ge\\ x^\\top B e_j \\quad \\forall j .

Equivalently every action a player uses (its *support*) is a best response to
the other's strategy, so a player's payoff is the same on all of them. For each
pair of supports :math:`I, J` of equal size we solve those indifference
conditions -- two small linear systems

.. math::
    \\sum_{j \\in J} A_{ij} y_j = v \\ (i \\in I), \\ \\sum_j y_j = 1; \\qquad
    \\sum_{i \\in I} B_{ij} x_i = u \\ (j \\in J), \\ \\sum_i x_i = 1

-- and keep the solutions that are probabilities and against which no action
outside the support does better (Nisan et al., *Algorithmic Game Theory*, 2007,
ch. 3). Arithmetic is in exact fractions, so the equilibria of integer games
come out as exact rationals (``3/4``, not ``0.7500000001``). The enumeration
covers every equilibrium of a *nondegenerate* game -- all the classic games in
:mod:`drlkit.envs.matrix_games`; a degenerate game (e.g. with a weakly dominated
action) may also have equilibria with supports of unequal sizes, which this
method does not list. Its cost grows as :math:`4^n`, so sizes are limited to 5x5.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..envs.matrix_games import MatrixGame, get_game

MAX_ACTIONS = 5


@dataclass(frozen=True)
class Equilibrium:
    """A Nash equilibrium: the players' mixed strategies and their expected payoffs (exact fractions)."""

    row: tuple[Fraction, ...]
    column: tuple[Fraction, ...]
    row_payoff: Fraction
    column_payoff: Fraction

    @property
    def is_pure(self) -> bool:
        return max(self.row) == 1 and max(self.column) == 1

    def as_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The two strategies as float arrays ``(n,)`` and ``(m,)``."""
        return np.array(self.row, dtype=float), np.array(self.column, dtype=float)

    def __str__(self) -> str:
        fmt = lambda v: "(" + ", ".join(str(p) for p in v) + ")"  # noqa: E731
        return f"row {fmt(self.row)}, column {fmt(self.column)} -> payoffs {self.row_payoff}, {self.column_payoff}"


def nash_equilibria(game: str | MatrixGame) -> list[Equilibrium]:
    """All Nash equilibria of a nondegenerate matrix game (see module docstring), pure ones first.

    ``game``: a name from :data:`drlkit.envs.matrix_games.GAMES` or a :class:`MatrixGame`
    with payoffs ``A, B`` of shape ``(n, m)``, ``n, m <= 5``.
    """
    game = get_game(game)
    n, m = game.shape
    if n > MAX_ACTIONS or m > MAX_ACTIONS:
        raise ValueError(
            f"nash_equilibria enumerates supports, up to {MAX_ACTIONS}x{MAX_ACTIONS} games; {game.name} is {n}x{m}"
        )
    A = [[Fraction(v).limit_denominator(10**6) for v in row] for row in game.A]
    B = [[Fraction(v).limit_denominator(10**6) for v in row] for row in game.B]
    found: list[Equilibrium] = []
    for k in range(1, min(n, m) + 1):
        for I in itertools.combinations(range(n), k):
            for J in itertools.combinations(range(m), k):
                # y on J makes the row player indifferent over I; x on I makes the column player indifferent over J.
                y_part = _indifferent([[A[i][j] for j in J] for i in I])
                x_part = _indifferent([[B[i][j] for i in I] for j in J])
                if y_part is None or x_part is None:
                    continue
                (y_sub, v), (x_sub, u) = y_part, x_part
                if min(y_sub) < 0 or min(x_sub) < 0:
                    continue
                x = [Fraction(0)] * n
                y = [Fraction(0)] * m
                for i, p in zip(I, x_sub):
                    x[i] = p
                for j, p in zip(J, y_sub):
                    y[j] = p
                row_values = [sum(A[i][j] * y[j] for j in range(m)) for i in range(n)]
                col_values = [sum(B[i][j] * x[i] for i in range(n)) for j in range(m)]
                if max(row_values) > v or max(col_values) > u:
                    continue  # an action outside the support does better
                eq = Equilibrium(tuple(x), tuple(y), v, u)
                if eq not in found:
                    found.append(eq)
    return found


def _indifferent(M: list[list[Fraction]]) -> tuple[list[Fraction], Fraction] | None:
    """Solve ``M p = v 1``, ``sum p = 1`` for the probabilities ``p (k,)`` and value ``v``; None if singular."""
    k = len(M)
    # Unknowns p_0..p_{k-1}, v. Rows: M p - v = 0 (k rows), sum p = 1.
    rows = [list(M[r]) + [Fraction(-1), Fraction(0)] for r in range(k)]
    rows.append([Fraction(1)] * k + [Fraction(0), Fraction(1)])
    solution = _solve(rows, k + 1)
    if solution is None:
        return None
    return solution[:k], solution[k]


def _solve(rows: list[list[Fraction]], n: int) -> list[Fraction] | None:
    """Gauss-Jordan elimination on an ``n x (n+1)`` augmented matrix of fractions; None if singular."""
    rows = [list(r) for r in rows]
    for col in range(n):
        pivot = next((r for r in range(col, n) if rows[r][col] != 0), None)
        if pivot is None:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [v / lead for v in rows[col]]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col])]
    return [rows[r][n] for r in range(n)]


def is_nash(game: str | MatrixGame, row: np.ndarray, column: np.ndarray, tol: float = 1e-9) -> bool:
    """Whether the mixed strategies ``row (n,)`` and ``column (m,)`` form a Nash equilibrium (up to ``tol``)."""
    game = get_game(game)
    x, y = np.asarray(row, dtype=float), np.asarray(column, dtype=float)
    if x.shape != (game.shape[0],) or y.shape != (game.shape[1],):
        raise ValueError(
            f"strategies must have shapes {(game.shape[0],)} and {(game.shape[1],)}; got {x.shape} and {y.shape}"
        )
    return bool((game.A @ y).max() <= x @ game.A @ y + tol and (x @ game.B).max() <= x @ game.B @ y + tol)
