"""The base of the training callbacks that take a snapshot of an agent every few environment steps."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_number


class PeriodicRecorder:
    """Training callback that calls :meth:`_snapshot` every ``every`` environment steps.

    A snapshot is taken at the first update after each multiple of ``every``;
    :meth:`record` takes one right away (e.g. of the untrained agent). Subclasses
    implement :meth:`_snapshot`, which stores what they keep of the agent.
    """

    def __init__(self, every: int) -> None:
        self.every = check_number("every", every, low=1, integer=True)
        self._steps: list[int] = []
        self._next = 0

    def _snapshot(self, agent: Any) -> None:
        raise NotImplementedError

    def record(self, agent: Any) -> None:
        self._snapshot(agent)
        self._steps.append(int(agent.total_steps))
        self._next = (agent.total_steps // self.every + 1) * self.every

    def __call__(self, agent: Any) -> bool:
        if agent.total_steps >= self._next:
            self.record(agent)
        return True

    @property
    def steps(self) -> np.ndarray:
        """Environment step of each snapshot, shape ``(K,)``."""
        return np.array(self._steps, dtype=np.int64)
