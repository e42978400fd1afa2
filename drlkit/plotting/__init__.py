"""Plotting functions used by the notebooks; each takes explicit data and returns a matplotlib Axes/Figure."""
from .curves import curve_summary, plot_learning_curves, smooth_curves
from .grid import plot_convergence, plot_values
from .paths import plot_paths
from .policy import (
    ActionProbabilityRecorder,
    clipped_surrogate,
    plot_action_probabilities,
    plot_clipped_objective,
    plot_gaussian_policy,
    plot_gradient_variance,
    plot_step_curves,
    plot_trust_region,
    returns_at_steps,
)
from .distributed import plot_return_curves, plot_staleness, plot_task_timeline, plot_worker_throughput
from .live import LiveCurve, moving_average
from .dqn import QNetworkRecorder, epsilon_schedule, greedy_episode, plot_epsilon_schedule, plot_q_values, q_value_axes
