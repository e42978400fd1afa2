r"""Synchronous modes: every round all workers start from the same parameters θ and the driver waits.

``"sync"`` -- synchronous parameter averaging (local SGD / federated averaging).
Each of the N workers loads θ, makes ``local_steps`` = K updates on its own
experience (K times ``collect`` + ``learn_from`` on its own copy of the agent,
with its own optimizer state) and returns its parameters θ_i. The driver moves
θ to their mean:

.. math:: \theta \leftarrow \theta + \frac{1}{N}\sum_{i=1}^{N} (\theta_i - \theta) = \frac{1}{N}\sum_i \theta_i .

``"sync_grad"`` -- synchronous gradient averaging (data-parallel SGD). Each
worker collects a fragment with θ and returns the gradient g_i of the loss at
θ; the driver takes one optimizer step with :math:`\bar g = \frac1N\sum_i g_i`
(its own optimizer, e.g. Adam). With equal fragment sizes this is the gradient
of the loss over all N fragments together: one big batch split over machines.

A round lasts as long as its slowest worker. Two ways around stragglers:

* ``backup_workers=b``: send the round to N+b workers, keep the first N results
  and cancel the rest;
* ``round_timeout=s``: after s seconds keep what has arrived (at least one
  result) and cancel the rest.

Reproducibility: with fixed seeds and neither option, every round merges the
same workers' results in the same order, so two runs on clusters of the same
size give the same parameters (Dask may place a slot on another worker only
if one dies). Backup workers and timeouts make the kept set depend on timing.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from .compression import expand
from .engine import Run, Ticket
from .worker import fragment_gradients, local_updates


def average_deltas(theta: dict[str, np.ndarray], thetas: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    r""":math:`\theta + \frac1N\sum_i(\theta_i - \theta)` for every floating-point array (in float64, then
    cast back to its dtype); other arrays (integer counters) keep the value of ``theta``."""
    merged = {}
    for key, value in theta.items():
        if np.issubdtype(value.dtype, np.floating):
            base = value.astype(np.float64)
            delta = np.mean([np.asarray(t[key], dtype=np.float64) - base for t in thetas], axis=0)
            merged[key] = (base + delta).astype(value.dtype)
        else:
            merged[key] = value.copy()
    return merged


def mean_gradients(gradients: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Key-wise mean of the workers' gradients (float64 sum, float32 result)."""
    return {
        key: np.mean([np.asarray(g[key], dtype=np.float64) for g in gradients], axis=0).astype(np.float32)
        for key in gradients[0]
    }


def run_sync(run: Run, n_workers: int, local_steps: int, backup_workers: int, round_timeout: float | None) -> None:
    """Parameter averaging rounds until the step budget is used (see module docstring)."""
    round_index = run.version  # a resumed run continues its round numbers
    while run.wants_more():
        tickets, reports, outputs = _round(
            run, local_updates, n_workers, local_steps, backup_workers, round_timeout, round_index
        )
        started = time.perf_counter()
        agent = run.agent
        theta = agent.get_parameters()
        outputs = [expand(output, theta) for output in outputs]  # compressed deltas (topk / quantize)
        agent.set_parameters(average_deltas(theta, outputs))
        run.version += 1
        run.record(
            tickets,
            reports,
            "applied",
            staleness=[0] * len(tickets),
            weights=[1.0 / len(tickets)] * len(tickets),
            apply_time=time.perf_counter() - started,
        )
        round_index += 1


def run_sync_grad(run: Run, n_workers: int, backup_workers: int, round_timeout: float | None) -> None:
    """Gradient averaging rounds until the step budget is used (see module docstring)."""
    round_index = run.version  # a resumed run continues its round numbers
    while run.wants_more():
        tickets, reports, outputs = _round(
            run, fragment_gradients, n_workers, 1, backup_workers, round_timeout, round_index
        )
        started = time.perf_counter()
        run.agent.apply_gradients(mean_gradients(outputs))
        run.version += 1
        run.record(
            tickets,
            reports,
            "applied",
            staleness=[0] * len(tickets),
            weights=[1.0 / len(tickets)] * len(tickets),
            apply_time=time.perf_counter() - started,
        )
        round_index += 1


def _round(
    run: Run, task, n_workers: int, local_steps: int, backup_workers: int, round_timeout: float | None, round_index: int
) -> tuple[list[Ticket], list, list]:
    """Send one round to ``n_workers + backup_workers`` slots; return the kept tickets,
    reports and outputs sorted by slot (a fixed merge order makes rounds reproducible)."""
    sent = run.submit_many(range(n_workers + backup_workers), task, local_steps=local_steps, round=round_index)
    deadline = None if round_timeout is None else run.elapsed() + round_timeout
    arrived: list[Ticket] = []
    while len(arrived) < n_workers:
        ticket = run.wait_any(deadline if arrived else None)  # a timeout still waits for the first result
        if ticket is None:
            break
        arrived.append(ticket)
    run.cancel([t for t in sent if t not in arrived])
    arrived.sort(key=lambda t: t.slot)
    results = run.fetch(arrived)
    return arrived, [report for _, report in results], [output for output, _ in results]
