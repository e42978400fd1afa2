"""Shared pieces of the fuzz suite (tests/test_fuzz_*.py): Hypothesis profiles, a hard
per-call time bound, the documented exception types and strategies for careless input.

Profiles (chosen with the environment variable ``DRLKIT_FUZZ``):

* ``ci`` (default) -- few, derandomized examples per test: the same inputs every run,
  the whole fuzz suite well under two minutes on two cores;
* ``long`` -- ``make fuzz``: many more examples, still derandomized (so a failure
  found there reproduces with the same command), no deadline.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

from drlkit._checks import DrlkitWarning
from drlkit.planning import ConvergenceError

_COMMON = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
settings.register_profile("fuzz-ci", max_examples=40, **_COMMON)
settings.register_profile("fuzz-long", max_examples=2000, **_COMMON)
PROFILE = os.environ.get("DRLKIT_FUZZ", "ci")
if PROFILE not in ("ci", "long"):
    raise ValueError(f"DRLKIT_FUZZ must be 'ci' or 'long'; got {PROFILE!r}")


def fuzz_settings(ci_examples: int) -> settings:
    """Settings of one fuzz test: ``3 * ci_examples`` examples in CI, ``50 * ci_examples`` (at most 3000)
    in the long run."""
    base = settings.get_profile(f"fuzz-{PROFILE}")
    examples = 3 * ci_examples if PROFILE == "ci" else min(3000, 50 * ci_examples)
    return settings(base, max_examples=examples)


#: What a public entry point may raise (drlkit's own exceptions derive from these or are listed).
DOCUMENTED = (ValueError, TypeError, FileNotFoundError, ConnectionError, ConvergenceError)


class Hang(BaseException):
    """A call ran past its bound (a BaseException so that no ``except Exception`` swallows it)."""


@contextlib.contextmanager
def bounded(seconds: float):
    """Fail with :class:`Hang` if the block runs longer than ``seconds`` (SIGALRM, main thread)."""

    def on_alarm(signum, frame):
        raise Hang(f"call did not return within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def names_one_of(message: str, names: Iterable[str]) -> bool:
    """Whether ``message`` mentions one of ``names`` as a word (``P`` matches ``P[0, 1]``, not ``Press``)."""
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


def call_cleanly(
    fn: Callable[[], Any], names: Iterable[str], seconds: float = 20.0, extra: tuple[type[BaseException], ...] = ()
) -> tuple[Any, BaseException | None]:
    """Run ``fn`` under a time bound; it may return or raise a documented exception naming one of ``names``.

    Returns ``(result, None)`` or ``(None, exception)``; anything else fails the test with the
    exception's type and message. DrlkitWarnings are allowed (they are how suspicious but legal
    input is reported); other warnings are left to pytest.
    """
    names = list(names)
    try:
        with bounded(seconds), warnings.catch_warnings():
            warnings.simplefilter("ignore", DrlkitWarning)
            result = fn()
        _event("returned")
        return result, None
    except Hang:
        raise
    except DOCUMENTED + extra as exc:
        message = str(exc)
        assert names_one_of(message, names), (
            f"{type(exc).__name__} does not name the argument (one of {names}): {message}"
        )
        _event(f"raised {type(exc).__name__}")
        return None, exc
    except Exception as exc:
        raise AssertionError(f"undocumented exception {type(exc).__module__}.{type(exc).__name__}: {exc}") from exc


def _event(text: str) -> None:
    """Count outcomes in ``--hypothesis-show-statistics`` (ignored outside a Hypothesis test)."""
    with contextlib.suppress(Exception):
        event(text)


class Opaque:
    """An object of a type no entry point expects."""

    def __repr__(self) -> str:
        return "Opaque()"


def junk() -> st.SearchStrategy:
    """Values of the wrong kind for almost any argument."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.text(max_size=4),
        st.binary(max_size=3),
        st.lists(st.integers(-3, 3), max_size=3),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
        st.builds(Opaque),
        st.just(float("nan")),
        st.just(float("inf")),
        st.just(-float("inf")),
        st.just(np.array([1.0, 2.0])),
        st.just(10**30),
        st.complex_numbers(max_magnitude=2, allow_nan=False),
    )


def numbers(low: float = -5, high: float = 5) -> st.SearchStrategy:
    """Plain numbers, mostly in a sensible range, sometimes not."""
    return st.one_of(
        st.integers(int(low) - 2, int(high) + 2),
        st.floats(low - 1, high + 1, allow_nan=False),
        st.sampled_from([0, 1, -1, 0.5, 1e-12, 2**31, 2**64, 10**12, np.float32(0.3), np.int64(3)]),
    )


def maybe_junk(good: st.SearchStrategy, junk_weight: int = 1) -> st.SearchStrategy:
    """Mostly ``good`` values, sometimes junk or an out-of-range number."""
    return st.one_of(*([good] * 3), *([junk()] * junk_weight), numbers())


@st.composite
def perturbed(draw, good: dict[str, st.SearchStrategy], bad: dict[str, st.SearchStrategy], max_bad: int = 2):
    """``(kwargs, perturbed_names)``: valid keyword arguments with up to ``max_bad`` of them replaced
    by a draw from ``bad`` (which may still happen to be valid). An error must name one of
    ``perturbed_names``; with none perturbed the call should succeed."""
    kwargs = {name: draw(strategy) for name, strategy in good.items()}
    names = draw(st.lists(st.sampled_from(sorted(bad)), max_size=max_bad, unique=True))
    for name in names:
        kwargs[name] = draw(bad[name])
    return kwargs, names
