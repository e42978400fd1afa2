r"""Exercises of the tree-search notebook: the UCB1 score that selects a child, and the backup of a result.

``check_ucb_score(fn)``: ``fn(w, n, n_parent, c) -> float``, the UCB1 score
:math:`w/n + c\sqrt{\ln n_{parent} / n}` of a child with total value ``w`` over ``n`` visits, and
``inf`` for an unvisited child (``n = 0``).
``check_backup(fn)``: ``fn(N (L,), W (L,), movers (L,), z) -> (N', W')``: the visit counts and total values of the
nodes on a path root -> leaf after a simulation that ended with winner ``z`` (+1, -1, 0); ``movers[i]`` is the
player who moved *into* node ``i``, and its value is kept from that player's point of view:
:math:`N' = N + 1`, :math:`W' = W + z \cdot mover`.
Answers are compared with :func:`drlkit.search.ucb1` and with a search of :class:`drlkit.search.UCT`.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..search.uct import ucb1
from ._feedback import call_student, fail, student_check, succeed

# (w, n, n_parent, c): a child with a good mean, a poor one, a rarely visited one, c = 0
_UCB_CASES = [(3.0, 4, 10, 2.0), (-2.0, 5, 30, 1.4), (1.0, 1, 50, 1.0), (6.0, 8, 8, 0.0), (0.0, 3, 3, 1.0)]


@student_check("ucb_score")
def check_ucb_score(ucb_score: Callable[..., Any]) -> bool:
    out, problem = call_student(
        ucb_score,
        "ucb_score",
        1.0,
        0,
        10,
        1.0,
        zero_division="an unvisited child (n = 0) must score math.inf, before any division",
    )
    if problem:
        return fail(problem)
    if not (out.shape == () and math.isinf(float(out)) and float(out) > 0):
        return fail(f"an unvisited child (n = 0) must score math.inf so that it is tried first; got {out}.")
    for w, n, n_parent, c in _UCB_CASES:
        out, problem = call_student(ucb_score, "ucb_score", w, n, n_parent, c)
        if problem:
            return fail(problem)
        if out.shape != ():
            return fail(f"return one number (a float), got an array of shape {out.shape}.")
        got, expected = float(out), ucb1(w, n, n_parent, c)
        if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            continue
        case = f"ucb_score(w={w}, n={n}, n_parent={n_parent}, c={c})"
        if math.isclose(got, w / n + c * math.log(n_parent) / n, rel_tol=1e-9):
            return fail(f"{case}: take the square root of ln(n_parent) / n.")
        if math.isclose(got, w / n + c * math.sqrt(n_parent / n), rel_tol=1e-9):
            return fail(f"{case}: the bonus uses the natural log of the parent's visits, ln(n_parent).")
        if math.isclose(got, w + c * math.sqrt(math.log(n_parent) / n), rel_tol=1e-9):
            return fail(f"{case}: the first term is the mean value w / n, not the total w.")
        if n_parent > 1 and math.isclose(got, w / n + c * math.sqrt(math.log(n) / n_parent), rel_tol=1e-9):
            return fail(f"{case}: n and n_parent are swapped: sqrt(ln(n_parent) / n).")
        return fail(f"{case} should be {expected:.4f}, not {got:.4f}.")
    return succeed("UCB1 = mean value + c·sqrt(ln N(parent) / N(child)), and untried children first.")


def _expected_backup(N: np.ndarray, W: np.ndarray, movers: np.ndarray, z: int) -> tuple[np.ndarray, np.ndarray]:
    return N + 1, W + z * movers


@student_check("backup")
def check_backup(backup: Callable[..., Any]) -> bool:
    # a path of four nodes from the root: the root (entered by -1, i.e. +1 is to move there), then +1, -1, +1 moved
    N = np.array([10, 6, 3, 1])
    W = np.array([-2.0, 3.0, -1.0, 0.0])
    movers = np.array([-1, 1, -1, 1])
    for z in (1, -1, 0):
        out, problem = call_student(backup, "backup", N, W, movers, z)
        if problem:
            return fail(problem)
        if out.shape != (2, len(N)):
            return fail(f"return the pair (N, W), each of shape ({len(N)},); got an array of shape {out.shape}.")
        n_new, w_new = out
        eN, eW = _expected_backup(N, W, movers, z)
        if not np.allclose(n_new, eN):
            return fail(
                f"every node on the path gets one more visit: N should become {eN.tolist()}, not {n_new.tolist()}."
            )
        if np.allclose(w_new, eW):
            continue
        if np.allclose(w_new, W + z):
            return fail(
                f"z = {z:+d} is the winner; each node's value is for the player who moved into it, so add "
                "z * mover (a win for that player, a loss for the other)."
            )
        if np.allclose(w_new, W - z * movers):
            return fail(f"the sign is reversed for z = {z:+d}: a node whose mover won gets +1.")
        return fail(f"with winner z = {z:+d}, W should become {eW.tolist()}, not {w_new.tolist()}.")
    return succeed("each node on the path: N += 1 and W += z · (player who moved into it).")


def backup_path(uct: Any, node: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(N (L,), W (L,), movers (L,))`` along the path from the root of ``uct``'s last search to ``node``."""
    path = []
    while node is not None:
        path.append(node)
        node = node.parent
    path.reverse()
    return (
        np.array([n.N for n in path]),
        np.array([n.W for n in path], dtype=float),
        np.array([n.mover for n in path]),
    )
