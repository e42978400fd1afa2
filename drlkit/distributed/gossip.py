r"""Decentralised (gossip) averaging: no parameter server, every slot averages with its neighbours.

Every worker slot i keeps its own parameters. A round of ``"gossip"``:

1. *merge*: slot i averages the parameters its neighbours (and itself) ended the last
   round with, :math:`x_i = \sum_j W_{ij}\, y_j` (:mod:`drlkit.distributed.mixing`);
2. *local steps*: from :math:`x_i` it makes ``local_steps`` = K updates on its own
   experience and ends with :math:`y_i`.

Both happen in one task on slot i's worker. Its inputs are the Dask futures of the
neighbours' last outputs, so Dask moves each :math:`y_j` from worker j to worker i:
the parameters travel worker to worker, never through the driver. The driver only
schedules the rounds and records them. The first round starts every slot from the
driver's parameters.

The result is the *average model* :math:`\bar y = \frac1N\sum_i y_i` (a doubly stochastic
W keeps the average of the merges equal to it), which the driver's agent holds after
every round. ``result.consensus`` records, per round, the consensus distance
:math:`\frac1N\sum_i\lVert x_i - \bar x\rVert^2` of the merged states the slots continue
from. With ``graph="complete"`` (uniform weights 1/N) every :math:`x_i` is the exact mean
and the run equals ``"sync"``; sparser graphs move fewer bytes per slot (its degree
times the model size) and reach consensus more slowly, at the rate :math:`\lambda_2`
of W (its spectral gap :math:`1-\lambda_2`).

For the record and for faults, the driver also keeps a copy of every :math:`y_j`,
fetched with the round's report. Bytes are counted once per transfer: a row's
``bytes_received`` are the neighbours' parameters that came to the slot (its degree
times the model size; the driver's parameters in the first round) and its
``bytes_sent`` the copy it sent to the driver. A killed worker loses no slot's parameters: a task whose
inputs died with it is sent again with the driver's copies of the same :math:`y_j`,
so the slot resumes from its last merged state (its environments and optimizer state
restart on the new worker).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .engine import Run, Ticket
from .mixing import average_parameters, consensus_distance, weighted_mean
from .worker import Recipe, TaskReport, Work, count_fragment, payload_bytes, run_on_slot


def gossip_local(recipe: Recipe, inputs: dict[str, Any], work: Work) -> tuple[dict[str, np.ndarray], TaskReport]:
    """Worker task of one gossip round for ``work.slot``: merge ``inputs["params"]`` (the slot's own
    last parameters first, then its neighbours'; each a parameter dict or a previous task's
    ``(params, report)``) with ``inputs["weights"]``, then ``local_steps`` collect + learn_from."""
    params = [p[0] if isinstance(p, tuple) else p for p in inputs["params"]]
    merged = weighted_mean(params, inputs["weights"], own=0)

    def body(agent: Any, report: TaskReport) -> dict[str, np.ndarray]:
        for _ in range(work.local_steps):
            fragment = agent.collect(work.fragment_steps)
            fragment.version = work.version
            count_fragment(report, fragment)
            report.metrics.append(agent.learn_from(fragment))
        return agent.get_parameters()

    return run_on_slot(recipe, merged, work, body)


def neighbourhoods(weights: np.ndarray) -> list[list[int]]:
    """For each slot i: ``[i]`` then the slots j != i with W_ij > 0 (the inputs of its merge)."""
    n = len(weights)
    return [[i] + [j for j in range(n) if j != i and weights[i, j] > 0] for i in range(n)]


def merge_inputs(slot: int, weights: np.ndarray, neighbours: list[list[int]], sources: list[Any]) -> dict[str, Any]:
    """The inputs of ``slot``'s gossip task: its merge weights and the last parameters (futures of the
    last round's tasks, or the driver's copies of them) of itself and its neighbours, itself first."""
    return {
        "weights": [float(weights[slot, j]) for j in neighbours[slot]],
        "params": [sources[j] for j in neighbours[slot]],
    }


def run_gossip(run: Run, n_workers: int, local_steps: int, weights: np.ndarray) -> None:
    """Gossip rounds until the step budget is used (see module docstring)."""
    neighbours = neighbourhoods(weights)
    copies: list[dict[str, np.ndarray]] = [run.agent.get_parameters() for _ in range(n_workers)]
    nbytes = payload_bytes(copies[0])
    previous: list[Any] = []  # futures of the last round's tasks, by slot

    def resend_inputs(ticket: Ticket) -> dict[str, Any]:
        """A task lost with a worker: the same merge, from the driver's copies of the same parameters."""
        if not previous:
            return {"weights": [1.0], "params": [copies[ticket.slot]]}
        return merge_inputs(ticket.slot, weights, neighbours, copies)

    run.inputs_for_resend = resend_inputs
    round_index = 0
    while run.wants_more():
        slots = list(range(n_workers))
        if previous:
            inputs = [merge_inputs(i, weights, neighbours, previous) for i in slots]
            received = [nbytes * (len(neighbours[i]) - 1) for i in slots]
        else:  # the first round starts every slot from the driver's parameters
            inputs = [{"weights": [1.0], "params": [copies[i]]} for i in slots]
            received = [nbytes] * n_workers
        tickets = run.submit_many(slots, gossip_local, local_steps, round_index, inputs, received)
        arrived = run.wait_all(tickets)
        results = run.fetch(arrived)
        started = time.perf_counter()
        copies = [output for output, _ in results]
        previous = [t.future for t in arrived]
        reports = [report for _, report in results]
        merged = [weighted_mean(**_as_mean_args(merge_inputs(i, weights, neighbours, copies))) for i in slots]
        run.agent.set_parameters(average_parameters(copies))
        run.version += 1
        run.result.consensus.append(
            {
                "round": round_index,
                "wall_time": run.elapsed(),
                "step": run.agent.total_steps,
                "consensus_distance": consensus_distance(merged),
            }
        )
        run.record(
            arrived,
            reports,
            "applied",
            staleness=[0] * len(arrived),
            weights=[1.0 / n_workers] * len(arrived),
            apply_time=time.perf_counter() - started,
        )
        round_index += 1


def _as_mean_args(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"params": inputs["params"], "weights": inputs["weights"], "own": 0}
