r"""Advantage and return estimates: the one place REINFORCE, A2C, PPO, TRPO and the plots compute them.

* :func:`discounted_returns` -- rewards-to-go :math:`G_t = r_t + \gamma G_{t+1}` within episodes;
* :func:`monte_carlo_returns` -- the same over a ``(T, N)`` rollout, with the mask of complete ones;
* :func:`compute_gae` -- generalized advantage estimation (Schulman et al. 2016, "High-Dimensional
  Continuous Control Using Generalized Advantage Estimation");
* :func:`normalize_advantages` -- zero mean, unit variance over a batch;
* :func:`fragment_advantages` -- GAE of a rollout fragment, flattened to ``T*N`` samples,
  optionally normalised: what A2C, PPO and TRPO learn from.

Shapes: ``T`` steps per environment, ``N`` environments; see :mod:`drlkit.agents.on_policy`
for the arrays of a fragment.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def discounted_returns(rewards: Any, gamma: float, dones: Any = None) -> np.ndarray:
    r""":math:`G_t = r_t + \gamma\,(1 - d_t)\,G_{t+1}` along axis 0, with :math:`G_T = 0`.

    ``rewards`` is ``(T,)`` (one episode) or ``(T, N)``; ``dones`` (same shape, bool) ends the
    sum at episode ends (``None``: the whole array is one episode). The result has the shape of
    ``rewards``, in float32 for float32 rewards and float64 otherwise.
    """
    rewards = np.asarray(rewards)
    dtype = np.float32 if rewards.dtype == np.float32 else np.float64
    returns = np.empty(rewards.shape, dtype=dtype)
    running = np.zeros(rewards.shape[1:], dtype=dtype)
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * (running if dones is None else ~dones[t] * running)
        returns[t] = running
    return returns


def monte_carlo_returns(rewards: np.ndarray, dones: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Discounted rewards-to-go :math:`G_t = \\sum_{k \\ge t} \\gamma^{k-t} r_k` up to the end
    of each episode, and a mask of the steps whose episode ended inside the
    fragment (only those have a complete Monte-Carlo return). Both ``(T, N)``.

    Time-limit truncations end the sum like terminations: the return being
    estimated is the one of the (time-limited) episode the agent actually plays.
    """
    returns = discounted_returns(np.asarray(rewards, dtype=np.float32), gamma, dones)
    # complete[t] is True if some episode end happens at or after t in the same env.
    complete = np.flip(np.logical_or.accumulate(np.flip(dones, 0), axis=0), 0)
    return returns, np.ascontiguousarray(complete)


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    dones: np.ndarray,
    bootstrap_values: np.ndarray,
    last_values: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalized advantage estimates and value targets, both ``(T, N)``.

    With :math:`V'_{t+1}` the value of the state that follows step ``t`` --
    ``values[t+1]`` (or ``last_values`` at ``t = T-1``) inside an episode,
    ``bootstrap_values[t]`` when the episode ended at ``t`` (0 for a true
    termination, :math:`V(s_{\\text{final}})` for a time-limit truncation):

    .. math::
        \\delta_t = r_t + \\gamma V'_{t+1} - V(s_t), \\qquad
        \\hat A_t = \\delta_t + \\gamma\\lambda\\,(1 - d_t)\\,\\hat A_{t+1}

    (the recursion stops at episode ends ``d_t``). ``gae_lambda = 1`` gives the
    n-step return advantage :math:`\\sum_k \\gamma^k r_{t+k} + \\gamma^n V - V(s_t)`,
    ``gae_lambda = 0`` the one-step TD error. The value targets are
    :math:`\\hat R_t = \\hat A_t + V(s_t)`.
    """
    advantages = np.empty_like(rewards, dtype=np.float32)
    next_values = last_values
    next_advantage = np.zeros_like(last_values, dtype=np.float32)
    for t in reversed(range(len(rewards))):
        following = np.where(dones[t], bootstrap_values[t], next_values)
        delta = rewards[t] + gamma * following - values[t]
        next_advantage = delta + gamma * gae_lambda * ~dones[t] * next_advantage
        advantages[t] = next_advantage
        next_values = values[t]
    return advantages, advantages + values


def normalize_advantages(advantages: np.ndarray) -> np.ndarray:
    """``(A - mean(A)) / (std(A) + 1e-8)`` over the batch (population std): the step size
    no longer depends on the scale of the rewards. A single sample is returned as is."""
    if len(advantages) <= 1:
        return advantages
    return (advantages - advantages.mean()) / (advantages.std() + 1e-8)


def fragment_advantages(
    data: dict[str, np.ndarray], gamma: float, gae_lambda: float, normalize: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE advantages and value targets of a rollout fragment's ``data``, flattened over
    ``(T, N)`` to two ``(T*N,)`` float32 tensors; the advantages standardised over the
    fragment if ``normalize`` (the targets never are)."""
    advantages, returns = compute_gae(
        data["rewards"], data["values"], data["dones"], data["bootstrap_values"], data["last_values"], gamma, gae_lambda
    )
    advantages = advantages.reshape(-1)
    if normalize:
        advantages = normalize_advantages(advantages)
    return torch.from_numpy(advantages), torch.from_numpy(returns.reshape(-1))
