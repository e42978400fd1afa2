r"""Prioritised experience replay (Schaul, Quan, Antonoglou & Silver, *Prioritized Experience Replay*, ICLR 2016).

Uniform replay learns as often from a transition the network already predicts
well as from one it gets badly wrong. Prioritised replay samples transition
:math:`i` with probability

.. math:: P(i) = \frac{p_i^\alpha}{\sum_k p_k^\alpha}, \qquad p_i = |\delta_i| + \epsilon,

where :math:`\delta_i` is its last TD error, α in [0, 1] sets how strongly (α = 0
is uniform) and ε keeps every transition possible. A new transition gets the
largest priority seen so far, so it is replayed at least once soon.

Sampling non-uniformly changes the expectation the gradient estimates; the
*importance-sampling weights*

.. math:: w_i = \frac{(N \cdot P(i))^{-\beta}}{\max_j (N \cdot P(j))^{-\beta}}
          = \left(\frac{P(i)}{\min_j P(j)}\right)^{-\beta}

(N transitions in the buffer, β in [0, 1]; β = 1 corrects fully) multiply each
transition's loss. Normalising by the largest weight keeps every :math:`w_i \le 1`.

**Sum-tree.** :class:`SumTree` keeps the :math:`p_i^\alpha` in the leaves of a
binary tree whose inner nodes hold the sums of their children, so changing a
priority costs O(log N) and sampling is a walk from the root: draw
:math:`u \sim U(0, \sum_k p_k^\alpha)` and go left when :math:`u` is below the
left child's sum, else subtract it and go right. A batch of B draws is
*stratified*: draw :math:`j` falls in the j-th of B equal slices of the total,
which still samples each leaf in proportion to its value and spreads the batch
out. A second tree of minima gives :math:`\min_j P(j)` for the weights.

Shapes: a batch is ``rows (B, 2 * obs_dim + 3)`` (as in
:class:`~drlkit.agents.replay.ReplayBuffer`), ``indices (B,)`` int64 and
``weights (B,)`` float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._checks import check_number
from .replay import ReplayBuffer

#: Added to every absolute TD error so that no transition's priority is 0 (the paper's ε).
PRIORITY_EPS = 1e-6


def check_exponent(name: str, value: Any) -> float:
    """α or β: a number in [0, 1], else an error naming ``name``."""
    return check_number(name, value, low=0, high=1)


def check_priorities(priorities: Any, n: int | None = None, name: str = "priorities") -> np.ndarray:
    """``priorities`` as a float64 array of ``n`` finite values >= 0, else a clear error."""
    try:
        values = np.asarray(priorities, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers; got {type(priorities).__name__}") from None
    if n is not None and len(values) != n:
        raise ValueError(f"{name} must have {n} entries (one per transition); got {len(values)}")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise ValueError(f"{name} must be finite and >= 0; got {values[bad][0]!r} at position {int(np.argmax(bad))}")
    return values


def sampling_probabilities(priorities: Any, alpha: float) -> np.ndarray:
    r""":math:`P(i) = p_i^\alpha / \sum_k p_k^\alpha` for priorities ``(N,)``; shape ``(N,)``."""
    alpha = check_exponent("alpha", alpha)
    scaled = check_priorities(priorities) ** alpha
    total = scaled.sum()
    if total <= 0:
        raise ValueError("priorities must not all be 0 (nothing could be sampled)")
    return scaled / total


def importance_weights(probabilities: Any, n: int, beta: float, min_probability: float | None = None) -> np.ndarray:
    r""":math:`w_i = (N P(i))^{-\beta} / \max_j (N P(j))^{-\beta}` for sampled ``probabilities (B,)``.

    ``n`` is the number of transitions N in the buffer and ``min_probability`` the
    smallest :math:`P(j)` over the whole buffer (default: the smallest in ``probabilities``).
    """
    beta = check_exponent("beta", beta)
    n = check_number("n", n, low=1, integer=True)
    p = check_priorities(probabilities, name="probabilities")
    if len(p) == 0:
        return np.zeros(0, dtype=np.float32)
    if (p <= 0).any():
        raise ValueError("probabilities of sampled transitions must be > 0")
    smallest = float(p.min()) if min_probability is None else check_number("min_probability", min_probability, low=0)
    if smallest <= 0:
        raise ValueError("min_probability must be > 0")
    return ((n * p) ** -beta / (n * smallest) ** -beta).astype(np.float32)


class SumTree:
    """Binary tree over ``capacity`` leaves; every inner node is the sum (and, in a second
    array, the minimum of the positive ones) of its children. Unset leaves hold 0 (sum) / +inf (min)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = check_number("capacity", capacity, low=1, integer=True)
        self.n_leaves = 1 << max(0, (self.capacity - 1).bit_length())  # next power of two
        self.sums = np.zeros(2 * self.n_leaves, dtype=np.float64)
        self.mins = np.full(2 * self.n_leaves, np.inf, dtype=np.float64)

    @property
    def total(self) -> float:
        """Sum of all leaves."""
        return float(self.sums[1])

    @property
    def minimum(self) -> float:
        """Smallest positive leaf (+inf when there is none)."""
        return float(self.mins[1])

    def leaves(self) -> np.ndarray:
        """The ``capacity`` leaf values, shape ``(capacity,)``."""
        return self.sums[self.n_leaves : self.n_leaves + self.capacity].copy()

    def update(self, indices: Any, values: Any) -> None:
        """Set leaves ``indices (K,)`` to ``values (K,)`` (>= 0) and refresh their ancestors."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        vals = check_priorities(values, len(idx), name="values")
        if len(idx) and (idx.min() < 0 or idx.max() >= self.capacity):
            raise IndexError(f"leaf indices must be in [0, {self.capacity - 1}]; got {idx.min()}..{idx.max()}")
        nodes = idx + self.n_leaves
        # A repeated index keeps its last value, as a loop of single updates would.
        self.sums[nodes] = vals
        self.mins[nodes] = np.where(vals > 0, vals, np.inf)  # the smallest *positive* leaf
        nodes = np.unique(nodes // 2)
        while len(nodes) and nodes[0] >= 1:
            self.sums[nodes] = self.sums[2 * nodes] + self.sums[2 * nodes + 1]
            self.mins[nodes] = np.minimum(self.mins[2 * nodes], self.mins[2 * nodes + 1])
            nodes = np.unique(nodes // 2)
            if nodes[0] == 0:
                break

    def find(self, values: Any) -> np.ndarray:
        """For each ``u`` in ``values (B,)`` (0 <= u < total) the leaf whose cumulative range holds it, ``(B,)``."""
        u = np.asarray(values, dtype=np.float64).reshape(-1).copy()
        nodes = np.ones(len(u), dtype=np.int64)
        for _ in range(self.n_leaves.bit_length() - 1):  # the tree's depth
            left = 2 * nodes
            go_right = u >= self.sums[left]
            u = np.where(go_right, u - self.sums[left], u)
            nodes = np.where(go_right, left + 1, left)
        leaves = nodes - self.n_leaves
        # Rounding can walk into an empty leaf at the very end: fall back to the last non-empty one.
        empty = self.sums[nodes] <= 0
        if empty.any():
            filled = np.flatnonzero(self.sums[self.n_leaves : self.n_leaves + self.capacity] > 0)
            leaves[empty] = filled[np.searchsorted(filled, leaves[empty], side="right").clip(1) - 1]
        return leaves

    def sample(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """``batch_size`` leaves, stratified: draw j is uniform in the j-th of ``batch_size``
        equal slices of the total. Each leaf is drawn ``batch_size * value / total`` times on average."""
        batch_size = check_number("batch_size", batch_size, low=1, integer=True)
        total = self.total
        if not total > 0:
            raise ValueError("cannot sample: every priority is 0 (or nothing was added)")
        u = (np.arange(batch_size) + rng.random(batch_size)) * (total / batch_size)
        return self.find(np.minimum(u, np.nextafter(total, 0)))


class PrioritizedReplayBuffer(ReplayBuffer):
    """A :class:`~drlkit.agents.replay.ReplayBuffer` that samples by priority (see module docstring).

    >>> buffer = PrioritizedReplayBuffer(capacity=4, obs_dim=1, alpha=1.0)
    >>> obs = np.zeros((4, 1), dtype=np.float32)
    >>> buffer.add(obs, np.zeros(4), np.zeros(4), obs, np.zeros(4), priorities=[1, 1, 2, 0])
    >>> buffer.probabilities().round(2).tolist()
    [0.25, 0.25, 0.5, 0.0]
    """

    def __init__(self, capacity: int, obs_dim: int, alpha: float = 0.6) -> None:
        super().__init__(capacity, obs_dim)
        self.alpha = check_exponent("alpha", alpha)
        self.tree = SumTree(self.capacity)
        self.priorities = np.zeros(self.capacity)  # p_i of every row (the tree holds p_i ** alpha)
        self.max_priority = 1.0  # new transitions get the largest priority seen so far

    def add(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        terminated: np.ndarray,
        priorities: Any = None,
    ) -> None:
        """Append ``n`` transitions as :meth:`ReplayBuffer.add` does; ``priorities (n,)`` (>= 0, e.g.
        an actor's initial absolute TD errors) default to the largest priority seen so far."""
        n = len(np.asarray(obs, dtype=np.float32).reshape(-1, self.obs_dim))
        p = np.full(n, self.max_priority) if priorities is None else check_priorities(priorities, n)
        start = self.position
        super().add(obs, actions, rewards, next_obs, terminated)
        keep = min(n, self.capacity)
        rows = (start + (n - keep) + np.arange(keep)) % self.capacity
        self._set(rows, p[n - keep :])

    def _set(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        if len(priorities):
            self.max_priority = max(self.max_priority, float(priorities.max()))
        self.priorities[indices] = priorities
        self.tree.update(indices, priorities**self.alpha)

    def probabilities(self) -> np.ndarray:
        """:math:`P(i)` of every row, shape ``(capacity,)`` (0 for empty rows)."""
        leaves = self.tree.leaves()
        return leaves / leaves.sum()

    def sample_prioritized(
        self, batch_size: int, rng: np.random.Generator, beta: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows (B, 2*obs_dim+3), indices (B,), weights (B,))``: rows drawn by priority and their
        importance-sampling weights with exponent ``beta`` in [0, 1]."""
        beta = check_exponent("beta", beta)
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        indices = self.tree.sample(batch_size, rng)
        total = self.tree.total
        probabilities = self.tree.sums[indices + self.tree.n_leaves] / total
        weights = importance_weights(probabilities, self.size, beta, self.tree.minimum / total)
        return self.rows[indices], indices, weights

    def update_priorities(self, indices: Any, priorities: Any) -> None:
        """New priorities (e.g. the absolute TD error plus ``PRIORITY_EPS``) for rows ``indices`` of a sample."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        p = check_priorities(priorities, len(idx))
        if len(idx) and (idx.min() < 0 or idx.max() >= self.size):
            raise IndexError(f"indices must be filled rows in [0, {self.size - 1}]; got {idx.min()}..{idx.max()}")
        self._set(idx, p)

    # -------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["priorities"] = torch.from_numpy(self.priorities[: self.size].copy())
        state["max_priority"] = self.max_priority
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.tree = SumTree(self.capacity)
        self.priorities = np.zeros(self.capacity)
        self.max_priority = 1.0
        if "priorities" not in state:  # a checkpoint of a uniform buffer: every priority equal
            self._set(np.arange(self.size), np.ones(self.size))
            return
        if not isinstance(state["priorities"], torch.Tensor):
            raise TypeError(f"replay state 'priorities' must be a tensor; got {type(state['priorities']).__name__}")
        priorities = check_priorities(state["priorities"].detach().cpu().numpy(), self.size, "replay priorities")
        self._set(np.arange(self.size), priorities)
        self.max_priority = check_number("replay max_priority", state.get("max_priority", 1.0), low=0)

    def __repr__(self) -> str:
        return f"PrioritizedReplayBuffer({self.size}/{self.capacity} transitions, alpha={self.alpha:g})"
