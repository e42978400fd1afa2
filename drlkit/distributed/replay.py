r"""Distributed prioritised replay, Ape-X style (Horgan et al., *Distributed Prioritized Experience Replay*, ICLR 2018).

Many *actors* (worker slots) play with copies of one DQN learner's network,
each with its own fixed exploration rate :math:`\varepsilon_i =
\varepsilon^{1 + 7 i / (N - 1)}` (ε = 0.4, the paper's choice). An actor
computes the *initial priority* of every transition it collects, :math:`|\delta|
+ \epsilon` with its own copy of the network, so new experience need not wait
for the learner to be ranked. Then one of two replays:

* ``replay="central"``: every transition, with its priority, is shipped to one
  prioritised buffer on the driver (:class:`~drlkit.agents.prioritized_replay.PrioritizedReplayBuffer`);
* ``replay="distributed"``: the transitions stay on the actor's worker, in a
  replay *shard* there (a prioritised buffer living in the worker process). The
  learner samples across shards by priority: it splits the batch between the
  shards in proportion to their priority totals :math:`T_j` (a multinomial
  draw), each shard samples its share with its sum-tree and returns the rows
  and their :math:`p_i^\alpha`; with :math:`T = \sum_j T_j` the learner has
  :math:`P(i) = p_i^\alpha / T` exactly as one buffer would give, and the
  importance weights follow (``N`` = all shards' sizes, ``min P`` from the
  shards' minima). The new priorities go back to the shards with the next
  request.

Only the sampled batches and the priorities travel instead of every transition:
:attr:`ReplayRunResult.bytes_moved` counts the array bytes each way (the
network's parameters to the actors, experience or samples to the learner,
priorities back), so the two can be compared. With one shard the learner sees
exactly what a central buffer gives (same batches, weights and updates).

A worker that dies takes its shard with it, as in Ape-X: replay is disposable
experience, the learner's state is on the driver; the shard starts empty again
on whatever worker runs that slot next.

Shapes: a batch is ``rows (B, 2 * obs_dim + 3)``, ``weights (B,)``; a shard's
reply ``rows (k, .)``, ``indices (k,)``, ``leaves (k,)`` (its :math:`p_i^\alpha`).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_choice, check_number
from ..agents.dqn import DQN, td_target
from ..agents.prioritized_replay import PRIORITY_EPS, PrioritizedReplayBuffer, importance_weights
from .engine import release_on_workers
from .population import MemberState, load_member, open_run, parameters_nbytes, run_round
from .worker import Recipe, TaskReport, Work, count_fragment, slot_agent

REPLAYS = ("central", "distributed")

_SHARDS: dict[tuple[str, int], PrioritizedReplayBuffer] = {}
_SHARDS_LOCK = threading.Lock()


def actor_epsilons(n_actors: int, epsilon: float = 0.4, alpha: float = 7.0) -> np.ndarray:
    r"""Ape-X's per-actor exploration rates :math:`\varepsilon^{1 + \alpha i / (N-1)}`, shape ``(N,)``."""
    n_actors = check_number("n_actors", n_actors, low=1, integer=True)
    if n_actors == 1:
        return np.array([epsilon])
    return epsilon ** (1 + alpha * np.arange(n_actors) / (n_actors - 1))


@torch.no_grad()
def initial_priorities(agent: DQN, data: dict[str, np.ndarray]) -> np.ndarray:
    """``|δ| + ε`` of every transition of a fragment, computed with ``agent``'s online network as both
    the online and the target network (an actor holds only one copy), shape ``(n,)``."""
    obs = torch.as_tensor(data["obs"].reshape(-1, data["obs"].shape[-1]), dtype=torch.float32)
    next_obs = torch.as_tensor(data["next_obs"].reshape(obs.shape), dtype=torch.float32)
    actions = torch.as_tensor(data["actions"].reshape(-1), dtype=torch.int64)
    rewards = torch.as_tensor(data["rewards"].reshape(-1), dtype=torch.float32)
    terminated = torch.as_tensor(data["terminated"].reshape(-1), dtype=torch.float32)
    q_next = agent.q_net(next_obs)
    target = td_target(rewards, terminated, q_next, agent.config.gamma, q_next if agent.config.double_dqn else None)
    q_taken = agent.q_net(obs).gather(1, actions[:, None]).squeeze(1)
    return (q_taken - target).abs().numpy().astype(np.float64) + PRIORITY_EPS


# ----------------------------------------------------------------------- shard side
@dataclass
class ShardStats:
    """A shard's size, total of its :math:`p^\\alpha` and smallest positive :math:`p^\\alpha`."""

    size: int
    total: float
    minimum: float


@dataclass
class SampleReply:
    rows: np.ndarray
    indices: np.ndarray
    leaves: np.ndarray
    stats: ShardStats


@dataclass
class ActorJob:
    """One actor task: the learner's parameters, the actor's ε, the steps to collect, and where the
    experience goes (``keep``: into this slot's shard; else back to the driver)."""

    params: dict[str, np.ndarray]
    epsilon: float
    steps: int
    total_steps: int
    keep: bool
    capacity: int
    alpha: float


@dataclass
class ActorReply:
    stats: ShardStats | None = None
    fragment: Any = None
    priorities: np.ndarray | None = None


@dataclass
class SampleJob:
    """A learner's request to one shard: first apply ``updates`` (indices, new priorities), then
    draw ``count`` rows with a generator seeded by ``seed``."""

    count: int
    seed: int
    updates: tuple[np.ndarray, np.ndarray] | None = None


def stats_of(buffer: PrioritizedReplayBuffer) -> ShardStats:
    return ShardStats(len(buffer), buffer.tree.total, buffer.tree.minimum)


def serve_sample(buffer: PrioritizedReplayBuffer, job: SampleJob) -> SampleReply:
    """What a shard does with a :class:`SampleJob` (also the central buffer's path, so the two agree)."""
    if job.updates is not None and len(buffer):
        indices, priorities = job.updates
        keep = indices < len(buffer)
        buffer.update_priorities(indices[keep], priorities[keep])
    if job.count == 0 or len(buffer) == 0 or buffer.tree.total <= 0:
        empty = np.zeros((0, buffer.rows.shape[1]), dtype=np.float32)
        return SampleReply(empty, np.zeros(0, dtype=np.int64), np.zeros(0), stats_of(buffer))
    indices = buffer.tree.sample(job.count, np.random.default_rng(job.seed))
    leaves = buffer.tree.sums[indices + buffer.tree.n_leaves].copy()
    return SampleReply(buffer.rows[indices], indices, leaves, stats_of(buffer))


def _shard(recipe: Recipe, slot: int, capacity: int, obs_dim: int, alpha: float) -> PrioritizedReplayBuffer:
    with _SHARDS_LOCK:
        key = (recipe.token, slot)
        if key not in _SHARDS:
            _SHARDS[key] = PrioritizedReplayBuffer(capacity, obs_dim, alpha)
        return _SHARDS[key]


def actor_task(recipe: Recipe, job: ActorJob, work: Work) -> tuple[ActorReply, TaskReport]:
    """Collect ``job.steps`` with the learner's parameters and ε, compute initial priorities, and keep
    the experience in this slot's shard or send it back."""
    report = TaskReport(slot=work.slot, version=work.version)
    cached = slot_agent(recipe, work.slot)
    with cached.lock:
        start = time.perf_counter()
        agent = cached.agent
        hparams = {"exploration_initial_eps": job.epsilon, "exploration_final_eps": job.epsilon}
        load_member(agent, MemberState(job.params, {}, hparams, job.total_steps))
        fragment = agent.collect(job.steps)
        count_fragment(report, fragment)
        priorities = initial_priorities(agent, fragment.data)
        if job.keep:
            shard = _shard(recipe, work.slot, job.capacity, agent.replay.obs_dim, job.alpha)
            d = fragment.data
            shard.add(d["obs"], d["actions"], d["rewards"], d["next_obs"], d["terminated"], priorities=priorities)
            reply = ActorReply(stats=stats_of(shard))
        else:
            reply = ActorReply(fragment=fragment, priorities=priorities)
        report.compute_time = time.perf_counter() - start
    return reply, report


def sample_task(recipe: Recipe, job: SampleJob, work: Work) -> tuple[SampleReply, TaskReport]:
    """Serve one :class:`SampleJob` from this slot's shard (empty if the shard was lost with a worker)."""
    report = TaskReport(slot=work.slot, version=work.version)
    start = time.perf_counter()
    with _SHARDS_LOCK:
        shard = _SHARDS.get((recipe.token, work.slot))
    if shard is None:
        reply = SampleReply(np.zeros((0, 1), dtype=np.float32), np.zeros(0, np.int64), np.zeros(0), ShardStats(0, 0, 0))
    else:
        reply = serve_sample(shard, job)
    report.compute_time = time.perf_counter() - start
    return reply, report


def drop_shards(token: str) -> int:
    """Free this run's shards in the worker process (run on every worker at the end)."""
    with _SHARDS_LOCK:
        keys = [k for k in _SHARDS if k[0] == token]
        for key in keys:
            del _SHARDS[key]
    return len(keys)


# --------------------------------------------------------------------- learner side
def prioritized_step(agent: DQN, rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
    """One Adam step of ``agent`` on ``rows (B, .)`` with importance ``weights (B,)`` (DQN's loss, each
    transition's Huber loss weighted); returns the new priorities ``|δ| + ε`` ``(B,)`` and the loss."""
    batch = agent.replay.unpack(torch.as_tensor(rows))
    target = agent._td_targets(batch)
    q_taken = agent.q_net(batch["obs"]).gather(1, batch["actions"].long()[:, None]).squeeze(1)
    loss = (torch.as_tensor(weights) * F.smooth_l1_loss(q_taken, target, reduction="none")).mean()
    agent.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if agent.config.max_grad_norm is not None:
        nn.utils.clip_grad_norm_(agent.q_net.parameters(), agent.config.max_grad_norm)
    agent.optimizer.step()
    agent._n_updates += 1
    if agent._n_updates % agent.config.target_update_interval == 0:
        agent._update_target()
    return (q_taken - target).detach().abs().numpy().astype(np.float64) + PRIORITY_EPS, float(loss.detach())


@dataclass
class ReplayRunResult:
    """What :func:`train_apex` returns: the learner, one record per round (``round, step, updates,
    mean_return, loss, wall_time``), the finished episodes and the bytes moved each way."""

    agent: DQN
    replay: str
    records: list[dict[str, Any]] = field(default_factory=list)
    episodes: list[dict[str, Any]] = field(default_factory=list)
    bytes_moved: dict[str, int] = field(default_factory=dict)
    updates: int = 0
    learn_time: float = 0.0
    wall_time: float = 0.0

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.records)

    def updates_per_second(self) -> float:
        """Learner gradient steps per second of the whole run."""
        return self.updates / self.wall_time if self.wall_time > 0 else math.nan


def train_apex(
    agent: DQN,
    *,
    n_actors: int,
    total_steps: int,
    replay: str = "distributed",
    fragment_steps: int | None = None,
    updates_per_round: int | None = None,
    shard_capacity: int | None = None,
    seed: int | None = None,
    client: Any = None,
    worker_timeout: float = 30.0,
) -> ReplayRunResult:
    """Train ``agent`` (a DQN with ``prioritized_replay``'s α and β) from ``n_actors`` actors (see module docstring).

    Each round the actors collect ``fragment_steps`` env steps each, then the learner (this
    process) takes ``updates_per_round`` gradient steps (default ``agent.config.gradient_steps``)
    on prioritised batches, once the replay holds ``max(learning_starts, batch_size)`` transitions.
    ``shard_capacity`` (default ``agent.config.buffer_size // n_actors``): transitions per shard;
    the central buffer holds ``n_actors * shard_capacity``.
    """
    if not isinstance(agent, DQN):
        raise TypeError(f"agent must be a drlkit DQN, got {type(agent).__name__}")
    n_actors = check_number("n_actors", n_actors, low=1, high=1024, integer=True)
    total_steps = check_number("total_steps", total_steps, low=1, integer=True)
    check_choice("replay", replay, REPLAYS)
    cfg = agent.config
    fragment_steps = (
        cfg.train_freq
        if fragment_steps is None
        else check_number("fragment_steps", fragment_steps, low=1, integer=True)
    )
    updates_per_round = (
        cfg.gradient_steps
        if updates_per_round is None
        else check_number("updates_per_round", updates_per_round, low=1, integer=True)
    )
    shard_capacity = (
        max(cfg.buffer_size // n_actors, cfg.batch_size)
        if shard_capacity is None
        else check_number("shard_capacity", shard_capacity, low=1, integer=True)
    )
    seed = agent.seed if seed is None else check_number("seed", seed, low=0, integer=True)
    rng = np.random.default_rng(seed)
    epsilons = actor_epsilons(n_actors)
    distributed = replay == "distributed"
    central = PrioritizedReplayBuffer(n_actors * shard_capacity, agent.replay.obs_dim, cfg.priority_alpha)
    stats = [ShardStats(0, 0.0, math.inf) for _ in range(n_actors)]
    pending: list[tuple[np.ndarray, np.ndarray] | None] = [None] * n_actors
    moved = {"parameters": 0, "experience": 0, "samples": 0, "priorities": 0}
    result = ReplayRunResult(agent, replay, bytes_moved=moved)
    n_rounds = math.ceil(total_steps / (n_actors * fragment_steps))
    starts = max(cfg.learning_starts, cfg.batch_size)
    run = open_run(
        agent,
        n_actors,
        n_rounds * n_actors * fragment_steps,
        fragment_steps,
        mode=f"apex_{replay}",
        client=client,
        seed=seed,
        worker_timeout=worker_timeout,
    )
    started = time.perf_counter()
    try:
        for round_index in range(n_rounds):
            params = agent.get_parameters()
            jobs = [
                ActorJob(
                    params, float(e), fragment_steps, agent.total_steps, distributed, shard_capacity, cfg.priority_alpha
                )
                for e in epsilons
            ]
            moved["parameters"] += n_actors * parameters_nbytes(params)
            returns: list[float] = []
            for j, (reply, report) in enumerate(run_round(run, actor_task, jobs, 2 * round_index)):
                returns += report.episode_returns
                if distributed:
                    assert reply.stats is not None
                    stats[j] = reply.stats
                else:
                    d = reply.fragment.data
                    moved["experience"] += parameters_nbytes(d) + reply.priorities.nbytes
                    central.add(d["obs"], d["actions"], d["rewards"], d["next_obs"], d["terminated"], reply.priorities)
            for ret in returns:
                result.episodes.append({"step": agent.total_steps, "episode_return": ret})
            size = sum(s.size for s in stats) if distributed else len(central)
            losses: list[float] = []
            if size >= starts:
                t0 = time.perf_counter()
                losses = _learn(
                    agent, run, rng, distributed, central, stats, pending, moved, updates_per_round, round_index
                )
                result.learn_time += time.perf_counter() - t0
                result.updates += len(losses)
            result.records.append(
                {
                    "round": round_index,
                    "step": agent.total_steps,
                    "updates": result.updates,
                    "mean_return": float(np.mean(returns)) if returns else math.nan,
                    "loss": float(np.mean(losses)) if losses else math.nan,
                    "wall_time": time.perf_counter() - started,
                }
            )
    finally:
        result.wall_time = time.perf_counter() - started
        token = run.recipe.token
        run.finish()
        if distributed:
            release_on_workers(run.client, drop_shards, token)
    return result


def split_batch(totals: Any, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """How many of ``n`` draws each shard serves -- multinomial in proportion to the shards' priority
    ``totals (S,)`` -- and a seed for each shard's draws: ``(counts (S,), seeds (S,))``."""
    totals = np.asarray(totals, dtype=float)
    counts = rng.multinomial(n, totals / totals.sum()) if len(totals) > 1 else np.array([n])
    return counts, rng.integers(2**63 - 1, size=len(totals))


def combine_replies(
    replies: list[SampleReply], beta: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The shards' samples as one shuffled batch: ``(rows (n, .), shard (n,), index (n,), weights (n,))``,
    with :math:`P(i) = p_i^\\alpha / \\sum_j T_j` and the importance weights over all shards together."""
    total = sum(r.stats.total for r in replies)
    size = sum(r.stats.size for r in replies)
    smallest = min((r.stats.minimum for r in replies if r.stats.size), default=math.inf)
    rows = np.concatenate([r.rows for r in replies if len(r.rows)])
    shard_of = np.concatenate([np.full(len(r.rows), j) for j, r in enumerate(replies)])
    indices = np.concatenate([r.indices for r in replies])
    leaves = np.concatenate([r.leaves for r in replies])
    weights = importance_weights(leaves / total, size, beta, smallest / total)
    order = rng.permutation(len(rows))  # a batch mixes the shards
    return rows[order], shard_of[order], indices[order], weights[order]


def _learn(
    agent: DQN,
    run: Any,
    rng: np.random.Generator,
    distributed: bool,
    central: PrioritizedReplayBuffer,
    stats: list[ShardStats],
    pending: list[tuple[np.ndarray, np.ndarray] | None],
    moved: dict[str, int],
    n_updates: int,
    round_index: int,
) -> list[float]:
    """Sample ``n_updates`` batches by priority, take that many gradient steps, queue the new priorities."""
    cfg = agent.config
    n = n_updates * cfg.batch_size
    n_shards = len(stats)
    totals = np.array([s.total for s in stats]) if distributed else np.array([central.tree.total])
    if totals.sum() <= 0:
        return []
    counts, seeds = split_batch(totals, n, rng)
    jobs = [SampleJob(int(c), int(s), pending[j]) for j, (c, s) in enumerate(zip(counts, seeds))]
    if distributed:
        for job in jobs:
            if job.updates is not None:  # the new priorities travel to the shards with the request
                moved["priorities"] += job.updates[0].nbytes + job.updates[1].nbytes
        replies = [reply for reply, _ in run_round(run, sample_task, jobs, 2 * round_index + 1)]
    else:
        replies = [serve_sample(central, jobs[0])]
    pending[:] = [None] * n_shards
    for j, reply in enumerate(replies):
        if distributed:
            stats[j] = reply.stats
            moved["samples"] += reply.rows.nbytes + reply.indices.nbytes + reply.leaves.nbytes
    if not any(len(r.rows) for r in replies) or sum(r.stats.total for r in replies) <= 0:
        return []  # every shard was lost with its worker: nothing to learn from this round
    rows, shard_of, indices, weights = combine_replies(replies, cfg.priority_beta, rng)
    losses = []
    new_priorities = np.empty(len(rows))
    for k in range(len(rows) // cfg.batch_size):
        batch = slice(k * cfg.batch_size, (k + 1) * cfg.batch_size)
        new_priorities[batch], loss = prioritized_step(agent, rows[batch], weights[batch])
        losses.append(loss)
    used = len(losses) * cfg.batch_size
    for j in range(len(replies)):
        mine = np.flatnonzero(shard_of[:used] == j)
        if len(mine):
            pending[j] = (indices[mine], new_priorities[mine])
    return losses
