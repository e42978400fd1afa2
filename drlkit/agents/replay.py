"""Experience replay: a fixed-size memory of transitions sampled uniformly at random.

Off-policy agents (DQN) learn from old transitions as well as new ones. Sampling
a minibatch uniformly from a large memory breaks the correlation between
consecutive steps of one episode and lets each transition be used many times.

The memory is a *ring buffer*: one preallocated numpy array that is filled in
order and, once full, overwritten from the start, so the oldest transitions
are forgotten first and adding never allocates. Every transition is one row
of ``float32`` numbers::

    [ obs (obs_dim) | next_obs (obs_dim) | action | reward | terminated ]

so a minibatch is a single fancy-indexing gather (``rows[indices]``) that
becomes a single torch tensor, which :meth:`ReplayBuffer.unpack` splits into
views without copying. Actions are stored as floats; they are small integers
(action indices), which ``float32`` represents exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._checks import check_memory, check_number


class ReplayBuffer:
    """Ring buffer of ``capacity`` transitions with vector observations of size ``obs_dim``.

    >>> buffer = ReplayBuffer(capacity=3, obs_dim=2)
    >>> obs = np.arange(8, dtype=np.float32).reshape(4, 2)
    >>> buffer.add(obs, np.array([0, 1, 0, 1]), np.ones(4), obs + 1, np.zeros(4))
    >>> len(buffer), buffer.added     # 4 transitions went in; the oldest was overwritten
    (3, 4)
    """

    def __init__(self, capacity: int, obs_dim: int) -> None:
        self.capacity = check_number("buffer_size", capacity, low=1, integer=True)
        self.obs_dim = check_number("obs_dim", obs_dim, low=1, integer=True)
        d = self.obs_dim
        self.fields = {
            "obs": slice(0, d),
            "next_obs": slice(d, 2 * d),
            "actions": slice(2 * d, 2 * d + 1),
            "rewards": slice(2 * d + 1, 2 * d + 2),
            "terminated": slice(2 * d + 2, 2 * d + 3),
        }
        check_memory(
            f"buffer_size = {self.capacity} transitions of {2 * d + 3} float32 numbers (obs_dim {d})",
            self.capacity * (2 * d + 3) * 4,
            "use a smaller buffer_size (50_000 is plenty for CartPole-sized tasks)",
        )
        self.rows = np.zeros((self.capacity, 2 * d + 3), dtype=np.float32)
        self.position = 0  # the row the next transition is written to
        self.size = 0  # rows holding a transition (<= capacity)
        self.added = 0  # transitions ever added, including overwritten ones

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        terminated: np.ndarray,
    ) -> None:
        """Append ``n`` transitions: ``obs``/``next_obs`` of shape ``(n, obs_dim)`` (or
        ``(..., obs_dim)``, flattened in C order), the others ``n`` values each.

        ``terminated`` is true only when the episode really ended (the next state
        has value 0); a time-limit truncation is *not* terminal, so the learner
        still bootstraps from ``next_obs``.
        """
        obs = np.asarray(obs, dtype=np.float32).reshape(-1, self.obs_dim)
        n = len(obs)
        columns = [
            obs,
            np.asarray(next_obs, dtype=np.float32).reshape(n, self.obs_dim),
            np.asarray(actions, dtype=np.float32).reshape(n, 1),
            np.asarray(rewards, dtype=np.float32).reshape(n, 1),
            np.asarray(terminated, dtype=np.float32).reshape(n, 1),
        ]
        new_rows = np.concatenate(columns, axis=1)
        self.added += n
        if n >= self.capacity:  # only the newest `capacity` transitions survive
            new_rows = new_rows[n - self.capacity :]
            n = self.capacity
        first = min(n, self.capacity - self.position)  # rows before the end of the array
        self.rows[self.position : self.position + first] = new_rows[:first]
        self.rows[: n - first] = new_rows[first:]  # wrap around to the start
        self.position = (self.position + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """``batch_size`` rows drawn uniformly with replacement from the filled rows,
        shape ``(batch_size, 2 * obs_dim + 3)``; split them with :meth:`unpack`."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        return self.rows[rng.integers(self.size, size=batch_size)]

    def unpack(self, rows: Any) -> dict[str, Any]:
        """Views of sampled rows (numpy array or torch tensor): ``obs``, ``next_obs``
        of shape ``(B, obs_dim)``; ``actions``, ``rewards``, ``terminated`` of shape ``(B,)``."""
        parts = {name: rows[:, cols] for name, cols in self.fields.items()}
        for name in ("actions", "rewards", "terminated"):
            parts[name] = parts[name][:, 0]
        return parts

    # -------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The filled rows as a tensor plus the counters (loads with ``weights_only=True``)."""
        return {
            "rows": torch.from_numpy(self.rows[: self.size].copy()),
            "position": self.position,
            "size": self.size,
            "added": self.added,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; raises ``ValueError``/``TypeError`` naming the bad entry."""
        if not isinstance(state, dict):
            raise TypeError(f"replay state must be a dict; got {type(state).__name__}")
        for key in ("rows", "position", "size", "added"):
            if key not in state:
                raise ValueError(f"replay state has no {key!r} entry")
        if not isinstance(state["rows"], torch.Tensor) or state["rows"].ndim != 2:
            raise TypeError(f"replay state 'rows' must be a 2-d tensor; got {type(state['rows']).__name__}")
        rows = state["rows"].detach().cpu().to(torch.float32).numpy()
        if rows.shape[1] != self.rows.shape[1] or len(rows) > self.capacity:
            raise ValueError(
                f"replay state with rows of shape {tuple(rows.shape)} does not fit a buffer of "
                f"capacity {self.capacity} and obs_dim {self.obs_dim}"
            )
        counters = {}
        for key in ("position", "size", "added"):
            value = state[key]
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise TypeError(f"replay state {key!r} must be an integer >= 0; got {value!r}")
            counters[key] = int(value)
        if counters["size"] != len(rows) or counters["position"] >= self.capacity or counters["added"] < len(rows):
            raise ValueError(
                f"replay state counters (position {counters['position']}, size {counters['size']}, added "
                f"{counters['added']}) do not match its {len(rows)} rows and capacity {self.capacity}"
            )
        self.rows[: len(rows)] = rows
        self.position, self.size, self.added = counters["position"], counters["size"], counters["added"]

    def __repr__(self) -> str:
        return f"ReplayBuffer({self.size}/{self.capacity} transitions, obs_dim={self.obs_dim})"
