"""Interactive value iteration on a gridworld: move γ and the slip probability, watch V* and π* change."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

from .._checks import check_choice, check_number
from ..envs.gridworld import cliff_walking, frozen_lake, gridworld
from ..envs.mdp import MDP
from ..planning import ConvergenceError, PlanningResult, value_iteration
from ..plotting.grid import plot_convergence, plot_values

WORLDS = ("4x4", "8x8", "cliff")


class GridworldExplorer(widgets.VBox):
    """Sliders for γ and slip above a figure of the optimal values, policy and convergence.

    Each slider change reruns :func:`drlkit.planning.value_iteration` and replaces
    the figure in :attr:`output`. The latest run is kept in :attr:`result` and its
    MDP in :attr:`mdp`.
    """

    def __init__(self, make_mdp: Callable[[float], MDP], gamma: float, slip: float, tol: float, title: str):
        self.make_mdp = make_mdp
        self.tol = tol
        self.title = title
        self.mdp: MDP | None = None
        self.result: PlanningResult | None = None
        style = {"description_width": "initial"}
        self.gamma_slider = widgets.FloatSlider(
            value=gamma,
            min=0.0,
            max=1.0,
            step=0.01,
            description="gamma",
            continuous_update=False,
            readout_format=".2f",
            style=style,
        )
        self.slip_slider = widgets.FloatSlider(
            value=slip,
            min=0.0,
            max=1.0,
            step=0.01,
            description="slip",
            continuous_update=False,
            readout_format=".2f",
            style=style,
        )
        self.output = widgets.Output()
        super().__init__([widgets.HBox([self.gamma_slider, self.slip_slider]), self.output])
        self.gamma_slider.observe(self._redraw, names="value")
        self.slip_slider.observe(self._redraw, names="value")
        self._redraw()

    def _redraw(self, change: Any = None) -> None:
        gamma, slip = self.gamma_slider.value, self.slip_slider.value
        with self.output:
            self.output.clear_output(wait=True)
            self.mdp = self.make_mdp(slip)
            try:
                self.result = value_iteration(self.mdp, gamma, tol=self.tol)
            except ConvergenceError as error:
                self.result = None
                print(f"gamma={gamma:.2f}, slip={slip:.2f}: {error}")
                return
            assert self.mdp.layout is not None  # a gridworld, made from a text map
            rows, cols = self.mdp.layout
            fig, (values_ax, convergence_ax) = plt.subplots(
                1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [1.3 * max(1.0, cols / rows), 1]}
            )
            plot_values(
                self.mdp,
                self.result.V,
                self.result.policy,
                ax=values_ax,
                title=f"{self.title}: V* and greedy policy (γ={gamma:.2f}, slip={slip:.2f})",
            )
            plot_convergence(self.result, ax=convergence_ax)
            fig.tight_layout()
            display(fig)
            plt.close(fig)


def explore_gridworld(
    world: str | Sequence[str] | Callable[[float], MDP] = "4x4",
    gamma: float = 0.9,
    slip: float | None = None,
    tol: float = 1e-8,
    **gridworld_kwargs: Any,
) -> GridworldExplorer:
    """A widget to see how the discount and the slip probability shape optimal behaviour.

    Parameters
    ----------
    world : ``"4x4"``, ``"8x8"`` (FrozenLake), ``"cliff"`` (Cliff Walking), a text map
        (list of rows or multi-line string, see :func:`drlkit.envs.gridworld`), or a
        function ``slip -> MDP``.
    gamma : initial discount in [0, 1].
    slip : initial slip probability in [0, 1]; default 2/3 for FrozenLake, 0 otherwise.
    tol : value iteration tolerance.
    gridworld_kwargs : rewards passed to :func:`drlkit.envs.gridworld` for a text map.

    Returns the widget (display it, or make it the last expression of a cell).
    """
    gamma = check_number("gamma", gamma, low=0, high=1)
    tol = check_number("tol", tol, low=0, low_open=True)
    if callable(world):
        name = getattr(world, "__name__", "")
        make_mdp, default_slip, title = world, 0.0, name if name.isidentifier() else "gridworld"
    elif isinstance(world, str) and "\n" not in world:
        check_choice("world", world, WORLDS)
        if world == "cliff":
            make_mdp, default_slip, title = cliff_walking, 0.0, "Cliff Walking"
        else:
            make_mdp, default_slip, title = (lambda s: frozen_lake(world, slip=s)), 2 / 3, f"FrozenLake {world}"
    else:
        gridworld(world, **gridworld_kwargs)  # validate the map now, not inside a slider callback
        make_mdp, default_slip, title = (lambda s: gridworld(world, slip=s, **gridworld_kwargs)), 0.0, "gridworld"
    slip = default_slip if slip is None else check_number("slip", slip, low=0, high=1)
    return GridworldExplorer(make_mdp, gamma=gamma, slip=slip, tol=tol, title=title)


__all__ = ["GridworldExplorer", "explore_gridworld"]
