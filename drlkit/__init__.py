"""drlkit: reinforcement learning and distributed reinforcement learning on Dask."""
from . import distributed, planning, tabular
from . import multiagent, offline, shaping
from .agents import A2C, DQN, PPO, REINFORCE, TRPO, Agent, History, load
from .distributed import cluster
from .envs import MDP, make_env

__version__ = "0.1.0"

__all__ = [
    "A2C", "DQN", "MDP", "PPO", "REINFORCE", "TRPO", "Agent", "History",
    "cluster", "distributed", "load", "make_env", "multiagent",
    "offline", "planning", "shaping", "tabular", "__version__",
]
