"""Interactive figure of notebook 08: the policy-shaping teacher's consistency C and likelihood L.

:class:`TeacherExplorer` -- sliders "consistency C" and "likelihood L"; each move re-runs
:func:`drlkit.shaping.policy_shaping` (many runs at once, a fraction of a second) and draws its
learning curve next to that of the agent without a teacher.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt

from .._checks import check_number
from ..envs.mdp import MDP
from ..plotting.curves import plot_learning_curves
from ..shaping import policy_shaping
from ._explorer import SLIDER_STYLE, SliderExplorer


class TeacherExplorer(SliderExplorer):
    """Sliders C and L over policy-shaping learning curves (steps per episode, mean ± s.e.m.)."""

    def __init__(
        self,
        mdp: MDP,
        episodes: int = 30,
        runs: int = 100,
        consistency: float = 0.8,
        likelihood: float = 0.3,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        self.mdp, self.kwargs = mdp, dict(episodes=episodes, runs=runs, seed=seed, **kwargs)
        self.baseline = policy_shaping(mdp, likelihood=0.0, **self.kwargs).lengths
        self.consistency = widgets.FloatSlider(
            value=consistency,
            min=0.0,
            max=1.0,
            step=0.05,
            description="consistency C",
            continuous_update=False,
            style=SLIDER_STYLE,
        )
        self.likelihood = widgets.FloatSlider(
            value=likelihood,
            min=0.0,
            max=1.0,
            step=0.05,
            description="likelihood L",
            continuous_update=False,
            style=SLIDER_STYLE,
        )
        super().__init__([self.consistency, self.likelihood])

    def _draw(self) -> Any:
        C, L = self.consistency.value, self.likelihood.value
        result = policy_shaping(self.mdp, consistency=C, likelihood=L, **self.kwargs)
        self.result = result  # the run behind the current figure
        fig, ax = plt.subplots(figsize=(7, 3.4))
        plot_learning_curves(
            {"no teacher": self.baseline, f"teacher C={C:.2f}, L={L:.2f}": result.lengths},
            ax=ax,
            band="sem",
            ylabel="steps to the goal",
            title="Policy shaping with a simulated teacher",
        )
        return fig


def explore_teacher(mdp: MDP, episodes: int = 30, runs: int = 100, **kwargs: Any) -> TeacherExplorer:
    """Sliders for the teacher's C and L (see :class:`TeacherExplorer`)."""
    check_number("episodes", episodes, low=1, integer=True)
    check_number("runs", runs, low=1, integer=True)
    return TeacherExplorer(mdp, episodes=episodes, runs=runs, **kwargs)
