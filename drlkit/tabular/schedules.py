"""Schedules: a value (exploration rate ε, step size α) as a function of the episode number.

A schedule is any callable ``schedule(episode) -> float`` where ``episode`` counts
from 0. The three classes below cover the usual choices:

* :class:`Constant` -- ``value`` for every episode;
* :class:`LinearDecay` -- from ``start`` to ``end`` in a straight line over
  ``episodes`` episodes, then ``end`` for ever;
* :class:`ExponentialDecay` -- ``end + (start - end) * decay**episode``.

The learners evaluate a schedule once per episode, up front
(:func:`schedule_values`), so a schedule that leaves its allowed range fails
before any learning starts and names the first bad episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._checks import check_number

Schedule = Callable[[int], float]
"""Anything called as ``schedule(episode) -> float``."""

FloatOrSchedule = float | Schedule


@dataclass(frozen=True)
class Constant:
    """The same ``value`` at every episode."""

    value: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", check_number("value", self.value))

    def __call__(self, episode: int) -> float:
        return self.value


@dataclass(frozen=True)
class LinearDecay:
    """Straight line from ``start`` (episode 0) to ``end`` (episode ``episodes``), then flat.

    ``value(k) = start + (end - start) * min(k / episodes, 1)``.
    """

    start: float
    end: float
    episodes: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", check_number("start", self.start))
        object.__setattr__(self, "end", check_number("end", self.end))
        object.__setattr__(self, "episodes", check_number("episodes", self.episodes, low=1, integer=True))

    def __call__(self, episode: int) -> float:
        fraction = min(episode / self.episodes, 1.0)
        return self.start + (self.end - self.start) * fraction


@dataclass(frozen=True)
class ExponentialDecay:
    """Geometric approach from ``start`` towards ``end``: ``end + (start - end) * decay**k``.

    ``decay`` in (0, 1]: each episode keeps that fraction of the distance to
    ``end`` (``decay=0.99`` halves it about every 69 episodes).
    """

    start: float
    end: float = 0.0
    decay: float = 0.99

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", check_number("start", self.start))
        object.__setattr__(self, "end", check_number("end", self.end))
        object.__setattr__(self, "decay", check_number("decay", self.decay, low=0, high=1, low_open=True))

    def __call__(self, episode: int) -> float:
        return self.end + (self.start - self.end) * self.decay**episode


def schedule_values(
    name: str,
    value: FloatOrSchedule,
    episodes: int,
    *,
    low: float,
    high: float,
    low_open: bool = False,
) -> np.ndarray:
    """Evaluate a float or a schedule at episodes ``0 .. episodes-1``; shape ``(episodes,)``.

    Every value must lie in ``[low, high]`` (``(low, high]`` with ``low_open``);
    otherwise a ``ValueError`` names ``name``, the episode and the value.
    """
    if not callable(value):
        constant = check_number(name, value, low=low, high=high, low_open=low_open)
        return np.full(episodes, constant)
    values = np.empty(episodes)
    for episode in range(episodes):
        try:
            values[episode] = check_number(
                f"{name} (schedule at episode {episode})",
                value(episode),
                low=low,
                high=high,
                low_open=low_open,
            )
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{exc}; {name} schedule: {value!r}") from None
    return values


__all__ = ["Constant", "ExponentialDecay", "FloatOrSchedule", "LinearDecay", "Schedule", "schedule_values"]
