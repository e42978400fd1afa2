r"""Exercises of the offline RL notebook: the behaviour-cloning loss and the CQL regulariser.

Conventions (numpy arrays, a batch of ``B`` transitions, ``A`` actions):
``logits (B, A)`` or ``q (B, A)``, ``actions (B,)`` integer actions of the dataset.
Each ``check_*`` prints what is wrong (naming the likely mistake) or a success message
and returns ``True`` when the answer is right; the answers are compared with the
package's own :func:`drlkit.offline.bc.bc_loss` and :func:`drlkit.offline.cql.cql_regularizer`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from ..offline.bc import bc_loss
from ..offline.cql import cql_regularizer
from ._feedback import call_student, fail, succeed

_LOGITS = np.array([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0], [0.0, 0.0, 3.0], [1.0, -2.0, 0.5]])
_ACTIONS = np.array([0, 2, 2, 1])


_call = call_student  # the student's result as a float array, or what went wrong


def _check_scalar(out: np.ndarray, expected: float, mistakes: dict[str, float], name: str) -> bool:
    if out.shape != ():
        return fail(f"{name} should return one number (the mean over the batch); it returned shape {out.shape}.")
    if abs(float(out) - expected) < 1e-5:
        return True
    for message, wrong in mistakes.items():
        if abs(float(out) - wrong) < 1e-5:
            return fail(message)
    return fail(f"{name} should be {expected:.4f} on the check batch but is {float(out):.4f}.")


def reference_bc_loss(logits: np.ndarray, actions: np.ndarray) -> float:
    r""":math:`-\frac1B\sum_i \log\mathrm{softmax}(z_i)_{a_i}`."""
    return float(bc_loss(torch.as_tensor(logits), torch.as_tensor(actions), discrete=True))


def check_bc_loss(student_bc_loss: Callable[..., Any]) -> bool:
    """Check ``bc_loss(logits (B, A), actions (B,)) -> float``, the cross-entropy of the data's actions."""
    out, problem = _call(student_bc_loss, "bc_loss", _LOGITS, _ACTIONS)
    if problem:
        return fail(problem)
    expected = reference_bc_loss(_LOGITS, _ACTIONS)
    log_p = _LOGITS - np.log(np.exp(_LOGITS).sum(1, keepdims=True))
    mistakes = {
        "the loss is the *negative* log-likelihood: put a minus sign in front.": -expected,
        "take the log-softmax of the logits, not the raw logits at the data's actions.": -_LOGITS[
            np.arange(4), _ACTIONS
        ].mean(),
        "average over the batch rather than summing.": expected * len(_ACTIONS),
        "use the log-probability of the dataset's action, not of the most likely one.": -log_p.max(1).mean(),
    }
    if _check_scalar(out, expected, mistakes, "bc_loss"):
        return succeed(f"bc_loss = {expected:.4f}: cross-entropy between the policy and the data's actions.")
    return False


def reference_cql_regularizer(q: np.ndarray, actions: np.ndarray) -> float:
    r""":math:`\frac1B\sum_i [\log\sum_a e^{Q(s_i,a)} - Q(s_i,a_i)]`."""
    return float(cql_regularizer(torch.as_tensor(q), torch.as_tensor(actions)))


def check_cql_regularizer(student_fn: Callable[..., Any]) -> bool:
    """Check ``cql_regularizer(q (B, A), actions (B,)) -> float``."""
    out, problem = _call(student_fn, "cql_regularizer", _LOGITS, _ACTIONS)
    if problem:
        return fail(problem)
    expected = reference_cql_regularizer(_LOGITS, _ACTIONS)
    lse = np.log(np.exp(_LOGITS).sum(1))
    q_data = _LOGITS[np.arange(4), _ACTIONS]
    mistakes = {
        "subtract Q at the dataset's actions: logsumexp(Q(s, ·)) - Q(s, a).": lse.mean(),
        "the sign is reversed: CQL pushes the soft maximum down and the data's Q up.": -expected,
        "use the log-sum-exp (a soft maximum), not the hard max.": (_LOGITS.max(1) - q_data).mean(),
        "use log(sum(exp(Q))), not the mean of Q over actions.": (_LOGITS.mean(1) - q_data).mean(),
    }
    if _check_scalar(out, expected, mistakes, "cql_regularizer"):
        return succeed(f"regulariser = {expected:.4f} (always >= 0: a log-sum-exp exceeds each of its terms).")
    return False
