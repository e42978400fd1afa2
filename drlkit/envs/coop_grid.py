"""A small cooperative gridworld: agents must split up to cover the targets; collisions cost.

``n_agents`` agents and as many targets on a ``size x size`` grid without walls.
Each step every agent moves (0 stay, 1 up, 2 down, 3 left, 4 right; moves off
the grid leave it in place). Agents that would end in the same cell -- or swap
cells -- *collide*: they stay where they were. All agents share one team reward

.. math::
    r_t = \\frac{\\#\\{\\text{targets with an agent on them}\\}}{n_\\text{targets}}
          - c \\cdot \\#\\{\\text{agents that collided}\\}

(``collision_cost`` :math:`c`), so the best the team can do is to send each agent
to a different target quickly and without bumping into each other: two agents
on one target get nothing for the second. Episodes last ``max_steps`` steps
(truncation; there is no terminal state). Start cells and targets are drawn from
the ``reset`` seed.

Observation of agent ``i`` (``Box(-1, 1)``, length ``2 + 2 (n_agents - 1) + 2 n_targets``):
its own position scaled to ``[0, 1]``, then the offsets to the other agents and
to the targets, divided by ``size - 1``. ``state()`` is all positions, scaled.

>>> env = coop_grid(n_agents=2, size=4)
>>> obs, infos = env.reset(seed=0)
>>> obs["agent_0"].shape
(8,)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from .._checks import check_number
from .matrix_games import check_agent_id, check_joint_action

#: (row, column) displacement of each action: stay, up, down, left, right.
MOVES = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]])
_MOVE_TUPLES = [tuple(int(v) for v in move) for move in MOVES]


def _valid_joint_action(actions: Any, agents: list[str], n_actions: int) -> bool:
    """The common case, checked fast: a dict with exactly ``agents`` as keys and integer actions in range."""
    if type(actions) is not dict or len(actions) != len(agents):
        return False
    for agent in agents:
        a = actions.get(agent)
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool) or not 0 <= a < n_actions:
            return False
    return True


class CoopGridEnv(ParallelEnv):
    """The cooperative target-covering gridworld (see module docstring)."""

    metadata = {"render_modes": ["ansi"], "name": "coop_grid_v0", "is_parallelizable": True}

    def __init__(
        self,
        n_agents: int = 2,
        size: int = 5,
        max_steps: int = 20,
        collision_cost: float = 0.5,
        render_mode: str | None = None,
    ) -> None:
        self.n_agents = check_number("n_agents", n_agents, low=1, high=8, integer=True)
        self.size = check_number("size", size, low=2, high=20, integer=True)
        if 2 * self.n_agents > self.size * self.size:
            raise ValueError(
                f"size={self.size} is too small for n_agents={self.n_agents}: the grid needs room "
                f"for {2 * self.n_agents} distinct cells (agents and targets)"
            )
        self.max_steps = check_number("max_steps", max_steps, low=1, integer=True)
        self.collision_cost = check_number("collision_cost", collision_cost, low=0)
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi'; got {render_mode!r}")
        self.render_mode = render_mode
        self.possible_agents = [f"agent_{i}" for i in range(self.n_agents)]
        self.agents: list[str] = []
        obs_dim = 2 + 2 * (self.n_agents - 1) + 2 * self.n_agents
        self._obs_space = spaces.Box(-1.0, 1.0, (obs_dim,), dtype=np.float32)
        self._action_space = spaces.Discrete(len(MOVES))
        self._state_space = spaces.Box(0.0, 1.0, (4 * self.n_agents,), dtype=np.float32)
        self._rng = np.random.default_rng()
        self.positions = np.zeros((self.n_agents, 2), dtype=np.int64)
        self.targets = np.zeros((self.n_agents, 2), dtype=np.int64)
        self._t = 0

    def observation_space(self, agent: str) -> spaces.Box:
        check_agent_id(agent, self.possible_agents)
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Discrete:
        check_agent_id(agent, self.possible_agents)
        return self._action_space

    @property
    def state_space(self) -> spaces.Box:
        return self._state_space

    def state(self) -> np.ndarray:
        """Agent then target positions, scaled to [0, 1]: ``(4 n_agents,)``."""
        scale = self.size - 1
        return np.concatenate([self.positions.ravel(), self.targets.ravel()]).astype(np.float32) / scale

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        cells = self._rng.choice(self.size * self.size, size=2 * self.n_agents, replace=False)
        rows, cols = np.divmod(cells, self.size)
        both = np.stack([rows, cols], axis=1)
        self.positions, self.targets = both[: self.n_agents].copy(), both[self.n_agents :].copy()
        self._t = 0
        self.agents = list(self.possible_agents)
        return self._observations(), {a: {} for a in self.agents}

    def _observations(self) -> dict[str, np.ndarray]:
        scale = self.size - 1
        K = self.n_agents
        pos = self.positions
        # others[i] = positions of the other agents (in order) minus agent i's; to_targets[i] = targets minus it.
        others = (pos[None, :, :] - pos[:, None, :])[~np.eye(K, dtype=bool)].reshape(K, 2 * (K - 1))
        to_targets = (self.targets[None, :, :] - pos[:, None, :]).reshape(K, -1)
        rows = np.concatenate([pos / scale, others / scale, to_targets / scale], axis=1).astype(np.float32)
        return dict(zip(self.possible_agents, rows))

    def step(self, actions: dict[str, Any]):
        if not self.agents:
            raise RuntimeError("step() called after the episode ended; call reset() first")
        if not _valid_joint_action(actions, self.possible_agents, len(MOVES)):
            check_joint_action(actions, self.agents, {a: self._action_space for a in self.agents})
        n, last = self.n_agents, self.size - 1
        # Plain tuples: a handful of agents, so Python beats numpy on arrays of shape (n, 2).
        old = [(int(r), int(c)) for r, c in self.positions.tolist()]
        proposed = []
        for (r, c), a in zip(old, (int(actions[agent]) for agent in self.possible_agents)):
            dr, dc = _MOVE_TUPLES[a]
            proposed.append((min(max(r + dr, 0), last), min(max(c + dc, 0), last)))
        collided = [False] * n
        for i in range(n):
            for j in range(i + 1, n):
                same_cell = proposed[i] == proposed[j]
                swap = proposed[i] == old[j] and proposed[j] == old[i]
                if same_cell or swap:
                    collided[i] = collided[j] = True
        new = [old[i] if collided[i] else proposed[i] for i in range(n)]
        # Staying put can still clash with an agent that moved into one's cell: hold those back too.
        while True:
            clash = [False] * n
            for i in range(n):
                for j in range(i + 1, n):
                    if new[i] == new[j]:
                        clash[i] = clash[j] = True
            moved_in = [clash[i] and new[i] != old[i] for i in range(n)]
            if not any(moved_in):
                break
            collided = [a or b for a, b in zip(collided, clash)]
            new = [old[i] if moved_in[i] else new[i] for i in range(n)]
        self.positions = np.array(new, dtype=np.int64)
        self._t += 1
        occupied = set(new)
        covered = [tuple(t) in occupied for t in self.targets.tolist()]
        reward = sum(covered) / len(covered) - self.collision_cost * float(sum(collided))
        over = self._t >= self.max_steps
        observations = self._observations()
        rewards = {a: reward for a in self.agents}
        terminations = {a: False for a in self.agents}
        truncations = {a: over for a in self.agents}
        infos = {a: {"covered": int(sum(covered)), "collided": bool(collided[i])} for i, a in enumerate(self.agents)}
        if over:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        grid = [["." for _ in range(self.size)] for _ in range(self.size)]
        for r, c in self.targets:
            grid[r][c] = "T"
        for i, (r, c) in enumerate(self.positions):
            grid[r][c] = str(i)
        return "\n".join("".join(row) for row in grid)

    def close(self) -> None:
        pass


def positions_from_observations(observations: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Agents' cells and the targets from observations ``(T, K, D)`` (e.g. ``rollout(...)["observations"]`` of a
    multi-agent learner): ``positions (T, K, 2)`` and ``targets (K, 2)``, as (row, column) integers. Every
    observation holds its agent's own position and the offsets to the targets (module docstring)."""
    try:
        obs = np.asarray(observations, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"observations must be a numeric array of shape (T, K, D); {exc}") from None
    if obs.ndim != 3:
        raise ValueError(f"observations must have shape (T, K, D); got {obs.shape}")
    K = obs.shape[1]
    if obs.shape[2] < 2 + 2 * (K - 1) + 2 * K:
        raise ValueError(f"observations of {K} agents need {2 + 2 * (K - 1) + 2 * K} entries each; got {obs.shape[2]}")
    scale = check_number("size", size, low=2, integer=True) - 1
    positions = np.rint(obs[:, :, :2] * scale).astype(np.int64)
    start = 2 + 2 * (K - 1)
    targets = positions[0, 0] + np.rint(obs[0, 0, start : start + 2 * K] * scale).astype(np.int64).reshape(K, 2)
    return positions, targets


def coop_grid(
    n_agents: int = 2, size: int = 5, max_steps: int = 20, collision_cost: float = 0.5, **kwargs: Any
) -> CoopGridEnv:
    """A :class:`CoopGridEnv` (PettingZoo Parallel API)."""
    return CoopGridEnv(n_agents, size, max_steps, collision_cost, **kwargs)


parallel_env = coop_grid
