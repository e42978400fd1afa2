"""Experiment logging while training runs: callbacks that write the History as it grows.

>>> from drlkit.loggers import CSVLogger
>>> agent = drlkit.PPO("CartPole-v1")                                    # doctest: +SKIP
>>> agent.train(50_000, callbacks=CSVLogger("runs/ppo/history.csv"))     # doctest: +SKIP
>>> drlkit.distributed.train(agent, mode="sync", total_steps=50_000,
...                          callbacks=CSVLogger("runs/ppo/history.csv"))  # doctest: +SKIP

A logger is a callback (``logger(agent)``, called after every update, by ``agent.train`` and by
``drlkit.distributed.train`` alike). It appends the rows the agent's History gained since the last
call, with the History's own columns (``event, step, wall_time, episode_return, episode_length``
and the algorithm's log keys), so a file written while training reads exactly like
``agent.history.to_frame()`` at the end, and ``tail -f`` or a spreadsheet can follow a run live.
Rows are flushed to disk at most every ``flush_every`` seconds and when :meth:`close` is called.

:class:`TensorBoardLogger` writes the same metrics as TensorBoard scalars (``tensorboard --logdir runs``):
``episode_return`` and ``episode_length`` at the step each episode ended, and every log key of the
algorithm (``policy_loss``, ``entropy``, ...) at the step of its update. It needs the ``tensorboard``
package (``pip install drlkit[tensorboard]``).
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path
from typing import Any

from ._checks import check_number


class CSVLogger:
    """Append an agent's History rows to a CSV file as training runs.

    Parameters
    ----------
    path : str or Path
        The CSV file; its folder is created. An existing file is replaced when the first row arrives.
    flush_every : float >= 0
        Seconds between writes to disk (0: after every update).
    """

    def __init__(self, path: str | Path, flush_every: float = 1.0) -> None:
        if not isinstance(path, (str, Path)):
            raise TypeError(f"path must be a file path (str or Path), got {type(path).__name__}")
        self.path = Path(path)
        self.flush_every = check_number("flush_every", flush_every, low=0)
        self._written = 0
        self._columns: tuple[str, ...] | None = None
        self._file: Any = None
        self._writer: Any = None
        self._last_flush = 0.0

    def __call__(self, agent: Any) -> None:
        history = agent.history
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "w", newline="")
            self._writer = csv.writer(self._file)
            self._columns = tuple(history.columns)
            self._writer.writerow(self._columns)
            # Rows from before this logger joined (a continued run) are written too.
            self._written = 0
        rows = history._rows[self._written :]
        for row in rows:
            self._writer.writerow(["" if isinstance(v, float) and math.isnan(v) else v for v in row])
        self._written += len(rows)
        now = time.monotonic()
        if now - self._last_flush >= self.flush_every:
            self._file.flush()
            self._last_flush = now

    def close(self) -> None:
        """Flush and close the file (training can continue with a new logger)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> CSVLogger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CSVLogger({str(self.path)!r}, rows={self._written})"


class TensorBoardLogger:
    """Write an agent's History rows as TensorBoard scalars as training runs (tags = History column names).

    Parameters
    ----------
    logdir : str or Path
        Folder of the event files (one run per folder; ``tensorboard --logdir`` its parent to compare runs).
    flush_every : float >= 0
        Seconds between writes to disk.
    """

    def __init__(self, logdir: str | Path, flush_every: float = 1.0) -> None:
        if not isinstance(logdir, (str, Path)):
            raise TypeError(f"logdir must be a folder path (str or Path), got {type(logdir).__name__}")
        self.flush_every = check_number("flush_every", flush_every, low=0)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ImportError(
                "TensorBoardLogger needs the tensorboard package: pip install 'drlkit[tensorboard]'"
            ) from None
        self.logdir = Path(logdir)
        self._writer: Any = SummaryWriter(str(self.logdir), flush_secs=max(1, int(self.flush_every)))
        self._written = 0

    def __call__(self, agent: Any) -> None:
        history = agent.history
        columns = history.columns
        keys = [(i, name) for i, name in enumerate(columns) if name not in ("event", "step", "wall_time")]
        rows = history._rows[self._written :]
        for row in rows:
            step = int(row[1])
            for i, name in keys:
                value = row[i]
                if row[0] == "episode" and name not in ("episode_return", "episode_length"):
                    continue
                if row[0] == "update" and name in ("episode_return", "episode_length"):
                    continue
                if isinstance(value, (int, float)) and math.isfinite(value):
                    self._writer.add_scalar(name, float(value), global_step=step)
        self._written += len(rows)

    def close(self) -> None:
        """Flush and close the event file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> TensorBoardLogger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TensorBoardLogger({str(self.logdir)!r}, rows={self._written})"
