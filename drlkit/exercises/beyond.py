r"""Checks for the exercises of notebook 11 (beyond one parameter server).

============================  ================================================
exercise                      the student writes
============================  ================================================
:func:`check_metropolis`      ``metropolis(adjacency)`` -> the ``(N, N)`` Metropolis mixing matrix,
                              :math:`W_{ij} = 1/(1+\max(d_i, d_j))` on edges, :math:`W_{ii} = 1 - \sum_{j\ne i} W_{ij}`
:func:`check_gossip_step`     ``gossip_step(x, W)`` -> every slot's new parameters
                              :math:`x_i \leftarrow \sum_j W_{ij} x_j`, ``x`` of shape ``(N, P)``
:func:`check_ssp_admission`   ``may_start(clocks, slot, s)`` -> True when ``clocks[slot]`` is at most
                              ``min(clocks) + s`` (stale-synchronous parallel)
============================  ================================================

Each check runs the student's function on a few small cases, compares with
:mod:`drlkit.distributed.mixing` / :mod:`drlkit.distributed.ssp`, and names the usual mistake.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..distributed.mixing import graph_adjacency, metropolis_weights
from ..distributed.ssp import admitted
from ._feedback import call_student, fail, student_check, succeed

__all__ = ["check_gossip_step", "check_metropolis", "check_ssp_admission"]


def _fmt(values: Any) -> str:
    return np.array2string(np.asarray(values, dtype=float), precision=3, suppress_small=True)


@student_check("metropolis")
def check_metropolis(metropolis: Callable[[np.ndarray], Any]) -> bool:
    """Check ``metropolis(adjacency)``: a symmetric 0/1 ``(N, N)`` matrix (zero diagonal) -> the
    Metropolis mixing matrix ``(N, N)``."""
    path = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    star = np.array([[0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]])
    cases = [path, star, graph_adjacency("ring", 5), graph_adjacency("torus", 6)]
    for adjacency in cases:
        expected = metropolis_weights(adjacency)
        got, error = call_student(metropolis, "metropolis", adjacency)
        if error:
            return fail(error)
        if got.shape != expected.shape:
            return fail(
                f"for a graph of {len(adjacency)} slots return an {expected.shape} matrix; got shape {got.shape}"
            )
        if np.allclose(got, expected, atol=1e-8):
            continue
        degree = adjacency.sum(axis=1)
        if np.allclose(np.diag(got), 0) or np.allclose(got.sum(axis=1), degree / (1 + degree.max())):
            return fail("the diagonal must take what the edges leave: W_ii = 1 - sum of row i's other entries.")
        if not np.allclose(got, got.T):
            return fail(
                "your matrix is not symmetric: use max(d_i, d_j), the larger degree of the two ends of an edge, "
                "so that W_ij = W_ji and every column sums to 1 too."
            )
        if not np.allclose(got.sum(axis=1), 1):
            return fail(f"every row must sum to 1; your row sums are {_fmt(got.sum(axis=1))}.")
        return fail(f"for the graph\n{adjacency}\nexpected\n{_fmt(expected)}\ngot\n{_fmt(got)}")
    return succeed("Metropolis weights: symmetric, doubly stochastic, positive exactly on the edges and the diagonal.")


@student_check("gossip_step")
def check_gossip_step(gossip_step: Callable[[np.ndarray, np.ndarray], Any]) -> bool:
    """Check ``gossip_step(x, W)``: slot parameters ``x (N, P)`` and a mixing matrix ``W (N, N)`` ->
    the parameters after one gossip step, ``(N, P)``."""
    rng = np.random.default_rng(11)
    w_path = metropolis_weights([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    cases = [
        (np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 3.0]]), w_path),
        (np.round(rng.normal(size=(5, 3)), 2), metropolis_weights(graph_adjacency("ring", 5))),
        (np.array([[2.0], [4.0]]), np.full((2, 2), 0.5)),
    ]
    for x, w in cases:
        expected = w @ x
        got, error = call_student(gossip_step, "gossip_step", x, w)
        if error:
            return fail(error)
        if got.shape != expected.shape:
            return fail(f"return one row per slot, shape {expected.shape}; got {got.shape}")
        if np.allclose(got, expected, atol=1e-8):
            continue
        if np.allclose(got, x):
            return fail("nothing changed: each slot's new row is sum_j W[i, j] * x[j], i.e. W @ x.")
        if np.allclose(got, np.broadcast_to(x.mean(axis=0), x.shape)):
            return fail("you averaged over all slots: gossip only mixes each slot with its neighbours, using W.")
        return fail(f"for x =\n{_fmt(x)}\nand W =\n{_fmt(w)}\nexpected\n{_fmt(expected)}\ngot\n{_fmt(got)}")
    return succeed("one gossip step: the slots' average is unchanged and they moved towards each other.")


@student_check("may_start")
def check_ssp_admission(may_start: Callable[[list[int], int, int], Any]) -> bool:
    """Check ``may_start(clocks, slot, s)``: the slots' clocks (results each has delivered), one slot
    and the staleness bound ``s >= 0`` -> True when that slot may start its next task."""
    cases = [
        ([0, 0, 0], 1, 0),
        ([1, 0, 0], 0, 0),
        ([3, 1, 2], 1, 0),
        ([3, 1, 2], 0, 1),
        ([3, 1, 2], 0, 2),
        ([3, 1, 2], 2, 1),
        ([5, 5], 0, 0),
        ([7, 2, 4], 0, 4),
    ]
    for clocks, slot, s in cases:
        expected = admitted(clocks, slot, s)
        try:
            got = may_start(list(clocks), slot, s)
        except Exception as exc:  # the student's code failed
            return fail(f"may_start({clocks}, {slot}, {s}) raised {type(exc).__name__}: {exc}")
        if not isinstance(got, bool | np.bool_):
            return fail(f"return True or False; may_start({clocks}, {slot}, {s}) returned {type(got).__name__}")
        if bool(got) == expected:
            continue
        if clocks[slot] < min(clocks) + s and not got:
            return fail(f"slot {slot} with clocks {clocks} and s = {s} is within the bound and may start.")
        if clocks[slot] == min(clocks) + s:
            return fail(
                f"with clocks {clocks} slot {slot} is exactly s = {s} ahead of the slowest: that is allowed "
                "(use <=, not <); s = 0 must let every slot of a finished round start."
            )
        return fail(f"may_start({clocks}, {slot}, {s}) should be {expected}: compare with min(clocks) + s.")
    return succeed("the SSP admission rule: s = 0 is a barrier every round, a large s never waits.")
