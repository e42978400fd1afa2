"""Reference teams for cooperative navigation (MPE ``simple_spread``): what random and what good look like.

Learning curves need two yardsticks measured on the same env: a *random team*
(every agent samples uniformly) and a *scripted team* that knows the task. The
scripted team reads only each agent's own observation -- ``[velocity (2), position (2),
landmarks relative (2N), other agents relative (2(N-1)), communication]`` -- from
which every agent can rebuild all positions, so they all compute the same
assignment of agents to landmarks (the permutation with the least total distance,
found by enumeration) and each steers to its landmark along the axis with the
larger remaining offset, braking with its velocity. Its return is not optimal
(the actions are discrete and the steering crude) but it is a fixed,
reproducible "solved" level for thresholds.
"""

from __future__ import annotations

import itertools

import numpy as np

from .._checks import check_number

#: Discrete MPE actions: no-op, -x, +x, -y, +y.
_DIRECTIONS = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]], dtype=float)


def scripted_spread_action(obs: np.ndarray, index: int, n_agents: int, brake: float = 0.6) -> int:
    """The scripted team's discrete action for agent ``index`` from its own observation ``obs (18,)`` (N=3)."""
    vel, pos = obs[0:2], obs[2:4]
    landmarks = pos + obs[4 : 4 + 2 * n_agents].reshape(n_agents, 2)
    others = pos + obs[4 + 2 * n_agents : 4 + 2 * n_agents + 2 * (n_agents - 1)].reshape(n_agents - 1, 2)
    agents = np.insert(others, index, pos, axis=0)
    best = min(
        itertools.permutations(range(n_agents)),
        key=lambda perm: sum(np.linalg.norm(agents[k] - landmarks[perm[k]]) for k in range(n_agents)),
    )
    offset = landmarks[best[index]] - pos - brake * vel
    if np.abs(offset).max() < 0.05:
        return 0
    return int(np.argmax(_DIRECTIONS @ offset))


def spread_team_returns(
    policy: str = "scripted", n_agents: int = 3, episodes: int = 20, seed: int = 0, max_cycles: int = 25
) -> np.ndarray:
    """Team returns (summed over agents) of the ``"scripted"`` or ``"random"`` team on
    ``mpe2.simple_spread_v3.parallel_env(N=n_agents, max_cycles=max_cycles)``, ``(episodes,)``."""
    from mpe2 import simple_spread_v3

    if policy not in ("scripted", "random"):
        raise ValueError(f"policy must be 'scripted' or 'random'; got {policy!r}")
    n_agents = check_number("n_agents", n_agents, low=2, high=6, integer=True)
    episodes = check_number("episodes", episodes, low=1, integer=True)
    env = simple_spread_v3.parallel_env(N=n_agents, max_cycles=max_cycles, continuous_actions=False)
    returns = np.zeros(episodes)
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        for a in env.agents:
            env.action_space(a).seed(seed + i)
        while env.agents:
            if policy == "scripted":
                joint = {
                    a: scripted_spread_action(obs[a], k, n_agents)
                    for k, a in enumerate(env.possible_agents)
                    if a in env.agents
                }
            else:
                joint = {a: env.action_space(a).sample() for a in env.agents}
            obs, rewards, *_ = env.step(joint)
            returns[i] += sum(rewards.values())
    env.close()
    return returns
