"""drlkit: reinforcement learning and distributed reinforcement learning on Dask."""
from .agents import Agent, History, load
from .envs import MDP, make_env

__version__ = "0.1.0"

__all__ = ["MDP", "Agent", "History", "load", "make_env", "__version__"]
