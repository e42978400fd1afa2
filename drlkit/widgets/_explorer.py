"""The base of the slider widgets: sliders above an ``Output`` holding a figure that redraws."""

from __future__ import annotations

from typing import Any, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

#: Slider style that shows long descriptions in full instead of cutting them.
SLIDER_STYLE = {"description_width": "initial"}


class SliderExplorer(widgets.VBox):
    """Sliders above an Output; :meth:`_draw` makes the figure for the current slider values."""

    def __init__(self, sliders: Sequence[widgets.Widget]) -> None:
        self.output = widgets.Output()
        super().__init__([widgets.HBox(list(sliders)), self.output])
        for slider in sliders:
            slider.observe(self._redraw, names="value")
        self._redraw()

    def _draw(self) -> Any:
        raise NotImplementedError

    def _redraw(self, change: Any = None) -> None:
        with self.output:
            self.output.clear_output(wait=True)
            fig = self._draw()
            fig.tight_layout()
            display(fig)
            plt.close(fig)
