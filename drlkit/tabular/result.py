"""What a tabular learner returns: its configuration, final Q and learning curves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .schedules import FloatOrSchedule


@dataclass(frozen=True)
class TabularConfig:
    """The settings of one call to :func:`q_learning`, :func:`sarsa` or :func:`expected_sarsa`.

    ``seed`` is the seed actually used (drawn at random when none was given),
    so passing it back reproduces the result exactly.
    """

    algorithm: str
    env: str
    episodes: int
    alpha: FloatOrSchedule
    gamma: float
    epsilon: FloatOrSchedule
    seed: int
    runs: int
    max_steps_per_episode: int | None
    Q0: float | str
    vectorised: bool


@dataclass(eq=False)
class TabularResult:
    """Final action values and per-episode curves of one or many runs.

    With ``runs == 1`` the arrays have no run axis; with ``runs > 1`` they gain a
    leading one:

    =============  ===================  =========================
    attribute      runs == 1            runs > 1
    =============  ===================  =========================
    ``Q``          ``(S, A)``           ``(runs, S, A)``
    ``returns``    ``(E,)``             ``(runs, E)``
    ``lengths``    ``(E,)``             ``(runs, E)``
    ``Q_history``  ``(E, S, A)``        ``(runs, E, S, A)``
    =============  ===================  =========================

    ``returns`` are undiscounted sums of rewards per episode; ``epsilons`` and
    ``alphas`` (shape ``(E,)``) the ε and α used in each episode. ``Q_history``
    (Q after each episode) is kept only with ``record_q=True``.
    """

    config: TabularConfig
    Q: np.ndarray
    returns: np.ndarray
    lengths: np.ndarray
    epsilons: np.ndarray
    alphas: np.ndarray
    Q_history: np.ndarray | None = field(default=None, repr=False)

    @property
    def runs(self) -> int:
        return self.config.runs

    @property
    def episodes(self) -> int:
        return self.config.episodes

    def greedy_policy(self) -> np.ndarray:
        """``argmax_a Q(s, a)`` per state: shape ``(S,)``, or ``(runs, S)`` for many runs.

        Ties go to the lowest action index, so the policy is deterministic.
        """
        return np.argmax(self.Q, axis=-1)

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per (run, episode).

        Columns: ``run``, ``episode``, ``return``, ``length``, ``epsilon``, ``alpha``.
        """
        import pandas as pd

        returns = np.atleast_2d(self.returns)
        lengths = np.atleast_2d(self.lengths)
        runs, episodes = returns.shape
        return pd.DataFrame(
            {
                "run": np.repeat(np.arange(runs), episodes),
                "episode": np.tile(np.arange(episodes), runs),
                "return": returns.reshape(-1),
                "length": lengths.reshape(-1),
                "epsilon": np.tile(self.epsilons, runs),
                "alpha": np.tile(self.alphas, runs),
            }
        )

    def __repr__(self) -> str:
        last = max(1, self.episodes // 10)
        mean_last = float(np.mean(np.atleast_2d(self.returns)[:, -last:]))
        return (
            f"TabularResult({self.config.algorithm} on {self.config.env}: {self.runs} run(s) x "
            f"{self.episodes} episodes, mean return over the last {last} episode(s) {mean_last:.2f})"
        )
