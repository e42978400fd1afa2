"""drlkit: reinforcement learning and distributed reinforcement learning on Dask."""
from .agents import Agent, History, load
from .agents import DQN
from .agents import A2C, PPO, REINFORCE, TRPO
from .envs import MDP, make_env
from . import distributed
from . import tabular
from .distributed import cluster

__version__ = "0.1.0"

__all__ = ["DQN", "MDP", "Agent", "History", "cluster", "distributed", "load", "make_env", "__version__"]
__all__ += ["tabular"]
__all__ += ["A2C", "PPO", "REINFORCE", "TRPO"]
