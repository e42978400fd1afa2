"""The tasks Dask workers run for :func:`drlkit.distributed.train`.

These are module-level functions, so a worker (or a ``dask scheduler`` started
from the command line) can import them by name; nothing here is a closure.

Each worker keeps, per training run and per *slot* (one stream of experience,
numbered 0..n-1), an agent rebuilt from the driver's recipe with its own seed
:func:`slot_seed`. It holds that stream's environments (episodes continue from
one task to the next) and, for the parameter-averaging modes, its own
optimizer state. This cache only saves rebuilding the agent: every task first
loads the parameters it is given, so a task retried on another worker (whose
cache starts empty) still computes a correct result.

Every task returns its output and a :class:`TaskReport` that tells the driver
where and how long it ran.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import importlib
import os
import pickle
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Slot agents kept per worker process (least recently used ones are dropped).
MAX_CACHED_AGENTS = 32

_CACHE: collections.OrderedDict[tuple[str, int], _SlotAgent] = collections.OrderedDict()
_CACHE_LOCK = threading.Lock()


def slot_seed(seed: int, slot: int) -> int:
    """Seed of the agent that runs worker slot ``slot`` for a run with base seed ``seed``.

    Distinct from ``seed`` itself, so the workers' environments never replay the
    driver's own stream. (Agents draw their env seeds from their generator,
    so nearby seeds give unrelated streams.)
    """
    return seed + 1000 * (slot + 1)


@dataclass(frozen=True)
class Recipe:
    """What a worker needs to rebuild the driver's kind of agent.

    ``token`` names the driver-side agent (slot agents are cached under it);
    ``blob`` is the pickled ``(module, AgentSpec)`` -- kept as bytes so that a
    scheduler relaying the task never has to import torch or the agent class.
    """

    token: str
    blob: bytes
    seed: int
    #: Per-slot environment variants: slot i's env is ``make_variant(env, **slot_env_kwargs[i])``
    #: (empty: every slot runs the driver's env). Part of ``token``, so variants are cached apart.
    slot_env_kwargs: tuple[dict[str, Any], ...] = ()


@dataclass
class TaskReport:
    """Where and how one task ran (filled in on the worker).

    ``compute_time`` is the real work (seconds), ``delay_time`` the artificial
    slow-down added on purpose (stragglers); ``metrics`` has one dict per
    update the task made (empty when it only collected).
    """

    slot: int
    version: int
    address: str = ""
    pid: int = 0
    env_steps: int = 0
    compute_time: float = 0.0
    delay_time: float = 0.0
    episode_returns: list[float] = field(default_factory=list)
    episode_lengths: list[int] = field(default_factory=list)
    metrics: list[dict[str, float]] = field(default_factory=list)
    #: Multi-agent learners: each episode's return per agent (empty for single-agent fragments).
    episode_agent_returns: list[list[float]] = field(default_factory=list)
    #: Payload bytes of the task's output (:func:`payload_bytes`): what the worker sends back.
    bytes_out: int = 0


@dataclass
class Work:
    """The per-task settings: slot, parameter version, env steps so far on the driver, fragment
    size, local updates, and the artificial delay (seconds) and slow-down factor of this slot."""

    slot: int
    version: int
    global_steps: int
    fragment_steps: int
    local_steps: int = 1
    delay: float = 0.0
    slowdown: float = 1.0
    #: Mode options the task applies: ``prox_mu`` (FedProx), ``topk`` and ``quantize`` (compression).
    options: dict[str, Any] = field(default_factory=dict)


# -------------------------------------------------------------------- tasks
def collect_fragment(recipe: Recipe, params: dict[str, np.ndarray], work: Work) -> tuple[Any, TaskReport]:
    """Load ``params`` and collect one fragment with them (no learning): ``(Fragment, report)``."""

    def body(agent: Any, report: TaskReport) -> Any:
        fragment = agent.collect(work.fragment_steps)
        fragment.version = work.version
        count_fragment(report, fragment)
        return fragment

    return run_on_slot(recipe, params, work, body)


def local_updates(
    recipe: Recipe, params: dict[str, np.ndarray], work: Work
) -> tuple[dict[str, np.ndarray], TaskReport]:
    """Load ``params`` (θ), then ``local_steps`` times collect + learn_from; return the new
    parameters θ_i and the report (one metrics dict per local update).

    ``work.options``: ``prox_mu`` = μ (FedProx) follows every local update with the proximal step
    of μ/2‖w − θ‖², w <- (w + μθ)/(1 + μ); ``topk``/``quantize`` return θ_i − θ compressed with
    the slot's error feedback (:mod:`drlkit.distributed.compression`) instead of θ_i."""
    mu = work.options.get("prox_mu")
    topk, quantize = work.options.get("topk"), bool(work.options.get("quantize"))

    def body(agent: Any, report: TaskReport) -> Any:
        for _ in range(work.local_steps):
            fragment = agent.collect(work.fragment_steps)
            fragment.version = work.version
            count_fragment(report, fragment)
            report.metrics.append(agent.learn_from(fragment))
            if mu is not None:
                agent.set_parameters(proximal_step(agent.get_parameters(), params, float(mu)))
        theta_i = agent.get_parameters()
        if topk is None and not quantize:
            return theta_i
        from .compression import compress_with_feedback

        cached = slot_agent(recipe, work.slot)
        compressed, cached.residual = compress_with_feedback(params, theta_i, cached.residual, topk, quantize)
        return compressed

    return run_on_slot(recipe, params, work, body)


def proximal_step(w: dict[str, np.ndarray], theta: dict[str, np.ndarray], mu: float) -> dict[str, np.ndarray]:
    r"""The proximal step of :math:`\frac{\mu}{2}\lVert w - \theta\rVert^2` with unit step size,
    :math:`w \leftarrow (w + \mu\theta) / (1 + \mu)` (float64, cast back); μ = 0 returns ``w`` unchanged."""
    out = {}
    for key, value in w.items():
        if np.issubdtype(value.dtype, np.floating):
            mixed = (value.astype(np.float64) + mu * np.asarray(theta[key], dtype=np.float64)) / (1.0 + mu)
            out[key] = mixed.astype(value.dtype)
        else:
            out[key] = value
    return out


def fragment_gradients(
    recipe: Recipe, params: dict[str, np.ndarray], work: Work
) -> tuple[dict[str, np.ndarray], TaskReport]:
    """Load ``params`` (θ), collect one fragment and return the gradient of the loss on it at θ."""

    def body(agent: Any, report: TaskReport) -> dict[str, np.ndarray]:
        fragment = agent.collect(work.fragment_steps)
        fragment.version = work.version
        count_fragment(report, fragment)
        gradients, metrics = agent.compute_gradients(fragment)
        report.metrics.append(metrics)
        return gradients

    return run_on_slot(recipe, params, work, body)


def prepare_slot(recipe: Recipe, slot: int) -> str:
    """Build (or find) the slot's agent ahead of training, so that importing torch and making
    environments is not timed as training; returns the worker's address."""
    slot_agent(recipe, slot)
    return worker_address()


# ------------------------------------------------------- tree reduction (reduce="tree")
# A synchronous round's sum computed by merge tasks on the workers (see drlkit/distributed/tree.py
# for the arithmetic): a leaf takes ``fanin`` slot results, an inner node ``fanin`` lower sums;
# each returns ``(float64 sum, the TaskReports of its slots in slot order)``. Dask passes the
# children's results from worker to worker; the driver fetches only the root.
def merge_leaf(
    kind: str, theta: dict[str, np.ndarray] | None, *children: tuple[Any, TaskReport]
) -> tuple[dict[str, np.ndarray], list[TaskReport]]:
    """Sum of the terms of consecutive slots' ``(output, report)`` results, left to right; ``kind``
    ``"deltas"`` (``sync``: θ_i − θ, ``theta`` = θ) or ``"gradients"`` (``sync_grad``)."""
    from .tree import add_terms, delta_terms, gradient_terms

    if kind == "deltas":
        assert theta is not None
        terms = [delta_terms(theta, output) for output, _ in children]
    else:
        terms = [gradient_terms(output) for output, _ in children]
    return add_terms(terms), [report for _, report in children]


def merge_node(
    *children: tuple[dict[str, np.ndarray], list[TaskReport]],
) -> tuple[dict[str, np.ndarray], list[TaskReport]]:
    """Sum of lower merge results, left to right, with their reports concatenated in order."""
    from .tree import add_terms

    return add_terms([total for total, _ in children]), [report for _, reports in children for report in reports]


async def kill_this_process() -> None:
    """End this worker process at once, as a crash would (its nanny, if any, starts a new one).

    A coroutine so that ``client.run(..., wait=False)`` can schedule it on the worker's event loop."""
    if hasattr(signal, "SIGKILL"):
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(1)


# ------------------------------------------------------------------ helpers
@dataclass
class _SlotAgent:
    agent: Any
    lock: threading.Lock
    #: Error-feedback residual of compressed deltas (see :mod:`drlkit.distributed.compression`).
    residual: dict[str, np.ndarray] | None = None


def run_on_slot(recipe: Recipe, params: dict[str, np.ndarray], work: Work, body: Any) -> tuple[Any, TaskReport]:
    """Run ``body(agent, report)`` on the slot's cached agent loaded with ``params``: ``(output, report)``."""
    report = TaskReport(slot=work.slot, version=work.version, address=worker_address(), pid=os.getpid())
    cached = slot_agent(recipe, work.slot)
    with cached.lock:  # two tasks of one slot never share its envs at once (threads_per_worker > 1)
        start = time.perf_counter()
        agent = cached.agent
        agent.set_parameters(params)
        # Schedules inside the agent (exploration, annealing) follow the run's total progress.
        agent.total_steps = work.global_steps
        output = body(agent, report)
        report.compute_time = time.perf_counter() - start
    report.bytes_out = payload_bytes(output)
    report.delay_time = work.delay + (work.slowdown - 1.0) * report.compute_time
    if report.delay_time > 0:
        time.sleep(report.delay_time)
    return output, report


def slot_agent(recipe: Recipe, slot: int) -> _SlotAgent:
    """The agent of ``slot`` cached in this process (built from ``recipe`` on first use, with its lock)."""
    key = (recipe.token, slot)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    module, spec = pickle.loads(recipe.blob)
    importlib.import_module(module)  # registers the algorithm class in drlkit.agents.ALGORITHMS
    if recipe.slot_env_kwargs:
        import dataclasses
        import functools

        from ..envs.variants import make_variant

        kwargs = recipe.slot_env_kwargs[slot % len(recipe.slot_env_kwargs)]
        spec = dataclasses.replace(spec, env=functools.partial(make_variant, spec.env, **kwargs))
    cached = _SlotAgent(spec.build(seed=slot_seed(recipe.seed, slot)), threading.Lock())
    with _CACHE_LOCK:
        cached = _CACHE.setdefault(key, cached)
        while len(_CACHE) > MAX_CACHED_AGENTS:
            _CACHE.popitem(last=False)
    return cached


def count_fragment(report: TaskReport, fragment: Any) -> None:
    """Add the env steps and finished episodes of ``fragment`` to ``report``."""
    report.env_steps += int(fragment.n_steps)
    report.episode_returns.extend(float(r) for r in fragment.episode_returns)
    report.episode_lengths.extend(int(n) for n in fragment.episode_lengths)
    data = getattr(fragment, "data", None)
    if isinstance(data, dict) and "episode_agent_returns" in data:
        report.episode_agent_returns.extend(np.asarray(data["episode_agent_returns"], dtype=float).tolist())


def payload_bytes(value: Any) -> int:
    """Bytes of the numbers in ``value``: ``nbytes`` of every numpy array (and torch tensor) found in
    dicts, lists, tuples and dataclass/object attributes, 8 per Python number; strings and None
    count nothing. This is what a message carries beyond its framing."""
    if isinstance(value, np.ndarray | np.generic):
        return int(value.nbytes)
    if isinstance(value, bool | int | float):
        return 8
    if value is None or isinstance(value, str | bytes):
        return len(value) if isinstance(value, bytes) else 0
    if isinstance(value, dict):
        return sum(payload_bytes(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(payload_bytes(v) for v in value)
    nbytes = getattr(value, "nbytes", None)  # torch tensors and the like
    if isinstance(nbytes, int):
        return nbytes
    if hasattr(value, "__dict__"):
        return sum(payload_bytes(v) for k, v in vars(value).items() if not k.startswith("_"))
    return 0


def worker_address() -> str:
    """The Dask address of the worker running this code, or ``"local"`` outside a worker."""
    try:
        from distributed import get_worker

        return get_worker().address
    except ValueError:  # called outside a worker (tests calling the task directly)
        return "local"


# ------------------------------------------------------------- direct calls
class SlotServer:
    """A Dask Actor on one worker through which the driver calls the tasks above directly
    (``train(..., transport="actors")``): one message to the worker and one back per task,
    with no scheduler in between.

    It holds no training state (the slot agents live in this process's cache, as for
    ordinary tasks), so losing it loses nothing but the calls in flight, which the driver
    sends again as ordinary tasks.
    """

    async def call(self, message: bytes, params: bytes) -> bytes:
        """Run the pickled call ``message = (task, recipe, work)`` with the pickled ``params`` in one of
        the worker's task threads (so calls for several slots run in parallel, as ordinary tasks would)
        and return the pickled ``(output, report)``. The worker unpickles and pickles in the task
        thread, not on its event loop, which stays free to read the next message (plain pickle of the
        numpy arrays is also cheaper than Dask's message serialization of nested containers)."""
        from distributed import get_worker

        worker = get_worker()
        context = contextvars.copy_context()  # get_worker() keeps working inside the thread
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(worker.executors["default"], context.run, _serve_call, message, params)


def _serve_call(message: bytes, params: bytes) -> bytes:
    task, recipe, work = pickle.loads(message)
    return pickle.dumps(task(recipe, pickle.loads(params), work), protocol=pickle.HIGHEST_PROTOCOL)
