r"""Population-based training (Jaderberg et al., *Population Based Training of Neural Networks*, 2017).

N members of one algorithm train in parallel, member i with its own
hyperparameters :math:`h_i` drawn from a search space. Every ``interval_steps``
environment steps each member is scored (mean return of a few greedy episodes),
and then

* **exploit**: a weak member replaces its parameters *and optimizer state* by a
  copy of a strong member's (``selection="truncation"``: each of the bottom
  ``truncation`` fraction copies a random member of the top fraction;
  ``"tournament"``: each member meets a random other and copies it if it scored
  higher);
* **explore**: the copied hyperparameters are perturbed, each multiplied by a
  factor drawn from ``perturb_factors`` (default ×0.8 or ×1.2) and clipped to
  the space's bounds, or, with probability ``resample_probability``, drawn
  afresh from the space.

So a member's hyperparameters change during training: PBT discovers a
*schedule*, not a single value. Training with ``exploit=False`` is random search
at equal compute: the same members from the same space, trained side by side.

The members run on a Dask cluster, one worker slot each
(:mod:`drlkit.distributed.population`). Their state lives on the driver, so a
worker that dies loses no member.

>>> import drlkit
>>> from drlkit.population import LogUniform, train_population
>>> agent = drlkit.PPO("CartPole-v1", seed=0)
>>> with drlkit.cluster(n_workers=2):                                       # doctest: +SKIP
...     pbt = train_population(agent, {"learning_rate": LogUniform(1e-4, 1e-2)}, n_members=4,
...                            interval_steps=2048, total_steps=40_000)
>>> pbt.best_member(), pbt.lineage_frame()                                   # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .._checks import check_choice, check_number
from ..agents.base import Agent
from ..distributed.population import MemberJob, MemberState, load_member, open_run, run_round, train_member
from ..distributed.result import DistributedResult
from ..distributed.worker import slot_seed

SELECTIONS = ("truncation", "tournament")


# ----------------------------------------------------------------- the search space
@dataclass(frozen=True)
class Uniform:
    """A hyperparameter drawn uniformly from [low, high] (``integer=True``: rounded to an integer)."""

    low: float
    high: float
    integer: bool = False

    def sample(self, rng: np.random.Generator) -> float:
        value = rng.uniform(self.low, self.high)
        return float(round(value)) if self.integer else float(value)

    def clip(self, value: float) -> float:
        value = min(max(value, self.low), self.high)
        return float(round(value)) if self.integer else float(value)


@dataclass(frozen=True)
class LogUniform(Uniform):
    """A hyperparameter whose logarithm is uniform on [log low, log high] (learning rates); low > 0."""

    def sample(self, rng: np.random.Generator) -> float:
        value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return float(round(value)) if self.integer else float(value)


def check_space(space: Any, agent: Agent | None = None) -> dict[str, Uniform]:
    """``{config field: Uniform | LogUniform | (low, high)}`` checked; tuples become :class:`Uniform`."""
    if not isinstance(space, Mapping) or not space:
        raise TypeError(
            f"space must be a non-empty dict {{hyperparameter: Uniform(low, high) | LogUniform(low, high)}}, "
            f"got {space!r:.80}"
        )
    checked: dict[str, Uniform] = {}
    fields = set(vars(agent.config)) if agent is not None else None
    for name, dist in space.items():
        if fields is not None and name not in fields:
            raise ValueError(
                f"space: {type(agent).__name__} has no hyperparameter {name!r}; "
                f"its config has {', '.join(sorted(fields))}"
            )
        if isinstance(dist, tuple) and len(dist) == 2:
            dist = Uniform(*dist)
        if not isinstance(dist, Uniform):
            raise TypeError(
                f"space[{name!r}] must be Uniform(low, high), LogUniform(low, high) or (low, high); got {dist!r}"
            )
        low = check_number(
            f"space[{name!r}].low",
            dist.low,
            low=0 if isinstance(dist, LogUniform) else None,
            low_open=isinstance(dist, LogUniform),
        )
        check_number(f"space[{name!r}].high", dist.high, low=low)
        checked[name] = dist
    return checked


# --------------------------------------------------------------- exploit and explore
def select_parents(
    scores: Sequence[float], rng: np.random.Generator, selection: str = "truncation", truncation: float = 0.25
) -> dict[int, int]:
    """Exploit step: ``{member: parent}`` for every member that copies another (NaN scores rank lowest).

    ``"truncation"``: the bottom ``ceil(truncation * N)`` members (at most N // 2) each copy a
    member drawn uniformly from the top as many, if it scored strictly higher. ``"tournament"``: each member copies a
    uniformly drawn other member that scored strictly higher.
    """
    check_choice("selection", selection, SELECTIONS)
    n = len(scores)
    if n < 2:
        raise ValueError(f"exploit needs a population of at least 2 members; got {n}")
    s = np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    if selection == "truncation":
        truncation = check_number("truncation", truncation, low=0, high=0.5, low_open=True)
        k = min(max(1, math.ceil(truncation * n)), n // 2)
        order = np.argsort(s, kind="stable")  # ascending: weakest first
        bottom, top = order[:k], order[n - k :]
        drawn = {int(m): int(rng.choice(top)) for m in bottom}
        return {m: p for m, p in drawn.items() if s[p] > s[m]}  # a tie copies nothing
    parents = {}
    for m in range(n):
        other = int(rng.choice([j for j in range(n) if j != m]))
        if s[other] > s[m]:
            parents[m] = other
    return parents


def explore(
    hparams: Mapping[str, float],
    space: Mapping[str, Uniform],
    rng: np.random.Generator,
    perturb_factors: Sequence[float] = (0.8, 1.2),
    resample_probability: float = 0.0,
) -> dict[str, float]:
    """Explore step: each hyperparameter multiplied by a factor drawn from ``perturb_factors`` and
    clipped to its space's [low, high], or, with probability ``resample_probability``, drawn afresh."""
    factors = check_factors(perturb_factors)
    resample_probability = check_number("resample_probability", resample_probability, low=0, high=1)
    new = {}
    for name, value in hparams.items():
        dist = space[name]
        if rng.random() < resample_probability:
            new[name] = dist.sample(rng)
        else:
            new[name] = dist.clip(float(value) * float(rng.choice(factors)))
    return new


def check_factors(perturb_factors: Any) -> tuple[float, ...]:
    if (
        isinstance(perturb_factors, (str, bytes))
        or not hasattr(perturb_factors, "__len__")
        or len(perturb_factors) == 0
    ):
        raise TypeError(
            f"perturb_factors must be a non-empty list of numbers > 0, e.g. (0.8, 1.2); got {perturb_factors!r}"
        )
    return tuple(check_number("perturb_factors entries", f, low=0, low_open=True) for f in perturb_factors)


# --------------------------------------------------------------------------- result
@dataclass
class PopulationResult:
    """What :func:`train_population` returns.

    ``members``: the final :class:`MemberState` of each member (on the driver);
    ``records``: one dict per member and round (``round, member, step, score,
    train_return, parent`` and the hyperparameters used in that round);
    ``lineage``: one dict per exploit (``round, step, member, parent, member_score,
    parent_score, before``/``after`` hyperparameters); ``run``: the engine's
    :class:`DistributedResult` (one row per task, lost tasks included).
    """

    template: Agent
    space: dict[str, Uniform]
    members: list[MemberState]
    exploit: bool
    records: list[dict[str, Any]] = field(default_factory=list)
    lineage: list[dict[str, Any]] = field(default_factory=list)
    run: DistributedResult | None = None

    def to_frame(self):
        """``records`` as a DataFrame (one row per member and round)."""
        import pandas as pd

        return pd.DataFrame(self.records)

    def lineage_frame(self):
        """``lineage`` as a DataFrame (one row per copy: who copied whom, when)."""
        import pandas as pd

        columns = ["round", "step", "member", "parent", "member_score", "parent_score", "before", "after"]
        return pd.DataFrame(self.lineage, columns=columns)

    def best_scores(self) -> np.ndarray:
        """Best member's score after each round, shape ``(n_rounds,)``."""
        frame = self.to_frame()
        return frame.groupby("round").score.max().to_numpy()

    def best_member(self) -> int:
        """The member with the highest score in the last round."""
        frame = self.to_frame()
        last = frame[frame["round"] == frame["round"].max()]
        best = int(np.argmax(np.nan_to_num(last.score.to_numpy(dtype=float), nan=-np.inf)))  # NaN: no score
        return int(last.member.iloc[best])

    def agent(self, member: int | None = None) -> Agent:
        """A driver-side agent holding ``member``'s parameters and hyperparameters (default: the best)."""
        member = self.best_member() if member is None else member
        agent = self.template.spec().build(seed=slot_seed(self.template.seed, member))
        load_member(agent, self.members[member])
        return agent


# ---------------------------------------------------------------------------- driver
def train_population(
    agent: Agent,
    space: Mapping[str, Any],
    *,
    n_members: int = 4,
    interval_steps: int = 2048,
    total_steps: int,
    exploit: bool = True,
    selection: str = "truncation",
    truncation: float = 0.25,
    perturb_factors: Sequence[float] = (0.8, 1.2),
    resample_probability: float = 0.0,
    eval_episodes: int = 5,
    seed: int | None = None,
    client: Any = None,
    kill_worker_at: tuple[float, int] | None = None,
    worker_timeout: float = 30.0,
    on_round: Any = None,
) -> PopulationResult:
    """Train a population of copies of ``agent``'s algorithm (see module docstring).

    Parameters
    ----------
    agent : drlkit.Agent
        The template: algorithm, env and fixed hyperparameters (it is not trained itself).
    space : dict
        ``{config field: Uniform(low, high) | LogUniform(low, high) | (low, high)}``.
    n_members : int >= 1 (>= 2 with ``exploit``)
        Members, one worker slot each.
    interval_steps : int >= 1
        Environment steps each member trains between two exploit/explore steps.
    total_steps : int >= 1
        Environment steps over the whole population; each member trains
        ``ceil(total_steps / (n_members * interval_steps))`` intervals.
    exploit : bool
        False: no exploit/explore (random search at equal compute).
    selection : ``"truncation"`` or ``"tournament"``; truncation : float in (0, 0.5]
    perturb_factors : numbers > 0; resample_probability : float in [0, 1]
        The explore step (:func:`explore`).
    eval_episodes : int >= 0
        Greedy episodes that score a member after each interval; 0: its score is the mean
        return of the training episodes it finished in the interval (NaN, ranked lowest, if none).
    seed : int >= 0
        Seeds the initial hyperparameters, the exploit/explore draws and, through
        :func:`~drlkit.distributed.worker.slot_seed`, member ``i``'s agent (default ``agent.seed``).
    kill_worker_at : (seconds, member), optional
        Kill the worker running that member's task (fault-tolerance experiments).
    on_round : callable, optional
        Called with the growing :class:`PopulationResult` after every round.
    """
    if not isinstance(agent, Agent):
        raise TypeError(f"agent must be a drlkit Agent (the template), got {type(agent).__name__}")
    space = check_space(space, agent)
    n_members = check_number("n_members", n_members, low=1, high=1024, integer=True)
    if not isinstance(exploit, bool):
        raise TypeError(f"exploit must be True or False, got {exploit!r}")
    if exploit and n_members < 2:
        raise ValueError(f"n_members must be >= 2 with exploit=True (a member needs another to copy); got {n_members}")
    interval_steps = check_number("interval_steps", interval_steps, low=1, integer=True)
    total_steps = check_number("total_steps", total_steps, low=1, integer=True)
    check_choice("selection", selection, SELECTIONS)
    truncation = check_number("truncation", truncation, low=0, high=0.5, low_open=True)
    perturb_factors = check_factors(perturb_factors)
    resample_probability = check_number("resample_probability", resample_probability, low=0, high=1)
    eval_episodes = check_number("eval_episodes", eval_episodes, low=0, high=10_000, integer=True)
    seed = agent.seed if seed is None else check_number("seed", seed, low=0, integer=True)
    if on_round is not None and not callable(on_round):
        raise TypeError(f"on_round must be a function taking the PopulationResult; got {type(on_round).__name__}")
    n_rounds = math.ceil(total_steps / (n_members * interval_steps))
    rng = np.random.default_rng(seed)
    hparams = [{name: dist.sample(rng) for name, dist in space.items()} for _ in range(n_members)]

    run = open_run(
        agent,
        n_members,
        n_rounds * n_members * interval_steps,
        interval_steps,
        mode="pbt" if exploit else "random_search",
        client=client,
        seed=seed,
        kill_worker_at=kill_worker_at,
        worker_timeout=worker_timeout,
    )
    result = PopulationResult(agent, space, [], exploit, run=run.result)
    states: list[MemberState | None] = [None] * n_members
    try:
        for round_index in range(n_rounds):
            jobs = [MemberJob(states[i], hparams[i], interval_steps, "train", eval_episodes) for i in range(n_members)]
            outcomes = run_round(run, train_member, jobs, round_index)
            scores = [
                outcome.score
                if eval_episodes
                else (float(np.mean(r.episode_returns)) if r.episode_returns else math.nan)
                for outcome, r in outcomes
            ]
            new_states = [outcome.state for outcome, _ in outcomes]
            last = round_index == n_rounds - 1  # no training follows the last round: nothing to exploit
            parents = select_parents(scores, rng, selection, truncation) if exploit and not last else {}
            for i, (_, report) in enumerate(outcomes):
                result.records.append(
                    {
                        "round": round_index,
                        "member": i,
                        "step": new_states[i].total_steps,
                        "score": scores[i],
                        "train_return": float(np.mean(report.episode_returns)) if report.episode_returns else math.nan,
                        "parent": parents.get(i, -1),
                        **hparams[i],
                    }
                )
            trained = list(new_states)  # parents are copied as they finished the round
            for member, parent in sorted(parents.items()):
                copied = trained[parent].copy()
                new_hparams = explore(copied.hparams, space, rng, perturb_factors, resample_probability)
                result.lineage.append(
                    {
                        "round": round_index,
                        "step": new_states[member].total_steps,
                        "member": member,
                        "parent": parent,
                        "member_score": scores[member],
                        "parent_score": scores[parent],
                        "before": dict(hparams[member]),
                        "after": dict(new_hparams),
                    }
                )
                copied.hparams = new_hparams
                hparams[member] = new_hparams
                new_states[member] = copied
            states = list(new_states)
            result.members = [s for s in states if s is not None]
            if on_round is not None:
                on_round(result)
    finally:
        run.finish()
    return result
