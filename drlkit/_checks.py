"""Argument checks shared by the whole package.

Every public entry point validates its inputs with these helpers so that bad
input fails early with a message that names the field, the value received and
what is allowed -- never a deep traceback from numpy, torch or Dask.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Literal, overload


def _fmt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@overload
def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = ...,
    high: float | None = ...,
    low_open: bool = ...,
    high_open: bool = ...,
    integer: Literal[True],
) -> int: ...
@overload
def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = ...,
    high: float | None = ...,
    low_open: bool = ...,
    high_open: bool = ...,
    integer: Literal[False] = ...,
) -> float: ...
@overload
def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = ...,
    high: float | None = ...,
    low_open: bool = ...,
    high_open: bool = ...,
    integer: bool = ...,
) -> float | int: ...
def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> float | int:
    """Return ``value`` if it is a finite number inside the given interval.

    ``low_open``/``high_open`` exclude the bound itself, so
    ``check_number("gamma", g, low=0, high=1)`` allows [0, 1] and
    ``check_number("eta", e, low=0, high=1, low_open=True)`` allows (0, 1].
    """
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not _is_numpy_number(value):
        raise TypeError(f"{name} must be {kind}, got {_fmt(value)} ({type(value).__name__})")
    if integer and not float(value).is_integer():
        raise TypeError(f"{name} must be {kind}, got {_fmt(value)}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {_fmt(value)}")
    allowed = _interval(low, high, low_open, high_open)
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be in {allowed}, got {_fmt(value)}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be in {allowed}, got {_fmt(value)}")
    return int(value) if integer else float(value)


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``; otherwise list the choices."""
    allowed = list(allowed)
    try:
        found = any(value is a or (type(value) is type(a) and bool(value == a)) for a in allowed)
    except (TypeError, ValueError):  # e.g. an array: comparing it is ambiguous, and it is no choice anyway
        found = False
    if not found:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {choices}; got {_fmt(value)}")
    return value


def _interval(low, high, low_open, high_open) -> str:
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{left}{lo}, {hi}{right}"


def _is_numpy_number(value: Any) -> bool:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a hard dependency
        return False
    return isinstance(value, (np.integer, np.floating))


class DrlkitWarning(UserWarning):
    """Input that is legal but probably not what was meant; the message says how to be explicit."""


def check_callable(name: str, value: Any, signature: str) -> Callable[..., Any]:
    """Return ``value`` if it can be called; otherwise a ``TypeError`` naming ``name`` and ``signature``."""
    if not callable(value):
        raise TypeError(f"{name} must be a callable {signature}; got {_fmt(value)} ({type(value).__name__})")
    return value


def _available_memory() -> int:
    """Bytes of memory this process can still take (the machine's available memory)."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # pragma: no cover - psutil is a dependency of Dask
        return 8 * 2**30


def format_bytes(n: float) -> str:
    """``1.5 GB`` style size (powers of 1024)."""
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"  # pragma: no cover


def check_memory(what: str, nbytes: float, hint: str, *, fraction: float = 0.8) -> None:
    """Refuse to allocate ``nbytes`` when it exceeds ``fraction`` of the available memory.

    ``what`` names the arguments and the array (``"runs x episodes = 100000 x 100000 (returns and
    lengths)"``), ``hint`` says what to change. Raises ``ValueError`` -- never numpy's MemoryError
    after swapping a small machine to a halt.
    """
    available = _available_memory()
    if nbytes > fraction * available:
        raise ValueError(
            f"{what} would need {format_bytes(nbytes)} of memory; this machine has "
            f"{format_bytes(available)} available: {hint}"
        )


def int_argument(name: str, low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """A command-line ``type`` (argparse): the text as an integer in ``[low, high]``.

    Otherwise an ``argparse.ArgumentTypeError`` naming ``name``, what was typed and what is
    allowed -- the one integer parser of ``drlkit`` (cli.py) and ``python -m drlkit.demo``.
    """
    import argparse

    if low is None and high is None:
        allowed = "an integer"
    elif high is None:
        allowed = f"an integer >= {low}"
    elif low is None:
        allowed = f"an integer <= {high}"
    else:
        allowed = f"an integer from {low} to {high}"
    interval = _interval(low, high, False, False)

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be {allowed}, got {_fmt(text)}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{name} must be in {interval} ({allowed}), got {value}")
        return value

    return parse
