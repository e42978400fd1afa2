"""Deep RL agents: one file per algorithm on top of the shared base (drlkit.agents.base)."""

from .a2c import A2C
from .base import ALGORITHMS, Agent, AgentConfig, AgentSpec, Fragment, load
from .dqn import DQN
from .history import History
from .ppo import PPO
from .reinforce import REINFORCE
from .trpo import TRPO

__all__ = [
    "A2C",
    "ALGORITHMS",
    "DQN",
    "PPO",
    "REINFORCE",
    "TRPO",
    "Agent",
    "AgentConfig",
    "AgentSpec",
    "Fragment",
    "History",
    "load",
]
