"""Environments: finite MDPs (planning and tabular learning) and gymnasium helpers."""

from .gridworld import cliff_walking, frozen_lake, gridworld
from .make import check_env_id, make_env
from .mdp import MDP

__all__ = ["MDP", "make_env", "check_env_id"]
__all__ += ["gridworld", "frozen_lake", "cliff_walking"]
