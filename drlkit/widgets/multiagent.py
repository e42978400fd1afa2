"""Interactive figure of notebook 09: independent Q-learners in a matrix game, with sliders for the learning rate
and the exploration rate.

:class:`IndependentLearnersExplorer` -- a "game" menu and sliders "learning rate α" and "exploration ε"; each
change re-runs :func:`drlkit.multiagent.independent_q_learning` (all runs at once, a fraction of a second) and
draws where the runs end against the game's exact Nash equilibria
(:func:`drlkit.plotting.multiagent.plot_outcome_frequencies`) and how the players' choices evolve
(:func:`drlkit.plotting.multiagent.plot_play_frequencies`).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt

from .._checks import check_number
from ..envs.matrix_games import GAMES
from ..multiagent import independent_q_learning, nash_equilibria
from ..plotting.multiagent import plot_outcome_frequencies, plot_play_frequencies
from ._explorer import SLIDER_STYLE, SliderExplorer


class IndependentLearnersExplorer(SliderExplorer):
    """A game menu and α, ε sliders over the outcome and the play of independent ε-greedy Q-learners."""

    def __init__(
        self,
        game: str = "matching_pennies",
        steps: int = 1500,
        runs: int = 100,
        alpha: float = 0.1,
        epsilon: float = 0.1,
        seed: int = 0,
        window: int = 50,
    ) -> None:
        if not isinstance(game, str) or game not in GAMES:
            raise ValueError(f"game must be one of {', '.join(map(repr, GAMES))}; got {game!r}")
        self.steps = check_number("steps", steps, low=1, integer=True)
        self.runs = check_number("runs", runs, low=1, integer=True)
        self.seed, self.window = seed, check_number("window", window, low=1, integer=True)
        alpha = check_number("alpha", alpha, low=0.01, high=1)
        epsilon = check_number("epsilon", epsilon, low=0, high=1)
        self.game = widgets.Dropdown(options=list(GAMES), value=game, description="game", style=SLIDER_STYLE)
        self.alpha = widgets.FloatSlider(
            value=alpha,
            min=0.01,
            max=1.0,
            step=0.01,
            description="learning rate α",
            continuous_update=False,
            style=SLIDER_STYLE,
        )
        self.epsilon = widgets.FloatSlider(
            value=epsilon,
            min=0.0,
            max=1.0,
            step=0.05,
            description="exploration ε",
            continuous_update=False,
            style=SLIDER_STYLE,
        )
        super().__init__([self.game, self.alpha, self.epsilon])

    def _draw(self) -> Any:
        name = self.game.value
        result = independent_q_learning(
            name,
            steps=self.steps,
            runs=self.runs,
            alpha=self.alpha.value,
            epsilon=self.epsilon.value,
            seed=self.seed,
            trace_runs=0,
        )
        self.result = result  # the run behind the current figure
        equilibria = nash_equilibria(name)
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [1, 2]})
        plot_outcome_frequencies(
            result, equilibria, ax=axes[0], title=f"{result.game.name}: where {self.runs} runs end"
        )
        plot_play_frequencies(
            result,
            equilibria,
            window=self.window,
            runs=min(3, self.runs),  # thin lines for at most three single runs
            ax=axes[1],
            title=f"α = {self.alpha.value:.2f}, ε = {self.epsilon.value:.2f}: thin lines = single runs",
        )
        return fig


def explore_independent_learners(
    game: str = "matching_pennies", steps: int = 1500, runs: int = 100, **kwargs: Any
) -> IndependentLearnersExplorer:
    """A game menu and sliders for α and ε over independent Q-learners (see :class:`IndependentLearnersExplorer`)."""
    return IndependentLearnersExplorer(game, steps=steps, runs=runs, **kwargs)
