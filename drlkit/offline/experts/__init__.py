"""Behaviour policies shipped with drlkit for building offline datasets without a long training run.

``cartpole_dqn_medium.pt`` and ``cartpole_dqn_expert.pt`` are drlkit DQN checkpoints
(CartPole-v1, seed 0) made by ``scripts/make_offline_experts.py``: the medium one is the first
whose greedy return over 20 episodes was in [100, 250] (after 2,000 steps), the expert the first
with return 500 (after 20,000 steps). Pendulum-v1 has a hand-written swing-up controller,
:func:`pendulum_controller`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..._checks import check_choice

HERE = Path(__file__).resolve().parent
_FILES = {("CartPole-v1", "medium"): "cartpole_dqn_medium.pt", ("CartPole-v1", "expert"): "cartpole_dqn_expert.pt"}


def behaviour_policy(env_id: str, level: str) -> Any:
    """The shipped ``"medium"`` or ``"expert"`` policy for ``env_id``: a drlkit agent (CartPole-v1)
    or a function obs -> action (Pendulum-v1)."""
    check_choice("env_id", env_id, sorted({e for e, _ in _FILES} | {"Pendulum-v1"}))
    check_choice("level", level, ("medium", "expert"))
    if env_id == "Pendulum-v1":
        return pendulum_controller if level == "expert" else pendulum_medium_controller
    from ...agents.base import load

    return load(HERE / _FILES[(env_id, level)])


def pendulum_controller(obs: np.ndarray) -> np.ndarray:
    """A swing-up controller for Pendulum-v1 (returns about -150 per episode).

    Far from the top it pumps energy: torque along the angular velocity until the
    pendulum's energy reaches that of standing upright; near the top a PD law
    ``u = -10 θ - 2 θ̇`` holds it there. ``obs = (cos θ, sin θ, θ̇)``, θ = 0 upright.
    """
    cos, sin, vel = (float(x) for x in obs)
    theta = np.arctan2(sin, cos)
    if cos > 0.85:
        u = -10.0 * theta - 2.0 * vel
    else:
        energy = 0.5 * vel**2 / 3.0 + 5.0 * (cos - 1.0)  # 0 when upright at rest (g=10, m=l=1)
        u = -2.0 * np.sign(vel if vel != 0 else 1.0) * np.sign(energy)
    return np.array([np.clip(u, -2.0, 2.0)], dtype=np.float32)


def pendulum_medium_controller(obs: np.ndarray) -> np.ndarray:
    """A weaker Pendulum-v1 policy: the swing-up controller with a third of its gains near the top
    and half the pumping torque, so it often falls and swings around."""
    cos, sin, vel = (float(x) for x in obs)
    theta = np.arctan2(sin, cos)
    if cos > 0.85:
        u = -3.0 * theta - 0.6 * vel
    else:
        energy = 0.5 * vel**2 / 3.0 + 5.0 * (cos - 1.0)
        u = -1.0 * np.sign(vel if vel != 0 else 1.0) * np.sign(energy)
    return np.array([np.clip(u, -2.0, 2.0)], dtype=np.float32)
