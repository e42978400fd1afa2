"""A drlkit game as a PettingZoo AEC environment (``pettingzoo.test.api_test`` passes).

Agents ``"player_0"`` (+1, moves first) and ``"player_1"`` (-1). Each
observation is a dict ``{"observation": int8 (2, rows, cols) canonical planes
(own stones, opponent's), "action_mask": int8 (n_actions,)}``, the convention
of PettingZoo's classic board games. Rewards: +1 / -1 to the winner / loser at
the end, 0 otherwise. An illegal action raises ``ValueError`` (the game's
own error) instead of being silently ignored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv

from .games import make_game

__all__ = ["GameAEC"]


class GameAEC(AECEnv):
    """PettingZoo AEC wrapper around ``drlkit.envs.games`` (``game``: name or Game)."""

    metadata = {"render_modes": ["ansi"], "name": "drlkit_game_v0", "is_parallelizable": False}

    def __init__(self, game: Any = "connect_four", render_mode: str | None = None) -> None:
        super().__init__()
        self.game = make_game(game)
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode
        self.metadata = dict(self.metadata, name=f"drlkit_{self.game.name}_v0")
        self.possible_agents = ["player_0", "player_1"]
        shape = (2, self.game.rows, self.game.cols)
        obs = spaces.Dict(
            {
                "observation": spaces.Box(0, 1, shape, dtype=np.int8),
                "action_mask": spaces.Box(0, 1, (self.game.n_actions,), dtype=np.int8),
            }
        )
        self.observation_spaces = {a: obs for a in self.possible_agents}
        self.action_spaces = {a: spaces.Discrete(self.game.n_actions) for a in self.possible_agents}

    def observation_space(self, agent):
        return self.observation_spaces[agent]

    def action_space(self, agent):
        return self.action_spaces[agent]

    def _player(self, agent: str) -> int:
        return 1 if agent == "player_0" else -1

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        b = self.state.board * self._player(agent)
        planes = np.stack([b == 1, b == -1]).astype(np.int8)
        mask = np.zeros(self.game.n_actions, dtype=np.int8)
        if agent == self.agent_selection and self.game.winner(self.state) is None:
            mask[self.game.legal_actions(self.state)] = 1
        return {"observation": planes, "action_mask": mask}

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self.agents = list(self.possible_agents)
        self.state = self.game.initial_state()
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos: dict[str, dict[str, Any]] = {a: {} for a in self.agents}
        self.agent_selection = "player_0"

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self._cumulative_rewards[agent] = 0.0
        self.state = self.game.next_state(self.state, action)
        w = self.game.winner(self.state)
        self.rewards = {a: 0.0 for a in self.agents}
        if w is not None:
            for a in self.agents:
                self.rewards[a] = float(w * self._player(a))
                self.terminations[a] = True
        self.agent_selection = "player_1" if agent == "player_0" else "player_0"
        self._accumulate_rewards()
        if self.render_mode == "ansi":
            self.render()

    def render(self) -> str | None:
        if self.render_mode is None:
            return None
        return self.game.render(self.state)

    def close(self) -> None:
        pass
