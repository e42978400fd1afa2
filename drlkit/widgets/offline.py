"""Interactive figure of notebook 07: learning curves of the offline agents, one dataset quality at a time.

:class:`DatasetQualityExplorer` -- a selection slider "dataset" over already trained agents'
Histories (``{quality: {algorithm: History}}``); it redraws
:func:`drlkit.plotting.offline.plot_evaluation_curves` for the chosen quality. Nothing is retrained.
"""

from __future__ import annotations

from typing import Any, Mapping

import ipywidgets as widgets
import matplotlib.pyplot as plt

from ..plotting.offline import plot_evaluation_curves
from ._explorer import SLIDER_STYLE, SliderExplorer


class DatasetQualityExplorer(SliderExplorer):
    def __init__(
        self, histories: Mapping[str, Mapping[str, Any]], reference: Mapping[str, float] | None = None
    ) -> None:
        if not isinstance(histories, Mapping) or not histories:
            raise TypeError("histories must be a non-empty dict: quality -> {algorithm: History}")
        self.histories, self.reference = histories, reference
        self.quality = widgets.SelectionSlider(
            options=list(histories),
            value=list(histories)[0],
            description="dataset",
            continuous_update=False,
            style=SLIDER_STYLE,
        )
        super().__init__([self.quality])

    def _draw(self) -> Any:
        fig, ax = plt.subplots(figsize=(7, 3.4))
        self.shown = self.quality.value  # the quality behind the current figure
        plot_evaluation_curves(
            self.histories[self.quality.value],
            ax=ax,
            reference=self.reference,
            title=f"Trained on the {self.quality.value} dataset",
        )
        return fig


def explore_dataset_quality(
    histories: Mapping[str, Mapping[str, Any]], reference: Mapping[str, float] | None = None
) -> DatasetQualityExplorer:
    """A "dataset" slider over the evaluation curves of agents trained on each dataset quality."""
    return DatasetQualityExplorer(histories, reference)
