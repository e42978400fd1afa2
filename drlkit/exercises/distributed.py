r"""Checks for the exercises of notebook 05 (synchronous vs asynchronous training).

Each ``check_*`` function calls the student's function on a few small cases,
compares with the right answer and, when it differs, recognises the usual
mistakes (summing instead of averaging, mixing the wrong way round, dividing
by a staleness of 0...) to say what is wrong. It prints the verdict and
returns True when every case is right.

Parameters are flat float vectors here: ``theta`` has shape ``(P,)`` and the
workers' results are stacked as ``(N, P)``. (The engine applies the same
formulas to every array of the agent's parameter dict.)

============================  ================================================
exercise                      the student writes
============================  ================================================
:func:`check_sync_merge`      ``sync_merge(theta, worker_thetas)`` ->
                              :math:`\theta + \frac1N\sum_i(\theta_i - \theta)`
:func:`check_async_merge`     ``async_merge(theta, theta_i, eta, staleness, staleness_aware)`` ->
                              :math:`\theta + w(\theta_i - \theta)`, :math:`w = \eta` or :math:`\eta / \max(\tau, 1)`
:func:`check_staleness`       ``staleness_from_stamps(start_versions, max_staleness=None)`` ->
                              the staleness :math:`\tau` of each result, in arrival order
============================  ================================================
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._feedback import call_student, fail, student_check, succeed

__all__ = ["check_async_merge", "check_staleness", "check_sync_merge"]

_ATOL = 1e-6


# ---------------------------------------------------------------- references
def _sync_merge(theta: np.ndarray, thetas: np.ndarray) -> np.ndarray:
    return theta + np.mean(thetas - theta, axis=0)


def _weight(eta: float, staleness: int, aware: bool) -> float:
    return eta / max(staleness, 1) if aware else eta


def _async_merge(theta, theta_i, eta, staleness, aware) -> np.ndarray:
    return theta + _weight(eta, staleness, aware) * (theta_i - theta)


def _staleness(start_versions: Any, max_staleness: int | None = None) -> np.ndarray:
    """τ of each result, in arrival order.

    The server's version starts at 0 and goes up by one for every *applied*
    result; a result stamped with version ``v`` that arrives while the server is
    at version ``V`` has staleness ``τ = V - v``, and is dropped (not applied)
    when ``τ > max_staleness``.
    """
    version = 0
    taus = np.zeros(len(start_versions), dtype=np.int64)
    for k, stamp in enumerate(start_versions):
        taus[k] = version - int(stamp)
        if max_staleness is None or taus[k] <= max_staleness:
            version += 1
    return taus


# ------------------------------------------------------------------- helpers
def _fmt(values: Any) -> str:
    return "[" + ", ".join(f"{v:g}" for v in np.asarray(values, dtype=float).ravel()) + "]"


def _call(fn: Any, name: str, *args: Any) -> tuple[Any, str | None]:
    """The student's result as a float array, or what went wrong (see :func:`call_student`)."""
    return call_student(
        fn,
        name,
        *args,
        zero_division="a result that is not stale has τ = 0, so divide by "
        "max(staleness, 1), never by the staleness itself.",
    )


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, atol=_ATOL, rtol=1e-6, equal_nan=False))


Mistake = tuple[Callable[..., np.ndarray], str]  # (the wrong answer for a case's arguments, what it means)


def _judge(
    fn: Any,
    name: str,
    cases: list[tuple],
    reference: Callable[..., np.ndarray],
    mistakes: list[Mistake],
    describe: Callable[..., str],
    symbol: str,
    what: str,
    nonfinite: str = "",
) -> str | None:
    """None when ``fn`` is right on every case, else the message for the first wrong case.

    A wrong answer is explained by the first listed mistake that reproduces it,
    preferring one that reproduces *every* answer (on a small case two mistakes
    can give the same numbers).
    """
    answers = []
    for case in cases:
        result, error = _call(fn, name, *case)
        if error:
            return error
        expected = reference(*case)
        if result.shape != expected.shape:
            got = "a single number" if result.shape == () else f"an array of shape {result.shape}"
            return f"{describe(*case)}: {name} returned {got}; expected shape {expected.shape} (one {what} per entry)."
        answers.append(result)
    for case, result in zip(cases, answers):
        expected = reference(*case)
        if _same(result, expected):
            continue
        if not np.all(np.isfinite(result)):
            return f"{describe(*case)}: your answer is {_fmt(result)}; it must be finite.{nonfinite}"
        matching = [
            (wrong, hint)
            for wrong, hint in mistakes
            if _same(result, wrong(*case)) and not _same(wrong(*case), expected)
        ]
        everywhere = [hint for wrong, hint in matching if all(_same(r, wrong(*c)) for c, r in zip(cases, answers))]
        if everywhere or matching:
            return f"{describe(*case)}: {(everywhere or [matching[0][1]])[0]}"
        i = int(np.argmax(np.abs(result - expected)))
        return f"{describe(*case)}: {symbol}[{i}] should be {expected[i]:.4g} but is {result[i]:.4g}."
    return None


def _verdict(problem: str | None, success: str) -> bool:
    if problem:
        return fail(problem)
    return succeed(success)


# -------------------------------------------------------- 1. the sync merge
@student_check("sync_merge")
def check_sync_merge(sync_merge: Callable[[np.ndarray, np.ndarray], Any]) -> bool:
    r"""Check ``sync_merge(theta, worker_thetas)``: ``theta (P,)`` the parameters every worker
    started the round from, ``worker_thetas (N, P)`` theirs after their local updates ->
    the new parameters :math:`\theta + \frac1N\sum_i(\theta_i - \theta)`, shape ``(P,)``."""
    rng = np.random.default_rng(5)
    cases = [
        (np.array([1.0, 2.0, 3.0]), np.array([[2.0, 2.0, 2.0], [0.0, 4.0, 3.0]])),
        (np.array([0.5, -1.0]), np.array([[0.7, -0.9], [0.4, -1.2], [0.6, -1.0], [0.3, -0.8]])),
        (np.round(rng.normal(size=5), 2), np.round(rng.normal(size=(3, 5)), 2)),
        (np.array([1.0, 1.0]), np.array([[3.0, -1.0]])),
    ]
    mistakes = [
        (
            lambda t, ts: t + np.sum(ts - t, axis=0),
            "you added the *sum* of the workers' changes θ_i − θ; average them (divide by N), or N workers "
            "would take an N times larger step than one.",
        ),
        (
            lambda t, ts: np.mean(ts - t, axis=0),
            "you returned the average change (1/N) Σ (θ_i − θ), not the new parameters: add it to θ.",
        ),
        (
            lambda t, ts: (t + np.sum(ts, axis=0)) / (len(ts) + 1),
            "you averaged θ together with the workers' θ_i; the new θ is the mean of the N workers' θ_i only.",
        ),
        (lambda t, ts: ts[-1], "you returned the last worker's θ_i; every worker's result counts equally."),
        (lambda t, ts: ts[0], "you returned the first worker's θ_i; every worker's result counts equally."),
        (lambda t, ts: t, "θ did not change: move it by the mean of the workers' changes θ_i − θ."),
        (lambda t, ts: t - np.mean(ts - t, axis=0), "you moved θ *away* from the workers: the change is θ_i − θ."),
    ]
    problem = _judge(
        sync_merge,
        "sync_merge",
        cases,
        _sync_merge,
        mistakes,
        lambda t, ts: f"for theta={_fmt(t)} and {len(ts)} worker(s) {', '.join(_fmt(row) for row in ts)}",
        "theta",
        "parameter",
    )
    return _verdict(
        problem,
        "θ + (1/N) Σ (θ_i − θ) is the mean of the workers' parameters: every worker counts "
        "1/N, and all of them started from the same θ.",
    )


# ------------------------------------------------------- 2. the async merge
@student_check("async_merge")
def check_async_merge(async_merge: Callable[..., Any]) -> bool:
    r"""Check ``async_merge(theta, theta_i, eta, staleness, staleness_aware)``: the server's
    parameters ``theta (P,)``, one worker's result ``theta_i (P,)`` computed from parameters
    ``staleness`` = τ versions old -> :math:`\theta + w(\theta_i - \theta)` with
    :math:`w = \eta / \max(\tau, 1)` if ``staleness_aware`` else :math:`w = \eta`."""
    theta, theta_i = np.array([1.0, -2.0, 0.5]), np.array([3.0, 2.0, 0.5])
    cases = [
        (theta, theta_i, 0.5, 0, False),
        (theta, theta_i, 0.5, 2, False),
        (theta, theta_i, 0.25, 1, True),
        (theta, theta_i, 0.5, 4, True),
        (theta, theta_i, 0.8, 0, True),
        (np.array([0.0, 1.0]), np.array([1.0, -1.0]), 1.0, 3, True),
    ]
    mistakes = [
        (
            lambda t, ti, e, s, a: _async_merge(t, ti, e, s, False),
            "with staleness_aware=True the step must shrink with the staleness: w = eta / max(staleness, 1).",
        ),
        (
            lambda t, ti, e, s, a: _async_merge(t, ti, e, s, True),
            "with staleness_aware=False the step is eta whatever the staleness; divide by max(τ, 1) only when "
            "staleness_aware is True.",
        ),
        (
            lambda t, ti, e, s, a: t + (e / (s + 1) if a else e) * (ti - t),
            "you divided eta by τ + 1; here the rule is eta / max(τ, 1), so a result one version old still "
            "gets the full step eta.",
        ),
        (
            lambda t, ti, e, s, a: t + (e * s if a else e) * (ti - t),
            "you multiplied eta by the staleness: stale results must move θ *less*, so divide by max(τ, 1).",
        ),
        (
            lambda t, ti, e, s, a: ti + _weight(e, s, a) * (t - ti),
            "you moved the worker's θ_i towards the server's θ; the server moves θ towards θ_i: θ + w (θ_i − θ).",
        ),
        (
            lambda t, ti, e, s, a: t + _weight(e, s, a) * ti,
            "you added w · θ_i; the step is w times the *change* θ_i − θ.",
        ),
        (lambda t, ti, e, s, a: ti, "you returned θ_i: that is the merge for eta = 1 only; mix with weight w."),
        (
            lambda t, ti, e, s, a: t + (ti - t) / max(s, 1) if a else t + (ti - t),
            "you forgot eta: w = eta (or eta / max(τ, 1) when staleness-aware).",
        ),
    ]
    problem = _judge(
        async_merge,
        "async_merge",
        cases,
        _async_merge,
        mistakes,
        lambda t, ti, e, s, a: f"for theta={_fmt(t)}, theta_i={_fmt(ti)}, eta={e}, staleness={s}, staleness_aware={a}",
        "theta",
        "parameter",
        nonfinite=" Did you divide by the staleness? A fresh result has τ = 0: use max(τ, 1).",
    )
    return _verdict(
        problem,
        "θ ← θ + w (θ_i − θ): each result moves θ part of the way towards the worker's θ_i, "
        "and less so when it was computed from old parameters.",
    )


# --------------------------------------------------------- 3. staleness
@student_check("staleness_from_stamps")
def check_staleness(staleness_from_stamps: Callable[..., Any], result: Any = None) -> bool:
    """Check ``staleness_from_stamps(start_versions, max_staleness=None)``.

    ``start_versions (K,)``: the parameter version each result was computed
    from, in the order the results reached the server. The server starts at
    version 0 and goes up by one per *applied* result; a result whose τ is
    above ``max_staleness`` is dropped and changes nothing. Returns τ of every
    result, dropped ones included, shape ``(K,)``.

    With ``result`` (a :class:`~drlkit.distributed.DistributedResult` of an
    ``"async"``, ``"a3c"`` or ``"rollouts"`` run) the function must also
    reproduce the staleness the engine recorded for that run.
    """
    cases = [
        (np.array([0, 0, 1, 1, 3, 2, 5]), None),
        (np.array([0, 0, 0, 0]), None),
        (np.array([0, 0, 0, 1, 2, 2, 2, 3]), 1),
        (np.array([0, 0, 0, 0, 1, 3, 3]), 0),
    ]
    mistakes = [
        (
            lambda v, cap: np.arange(len(v)) - v,
            "you counted every earlier result, dropped ones too; a dropped result changes nothing, so the version "
            "only goes up when a result is applied.",
        ),
        (
            lambda v, cap: _staleness(v, cap) + 1,
            "each τ is one too large: count the updates applied *before* this result arrived, not including it.",
        ),
        (
            lambda v, cap: -_staleness(v, cap),
            "the signs are flipped: τ = (server version now) − (version the result started from) ≥ 0.",
        ),
        (
            lambda v, cap: np.arange(len(v)) - v + 1,
            "you counted every earlier result and this one; only updates applied before it arrived make it stale.",
        ),
    ]

    def reference(versions, cap):
        return _staleness(versions, cap).astype(float)

    problem = _judge(
        staleness_from_stamps,
        "staleness_from_stamps",
        cases,
        reference,
        mistakes,
        lambda v, cap: f"for start_versions={_fmt(v)} and max_staleness={cap}",
        "tau",
        "staleness",
    )
    if problem is None and result is not None:
        problem = _compare_with_run(staleness_from_stamps, result)
    return _verdict(
        problem,
        "τ = (updates applied so far) − (the version the result started from); dropped "
        "results do not count as updates." + _run_note(result),
    )


def _compare_with_run(fn: Callable[..., Any], result: Any) -> str | None:
    if not callable(getattr(result, "to_frame", None)) or not isinstance(getattr(result, "options", None), dict):
        return (
            f"result must be what drlkit.distributed.train returned for an asynchronous run (mode 'async', "
            f"'a3c' or 'rollouts'); you passed a {type(result).__name__}."
        )
    if getattr(result, "mode", None) not in ("async", "a3c", "rollouts"):
        return (
            f"pass the result of an asynchronous run (mode 'async', 'a3c' or 'rollouts'); got mode "
            f"{getattr(result, 'mode', type(result).__name__)!r}, whose rounds have no staleness."
        )
    frame = _run_frame(result)
    if len(frame) == 0:
        return "that run has no results yet: train first."
    cap = result.options.get("max_staleness")
    answer, error = _call(fn, "staleness_from_stamps", frame.version.to_numpy(), cap)
    if error:
        return error
    recorded = frame.staleness.to_numpy(dtype=float)
    if answer.shape != recorded.shape:
        return f"on the run, staleness_from_stamps returned shape {answer.shape}; expected {recorded.shape}."
    if not _same(answer, recorded):
        k = int(np.flatnonzero(~np.isclose(answer, recorded))[0])
        return (
            f"on the run, result {k} (started from version {frame.version.iloc[k]}) has τ = "
            f"{recorded[k]:g} in the records but {answer[k]:g} from your function."
        )
    return None


def _run_frame(result: Any):
    frame = result.to_frame()
    return frame[frame.status.isin(["applied", "dropped"])]


def _run_note(result: Any) -> str:
    if result is None or not callable(getattr(result, "to_frame", None)):
        return ""
    frame = _run_frame(result)
    return (
        f" It also reproduces the τ the engine recorded for the {len(frame)} results of the {result.mode} run "
        f"(mean τ = {frame.staleness.mean():.2f})."
    )
