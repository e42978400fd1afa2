r"""Communication graphs and mixing matrices for decentralised (gossip) averaging.

N worker slots sit on an undirected graph. One gossip step replaces every slot's
parameters by a weighted mean of its own and its neighbours':

.. math:: x_i \leftarrow \sum_j W_{ij}\, x_j, \qquad W_{ij} > 0 \text{ only if } i = j \text{ or } i \sim j .

With W symmetric and doubly stochastic (rows and columns sum to 1) the average
:math:`\bar x` never changes and the slots converge to it: the *consensus
distance* :math:`\frac1N\sum_i \lVert x_i - \bar x\rVert^2` shrinks at least by
:math:`\lambda_2^2` per step, where :math:`\lambda_2 = \max(|\lambda_2(W)|, |\lambda_N(W)|)`
is the second largest eigenvalue modulus; :math:`1 - \lambda_2` is the *spectral gap*
(Boyd et al., "Randomized gossip algorithms", 2006; Xiao & Boyd, "Fast linear
iterations for distributed averaging", 2004).

Metropolis(-Hastings) weights make any graph's W symmetric and doubly stochastic:

.. math:: W_{ij} = \frac{1}{1 + \max(d_i, d_j)} \;(i \sim j), \qquad W_{ii} = 1 - \sum_{j \ne i} W_{ij} .

Graphs: ``"complete"`` (with uniform weights 1/N this is exact averaging, the
synchronous parameter server), ``"ring"``, ``"torus"`` (a 2-D grid wrapped around,
rows x cols = N) and ``"random_regular"`` (every slot has ``degree`` random neighbours).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._checks import check_number

#: Graph names :func:`graph_adjacency` knows.
GRAPHS = ("complete", "ring", "torus", "random_regular")


def graph_adjacency(name: str, n: int, degree: int = 3, seed: int = 0) -> np.ndarray:
    """The ``(n, n)`` 0/1 adjacency matrix (symmetric, zero diagonal) of the graph ``name`` on ``n`` slots."""
    n = check_number("n_workers", n, low=1, integer=True)
    if name not in GRAPHS:
        raise ValueError(f"graph must be one of {', '.join(map(repr, GRAPHS))} or an (n, n) matrix; got {name!r}")
    adjacency = np.zeros((n, n), dtype=np.int64)
    if name == "complete":
        adjacency[:] = 1
    elif name == "ring":
        for i in range(n):
            adjacency[i, (i + 1) % n] = adjacency[(i + 1) % n, i] = 1
    elif name == "torus":
        rows, cols = torus_shape(n)
        for r in range(rows):
            for c in range(cols):
                i = r * cols + c
                for j in (((r + 1) % rows) * cols + c, r * cols + (c + 1) % cols):
                    adjacency[i, j] = adjacency[j, i] = 1
    else:
        adjacency = _random_regular(n, degree, seed)
    np.fill_diagonal(adjacency, 0)
    return adjacency


def torus_shape(n: int) -> tuple[int, int]:
    """Rows and columns of the squarest 2-D torus with ``n`` slots (rows <= cols, rows >= 2)."""
    rows = max(r for r in range(1, int(np.sqrt(n)) + 1) if n % r == 0)
    if rows < 2:
        raise ValueError(
            f"graph 'torus' needs a slot count that is rows x cols with rows, cols >= 2 (4, 6, 8, 9, ...); "
            f"got n_workers={n}"
        )
    return rows, n // rows


def _random_regular(n: int, degree: int, seed: int) -> np.ndarray:
    degree = check_number("degree", degree, low=1, high=max(n - 1, 1), integer=True)
    if n * degree % 2:
        raise ValueError(f"a random regular graph needs n_workers x degree even; got {n} x {degree}")
    rng = np.random.default_rng(seed)
    for _ in range(1000):  # pairing model: retry until the pairing has no loop or double edge
        stubs = rng.permutation(np.repeat(np.arange(n), degree)).reshape(-1, 2)
        adjacency = np.zeros((n, n), dtype=np.int64)
        ok = True
        for a, b in stubs:
            if a == b or adjacency[a, b]:
                ok = False
                break
            adjacency[a, b] = adjacency[b, a] = 1
        if ok:
            return adjacency
    raise ValueError(f"could not draw a simple {degree}-regular graph on {n} slots; choose another degree")


def metropolis_weights(adjacency: Any) -> np.ndarray:
    """The Metropolis mixing matrix of an undirected graph (module docstring): symmetric, doubly stochastic."""
    a = check_adjacency(adjacency)
    deg = a.sum(axis=1)
    n = len(a)
    w = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if a[i, j]:
                w[i, j] = 1.0 / (1.0 + max(deg[i], deg[j]))
        w[i, i] = 1.0 - w[i].sum()
    return w


def check_adjacency(adjacency: Any, n: int | None = None) -> np.ndarray:
    """``adjacency`` as a symmetric 0/1 integer matrix with zero diagonal (a clear error otherwise)."""
    a = np.asarray(adjacency)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"graph must be an (n, n) matrix of 0s and 1s; got {type(adjacency).__name__}")
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"graph must be a square (n, n) matrix; got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"graph has {a.shape[0]} nodes but the run has {n} worker slots; they must match")
    if not np.isin(a, (0, 1)).all():
        raise ValueError("graph adjacency entries must be 0 or 1")
    if not np.array_equal(a, a.T):
        raise ValueError("graph must be undirected: its adjacency matrix must be symmetric")
    a = a.astype(np.int64)
    np.fill_diagonal(a, 0)
    return a


def check_mixing_matrix(weights: Any, n: int | None = None, tol: float = 1e-8) -> np.ndarray:
    """``weights`` as a float64 ``(n, n)`` doubly stochastic matrix with non-negative entries, else ValueError."""
    try:
        raw = np.asarray(weights)
        if raw.dtype.kind not in "biuf":
            raise TypeError
        w = raw.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"mixing weights must be an (n, n) matrix of numbers; got {type(weights).__name__}") from None
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"mixing weights must be a square (n, n) matrix; got shape {w.shape}")
    if n is not None and w.shape[0] != n:
        raise ValueError(f"mixing weights are {w.shape[0]} x {w.shape[0]} but the run has {n} worker slots")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("mixing weights must be finite and non-negative")
    rows, cols = w.sum(axis=1), w.sum(axis=0)
    if np.abs(rows - 1).max() > tol or np.abs(cols - 1).max() > tol:
        raise ValueError(
            "mixing weights must be doubly stochastic (every row and column sums to 1); row sums range "
            f"{rows.min():.4g}..{rows.max():.4g}, column sums {cols.min():.4g}..{cols.max():.4g}"
        )
    return w


def mixing_matrix(graph: Any, n: int, degree: int = 3, seed: int = 0) -> np.ndarray:
    """The mixing matrix of ``graph``: a name of :data:`GRAPHS` or a 0/1 adjacency matrix (Metropolis
    weights; ``"complete"`` gets uniform weights 1/n, exact averaging), or already a doubly stochastic
    matrix of weights (entries other than 0 and 1, or 1 on the diagonal)."""
    if isinstance(graph, str):
        if graph == "complete":
            return np.full((n, n), 1.0 / n)
        return metropolis_weights(graph_adjacency(graph, n, degree, seed))
    a = np.asarray(graph)
    if a.dtype.kind in "biuf" and a.ndim == 2 and np.isin(a, (0, 1)).all() and not (np.diag(a) == 1).all():
        return metropolis_weights(check_adjacency(a, n))
    return check_mixing_matrix(a, n)


def second_eigenvalue(weights: Any) -> float:
    """λ2: the second largest eigenvalue modulus of a symmetric mixing matrix (0 for one slot)."""
    w = check_mixing_matrix(weights)
    if len(w) == 1:
        return 0.0
    moduli = np.sort(np.abs(np.linalg.eigvalsh((w + w.T) / 2)))[::-1]
    return float(moduli[1])


def spectral_gap(weights: Any) -> float:
    """1 - λ2: how fast gossip with these weights reaches consensus (1 for exact averaging)."""
    return 1.0 - second_eigenvalue(weights)


def gossip_step(params: Sequence[dict[str, np.ndarray]], weights: Any) -> list[dict[str, np.ndarray]]:
    r"""One gossip step :math:`x_i \leftarrow \sum_j W_{ij} x_j` on every slot's parameter dict
    (float64 arithmetic, cast back; integer arrays keep slot i's value)."""
    w = check_mixing_matrix(weights, len(params))
    return [weighted_mean(params, w[i], own=i) for i in range(len(params))]


def weighted_mean(
    params: Sequence[dict[str, np.ndarray]], weights: Sequence[float], own: int = 0
) -> dict[str, np.ndarray]:
    r""":math:`\sum_j w_j x_j` key by key (float64, cast back to each array's dtype). Arrays that are not
    floating point (counters) keep the value of ``params[own]``."""
    weights = [float(w) for w in weights]
    merged = {}
    for key, value in params[own].items():
        value = np.asarray(value)
        if np.issubdtype(value.dtype, np.floating):
            total = np.zeros(value.shape, dtype=np.float64)
            for w, p in zip(weights, params):
                if w:
                    total += w * np.asarray(p[key], dtype=np.float64)
            merged[key] = total.astype(value.dtype)
        else:
            merged[key] = value.copy()
    return merged


def consensus_distance(params: Sequence[dict[str, np.ndarray]]) -> float:
    r""":math:`\frac1N\sum_i \lVert x_i - \bar x\rVert^2` over all floating-point arrays (0 for one slot)."""
    if not params:
        raise ValueError("consensus_distance needs the parameters of at least one slot")
    total = 0.0
    for key, value in params[0].items():
        if not np.issubdtype(np.asarray(value).dtype, np.floating):
            continue
        stack = np.stack([np.asarray(p[key], dtype=np.float64) for p in params])
        total += float(((stack - stack.mean(axis=0)) ** 2).sum())
    return total / len(params)


def average_parameters(params: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The slots' mean parameters (what a gossip run reports as its model)."""
    return weighted_mean(params, [1.0 / len(params)] * len(params))
