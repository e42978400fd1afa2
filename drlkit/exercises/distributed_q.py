r"""Exercises of notebook 06 (distributed Q-learning) and their checks.

Each ``check_*`` function calls the student's function on small cases whose
answers are known, prints what is wrong -- naming the likely mistake when the
answer matches a common one -- or a success message, and returns ``True``
when everything is right.

1. :func:`check_average_merge` -- ``average_merge(tables) -> Q``: the mean of
   the workers' tables, :math:`\frac1K \sum_k Q_k`.
2. :func:`check_visit_weighted_merge` -- ``visit_weighted_merge(tables, visits) -> Q``:
   :math:`\sum_k n_k Q_k / \sum_k n_k` per pair, the broadcast value where nobody visited.
3. :func:`check_bytes_per_run` -- ``bytes_per_run(n_workers, n_states, n_actions,
   episodes, merge_every) -> int``: the payload of a run with ``merge="average"``.

``tables`` and ``visits`` have shape ``(K, S, A)``: one table (one set of visit
counts) per worker.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..distributed.q_learning import merge_q_tables
from ._feedback import fail, function_name, student_check, succeed

# Three workers, four states, two actions: small enough to print.
_TABLES = np.array(
    [
        [[0.0, 1.0], [2.0, 0.5], [1.0, 1.0], [0.2, 0.4]],
        [[1.0, 1.0], [0.0, 0.5], [4.0, 1.0], [0.2, 0.1]],
        [[0.5, 1.0], [1.0, 0.5], [1.0, 1.0], [0.8, 0.1]],
    ]
)
# Visits for the same three workers. Pair (0, 1): nobody (every table still holds
# the broadcast value 1.0); pair (1, 1): nobody either (0.5); pair (2, 0): only worker 1.
_VISITS = np.array(
    [
        [[1, 0], [3, 0], [0, 0], [2, 5]],
        [[1, 0], [1, 0], [4, 0], [2, 0]],
        [[2, 0], [0, 0], [0, 0], [4, 3]],
    ]
)


@student_check("average_merge")
def check_average_merge(average_merge: Callable[[np.ndarray], Any]) -> bool:
    """Check ``average_merge(tables)``: shape ``(S, A)``, the mean over the workers (axis 0)."""
    expected = merge_q_tables(_TABLES, "average")
    merged = _call(average_merge, _TABLES)
    if isinstance(merged, str):
        return fail(merged)
    K, S, A = _TABLES.shape
    if merged.shape != (S, A):
        hint = {
            (K, A): " -- that is what averaging over the states (axis=1) gives",
            (K, S): " -- that is what averaging over the actions (axis=2) gives",
            (): " -- a single number: average over the workers only, axis=0",
        }.get(merged.shape, "")
        return fail(
            f"for tables of shape (K, S, A) = {_TABLES.shape} the merged table must have shape "
            f"(S, A) = {(S, A)}, got {merged.shape}{hint}"
        )
    if np.allclose(merged, _TABLES.sum(axis=0)):
        return fail(f"your result is the sum of the {K} tables; divide by the number of workers K = {K}")
    for k in range(K):
        if np.allclose(merged, _TABLES[k]):
            return fail(f"your result is worker {k}'s table alone; the merge averages all {K} tables")
    if not np.allclose(merged, expected):
        return fail(_first_difference(merged, expected, "the mean over workers of", False))
    single = _call(average_merge, _TABLES[:1])
    if isinstance(single, str) or not np.allclose(single, _TABLES[0]):
        return fail("with a single worker (K = 1) the merge must return its table unchanged")
    return succeed("average_merge returns the mean of the workers' tables.")


@student_check("visit_weighted_merge")
def check_visit_weighted_merge(visit_weighted_merge: Callable[[np.ndarray, np.ndarray], Any]) -> bool:
    """Check ``visit_weighted_merge(tables, visits)`` on pairs visited by several workers, one, or none."""
    expected = merge_q_tables(_TABLES, "visits", _VISITS)
    merged = _call(visit_weighted_merge, _TABLES, _VISITS)
    if isinstance(merged, str):
        return fail(merged)
    K, S, A = _TABLES.shape
    if merged.shape != (S, A):
        return fail(
            f"the merged table must have shape (S, A) = {(S, A)}, got {merged.shape}: sum over the workers, axis=0"
        )
    total = _VISITS.sum(axis=0)
    unvisited = [(s, a) for s, a in zip(*np.nonzero(total == 0))]
    for s, a in unvisited:
        if not np.isclose(merged[s, a], expected[s, a]):
            return fail(
                f"no worker visited pair (state {s}, action {a}), so every table still holds the broadcast "
                f"value {expected[s, a]:g} and the merge must keep it; you returned {merged[s, a]:g}"
                + (" (a division by zero visits?)" if not np.isfinite(merged[s, a]) or merged[s, a] == 0 else "")
            )
    visited = total > 0
    if np.allclose(merged[visited], _TABLES.mean(axis=0)[visited]):
        return fail("your result is the plain average; weight each worker's table by its visit counts")
    if np.allclose(merged[visited], (_VISITS * _TABLES).sum(axis=0)[visited]):
        return fail(
            "you summed visits * tables but did not divide by the total visits of each pair, sum_k visits[k, s, a]"
        )
    if np.allclose(merged[visited], (_VISITS * _TABLES).sum(axis=0)[visited] / _VISITS.sum()):
        return fail("divide by the visits of each pair, visits.sum(axis=0), not by all visits, visits.sum()")
    if not np.allclose(merged, expected):
        return fail(_first_difference(merged, expected, "the visit-weighted mean of", True))
    return succeed(
        "visit_weighted_merge weighs each table by its visits and keeps the broadcast value where nobody visited."
    )


@student_check("bytes_per_run")
def check_bytes_per_run(bytes_per_run: Callable[[int, int, int, int, int], Any]) -> bool:
    """Check ``bytes_per_run(n_workers, n_states, n_actions, episodes, merge_every)`` for ``merge="average"``.

    Per merge: the merged table to each of the ``K`` workers, and from each worker
    its table plus the return (float64) and length (int64) of each episode of the round.
    """
    cases = [(2, 16, 4, 100, 10), (3, 16, 4, 100, 30), (1, 9, 4, 5, 1), (4, 64, 4, 50, 50)]
    for K, S, A, E, m in cases:
        merges = -(-E // m)
        table = S * A * 8
        expected = merges * K * table * 2 + K * E * 16
        try:
            answer = bytes_per_run(K, S, A, E, m)
        except NotImplementedError:
            return fail("bytes_per_run still raises NotImplementedError: replace the stub by your formula")
        except Exception as error:  # the student's code: report any failure plainly
            return fail(f"bytes_per_run({K}, {S}, {A}, {E}, {m}) raised {type(error).__name__}: {error}")
        if not isinstance(answer, (int, np.integer, float)) or not np.isfinite(answer):
            return fail(f"bytes_per_run must return a number of bytes; it returned {answer!r}")
        if answer == expected:
            continue
        where = f"with K={K} workers, S={S}, A={A}, {E} episodes, merge_every={m}"
        if answer == (E // m) * K * table * 2 + K * E * 16 and E % m:
            return fail(
                f"{where}: {E} episodes in rounds of {m} make {merges} merges (the last round is "
                f"shorter but still ends with a merge): use ceil(E / merge_every), not E // merge_every"
            )
        if answer == merges * K * table + K * E * 16:
            return fail(
                f"{where}: you count the tables in one direction only; each merge sends K tables "
                "up (workers to driver) and the merged table down to each of the K workers"
            )
        if answer == merges * (K + 1) * table + K * E * 16:
            return fail(f"{where}: the merged table goes down to each of the K = {K} workers, not once")
        if answer == merges * K * table * 2:
            return fail(f"{where}: each reply also carries the return and the length of every episode (8 bytes each)")
        return fail(f"{where} the payload is {expected} bytes, your function returned {answer}")
    return succeed("bytes_per_run matches what drlkit.distributed.q_learning records in total_bytes.")


# ------------------------------------------------------------------ helpers
def _call(function: Callable[..., Any], *arrays: np.ndarray) -> np.ndarray | str:
    """The student's result as a float array, or a message saying what went wrong."""
    copies = [a.copy() for a in arrays]
    name = function_name(function)
    try:
        result = function(*copies)
    except NotImplementedError:
        return f"{name} still raises NotImplementedError: replace the stub by your code"
    except Exception as error:  # the student's code: report any failure plainly
        return f"{name} raised {type(error).__name__}: {error}"
    if result is None:
        return f"{name} returned None: did you forget the return statement?"
    if any(not np.array_equal(c, a) for c, a in zip(copies, arrays)):
        return f"{name} changed its input arrays; compute a new table instead"
    try:
        return np.asarray(result, dtype=float)
    except (TypeError, ValueError):
        return f"{name} must return an array of numbers; it returned {type(result).__name__}"


def _first_difference(merged: np.ndarray, expected: np.ndarray, what: str, with_visits: bool) -> str:
    s, a = np.argwhere(~np.isclose(merged, expected))[0]
    values = ", ".join(f"{v:g}" for v in _TABLES[:, s, a])
    visits = f" with visits {_VISITS[:, s, a].tolist()}" if with_visits else ""
    return (
        f"Q[{s}, {a}] should be {expected[s, a]:.4g} ({what} {values}{visits}), "
        f"but your function returned {merged[s, a]:.4g}"
    )


__all__ = ["check_average_merge", "check_bytes_per_run", "check_visit_weighted_merge"]
