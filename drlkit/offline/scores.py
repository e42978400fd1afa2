r"""Scores of offline agents: raw and normalised returns, and Q-value overestimation.

**Normalised score** (Fu et al. 2020, D4RL): the return mapped so that the
random policy scores 0 and the expert that made the data scores 100,

.. math:: \text{score} = 100\, \frac{R - R_\text{random}}{R_\text{expert} - R_\text{random}}.

**Overestimation.** A value-based agent predicts :math:`Q_\theta(s, \pi(s))`,
the discounted return it expects from ``s`` when it follows its greedy policy.
:func:`q_overestimation` runs that policy and compares, on every visited state,
the prediction with the discounted return that actually followed. Naive offline
DQN's predictions are typically far above the truth; CQL's are not.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._checks import check_number
from ..envs.make import make_env


def normalized_score(returns: Any, random_return: float, expert_return: float) -> np.ndarray | float:
    """``100 (R - R_random) / (R_expert - R_random)`` for a return or an array of returns."""
    random_return = check_number("random_return", random_return)
    expert_return = check_number("expert_return", expert_return)
    if expert_return == random_return:
        raise ValueError(f"expert_return and random_return must differ (both are {expert_return:g})")
    value = 100.0 * (np.asarray(returns, dtype=float) - random_return) / (expert_return - random_return)
    return float(value) if np.ndim(value) == 0 else value


def reference_returns(env: Any, expert: Any, episodes: int = 20, seed: int = 10_000) -> tuple[float, float]:
    """Mean return of a uniform random policy and of ``expert`` (an agent or a function obs -> action)
    over ``episodes`` episodes with seeds ``seed, seed + 1, ...``: ``(random_return, expert_return)``."""
    from .dataset import _policy_function

    episodes = check_number("episodes", episodes, low=1, integer=True)
    act, _ = _policy_function(expert)
    results = []
    for policy in (None, act):
        made = make_env(env)
        made.action_space.seed(seed)
        total = 0.0
        for i in range(episodes):
            obs, _ = made.reset(seed=seed + i)
            done = False
            while not done:
                obs, reward, terminated, truncated, _ = made.step(
                    made.action_space.sample() if policy is None else policy(obs)
                )
                total += float(reward)
                done = terminated or truncated
        made.close()
        results.append(total / episodes)
    return results[0], results[1]


def q_overestimation(agent: Any, episodes: int = 10, seed: int = 20_000) -> dict[str, float]:
    """Predicted :math:`Q_\\theta(s, \\pi(s))` against the discounted return that followed, along
    ``episodes`` greedy episodes of ``agent`` (an :class:`~drlkit.offline.dqn.OfflineDQN`, CQL or DQN).

    Only states whose discounted return is known to within 1 % are used: all states of an episode
    that terminated, and those at least ``log(0.01)/log(gamma)`` steps before a time-limit cut.
    Returns ``{"q_predicted", "true_return", "overestimation"}`` (means over those states; the last
    is their difference) and ``"states"``, how many states were used.
    """
    episodes = check_number("episodes", episodes, low=1, integer=True)
    if not hasattr(agent, "q_values"):
        raise TypeError(f"q_overestimation needs a value-based agent with q_values(); got {type(agent).__name__}")
    gamma = float(agent.config.gamma)
    horizon = math.ceil(math.log(0.01) / math.log(gamma)) if gamma < 1 else 10**9
    predicted: list[float] = []
    true: list[float] = []
    env = make_env(agent.env_spec)
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            observations, rewards = [], []
            done = terminated = False
            while not done:
                observations.append(np.asarray(obs, dtype=np.float32))
                obs, reward, terminated, truncated, _ = env.step(agent.act(obs))
                rewards.append(float(reward))
                done = terminated or truncated
            q = agent.q_values(np.stack(observations)).max(axis=1)
            returns = np.zeros(len(rewards))
            running = 0.0
            for t in range(len(rewards) - 1, -1, -1):
                running = rewards[t] + gamma * running
                returns[t] = running
            keep = len(rewards) if terminated else max(len(rewards) - horizon, 0)
            predicted.extend(q[:keep])
            true.extend(returns[:keep])
    finally:
        env.close()
    if not predicted:
        raise ValueError(
            f"no episode was long enough to measure discounted returns with gamma={gamma}; use more episodes"
        )
    q_mean, ret_mean = float(np.mean(predicted)), float(np.mean(true))
    return {
        "q_predicted": q_mean,
        "true_return": ret_mean,
        "overestimation": q_mean - ret_mean,
        "states": len(predicted),
    }
