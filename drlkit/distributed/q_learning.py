r"""Distributed tabular Q-learning: workers learn their own Q tables, the driver merges them.

``K`` workers (Dask tasks) play Q-learning episodes on their own copies of the
environment, each with its own random seed, starting from the same table. Every
``merge_every`` episodes they send their tables to the driver, which merges them
into one and sends the merged table back as the starting point of the next
*round*::

    Q <- Q0                                       (on the driver)
    for each round:
        send Q to the workers                     (scattered once per round)
        worker k: Q_k <- Q, then play merge_every episodes of Q-learning on its
                  own environment, updating Q_k;  reply Q_k (and its visit counts)
        Q <- merge(Q_1, ..., Q_K)                 (on the driver)

Merge schemes
-------------
Every worker starts a round from the same table :math:`Q`, so worker ``k`` returns
:math:`Q_k = Q + \Delta_k` where :math:`\Delta_k` holds its round's updates.

``"average"`` -- the plain mean of the tables:

.. math:: Q'(s, a) = \frac{1}{K} \sum_{k=1}^{K} Q_k(s, a) = Q(s, a) + \frac{1}{K} \sum_k \Delta_k(s, a)

A pair that only one worker visited keeps only :math:`1/K` of that worker's
progress; with ``K = 1`` this is single-process Q-learning.

``"visits"`` -- the mean weighted by how often each worker updated each pair
(:math:`n_k(s, a)`, its visit count in the round):

.. math:: Q'(s, a) = \frac{\sum_k n_k(s, a)\, Q_k(s, a)}{\sum_k n_k(s, a)}
          \quad\text{if } \sum_k n_k(s, a) > 0, \qquad Q'(s, a) = Q(s, a) \text{ otherwise.}

A pair visited by one worker takes that worker's value; pairs visited by several
take the mean of their values weighted by experience. Nobody updated a pair with
:math:`\sum_k n_k(s, a) = 0`, so every :math:`Q_k(s, a)` there still equals
:math:`Q(s, a)` and the plain mean keeps it.

The optimal :math:`Q^*` is a fixed point of both merges (if every worker
returns :math:`Q^*`, so does the merge), and on a deterministic MDP Q-learning
with a constant step size reaches it exactly once every pair has been tried
often enough. In a stochastic MDP a constant step size leaves each table
fluctuating around :math:`Q^*`; averaging ``K`` independent tables shrinks that
noise.

Communication
-------------
Each merge moves the merged table to every worker, :math:`K \cdot S A \cdot 8`
bytes, and each worker's reply back: its table (:math:`S A \cdot 8` bytes), its
visit counts for ``"visits"`` (as many again) and the returns and lengths of its
episodes (16 bytes per episode). These are the *payload* sizes recorded per
merge; Dask adds a little framing per message and may save a downward copy when
two workers share a process. Merging every episode costs ``merge_every`` times
more than merging every ``merge_every`` episodes.

Fault tolerance: the authoritative merged table stays on the driver. A round is
one call of the engine's :func:`~drlkit.distributed.engine.run_tasks`, the code
that talks to Dask for every distributed mode: the MDP is put on the cluster
once per run (a table larger than 64 kB once per round; smaller ones travel
inside the tasks), every wait is bounded by ``timeout``, and the round's tasks
are pure functions of (environment, table, seeds), so Dask recomputes the tasks
of a lost worker elsewhere with the same result; if the lost worker held the
MDP, the engine sends it again and reruns the tasks that needed it.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any, Callable, SupportsFloat

import gymnasium as gym
import numpy as np

from .._checks import check_choice, check_number
from ..envs.make import make_env
from ..envs.mdp import MDP
from ..tabular import MDPEnv
from ..tabular import q_learning as single_process_q_learning
from ..tabular.environments import resolve_env
from ..tabular.learn import action_values
from ..tabular.schedules import FloatOrSchedule, schedule_values
from .cluster import resolve_client
from .engine import INLINE_PARAMS_BYTES, Shared, run_tasks, wait_for_workers

MERGE_SCHEMES = ("average", "visits")

MergeFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""A custom merge ``merge(tables (K, S, A), visits (K, S, A)) -> (S, A)``, run on the driver."""

# Seconds to wait for a first Dask worker before giving up.
_WORKER_WAIT_SECONDS = 30


# ---------------------------------------------------------------------------- the merge
def merge_q_tables(tables: Any, scheme: str = "average", visits: Any = None) -> np.ndarray:
    """Merge ``K`` Q tables into one, shape ``(S, A)`` (see the module docstring for the maths).

    Parameters
    ----------
    tables : array (K, S, A)
        The workers' tables, all started from the same table this round.
    scheme : "average" or "visits"
    visits : array (K, S, A) of non-negative counts, for ``"visits"``
        ``visits[k, s, a]`` = how many times worker ``k`` updated ``Q(s, a)`` this round.
    """
    scheme = check_choice("merge", scheme, MERGE_SCHEMES)
    tables = _as_tables("tables", tables)
    if scheme == "average":
        return tables.mean(axis=0)
    if visits is None:
        raise ValueError('merge="visits" needs visits, the (K, S, A) visit counts of the workers')
    visits = _as_tables("visits", visits)
    if visits.shape != tables.shape:
        raise ValueError(f"visits must have the shape of tables {tables.shape}; got {visits.shape}")
    if (visits < 0).any():
        raise ValueError("visits must be non-negative counts")
    total = visits.sum(axis=0)  # (S, A)
    weighted = (visits * tables).sum(axis=0) / np.where(total > 0, total, 1.0)
    return np.where(total > 0, weighted, tables.mean(axis=0))


def _as_tables(name: str, value: Any) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers of shape (K, S, A)") from None
    if array.ndim != 3 or 0 in array.shape:
        raise ValueError(f"{name} must have shape (K, S, A) (one table per worker); got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must contain only finite numbers")
    return array


# ------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class DistributedQConfig:
    """The settings of one call to :func:`q_learning` (``seed`` is the seed actually used)."""

    env: str
    n_workers: int
    episodes: int
    merge_every: int
    merge: str
    alpha: FloatOrSchedule
    gamma: float
    epsilon: FloatOrSchedule
    seed: int
    max_steps_per_episode: int | None
    Q0: float | str

    @property
    def n_merges(self) -> int:
        """Number of merges: one per ``merge_every`` episodes of each worker, the last maybe shorter."""
        return -(-self.episodes // self.merge_every)


MERGE_COLUMNS = (
    "episodes",
    "total_episodes",
    "wall_time",
    "bytes_down",
    "bytes_up",
    "bytes",
    "total_bytes",
    "mean_return",
    "q_error",
)
"""Columns of :meth:`DistributedQResult.to_frame`, one row per merge (index ``merge`` = 1, 2, ...)."""


@dataclass
class DistributedQResult:
    """The merged table, what each worker saw and what every merge cost.

    Attributes, for ``K`` workers, ``E`` episodes per worker and ``M`` merges:

    Q : array (S, A)
        The final merged table (kept on the driver throughout).
    worker_returns, worker_lengths : arrays (K, E)
        Return and length of every episode of every worker, in the order played.
    worker_Q : array (K, S, A)
        The workers' tables received at the last merge, before merging.
    worker_visits : array (K, S, A) or None
        Their visit counts in the last round (sent only for ``merge="visits"`` or a custom merge).
    merges : dict column -> array (M,)
        Per merge (see :data:`MERGE_COLUMNS`): ``episodes`` per worker so far,
        ``total_episodes`` over all workers, ``wall_time`` (seconds since the start),
        payload ``bytes_down`` (merged table to the workers), ``bytes_up``
        (replies), their sum ``bytes`` and running total ``total_bytes``,
        ``mean_return`` of the round's episodes, and ``q_error`` =
        :math:`\\max_{s,a} |Q(s,a) - Q^*(s,a)|` after the merge (NaN without ``Q_star``).
    """

    config: DistributedQConfig
    Q: np.ndarray
    worker_returns: np.ndarray
    worker_lengths: np.ndarray
    worker_Q: np.ndarray
    worker_visits: np.ndarray | None
    merges: dict[str, np.ndarray] = field(repr=False)

    def greedy_policy(self) -> np.ndarray:
        """``argmax_a Q(s, a)`` per state, shape ``(S,)`` (ties to the lowest action)."""
        return np.argmax(self.Q, axis=1)

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per merge (index ``merge``) and :data:`MERGE_COLUMNS`."""
        import pandas as pd

        frame = pd.DataFrame({name: self.merges[name] for name in MERGE_COLUMNS})
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="merge")
        return frame

    def __repr__(self) -> str:
        c = self.config
        error = self.merges["q_error"][-1]
        error_text = "" if np.isnan(error) else f", final max|Q - Q*| {error:.3g}"
        return (
            f"DistributedQResult({c.merge} merge of {c.n_workers} worker(s) x {c.episodes} episodes on "
            f"{c.env}, every {c.merge_every} episode(s): {c.n_merges} merges, "
            f"{format_bytes(self.merges['total_bytes'][-1])} sent{error_text})"
        )


def format_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


# ----------------------------------------------------------------- the driver's loop
def q_learning(
    env: Any,
    *,
    n_workers: int = 2,
    episodes: int = 500,
    merge_every: int = 10,
    merge: str | MergeFunction = "average",
    alpha: FloatOrSchedule = 0.5,
    gamma: float = 0.99,
    epsilon: FloatOrSchedule = 0.1,
    seed: int | None = None,
    Q_star: Any = None,
    max_steps_per_episode: int | None = 10_000,
    Q0: float | np.ndarray = 0.0,
    client: Any = None,
    on_merge: Callable[[dict], Any] | None = None,
    timeout: float = 600.0,
) -> DistributedQResult:
    """Q-learning on ``n_workers`` Dask tasks that merge their Q tables every ``merge_every`` episodes.

    See the module docstring for the algorithm, the merge maths and what is communicated.

    Parameters
    ----------
    env : drlkit.MDP, str or callable
        An :class:`~drlkit.MDP` (sent to the workers once), a gymnasium id with
        Discrete spaces such as ``"FrozenLake-v1"``, a module-level function
        making such an env (workers import it), or a registered gymnasium env
        (rebuilt on the workers from its ``spec``). Each worker builds its own copy.
    n_workers : int >= 1
        Number of learners, i.e. tasks per round. It may exceed the number of
        Dask worker processes; Dask then runs several of them in turn.
    episodes : int >= 1
        Episodes **per worker**; all workers together play ``n_workers * episodes``.
    merge_every : int >= 1
        Episodes each worker plays between two merges. A value ``>= episodes``
        merges once, at the end (independent learners averaged once). When it
        does not divide ``episodes`` the last round is shorter.
    merge : "average", "visits" or callable
        The merge scheme (module docstring), or ``merge(tables, visits) -> Q`` with
        ``tables``/``visits`` of shape ``(K, S, A)``, run on the driver.
    alpha : float in (0, 1] or schedule
        Step size; a schedule is a function of the worker's episode number.
    gamma : float in [0, 1]
        Discount factor.
    epsilon : float in [0, 1] or schedule
        Exploration rate of each worker's ε-greedy behaviour policy.
    seed : int, optional
        Same seed, same result, whatever the cluster. Worker ``k`` in round ``r``
        uses a seed derived from ``(seed, k, r)``. ``None`` draws one (kept in ``config.seed``).
    Q_star : array (S, A), optional
        Reference action values (e.g. ``drlkit.planning.value_iteration(mdp, gamma).Q``)
        for the ``q_error`` column.
    max_steps_per_episode : int or None
        Cut episodes after this many steps (the env's own time limit also applies).
    Q0 : float or array (S, A)
        The initial table.
    client : distributed.Client, optional
        Default: the current client (e.g. inside ``with drlkit.cluster() as client:``).
    on_merge : callable, optional
        Called on the driver after every merge with that merge's row (a dict with
        ``merge`` and :data:`MERGE_COLUMNS`), e.g. to show progress.
    timeout : float > 0
        Seconds to wait for one round's replies (workers that die meanwhile
        included) before raising ``TimeoutError``.

    Returns
    -------
    DistributedQResult
        ``Q``, ``worker_returns``, ``to_frame()`` (one row per merge) and more.
    """
    # Scalars first, so that a typo fails before anything is sent to the cluster.
    n_workers = check_number("n_workers", n_workers, low=1, integer=True)
    episodes = check_number("episodes", episodes, low=1, integer=True)
    merge_every = min(check_number("merge_every", merge_every, low=1, integer=True), episodes)
    if not callable(merge):
        try:
            check_choice("merge", merge, MERGE_SCHEMES)
        except ValueError as error:
            raise ValueError(f"{error}, or a function merge(tables, visits) -> Q") from None
    gamma = check_number("gamma", gamma, low=0, high=1)
    alphas = schedule_values("alpha", alpha, episodes, low=0, high=1, low_open=True)
    epsilons = schedule_values("epsilon", epsilon, episodes, low=0, high=1)
    if max_steps_per_episode is not None:
        max_steps_per_episode = check_number("max_steps_per_episode", max_steps_per_episode, low=1, integer=True)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    else:
        seed = check_number("seed", seed, low=0, integer=True)
    if on_merge is not None and not callable(on_merge):
        raise TypeError(f"on_merge must be a function called with each merge's row; got {type(on_merge).__name__}")
    timeout = check_number("timeout", timeout, low=0, low_open=True)

    tabular = resolve_env(env)
    S, A = tabular.n_states, tabular.n_actions
    Q = action_values("Q0", Q0, S, A).copy()
    if Q_star is not None:
        Q_star = action_values("Q_star", Q_star, S, A, fill=False)
    worker_env = _worker_env(env)
    client = resolve_client(client)
    wait_for_workers(client, _WORKER_WAIT_SECONDS)
    count_visits = merge != "average"

    config = DistributedQConfig(
        env=tabular.label,
        n_workers=n_workers,
        episodes=episodes,
        merge_every=merge_every,
        merge=merge if isinstance(merge, str) else getattr(merge, "__name__", "custom"),
        alpha=alpha if callable(alpha) else float(alpha),
        gamma=gamma,
        epsilon=epsilon if callable(epsilon) else float(epsilon),
        seed=seed,
        max_steps_per_episode=max_steps_per_episode,
        Q0=float(Q0) if np.ndim(Q0) == 0 else f"array {np.shape(Q0)}",
    )
    bounds = list(range(0, episodes, merge_every)) + [episodes]
    worker_returns = np.zeros((n_workers, episodes))
    worker_lengths = np.zeros((n_workers, episodes), dtype=int)
    rows: list[dict] = []
    total_bytes = 0
    start = time.perf_counter()
    # Data (an MDP) is put on the cluster once; ids and functions travel inside the tasks.
    task_env = Shared(worker_env) if isinstance(worker_env, MDP) else worker_env

    for round_index, (first, end) in enumerate(zip(bounds[:-1], bounds[1:])):
        settings = RoundSettings(alphas[first:end], epsilons[first:end], gamma, max_steps_per_episode, count_visits)
        table = Shared(Q) if Q.nbytes > INLINE_PARAMS_BYTES else Q
        replies = run_tasks(
            client,
            learn_round,
            [(task_env, table, settings, round_seed(seed, k, round_index)) for k in range(n_workers)],
            timeout=timeout,
            name=f"q-learning round {round_index + 1}",
            labels=[f"worker {k}" for k in range(n_workers)],
        )

        tables = np.stack([reply.Q for reply in replies])  # (K, S, A)
        visits = np.stack([reply.visits for reply in replies]) if count_visits else None
        Q = _merge(merge, tables, visits)
        for k, reply in enumerate(replies):
            worker_returns[k, first:end] = reply.returns
            worker_lengths[k, first:end] = reply.lengths

        bytes_down = n_workers * Q.nbytes
        bytes_up = sum(reply.nbytes for reply in replies)
        total_bytes += bytes_down + bytes_up
        row = {
            "merge": round_index + 1,
            "episodes": end,
            "total_episodes": end * n_workers,
            "wall_time": time.perf_counter() - start,
            "bytes_down": bytes_down,
            "bytes_up": bytes_up,
            "bytes": bytes_down + bytes_up,
            "total_bytes": total_bytes,
            "mean_return": float(np.mean([reply.returns for reply in replies])),
            "q_error": float(np.abs(Q - Q_star).max()) if Q_star is not None else float("nan"),
        }
        rows.append(row)
        if on_merge is not None:
            on_merge(dict(row))

    return DistributedQResult(
        config=config,
        Q=Q,
        worker_returns=worker_returns,
        worker_lengths=worker_lengths,
        worker_Q=tables,
        worker_visits=visits,
        merges={name: np.array([row[name] for row in rows]) for name in MERGE_COLUMNS},
    )


def _merge(merge: str | MergeFunction, tables: np.ndarray, visits: np.ndarray | None) -> np.ndarray:
    if isinstance(merge, str):
        return merge_q_tables(tables, merge, visits)
    assert visits is not None  # counted for every merge but "average"
    merged = merge(tables.copy(), visits.copy())
    try:
        merged = np.array(merged, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"merge function must return an array of shape {tables.shape[1:]}; it returned {type(merged).__name__}"
        ) from None
    if merged.shape != tables.shape[1:]:
        raise ValueError(
            f"merge function must return an array of shape (S, A) = {tables.shape[1:]}; "
            f"it returned shape {merged.shape}"
        )
    if not np.isfinite(merged).all():
        raise ValueError("merge function returned NaN or infinite values")
    return merged


def _worker_env(env: Any) -> Any:
    """What the workers rebuild their environment from: an MDP, an id, a function or a spec."""
    if isinstance(env, (MDP, str)):
        return env
    if isinstance(env, gym.Env):
        if env.spec is None:
            raise TypeError(
                f"env: the workers cannot rebuild this {type(env.unwrapped).__name__} (it has no gymnasium spec); "
                "pass its id, a module-level function making it, or its model as a drlkit.MDP"
            )
        return functools.partial(gym.make, env.spec)
    return env  # a callable, already checked by resolve_env


# ------------------------------------------------------------------ the workers' side
def round_seed(seed: int, worker: int, round_index: int) -> int:
    """The seed of worker ``worker`` in round ``round_index``: independent streams, fixed by ``seed``."""
    return int(np.random.SeedSequence([seed, worker, round_index]).generate_state(1)[0])


@dataclass(frozen=True)
class RoundSettings:
    """What every worker needs for one round, besides the table: ε and α per episode, γ, limits."""

    alphas: np.ndarray  # (episodes this round,)
    epsilons: np.ndarray  # (episodes this round,)
    gamma: float
    max_steps_per_episode: int | None
    count_visits: bool


@dataclass
class RoundReply:
    """A worker's reply: its table ``Q (S, A)``, ``visits (S, A)`` or None, ``returns``/``lengths`` (episodes,)."""

    Q: np.ndarray
    visits: np.ndarray | None
    returns: np.ndarray
    lengths: np.ndarray

    @property
    def nbytes(self) -> int:
        arrays = (self.Q, self.visits, self.returns, self.lengths)
        return sum(a.nbytes for a in arrays if a is not None)


@dataclass(frozen=True)
class EpisodeValues:
    """A schedule that replays given values: ``values[episode]``."""

    values: np.ndarray

    def __call__(self, episode: int) -> float:
        return float(self.values[episode])


class VisitCounter(gym.Wrapper):
    """Counts the actions taken in each state: ``visits[s, a]``, shape ``(S, A)``.

    Q-learning updates ``Q(s, a)`` once per visit, so these are the update counts
    that the ``"visits"`` merge weighs with.
    """

    def __init__(self, env: gym.Env, n_states: int, n_actions: int):
        super().__init__(env)
        self.visits = np.zeros((n_states, n_actions), dtype=np.int64)
        self._state: int | None = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        observation, info = self.env.reset(**kwargs)
        self._state = int(observation)
        return observation, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict]:
        self.visits[self._state, int(action)] += 1
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._state = int(observation)
        return observation, reward, terminated, truncated, info


def learn_round(env: Any, Q: np.ndarray, settings: RoundSettings, seed: int) -> RoundReply:
    """One worker's round (a Dask task): Q-learning from table ``Q`` for ``len(settings.alphas)`` episodes.

    A pure function of its arguments, so a retried task returns the same reply.
    The learning itself is :func:`drlkit.tabular.q_learning`, started from ``Q0=Q``.
    """
    made = MDPEnv(env) if isinstance(env, MDP) else make_env(env)
    counter = VisitCounter(made, *Q.shape)
    result = single_process_q_learning(
        counter,
        len(settings.alphas),
        alpha=EpisodeValues(settings.alphas),
        gamma=settings.gamma,
        epsilon=EpisodeValues(settings.epsilons),
        seed=seed,
        max_steps_per_episode=settings.max_steps_per_episode,
        Q0=Q,
        vectorised=False,
    )
    visits = counter.visits if settings.count_visits else None
    return RoundReply(result.Q, visits, result.returns, result.lengths)


__all__ = [
    "MERGE_COLUMNS",
    "MERGE_SCHEMES",
    "DistributedQConfig",
    "DistributedQResult",
    "merge_q_tables",
    "q_learning",
    "round_seed",
]
