"""Environment variants: the same task with other physics, for heterogeneous (federated) clients.

``make_variant("CartPole-v1", length=1.0, gravity=12.0)`` is CartPole with a pole twice as
long and a stronger gravity. Keyword arguments the env's constructor accepts are passed to
``gymnasium.make`` (e.g. ``slip`` of drlkit's gridworlds, ``is_slippery`` of FrozenLake);
the others must name attributes of the unwrapped env, which are set after it is made
(CartPole, Acrobot, Pendulum and MountainCar keep their physics in attributes). CartPole's
derived quantities (total mass, mass times half-length) are recomputed.

:func:`task_variant` adds a one-hot task id to the observation, for multi-task training:
one policy that sees which task it is in.
"""

from __future__ import annotations

import inspect
from typing import Any

import gymnasium as gym
import numpy as np

from .make import make_env


def make_variant(env: Any, **kwargs: Any) -> gym.Env:
    """``env`` (a gymnasium id or a callable) with ``kwargs`` as constructor arguments or physics attributes.

    Raises ``ValueError`` naming an attribute the env does not have, or a value that is not a finite number
    when it replaces a number.
    """
    if not kwargs:
        return make_env(env)
    constructor: dict[str, Any] = {}
    physics: dict[str, Any] = {}
    accepted = _constructor_arguments(env) if isinstance(env, str) else _arguments(env)
    for key, value in kwargs.items():
        (constructor if accepted is None or key in accepted else physics)[key] = value
    if isinstance(env, str):
        made = make_env(env, **constructor)
    elif constructor and callable(env):
        made = env(**constructor)
        if not isinstance(made, gym.Env):
            raise TypeError(f"env callable must return a gymnasium.Env; it returned {type(made).__name__}")
    else:
        made = make_env(env)
    unwrapped: Any = made.unwrapped
    for key, value in physics.items():
        if not hasattr(unwrapped, key) or key.startswith("_"):
            made.close()
            raise ValueError(
                f"env variant: {type(unwrapped).__name__} has no constructor argument or attribute {key!r}; "
                f"give e.g. {_example(unwrapped)}"
            )
        old = getattr(unwrapped, key)
        if isinstance(old, int | float) and not isinstance(old, bool):
            if not isinstance(value, int | float) or isinstance(value, bool) or not np.isfinite(value):
                made.close()
                raise ValueError(f"env variant: {key} must be a finite number, got {value!r}")
            value = type(old)(value) if isinstance(old, float) else value
        setattr(unwrapped, key, value)
    if {"length", "masspole", "masscart"} & physics.keys() and hasattr(unwrapped, "polemass_length"):
        unwrapped.total_mass = unwrapped.masspole + unwrapped.masscart
        unwrapped.polemass_length = unwrapped.masspole * unwrapped.length
    return made


class TaskIdObservation(gym.ObservationWrapper):
    """Appends a one-hot task id (``n_tasks`` entries) to a flat Box observation."""

    def __init__(self, env: gym.Env, task: int, n_tasks: int) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"task ids need a flat Box observation space; the env has {space}")
        self._onehot = np.zeros(n_tasks, dtype=space.dtype)
        self._onehot[task] = 1
        self.observation_space = gym.spaces.Box(
            np.concatenate([space.low, np.zeros(n_tasks)]).astype(space.dtype),
            np.concatenate([space.high, np.ones(n_tasks)]).astype(space.dtype),
            dtype=space.dtype,
        )

    def observation(self, observation: Any) -> np.ndarray:
        return np.concatenate([np.asarray(observation, dtype=self._onehot.dtype), self._onehot])


def task_variant(env: Any, task: int = 0, n_tasks: int = 1, **kwargs: Any) -> gym.Env:
    """:func:`make_variant` with the one-hot id of ``task`` (0..n_tasks-1) appended to the observation."""
    if not isinstance(n_tasks, int) or isinstance(n_tasks, bool) or n_tasks < 1:
        raise ValueError(f"n_tasks must be an integer >= 1, got {n_tasks!r}")
    if not isinstance(task, int) or isinstance(task, bool) or not 0 <= task < n_tasks:
        raise ValueError(f"task must be an integer in [0, {n_tasks - 1}], got {task!r}")
    return TaskIdObservation(make_variant(env, **kwargs), task, n_tasks)


def _arguments(env: Any) -> set[str] | None:
    """Keyword arguments a callable env accepts (``None``: any, it takes ``**kwargs``)."""
    if not callable(env) or isinstance(env, gym.Env):
        return set()
    try:
        parameters = inspect.signature(env).parameters.values()
    except (TypeError, ValueError):
        return set()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.kind is not inspect.Parameter.POSITIONAL_ONLY}


def _constructor_arguments(env_id: str) -> set[str]:
    entry: Any = gym.spec(env_id).entry_point
    if isinstance(entry, str):
        module, _, name = entry.partition(":")
        import importlib

        entry = getattr(importlib.import_module(module), name)
    try:
        return set(inspect.signature(entry).parameters)
    except (TypeError, ValueError):
        return set()


def _example(unwrapped: Any) -> str:
    numbers = [k for k, v in vars(unwrapped).items() if isinstance(v, float) and not k.startswith("_")]
    return ", ".join(f"{k}=..." for k in numbers[:4]) or "a constructor argument"
