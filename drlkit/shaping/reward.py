r"""Reward shaping: extra rewards that speed learning up, and the kind that cannot change what is optimal.

A sparse reward (1 at the goal, 0 elsewhere) teaches slowly: until an agent
stumbles on the goal, every Q-value stays 0 and it walks at random. *Shaping*
adds a reward :math:`F(s, a, s')` that points the way. Ng, Harada & Russell 1999
(*Policy invariance under reward transformations: theory and application to
reward shaping*, ICML) showed which :math:`F` are safe: **potential-based** ones,

.. math:: F(s, a, s') = \gamma\,\Phi(s') - \Phi(s), \qquad \Phi(\text{terminal}) = 0,

for any function :math:`\Phi` of the state. Along any trajectory the shaping
terms telescope, :math:`\sum_t \gamma^t F_t = \gamma^T\Phi(s_T) - \Phi(s_0)`, so
every policy's value changes by the same :math:`-\Phi(s)`:
:math:`Q'(s, a) = Q(s, a) - \Phi(s)`, and :math:`\arg\max_a Q'(s, a) = \arg\max_a Q(s, a)`.
The optimal policy is unchanged; only how fast it is found changes. (Terminal
states must have potential 0, or the agent is paid :math:`-\Phi` for ending the episode.)

Any other bonus can change the optimal policy. The classic failure (Randløv &
Alstrøm 1998, a bicycle that learned to ride in circles): pay a bonus for every
step that gets *closer* to the goal but charge nothing for moving away.
Stepping away and back again then earns the bonus forever, which beats
reaching the goal: :func:`progress_bonus` builds it, :func:`distance_potential`
is its safe, potential-based counterpart (moving away costs what moving
closer paid).

* :func:`potential_shaping` / :func:`bonus_shaping` -- transformed :class:`~drlkit.MDP`\ s (plan or learn on them);
* :class:`PotentialShaping` -- the same for any gymnasium environment (deep agents), with ``Φ(obs)``.
"""

from __future__ import annotations

from typing import Any, Callable

import gymnasium as gym
import numpy as np

from .._checks import check_number
from ..envs.mdp import MDP


def _reward3(mdp: MDP) -> np.ndarray:
    """Per-transition rewards ``(S, A, S)`` (R broadcast over next states when only R[s, a] is known)."""
    if mdp.R3 is not None:
        return mdp.R3.copy()
    return np.repeat(mdp.R[:, :, None], mdp.n_states, axis=2)


def _copy(mdp: MDP, R3: np.ndarray) -> MDP:
    return MDP(
        P=mdp.P,
        R=R3,
        terminal=mdp.terminal,
        start=mdp.start,
        state_names=mdp.state_names,
        action_names=mdp.action_names,
        layout=mdp.layout,
        grid=mdp.grid,
    )


def check_potential(mdp: MDP, potential: Any) -> np.ndarray:
    """``potential`` as a float array ``(S,)`` of finite values."""
    if not isinstance(mdp, MDP):
        raise TypeError(f"mdp must be a drlkit.MDP, got {type(mdp).__name__}")
    phi = np.asarray(potential, dtype=float)
    if phi.shape != (mdp.n_states,):
        raise ValueError(f"potential must have one value per state, shape ({mdp.n_states},); got {phi.shape}")
    if not np.isfinite(phi).all():
        raise ValueError("potential must contain only finite numbers")
    return phi


def potential_shaping(mdp: MDP, potential: Any, gamma: float) -> MDP:
    r"""The MDP with rewards :math:`R(s, a, s') + \gamma\Phi(s') - \Phi(s)`, where ``Φ = potential (S,)``
    and :math:`\Phi(s') = 0` for terminal :math:`s'`. Same optimal policy as ``mdp`` for this ``gamma``."""
    phi = check_potential(mdp, potential)
    gamma = check_number("gamma", gamma, low=0, high=1)
    next_phi = np.where(mdp.terminal, 0.0, phi)
    return _copy(mdp, _reward3(mdp) + gamma * next_phi[None, None, :] - phi[:, None, None])


def bonus_shaping(mdp: MDP, bonus: Any) -> MDP:
    """The MDP with rewards ``R(s, a, s') + bonus[s, a, s']`` -- an arbitrary bonus, which may change
    the optimal policy (see :func:`progress_bonus`)."""
    if not isinstance(mdp, MDP):
        raise TypeError(f"mdp must be a drlkit.MDP, got {type(mdp).__name__}")
    bonus = np.asarray(bonus, dtype=float)
    shape = (mdp.n_states, mdp.n_actions, mdp.n_states)
    if bonus.shape != shape:
        raise ValueError(f"bonus must have shape (S, A, S) = {shape}; got {bonus.shape}")
    if not np.isfinite(bonus).all():
        raise ValueError("bonus must contain only finite numbers")
    return _copy(mdp, _reward3(mdp) + bonus)


def goal_distances(mdp: MDP) -> np.ndarray:
    """Manhattan distance ``(S,)`` from every cell of a gridworld to the nearest goal cell."""
    if mdp.layout is None or mdp.grid is None:
        raise ValueError("goal distances need a gridworld MDP (built by drlkit.envs.gridworld)")
    rows, cols = mdp.layout
    goals = [(r, c) for r in range(rows) for c in range(cols) if mdp.grid[r][c] == "G"]
    if not goals:
        raise ValueError("the gridworld has no goal cell 'G'")
    r, c = np.divmod(np.arange(rows * cols), cols)
    return np.min([np.abs(r - gr) + np.abs(c - gc) for gr, gc in goals], axis=0).astype(float)


def distance_potential(mdp: MDP, gamma: float, goal_reward: float = 1.0) -> np.ndarray:
    """``Φ(s) = goal_reward · γ^(d(s) - 1)``, ``d`` = distance to the goal: the value of walking straight
    to the goal, an estimate of ``V*``. Potential-based "get closer" shaping: on a shortest path the
    shaping cancels the discounting (F = 0 per step), every detour or bump costs."""
    gamma = check_number("gamma", gamma, low=0, high=1, low_open=True)
    goal_reward = check_number("goal_reward", goal_reward)
    d = goal_distances(mdp)
    return np.where(d > 0, goal_reward * gamma ** (d - 1), 0.0)


def progress_bonus(mdp: MDP, bonus: float = 0.5) -> np.ndarray:
    """``bonus`` for every transition that ends closer to the goal than it started, 0 otherwise --
    *not* potential-based: moving away costs nothing, so a loop away-and-back pays forever.
    Shape ``(S, A, S)``, for :func:`bonus_shaping`."""
    bonus = check_number("bonus", bonus, low=0)
    d = goal_distances(mdp)
    closer = (d[None, :] < d[:, None]).astype(float)  # (S, S'): s' is closer than s
    return np.repeat(bonus * closer[:, None, :], mdp.n_actions, axis=1)


class PotentialShaping(gym.Wrapper):
    r"""Adds :math:`F = \gamma\Phi(s') - \Phi(s)` to every reward of a gymnasium env
    (:math:`\Phi(s') = 0` when the episode terminates; not when it is truncated, where
    :math:`s'` still has a value). ``potential`` maps one observation to a float.

    The unshaped reward stays available as ``info["original_reward"]``, so curves can show
    the task's own return. Use the same ``gamma`` as the agent, or invariance is lost.
    """

    def __init__(self, env: gym.Env, potential: Callable[[Any], float], gamma: float) -> None:
        if not isinstance(env, gym.Env):
            raise TypeError(f"env must be a gymnasium.Env, got {type(env).__name__}")
        if not callable(potential):
            raise TypeError(f"potential must be a function obs -> float, got {type(potential).__name__}")
        super().__init__(env)
        self.potential = potential
        self.gamma = check_number("gamma", gamma, low=0, high=1)
        self._phi = 0.0

    def _phi_of(self, obs: Any) -> float:
        value = self.potential(obs)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"potential(obs) must return a number; it returned {type(value).__name__}") from None
        if not np.isfinite(value):
            raise ValueError(f"potential(obs) must be finite; it returned {value} for obs {obs!r:.60}")
        return value

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self._phi = self._phi_of(obs)
        return obs, info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        next_phi = 0.0 if terminated else self._phi_of(obs)
        info = dict(info)
        info["original_reward"] = reward
        shaped = float(reward) + self.gamma * next_phi - self._phi
        self._phi = next_phi
        return obs, shaped, terminated, truncated, info
