"""Repeated two-player matrix games as PettingZoo Parallel environments.

A *matrix game* is two payoff tables ``A, B`` of shape ``(n, m)``: when the row
player picks action ``i`` and the column player ``j``, they receive ``A[i, j]``
and ``B[i, j]``. The classics that show what independent learners do:

=====================  ==================================  =========================================
game                   payoffs (row player ``A``)          Nash equilibria
=====================  ==================================  =========================================
prisoner's dilemma     ``[[3, 0], [5, 1]]``, ``B = Aᵀ``    (defect, defect) only -- though both
                                                           would get more by cooperating
stag hunt              ``[[4, 0], [3, 3]]``, ``B = Aᵀ``    (stag, stag), (hare, hare), and mixed:
                                                           stag with probability 3/4
coordination           ``[[2, 0], [0, 1]]``, ``B = A``     (0, 0), (1, 1), and mixed: action 0
                                                           with probability 1/3
matching pennies       ``[[1, -1], [-1, 1]]``, ``B = -A``  mixed only: (1/2, 1/2) each
rock-paper-scissors    zero-sum, ``B = -A``                mixed only: (1/3, 1/3, 1/3) each
=====================  ==================================  =========================================

:func:`drlkit.multiagent.nash_equilibria` computes them exactly.

The environment repeats the game for ``rounds`` rounds. Each player observes
the previous round's joint action as a one-hot vector of length ``n*m + 1``
(the last entry marks the first round), so memory-based strategies such as
tit-for-tat are learnable; ``state()`` is the same vector.

>>> env = prisoners_dilemma(rounds=5)
>>> obs, infos = env.reset(seed=0)
>>> obs, rewards, terminations, truncations, infos = env.step({"player_0": 1, "player_1": 1})
>>> rewards
{'player_0': 1.0, 'player_1': 1.0}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from .._checks import check_number

PLAYERS = ("player_0", "player_1")


@dataclass(frozen=True)
class MatrixGame:
    """Payoff tables of a two-player game: ``A[i, j]`` to the row player, ``B[i, j]`` to the column player.

    ``actions`` names the row player's actions (and ``column_actions`` the column player's, by default the same).
    """

    name: str
    A: np.ndarray
    B: np.ndarray
    actions: tuple[str, ...]
    column_actions: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        A = np.asarray(self.A, dtype=float)
        B = np.asarray(self.B, dtype=float)
        if A.ndim != 2 or A.shape[0] < 1 or A.shape[1] < 1:
            raise ValueError(f"{self.name}: payoff table A must be a 2-D array (n, m); got shape {A.shape}")
        if A.shape != B.shape:
            raise ValueError(f"{self.name}: payoff tables must have the same shape; A is {A.shape}, B is {B.shape}")
        if not (np.isfinite(A).all() and np.isfinite(B).all()):
            raise ValueError(f"{self.name}: payoffs must be finite numbers")
        column = self.actions if self.column_actions is None else self.column_actions
        if len(self.actions) != A.shape[0] or len(column) != A.shape[1]:
            raise ValueError(
                f"{self.name}: {A.shape} payoffs need {A.shape[0]} row and {A.shape[1]} column "
                f"action names; got {len(self.actions)} and {len(column)}"
            )
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "B", B)
        object.__setattr__(self, "column_actions", tuple(column))

    @property
    def shape(self) -> tuple[int, int]:
        n, m = self.A.shape
        return n, m


_CANONICAL = {
    "prisoners_dilemma": MatrixGame(
        "prisoner's dilemma", np.array([[3, 0], [5, 1]]), np.array([[3, 5], [0, 1]]), ("cooperate", "defect")
    ),
    "stag_hunt": MatrixGame("stag hunt", np.array([[4, 0], [3, 3]]), np.array([[4, 3], [0, 3]]), ("stag", "hare")),
    "coordination": MatrixGame("coordination", np.array([[2, 0], [0, 1]]), np.array([[2, 0], [0, 1]]), ("A", "B")),
    "matching_pennies": MatrixGame(
        "matching pennies", np.array([[1, -1], [-1, 1]]), np.array([[-1, 1], [1, -1]]), ("heads", "tails")
    ),
    "rock_paper_scissors": MatrixGame(
        "rock-paper-scissors",
        np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]]),
        np.array([[0, 1, -1], [-1, 0, 1], [1, -1, 0]]),
        ("rock", "paper", "scissors"),
    ),
}

#: The built-in games by name.
GAMES: dict[str, MatrixGame] = dict(_CANONICAL)


def get_game(game: str | MatrixGame) -> MatrixGame:
    """A :class:`MatrixGame` from its name in :data:`GAMES` (or the game itself)."""
    if isinstance(game, MatrixGame):
        return game
    if isinstance(game, str) and game in GAMES:
        return GAMES[game]
    raise ValueError(f"game must be a MatrixGame or one of {', '.join(map(repr, GAMES))}; got {game!r}")


class MatrixGameEnv(ParallelEnv):
    """A matrix game repeated ``rounds`` times, as a PettingZoo Parallel environment (see module docstring).

    Agents ``player_0`` (rows) and ``player_1`` (columns); actions ``Discrete(n)`` / ``Discrete(m)``;
    observations ``Box(0, 1, (n*m + 1,))``; rewards the payoffs; all agents are truncated after ``rounds``.
    """

    metadata = {"render_modes": ["ansi"], "name": "matrix_game_v0", "is_parallelizable": True}

    def __init__(
        self, game: str | MatrixGame = "prisoners_dilemma", rounds: int = 10, render_mode: str | None = None
    ) -> None:
        self.game = get_game(game)
        self.rounds = check_number("rounds", rounds, low=1, integer=True)
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi'; got {render_mode!r}")
        self.render_mode = render_mode
        n, m = self.game.shape
        self.possible_agents = list(PLAYERS)
        self.agents: list[str] = []
        self._obs_space = spaces.Box(0.0, 1.0, (n * m + 1,), dtype=np.float32)
        self._action_spaces = {"player_0": spaces.Discrete(n), "player_1": spaces.Discrete(m)}
        self._round = 0
        self._last: tuple[int, int] | None = None

    def observation_space(self, agent: str) -> spaces.Box:
        check_agent_id(agent, self.possible_agents)
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Discrete:
        check_agent_id(agent, self.possible_agents)
        return self._action_spaces[agent]

    def state(self) -> np.ndarray:
        """The previous joint action, one-hot ``(n*m + 1,)`` (last entry: first round)."""
        n, m = self.game.shape
        vec = np.zeros(n * m + 1, dtype=np.float32)
        vec[-1 if self._last is None else self._last[0] * m + self._last[1]] = 1.0
        return vec

    def reset(self, seed: int | None = None, options: dict | None = None):
        self.agents = list(self.possible_agents)
        self._round = 0
        self._last = None
        obs = self.state()
        return {a: obs.copy() for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]):
        if not self.agents:
            raise RuntimeError("step() called after the game ended; call reset() first")
        check_joint_action(actions, self.agents, self._action_spaces)
        i, j = int(actions["player_0"]), int(actions["player_1"])
        self._last = (i, j)
        self._round += 1
        rewards = {"player_0": float(self.game.A[i, j]), "player_1": float(self.game.B[i, j])}
        over = self._round >= self.rounds
        obs = self.state()
        observations = {a: obs.copy() for a in self.agents}
        terminations = {a: False for a in self.agents}
        truncations = {a: over for a in self.agents}
        infos = {a: {"joint_action": (i, j)} for a in self.agents}
        if over:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        if self._last is None:
            return f"{self.game.name}: round 0"
        i, j = self._last
        column_actions = self.game.column_actions or self.game.actions
        return (
            f"{self.game.name}: round {self._round}: {self.game.actions[i]} / "
            f"{column_actions[j]} -> {self.game.A[i, j]:g}, {self.game.B[i, j]:g}"
        )

    def close(self) -> None:
        pass


def check_joint_action(actions: Any, agents: list[str], action_spaces: Mapping[str, spaces.Space]) -> None:
    """Raise a clear error unless ``actions`` maps exactly the live ``agents`` to valid actions."""
    if not isinstance(actions, dict):
        raise TypeError(f"actions must be a dict {{agent id: action}}; got {type(actions).__name__}")
    unknown = [a for a in actions if a not in agents]
    if unknown:
        raise KeyError(f"actions name agent(s) {unknown} that are not in the game; live agents: {agents}")
    missing = [a for a in agents if a not in actions]
    if missing:
        raise KeyError(f"actions are missing agent(s) {missing}; every live agent must act: {agents}")
    for agent, action in actions.items():
        space = action_spaces[agent]
        if not isinstance(space, spaces.Discrete):
            if not space.contains(action):
                raise ValueError(f"action of {agent!r} must be in {space}; got {action!r}")
            continue
        # An action index is an integer: 1.7, "1" or True are refused, never truncated or parsed.
        allowed = f"an integer in [{int(space.start)}, {int(space.start + space.n - 1)}] ({space})"
        if not _is_integer(action):
            raise TypeError(f"action of {agent!r} must be {allowed}; got {action!r} ({type(action).__name__})")
        if not int(space.start) <= int(action) < int(space.start + space.n):  # int(): no int64 overflow
            raise ValueError(f"action of {agent!r} must be {allowed}; got {action!r}")


def _is_integer(action: Any) -> bool:
    """A Python or numpy integer, or a 0-d integer array (not a bool, float or string)."""
    if isinstance(action, np.ndarray):
        return action.ndim == 0 and np.issubdtype(action.dtype, np.integer)
    return isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_))


def check_agent_id(agent: Any, agents: list[str]) -> None:
    """Raise a ``KeyError`` naming ``agent`` and the environment's agents unless it is one of them."""
    if agent not in agents:
        raise KeyError(f"unknown agent id {agent!r}; this environment's agents are {agents}")


def matrix_game(game: str | MatrixGame = "prisoners_dilemma", rounds: int = 10, **kwargs: Any) -> MatrixGameEnv:
    """A :class:`MatrixGameEnv` for a named game or a :class:`MatrixGame`."""
    return MatrixGameEnv(game, rounds, **kwargs)


def prisoners_dilemma(rounds: int = 10, **kwargs: Any) -> MatrixGameEnv:
    return MatrixGameEnv("prisoners_dilemma", rounds, **kwargs)


def stag_hunt(rounds: int = 10, **kwargs: Any) -> MatrixGameEnv:
    return MatrixGameEnv("stag_hunt", rounds, **kwargs)


def coordination(rounds: int = 10, **kwargs: Any) -> MatrixGameEnv:
    return MatrixGameEnv("coordination", rounds, **kwargs)


def matching_pennies(rounds: int = 10, **kwargs: Any) -> MatrixGameEnv:
    return MatrixGameEnv("matching_pennies", rounds, **kwargs)


def rock_paper_scissors(rounds: int = 10, **kwargs: Any) -> MatrixGameEnv:
    return MatrixGameEnv("rock_paper_scissors", rounds, **kwargs)


# PettingZoo's convention: a module-level ``parallel_env`` factory.
parallel_env = matrix_game
