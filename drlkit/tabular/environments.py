"""What the tabular learners accept as ``env``, and how they see it.

The one-run loop talks to a gymnasium environment through ``reset``/``step``;
the vectorised learner needs the model as an :class:`~drlkit.envs.MDP`. This
module turns a gymnasium id, a gymnasium env or an MDP into whichever is needed:

* an MDP is wrapped in :class:`MDPEnv` for the one-run loop;
* a toy-text gymnasium env (one with ``env.unwrapped.P``) is converted with
  :meth:`MDP.from_gymnasium` for the vectorised runs, keeping its time limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from ..envs import MDP, make_env
from ..envs.make import env_id_of


class MDPEnv(gym.Env):
    """A gymnasium view of an :class:`MDP`: Discrete observations (states) and actions.

    ``step`` samples from ``mdp.P`` with the env's own generator (seeded by
    ``reset(seed=...)``), so it behaves exactly like :meth:`MDP.step`.
    The env has no time limit; the learners apply ``max_steps_per_episode``.
    """

    def __init__(self, mdp: MDP):
        if not isinstance(mdp, MDP):
            raise TypeError(f"mdp must be a drlkit.MDP (e.g. drlkit.envs.frozen_lake()); got {type(mdp).__name__}")
        self.mdp = mdp
        self.observation_space = gym.spaces.Discrete(mdp.n_states)
        self.action_space = gym.spaces.Discrete(mdp.n_actions)
        self._state: int | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        self._state = self.mdp.reset(self.np_random)
        return self._state, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        self._state, reward, terminated = self.mdp.step(self._state, int(action), self.np_random)
        return self._state, reward, terminated, False, {}


@dataclass
class TabularEnv:
    """A resolved ``env``: the gymnasium env, its model when known, sizes and time limit."""

    env: gym.Env
    mdp: MDP | None
    n_states: int
    n_actions: int
    time_limit: int | None
    label: str


def resolve_env(env: Any) -> TabularEnv:
    """Accept a gymnasium id, a gymnasium env (or a callable making one) or an MDP.

    Raises ``TypeError`` unless both spaces are ``Discrete`` (starting at 0).
    """
    if isinstance(env, MDP):
        return TabularEnv(MDPEnv(env), env, env.n_states, env.n_actions, None, "MDP")
    gym_env = make_env(env)
    label = env_id_of(gym_env) or type(gym_env.unwrapped).__name__
    sizes = []
    for field in ("observation_space", "action_space"):
        space = getattr(gym_env, field)
        if not isinstance(space, gym.spaces.Discrete) or int(space.start) != 0:
            raise TypeError(
                f"env {label}: tabular learning needs a Discrete {field} (states/actions numbered from 0), got {space}"
            )
        sizes.append(int(space.n))
    spec = getattr(gym_env, "spec", None)
    time_limit = getattr(spec, "max_episode_steps", None)
    mdp = MDP.from_gymnasium(gym_env) if isinstance(getattr(gym_env.unwrapped, "P", None), dict) else None
    return TabularEnv(
        gym_env,
        mdp,
        sizes[0],
        sizes[1],
        time_limit,
        label,
    )


def effective_step_limit(max_steps_per_episode: int | None, time_limit: int | None) -> int | None:
    """The tighter of the learner's step limit and the env's own time limit."""
    limits = [x for x in (max_steps_per_episode, time_limit) if x is not None]
    return min(limits) if limits else None


def greedy_path(mdp: MDP, policy: Any, start: int | None = None, max_steps: int | None = None) -> np.ndarray:
    """States visited by following ``policy`` (shape ``(S,)`` of actions) from ``start``.

    At each step the most likely next state is taken, so on a deterministic MDP
    this is exactly the greedy trajectory. The path stops at a terminal state,
    at a state already visited (the policy loops), or after ``max_steps``
    (default ``S``). Returns the visited states, start included.
    """
    if not isinstance(mdp, MDP):
        raise TypeError(f"mdp must be a drlkit.MDP; got {type(mdp).__name__}")
    policy = np.asarray(policy)
    if policy.shape != (mdp.n_states,):
        raise ValueError(f"policy must have shape ({mdp.n_states},), got {policy.shape}")
    if not np.issubdtype(policy.dtype, np.integer) or policy.min() < 0 or policy.max() >= mdp.n_actions:
        raise ValueError(f"policy must hold integer actions in [0, {mdp.n_actions - 1}]; got {policy.tolist()[:8]}")
    from .._checks import check_number

    state = (
        int(np.argmax(mdp.start))
        if start is None
        else check_number("start", start, low=0, high=mdp.n_states - 1, integer=True)
    )
    max_steps = mdp.n_states if max_steps is None else check_number("max_steps", max_steps, low=0, integer=True)
    path = [state]
    for _ in range(max_steps):
        if mdp.terminal[state]:
            break
        state = int(np.argmax(mdp.P[state, int(policy[state])]))
        if state in path:
            path.append(state)
            break
        path.append(state)
    return np.array(path)
