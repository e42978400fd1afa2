"""Plotting functions used by the notebooks; each takes explicit data and returns a matplotlib Axes/Figure."""
