"""Turning what a user passes as a multi-agent ``env`` into a PettingZoo Parallel environment, with clear errors.

An env is given as

* a string naming a factory: a module with a ``parallel_env`` function
  (``"mpe2.simple_spread_v3"``, ``"drlkit.envs.coop_grid"``), a module-level
  function (``"drlkit.envs.matrix_games.stag_hunt"``), or the short name of a
  drlkit environment (``"coop_grid"``, ``"prisoners_dilemma"``, ... see :data:`SHORT_NAMES`);
* a module-level function returning a ``ParallelEnv`` (or an ``AECEnv``, converted
  with PettingZoo's own ``aec_to_parallel`` where the env allows it).

Keyword arguments of the factory go in ``env_kwargs``. Strings and module-level
functions travel to Dask workers and into checkpoints; a lambda does not.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv

#: drlkit's own multi-agent environments by short name -> factory path.
SHORT_NAMES: dict[str, str] = {
    "coop_grid": "drlkit.envs.coop_grid.coop_grid",
    "matrix_game": "drlkit.envs.matrix_games.matrix_game",
    "prisoners_dilemma": "drlkit.envs.matrix_games.prisoners_dilemma",
    "stag_hunt": "drlkit.envs.matrix_games.stag_hunt",
    "coordination": "drlkit.envs.matrix_games.coordination",
    "matching_pennies": "drlkit.envs.matrix_games.matching_pennies",
    "rock_paper_scissors": "drlkit.envs.matrix_games.rock_paper_scissors",
    "simple_spread": "mpe2.simple_spread_v3",
}


def resolve_factory(env: Any) -> Any:
    """The callable that makes the env named or given by ``env`` (see module docstring)."""
    if callable(env) and not isinstance(env, (str, ParallelEnv, AECEnv)):
        return env
    if not isinstance(env, str):
        raise TypeError(
            f"env must be the name of a PettingZoo env factory (e.g. 'mpe2.simple_spread_v3') or a "
            f"module-level function returning a PettingZoo ParallelEnv; got {type(env).__name__}"
        )
    path = SHORT_NAMES.get(env, env)
    try:
        module = importlib.import_module(path)
    except ImportError:
        module = None
    if module is not None:
        factory = getattr(module, "parallel_env", None)
        if factory is None:
            raise ValueError(f"env: module {path!r} has no parallel_env() factory; name a function in it instead")
        return factory
    module_name, _, attr = path.rpartition(".")
    try:
        factory = getattr(importlib.import_module(module_name), attr) if module_name else None
    except ImportError:
        factory = None
    if factory is None or not callable(factory):
        raise ValueError(
            f"env: cannot find a PettingZoo env factory {env!r}; give a module with parallel_env() "
            f"(e.g. 'mpe2.simple_spread_v3'), a 'module.function' path, or one of "
            f"{', '.join(map(repr, SHORT_NAMES))}"
        )
    return factory


def make_parallel_env(env: Any, env_kwargs: dict[str, Any] | None = None) -> ParallelEnv:
    """A fresh PettingZoo ``ParallelEnv`` from ``env`` and ``env_kwargs``; clear errors otherwise."""
    factory = resolve_factory(env)
    try:
        made = factory(**(env_kwargs or {}))
    except TypeError as exc:
        raise TypeError(
            f"env factory {getattr(factory, '__name__', factory)!r} rejected env_kwargs {env_kwargs!r}: {exc}"
        ) from None
    if isinstance(made, AECEnv):
        from pettingzoo.utils.conversions import aec_to_parallel

        try:
            made = aec_to_parallel(made)
        except Exception as exc:
            raise TypeError(
                f"env: this AEC environment cannot be converted to the Parallel API ({type(exc).__name__}: {exc})"
            ) from None
    if not isinstance(made, ParallelEnv):
        raise TypeError(
            f"env must make a PettingZoo ParallelEnv (or AECEnv); {env!r} made a "
            f"{type(made).__name__}. Single-agent gymnasium envs go to drlkit.agents (e.g. PPO)"
        )
    return made


@dataclass(frozen=True)
class EnvInfo:
    """What the learners need to know about a multi-agent env, read once from a probe instance.

    ``agents`` the possible agents in order; ``obs_dims`` each agent's observation length
    (observations are zero-padded to ``obs_dim = max(obs_dims)``); ``action_space`` the one
    action space all agents share; ``state_dim`` the length of the global state
    (``env.state()`` if the env has one, else all observations concatenated).
    """

    agents: tuple[str, ...]
    obs_dims: tuple[int, ...]
    action_space: spaces.Space
    state_dim: int
    has_state: bool

    @property
    def n_agents(self) -> int:
        return len(self.agents)

    @property
    def obs_dim(self) -> int:
        return max(self.obs_dims)


def inspect_env(env: ParallelEnv, owner: str) -> EnvInfo:
    """Check the agents' spaces (flat Box observations, one shared Discrete or 1-D Box action space)."""
    agents = tuple(env.possible_agents)
    if not agents:
        raise ValueError(f"{owner}: the environment has no agents (possible_agents is empty)")
    obs_dims = []
    for agent in agents:
        space = env.observation_space(agent)
        if not isinstance(space, spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"{owner} needs flat Box observations; agent {agent!r} has {space}")
        obs_dims.append(int(space.shape[0]))
    action_space = env.action_space(agents[0])
    for agent in agents[1:]:
        if env.action_space(agent) != action_space:
            raise ValueError(
                f"{owner} needs every agent to have the same action space; {agents[0]!r} has "
                f"{action_space}, {agent!r} has {env.action_space(agent)}"
            )
    if not (
        isinstance(action_space, spaces.Discrete)
        or isinstance(action_space, spaces.Box)
        and len(action_space.shape) == 1
    ):
        raise ValueError(f"{owner} needs a Discrete or 1-D Box action space; the agents have {action_space}")
    env.reset(seed=0)
    try:
        state = np.asarray(env.state(), dtype=np.float32).ravel()
        has_state, state_dim = True, int(state.size)
    except (NotImplementedError, AttributeError):
        has_state, state_dim = False, len(agents) * max(obs_dims)
    return EnvInfo(agents, tuple(obs_dims), action_space, state_dim, has_state)


def check_agent_ids(given: Any, agents: tuple[str, ...], what: str) -> None:
    """Raise ``KeyError`` naming the ids in ``given`` that are not agents of the env."""
    unknown = [a for a in given if a not in agents]
    if unknown:
        raise KeyError(f"{what}: unknown agent id(s) {unknown}; this environment's agents are {list(agents)}")
