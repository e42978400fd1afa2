r"""Bounded staleness: stale-synchronous parallel (SSP), one knob between ``sync`` and ``async``.

Ho et al., "More effective distributed ML via a stale synchronous parallel parameter
server" (NeurIPS 2013). Every slot has a *clock*: the number of its results the server has
received. A slot whose clock is c may start its next task only while

.. math:: c \le \min_j c_j + s,

that is, at most ``staleness_bound`` = s tasks ahead of the slowest slot (the *admission
rule*, :func:`admitted`); otherwise it waits. ``s = 0`` is synchronous (everyone waits
for the slowest every round), ``s = None`` (∞) never waits, as in ``async``.

Each task loads the current θ (version v), makes ``local_steps`` updates and returns
θ_i. The driver adds its delta with weight 1/N,

.. math:: \theta \leftarrow \theta + \frac{1}{N}\,(\theta_i - \theta_v),

so that N results started from the same θ add up to their mean, exactly the ``sync``
merge. Results are applied lazily: the ones that arrived are merged together, as one
new version, right before new work is sent (or at the end). With ``s = 0`` that is
once per round with all N results -- the same records as ``sync`` (``sync_round`` is
the task's clock); with a large ``s`` a slot gets new work as soon as its result is
applied, as in ``async`` (one version per result, staleness recorded).
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from .compression import expand
from .engine import Run, Ticket
from .worker import TaskReport, local_updates


def admitted(clocks: Sequence[int], slot: int, staleness_bound: int | None) -> bool:
    """The SSP admission rule: may ``slot`` (with ``clocks[slot]`` results in) start its next task?"""
    if staleness_bound is None:
        return True
    return clocks[slot] <= min(clocks) + staleness_bound


def run_ssp(run: Run, n_workers: int, local_steps: int, staleness_bound: int | None) -> None:
    """Stale-synchronous parallel training until the step budget is used (see module docstring)."""
    per_task = run.settings.fragment_steps * local_steps
    clocks = [0] * n_workers
    # The parameters of every version that work still in flight (or arrived, not applied) started from.
    snapshots: dict[int, dict[str, np.ndarray]] = {run.version: run.agent.get_parameters()}
    in_flight: dict[int, Ticket] = {}
    waiting: set[int] = set(range(n_workers))
    arrived: list[tuple[Ticket, Any, TaskReport]] = []

    def send() -> None:
        ready = sorted((s for s in waiting if admitted(clocks, s, staleness_bound)), key=lambda s: (clocks[s], s))
        slots: list[int] = []
        for slot in ready:
            if not run.wants_more(per_task * len(slots)):
                break
            slots.append(slot)
        if not slots:
            return
        tickets = []
        for slot in slots:  # one message; each ticket's round is the slot's clock
            tickets.extend(run.submit_many([slot], local_updates, local_steps, clocks[slot]))
        for ticket in tickets:
            in_flight[ticket.slot] = ticket
            waiting.discard(ticket.slot)
        used = [t.work.version for t in in_flight.values()] + [a[0].work.version for a in arrived] + [run.version]
        for version in [v for v in snapshots if v < min(used)]:
            del snapshots[version]

    def apply() -> None:
        if not arrived:
            return
        started = time.perf_counter()
        batch = sorted(arrived, key=lambda a: a[0].slot)
        arrived.clear()
        theta = run.agent.get_parameters()
        deltas: dict[str, list[np.ndarray]] = {k: [] for k, v in theta.items() if np.issubdtype(v.dtype, np.floating)}
        for ticket, output, _ in batch:
            base = snapshots[ticket.work.version]
            theta_i = expand(output, base)
            for key in deltas:
                deltas[key].append(np.asarray(theta_i[key], dtype=np.float64) - base[key].astype(np.float64))
        merged = dict(theta)
        for key, values in deltas.items():
            merged[key] = (theta[key].astype(np.float64) + np.sum(values, axis=0) / n_workers).astype(theta[key].dtype)
        staleness = [run.version - t.work.version for t, _, _ in batch]
        run.agent.set_parameters(merged)
        run.version += 1
        snapshots[run.version] = merged
        run.record(
            [t for t, _, _ in batch],
            [r for _, _, r in batch],
            "applied",
            staleness=staleness,
            weights=[1.0 / n_workers] * len(batch),
            apply_time=time.perf_counter() - started,
        )

    send()
    while in_flight:
        ticket = run.wait_any()
        batch = [ticket]
        while (more := run.poll()) is not None:
            batch.append(more)
        for t in batch:
            del in_flight[t.slot]
        for t, (output, report) in zip(batch, run.fetch(batch)):
            arrived.append((t, output, report))
            clocks[t.slot] += 1
            waiting.add(t.slot)
        if run.stopped:
            break
        if any(admitted(clocks, s, staleness_bound) for s in waiting) or not in_flight:
            apply()
            if run.stopped:
                break
            send()
    if run.stopped:
        run.cancel(list(in_flight.values()))
    apply()
