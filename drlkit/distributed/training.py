"""``drlkit.distributed.train``: train a drlkit agent on a Dask cluster in one of five modes.

>>> import drlkit
>>> from drlkit.agents.ppo import PPO
>>> agent = PPO("CartPole-v1", seed=0)
>>> with drlkit.cluster(n_workers=2):                                   # doctest: +SKIP
...     result = drlkit.distributed.train(agent, mode="async", total_steps=100_000)
>>> result.agent.evaluate().mean(), result.to_frame().staleness.mean()  # doctest: +SKIP

The parameters that count live on the driver (this Python process, e.g. the
notebook): workers get copies, so a worker process that dies loses only the
task it was running, which the driver sends again to another worker. The agent you
pass in is trained in place (``result.agent`` is the same object); its History
gets one update row per applied update, exactly as with ``agent.train``.
"""

from __future__ import annotations

import inspect
import os
import uuid
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from .._checks import check_choice, check_number
from ..agents.base import Agent
from . import checkpoint as _checkpoint
from .async_ import run_a3c, run_async
from .cluster import check_worker_versions, resolve_client
from .compression import check_topk
from .engine import TRANSPORTS, Run, Settings, wait_for_workers, worker_count
from .federated import run_federated
from .gossip import run_gossip
from .mixing import mixing_matrix
from .result import DistributedResult
from .rollouts import run_rollouts
from .ssp import run_ssp
from .sync import REDUCE_CHOICES, TREE_FANIN, run_sync, run_sync_grad
from .worker import Recipe


@dataclass(frozen=True)
class Mode:
    """One training mode: what it does, the function that runs it, the agent hooks it
    calls and the options it takes. :data:`MODE_TABLE` is the one place that
    validation, documentation (:data:`MODES`, :data:`MODE_HOOKS`,
    :data:`MODE_OPTIONS`) and dispatch in :func:`train` read."""

    description: str
    #: ``runner(run, n_workers, options)``, ``options`` holding the validated values of every mode option.
    runner: Callable[[Run, int, dict[str, Any]], None]
    hooks: tuple[str, ...]
    options: tuple[str, ...]


def _opts(options: dict[str, Any], *names: str) -> list[Any]:
    return [options[name] for name in names]


#: mode -> :class:`Mode`, in the order the modes are documented.
MODE_TABLE: dict[str, Mode] = {
    "rollouts": Mode(
        "workers collect fragments with the newest weights; the driver learns from each as it arrives",
        lambda run, n, o: run_rollouts(run, n, *_opts(o, "max_staleness", "max_batch")),
        ("collect", "learn_from"),
        ("max_staleness", "max_batch"),
    ),
    "sync": Mode(
        "synchronous parameter averaging: N workers make local_steps updates from θ, θ <- mean of θ_i",
        lambda run, n, o: run_sync(
            run, n, *_opts(o, "local_steps", "backup_workers", "round_timeout", "reduce", "tree_fanin")
        ),
        ("collect", "learn_from"),
        ("local_steps", "backup_workers", "round_timeout", "reduce", "tree_fanin", "topk", "quantize"),
    ),
    "sync_grad": Mode(
        "synchronous gradient averaging: N workers compute gradients at θ, the driver applies their mean",
        lambda run, n, o: run_sync_grad(run, n, *_opts(o, "backup_workers", "round_timeout", "reduce", "tree_fanin")),
        ("collect", "compute_gradients", "apply_gradients"),
        ("backup_workers", "round_timeout", "reduce", "tree_fanin"),
    ),
    "async": Mode(
        "asynchronous parameter server: θ <- θ + η(θ_i - θ) as results arrive, staleness recorded",
        lambda run, n, o: run_async(
            run, n, *_opts(o, "local_steps", "eta", "staleness_aware", "max_staleness", "max_batch")
        ),
        ("collect", "learn_from"),
        ("local_steps", "eta", "staleness_aware", "max_staleness", "max_batch"),
    ),
    "a3c": Mode(
        "asynchronous gradients: the driver applies each worker's gradient as it arrives",
        lambda run, n, o: run_a3c(run, n, *_opts(o, "max_staleness", "max_batch")),
        ("collect", "compute_gradients", "apply_gradients"),
        ("max_staleness", "max_batch"),
    ),
    "gossip": Mode(
        "decentralised averaging: each slot makes local_steps updates, then averages with its graph neighbours",
        lambda run, n, o: run_gossip(run, n, *_opts(o, "local_steps", "graph")),
        ("collect", "learn_from"),
        ("local_steps", "graph", "degree"),
    ),
    "ssp": Mode(
        "stale-synchronous parallel: a slot runs at most staleness_bound tasks ahead of the slowest",
        lambda run, n, o: run_ssp(run, n, *_opts(o, "local_steps", "staleness_bound")),
        ("collect", "learn_from"),
        ("local_steps", "staleness_bound", "topk", "quantize"),
    ),
    "federated": Mode(
        "FedAvg/FedProx: sampled clients make local_steps updates on their own env variant, θ <- their mean",
        lambda run, n, o: run_federated(run, n, *_opts(o, "local_steps", "client_fraction", "seed")),
        ("collect", "learn_from"),
        ("local_steps", "client_fraction", "prox_mu", "topk", "quantize"),
    ),
}

#: Modes whose state a checkpoint of the driver cannot hold, and why.
NO_CHECKPOINT_MODES: dict[str, str] = {
    "gossip": "each slot keeps its own parameters (the runner's copies), not one set on the driver",
}

#: Modes that cannot use ``transport="actors"``, and why.
NO_ACTOR_MODES: dict[str, str] = {
    "gossip": "its tasks take their neighbours' outputs as Dask futures, which only Dask tasks can receive",
}

#: The training modes and what they do (read from :data:`MODE_TABLE`).
MODES: dict[str, str] = {name: m.description for name, m in MODE_TABLE.items()}

#: Agent methods each mode calls (on workers or on the driver).
MODE_HOOKS: dict[str, tuple[str, ...]] = {name: m.hooks for name, m in MODE_TABLE.items()}

#: Options that only make sense for some modes.
MODE_OPTIONS: dict[str, tuple[str, ...]] = {name: m.options for name, m in MODE_TABLE.items()}

_TOKENS: weakref.WeakKeyDictionary[Agent, str] = weakref.WeakKeyDictionary()


def train(
    agent: Agent,
    mode: str = "sync",
    *,
    total_steps: int,
    n_workers: int | None = None,
    client: Any = None,
    fragment_steps: int | None = None,
    local_steps: int | None = None,
    eta: float | None = None,
    staleness_aware: bool | None = None,
    max_staleness: int | None = None,
    backup_workers: int | None = None,
    round_timeout: float | None = None,
    reduce: str | None = None,
    tree_fanin: int | None = None,
    max_batch: int | None = None,
    graph: Any = None,
    degree: int | None = None,
    staleness_bound: float | None = None,
    client_fraction: float | None = None,
    prox_mu: float | None = None,
    topk: float | None = None,
    quantize: bool | None = None,
    env_kwargs: Sequence[Mapping[str, Any]] | None = None,
    delays: Mapping[int, float] | None = None,
    slowdown: Mapping[int, float] | None = None,
    kill_worker_at: tuple[float, int] | None = None,
    seed: int | None = None,
    callbacks: Callable[[Agent], Any] | Iterable[Callable[[Agent], Any]] | None = None,
    on_update: Callable[[DistributedResult], Any] | None = None,
    progress: bool | None = None,
    worker_timeout: float = 30.0,
    transport: str | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: float | None = None,
    resume: str | os.PathLike | None = None,
) -> DistributedResult:
    """Train ``agent`` for ``total_steps`` more environment steps on a Dask cluster.

    Parameters
    ----------
    agent : drlkit.Agent
        Trained in place. Its class must live in an importable module (workers
        rebuild it from ``agent.spec()``), not in a notebook.
    mode : str
        ``"rollouts"``, ``"sync"``, ``"sync_grad"``, ``"async"``, ``"a3c"``,
        ``"gossip"``, ``"ssp"`` or ``"federated"`` (:data:`MODES`; the docstrings of
        ``drlkit.distributed.rollouts``, ``.sync``, ``.async_``, ``.gossip``, ``.ssp``
        and ``.federated`` give the maths).
    total_steps : int >= 1
        Environment steps over all workers. Work is sent only while the budget
        is not used up, so the run ends within one round / one fragment per worker of it.
    n_workers : int >= 1, optional
        Worker *slots*: parallel streams of experience, each with its own
        environments and seed (:func:`drlkit.distributed.worker.slot_seed`).
        Default: the number of Dask workers. Slot i runs on the i-th worker
        while it lives; with more slots than workers, slots share workers.
    client : distributed.Client, optional
        Default: the current client (e.g. inside ``with drlkit.cluster():``).
    fragment_steps : int >= 1, optional
        Environment steps per fragment (per local update). Default: the agent's
        own rollout (``n_steps * num_envs``), DQN's ``train_freq``, else 256. Aim for tasks of 10-100 ms
        or more, or Dask's few milliseconds per task dominate.
    local_steps : int >= 1, optional
        ``sync``/``async``/``gossip``/``ssp``/``federated``: collect + learn_from rounds each
        worker makes per task (default 1).
    eta : float in (0, 1], optional
        ``async``: mixing rate η (default 1/n_workers).
    staleness_aware : bool, optional
        ``async``: use η / max(τ, 1) (default False).
    max_staleness : int >= 0, optional
        ``async``/``a3c``/``rollouts``: drop results staler than this (default: keep all).
    backup_workers : int >= 0, optional
        ``sync``/``sync_grad``: extra slots per round; the first ``n_workers`` results are kept.
    round_timeout : float > 0, optional
        ``sync``/``sync_grad``: seconds after which a round keeps what arrived (at least one).
    reduce : {"auto", "flat", "tree"}, optional
        ``sync``/``sync_grad``: where a round's results are summed. ``"flat"``: the driver
        receives every slot's result and sums them; ``"tree"``: merge tasks on the workers sum
        ``tree_fanin`` results each, level by level, the data moving from worker to worker, and the
        driver receives one sum (and every slot's report). Both give bitwise the same parameters
        (:mod:`drlkit.distributed.tree`). ``"auto"`` (default): the tree from
        :data:`drlkit.distributed.sync.TREE_AUTO_SLOTS` slots per round on, flat below it and whenever
        ``backup_workers`` or ``round_timeout`` is set (``"tree"`` with either is an error: a tree
        waits for every slot). A tree round one of whose slots had to be sent again (its worker
        died) is summed on the driver instead, with the same result. Tree rounds need the default
        task transport (``"auto"`` with ``transport="actors"`` is flat; ``"tree"`` with it is an error).
    tree_fanin : int >= 2, optional
        ``sync``/``sync_grad``: results summed per merge task, and the grouping of the sum in
        either case (default 8; with ``n_workers`` <= ``tree_fanin`` one merge task sums the whole round).
    max_batch : int >= 1, optional
        ``async``/``a3c``/``rollouts``: merge up to this many results that have already
        arrived together, as one new version sent once (default 1: one version per result).
        Many worker slots: a few times the number of workers keeps the driver from saturating.
    graph : str or (n, n) array, optional
        ``gossip``: ``"ring"`` (default), ``"torus"``, ``"complete"`` (uniform weights: exact
        averaging), ``"random_regular"``, a 0/1 adjacency matrix (Metropolis weights), or a
        doubly stochastic mixing matrix (:mod:`drlkit.distributed.mixing`).
    degree : int >= 1, optional
        ``gossip`` with ``graph="random_regular"``: neighbours per slot (default 3).
    staleness_bound : int >= 0 or inf, optional
        ``ssp``: how many tasks a slot may run ahead of the slowest (default 1; 0 is
        synchronous, ``float("inf")`` asynchronous).
    client_fraction : float in (0, 1], optional
        ``federated``: fraction of the slots (clients) sampled per round (default 1).
    prox_mu : float >= 0, optional
        ``federated``: FedProx's proximal coefficient μ (default 0: FedAvg).
    topk : float in (0, 1], optional
        ``sync``/``ssp``/``federated``: workers send only this fraction of their parameter
        delta's entries (largest magnitude), with error feedback (:mod:`drlkit.distributed.compression`).
    quantize : bool, optional
        ``sync``/``ssp``/``federated``: workers send their parameter delta in 8 bits.
    env_kwargs : list of dicts, optional
        One dict per worker slot: slot i runs ``make_variant(env, **env_kwargs[i])``
        (:func:`drlkit.envs.variants.make_variant`, e.g. ``[{"length": 0.5}, {"length": 1.0}]``);
        heterogeneous clients. ``n_workers`` defaults to its length.
    delays : {slot: seconds}, optional
        Artificial extra seconds per task of a slot (a straggler), e.g. ``{0: 0.2}``.
    slowdown : {slot: factor >= 1}, optional
        A slot's tasks take ``factor`` times their compute time, e.g. ``{0: 3.0}``.
    kill_worker_at : (seconds, slot), optional
        Kill the worker process running ``slot`` that many seconds into the run
        (SIGKILL, as a crash; a nanny restarts it). For fault-tolerance experiments.
    seed : int >= 0, optional
        Base seed of the workers' agents (default ``agent.seed``).
    callbacks : callable or list, optional
        Called on the driver after every applied update with the agent, as in
        ``agent.train`` (e.g. a live learning curve); returning ``False`` stops training.
    on_update : callable, optional
        Called after every applied update with the growing :class:`DistributedResult`
        (rows, episodes, events); returning ``False`` stops training.
    progress : bool, optional
        Show a progress bar (default: ``agent.progress``).
    worker_timeout : float > 0
        Seconds without any worker before giving up with an error.
    transport : ``"tasks"`` or ``"actors"``, optional
        How work reaches the workers (:data:`~drlkit.distributed.engine.TRANSPORTS`).
        ``"tasks"`` (the default): Dask tasks through the scheduler, shown on the dashboard's
        task stream. ``"actors"``: the driver calls one Dask Actor per worker directly, one
        message each way per task -- the lowest latency per round, but invisible on the
        task stream. Same results and guarantees: the driver keeps the parameters, work
        lost with a worker is sent again as an ordinary task, ``sync`` stays reproducible.
        Not for ``gossip`` (its tasks take their neighbours' outputs as Dask futures).
    checkpoint : directory path, optional
        Write the run's authoritative state (parameters, optimizer state, version,
        records, RNG states, options) there every ``checkpoint_every`` seconds and when
        the run ends or stops with an error (see ``drlkit.distributed.checkpoint``).
    checkpoint_every : float >= 0, optional
        Seconds between checkpoints (default 60; 0: after every applied update).
    resume : directory path, optional
        Continue the run checkpointed there (same agent class, env, seed, config and
        mode; options as saved) until its original ``total_steps``; versions and
        records continue. :func:`drlkit.distributed.resume` does this from the path alone.

    Returns
    -------
    DistributedResult
        ``.agent``, ``.to_frame()``, ``.throughput()``, ``.staleness_histogram()``, ...

    Raises
    ------
    DistributedTrainingError
        If a task fails or every worker is gone; ``error.result`` holds the run
        so far and the agent keeps the parameters of the last applied update.

    Notes
    -----
    ``sync`` and ``sync_grad`` with fixed seeds are reproducible on clusters of
    the same size (without ``backup_workers``/``round_timeout``). The other
    modes apply results in arrival order and are not (except with one worker).
    In ``sync``/``async`` the workers' optimizers make the updates (each slot
    keeps its own optimizer state); the driver's optimizer is used by
    ``sync_grad``, ``a3c`` and ``rollouts``.
    """
    # Everything is checked before the cluster is touched.
    if not isinstance(agent, Agent):
        raise TypeError(f"agent must be a drlkit Agent (e.g. drlkit.agents.ppo.PPO), got {type(agent).__name__}")
    mode = check_choice("mode", mode, MODES)
    if resume is not None:
        arguments = {name: value for name, value in locals().items() if name in _PARAMETERS}
        kwargs, state = _checkpoint.resume_arguments(arguments, _PARAMETERS)
        with _checkpoint.resuming(state):
            return train(**kwargs)
    _check_hooks(agent, mode)
    given = {
        "local_steps": local_steps,
        "eta": eta,
        "staleness_aware": staleness_aware,
        "max_staleness": max_staleness,
        "backup_workers": backup_workers,
        "round_timeout": round_timeout,
        "reduce": reduce,
        "tree_fanin": tree_fanin,
        "max_batch": max_batch,
        "graph": graph,
        "degree": degree,
        "staleness_bound": staleness_bound,
        "client_fraction": client_fraction,
        "prox_mu": prox_mu,
        "topk": topk,
        "quantize": quantize,
    }
    for name, value in given.items():
        if value is not None and name not in MODE_TABLE[mode].options:
            users = [m for m, options in MODE_OPTIONS.items() if name in options]
            raise TypeError(
                f"option {name!r} does not apply to mode {mode!r} (it is for {', '.join(map(repr, users))}); "
                f"mode {mode!r} takes {', '.join(map(repr, MODE_OPTIONS[mode])) or 'none of the mode options'}"
            )
    total_steps = check_number("total_steps", total_steps, low=1, integer=True)
    if n_workers is not None:
        # More slots than any cluster drlkit was built for is a typo (one zero too many), not a plan.
        n_workers = check_number("n_workers", n_workers, low=1, high=4096, integer=True)
    fragment_steps = (
        _default_fragment_steps(agent)
        if fragment_steps is None
        else check_number("fragment_steps", fragment_steps, low=1, integer=True)
    )
    local_steps = 1 if local_steps is None else check_number("local_steps", local_steps, low=1, integer=True)
    if eta is not None:
        eta = check_number("eta", eta, low=0, high=1, low_open=True)
    staleness_aware = False if staleness_aware is None else _check_flag("staleness_aware", staleness_aware)
    if max_staleness is not None:
        max_staleness = check_number("max_staleness", max_staleness, low=0, integer=True)
    backup_workers = (
        0 if backup_workers is None else check_number("backup_workers", backup_workers, low=0, integer=True)
    )
    if round_timeout is not None:
        round_timeout = check_number("round_timeout", round_timeout, low=0, low_open=True)
    reduce = "auto" if reduce is None else check_choice("reduce", reduce, REDUCE_CHOICES)
    tree_fanin = (
        TREE_FANIN if tree_fanin is None else check_number("tree_fanin", tree_fanin, low=2, high=4096, integer=True)
    )
    if reduce == "tree" and (backup_workers or round_timeout is not None):
        raise ValueError(
            f"reduce='tree' waits for every slot of a round, so it cannot be combined with "
            f"backup_workers={backup_workers!r} or round_timeout={round_timeout!r}; use reduce='flat' or 'auto' "
            "(which merges flat when either is set), or leave out backup_workers and round_timeout"
        )
    max_batch = 1 if max_batch is None else check_number("max_batch", max_batch, low=1, high=4096, integer=True)
    degree = 3 if degree is None else check_number("degree", degree, low=1, integer=True)
    staleness_bound = _check_staleness_bound(staleness_bound)
    client_fraction = (
        1.0
        if client_fraction is None
        else check_number("client_fraction", client_fraction, low=0, high=1, low_open=True)
    )
    if prox_mu is not None:
        prox_mu = check_number("prox_mu", prox_mu, low=0)
    topk = check_topk(topk)
    quantize = False if quantize is None else _check_flag("quantize", quantize)
    graph = "ring" if graph is None else graph
    if mode == "gossip" and isinstance(graph, str):
        from .mixing import GRAPHS

        graph = check_choice("graph", graph, GRAPHS)
    slot_env_kwargs = _check_env_kwargs(agent, env_kwargs)
    if slot_env_kwargs and n_workers is None:
        n_workers = len(slot_env_kwargs)
    seed = agent.seed if seed is None else check_number("seed", seed, low=0, integer=True)
    worker_timeout = check_number("worker_timeout", worker_timeout, low=0, low_open=True)
    transport = "tasks" if transport is None else check_choice("transport", transport, TRANSPORTS)
    if transport == "actors" and reduce == "tree":
        raise ValueError(
            "reduce='tree' runs its merges as Dask tasks that take the slot tasks' results as futures, so it "
            "cannot be combined with transport='actors'; use reduce='flat' or 'auto' (flat with actors), "
            "or transport='tasks'"
        )
    if transport == "actors" and mode in NO_ACTOR_MODES:
        raise ValueError(
            f"transport='actors' is not available for mode={mode!r}: {NO_ACTOR_MODES[mode]}; use transport='tasks'"
        )
    callbacks = _check_callbacks(callbacks)
    if on_update is not None and not callable(on_update):
        raise TypeError(f"on_update must be a function taking the DistributedResult; got {type(on_update).__name__}")
    recipe_blob = _recipe_blob(agent)
    checkpointer = _checkpoint.check_checkpoint(checkpoint, checkpoint_every)
    if checkpointer is not None and mode in NO_CHECKPOINT_MODES:
        raise ValueError(
            f"checkpoint is not available for mode={mode!r}: {NO_CHECKPOINT_MODES[mode]}; checkpoints work "
            f"with {sorted(set(MODE_TABLE) - set(NO_CHECKPOINT_MODES))}"
        )
    slot_options = {"delays": delays, "slowdown": slowdown, "kill_worker_at": kill_worker_at}
    if n_workers is not None:
        _check_slot_options(n_workers + backup_workers, **slot_options)
        if mode == "gossip":
            mixing_matrix(graph, n_workers, degree, seed)
        _check_env_count(slot_env_kwargs, n_workers + backup_workers)

    client = resolve_client(client)
    wait_for_workers(client, worker_timeout)  # a RuntimeError after worker_timeout seconds
    check_worker_versions(client)
    if n_workers is None:
        n_workers = worker_count(client)
    n_slots = n_workers + backup_workers
    delays, slowdown, kill_worker_at = _check_slot_options(n_slots, **slot_options)
    _check_env_count(slot_env_kwargs, n_slots)
    if eta is None and mode == "async":
        eta = 1.0 / n_workers

    options = {
        "total_steps": total_steps,
        "fragment_steps": fragment_steps,
        "seed": seed,
        "delays": delays,
        "slowdown": slowdown,
        "kill_worker_at": kill_worker_at,
        "transport": transport,
    }
    values = {
        "local_steps": local_steps,
        "eta": eta,
        "staleness_aware": staleness_aware,
        "max_staleness": max_staleness,
        "backup_workers": backup_workers,
        "round_timeout": round_timeout,
        "reduce": reduce,
        "tree_fanin": tree_fanin,
        "max_batch": max_batch,
        "graph": graph,
        "degree": degree,
        "staleness_bound": staleness_bound,
        "client_fraction": client_fraction,
        "prox_mu": prox_mu,
        "topk": topk,
        "quantize": quantize,
    }  # the validated mode options
    options.update({name: value for name, value in values.items() if name in MODE_TABLE[mode].options})
    if slot_env_kwargs:
        options["env_kwargs"] = [dict(kw) for kw in slot_env_kwargs]
    task_options: dict[str, Any] = {
        name: values[name]
        for name in ("prox_mu", "topk", "quantize")
        if name in MODE_TABLE[mode].options and values[name] not in (None, False)
    }
    if mode == "gossip":
        values["graph"] = mixing_matrix(graph, n_workers, degree, seed)
    values["seed"] = seed
    result = DistributedResult(
        agent=agent, mode=mode, n_workers=n_workers, options=options, metric_keys=tuple(agent.LOG_KEYS)
    )
    token = _TOKENS.setdefault(agent, uuid.uuid4().hex[:12])
    variant = f"-{uuid.uuid5(uuid.NAMESPACE_OID, repr(slot_env_kwargs)).hex[:8]}" if slot_env_kwargs else ""
    recipe = Recipe(token=f"{token}-{seed}{variant}", blob=recipe_blob, seed=seed, slot_env_kwargs=slot_env_kwargs)
    settings = Settings(
        total_steps=total_steps,
        n_slots=n_slots,
        fragment_steps=fragment_steps,
        delays=delays,
        slowdown=slowdown,
        kill_worker_at=kill_worker_at,
        worker_timeout=worker_timeout,
        broadcast=mode in ("sync", "sync_grad", "federated"),
        task_options=task_options,
        transport=transport,
    )
    run = Run(
        client,
        agent,
        recipe,
        settings,
        result,
        callbacks,
        on_update,
        agent.progress if progress is None else bool(progress),
    )
    run.checkpointer = checkpointer
    _checkpoint.restore_pending(run)
    try:
        run.prepare()
        MODE_TABLE[mode].runner(run, n_workers, values)
    finally:
        run.finish()
    return result


#: train()'s parameters and their defaults (a resumed run takes the saved value of each option left at its default).
_PARAMETERS = {name: p.default for name, p in inspect.signature(train).parameters.items()}


def supported_modes(agent: Agent) -> list[str]:
    """The modes whose hooks ``agent``'s class implements."""
    return [mode for mode in MODES if _missing_hooks(type(agent), mode) == []]


# ------------------------------------------------------------------ checks
def _missing_hooks(cls: type, mode: str) -> list[str]:
    return [hook for hook in MODE_HOOKS[mode] if getattr(cls, hook, None) is getattr(Agent, hook)]


def _check_hooks(agent: Agent, mode: str) -> None:
    missing = _missing_hooks(type(agent), mode)
    if missing:
        supported = supported_modes(agent)
        raise ValueError(
            f"mode {mode!r} needs {', '.join(m + '()' for m in missing)}, which {type(agent).__name__} does not "
            f"implement; {type(agent).__name__} supports "
            + (f"modes {', '.join(map(repr, supported))}" if supported else "no distributed mode")
        )


def _default_fragment_steps(agent: Agent) -> int:
    """The experience one local update of the agent uses: an on-policy rollout, or DQN's ``train_freq``."""
    config = agent.config
    default = getattr(agent, "DEFAULT_FRAGMENT_STEPS", None)
    if default:  # e.g. offline agents: one gradient step per fragment
        return int(default)
    n_steps = getattr(config, "n_steps", None)
    if n_steps:
        return int(n_steps) * int(getattr(config, "num_envs", 1))
    return int(getattr(config, "train_freq", 256))


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def _check_staleness_bound(value: Any) -> int | None:
    """``ssp``'s bound s as an int >= 0, or None for ∞ (default 1)."""
    if value is None:
        return 1
    if isinstance(value, float) and value == float("inf"):
        return None
    return check_number("staleness_bound", value, low=0, integer=True)


def _check_env_kwargs(agent: Agent, env_kwargs: Any) -> tuple[dict[str, Any], ...]:
    """Per-slot env variants: a list of dicts whose envs can be made and look like the agent's env."""
    if env_kwargs is None:
        return ()
    if isinstance(env_kwargs, (str, bytes, Mapping)) or not hasattr(env_kwargs, "__iter__"):
        raise TypeError(
            "env_kwargs must be a list with one dict per worker slot, e.g. [{'length': 0.5}, {'length': 1.0}]; "
            f"got {type(env_kwargs).__name__}"
        )
    checked = []
    from ..envs.variants import make_variant

    for i, kwargs in enumerate(env_kwargs):
        if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
            raise TypeError(f"env_kwargs[{i}] must be a dict of keyword arguments, got {kwargs!r}")
        try:
            env = make_variant(agent.env_spec, **kwargs)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"env_kwargs[{i}]: {exc}") from None
        try:
            if env.observation_space.shape != agent.observation_space.shape or str(env.action_space) != str(
                agent.action_space
            ):
                raise ValueError(
                    f"env_kwargs[{i}] makes an env with observation space {env.observation_space} and action space "
                    f"{env.action_space}; the agent's are {agent.observation_space} and {agent.action_space}"
                )
        finally:
            env.close()
        checked.append(dict(kwargs))
    if not checked:
        raise ValueError("env_kwargs must hold at least one dict (one per worker slot)")
    return tuple(checked)


def _check_env_count(slot_env_kwargs: tuple[dict[str, Any], ...], n_slots: int) -> None:
    if slot_env_kwargs and len(slot_env_kwargs) != n_slots:
        raise ValueError(
            f"env_kwargs has {len(slot_env_kwargs)} dicts but the run has {n_slots} worker slots; give one per slot"
        )


def _check_callbacks(callbacks: Any) -> list[Callable[[Agent], Any]]:
    if callbacks is None:
        return []
    if callable(callbacks):
        callbacks = [callbacks]
    elif isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
        raise TypeError(
            f"callbacks must be a function taking the agent, or a list of them; got {type(callbacks).__name__}"
        )
    callbacks = list(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callables taking the agent; got {type(cb).__name__}")
    return callbacks


def _check_slot_options(
    n_slots: int, delays: Any, slowdown: Any, kill_worker_at: Any
) -> tuple[dict[int, float], dict[int, float], tuple[float, int] | None]:
    return (
        _check_slot_map("delays", delays, n_slots, low=0.0),
        _check_slot_map("slowdown", slowdown, n_slots, low=1.0),
        None if kill_worker_at is None else _check_kill(kill_worker_at, n_slots),
    )


def _check_slot_map(name: str, value: Any, n_slots: int, low: float) -> dict[int, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict {{worker slot: value}}, e.g. {{0: 3.0}}; got {type(value).__name__}")
    checked = {}
    for slot, amount in value.items():
        slot = check_number(f"{name} key (worker slot)", slot, low=0, high=n_slots - 1, integer=True)
        checked[slot] = check_number(f"{name}[{slot}]", amount, low=low)
    return checked


def _check_kill(value: Any, n_slots: int) -> tuple[float, int]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"kill_worker_at must be (seconds, worker slot), e.g. (2.0, 1); got {value!r}")
    seconds = check_number("kill_worker_at seconds", value[0], low=0)
    slot = check_number("kill_worker_at worker slot", value[1], low=0, high=n_slots - 1, integer=True)
    return seconds, slot


def _recipe_blob(agent: Agent) -> bytes:
    """``(module, spec)`` pickled for the workers, with a clear error when that is impossible."""
    import cloudpickle

    module = type(agent).__module__
    if module == "__main__":
        raise TypeError(
            f"{type(agent).__name__} is defined in __main__ (a notebook or script); Dask workers can only "
            "rebuild agents whose class lives in an importable module"
        )
    try:
        return cloudpickle.dumps((module, agent.spec()))
    except Exception as exc:
        raise TypeError(
            f"the agent's env {agent.env_spec!r} cannot be sent to the workers ({type(exc).__name__}: {exc}); "
            "use a gymnasium id or a module-level function that makes the env"
        ) from None
