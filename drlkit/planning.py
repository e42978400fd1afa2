r"""Planning with a known model: policy evaluation, value iteration, policy iteration.

All three read the model of a finite :class:`~drlkit.MDP` -- ``P[s, a, s']``
(shape ``(S, A, S)``) and the expected reward ``R[s, a]`` (shape ``(S, A)``) --
and work on whole arrays: one *sweep* updates every state at once from the
previous value array (synchronous backups).

Values of terminal states are 0 by definition (the episode is over), and the
reward of entering a terminal state is already in ``R[s, a]``. With
:math:`V(s) = 0` for terminal :math:`s`, the action values of a value array
:math:`V` are

.. math::  Q(s, a) = R(s, a) + \gamma \sum_{s'} P(s' \mid s, a)\, V(s').

*Bellman expectation equation* of a policy :math:`\pi` (non-terminal :math:`s`):

.. math::  V^\pi(s) = \sum_a \pi(a \mid s)
           \Big[ R(s, a) + \gamma \sum_{s'} P(s' \mid s, a)\, V^\pi(s') \Big]

*Bellman optimality equation*:

.. math::  V^*(s) = \max_a \Big[ R(s, a) + \gamma \sum_{s'} P(s' \mid s, a)\, V^*(s') \Big]

Turning either equation into an assignment and repeating it gives policy
evaluation and value iteration. For :math:`\gamma < 1` each sweep is a
:math:`\gamma`-contraction, so the largest change :math:`\max_s |V_{k+1}(s) - V_k(s)|`
shrinks at least by a factor :math:`\gamma` per sweep. With :math:`\gamma = 1`
(undiscounted episodic tasks) the sweeps converge only when the policies
involved reach a terminal state; otherwise the values drift forever and the
functions raise :class:`ConvergenceError` after ``max_iterations`` sweeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import check_number
from .envs.mdp import MDP

_ROW_TOL = 1e-6


class ConvergenceError(RuntimeError):
    """Raised when the sweeps are still changing the values after ``max_iterations``."""


@dataclass(repr=False)
class PlanningResult:
    """What a planning algorithm found, and how it got there.

    Attributes
    ----------
    V : array (S,)
        State values (0 for terminal states).
    Q : array (S, A)
        Action values ``R + gamma * P @ V`` (rows of terminal states are 0).
    policy : int array (S,)
        A greedy action for every state (0 for terminal states, where no action is taken).
    iterations : int
        Sweeps (policy evaluation, value iteration) or evaluate-improve steps (policy iteration).
    gamma : float
        The discount used.
    method : str
        ``"policy_evaluation"``, ``"value_iteration"`` or ``"policy_iteration"``.
    tol : float
        The convergence tolerance used.
    history : array (iterations + 1, S)
        ``history[0]`` is the initial value array (zeros) and ``history[k]`` the
        values after iteration ``k``.
    deltas : array (iterations,)
        ``deltas[k - 1] = max_s |history[k] - history[k - 1]|``, the quantity that
        decides convergence for sweeps.
    policy_changes : int array (iterations,), policy iteration only
        Number of states whose action changed in the improvement step of each iteration
        (the last entry is 0: the policy is stable).
    evaluation_sweeps : int array (iterations,), policy iteration only
        Sweeps needed to evaluate each policy.
    policies : int array (iterations, S), policy iteration only
        The policy evaluated at each iteration.
    """

    V: np.ndarray
    Q: np.ndarray
    policy: np.ndarray
    iterations: int
    gamma: float
    method: str
    tol: float
    history: np.ndarray
    deltas: np.ndarray
    policy_changes: np.ndarray | None = None
    evaluation_sweeps: np.ndarray | None = None
    policies: np.ndarray | None = None

    def __repr__(self) -> str:
        final = f"{self.deltas[-1]:.2g}" if len(self.deltas) else "n/a"
        return (
            f"PlanningResult(method={self.method!r}, gamma={self.gamma:g}, iterations={self.iterations}, "
            f"states={len(self.V)}, last max|dV|={final})"
        )

    def to_frame(self):
        """One row per iteration: ``iteration``, ``max_delta`` and, for policy
        iteration, ``policy_changes`` and ``evaluation_sweeps`` (a pandas DataFrame)."""
        import pandas as pd

        columns: dict[str, Any] = {
            "iteration": np.arange(1, self.iterations + 1),
            "max_delta": self.deltas,
        }
        if self.policy_changes is not None:
            columns["policy_changes"] = self.policy_changes
            columns["evaluation_sweeps"] = self.evaluation_sweeps
        return pd.DataFrame(columns).set_index("iteration")


# --------------------------------------------------------------------- backups
def policy_matrix(mdp: MDP, policy: Any) -> np.ndarray:
    """The table ``pi[s, a]`` (shape ``(S, A)``) of a deterministic policy (int array ``(S,)``)
    or a stochastic one (``(S, A)``, rows summing to 1); raises ValueError naming ``policy``."""
    S, A = mdp.n_states, mdp.n_actions
    try:
        arr = np.asarray(policy)
    except (TypeError, ValueError):
        arr = np.asarray(policy, dtype=object)
    if arr.ndim == 1:
        return np.eye(A)[_deterministic_policy(mdp, arr, "policy")]
    if arr.shape != (S, A):
        raise ValueError(
            f"policy must be an int array of shape ({S},) or probabilities of shape ({S}, {A}); got shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.number) or not np.isfinite(arr).all():
        raise ValueError("policy probabilities must be finite numbers")
    arr = arr.astype(float)
    if (arr < 0).any():
        s, a = np.argwhere(arr < 0)[0]
        raise ValueError(f"policy probabilities must be non-negative; policy[{s}, {a}] = {arr[s, a]:g}")
    sums = arr.sum(axis=1)
    bad = np.abs(sums - 1) > _ROW_TOL
    if bad.any():
        s = int(np.flatnonzero(bad)[0])
        raise ValueError(f"policy rows must sum to 1; policy[{s}] sums to {sums[s]:.6g}")
    return arr


def q_values(mdp: MDP, V: np.ndarray, gamma: float) -> np.ndarray:
    r"""Action values :math:`Q(s, a) = R(s, a) + \gamma \sum_{s'} P(s'|s, a) V(s')`, shape ``(S, A)``.

    ``V[terminal]`` is treated as 0 whatever it holds, and rows of terminal states are 0.
    """
    _check_mdp(mdp)
    V = _check_values(mdp, V)
    gamma = check_number("gamma", gamma, low=0, high=1)
    return _q_values(mdp, V, gamma)


def _q_values(mdp: MDP, V: np.ndarray, gamma: float) -> np.ndarray:
    """:func:`q_values` without the argument checks (the sweeps call it thousands of times)."""
    V = np.where(mdp.terminal, 0.0, V)
    Q = mdp.R + gamma * mdp.P @ V
    Q[mdp.terminal] = 0.0
    return Q


def _check_values(mdp: MDP, V: Any) -> np.ndarray:
    """``V`` as a finite float array of shape ``(S,)``, or an error naming ``V``."""
    if isinstance(V, (str, bytes)) or np.iscomplexobj(V):
        raise TypeError(f"V must be an array of {mdp.n_states} real numbers (one per state); got {type(V).__name__}")
    try:
        arr = np.asarray(V, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"V must be an array of {mdp.n_states} numbers (one per state); got {type(V).__name__}"
        ) from None
    if arr.shape != (mdp.n_states,):
        raise ValueError(f"V must have shape ({mdp.n_states},), one value per state; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("V must contain only finite numbers")
    return arr


def bellman_expectation_backup(mdp: MDP, V: np.ndarray, policy: Any, gamma: float) -> np.ndarray:
    r"""One synchronous sweep of policy evaluation, shape ``(S,)``:
    :math:`V'(s) = \sum_a \pi(a|s) Q_V(s, a)` with :math:`Q_V` from :func:`q_values`."""
    _check_mdp(mdp)
    pi = policy_matrix(mdp, policy)
    return np.einsum("sa,sa->s", pi, q_values(mdp, V, gamma))


def bellman_optimality_backup(mdp: MDP, V: np.ndarray, gamma: float) -> np.ndarray:
    r"""One synchronous sweep of value iteration, shape ``(S,)``: :math:`V'(s) = \max_a Q_V(s, a)`."""
    return q_values(mdp, V, gamma).max(axis=1)


def greedy_policy(mdp: MDP, V: np.ndarray, gamma: float) -> np.ndarray:
    """The action maximising ``Q_V(s, a)`` in every state (lowest index on ties), int array ``(S,)``."""
    return q_values(mdp, V, gamma).argmax(axis=1)


# ------------------------------------------------------------------ algorithms
def policy_evaluation(
    mdp: MDP,
    policy: Any,
    gamma: float,
    tol: float = 1e-8,
    max_iterations: int = 10_000,
) -> PlanningResult:
    r"""Compute :math:`V^\pi` by repeating the Bellman expectation backup.

    .. math::  V_{k+1}(s) = \sum_a \pi(a|s) \Big[ R(s, a) + \gamma \sum_{s'} P(s'|s, a) V_k(s') \Big],
               \qquad V_0 = 0

    until :math:`\max_s |V_{k+1}(s) - V_k(s)| < \mathrm{tol}`. For :math:`\gamma < 1`
    the remaining error is then at most :math:`\mathrm{tol}\,\gamma / (1 - \gamma)`.

    Parameters
    ----------
    mdp : MDP
    policy : int array (S,) of actions, or float array (S, A) of probabilities (rows sum to 1)
    gamma : float in [0, 1]
    tol : float > 0
    max_iterations : int >= 1
        Raise :class:`ConvergenceError` if the values still change by ``tol`` or more
        after this many sweeps (with ``gamma=1``: the policy does not reach a terminal state).

    Returns
    -------
    PlanningResult whose ``policy`` is greedy with respect to :math:`V^\pi`
    (one step of policy improvement), not the evaluated policy.
    """
    _check_mdp(mdp)
    gamma, tol, max_iterations = _check_settings(gamma, tol, max_iterations)
    pi = policy_matrix(mdp, policy)
    history, deltas = _sweep_until_stable(
        lambda V: np.einsum("sa,sa->s", pi, _q_values(mdp, V, gamma)),
        np.zeros(mdp.n_states),
        tol,
        max_iterations,
        "policy_evaluation",
        gamma,
    )
    return _result(mdp, history, deltas, gamma, tol, "policy_evaluation")


def value_iteration(
    mdp: MDP,
    gamma: float,
    tol: float = 1e-8,
    max_iterations: int = 10_000,
) -> PlanningResult:
    r"""Compute :math:`V^*` and a greedy optimal policy by repeating the Bellman optimality backup.

    .. math::  V_{k+1}(s) = \max_a \Big[ R(s, a) + \gamma \sum_{s'} P(s'|s, a) V_k(s') \Big],
               \qquad V_0 = 0

    until :math:`\max_s |V_{k+1}(s) - V_k(s)| < \mathrm{tol}`; the returned ``policy``
    is :math:`\arg\max_a Q(s, a)` for the final values. See :func:`policy_evaluation`
    for the parameters; ``ConvergenceError`` after ``max_iterations`` sweeps.
    """
    _check_mdp(mdp)
    gamma, tol, max_iterations = _check_settings(gamma, tol, max_iterations)
    history, deltas = _sweep_until_stable(
        lambda V: _q_values(mdp, V, gamma).max(axis=1),
        np.zeros(mdp.n_states),
        tol,
        max_iterations,
        "value_iteration",
        gamma,
    )
    return _result(mdp, history, deltas, gamma, tol, "value_iteration")


def policy_iteration(
    mdp: MDP,
    gamma: float,
    initial_policy: Any = None,
    tol: float = 1e-8,
    max_iterations: int = 1_000,
    max_evaluation_sweeps: int = 10_000,
) -> PlanningResult:
    r"""Alternate policy evaluation and greedy improvement until the policy is stable.

    1. *Evaluate* :math:`\pi_k`: :math:`V_k = V^{\pi_k}` by Bellman expectation sweeps
       (warm-started from :math:`V_{k-1}`, which saves most sweeps).
    2. *Improve*: :math:`\pi_{k+1}(s) = \arg\max_a \big[ R(s, a) + \gamma \sum_{s'} P(s'|s, a) V_k(s') \big]`.

    By the policy improvement theorem :math:`V^{\pi_{k+1}} \ge V^{\pi_k}`; the loop stops
    when no state changes its action, and then :math:`V_k` satisfies the Bellman
    optimality equation. A state keeps its current action unless another one is
    better by more than the evaluation error, so exact ties cannot make it cycle.

    Parameters
    ----------
    mdp : MDP
    gamma : float in [0, 1]
    initial_policy : int array (S,), optional
        :math:`\pi_0`; default: action 0 everywhere. With ``gamma=1`` it must reach a
        terminal state, or its evaluation raises :class:`ConvergenceError`.
    tol : float > 0
        Tolerance of each policy evaluation (see :func:`policy_evaluation`).
    max_iterations : int
        Maximum number of evaluate-improve steps.
    max_evaluation_sweeps : int
        Maximum sweeps per policy evaluation.
    """
    _check_mdp(mdp)
    gamma, tol, max_iterations = _check_settings(gamma, tol, max_iterations)
    max_evaluation_sweeps = check_number("max_evaluation_sweeps", max_evaluation_sweeps, low=1, integer=True)
    if initial_policy is None:
        policy = np.zeros(mdp.n_states, dtype=int)
    else:
        policy = _deterministic_policy(mdp, initial_policy, "initial_policy")
    # An action counts as better only beyond the error of the evaluation (at most
    # tol * gamma / (1 - gamma) per value), so ties cannot make the policy cycle.
    margin = 2 * tol / (1 - gamma) if gamma < 1 else 2 * tol * mdp.n_states
    states = np.arange(mdp.n_states)

    V = np.zeros(mdp.n_states)
    history, deltas, changes, sweeps, policies = [V], [], [], [], []
    for _ in range(max_iterations):
        pi = np.eye(mdp.n_actions)[policy]
        evaluation, evaluation_deltas = _sweep_until_stable(
            lambda V, pi=pi: np.einsum("sa,sa->s", pi, _q_values(mdp, V, gamma)),
            V,
            tol,
            max_evaluation_sweeps,
            "policy_iteration (evaluating a policy)",
            gamma,
            hint="with gamma=1 every policy evaluated must reach a terminal state; "
            "give an initial_policy that does, or use gamma < 1",
        )
        V_new = evaluation[-1]
        Q = _q_values(mdp, V_new, gamma)
        best = Q.argmax(axis=1)
        improves = Q[states, best] > Q[states, policy] + margin
        new_policy = np.where(improves, best, policy)

        deltas.append(np.abs(V_new - V).max())
        history.append(V_new)
        sweeps.append(len(evaluation_deltas))
        policies.append(policy)
        changes.append(int(improves.sum()))
        V = V_new
        if not improves.any():
            result = _result(mdp, np.array(history), np.array(deltas), gamma, tol, "policy_iteration")
            result.policy = np.where(mdp.terminal, 0, policy)
            result.policy_changes = np.array(changes)
            result.evaluation_sweeps = np.array(sweeps)
            result.policies = np.array(policies)
            return result
        policy = new_policy
    raise ConvergenceError(
        f"policy_iteration: the policy still changed in {changes[-1]} state(s) after "
        f"max_iterations={max_iterations} evaluate-improve steps; raise max_iterations"
    )


# --------------------------------------------------------------------- helpers
def _sweep_until_stable(backup, V, tol, max_iterations, name, gamma, hint=None):
    """Apply ``backup`` until the largest change is below ``tol``; return all values and changes."""
    history, deltas = [V], []
    for _ in range(max_iterations):
        V_new = backup(V)
        deltas.append(np.abs(V_new - V).max())
        history.append(V_new)
        V = V_new
        if deltas[-1] < tol:
            return np.array(history), np.array(deltas)
    hint = hint or (
        "with gamma=1 the values diverge when a policy never reaches a terminal state; "
        "use gamma < 1 or a policy that ends episodes"
        if gamma == 1
        else "raise max_iterations or tol"
    )
    raise ConvergenceError(
        f"{name} did not converge: max |V_k+1 - V_k| = {deltas[-1]:.3g} is still >= tol={tol:g} "
        f"after max_iterations={max_iterations} sweeps ({hint})"
    )


def _result(mdp: MDP, history: np.ndarray, deltas: np.ndarray, gamma: float, tol: float, method: str) -> PlanningResult:
    V = np.where(mdp.terminal, 0.0, history[-1])
    Q = _q_values(mdp, V, gamma)
    return PlanningResult(
        V=V,
        Q=Q,
        policy=Q.argmax(axis=1),
        iterations=len(deltas),
        gamma=gamma,
        method=method,
        tol=tol,
        history=history,
        deltas=deltas,
    )


def _check_mdp(mdp: Any) -> None:
    if not isinstance(mdp, MDP):
        raise TypeError(f"mdp must be a drlkit.MDP (e.g. drlkit.envs.frozen_lake()); got {type(mdp).__name__}")


def _check_settings(gamma: Any, tol: Any, max_iterations: Any) -> tuple[float, float, int]:
    return (
        check_number("gamma", gamma, low=0, high=1),
        check_number("tol", tol, low=0, low_open=True),
        check_number("max_iterations", max_iterations, low=1, integer=True),
    )


def _deterministic_policy(mdp: MDP, policy: Any, name: str) -> np.ndarray:
    arr = np.asarray(policy)
    S, A = mdp.n_states, mdp.n_actions
    if arr.shape != (S,):
        raise ValueError(f"{name} must be an int array of shape ({S},) (one action per state); got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer actions; got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= A:
        s = int(np.flatnonzero((arr < 0) | (arr >= A))[0])
        raise ValueError(f"{name} actions must be in [0, {A - 1}]; {name}[{s}] = {arr[s]}")
    return arr.astype(int)


__all__ = [
    "ConvergenceError",
    "PlanningResult",
    "bellman_expectation_backup",
    "bellman_optimality_backup",
    "greedy_policy",
    "policy_matrix",
    "policy_evaluation",
    "policy_iteration",
    "q_values",
    "value_iteration",
]
