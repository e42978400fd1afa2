"""drlkit: reinforcement learning and distributed reinforcement learning on Dask."""

from . import distributed, loggers, offline, planning, shaping, tabular

try:  # the multiagent extra (PettingZoo); without it the rest of drlkit works
    from . import multiagent
except ModuleNotFoundError as _missing:  # pragma: no cover - exercised only without the extra
    if _missing.name not in ("pettingzoo", "mpe2"):
        raise
from .agents import A2C, DQN, PPO, REINFORCE, TRPO, Agent, History, load
from .distributed import cluster
from .envs import MDP, make_env
from .search import AlphaZero, AlphaZeroConfig

__version__ = "0.1.0"

__all__ = [
    "A2C",
    "AlphaZero",
    "AlphaZeroConfig",
    "DQN",
    "MDP",
    "PPO",
    "REINFORCE",
    "TRPO",
    "Agent",
    "History",
    "cluster",
    "distributed",
    "load",
    "loggers",
    "make_env",
    "multiagent",
    "offline",
    "planning",
    "shaping",
    "tabular",
    "__version__",
]
