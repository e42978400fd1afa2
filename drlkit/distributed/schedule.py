"""A model of the task schedule of synchronous and asynchronous training, to see what the modes do
before (or instead of) running them: every task takes one time unit except a straggler's, and
sending, merging and drawing take no time. Plain Python: nothing here talks to Dask.

* :func:`simulate_schedule` -- the tasks of an idealised run, with their versions and staleness;
* :func:`describe_schedule` -- updates, mean staleness, results dropped and how busy the workers were.

:func:`drlkit.plotting.distributed.plot_schedule` draws a schedule.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from .._checks import check_choice, check_number

#: Modes the schedule model covers.
SCENARIO_MODES = ("sync", "async")


def simulate_schedule(
    mode: str, n_workers: int, slowdown: float = 1.0, duration: float = 12.0, max_staleness: int | None = None
) -> list[dict[str, Any]]:
    """The task schedule of an idealised run, in units of one task's time.

    Every task takes 1 time unit, except worker slot 0's, which take
    ``slowdown`` units (a straggler); sending, merging and drawing take no time.
    ``"sync"``: rounds in which every slot runs one task, each round starting
    when the slowest task of the previous one ends. ``"async"``: every slot
    starts its next task the moment its result has been handled; a result
    stamped with version ``v`` arriving at server version ``V`` has staleness
    ``V - v`` and is dropped when that exceeds ``max_staleness``. Tasks ending
    at the same moment are handled in slot order.

    Returns one dict per task that ended within ``duration``: ``slot``,
    ``start``, ``end``, ``version`` (the server's version when it was sent),
    ``staleness`` and ``status`` (``"applied"`` or ``"dropped"``).
    """
    mode = check_choice("mode", mode, SCENARIO_MODES)
    n_workers = check_number("n_workers", n_workers, low=1, integer=True)
    slowdown = check_number("slowdown", slowdown, low=1)
    duration = check_number("duration", duration, low=0, low_open=True)
    if max_staleness is not None:
        max_staleness = check_number("max_staleness", max_staleness, low=0, integer=True)
    task_time = [slowdown] + [1.0] * (n_workers - 1)
    tasks: list[dict[str, Any]] = []
    if mode == "sync":
        start, version = 0.0, 0
        while start + max(task_time) <= duration:
            tasks += [
                {
                    "slot": i,
                    "start": start,
                    "end": start + task_time[i],
                    "version": version,
                    "staleness": 0,
                    "status": "applied",
                }
                for i in range(n_workers)
            ]
            start, version = start + max(task_time), version + 1
        return tasks
    version = 0
    running = {i: (0.0, 0) for i in range(n_workers)}  # slot -> (start, version it was sent with)
    while True:
        slot = min(running, key=lambda i: (running[i][0] + task_time[i], i))
        start, stamp = running[slot]
        end = start + task_time[slot]
        if end > duration:
            return tasks
        staleness = version - stamp
        dropped = max_staleness is not None and staleness > max_staleness
        tasks.append(
            {
                "slot": slot,
                "start": start,
                "end": end,
                "version": stamp,
                "staleness": staleness,
                "status": "dropped" if dropped else "applied",
            }
        )
        version += 0 if dropped else 1
        running[slot] = (end, version)


def describe_schedule(tasks: Sequence[Mapping[str, Any]], mode: str, n_workers: int, duration: float) -> str:
    """Updates (sync: rounds; async: applied results), mean staleness of the applied results,
    results dropped and how busy the fast slots were, for a schedule of ``duration`` time units."""
    mode = check_choice("mode", mode, SCENARIO_MODES)
    applied = [t for t in tasks if t["status"] == "applied"]
    updates = len({t["version"] for t in tasks}) if mode == "sync" else len(applied)
    mean_tau = float(np.mean([t["staleness"] for t in applied])) if applied else math.nan
    text = f"{updates} updates, mean τ {mean_tau:.1f}, {len(tasks) - len(applied)} dropped"
    if n_workers > 1:
        busy = sum(t["end"] - t["start"] for t in tasks if t["slot"] != 0) / ((n_workers - 1) * duration)
        text += f", fast workers busy {busy:.0%}"
    return text
