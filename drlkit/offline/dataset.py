r"""Offline datasets: transitions collected once, learned from many times.

An offline (batch) RL algorithm never talks to the environment while it
learns. It reads a fixed dataset :math:`\mathcal D = \{(s_i, a_i, r_i, s'_i, d_i)\}`
collected beforehand by some *behaviour policy* :math:`\pi_\beta`. What the
algorithm can learn depends on that policy, so the literature (D4RL, Minari)
names datasets by the quality of the policy that made them:

* ``random`` -- uniform random actions;
* ``medium`` -- a partly trained policy (roughly a third to a half of the expert's return);
* ``expert`` -- a policy that solves the task;
* ``medium-replay`` -- everything a training run saw until it reached medium level
  (:func:`collect_replay`);
* mixtures -- e.g. ``medium-expert`` = medium + expert transitions (:func:`concatenate`),
  or an ε-greedy mixture of a policy with random actions (``epsilon=`` in :func:`collect`).

:class:`OfflineDataset` is the light in-memory view the algorithms read: flat
numpy arrays over all ``N`` transitions, episode after episode,

=====================  ============================  ===================================================================
``observations``       ``(N, obs_dim)``              :math:`s_t`
``actions``            ``(N,)`` or ``(N, act_dim)``  :math:`a_t` (int64 for Discrete)
``rewards``            ``(N,)`` float32              :math:`r_t`
``next_observations``  ``(N, obs_dim)``              :math:`s_{t+1}` (also at episode ends)
``terminations``       ``(N,)`` bool                 the episode ended in a terminal state
``truncations``        ``(N,)`` bool                 the episode was cut (time limit); :math:`s_{t+1}` still has a value
``episode_ends``       ``(E,)`` int64                index one past each episode's last transition
=====================  ============================  ===================================================================

plus ``metadata`` recording how it was made (env id, policy, seed, steps).
Datasets are stored in the field's standard format with :mod:`drlkit.offline.storage` (Minari).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np

from .._checks import check_number
from ..envs.make import env_id_of, make_env

#: The quality levels :func:`make_quality_datasets` builds, in increasing order of return.
QUALITIES = ("random", "medium-replay", "medium", "expert")


class DatasetError(ValueError):
    """A dataset is malformed or does not fit the agent/environment it is used with."""


@dataclass(eq=False)
class OfflineDataset:
    """Transitions as flat numpy arrays (see the module docstring for shapes).

    Build one with :func:`collect`, :meth:`from_arrays`, :func:`drlkit.offline.load_dataset`
    or :func:`concatenate`; the constructor checks every array.
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_observations: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    observation_space: gym.Space
    action_space: gym.Space
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = _check_array("rewards", self.rewards, ndim=1).shape[0]
        if n == 0:
            raise DatasetError("the dataset is empty (0 transitions); collect at least one step")
        if not np.isfinite(self.rewards).all():
            bad = np.flatnonzero(~np.isfinite(self.rewards))
            raise DatasetError(
                f"rewards must be finite; {len(bad)} are NaN or inf (first at index {bad[0]}: {self.rewards[bad[0]]})"
            )
        self.rewards = np.asarray(self.rewards, dtype=np.float32)
        obs_shape = tuple(self.observation_space.shape or ())
        for name in ("observations", "next_observations"):
            arr = np.asarray(getattr(self, name), dtype=np.float32)
            if arr.shape != (n, *obs_shape):
                raise DatasetError(
                    f"{name} must have shape {(n, *obs_shape)} (N transitions x observation "
                    f"shape of {self.observation_space}); got {arr.shape}"
                )
            if not np.isfinite(arr).all():
                raise DatasetError(f"{name} contains NaN or inf")
            setattr(self, name, arr)
        if isinstance(self.action_space, gym.spaces.Discrete):
            acts = np.asarray(self.actions)
            if acts.shape != (n,) or not np.issubdtype(acts.dtype, np.number):
                raise DatasetError(f"actions must have shape ({n},) for {self.action_space}; got {acts.shape}")
            if not np.array_equal(acts, np.round(acts)):
                raise DatasetError(f"actions must be integers for {self.action_space}")
            acts = acts.astype(np.int64)
            lo, hi = int(self.action_space.start), int(self.action_space.start + self.action_space.n - 1)
            if acts.min() < lo or acts.max() > hi:
                raise DatasetError(
                    f"actions must be in [{lo}, {hi}] for {self.action_space}; "
                    f"found values in [{acts.min()}, {acts.max()}]"
                )
        else:
            acts = np.asarray(self.actions, dtype=np.float32)
            act_shape = tuple(self.action_space.shape or ())
            if acts.shape != (n, *act_shape):
                raise DatasetError(
                    f"actions must have shape {(n, *act_shape)} for {self.action_space}; got {acts.shape}"
                )
            if not np.isfinite(acts).all():
                raise DatasetError("actions contain NaN or inf")
        self.actions = acts
        for name in ("terminations", "truncations"):
            arr = np.asarray(getattr(self, name))
            if arr.shape != (n,):
                raise DatasetError(f"{name} must have shape ({n},); got {arr.shape}")
            setattr(self, name, arr.astype(bool))
        if (self.terminations & self.truncations).any():
            i = int(np.flatnonzero(self.terminations & self.truncations)[0])
            raise DatasetError(f"transition {i} is both terminated and truncated; an episode ends one way")
        if not (self.terminations[-1] or self.truncations[-1]):
            # The last stored episode was cut by the end of collection: it is truncated.
            self.truncations = self.truncations.copy()
            self.truncations[-1] = True
        self.metadata = dict(self.metadata)

    # ----------------------------------------------------------- construction
    @classmethod
    def from_arrays(
        cls,
        observations: Any,
        actions: Any,
        rewards: Any,
        terminations: Any,
        truncations: Any,
        *,
        observation_space: gym.spaces.Box,
        action_space: gym.Space,
        next_observations: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> OfflineDataset:
        """A dataset from your own arrays. Without ``next_observations`` they are taken
        from the next row inside each episode; an episode that ends *truncated* then has
        no next observation, which is an error (its value would be bootstrapped from nothing)."""
        obs = _as_array("observations", observations, np.float32)
        term = _as_array("terminations", terminations, bool)
        trunc = _as_array("truncations", truncations, bool)
        for name, arr in (("terminations", term), ("truncations", trunc)):
            if arr.ndim != 1:
                raise DatasetError(f"{name} must be a 1-d array of booleans, one per transition; got shape {arr.shape}")
        if next_observations is None:
            if obs.ndim < 1 or len(obs) == 0:
                raise DatasetError("the dataset is empty (0 transitions); collect at least one step")
            if len(term) != len(obs) or len(trunc) != len(obs):
                raise DatasetError(
                    f"observations, terminations and truncations need one row per transition; got "
                    f"{len(obs)}, {len(term)} and {len(trunc)} rows"
                )
            ends = term | trunc
            if trunc.any() or not ends[-1]:
                cut = np.flatnonzero(trunc)
                i = int(cut[0]) if len(cut) else len(obs) - 1
                raise DatasetError(
                    f"the episode ending at transition {i} is truncated but next_observations were not given: "
                    "its last next observation is unknown; pass next_observations=..."
                )
            nxt = np.empty_like(obs)
            nxt[:-1] = obs[1:]
            nxt[ends] = obs[ends]  # terminal: the next state's value is 0, its observation is never used
            next_observations = nxt
        return cls(
            obs,
            _as_array("actions", actions),
            _as_array("rewards", rewards, float),
            _as_array("next_observations", next_observations),
            term,
            trunc,
            observation_space,
            action_space,
            dict(metadata or {}),
        )

    # ---------------------------------------------------------------- views
    def __len__(self) -> int:
        return int(self.rewards.shape[0])

    @property
    def episode_ends(self) -> np.ndarray:
        """Index one past the last transition of every episode, shape ``(E,)``."""
        return np.flatnonzero(self.terminations | self.truncations) + 1

    @property
    def n_episodes(self) -> int:
        return int(len(self.episode_ends))

    def episode_returns(self) -> np.ndarray:
        """Undiscounted return of every episode, shape ``(E,)``."""
        return np.add.reduceat(self.rewards.astype(np.float64), np.r_[0, self.episode_ends[:-1]])

    def episodes(self) -> list[slice]:
        """One slice of the flat arrays per episode."""
        starts = np.r_[0, self.episode_ends[:-1]]
        return [slice(int(a), int(b)) for a, b in zip(starts, self.episode_ends)]

    def select_episodes(self, indices: Sequence[int]) -> OfflineDataset:
        """A dataset made of the given episodes (e.g. a shard for one worker)."""
        slices = self.episodes()
        rows = [np.arange(slices[i].start, slices[i].stop) for i in indices]
        return self._take(np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, dtype=np.int64))

    def shard(self, index: int, n_shards: int) -> OfflineDataset:
        """Episodes ``index, index + n_shards, ...``: shard ``index`` of ``n_shards`` disjoint shards."""
        n_shards = check_number("n_shards", n_shards, low=1, high=self.n_episodes, integer=True)
        index = check_number("shard index", index, low=0, high=n_shards - 1, integer=True)
        return self.select_episodes(range(index, self.n_episodes, n_shards))

    def _take(self, rows: np.ndarray) -> OfflineDataset:
        return OfflineDataset(
            self.observations[rows],
            self.actions[rows],
            self.rewards[rows],
            self.next_observations[rows],
            self.terminations[rows],
            self.truncations[rows],
            self.observation_space,
            self.action_space,
            dict(self.metadata),
        )

    def check_env(self, env: Any, who: str = "the agent") -> None:
        """Raise :class:`DatasetError` unless ``env``'s spaces are the dataset's."""
        probe = make_env(env) if not isinstance(env, gym.Env) else env
        try:
            for kind, mine, theirs in (
                ("observation", self.observation_space, probe.observation_space),
                ("action", self.action_space, probe.action_space),
            ):
                if not _same_space(mine, theirs):
                    raise DatasetError(
                        f"the dataset's {kind} space {mine} does not match {who}'s environment "
                        f"({env_id_of(env) or type(probe).__name__}) {kind} space {theirs}; the dataset was made on "
                        f"{self.metadata.get('env_id', 'another environment')}"
                    )
        finally:
            if probe is not env:
                probe.close()

    def summary(self) -> dict[str, Any]:
        """Size, episodes and return statistics, for tables."""
        returns = self.episode_returns()
        return {
            "transitions": len(self),
            "episodes": self.n_episodes,
            "return_mean": float(returns.mean()),
            "return_std": float(returns.std()),
            "return_min": float(returns.min()),
            "return_max": float(returns.max()),
            **{k: self.metadata[k] for k in ("quality", "policy") if k in self.metadata},
        }

    def __repr__(self) -> str:
        name = self.metadata.get("quality") or self.metadata.get("policy", "")
        return (
            f"OfflineDataset({self.metadata.get('env_id', '?')!r}, {name!r}, {len(self)} transitions, "
            f"{self.n_episodes} episodes, mean return {self.episode_returns().mean():.1f})"
        )


# ------------------------------------------------------------------ collection
Policy = Any  # "random", a drlkit Agent, or a callable obs -> action


def collect(
    env: Any,
    policy: Policy = "random",
    *,
    steps: int,
    seed: int = 0,
    epsilon: float = 0.0,
    quality: str | None = None,
) -> OfflineDataset:
    """Run ``policy`` on ``env`` for ``steps`` transitions and return them as a dataset.

    Parameters
    ----------
    env : str or callable
        A gymnasium id or a function that makes the env.
    policy : "random", drlkit Agent or callable
        ``"random"`` samples the action space; an agent acts greedily (``agent.act``);
        a callable maps one observation to one action.
    steps : int >= 1
        Transitions to record. Episodes run to their end except the last one, which is truncated.
    seed : int >= 0
        Seeds the env resets (episode i uses ``seed + i``) and the random actions.
    epsilon : float in [0, 1]
        With probability ε take a uniform random action instead of the policy's (an ε-greedy mixture).
    quality : str, optional
        A label stored in the metadata ("random", "medium", "expert", ...).
    """
    steps = check_number("steps", steps, low=1, integer=True)
    seed = check_number("seed", seed, low=0, integer=True)
    epsilon = check_number("epsilon", epsilon, low=0, high=1)
    act, policy_name = _policy_function(policy)
    if isinstance(env, gym.Env):
        raise TypeError(
            "env must be a gymnasium id or a function that makes the env (so that workers can make "
            "their own copy), not an env object"
        )
    made = make_env(env)
    rng = np.random.default_rng(seed)
    made.action_space.seed(int(rng.integers(2**31)))
    obs_dim = made.observation_space.shape or ()
    obs_buf = np.empty((steps, *obs_dim), dtype=np.float32)
    next_buf = np.empty_like(obs_buf)
    discrete = isinstance(made.action_space, gym.spaces.Discrete)
    act_buf = (
        np.empty(steps, dtype=np.int64)
        if discrete
        else np.empty((steps, *(made.action_space.shape or ())), dtype=np.float32)
    )
    rew_buf = np.empty(steps, dtype=np.float32)
    term_buf = np.zeros(steps, dtype=bool)
    trunc_buf = np.zeros(steps, dtype=bool)
    episode = 0
    try:
        obs, _ = made.reset(seed=seed)
        for t in range(steps):
            explore = rng.random() < epsilon  # drawn every step, so the stream does not depend on ε
            random_action = made.action_space.sample()
            action = random_action if (explore or act is None) else act(obs)
            next_obs, reward, terminated, truncated, _ = made.step(action)
            obs_buf[t], act_buf[t], rew_buf[t], next_buf[t] = obs, action, reward, next_obs
            term_buf[t], trunc_buf[t] = terminated, truncated
            if terminated or truncated:
                episode += 1
                obs, _ = made.reset(seed=seed + episode)
            else:
                obs = next_obs
    finally:
        made.close()
    metadata = {
        "env_id": env_id_of(env) or getattr(env, "__name__", "env"),
        "policy": policy_name,
        "seed": seed,
        "steps": steps,
        "epsilon": epsilon,
        "quality": quality or policy_name,
    }
    return OfflineDataset(
        obs_buf, act_buf, rew_buf, next_buf, term_buf, trunc_buf, made.observation_space, made.action_space, metadata
    )


def collect_replay(
    agent: Any, steps: int, *, chunk: int | None = None, quality: str = "medium-replay"
) -> OfflineDataset:
    """Train a drlkit off-policy agent (e.g. DQN) for ``steps`` environment steps and return
    every transition it saw, in order: the ``medium-replay`` dataset of the literature.

    The agent is trained in place by its own ``collect``/``learn_from`` loop (exactly what
    ``agent.train`` runs). Uses ``num_envs=1`` agents so that the transitions form episodes.
    """
    steps = check_number("steps", steps, low=1, integer=True)
    if getattr(agent.config, "num_envs", 1) != 1:
        raise ValueError(f"collect_replay needs an agent with num_envs=1; got num_envs={agent.config.num_envs}")
    chunk = chunk or int(getattr(agent.config, "train_freq", 256))
    parts: dict[str, list[np.ndarray]] = {"obs": [], "actions": [], "rewards": [], "next_obs": [], "terminated": []}
    start = agent.total_steps
    while agent.total_steps - start < steps:
        fragment = agent.collect(min(chunk, steps - (agent.total_steps - start)))
        agent.learn_from(fragment)
        for key in parts:
            parts[key].append(fragment.data[key][:, 0])
    obs = np.concatenate(parts["obs"])
    nxt = np.concatenate(parts["next_obs"])
    term = np.concatenate(parts["terminated"]).astype(bool)
    # An episode ended where the next row does not continue from this row's next observation.
    boundary = np.zeros(len(obs), dtype=bool)
    boundary[:-1] = np.any(nxt[:-1] != obs[1:], axis=1)
    boundary[-1] = True
    trunc = boundary & ~term
    metadata = {
        "env_id": env_id_of(agent.env_spec) or "env",
        "policy": f"{type(agent).__name__} training run",
        "seed": agent.seed,
        "steps": int(len(obs)),
        "epsilon": -1.0,
        "quality": quality,
    }
    return OfflineDataset(
        obs,
        np.concatenate(parts["actions"]),
        np.concatenate(parts["rewards"]),
        nxt,
        term,
        trunc,
        agent.observation_space,
        agent.action_space,
        metadata,
    )


def concatenate(datasets: Sequence[OfflineDataset], quality: str | None = None) -> OfflineDataset:
    """One dataset with the episodes of all ``datasets`` (same spaces), e.g. ``medium-expert``."""
    datasets = list(datasets)
    if not datasets:
        raise DatasetError("concatenate needs at least one dataset; got none")
    first = datasets[0]
    for i, d in enumerate(datasets[1:], 1):
        if not (
            _same_space(d.observation_space, first.observation_space)
            and _same_space(d.action_space, first.action_space)
        ):
            raise DatasetError(
                f"dataset {i} has spaces {d.observation_space}, {d.action_space}; dataset 0 has "
                f"{first.observation_space}, {first.action_space}"
            )
    cat = {
        f.name: np.concatenate([getattr(d, f.name) for d in datasets])
        for f in dataclasses.fields(OfflineDataset)
        if f.name not in ("observation_space", "action_space", "metadata")
    }
    metadata = {
        "env_id": first.metadata.get("env_id"),
        "policy": " + ".join(str(d.metadata.get("policy")) for d in datasets),
        "seed": [d.metadata.get("seed") for d in datasets],
        "steps": sum(len(d) for d in datasets),
        "quality": quality or "-".join(str(d.metadata.get("quality")) for d in datasets),
    }
    return OfflineDataset(
        **cat, observation_space=first.observation_space, action_space=first.action_space, metadata=metadata
    )


def collect_parallel(
    env: Any,
    policy: Policy = "random",
    *,
    steps: int,
    seeds: Sequence[int],
    epsilon: float = 0.0,
    quality: str | None = None,
    client: Any = None,
    timeout: float = 600.0,
) -> OfflineDataset:
    """:func:`collect` on Dask workers, one task (``steps`` transitions) per seed, concatenated in
    seed order -- the same data as collecting the same seeds one after the other in this process.

    ``policy`` must be picklable: ``"random"``, a drlkit agent (sent as its spec and
    parameters, rebuilt on the worker), or a module-level function. Goes through
    :func:`drlkit.distributed.map_tasks` (``client=`` as in :mod:`drlkit.distributed`).
    """
    from ..distributed.tasks import map_tasks

    seeds = [check_number("seeds entry", s, low=0, integer=True) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed (one per task)")
    steps = check_number("steps", steps, low=1, integer=True)
    epsilon = check_number("epsilon", epsilon, low=0, high=1)
    _policy_function(policy)  # validate before touching the cluster
    sendable = _sendable_policy(policy)
    items = [(env, sendable, steps, s, epsilon, quality) for s in seeds]
    parts = map_tasks(_collect_task, items, client=client, timeout=timeout, name="collect-dataset")
    data = concatenate(parts, quality=quality or parts[0].metadata["quality"])
    data.metadata.update({"policy": parts[0].metadata["policy"], "seed": list(seeds), "workers": len(seeds)})
    return data


def _collect_task(item: tuple) -> OfflineDataset:
    env, policy, steps, seed, epsilon, quality = item
    if isinstance(policy, tuple) and policy and policy[0] == "agent":
        import importlib

        from ..agents.base import ALGORITHMS  # noqa: F401  (registers the classes)

        _, module, spec, params = policy
        importlib.import_module(module)
        agent = spec.build()
        agent.set_parameters(params)
        policy = agent
    return collect(env, policy, steps=steps, seed=seed, epsilon=epsilon, quality=quality)


def _sendable_policy(policy: Policy) -> Any:
    from ..agents.base import Agent

    if isinstance(policy, Agent):
        return ("agent", type(policy).__module__, policy.spec(), policy.get_parameters())
    return policy


def _policy_function(policy: Policy) -> tuple[Callable[[np.ndarray], Any] | None, str]:
    from ..agents.base import Agent

    if isinstance(policy, str):
        if policy != "random":
            raise ValueError(f"policy must be 'random', a drlkit Agent or a function obs -> action; got {policy!r}")
        return None, "random"
    if isinstance(policy, Agent):
        return (
            lambda obs: policy.act(obs, deterministic=True)
        ), f"{type(policy).__name__}(seed={policy.seed}, steps={policy.total_steps})"
    if callable(policy):
        return policy, getattr(policy, "__name__", type(policy).__name__)
    raise TypeError(f"policy must be 'random', a drlkit Agent or a function obs -> action; got {type(policy).__name__}")


def _same_space(a: gym.Space, b: gym.Space) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, gym.spaces.Discrete) and isinstance(b, gym.spaces.Discrete):
        return a.n == b.n and a.start == b.start
    if isinstance(a, gym.spaces.Box) and isinstance(b, gym.spaces.Box):
        return a.shape == b.shape and np.allclose(a.low, b.low) and np.allclose(a.high, b.high)
    return a == b


def _as_array(name: str, value: Any, dtype: Any = None) -> np.ndarray:
    """``value`` as a numpy array, or a DatasetError that names it (not numpy's message about a cell)."""
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{name} must be an array of numbers; got {type(value).__name__} ({exc})") from None


def _check_array(name: str, value: Any, ndim: int) -> np.ndarray:
    arr = _as_array(name, value)
    if arr.ndim != ndim:
        raise DatasetError(f"{name} must be a {ndim}-d array; got shape {arr.shape}")
    return arr
