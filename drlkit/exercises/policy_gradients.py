"""Checks for the exercises of notebook 04 (policy gradients).

Each ``check_*`` function calls the student's function on a few small cases,
compares with the right answer and, when it differs, recognises the usual
mistakes (a forgotten discount, bootstrapping across the end of an episode, a
``max`` where the clipped objective needs a ``min``...) to say what is wrong.
It prints the verdict and returns True when every case is right.

1. :func:`check_returns_to_go` -- ``returns_to_go(rewards, gamma)``: the discounted
   rewards-to-go :math:`G_t = \\sum_{k \\ge t} \\gamma^{k-t} r_k` of one episode;
2. :func:`check_gae` -- ``gae(rewards, values, dones, gamma, lam)``: the generalised
   advantage estimates :math:`\\hat A_t` of one rollout;
3. :func:`check_clipped_surrogate` -- ``clipped_surrogate(ratio, advantage, clip_range)``:
   PPO's per-sample objective
   :math:`\\min(\\rho A, \\operatorname{clip}(\\rho, 1-\\epsilon, 1+\\epsilon) A)`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._feedback import call_student, fail, student_check, succeed

__all__ = ["check_clipped_surrogate", "check_gae", "check_returns_to_go"]

_ATOL = 1e-5


# ---------------------------------------------------------------- references
def _returns_to_go(rewards: np.ndarray, gamma: float) -> np.ndarray:
    out = np.zeros(len(rewards))
    running = 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def _gae(rewards, values, dones, gamma, lam, mask_delta=True, mask_trace=True, trace=None) -> np.ndarray:
    """GAE with switches that reproduce the common mistakes (the right answer has all defaults)."""
    T = len(rewards)
    trace = gamma * lam if trace is None else trace
    advantages = np.zeros(T)
    running = 0.0
    for t in reversed(range(T)):
        alive = 1.0 - float(dones[t])
        delta = rewards[t] + gamma * values[t + 1] * (alive if mask_delta else 1.0) - values[t]
        running = delta + trace * (alive if mask_trace else 1.0) * running
        advantages[t] = running
    return advantages


def _clipped(ratio, advantage, eps) -> np.ndarray:
    return np.minimum(ratio * advantage, np.clip(ratio, 1 - eps, 1 + eps) * advantage)


# ------------------------------------------------------------------- helpers
Case = tuple  # the arguments of one call of the student's function
Mistake = tuple[Callable[..., np.ndarray], str]  # (the wrong answer for a case's arguments, what it means)


def _judge(
    fn: Any,
    name: str,
    symbol: str,
    cases: list[Case],
    reference: Callable[..., np.ndarray],
    mistakes: list[Mistake],
    describe: Callable[..., str],
    success: str,
    what: str,
) -> bool:
    """Run ``fn`` on every case; print and return the verdict.

    On a wrong answer, the first failing case is shown with the explanation of
    the first listed mistake that reproduces the answer -- preferring one that
    reproduces it in *every* case, since on a small case two mistakes can give
    the same numbers.
    """
    answers = []
    for case in cases:
        result, error = _call(fn, name, *case)
        if error:
            return fail(error)
        answers.append(result)
    for case, result in zip(cases, answers):
        expected = reference(*case)
        if result.shape == () and expected.ndim == 1 and np.isclose(float(result), expected.mean(), atol=_ATOL):
            return fail(
                f"{describe(*case)}: you returned the mean; return one {what} per entry "
                f"(an array of shape {expected.shape})."
            )
        problem = _shape_problem(result, expected, name, what)
        if problem:
            return fail(f"{describe(*case)}: {problem}")
    for case, result in zip(cases, answers):
        expected = reference(*case)
        if _same(result, expected):
            continue
        matching = [
            (wrong, hint)
            for wrong, hint in mistakes
            if _same(result, wrong(*case)) and not _same(wrong(*case), expected)
        ]
        everywhere = [hint for wrong, hint in matching if all(_same(r, wrong(*c)) for c, r in zip(cases, answers))]
        if everywhere or matching:
            return fail(f"{describe(*case)}: {(everywhere or [matching[0][1]])[0]}")
        i = int(np.argmax(np.abs(result - expected)))
        return fail(f"{describe(*case)}: {symbol}[{i}] should be {expected[i]:.4g} but is {result[i]:.4g}.")
    return succeed(success)


_call = call_student  # the student's result as a float array, or what went wrong


def _shape_problem(result: np.ndarray, expected: np.ndarray, name: str, what: str) -> str | None:
    if result.shape == expected.shape:
        return None
    if result.shape == ():
        return f"{name} returned a single number; it should return one {what} per entry, shape {expected.shape}."
    return f"{name} returned an array of shape {result.shape}; expected {expected.shape} (one {what} per entry)."


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, atol=_ATOL, rtol=1e-6))


def _fmt(values: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:g}" for v in np.asarray(values, dtype=float).ravel()) + "]"


# ------------------------------------------------------- 1. returns-to-go
@student_check("returns_to_go")
def check_returns_to_go(returns_to_go: Callable[[np.ndarray, float], Any]) -> bool:
    """Check ``returns_to_go(rewards, gamma)``: rewards ``(T,)`` of one episode -> ``G (T,)``,
    :math:`G_t = r_t + \\gamma r_{t+1} + \\gamma^2 r_{t+2} + \\dots` up to the episode's end."""
    rng = np.random.default_rng(4)
    cases = [
        (np.array([1.0, 1.0, 1.0, 1.0]), 0.9),
        (np.array([0.0, 0.0, 1.0]), 0.5),
        (np.array([2.0, -1.0, 0.5, 3.0, 1.0]), 0.0),
        (np.round(rng.normal(size=8), 2), 0.95),
    ]

    def before_t(r, g):
        return np.array([sum(g ** (t - k) * r[k] for k in range(t + 1)) for t in range(len(r))])

    def absolute_discount(r, g):
        return np.array([sum(g**k * r[k] for k in range(t, len(r))) for t in range(len(r))])

    mistakes = [
        (
            lambda r, g: _returns_to_go(r, 1.0),
            "these are the undiscounted sums of the remaining rewards: did you forget the discount gamma?",
        ),
        (
            lambda r, g: np.full(len(r), _returns_to_go(r, g)[0]),
            "every entry equals the whole episode's return G_0; G_t only counts the rewards from step t on.",
        ),
        (
            lambda r, g: _returns_to_go(r, g)[::-1],
            "your returns are in reverse order: entry t must be the return from step t.",
        ),
        (
            before_t,
            "you accumulated the rewards *before* step t; the return-to-go sums the rewards from t to the end "
            "(loop backwards: G_t = r_t + gamma * G_{t+1}).",
        ),
        (
            lambda r, g: np.append(_returns_to_go(r, g)[1:], 0.0),
            "you returned G_{t+1}; G_t also includes the reward r_t of step t itself.",
        ),
        (absolute_discount, "the discount must count from t: r_k is weighted by gamma**(k - t), not gamma**k."),
    ]
    return _judge(
        returns_to_go,
        "returns_to_go",
        "G",
        cases,
        _returns_to_go,
        mistakes,
        lambda r, g: f"for rewards={_fmt(r)} and gamma={g}",
        "G_t = r_t + gamma * G_{t+1}, computed backwards from the end of the episode.",
        "return",
    )


# ---------------------------------------------------------------- 2. GAE
@student_check("gae")
def check_gae(gae: Callable[..., Any]) -> bool:
    """Check ``gae(rewards, values, dones, gamma, lam)``.

    ``rewards (T,)`` and ``dones (T,)`` (1.0 when the episode *terminated* at
    step t) come from one rollout; ``values (T + 1,)`` are :math:`V(s_0..s_T)`,
    the last one the value of the state after the rollout. The answer is
    :math:`\\hat A_t = \\delta_t + \\gamma\\lambda (1 - d_t) \\hat A_{t+1}` with
    :math:`\\delta_t = r_t + \\gamma (1 - d_t) V(s_{t+1}) - V(s_t)`.
    """
    cases = [
        (np.array([1.0, 1.0, 1.0]), np.array([0.5, 0.4, 0.3, 0.2]), np.array([0.0, 0.0, 0.0]), 0.9, 0.8),
        (
            np.array([1.0, 0.0, 2.0, 1.0, -1.0]),
            np.array([1.0, 2.0, 0.5, 1.5, 0.2, 3.0]),
            np.array([0.0, 1.0, 0.0, 0.0, 1.0]),
            0.99,
            0.95,
        ),
        (np.array([0.5, 1.0, 0.0, 1.0]), np.array([0.1, 0.2, 0.3, 0.4, 0.5]), np.array([0.0, 0.0, 1.0, 0.0]), 0.9, 0.0),
    ]
    mistakes = [
        (
            lambda r, v, d, g, l: _gae(r, v, d, g, l, mask_delta=False, mask_trace=False),
            "at a step where the episode terminates (dones[t] = 1), V(s_t+1) belongs to the next episode, so "
            "delta_t must not bootstrap from it and A_t must not carry A_t+1 over (multiply both by 1 - dones[t]).",
        ),
        (
            lambda r, v, d, g, l: _gae(r, v, d, g, l, mask_delta=False),
            "at a terminal step (dones[t] = 1), delta_t = r_t - V(s_t): do not add gamma * V(s_t+1) there.",
        ),
        (
            lambda r, v, d, g, l: _gae(r, v, d, g, l, mask_trace=False),
            "you stopped bootstrapping at terminal steps but still carried A_t+1 back across the episode "
            "boundary; multiply the recursion term by 1 - dones[t] too.",
        ),
        (
            lambda r, v, d, g, l: _gae(r, v, d, g, l, trace=g),
            "the recursion decays by gamma * lam; you used gamma alone (that is lam = 1).",
        ),
        (
            lambda r, v, d, g, l: _gae(r, v, d, g, l, trace=l),
            "the recursion decays by gamma * lam; you used lam alone.",
        ),
        (
            lambda r, v, d, g, l: _gae(r, v, d, g, l) + v[:-1],
            "you returned A_t + V(s_t), the lambda-returns (the critic's targets); the exercise asks for the "
            "advantages A_t.",
        ),
        (lambda r, v, d, g, l: -_gae(r, v, d, g, l), "the sign is flipped: delta_t = r_t + gamma * V(s_t+1) - V(s_t)."),
        (
            lambda r, v, d, g, l: _gae(r, v, d, g, l, trace=0.0),
            "these are the one-step TD errors delta_t; GAE adds gamma * lam * A_t+1 to each (loop backwards).",
        ),
    ]
    return _judge(
        gae,
        "gae",
        "A",
        cases,
        _gae,
        mistakes,
        lambda r, v, d, g, l: f"for rewards={_fmt(r)}, values={_fmt(v)}, dones={_fmt(d)}, gamma={g}, lam={l}",
        "A_t = delta_t + gamma * lam * (1 - d_t) * A_t+1, with no bootstrapping past a terminal step.",
        "advantage",
    )


# --------------------------------------------------- 3. clipped surrogate
@student_check("clipped_surrogate")
def check_clipped_surrogate(clipped_surrogate: Callable[..., Any]) -> bool:
    """Check ``clipped_surrogate(ratio, advantage, clip_range)``: arrays ``(n,)`` and a float ->
    the per-sample objective to *maximise*, shape ``(n,)``:
    :math:`\\min(\\rho A, \\operatorname{clip}(\\rho, 1-\\epsilon, 1+\\epsilon) A)`."""
    ratio = np.array([0.5, 0.9, 1.0, 1.1, 1.5, 0.5, 0.9, 1.0, 1.1, 1.5])
    advantage = np.array([1.0, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -2.0])
    cases = [(ratio, advantage, 0.2), (ratio, 0.5 * advantage, 0.05)]
    mistakes = [
        (
            lambda r, a, e: -_clipped(r, a, e),
            "you returned the loss -L; the exercise asks for the objective L (to maximise).",
        ),
        (
            lambda r, a, e: np.maximum(r * a, np.clip(r, 1 - e, 1 + e) * a),
            "you took the maximum; the clipped objective takes the *minimum* of the two terms, a pessimistic "
            "bound, so that moving the ratio far from 1 never looks better than it is.",
        ),
        (lambda r, a, e: r * a, "nothing is clipped: this is the plain surrogate ratio * advantage."),
        (
            lambda r, a, e: np.clip(r, 1 - e, 1 + e) * a,
            "without the min, a sample whose ratio moved the wrong way (e.g. ratio < 1 - eps with A > 0) is "
            "clipped too and its gradient vanishes; take min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A).",
        ),
        (
            lambda r, a, e: np.minimum(r * a, np.clip(r, -e, e) * a),
            "clip the ratio to [1 - clip_range, 1 + clip_range], around 1, not to [-clip_range, clip_range].",
        ),
        (
            lambda r, a, e: np.minimum(r * a, np.clip(r, 1 - e, 1 + e)),
            "the clipped term is clip(ratio, 1 - eps, 1 + eps) * advantage: you forgot the advantage.",
        ),
    ]
    return _judge(
        clipped_surrogate,
        "clipped_surrogate",
        "L",
        cases,
        _clipped,
        mistakes,
        lambda r, a, e: f"for ratio={_fmt(r)}, advantage={_fmt(a)}, clip_range={e}",
        "min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A): no gain from pushing the ratio beyond the clip "
        "range, full penalty for moving the wrong way.",
        "value",
    )
