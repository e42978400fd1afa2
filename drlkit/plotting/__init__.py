"""Plotting functions used by the notebooks; each takes explicit data and returns a matplotlib Axes/Figure."""

from .curves import curve_summary, plot_learning_curves, smooth_curves
from .distributed import (
    LiveRunPlot,
    plot_return_curves,
    plot_scaling,
    plot_schedule,
    plot_staleness,
    plot_task_timeline,
    plot_worker_throughput,
)
from .dqn import QNetworkRecorder, epsilon_schedule, greedy_episode, plot_epsilon_schedule, plot_q_values, q_value_axes
from .grid import plot_convergence, plot_values
from .live import LiveCurve, LiveFigure, moving_average
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

__all__ = [
    "ActionProbabilityRecorder",
    "clipped_surrogate",
    "curve_summary",
    "epsilon_schedule",
    "greedy_episode",
    "LiveCurve",
    "LiveFigure",
    "LiveRunPlot",
    "moving_average",
    "plot_action_probabilities",
    "plot_clipped_objective",
    "plot_convergence",
    "plot_epsilon_schedule",
    "plot_gaussian_policy",
    "plot_gradient_variance",
    "plot_learning_curves",
    "plot_paths",
    "plot_q_values",
    "plot_return_curves",
    "plot_scaling",
    "plot_schedule",
    "plot_staleness",
    "plot_step_curves",
    "plot_task_timeline",
    "plot_trust_region",
    "plot_values",
    "plot_worker_throughput",
    "q_value_axes",
    "QNetworkRecorder",
    "returns_at_steps",
    "smooth_curves",
]
