"""Interactive figure of notebook 11: pure gossip on a graph, with a graph menu and a slider for the slot count.

:class:`GossipExplorer` -- a "graph" menu and a "slots N" slider; each change builds the graph's mixing
matrix (:func:`drlkit.distributed.mixing.mixing_matrix`), runs pure gossip (no learning) from random
parameters and draws the matrix (:func:`drlkit.plotting.beyond.plot_mixing_matrix`) and the consensus
distance per step against the λ2² rate theory predicts.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .._checks import check_number
from ..distributed.mixing import GRAPHS, consensus_distance, gossip_step, mixing_matrix, second_eigenvalue
from ..plotting.beyond import plot_mixing_matrix
from ._explorer import SLIDER_STYLE, SliderExplorer


def pure_gossip(weights: Any, steps: int, dim: int = 20, seed: int = 0) -> np.ndarray:
    """Consensus distance after 0..steps gossip steps from random slot parameters ``(N, dim)``, shape ``(steps+1,)``."""
    rng = np.random.default_rng(seed)
    params = [{"x": rng.normal(size=dim)} for _ in range(len(weights))]
    distances = [consensus_distance(params)]
    for _ in range(steps):
        params = gossip_step(params, weights)
        distances.append(consensus_distance(params))
    return np.array(distances)


class GossipExplorer(SliderExplorer):
    """A graph menu and a slot-count slider over the mixing matrix and the consensus of pure gossip."""

    def __init__(self, graph: str = "ring", n: int = 8, steps: int = 30, seed: int = 0) -> None:
        if graph not in GRAPHS:
            raise ValueError(f"graph must be one of {', '.join(map(repr, GRAPHS))}; got {graph!r}")
        n = check_number("n", n, low=4, high=36, integer=True)
        self.steps = check_number("steps", steps, low=1, integer=True)
        self.seed = seed
        self.graph = widgets.Dropdown(options=list(GRAPHS), value=graph, description="graph", style=SLIDER_STYLE)
        self.n = widgets.IntSlider(
            value=n, min=4, max=36, step=2, description="slots N", continuous_update=False, style=SLIDER_STYLE
        )
        super().__init__([self.graph, self.n])

    def _draw(self) -> Any:
        n, graph = self.n.value, self.graph.value
        if graph == "torus" and all(n % r for r in range(2, int(np.sqrt(n)) + 1)):
            graph = "ring"  # a prime N has no 2-D torus
        self.weights = mixing_matrix(graph, n, degree=3, seed=self.seed)
        self.lam = second_eigenvalue(self.weights)
        self.distances = pure_gossip(self.weights, self.steps, seed=self.seed)
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1, 1.6]})
        plot_mixing_matrix(self.weights, ax=axes[0], title=f"{graph}, N = {n}: mixing matrix W")
        ax = axes[1]
        steps = np.arange(self.steps + 1)
        ax.semilogy(steps, np.maximum(self.distances, 1e-30), marker=".", label="pure gossip")
        ax.semilogy(steps, self.distances[0] * self.lam ** (2 * steps), "--", color="0.4", label="λ2^(2t) bound")
        ax.set_xlabel("gossip step t")
        ax.set_ylabel("consensus distance")
        ax.set_title(f"λ2 = {self.lam:.3f}, spectral gap {1 - self.lam:.3f}")
        ax.legend()
        ax.grid(alpha=0.3)
        return fig


def explore_gossip(graph: str = "ring", n: int = 8, steps: int = 30, seed: int = 0) -> GossipExplorer:
    """A graph menu and a slot-count slider over pure gossip (see :class:`GossipExplorer`)."""
    return GossipExplorer(graph, n, steps, seed)
