r"""The arithmetic of a synchronous round's mean, in one place for the driver and the workers.

``sync`` moves θ to :math:`\theta + \frac1N\sum_i(\theta_i - \theta)` and ``sync_grad`` applies
:math:`\bar g = \frac1N\sum_i g_i`. Both are computed the same way, whether the driver does it
(``reduce="flat"``) or merge tasks on the workers do the sums (``reduce="tree"``):

1. each slot's *term* in float64: :math:`\theta_i - \theta` (after :func:`~.compression.expand`
   for a compressed delta) for every floating-point array of θ, or :math:`g_i`;
2. the terms of ``fanin`` consecutive slots are added left to right (one group per leaf of the
   tree), then the group sums of ``fanin`` consecutive groups, and so on up to one sum :math:`S`
   (:func:`tree_levels` gives the grouping, :func:`add_terms` the addition of one group);
3. :math:`\theta + S/N` (or :math:`S/N`) cast back to the dtype; arrays that are not floating point
   (integer counters) keep θ's value.

Floating-point addition is not associative, so the grouping is part of the definition: a tree
round and a flat round with the same ``fanin`` add the same numbers in the same order and give
bitwise equal parameters. With N <= ``fanin`` there is one group, added left to right as
``np.mean(..., axis=0)`` does.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .compression import expand

Terms = dict[str, np.ndarray]


def delta_terms(theta: dict[str, np.ndarray], output: Any) -> Terms:
    r"""A ``sync`` slot's term: :math:`\theta_i - \theta` in float64 for every floating-point array of θ
    (``output`` is θ_i, or a compressed delta that :func:`~.compression.expand` turns into θ_i)."""
    theta_i = expand(output, theta)
    return {
        key: np.asarray(theta_i[key], dtype=np.float64) - np.asarray(value, dtype=np.float64)
        for key, value in theta.items()
        if np.issubdtype(np.asarray(value).dtype, np.floating)
    }


def gradient_terms(output: dict[str, np.ndarray]) -> Terms:
    """A ``sync_grad`` slot's term: its gradients in float64."""
    return {key: np.asarray(value, dtype=np.float64) for key, value in output.items()}


def add_terms(parts: Sequence[Terms]) -> Terms:
    """Key-wise sum of one group, added left to right: ``((p0 + p1) + p2) + ...`` (new arrays)."""
    total = {key: np.array(value, dtype=np.float64, copy=True) for key, value in parts[0].items()}
    for part in parts[1:]:
        for key in total:
            total[key] += part[key]
    return total


def tree_levels(n: int, fanin: int) -> list[list[range]]:
    """The grouping of ``n`` terms: ``levels[0]`` groups the terms, ``levels[k]`` the groups of level
    k − 1, ``fanin`` consecutive ones per group (the last may have fewer); the last level has one group.

    >>> [[list(g) for g in level] for level in tree_levels(5, 2)]
    [[[0, 1], [2, 3], [4]], [[0, 1], [2]], [[0, 1]]]
    """
    if n < 1 or fanin < 2:
        raise ValueError(f"a tree needs n >= 1 terms and fanin >= 2; got n={n}, fanin={fanin}")
    levels = []
    width = n
    while True:
        level = [range(start, min(start + fanin, width)) for start in range(0, width, fanin)]
        levels.append(level)
        if len(level) == 1:
            return levels
        width = len(level)


def tree_sum(terms: Sequence[Terms], fanin: int) -> Terms:
    """:math:`S`, the sum of ``terms`` grouped as :func:`tree_levels` says (what the merge tasks compute)."""
    nodes = list(terms)
    for level in tree_levels(len(nodes), fanin):
        nodes = [add_terms([nodes[i] for i in group]) for group in level]
    return nodes[0]


def finish_deltas(theta: dict[str, np.ndarray], total: Terms, n: int) -> dict[str, np.ndarray]:
    r""":math:`\theta + S/N` cast back to each array's dtype; other arrays keep θ's value (copied)."""
    merged = {}
    for key, value in theta.items():
        if key in total:
            merged[key] = (np.asarray(value, dtype=np.float64) + total[key] / n).astype(value.dtype)
        else:
            merged[key] = np.array(value, copy=True)
    return merged


def finish_gradients(total: Terms, n: int) -> dict[str, np.ndarray]:
    r""":math:`S/N` as float32 (the gradients' dtype in every drlkit agent)."""
    return {key: (value / n).astype(np.float32) for key, value in total.items()}
