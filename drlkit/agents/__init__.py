"""Deep RL agents: one file per algorithm on top of the shared base (drlkit.agents.base)."""
from .base import ALGORITHMS, Agent, AgentConfig, AgentSpec, Fragment, load
from .history import History

__all__ = ["ALGORITHMS", "Agent", "AgentConfig", "AgentSpec", "Fragment", "History", "load"]
