"""Figures of offline RL: normalised scores per algorithm and dataset quality, and Q overestimation."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np


def _axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_normalized_scores(scores: Any, ax: Any = None, title: str | None = None) -> Any:
    """Grouped bars of normalised scores: ``scores`` is a pandas DataFrame with one row per
    algorithm and one column per dataset quality (values: 0 = random policy, 100 = expert).
    Dashed lines mark 0 and 100. Returns the Axes."""
    import pandas as pd

    if not isinstance(scores, pd.DataFrame) or scores.empty:
        raise TypeError("scores must be a non-empty pandas DataFrame (rows: algorithms, columns: dataset qualities)")
    ax = _axes(ax, (7, 3.8))
    values = scores.to_numpy(dtype=float)
    n_alg, n_q = values.shape
    width = 0.8 / n_alg
    x = np.arange(n_q)
    for i, name in enumerate(scores.index):
        bars = ax.bar(x + (i - (n_alg - 1) / 2) * width, values[i], width, label=str(name))
        ax.bar_label(bars, fmt="%.0f", fontsize=8)
    for level in (0, 100):
        ax.axhline(level, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xticks(x, [str(c) for c in scores.columns])
    ax.set_xlabel("dataset quality")
    ax.set_ylabel("normalised score (0 random, 100 expert)")
    ax.legend(fontsize=8)
    ax.set_title(title or "Offline RL: algorithm x dataset quality")
    return ax


def plot_q_overestimation(results: Mapping[str, Mapping[str, float]], ax: Any = None) -> Any:
    """For each agent, the Q-value it predicts along its own greedy episodes next to the discounted
    return that actually followed (dicts from :func:`drlkit.offline.q_overestimation`). Returns the Axes."""
    if not isinstance(results, Mapping) or not results:
        raise TypeError("results must be a non-empty dict: agent name -> q_overestimation(...) result")
    ax = _axes(ax, (6, 3.5))
    names = list(results)
    x = np.arange(len(names))
    predicted = [results[n]["q_predicted"] for n in names]
    true = [results[n]["true_return"] for n in names]
    b1 = ax.bar(x - 0.2, predicted, 0.4, label="predicted Q(s, π(s))")
    b2 = ax.bar(x + 0.2, true, 0.4, label="true discounted return")
    ax.bar_label(b1, fmt="%.0f", fontsize=8)
    ax.bar_label(b2, fmt="%.0f", fontsize=8)
    ax.set_xticks(x, names)
    ax.set_ylabel("value")
    if max(predicted) > 10 * max(max(true), 1.0):
        ax.set_yscale("symlog")
    ax.legend(fontsize=8)
    ax.set_title("Q-value overestimation")
    return ax


def plot_evaluation_curves(
    histories: Mapping[str, Any], ax: Any = None, reference: Mapping[str, float] | None = None, title: str | None = None
) -> Any:
    """Mean greedy-evaluation return against gradient steps for each labelled agent History (the
    episode rows that ``eval_interval`` logs). ``reference`` = ``{label: return}`` draws horizontal
    lines (e.g. the random policy and the expert). Returns the Axes."""
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError("histories must be a non-empty dict: label -> agent History")
    ax = _axes(ax, (6.5, 3.5))
    for label, history in histories.items():
        frame = history.to_frame()
        episodes = frame[frame["episode_return"].notna()]
        if episodes.empty:
            raise ValueError(f"History {label!r} has no evaluation episodes: train with eval_interval > 0")
        curve = episodes.groupby("step")["episode_return"].mean()
        ax.plot(curve.index, curve.values, marker="o", markersize=3, label=str(label))
    for label, value in (reference or {}).items():
        ax.axhline(value, color="grey", linestyle=":", linewidth=1)
        ax.annotate(label, (ax.get_xlim()[0], value), fontsize=8, color="grey", va="bottom")
    ax.set_xlabel("gradient steps")
    ax.set_ylabel("greedy return")
    ax.legend(fontsize=8)
    ax.set_title(title or "Learning from a fixed dataset")
    return ax
