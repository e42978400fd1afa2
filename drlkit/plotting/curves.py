"""Learning curves: the mean over runs with a band showing their spread.

Any per-episode (or per-update) quantity recorded over several independent
runs -- returns, episode lengths, an error such as ``max |Q - Q*|`` -- is an
array of shape ``(runs, episodes)``. :func:`plot_learning_curves` draws one
line per label: the mean over runs of the (optionally smoothed) curves, and a
shaded band:

=========  ===================================================================
``std``    mean ± standard deviation over runs (how much single runs vary)
``sem``    mean ± standard error of the mean, std / √runs (how sure the mean is)
``ci95``   mean ± 1.96 · sem, a normal-approximation 95 % confidence interval
``minmax`` from the lowest to the highest run
``None``   no band
=========  ===================================================================
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .._checks import check_choice, check_number

BANDS = ("std", "sem", "ci95", "minmax", None)


def smooth_curves(curves: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average of each row over ``window`` points; same shape.

    Point ``k`` averages points ``max(0, k - window + 1) .. k``, so the start
    of a curve is not dropped and no point looks into the future.
    """
    window = check_number("smooth", window, low=1, integer=True)
    curves = np.asarray(curves, dtype=float)
    if window == 1:
        return curves
    cumulative = np.cumsum(curves, axis=-1)
    shifted = np.zeros_like(cumulative)
    shifted[..., window:] = cumulative[..., :-window]
    counts = np.minimum(np.arange(1, curves.shape[-1] + 1), window)
    return (cumulative - shifted) / counts


def curve_summary(
    values: Any, smooth: int = 1, band: str | None = "std"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The data :func:`plot_learning_curves` draws for one curve.

    ``values`` has shape ``(runs, episodes)`` or ``(episodes,)`` (one run).
    Each run is smoothed first, then summarised across runs. Returns
    ``(x, mean, low, high)``, each of shape ``(episodes,)``, ``x = 0, 1, ...``;
    ``low``/``high`` equal ``mean`` when ``band`` is None or there is one run.
    """
    band = check_choice("band", band, BANDS)
    curves = _as_curves(values)
    curves = smooth_curves(curves, smooth)
    runs, points = curves.shape
    mean = curves.mean(axis=0)
    if band is None or runs == 1:
        low = high = mean
    elif band == "minmax":
        low, high = curves.min(axis=0), curves.max(axis=0)
    else:
        spread = curves.std(axis=0, ddof=1)
        if band in ("sem", "ci95"):
            spread = spread / np.sqrt(runs)
        if band == "ci95":
            spread = 1.96 * spread
        low, high = mean - spread, mean + spread
    return np.arange(points), mean, low, high


def plot_learning_curves(
    curves: Mapping[str, Any] | Any,
    ax: Any = None,
    smooth: int = 1,
    band: str | None = "std",
    xlabel: str = "episode",
    ylabel: str = "return",
    title: str | None = None,
    colors: Mapping[str, Any] | None = None,
    band_alpha: float = 0.2,
    x: Any = None,
) -> Any:
    """Plot mean ± band over runs for each labelled curve; returns the Axes.

    Parameters
    ----------
    curves : dict label -> array (runs, episodes) or (episodes,), or one such array
        E.g. ``{"Q-learning": q.returns, "SARSA": s.returns}``.
    ax : matplotlib Axes, optional
        Drawn on a new figure when omitted.
    smooth : int
        Trailing moving-average window applied to each run (1 = raw).
    band : "std", "sem", "ci95", "minmax" or None
        What the shaded area shows (see the module docstring).
    colors : dict label -> matplotlib colour, optional
    x : array (points,), optional
        Horizontal positions shared by every curve (e.g. environment steps of curves resampled onto one
        grid); default ``0, 1, ...``.
    """
    import matplotlib.pyplot as plt

    if not isinstance(curves, Mapping):
        curves = {None: curves}
    if not curves:
        raise ValueError("curves is empty; give at least one label -> array")
    check_choice("band", band, BANDS)
    check_number("smooth", smooth, low=1, integer=True)
    check_number("band_alpha", band_alpha, low=0, high=1)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for label, values in curves.items():
        try:
            xs, mean, low, high = curve_summary(values, smooth=smooth, band=band)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"curves[{label!r}]: {exc}") from None
        runs = _as_curves(values).shape[0]
        if x is not None:
            if np.shape(x) != np.shape(mean):
                raise ValueError(f"x has shape {np.shape(x)}; curves[{label!r}] has {len(mean)} points")
            xs = np.asarray(x, dtype=float)
        color = None if colors is None else colors.get(label)
        text = None if label is None else (f"{label} ({runs} runs)" if runs > 1 else str(label))
        (line,) = ax.plot(xs, mean, color=color, label=text)
        if band is not None and runs > 1:
            ax.fill_between(xs, low, high, color=line.get_color(), alpha=band_alpha, linewidth=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if any(label is not None for label in curves):
        ax.legend()
    return ax


def _as_curves(values: Any) -> np.ndarray:
    try:
        curves = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"a curve must be an array of numbers, got {type(values).__name__}") from None
    if curves.ndim == 1:
        curves = curves[None, :]
    if curves.ndim != 2 or curves.shape[1] == 0:
        raise ValueError(f"a curve must have shape (runs, episodes) or (episodes,); got {curves.shape}")
    if not np.isfinite(curves).all():
        raise ValueError("a curve contains NaN or infinite values")
    return curves
