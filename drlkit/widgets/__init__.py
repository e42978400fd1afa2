"""ipywidgets front ends for the notebooks; the plotting they drive lives in drlkit.plotting."""

from .dqn import explore_epsilon_schedule, explore_q_values
from .mdp import GridworldExplorer, explore_gridworld
from .multiagent import explore_independent_learners
from .offline import explore_dataset_quality
from .policy_gradients import (
    explore_action_probabilities,
    explore_clip_range,
    explore_learning_rates,
    explore_trust_region,
)
from .shaping import explore_teacher
from .tabular import TDControlComparison, compare_td_control

__all__ = [
    "compare_td_control",
    "explore_action_probabilities",
    "explore_clip_range",
    "explore_dataset_quality",
    "explore_epsilon_schedule",
    "explore_gridworld",
    "explore_independent_learners",
    "explore_learning_rates",
    "explore_q_values",
    "explore_teacher",
    "explore_trust_region",
    "GridworldExplorer",
    "TDControlComparison",
]
