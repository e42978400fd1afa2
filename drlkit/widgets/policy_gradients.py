"""Interactive figures of notebook 04 (policy gradients).

* :func:`explore_clip_range` -- a slider for PPO's clip range over the clipped objective.
* :func:`explore_action_probabilities` -- a slider over training progress showing
  :math:`\\pi(a|s)` on fixed states.
* :func:`explore_trust_region` -- a slider for TRPO's KL limit over the KL-vs-step-size curve.
* :func:`explore_learning_rates` -- a slider choosing which of several runs (e.g.
  learning rates) to highlight among learning curves computed beforehand.

Each is an ``ipywidgets.VBox`` (sliders above an ``Output`` holding the figure)
that redraws when a slider moves; the drawing is done by :mod:`drlkit.plotting.policy`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .._checks import check_number
from ..plotting.policy import (
    ActionProbabilityRecorder,
    plot_action_probabilities,
    plot_clipped_objective,
    plot_step_curves,
    plot_trust_region,
)
from ._explorer import SLIDER_STYLE, SliderExplorer


class ClipRangeExplorer(SliderExplorer):
    """A "clip range" slider over :func:`~drlkit.plotting.policy.plot_clipped_objective`."""

    def __init__(self, clip_range: float) -> None:
        self.slider = widgets.FloatSlider(
            value=clip_range,
            min=0.05,
            max=0.8,
            step=0.05,
            description="clip range",
            continuous_update=False,
            readout_format=".2f",
            style=SLIDER_STYLE,
        )
        super().__init__([self.slider])

    def _draw(self) -> Any:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        plot_clipped_objective(self.slider.value, axes=axes)
        return fig


def explore_clip_range(clip_range: float = 0.2) -> ClipRangeExplorer:
    """PPO's clipped objective for A > 0 and A < 0, with a slider for the clip range ε."""
    clip_range = check_number("clip_range", clip_range, low=0.05, high=0.8)
    return ClipRangeExplorer(clip_range)


class ActionProbabilityExplorer(SliderExplorer):
    """A "checkpoint" slider over the records of :func:`~drlkit.plotting.policy.plot_action_probabilities`."""

    def __init__(
        self,
        steps: np.ndarray,
        probabilities: np.ndarray,
        state_labels: Sequence[str] | None,
        action_labels: Sequence[str] | None,
    ) -> None:
        self.steps, self.probabilities = steps, probabilities
        self.state_labels, self.action_labels = state_labels, action_labels
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
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1.1, 1]})
        plot_action_probabilities(
            self.steps,
            self.probabilities,
            index=self.slider.value,
            state_labels=self.state_labels,
            action_labels=self.action_labels,
            axes=axes,
        )
        return fig


def explore_action_probabilities(
    recorder: ActionProbabilityRecorder | tuple[Any, Any],
    state_labels: Sequence[str] | None = None,
    action_labels: Sequence[str] | None = None,
) -> ActionProbabilityExplorer:
    """Slide through training: the policy's action probabilities on fixed states at each record.

    ``recorder`` is an :class:`~drlkit.plotting.policy.ActionProbabilityRecorder`
    used while training, or a pair ``(steps (K,), probabilities (K, S, A))``.
    """
    if isinstance(recorder, ActionProbabilityRecorder):
        steps, probabilities = recorder.steps, recorder.probabilities
    else:
        steps, probabilities = (np.asarray(a) for a in recorder)
    if len(steps) == 0:
        raise ValueError("no records yet: train with the recorder as a callback (or call recorder.record(agent))")
    # Let the plotting function validate shapes and labels once, before any widget exists.
    plot_action_probabilities(steps, probabilities, 0, state_labels, action_labels, axes=plt.subplots(1, 2)[1])
    plt.close("all")
    return ActionProbabilityExplorer(steps, probabilities, state_labels, action_labels)


class TrustRegionExplorer(SliderExplorer):
    """A "max KL" slider over :func:`~drlkit.plotting.policy.plot_trust_region`."""

    def __init__(
        self,
        step_sizes: np.ndarray,
        kl: np.ndarray,
        gain: np.ndarray,
        max_kl: float,
        label: str,
        kl_model: np.ndarray | None,
    ):
        self.step_sizes, self.kl, self.gain, self.label, self.kl_model = step_sizes, kl, gain, label, kl_model
        self.slider = widgets.FloatLogSlider(
            value=max_kl,
            base=10,
            min=-4,
            max=0,
            step=0.25,
            description="max KL",
            continuous_update=False,
            readout_format=".1e",
            style=SLIDER_STYLE,
        )
        super().__init__([self.slider])

    def _draw(self) -> Any:
        fig, ax = plt.subplots(figsize=(8, 3.8))
        plot_trust_region(
            self.step_sizes, self.kl, self.gain, self.slider.value, ax=ax, label=self.label, kl_model=self.kl_model
        )
        return fig


def explore_trust_region(
    step_sizes: Any, kl: Any, gain: Any, max_kl: float = 0.01, label: str = "", kl_model: Any = None
) -> TrustRegionExplorer:
    """KL and surrogate gain along an update direction (from
    :func:`~drlkit.plotting.policy.trust_region_profile`) with a "max KL" slider for the limit δ;
    ``kl_model`` optionally adds the quadratic model of the KL."""
    max_kl = check_number("max_kl", max_kl, low=1e-4, high=1)
    step_sizes, kl, gain = (np.asarray(a, dtype=float) for a in (step_sizes, kl, gain))
    if not (step_sizes.shape == kl.shape == gain.shape) or step_sizes.ndim != 1:
        raise ValueError(
            f"step_sizes, kl and gain must be 1-D of equal length; got shapes "
            f"{step_sizes.shape}, {kl.shape}, {gain.shape}"
        )
    if kl_model is not None:
        kl_model = np.asarray(kl_model, dtype=float)
        if kl_model.shape != kl.shape:
            raise ValueError(f"kl_model has shape {kl_model.shape}; expected {kl.shape}")
    return TrustRegionExplorer(step_sizes, kl, gain, max_kl, label, kl_model)


class RunSelector(SliderExplorer):
    """A slider choosing which labelled run to highlight among learning curves against steps."""

    def __init__(self, curves: Mapping[str, np.ndarray], steps: np.ndarray, description: str, title: str):
        self.curves, self.steps, self.title = curves, steps, title
        labels = list(curves)
        self.slider = widgets.SelectionSlider(
            options=labels,
            value=labels[0],
            description=description,
            continuous_update=False,
            style=SLIDER_STYLE,
        )
        super().__init__([self.slider])

    def _draw(self) -> Any:
        fig, ax = plt.subplots(figsize=(8, 3.8))
        plot_step_curves(
            self.curves, self.steps, ax=ax, title=f"{self.title}: {self.slider.value}", highlight=self.slider.value
        )
        return fig


def explore_learning_rates(
    curves: Mapping[Any, Any], steps: Any, description: str = "learning rate", title: str = "learning curves"
) -> RunSelector:
    """Learning curves of several runs computed beforehand, one highlighted by a slider.

    ``curves``: ``{label: array (runs, len(steps))}`` (e.g. from
    :func:`~drlkit.plotting.policy.returns_at_steps`), keyed by learning rate or any label.
    """
    steps = np.asarray(steps)
    if not curves:
        raise ValueError("curves is empty; give at least one label -> array (runs, points)")
    checked: dict[str, np.ndarray] = {}
    for label, values in curves.items():
        values = np.atleast_2d(np.asarray(values, dtype=float))
        if values.ndim != 2 or values.shape[1] != len(steps):
            raise ValueError(f"curves[{label!r}] has shape {values.shape}; expected (runs, {len(steps)})")
        checked[f"{label:g}" if isinstance(label, float) else str(label)] = values
    return RunSelector(checked, steps, description, title)


__all__ = [
    "ActionProbabilityExplorer",
    "ClipRangeExplorer",
    "RunSelector",
    "TrustRegionExplorer",
    "explore_action_probabilities",
    "explore_clip_range",
    "explore_learning_rates",
    "explore_trust_region",
]
