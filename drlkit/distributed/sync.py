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

Many slots: ``reduce="tree"`` sums a round's results in a tree of merge tasks on the workers,
``tree_fanin`` results per merge (Dask moves the data from worker to worker; the driver receives
one sum and the slots' reports instead of N models). ``reduce="flat"`` sums them on the driver,
``"auto"`` (default) uses the tree from :data:`TREE_AUTO_SLOTS` slots on, unless
``backup_workers`` or ``round_timeout`` is set (a tree waits for all its slots). Both add the
same numbers in the same order (:mod:`drlkit.distributed.tree`), so their parameters are bitwise
equal; a tree round whose slot was sent again (its worker died) is merged on the driver.

Reproducibility: with fixed seeds and neither option, every round merges the
same workers' results in the same order, so two runs on clusters of the same
size give the same parameters (Dask may place a slot on another worker only
if one dies). Backup workers and timeouts make the kept set depend on timing.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from .compression import expand
from .engine import Run, Ticket
from .tree import delta_terms, finish_deltas, finish_gradients, gradient_terms, tree_sum
from .worker import fragment_gradients, local_updates, merge_leaf, merge_node

#: Slots merged per merge task (and the grouping of the sum on the driver) unless ``tree_fanin`` says otherwise.
TREE_FANIN = 8

#: ``reduce="auto"`` merges in a tree from this many slots per round on. Measured on 2 worker processes on
#: 2 cores (``python benchmarks/distributed.py --part tree``, README.md): from 32 slots on a tree round was
#: no slower than a flat one and the driver received 16x fewer bytes; at 16 slots the two were equal within
#: the noise, and a flat round has one hop fewer.
TREE_AUTO_SLOTS = 32

#: The values of ``train(reduce=...)``.
REDUCE_CHOICES = ("auto", "flat", "tree")


def average_deltas(
    theta: dict[str, np.ndarray], thetas: Sequence[dict[str, np.ndarray]], fanin: int = TREE_FANIN
) -> dict[str, np.ndarray]:
    r""":math:`\theta + \frac1N\sum_i(\theta_i - \theta)` for every floating-point array (in float64, then
    cast back to its dtype); other arrays (integer counters) keep the value of ``theta``.

    The sum adds ``fanin`` consecutive terms at a time, as a tree round's merge tasks do
    (:mod:`drlkit.distributed.tree`); with N <= ``fanin`` it is one left-to-right sum."""
    return finish_deltas(theta, tree_sum([delta_terms(theta, t) for t in thetas], fanin), len(thetas))


def mean_gradients(gradients: Sequence[dict[str, np.ndarray]], fanin: int = TREE_FANIN) -> dict[str, np.ndarray]:
    """Key-wise mean of the workers' gradients (float64 sum, float32 result), summed in groups of
    ``fanin`` as :func:`average_deltas`."""
    return finish_gradients(tree_sum([gradient_terms(g) for g in gradients], fanin), len(gradients))


def uses_tree(run: Run, reduce: str, n_workers: int, backup_workers: int, round_timeout: float | None) -> bool:
    """Whether the rounds of this run merge in a tree (module docstring). Merge tasks are Dask tasks:
    a run whose slots are not plain tasks (``run.settings.transport`` other than ``"tasks"``) merges flat."""
    if run.settings.transport != "tasks" or backup_workers or round_timeout is not None:
        return False
    return reduce == "tree" or (reduce == "auto" and n_workers >= TREE_AUTO_SLOTS)


def run_sync(
    run: Run,
    n_workers: int,
    local_steps: int,
    backup_workers: int,
    round_timeout: float | None,
    reduce: str = "auto",
    tree_fanin: int = TREE_FANIN,
) -> None:
    """Parameter averaging rounds until the step budget is used (see module docstring)."""
    tree = uses_tree(run, reduce, n_workers, backup_workers, round_timeout)
    round_index = run.version  # a resumed run continues its round numbers
    while run.wants_more():
        agent = run.agent
        theta = agent.get_parameters()
        tickets, reports, outputs, total = _round(
            run, local_updates, n_workers, local_steps, backup_workers, round_timeout, round_index, tree, tree_fanin
        )
        started = time.perf_counter()
        if total is None:
            outputs = [expand(output, theta) for output in outputs]  # compressed deltas (topk / quantize)
            agent.set_parameters(average_deltas(theta, outputs, tree_fanin))
        else:
            agent.set_parameters(finish_deltas(theta, total, len(tickets)))
        _book_round(run, tickets, reports, started)
        round_index += 1


def run_sync_grad(
    run: Run,
    n_workers: int,
    backup_workers: int,
    round_timeout: float | None,
    reduce: str = "auto",
    tree_fanin: int = TREE_FANIN,
) -> None:
    """Gradient averaging rounds until the step budget is used (see module docstring)."""
    tree = uses_tree(run, reduce, n_workers, backup_workers, round_timeout)
    round_index = run.version  # a resumed run continues its round numbers
    while run.wants_more():
        tickets, reports, outputs, total = _round(
            run, fragment_gradients, n_workers, 1, backup_workers, round_timeout, round_index, tree, tree_fanin
        )
        started = time.perf_counter()
        mean = mean_gradients(outputs, tree_fanin) if total is None else finish_gradients(total, len(tickets))
        run.agent.apply_gradients(mean)
        _book_round(run, tickets, reports, started)
        round_index += 1


def _book_round(run: Run, tickets: list[Ticket], reports: list, started: float) -> None:
    """One new version from the round just merged: one applied row per kept slot, weight 1/N each."""
    run.version += 1
    run.record(
        tickets,
        reports,
        "applied",
        staleness=[0] * len(tickets),
        weights=[1.0 / len(tickets)] * len(tickets),
        apply_time=time.perf_counter() - started,
    )


def _round(
    run: Run,
    task,
    n_workers: int,
    local_steps: int,
    backup_workers: int,
    round_timeout: float | None,
    round_index: int,
    tree: bool = False,
    fanin: int = TREE_FANIN,
) -> tuple[list[Ticket], list, list, Any]:
    """Send one round to ``n_workers + backup_workers`` slots; return the kept tickets, reports
    and outputs sorted by slot (a fixed merge order makes rounds reproducible), and ``None``.
    With ``tree``: merge tasks sum the results on the workers, and the fourth item is their
    sum (no outputs) -- or ``None`` with the outputs when the tree could not be used."""
    sent = run.submit_many(range(n_workers + backup_workers), task, local_steps=local_steps, round=round_index)
    if tree:
        kind, theta = ("deltas", run.sent_parameters()) if task is local_updates else ("gradients", None)
        merges = run.submit_tree(sent, fanin, merge_leaf, merge_node, (kind, theta))
        arrived = run.wait_all(sent)  # a task lost with its worker is sent again meanwhile
        merged = run.fetch_tree(merges)
        if merged is not None:
            return arrived, merged[1], [], merged[0]
        results = run.fetch(arrived)  # same sum, on the driver
        return arrived, [report for _, report in results], [output for output, _ in results], None
    deadline = None if round_timeout is None else run.elapsed() + round_timeout
    arrived = []
    while len(arrived) < n_workers:
        ticket = run.wait_any(deadline if arrived else None)  # a timeout still waits for the first result
        if ticket is None:
            break
        arrived.append(ticket)
    run.cancel([t for t in sent if t not in arrived])
    arrived.sort(key=lambda t: t.slot)
    results = run.fetch(arrived)
    return arrived, [report for _, report in results], [output for output, _ in results], None
