"""Multi-task training: one policy for several variants of a task, each worker slot one task.

A *family of tasks* is a list of env variants (``[{"length": 0.3}, {"length": 1.2}]``,
:func:`drlkit.envs.variants.make_variant`). The shared policy sees which task it is in:
its env appends a one-hot task id to the observation (:func:`drlkit.envs.variants.task_variant`).

>>> env, slots = task_family("CartPole-v1", [{"length": 0.3}, {"length": 1.2}])
>>> agent = PPO(env, seed=0)                                                # doctest: +SKIP
>>> drlkit.distributed.train(agent, "sync", env_kwargs=slots, total_steps=20_000)  # doctest: +SKIP
>>> per_task_returns(agent, slots)                                          # doctest: +SKIP

Compared with one policy per task trained on the same number of steps of its own task,
a task whose shared return is higher gained from the others (*transfer*); one whose return
is lower lost to them (*interference*).
"""

from __future__ import annotations

import functools
from typing import Any, Mapping, Sequence

import numpy as np

from ..envs.variants import make_variant, task_variant


def task_family(env: Any, tasks: Sequence[Mapping[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """``(env, env_kwargs)``: the shared policy's env (with an ``n_tasks``-entry one-hot id, showing
    task 0) and one env-kwargs dict per slot, slot i running task i."""
    tasks = [dict(t) for t in tasks]
    if not tasks:
        raise ValueError("tasks must list at least one env variant, e.g. [{'length': 0.3}, {'length': 1.2}]")
    shared = functools.partial(task_variant, env, n_tasks=len(tasks))
    return shared, [{"task": i, **task} for i, task in enumerate(tasks)]


def variant_env(agent_env: Any, kwargs: Mapping[str, Any]) -> Any:
    """The env spec of one variant of ``agent_env`` (a picklable callable)."""
    return functools.partial(make_variant, agent_env, **dict(kwargs))


def per_task_returns(
    agent: Any, variants: Sequence[Mapping[str, Any]], episodes: int = 10, seed: int = 0
) -> np.ndarray:
    """Mean evaluation return of ``agent`` on each variant of its env, shape ``(len(variants),)``.

    ``variants`` are env kwargs as given to ``train(..., env_kwargs=...)`` (with ``task`` for a
    shared multi-task policy). The agent's own env is put back afterwards."""
    own = agent.env_spec
    returns = []
    try:
        for kwargs in variants:
            agent.env_spec = variant_env(own, kwargs)
            returns.append(float(np.mean(agent.evaluate(episodes=episodes, seed=seed))))
    finally:
        agent.env_spec = own
    return np.array(returns)
