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
        rows = history._rows[self._written:]
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
