r"""Exercises of the DQN notebook: the TD target, the Double DQN target, the ε schedule.

Each ``check_*`` function calls the student's function on small batches, prints
what is wrong (naming the likely mistake when it recognises one) or a success
message, and returns ``True`` when the answer is right.

Conventions (numpy arrays, a batch of ``B`` transitions, ``A`` actions):
``rewards (B,)``, ``terminated (B,)`` (1.0 where the episode ended at ``s'``),
``next_q (B, A)`` the Q-values of ``s'``; the functions return targets ``(B,)``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._feedback import call_student, student_check

GAMMA = 0.9

# A hand-made batch where the usual mistakes all give different answers.
_REWARDS = np.array([1.0, 0.0, -1.0, 2.0])
_TERMINATED = np.array([0.0, 1.0, 0.0, 1.0])
_NEXT_Q_ONLINE = np.array([[1.0, 3.0, 2.0], [4.0, 0.5, 1.0], [0.0, -2.0, 5.0], [2.0, 1.0, 0.0]])
_NEXT_Q_TARGET = np.array([[2.5, 1.5, 0.5], [1.0, 2.0, 3.0], [3.0, 1.0, 4.0], [0.0, 3.0, 1.0]])


_call = call_student  # the student's result as a float array, or what went wrong


def _report(ok: bool, message: str) -> bool:
    print(("Correct! " if ok else "Not yet: ") + message)
    return ok


def _diagnose(out: np.ndarray, expected: np.ndarray, mistakes: dict[str, np.ndarray], name: str) -> bool:
    if out.shape != expected.shape:
        hint = " (one target per transition: reduce over the action axis, axis=1)" if out.ndim != 1 else ""
        return _report(False, f"{name} should return shape {expected.shape} but returned {out.shape}{hint}.")
    if np.allclose(out, expected, atol=1e-6):
        return True
    for message, wrong in mistakes.items():
        if np.allclose(out, wrong, atol=1e-6):
            return _report(False, message)
    i = int(np.argmax(np.abs(out - expected)))
    return _report(False, f"y[{i}] should be {expected[i]:.3f} but is {out[i]:.3f}.")


# ------------------------------------------------------------------ exercise 1
def reference_td_target(rewards: np.ndarray, terminated: np.ndarray, next_q: np.ndarray, gamma: float) -> np.ndarray:
    r""":math:`y = r + \gamma (1 - d) \max_{a'} Q(s', a')`."""
    return rewards + gamma * (1.0 - terminated) * next_q.max(axis=1)


@student_check("td_target")
def check_td_target(td_target: Callable[..., Any]) -> bool:
    """Check ``td_target(rewards, terminated, next_q, gamma) -> (B,)``, the DQN target."""
    r, d, q, g = _REWARDS, _TERMINATED, _NEXT_Q_TARGET, GAMMA
    out, problem = _call(td_target, "td_target", r, d, q, g)
    if problem:
        return _report(False, problem)
    mistakes = {
        "the targets of terminal transitions (terminated=1) still include γ·max Q(s', a'). "
        "After the last step there is no future: multiply the bootstrap by (1 - terminated).": r + g * q.max(axis=1),
        "the bootstrap is used only where terminated=1; it should be used where terminated=0: "
        "multiply by (1 - terminated), not by terminated.": r + g * d * q.max(axis=1),
        "the discount is missing: multiply max Q(s', a') by gamma.": r + (1 - d) * q.max(axis=1),
        "the reward is missing: the target is r + γ(1 - d) max Q(s', a').": g * (1 - d) * q.max(axis=1),
        "you averaged Q(s', ·) over the actions; Q-learning takes the max (the value of the greedy action).": r
        + g * (1 - d) * q.mean(axis=1),
        "you used the index of the best action (argmax) instead of its value (max).": r
        + g * (1 - d) * q.argmax(axis=1),
    }
    if not _diagnose(out, reference_td_target(r, d, q, g), mistakes, "td_target"):
        return False
    # A second, random batch guards against answers that fit the first one by accident.
    rng = np.random.default_rng(7)
    r2, d2, q2 = rng.normal(size=6), (rng.random(6) < 0.5).astype(float), rng.normal(size=(6, 4))
    out2, problem = _call(td_target, "td_target", r2, d2, q2, 0.97)
    if problem:
        return _report(False, problem)
    if not _diagnose(out2, reference_td_target(r2, d2, q2, 0.97), {}, "td_target"):
        return False
    return _report(True, "y = r + γ(1 - d) max_a' Q(s', a') for every transition.")


# ------------------------------------------------------------------ exercise 2
def reference_double_dqn_target(
    rewards: np.ndarray, terminated: np.ndarray, next_q_online: np.ndarray, next_q_target: np.ndarray, gamma: float
) -> np.ndarray:
    r""":math:`y = r + \gamma (1 - d)\, Q_\text{target}(s', \arg\max_{a'} Q_\text{online}(s', a'))`."""
    best = next_q_online.argmax(axis=1)
    return rewards + gamma * (1.0 - terminated) * next_q_target[np.arange(len(best)), best]


@student_check("double_dqn_target")
def check_double_dqn_target(double_dqn_target: Callable[..., Any]) -> bool:
    """Check ``double_dqn_target(rewards, terminated, next_q_online, next_q_target, gamma) -> (B,)``."""
    r, d, qo, qt, g = _REWARDS, _TERMINATED, _NEXT_Q_ONLINE, _NEXT_Q_TARGET, GAMMA
    out, problem = _call(double_dqn_target, "double_dqn_target", r, d, qo, qt, g)
    if problem:
        return _report(False, problem)
    rows = np.arange(len(r))
    mistakes = {
        "this is the plain DQN target (max of the target network). Double DQN *chooses* a' with the "
        "online network (argmax of next_q_online) and *evaluates* it with the target network.": r
        + g * (1 - d) * qt.max(axis=1),
        "the roles are swapped: choose a' with the online network (argmax of next_q_online) and read its "
        "value from next_q_target, not the other way round.": r + g * (1 - d) * qo[rows, qt.argmax(axis=1)],
        "you took the max of the online network. The point of Double DQN is to evaluate the online "
        "network's choice with the *target* network: next_q_target[i, argmax next_q_online[i]].": r
        + g * (1 - d) * qo.max(axis=1),
        "the targets of terminal transitions still bootstrap: multiply by (1 - terminated).": r
        + g * qt[rows, qo.argmax(axis=1)],
        "the discount is missing: multiply the next-state value by gamma.": r + (1 - d) * qt[rows, qo.argmax(axis=1)],
    }
    if not _diagnose(out, reference_double_dqn_target(r, d, qo, qt, g), mistakes, "double_dqn_target"):
        return False
    rng = np.random.default_rng(11)
    r2, d2 = rng.normal(size=6), (rng.random(6) < 0.5).astype(float)
    qo2, qt2 = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    out2, problem = _call(double_dqn_target, "double_dqn_target", r2, d2, qo2, qt2, 0.97)
    expected2 = reference_double_dqn_target(r2, d2, qo2, qt2, 0.97)
    if problem:
        return _report(False, problem)
    if not _diagnose(out2, expected2, {}, "double_dqn_target"):
        return False
    return _report(True, "the online network chooses a', the target network evaluates it.")


# ------------------------------------------------------------------ exercise 3
def reference_epsilon(step: int, initial: float, final: float, decay_steps: int) -> float:
    """Linear from ``initial`` at step 0 to ``final`` at ``decay_steps``, then constant."""
    if step >= decay_steps:
        return final
    return initial + (final - initial) * step / decay_steps


@student_check("epsilon")
def check_epsilon_schedule(epsilon: Callable[..., Any]) -> bool:
    """Check ``epsilon(step, initial, final, decay_steps) -> float``, the linear ε schedule."""
    initial, final, decay = 1.0, 0.1, 1000
    steps = np.array([0, 250, 500, 999, 1000, 1500, 10_000])
    values: list[float] = []
    for step in steps:
        out, problem = _call(epsilon, "epsilon", int(step), initial, final, decay)
        if problem:
            return _report(False, problem)
        if out.shape not in ((), (1,)):
            return _report(False, f"epsilon should return one number; it returned shape {out.shape}.")
        values.append(float(out.reshape(())))
    got = np.array(values)
    expected = np.array([reference_epsilon(int(s), initial, final, decay) for s in steps])
    if np.allclose(got, expected, atol=1e-6):
        return _report(True, "ε falls linearly to its final value and then stays there.")
    if np.allclose(got[:5], expected[:5], atol=1e-6):
        return _report(
            False,
            f"after decay_steps ε should stay at final={final}; at step {steps[-1]} "
            f"it is {values[-1]:.3f}. Clamp the step (e.g. min(step, decay_steps)).",
        )
    if abs(values[0] - final) < 1e-6 and abs(values[4] - initial) < 1e-6:
        return _report(
            False, "the schedule runs backwards: ε should start at initial (explore a lot) and end at final."
        )
    if abs(values[0] - initial) > 1e-6:
        return _report(False, f"at step 0, ε should be initial={initial}, got {values[0]:.3f}.")
    i = int(np.flatnonzero(np.abs(got - expected) > 1e-6)[0])  # the first step that is off
    return _report(
        False,
        f"at step {steps[i]} ε should be {expected[i]:.3f} but is {values[i]:.3f} "
        f"(initial={initial}, final={final}, decay_steps={decay}).",
    )
