"""ipywidgets front ends for the notebooks; the plotting they drive lives in drlkit.plotting."""
