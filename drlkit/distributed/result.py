"""What :func:`drlkit.distributed.train` returns: the trained agent and a record of every task.

One row per task result the driver handled (:meth:`DistributedResult.to_frame`):

=================  ==========================================================
column             meaning
=================  ==========================================================
``updates``        parameter updates applied so far (the version after this row)
``status``         ``"applied"`` -- merged into the parameters;
                   ``"dropped"`` -- arrived too stale (``max_staleness``);
                   ``"cancelled"`` -- a straggler cut off by a sync round
                   (backup workers, ``round_timeout``); ``"lost"`` -- the
                   cluster lost its input (a worker died holding it) and the
                   task was sent again, which is a new row
``worker``         worker slot 0..n-1 (a stream of experience; ``delays``,
                   ``slowdown`` and ``kill_worker_at`` refer to it)
``address``        the Dask worker process that ran it
``moved``          it ran elsewhere than where it was sent (its worker died
                   and Dask ran it again on another one)
``sync_round``     synchronous round (sync modes; -1 otherwise)
``version``        parameter version the work started from
``staleness``      updates applied between sending the work and applying it
``weight``         weight of this result in the merge (η, η/τ, 1/N; NaN if unused)
``env_steps``      environment steps the task took
``n_episodes``     episodes that ended inside it, ``mean_return`` their mean return
``submit_time``    driver seconds since the start when the task was sent
``wall_time``      driver seconds since the start when the result was handled
``compute_time``   seconds the worker computed, ``delay_time`` artificial delay
``apply_time``     driver seconds spent applying (merge / learn / optimizer step)
``bytes_sent``     payload bytes the task sent back to the driver (its output:
                   parameters, a compressed delta, gradients or a fragment)
``bytes_received`` payload bytes the task received (the parameters it started
                   from; gossip: its neighbours' parameters, fetched from their
                   workers). Every transfer is counted once, by one row
*metrics*          the agent's logged metrics (mean over the task's updates;
                   for the central-learner modes, those of the driver's update)
=================  ==========================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ROW_COLUMNS = (
    "updates",
    "status",
    "worker",
    "address",
    "moved",
    "sync_round",
    "version",
    "staleness",
    "weight",
    "env_steps",
    "n_episodes",
    "mean_return",
    "submit_time",
    "wall_time",
    "compute_time",
    "delay_time",
    "apply_time",
    "bytes_sent",
    "bytes_received",
)
STATUSES = ("applied", "dropped", "cancelled", "lost")
#: Columns of :meth:`DistributedResult.summary_table`.
TABLE_COLUMNS = (
    "mode",
    "workers",
    "updates",
    "env steps",
    "seconds",
    "env steps/s",
    "updates/s",
    "mean staleness",
    "max staleness",
    "dropped",
    "return",
)


@dataclass
class DistributedResult:
    """The trained ``agent`` (parameters as of the last applied update) and the run's record.

    ``rows`` (see the module docstring), ``episodes`` (one dict per finished
    episode: ``wall_time``, ``step``, ``episode_return``, ``episode_length``,
    ``worker``, ``version``) and ``events`` (workers joining, leaving, killed)
    grow while training runs, so an ``on_update`` hook can draw them live.
    """

    agent: Any
    mode: str
    n_workers: int
    options: dict[str, Any]
    metric_keys: tuple[str, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    episodes: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    wall_time: float = 0.0
    env_steps: int = 0
    #: Seconds spent before training started: building the agent on every worker.
    setup_time: float = 0.0
    #: Decentralised modes (``gossip``): one dict per round, ``round``, ``wall_time``, ``step`` and
    #: ``consensus_distance`` (mean over slots of the squared distance of their parameters to the average).
    consensus: list[dict[str, float]] = field(default_factory=list)

    # ------------------------------------------------------------- tables
    def to_frame(self):
        """One row per handled task result (columns in the module docstring)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(ROW_COLUMNS + self.metric_keys))

    def consensus_frame(self):
        """One row per gossip round: ``round``, ``wall_time``, ``step``, ``consensus_distance`` (empty otherwise)."""
        import pandas as pd

        return pd.DataFrame(self.consensus, columns=["round", "wall_time", "step", "consensus_distance"])

    def bytes_moved(self) -> int:
        """Payload bytes of every task's input and output (applied, dropped and cancelled tasks alike)."""
        return int(sum(row.get("bytes_sent", 0) + row.get("bytes_received", 0) for row in self.rows))

    def episode_frame(self):
        """One row per finished episode, in the order the driver received them."""
        import pandas as pd

        columns = ["wall_time", "step", "episode_return", "episode_length", "worker", "version"]
        return pd.DataFrame(self.episodes, columns=columns)

    def counts(self) -> dict[str, int]:
        """Tasks per status and in total: ``submitted == applied + dropped + cancelled + lost``."""
        counts = {status: 0 for status in STATUSES}
        for row in self.rows:
            counts[row["status"]] += 1
        counts["submitted"] = len(self.rows)
        counts["moved"] = sum(1 for row in self.rows if row["moved"])
        counts["updates"] = self.updates
        return counts

    @property
    def updates(self) -> int:
        """Parameter updates applied (sync: rounds; async: merged results)."""
        return max((row["updates"] for row in self.rows), default=0)

    @property
    def update_rate(self) -> float:
        """Applied parameter updates per second of wall time."""
        return self.updates / self.wall_time if self.wall_time > 0 else math.nan

    @property
    def steps_per_second(self) -> float:
        """Environment steps per second over the whole run (all workers)."""
        return self.env_steps / self.wall_time if self.wall_time > 0 else math.nan

    def throughput(self):
        """Per worker slot: tasks, env steps, busy seconds (compute + delay), env steps per
        second of wall time, the busy fraction and the mean staleness of its results."""
        import pandas as pd

        frame = self.to_frame()
        frame = frame[frame.status.isin(["applied", "dropped"])]
        frame = frame.assign(busy=frame.compute_time + frame.delay_time)
        grouped = frame.groupby("worker")
        table = pd.DataFrame(
            {
                "tasks": grouped.size(),
                "env_steps": grouped.env_steps.sum(),
                "busy_time": grouped.busy.sum(),
                "mean_staleness": grouped.staleness.mean(),
            }
        )
        wall = self.wall_time if self.wall_time > 0 else math.nan
        table["steps_per_second"] = table.env_steps / wall
        table["busy_fraction"] = table.busy_time / wall
        return table

    def staleness_histogram(self):
        """How many results arrived with each staleness τ: columns ``applied`` and ``dropped``."""
        import pandas as pd

        frame = self.to_frame()
        frame = frame[frame.status.isin(["applied", "dropped"])]
        table = pd.crosstab(frame.staleness, frame.status).reindex(columns=["applied", "dropped"], fill_value=0)
        if len(table):
            table = table.reindex(range(int(table.index.max()) + 1), fill_value=0)
        table.index.name = "staleness"
        return table

    def return_curve(self, x: str = "wall_time", window: int = 20) -> tuple[np.ndarray, np.ndarray]:
        """Mean return of the last ``window`` episodes against ``x`` (``"wall_time"`` or ``"step"``)."""
        if x not in ("wall_time", "step"):
            raise ValueError(f"x must be 'wall_time' or 'step', got {x!r}")
        xs = np.array([e[x] for e in self.episodes], dtype=float)
        returns = np.array([e["episode_return"] for e in self.episodes], dtype=float)
        if len(returns) == 0:
            return xs, returns
        cumulative = np.concatenate([[0.0], np.cumsum(returns)])
        index = np.arange(1, len(returns) + 1)
        start = np.maximum(index - window, 0)
        return xs, (cumulative[index] - cumulative[start]) / (index - start)

    def summary(self, window: int = 20) -> dict[str, Any]:
        """One line per run for comparison tables: ``pd.DataFrame([r.summary() for r in runs])``.

        ``final_return`` is the mean return of the last ``window`` episodes.
        """
        frame = self.to_frame()
        handled = frame[frame.status.isin(["applied", "dropped"])]
        returns = [e["episode_return"] for e in self.episodes[-window:]]
        return {
            "mode": self.mode,
            "workers": self.n_workers,
            "wall_time": self.wall_time,
            "env_steps": self.env_steps,
            "steps_per_second": self.steps_per_second,
            "updates": self.updates,
            "update_rate": self.update_rate,
            "mean_staleness": float(handled.staleness.mean()) if len(handled) else math.nan,
            **{status: count for status, count in self.counts().items() if status in STATUSES},
            "episodes": len(self.episodes),
            "final_return": float(np.mean(returns)) if returns else math.nan,
            "bytes_moved": self.bytes_moved(),
            "bytes_per_update": self.bytes_moved() / self.updates if self.updates else math.nan,
        }

    def table_row(self, window: int = 20) -> dict[str, Any]:
        """This run as a row of :meth:`summary_table` (rounded for display; staleness of applied results)."""
        frame = self.to_frame()
        applied = frame[frame.status == "applied"]
        returns = [e["episode_return"] for e in self.episodes[-window:]]
        return {
            "mode": self.mode,
            "workers": self.n_workers,
            "updates": self.updates,
            "env steps": self.env_steps,
            "seconds": round(self.wall_time, 2),
            "env steps/s": round(self.steps_per_second, 1),
            "updates/s": round(self.update_rate, 2),
            "mean staleness": round(float(applied.staleness.mean()), 2) if len(applied) else math.nan,
            "max staleness": int(applied.staleness.max()) if len(applied) else 0,
            "dropped": self.counts()["dropped"],
            "return": round(float(np.mean(returns)), 1) if returns else math.nan,
        }

    @staticmethod
    def summary_table(runs: Any, window: int = 20):
        """One row per run (``{label: DistributedResult}``, or one result labelled by its mode):
        mode, workers, updates, env steps, seconds, env steps/s, updates/s, mean and max
        staleness of the applied results, results dropped, and the mean return of the last
        ``window`` episodes (columns :data:`TABLE_COLUMNS`)."""
        import pandas as pd

        from .._checks import check_number

        runs = check_runs(runs)
        window = check_number("window", window, low=1, integer=True)
        rows = {label: result.table_row(window) for label, result in runs.items()}
        return pd.DataFrame.from_dict(rows, orient="index", columns=list(TABLE_COLUMNS))

    def __repr__(self) -> str:
        c = self.counts()
        return (
            f"DistributedResult(mode={self.mode!r}, workers={self.n_workers}, updates={self.updates}, "
            f"env_steps={self.env_steps}, wall_time={self.wall_time:.1f}s, applied={c['applied']}, "
            f"dropped={c['dropped']}, cancelled={c['cancelled']}, lost={c['lost']})"
        )


def check_runs(runs: Any, name: str = "runs") -> dict[str, DistributedResult]:
    """``runs`` as a dict label -> DistributedResult (a single result gets its mode as label)."""
    from collections.abc import Mapping

    if isinstance(runs, DistributedResult):
        return {runs.mode: runs}
    if not isinstance(runs, Mapping):
        raise TypeError(f"{name} must be a dict {{label: DistributedResult}}, got {type(runs).__name__}")
    for label, result in runs.items():
        if not isinstance(result, DistributedResult):
            raise TypeError(
                f"{name}[{label!r}] must be a DistributedResult (what drlkit.distributed.train "
                f"returns), got {type(result).__name__}"
            )
    return {str(label): result for label, result in runs.items()}
