"""Multi-agent RL: matrix-game learners and exact equilibria, and deep learners on PettingZoo environments."""

from .equilibria import Equilibrium, is_nash, nash_equilibria
from .matrix_learners import (
    MatrixRunResult,
    fictitious_play,
    gradient_ascent,
    independent_q_learning,
    iql_update,
    project_simplex,
)
from .ppo import IPPO, MAPPO, MultiAgentPPO, MultiAgentPPOConfig, SharedPPO, critic_input
from .pz import make_parallel_env

__all__ = [
    "Equilibrium",
    "is_nash",
    "nash_equilibria",
    "MatrixRunResult",
    "fictitious_play",
    "gradient_ascent",
    "independent_q_learning",
    "iql_update",
    "project_simplex",
    "IPPO",
    "MAPPO",
    "MultiAgentPPO",
    "MultiAgentPPOConfig",
    "SharedPPO",
    "critic_input",
    "make_parallel_env",
]
