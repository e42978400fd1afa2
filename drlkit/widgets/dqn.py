"""Interactive figures of notebook 03 (DQN).

* :func:`explore_epsilon_schedule` -- sliders for the ε-greedy schedule;
* :func:`explore_q_values` -- a slider over training checkpoints showing the
  Q-values along one episode.

Each is an ``ipywidgets.VBox`` (sliders above an ``Output`` holding the figure)
that redraws when a slider moves; the drawing is done by :mod:`drlkit.plotting.dqn`.
"""

from __future__ import annotations

from typing import Any, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .._checks import check_number
from ..plotting.dqn import plot_epsilon_schedule, plot_q_values, q_value_axes
from ._explorer import SLIDER_STYLE, SliderExplorer


class EpsilonScheduleExplorer(SliderExplorer):
    """Sliders "initial ε", "final ε" and "decay steps" over :func:`~drlkit.plotting.dqn.plot_epsilon_schedule`."""

    def __init__(
        self, initial: float, final: float, exploration_steps: int, total_steps: int, learning_starts: int
    ) -> None:
        self.total_steps, self.learning_starts = total_steps, learning_starts
        self.initial = widgets.FloatSlider(
            value=initial,
            min=0.0,
            max=1.0,
            step=0.05,
            description="initial ε",
            continuous_update=False,
            style=SLIDER_STYLE,
        )
        self.final = widgets.FloatSlider(
            value=final, min=0.0, max=1.0, step=0.01, description="final ε", continuous_update=False, style=SLIDER_STYLE
        )
        self.decay = widgets.IntSlider(
            value=exploration_steps,
            min=0,
            max=total_steps,
            step=max(total_steps // 50, 1),
            description="decay steps",
            continuous_update=False,
            style=SLIDER_STYLE,
        )
        super().__init__([self.initial, self.final, self.decay])

    def _draw(self) -> Any:
        fig, ax = plt.subplots(figsize=(8, 3))
        plot_epsilon_schedule(
            self.initial.value,
            self.final.value,
            self.decay.value,
            self.total_steps,
            learning_starts=self.learning_starts,
            ax=ax,
        )
        return fig


def explore_epsilon_schedule(
    initial: float = 1.0,
    final: float = 0.04,
    exploration_steps: int = 8000,
    total_steps: int = 30_000,
    learning_starts: int = 0,
) -> EpsilonScheduleExplorer:
    """ε against environment steps, with sliders for the start, the end and the length of the decay."""
    initial = check_number("initial", initial, low=0, high=1)
    final = check_number("final", final, low=0, high=1)
    total_steps = check_number("total_steps", total_steps, low=1, integer=True)
    exploration_steps = check_number("exploration_steps", exploration_steps, low=0, high=total_steps, integer=True)
    learning_starts = check_number("learning_starts", learning_starts, low=0, integer=True)
    return EpsilonScheduleExplorer(initial, final, exploration_steps, total_steps, learning_starts)


class QValueExplorer(SliderExplorer):
    """A "checkpoint" slider over :func:`~drlkit.plotting.dqn.plot_q_values`."""

    def __init__(
        self, steps: np.ndarray, q_values: np.ndarray, gamma: float | None, action_labels: Sequence[str] | None
    ) -> None:
        self.steps, self.q_values, self.gamma, self.action_labels = steps, q_values, gamma, action_labels
        self.slider = widgets.IntSlider(
            value=0,
            min=0,
            max=len(steps) - 1,
            step=1,
            description="checkpoint",
            continuous_update=False,
            style=SLIDER_STYLE,
        )
        super().__init__([self.slider])

    def _draw(self) -> Any:
        fig, axes = q_value_axes()
        plot_q_values(
            self.steps,
            self.q_values,
            index=self.slider.value,
            gamma=self.gamma,
            action_labels=self.action_labels,
            axes=axes,
        )
        return fig


def explore_q_values(
    steps: Any,
    q_values: Any,
    gamma: float | None = None,
    action_labels: Sequence[str] | None = None,
) -> QValueExplorer:
    """Slide through training: the Q-values of the states of one episode at each checkpoint.

    ``steps (K,)`` and ``q_values (K, T, A)`` come e.g. from a
    :class:`~drlkit.plotting.dqn.QNetworkRecorder`: ``recorder.steps, recorder.q_values(states)``.
    """
    steps, q_values = np.asarray(steps), np.asarray(q_values)
    # Let the plotting function validate shapes and labels once, before any widget exists.
    fig, axes = q_value_axes()
    try:
        plot_q_values(steps, q_values, 0, gamma, action_labels, axes=axes)
    finally:
        plt.close(fig)
    return QValueExplorer(steps, q_values, gamma, action_labels)
