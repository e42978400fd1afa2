"""Q-learning vs SARSA with sliders for ε and α: learning curves and greedy paths, recomputed live.

Each slider change reruns the vectorised learners (many runs at once, a second
or two on Cliff Walking) and redraws, in :attr:`TDControlComparison.output`:

* the learning curves, mean ± standard error over runs;
* on the grid, the greedy path of each algorithm's action values averaged over runs.
"""

from __future__ import annotations

from typing import Any, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from .._checks import check_choice, check_number
from ..envs.gridworld import cliff_walking
from ..envs.mdp import MDP
from ..plotting.curves import curve_summary, plot_learning_curves
from ..plotting.paths import plot_paths
from ..tabular import expected_sarsa, greedy_path, q_learning, sarsa
from ..tabular.result import TabularResult

LEARNERS = {"Q-learning": q_learning, "SARSA": sarsa, "Expected SARSA": expected_sarsa}
COLORS = {"Q-learning": "tab:blue", "SARSA": "tab:orange", "Expected SARSA": "tab:green"}


class TDControlComparison(widgets.VBox):
    """Sliders for ε and α above learning curves and greedy paths of several TD learners.

    The latest results are in :attr:`results` (label -> :class:`~drlkit.tabular.TabularResult`).
    """

    def __init__(
        self,
        mdp: MDP,
        algorithms: Sequence[str],
        runs: int,
        episodes: int,
        epsilon: float,
        alpha: float,
        gamma: float,
        seed: int,
        smooth: int,
    ):
        self.mdp = mdp
        self.algorithms = list(algorithms)
        self.runs, self.episodes, self.gamma, self.seed, self.smooth = runs, episodes, gamma, seed, smooth
        self.results: dict[str, TabularResult] = {}
        style = {"description_width": "initial"}
        self.epsilon_slider = widgets.FloatSlider(
            value=epsilon,
            min=0.0,
            max=0.5,
            step=0.01,
            description="epsilon",
            continuous_update=False,
            readout_format=".2f",
            style=style,
        )
        self.alpha_slider = widgets.FloatSlider(
            value=alpha,
            min=0.05,
            max=1.0,
            step=0.05,
            description="alpha",
            continuous_update=False,
            readout_format=".2f",
            style=style,
        )
        self.output = widgets.Output()
        super().__init__([widgets.HBox([self.epsilon_slider, self.alpha_slider]), self.output])
        self.epsilon_slider.observe(self._redraw, names="value")
        self.alpha_slider.observe(self._redraw, names="value")
        self._redraw()

    def _redraw(self, change: Any = None) -> None:
        epsilon, alpha = self.epsilon_slider.value, self.alpha_slider.value
        with self.output:
            self.output.clear_output(wait=True)
            self.results = {
                label: LEARNERS[label](
                    self.mdp,
                    self.episodes,
                    alpha=alpha,
                    gamma=self.gamma,
                    epsilon=epsilon,
                    runs=self.runs,
                    seed=self.seed,
                )
                for label in self.algorithms
            }
            fig, (curves_ax, grid_ax) = plt.subplots(1, 2, figsize=(13, 3.8), gridspec_kw={"width_ratios": [1, 1.3]})
            plot_learning_curves(
                {label: r.returns for label, r in self.results.items()},
                ax=curves_ax,
                smooth=self.smooth,
                band="sem",
                colors=COLORS,
                title=f"ε={epsilon:.2f}, α={alpha:.2f} (band: ± s.e.m.)",
            )
            _zoom_past_first_episodes(curves_ax, [r.returns for r in self.results.values()], self.smooth)
            paths = {label: greedy_path(self.mdp, self.mean_q(label).argmax(axis=1)) for label in self.results}
            plot_paths(self.mdp, paths, ax=grid_ax, colors=COLORS, title="greedy path of the mean Q over runs")
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    def mean_q(self, label: str) -> np.ndarray:
        """Action values of ``label`` averaged over runs, shape ``(S, A)``."""
        Q = self.results[label].Q
        return Q.mean(axis=0) if Q.ndim == 3 else Q


def _zoom_past_first_episodes(ax: Any, curves: list[np.ndarray], smooth: int) -> None:
    """Fit the y axis to the mean curves after their first 10 % of episodes.

    The first episodes of a run with Q0 = 0 are very long and very poor; left in,
    they squash the part of the curves where the algorithms differ.
    """
    means = [curve_summary(c, smooth=smooth, band=None)[1] for c in curves]
    tails = np.concatenate([m[len(m) // 10 :] for m in means])
    low, high = tails.min(), tails.max()
    pad = 0.1 * (high - low) or 1.0
    ax.set_ylim(low - pad, high + pad)


def compare_td_control(
    mdp: MDP | None = None,
    algorithms: Sequence[str] = ("Q-learning", "SARSA"),
    runs: int = 50,
    episodes: int = 300,
    epsilon: float = 0.1,
    alpha: float = 0.5,
    gamma: float = 1.0,
    seed: int = 0,
    smooth: int = 10,
) -> TDControlComparison:
    """A widget comparing TD control algorithms on a gridworld (default: Cliff Walking).

    Parameters
    ----------
    mdp : gridworld MDP with a ``layout``; default :func:`drlkit.envs.cliff_walking`.
    algorithms : labels among ``"Q-learning"``, ``"SARSA"``, ``"Expected SARSA"``.
    runs, episodes : independent runs averaged, episodes per run (keep
        ``runs * episodes`` near 15 000 for a redraw in a second or two).
    epsilon, alpha : initial slider values (ε in [0, 0.5], α in [0.05, 1]).
    gamma, seed, smooth : discount, seed of every rerun, moving-average window of the curves.

    Returns the widget (display it, or make it the last expression of a cell).
    """
    mdp = cliff_walking() if mdp is None else mdp
    if not isinstance(mdp, MDP) or mdp.layout is None:
        raise TypeError("mdp must be a drlkit.MDP with a grid layout, e.g. drlkit.envs.cliff_walking()")
    if isinstance(algorithms, str) or not algorithms:
        raise TypeError(f"algorithms must be a list of labels among {list(LEARNERS)}; got {algorithms!r}")
    for label in algorithms:
        check_choice("algorithms", label, LEARNERS)
    runs = check_number("runs", runs, low=1, integer=True)
    episodes = check_number("episodes", episodes, low=1, integer=True)
    epsilon = check_number("epsilon", epsilon, low=0, high=0.5)
    alpha = check_number("alpha", alpha, low=0.05, high=1)
    gamma = check_number("gamma", gamma, low=0, high=1)
    seed = check_number("seed", seed, low=0, integer=True)
    smooth = check_number("smooth", smooth, low=1, integer=True)
    return TDControlComparison(mdp, algorithms, runs, episodes, epsilon, alpha, gamma, seed, smooth)


__all__ = ["TDControlComparison", "compare_td_control"]
