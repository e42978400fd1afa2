"""ipywidgets front ends for the notebooks; the plotting they drive lives in drlkit.plotting."""
from .mdp import GridworldExplorer, explore_gridworld
from .tabular import TDControlComparison, compare_td_control
from .policy_gradients import (
    explore_action_probabilities,
    explore_clip_range,
    explore_learning_rates,
    explore_trust_region,
)
from .dqn import explore_epsilon_schedule, explore_q_values
from .offline import explore_dataset_quality
from .shaping import explore_teacher
