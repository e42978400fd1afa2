"""The training log every agent keeps: one row per finished episode or per update.

The columns are fixed for an algorithm (``History.columns``), so every run of
the same algorithm gives a DataFrame with the same columns -- notebooks and
the distributed layer can concatenate and compare runs without guessing.

========================  ===================================================
column                    meaning
========================  ===================================================
``event``                 ``"episode"`` (an episode ended) or ``"update"``
``step``                  environment steps taken so far (all envs together)
``wall_time``             seconds spent in ``train`` so far (evaluation excluded)
``episode_return``        undiscounted return of the episode (episode rows)
``episode_length``        its length in steps (episode rows)
*algorithm keys*          losses and diagnostics of the update (update rows),
                          e.g. ``policy_loss``, ``value_loss``, ``entropy``
========================  ===================================================
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

BASE_COLUMNS = ("event", "step", "wall_time", "episode_return", "episode_length")


class History:
    """Append-only training log with fixed columns (see module docstring)."""

    def __init__(self, log_keys: Sequence[str] = ()) -> None:
        self.log_keys = tuple(log_keys)
        self.columns = BASE_COLUMNS + self.log_keys
        self._rows: list[tuple] = []

    # -------------------------------------------------------------- logging
    def log_episode(self, step: int, wall_time: float, episode_return: float, episode_length: int) -> None:
        nan = (math.nan,) * len(self.log_keys)
        self._rows.append(("episode", int(step), float(wall_time), float(episode_return), int(episode_length)) + nan)

    def log_update(self, step: int, wall_time: float, **metrics: float) -> None:
        unknown = set(metrics) - set(self.log_keys)
        if unknown:
            raise KeyError(f"unknown log keys {sorted(unknown)}; this history logs {list(self.log_keys)}")
        values = tuple(float(metrics.get(k, math.nan)) for k in self.log_keys)
        self._rows.append(("update", int(step), float(wall_time), math.nan, -1) + values)

    # -------------------------------------------------------------- reading
    def __len__(self) -> int:
        return len(self._rows)

    def to_frame(self):
        """A pandas DataFrame with one row per event and the fixed columns."""
        import pandas as pd

        frame = pd.DataFrame(self._rows, columns=list(self.columns))
        frame["episode_length"] = frame["episode_length"].astype("int64")
        return frame

    @property
    def episode_returns(self) -> np.ndarray:
        """Returns of the finished episodes in order, shape ``(n_episodes,)``."""
        return np.array([r[3] for r in self._rows if r[0] == "episode"], dtype=float)

    @property
    def episode_steps(self) -> np.ndarray:
        """Environment step at which each episode ended, shape ``(n_episodes,)``."""
        return np.array([r[1] for r in self._rows if r[0] == "episode"], dtype=np.int64)

    def updates(self, key: str) -> np.ndarray:
        """One logged metric over the updates, shape ``(n_updates,)``."""
        if key not in self.log_keys:
            raise KeyError(f"{key!r} is not logged; this history logs {list(self.log_keys)}")
        i = self.columns.index(key)
        return np.array([r[i] for r in self._rows if r[0] == "update"], dtype=float)

    # -------------------------------------------------------- serialisation
    def state_dict(self) -> dict[str, Any]:
        """Plain lists only, so checkpoints load with ``torch.load(weights_only=True)``."""
        return {"log_keys": list(self.log_keys), "rows": [list(r) for r in self._rows]}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> History:
        history = cls(state["log_keys"])
        history._rows = [tuple(r) for r in state["rows"]]
        return history

    def extend(self, rows: Iterable[tuple]) -> None:
        for row in rows:
            if len(row) != len(self.columns):
                raise ValueError(f"row has {len(row)} fields; this history has {len(self.columns)} columns")
            self._rows.append(tuple(row))

    def __repr__(self) -> str:
        n_ep = sum(1 for r in self._rows if r[0] == "episode")
        return f"History({n_ep} episodes, {len(self) - n_ep} updates, columns={list(self.columns)})"
