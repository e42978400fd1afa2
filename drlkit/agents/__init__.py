"""Deep RL agents: one file per algorithm on top of the shared base (drlkit.agents.base)."""
from .base import ALGORITHMS, Agent, AgentConfig, AgentSpec, Fragment, load
from .history import History
from .dqn import DQN
from .a2c import A2C
from .ppo import PPO
from .reinforce import REINFORCE
from .trpo import TRPO

__all__ = ["DQN", "ALGORITHMS", "Agent", "AgentConfig", "AgentSpec", "Fragment", "History", "load"]
__all__ += ["A2C", "PPO", "REINFORCE", "TRPO"]
