"""Populations on the engine: one worker slot per member, each task carrying that member's own state.

The data-parallel modes of :func:`drlkit.distributed.train` send every slot the
same parameters. A *population* (population-based training, a set of DQN
learners with different exploration rates, Ape-X actors) gives each slot its
own: member ``i`` runs on slot ``i`` and its task carries a :class:`MemberJob`
(the member's parameters, optimizer state, hyperparameters and step count) in
place of the shared parameters (:meth:`Run.submit_many` with ``inputs``).

The authoritative state of every member stays on the driver. A worker that
dies loses only the task in flight; the engine books it ``lost`` and sends the
same job again, so no member is ever lost (only the time of one task).

Everything here is a thin layer over :class:`~drlkit.distributed.engine.Run`:
:func:`open_run` sets one up as :func:`drlkit.distributed.train` does,
:func:`run_round` runs one synchronous round (one task per member, results in
member order), and the worker tasks :func:`train_member` and
:func:`collect_member` are module-level functions workers import by name.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .._checks import check_number
from ..agents.base import Agent
from .cluster import check_worker_versions, resolve_client
from .engine import Run, Settings
from .result import DistributedResult
from .worker import Recipe, TaskReport, Work, count_fragment, slot_agent, worker_address


@dataclass
class MemberState:
    """What the driver keeps of one member: enough to continue its training anywhere.

    ``params`` as from :meth:`Agent.get_parameters`; ``optimizers`` the optimizers'
    ``state_dict`` (Adam's moments and step count); ``hparams`` the hyperparameters
    that differ between members (config field -> value); ``total_steps`` its env steps.
    """

    params: dict[str, np.ndarray]
    optimizers: dict[str, dict[str, Any]]
    hparams: dict[str, float]
    total_steps: int = 0

    def copy(self) -> MemberState:
        """A deep copy (parameters, optimizer state and hyperparameters share nothing)."""
        return MemberState(
            {k: v.copy() for k, v in self.params.items()},
            copy.deepcopy(self.optimizers),
            dict(self.hparams),
            self.total_steps,
        )


@dataclass
class MemberJob:
    """One task of a member: its ``state`` (None: the slot's freshly built agent with ``hparams``),
    then ``steps`` env steps of ``agent.train`` (``"train"``) or of ``agent.collect`` (``"collect"``)
    and ``eval_episodes`` greedy evaluation episodes (0: none)."""

    state: MemberState | None
    hparams: dict[str, float]
    steps: int
    kind: str = "train"
    eval_episodes: int = 0


@dataclass
class MemberOutcome:
    """What a member's task returns: its new state, its evaluation score (NaN without
    evaluation) and, for ``"collect"``, the fragment it collected."""

    state: MemberState | None
    score: float = float("nan")
    fragment: Any = None
    metrics: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------- member state
def member_state(agent: Agent, hparams: dict[str, float]) -> MemberState:
    """A copy of ``agent``'s parameters and optimizer state, with ``hparams``."""
    return MemberState(
        agent.get_parameters(),
        {name: copy.deepcopy(opt.state_dict()) for name, opt in agent.optimizers().items()},
        dict(hparams),
        int(agent.total_steps),
    )


def apply_hyperparameters(agent: Agent, hparams: dict[str, float]) -> None:
    """Set config fields of ``agent`` (validated) and, for ``learning_rate``, every optimizer's step size."""
    config = agent.config
    fields = {f.name: f for f in dataclasses.fields(config)}
    for name, value in hparams.items():
        if name not in fields:
            raise ValueError(f"{type(agent).__name__} has no hyperparameter {name!r}")
        setattr(config, name, int(value) if isinstance(getattr(config, name), int) else float(value))
    config.validate()
    if "learning_rate" in hparams:
        for optimizer in agent.optimizers().values():
            for group in optimizer.param_groups:
                group["lr"] = float(hparams["learning_rate"])


def load_member(agent: Agent, state: MemberState) -> None:
    """Make ``agent`` that member: parameters, optimizer state (those in ``state.optimizers``: an
    actor that only collects needs none), hyperparameters and step count."""
    agent.set_parameters(state.params)
    for name, optimizer in agent.optimizers().items():
        if name in state.optimizers:
            optimizer.load_state_dict(copy.deepcopy(state.optimizers[name]))
    apply_hyperparameters(agent, state.hparams)
    agent.total_steps = state.total_steps


# ------------------------------------------------------------------- worker tasks
def train_member(recipe: Recipe, job: MemberJob, work: Work) -> tuple[MemberOutcome, TaskReport]:
    """Load the member, train ``job.steps`` env steps with ``agent.train``, evaluate; return its new state."""
    return _member_task(recipe, job, work)


def collect_member(recipe: Recipe, job: MemberJob, work: Work) -> tuple[MemberOutcome, TaskReport]:
    """Load the member's parameters and step count, collect ``job.steps`` env steps; return the fragment."""
    return _member_task(recipe, job, work)


def _member_task(recipe: Recipe, job: MemberJob, work: Work) -> tuple[MemberOutcome, TaskReport]:
    report = TaskReport(slot=work.slot, version=work.version, address=worker_address(), pid=os.getpid())
    cached = slot_agent(recipe, work.slot)
    with cached.lock:
        start = time.perf_counter()
        agent = cached.agent
        if job.state is not None:
            load_member(agent, job.state)
        else:
            apply_hyperparameters(agent, job.hparams)
        if job.kind == "collect":
            fragment = agent.collect(job.steps)
            count_fragment(report, fragment)
            outcome = MemberOutcome(None, fragment=fragment)
        else:
            seen = len(agent.history)
            steps = agent.total_steps
            agent.train(job.steps)
            report.env_steps = agent.total_steps - steps
            frame = agent.history.to_frame().iloc[seen:]
            episodes = frame[frame.event == "episode"]
            report.episode_returns = episodes.episode_return.astype(float).tolist()
            report.episode_lengths = episodes.episode_length.astype(int).tolist()
            outcome = MemberOutcome(member_state(agent, job.hparams))
        if job.eval_episodes:
            outcome.score = float(agent.evaluate(job.eval_episodes).mean())
        report.compute_time = time.perf_counter() - start
    return outcome, report


# --------------------------------------------------------------------- driver side
def open_run(
    agent: Agent,
    n_members: int,
    total_steps: int,
    steps_per_task: int,
    *,
    mode: str,
    client: Any = None,
    seed: int | None = None,
    kill_worker_at: tuple[float, int] | None = None,
    worker_timeout: float = 30.0,
) -> Run:
    """A prepared :class:`Run` with ``n_members`` slots whose agents are rebuilt from ``agent.spec()``
    (slot ``i`` with seed :func:`~drlkit.distributed.worker.slot_seed` ``(seed, i)``)."""
    from .training import _check_kill, _recipe_blob

    seed = agent.seed if seed is None else check_number("seed", seed, low=0, integer=True)
    if kill_worker_at is not None:
        kill_worker_at = _check_kill(kill_worker_at, n_members)
    worker_timeout = check_number("worker_timeout", worker_timeout, low=0, low_open=True)
    blob = _recipe_blob(agent)
    client = resolve_client(client)
    try:
        client.wait_for_workers(1, timeout=worker_timeout)
    except TimeoutError:
        raise RuntimeError(f"no Dask worker joined the cluster within {worker_timeout:g} s") from None
    check_worker_versions(client)
    result = DistributedResult(
        agent=agent,
        mode=mode,
        n_workers=n_members,
        options={"total_steps": total_steps, "fragment_steps": steps_per_task, "seed": seed},
        metric_keys=(),
    )
    settings = Settings(
        total_steps=total_steps,
        n_slots=n_members,
        fragment_steps=steps_per_task,
        delays={},
        slowdown={},
        kill_worker_at=kill_worker_at,
        worker_timeout=worker_timeout,
    )
    recipe = Recipe(token=f"{mode}-{uuid.uuid4().hex[:12]}", blob=blob, seed=seed)
    run = Run(client, agent, recipe, settings, result, [], None, False)
    try:
        run.prepare()
    except BaseException:
        run.finish()
        raise
    return run


def run_round(
    run: Run, task: Callable[..., Any], jobs: Sequence[Any], round_index: int
) -> list[tuple[Any, TaskReport]]:
    """One task per member (member ``i`` on slot ``i``), all sent in one message; waits for every
    one (a lost task is sent again by the engine) and returns ``(outcome, report)`` in member order."""
    tickets = run.submit_many(range(len(jobs)), task, inputs=list(jobs), round=round_index)
    arrived = run.wait_all(tickets)
    results = run.fetch(arrived)
    run.version += 1
    run.record(arrived, [r for _, r in results], "applied", staleness=[0] * len(arrived))
    return results


def parameters_nbytes(params: dict[str, Any]) -> int:
    """Bytes of a dict of arrays or tensors (what a parameter or optimizer message weighs)."""
    total = 0
    for value in params.values():
        if isinstance(value, dict):
            total += parameters_nbytes(value)
        elif isinstance(value, torch.Tensor):
            total += value.numel() * value.element_size()
        else:
            total += int(getattr(value, "nbytes", 0))
    return total
