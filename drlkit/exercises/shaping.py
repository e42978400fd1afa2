r"""Exercises of the shaping notebook: potential-based shaping rewards and the feedback policy.

``check_shaping_reward(fn)``: ``fn(R (S, A, S), phi (S,), terminal (S,) bool, gamma) -> (S, A, S)``,
the shaped rewards :math:`R + \gamma\Phi(s') - \Phi(s)` with :math:`\Phi = 0` at terminal states.
``check_feedback_policy(fn)``: ``fn(delta (S, A), C) -> (S, A)``, Griffith et al.'s
:math:`\pi_F(a|s) \propto C^\Delta / (C^\Delta + (1-C)^\Delta)`.
Answers are compared with :mod:`drlkit.shaping`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..envs.mdp import MDP
from ..shaping import feedback_policy, potential_shaping
from ._feedback import call_student, fail, succeed

_rng = np.random.default_rng(7)
_P = _rng.random((4, 2, 4))
_P /= _P.sum(2, keepdims=True)
_R = _rng.normal(size=(4, 2, 4))
_TERMINAL = np.array([False, False, False, True])
_PHI = np.array([1.0, -2.0, 0.5, 3.0])
_GAMMA = 0.9
_DELTA = np.array([[2.0, -1.0, 0.0], [0.0, 0.0, 0.0], [-3.0, 1.0, 1.0]])


_run = call_student  # the student's result as a float array, or what went wrong


def check_shaping_reward(shaping_reward: Callable[..., Any]) -> bool:
    out, problem = _run(shaping_reward, "shaping_reward", _R, _PHI, _TERMINAL, _GAMMA)
    if problem:
        return fail(problem)
    expected = potential_shaping(MDP(P=_P, R=_R, terminal=_TERMINAL), _PHI, _GAMMA).R3
    assert expected is not None  # a shaped MDP keeps its rewards per transition (S, A, S)
    if out.shape != expected.shape:
        return fail(f"return the shaped rewards with shape (S, A, S) = {expected.shape}; got {out.shape}.")
    if np.allclose(out, expected):
        return succeed("shaped rewards match: F = γΦ(s') - Φ(s) with Φ(terminal) = 0.")
    no_terminal = _R + _GAMMA * _PHI[None, None, :] - _PHI[:, None, None]
    if np.allclose(out, no_terminal):
        return fail(
            "set Φ(s') = 0 when s' is terminal: otherwise ending the episode pays -Φ and the policy can change."
        )
    if np.allclose(out, _R + _PHI[None, None, :] * np.where(_TERMINAL, 0, 1) - _PHI[:, None, None]):
        return fail("multiply Φ(s') by γ: F = γΦ(s') - Φ(s).")
    if np.allclose(out, _R - (expected - _R)):
        return fail("the sign is reversed: F = γΦ(s') - Φ(s), next state minus current state.")
    s, a, s2 = np.unravel_index(np.argmax(np.abs(out - expected)), expected.shape)
    return fail(
        f"at (s={s}, a={a}, s'={s2}) the shaped reward should be {expected[s, a, s2]:.3f}, not {out[s, a, s2]:.3f}."
    )


def check_feedback_policy(student_fn: Callable[..., Any]) -> bool:
    C = 0.8
    out, problem = _run(student_fn, "feedback_policy", _DELTA, C)
    if problem:
        return fail(problem)
    expected = feedback_policy(_DELTA, C)
    if out.shape != expected.shape:
        return fail(f"return one distribution per state, shape {expected.shape}; got {out.shape}.")
    if np.allclose(out, expected):
        return succeed("π_F matches: each action's probability of being optimal, normalised per state.")
    raw = C**_DELTA / (C**_DELTA + (1 - C) ** _DELTA)
    if np.allclose(out, raw):
        return fail("normalise over actions: divide each row by its sum.")
    if np.allclose(out, feedback_policy(-_DELTA, C)):
        return fail("the counts are right minus wrong: a positive Δ must make the action more likely.")
    return fail(f"row 0 should be {np.round(expected[0], 3)}, not {np.round(out[0], 3)}.")
