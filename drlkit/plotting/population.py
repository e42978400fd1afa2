"""Figures of populations and replay: the best member over time, PBT's family tree and the hyperparameter
schedules it discovers, learning curves per env step, bytes moved, and the model-parallel time split and
crossover. Every function takes explicit data (frames, arrays) and returns the Axes."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

__all__ = [
    "plot_best_score",
    "plot_lineage",
    "plot_schedules",
    "plot_returns_per_step",
    "plot_bytes_moved",
    "plot_pipeline_split",
    "plot_crossover",
]


def _axes(ax: Any, size: tuple[float, float] = (6.0, 3.5)) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _frame(records: Any, needed: Sequence[str], name: str) -> Any:
    import pandas as pd

    frame = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} needs the columns {list(needed)}; missing {missing}")
    if frame.empty:
        raise ValueError(f"{name} has no rows to draw")
    return frame


def plot_best_score(runs: Mapping[str, Any], ax: Any = None) -> Any:
    """Best member's score after each round against the population's env steps, one line per run.

    ``runs``: ``{label: records}`` with columns ``round, member, step, score`` (e.g.
    ``PopulationResult.to_frame()``, PBT and random search)."""
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError("runs must be a non-empty dict {label: population records}")
    ax = _axes(ax)
    for label, records in runs.items():
        frame = _frame(records, ("round", "member", "step", "score"), f"runs[{label!r}]")
        per_round = frame.groupby("round").agg(step=("step", "sum"), best=("score", "max"))
        ax.plot(per_round.step, per_round.best, marker="o", label=label)
    ax.set_xlabel("environment steps (whole population)")
    ax.set_ylabel("best member's score")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_lineage(records: Any, lineage: Any, ax: Any = None) -> Any:
    """PBT's family tree: one row per member slot, one column per round; a member continuing its own
    line is a grey segment, a copy (exploit) an arrow from the parent to the member that copied it.
    Dots are coloured by score. ``records``: ``round, member, score``; ``lineage``: ``round, member, parent``."""
    frame = _frame(records, ("round", "member", "score"), "records")
    import pandas as pd

    copies = lineage if isinstance(lineage, pd.DataFrame) else pd.DataFrame(list(lineage))
    if len(copies) and not {"round", "member", "parent"} <= set(copies.columns):
        raise ValueError("lineage needs the columns ['round', 'member', 'parent']")
    ax = _axes(ax, (6.0, 3.0))
    copied = {
        (int(r), int(m)): int(p)
        for r, m, p in zip(copies.get("round", []), copies.get("member", []), copies.get("parent", []))
    }
    rounds = sorted(frame["round"].unique())
    for r in rounds[:-1]:
        for m in sorted(frame.member.unique()):
            if (r, m) in copied:
                p = copied[(r, m)]
                ax.annotate("", xy=(r + 1, m), xytext=(r, p), arrowprops=dict(arrowstyle="->", color="tab:red", lw=1.5))
            else:
                ax.plot([r, r + 1], [m, m], color="0.6", lw=1.5, zorder=1)
    points = ax.scatter(frame["round"], frame.member, c=frame.score, cmap="viridis", s=60, zorder=2)
    ax.figure.colorbar(points, ax=ax, label="score")
    ax.set_xlabel("round")
    ax.set_ylabel("member")
    ax.set_yticks(sorted(frame.member.unique()))
    ax.set_title(f"lineage: {len(copied)} copies (red: exploit, parent -> member)")
    return ax


def plot_schedules(records: Any, name: str, ax: Any = None, log: bool = False) -> Any:
    """Hyperparameter ``name`` of each member over the rounds (the schedule PBT discovered)."""
    frame = _frame(records, ("round", "member", name), "records")
    ax = _axes(ax)
    for member, rows in frame.groupby("member"):
        ax.step(rows["round"], rows[name], where="post", marker=".", label=f"member {member}")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("round")
    ax.set_ylabel(name)
    ax.legend(fontsize="small", ncol=2)
    ax.grid(alpha=0.3)
    return ax


def plot_returns_per_step(curves: Mapping[str, tuple[Any, Any]], ax: Any = None, window: int = 10) -> Any:
    """Episode returns against env steps, one smoothed line per ``{label: (steps (n,), returns (n,))}``."""
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError("curves must be a non-empty dict {label: (steps, returns)}")
    ax = _axes(ax)
    for label, (steps, returns) in curves.items():
        steps, returns = np.asarray(steps, dtype=float), np.asarray(returns, dtype=float)
        if steps.shape != returns.shape or steps.ndim != 1:
            raise ValueError(
                f"curves[{label!r}]: steps and returns must be 1-d of one length; got {steps.shape} and {returns.shape}"
            )
        if len(returns) == 0:
            continue
        order = np.argsort(steps, kind="stable")
        steps, returns = steps[order], returns[order]
        k = max(1, min(window, len(returns)))
        smooth = np.convolve(returns, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1 :], smooth, label=label)
    ax.set_xlabel("environment steps")
    ax.set_ylabel(f"episode return (mean of {window})")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_bytes_moved(moved: Mapping[str, Mapping[str, float]], ax: Any = None) -> Any:
    """Stacked bars of bytes moved per run: ``{run label: {kind: bytes}}`` (e.g. parameters, experience)."""
    if not isinstance(moved, Mapping) or not moved:
        raise TypeError("moved must be a non-empty dict {run: {kind: bytes}}")
    kinds = sorted({k for per_run in moved.values() for k in per_run})
    ax = _axes(ax, (5.0, 3.5))
    bottoms = np.zeros(len(moved))
    for kind in kinds:
        values = np.array([float(per_run.get(kind, 0.0)) for per_run in moved.values()]) / 1e6
        if (values < 0).any():
            raise ValueError(f"bytes must be >= 0; {kind!r} has {values.min() * 1e6:g}")
        ax.bar(list(moved), values, bottom=bottoms, label=kind)
        bottoms += values
    ax.set_ylabel("MB moved")
    ax.legend(fontsize="small")
    return ax


def plot_pipeline_split(labels: Sequence[str], compute: Any, other: Any, ax: Any = None) -> Any:
    """Per configuration (e.g. micro-batches), the step time split into compute ``(n,)`` and
    communication and scheduling ``(n,)``, in milliseconds."""
    compute, other = np.asarray(compute, dtype=float), np.asarray(other, dtype=float)
    if compute.shape != (len(labels),) or other.shape != (len(labels),):
        raise ValueError(
            f"compute and other need one value per label ({len(labels)}); got {compute.shape} and {other.shape}"
        )
    ax = _axes(ax, (5.0, 3.5))
    ax.bar(list(labels), compute * 1e3, label="compute (busier stage)")
    ax.bar(list(labels), other * 1e3, bottom=compute * 1e3, label="communication + scheduling")
    ax.set_ylabel("ms per training step")
    ax.legend(fontsize="small")
    return ax


def plot_crossover(widths: Any, single: Any, split: Mapping[str, Any], ax: Any = None) -> Any:
    """Seconds per step against network width: one worker (``single (n,)``) and the two-stage pipeline
    for each link (``{label: (n,)}``); the crossover is where a split line dips below the single one."""
    widths, single = np.asarray(widths, dtype=float), np.asarray(single, dtype=float)
    if widths.shape != single.shape or widths.ndim != 1:
        raise ValueError(f"widths and single must be 1-d of one length; got {widths.shape} and {single.shape}")
    ax = _axes(ax)
    ax.loglog(widths, single, color="k", lw=2, label="one worker")
    for label, times in split.items():
        times = np.asarray(times, dtype=float)
        if times.shape != widths.shape:
            raise ValueError(f"split[{label!r}] must have the shape of widths {widths.shape}; got {times.shape}")
        line = ax.loglog(widths, times, label=f"two stages, {label}")[0]
        faster = np.flatnonzero(times < single)
        if len(faster):
            ax.axvline(widths[faster[0]], color=line.get_color(), ls=":", lw=1)
    ax.set_xlabel("hidden width (parameters grow as width²)")
    ax.set_ylabel("seconds per training step")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3, which="both")
    return ax
