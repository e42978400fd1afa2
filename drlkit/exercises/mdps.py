"""Checks for the exercises of notebook 01 (MDPs and dynamic programming).

Each check runs the student's function on a few small MDPs, compares it with
:mod:`drlkit.planning`, prints what is wrong in the first place it differs
(with a hint when the answer matches a common mistake) or a success message,
and returns True/False.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..envs.gridworld import cliff_walking, frozen_lake, gridworld
from ..envs.mdp import MDP
from ..planning import bellman_expectation_backup, bellman_optimality_backup, q_values, value_iteration
from ._feedback import student_check

_TOL = 1e-6


@student_check("sweep")
def check_policy_evaluation_sweep(sweep: Callable[[MDP, np.ndarray, np.ndarray, float], Any]) -> bool:
    r"""Check ``sweep(mdp, V, policy, gamma) -> V_new``, one synchronous Bellman expectation backup.

    Expected: ``V_new[s] = R[s, a] + gamma * sum_s' P[s, a, s'] * V[s']`` with ``a = policy[s]``
    for non-terminal ``s``, and ``V_new[s] = 0`` for terminal ``s``. ``V`` has shape ``(S,)``
    (0 in terminal states), ``policy`` is an int array ``(S,)``.
    """
    for name, mdp, gamma in _cases():
        rng = np.random.default_rng(mdp.n_states)
        V = rng.uniform(-1, 1, mdp.n_states) * ~mdp.terminal
        policy = rng.integers(0, mdp.n_actions, mdp.n_states)
        expected = bellman_expectation_backup(mdp, V, policy, gamma)
        expected[mdp.terminal] = 0.0
        answer = _call(sweep, name, mdp, V, policy, gamma)
        if answer is None:
            return False
        if not _is_values(answer, mdp, name, "V_new"):
            return False
        optimality_backup = bellman_optimality_backup(mdp, V, gamma)
        mistakes = {
            "did you forget the discount gamma?": bellman_expectation_backup(mdp, V, policy, 1.0),
            "this is the optimality backup (max over actions); follow the policy's action instead.": optimality_backup,
            "did you update V in place? A synchronous sweep computes every V_new[s] from the old V.": _in_place_sweep(
                mdp, V, policy, gamma
            ),
            "did you leave out the value of the next state (only R[s, a])?": mdp.R[np.arange(mdp.n_states), policy],
        }
        if not _compare(answer, expected, mdp, name, "V_new", mistakes):
            return False
    print("Correct! Your sweep matches drlkit.planning on every test MDP.")
    return True


@student_check("greedy")
def check_greedy_policy(greedy: Callable[[MDP, np.ndarray, float], Any]) -> bool:
    r"""Check ``greedy(mdp, V, gamma) -> policy``, the greedy policy of a value array.

    Expected: an int array ``(S,)`` with ``policy[s]`` an action maximising
    ``Q(s, a) = R[s, a] + gamma * sum_s' P[s, a, s'] V[s']`` (any action in terminal states).
    """
    for name, mdp, gamma in _cases():
        rng = np.random.default_rng(mdp.n_states + 1)
        for V in (value_iteration(mdp, gamma, tol=1e-10).V, rng.uniform(-1, 1, mdp.n_states) * ~mdp.terminal):
            answer = _call(greedy, name, mdp, V, gamma)
            if answer is None:
                return False
            answer = np.asarray(answer)
            S, A = mdp.n_states, mdp.n_actions
            if answer.shape != (S,):
                hint = " (one action per state, e.g. Q.argmax(axis=1))" if answer.shape == (S, A) else ""
                print(f"On {name}: the policy should have shape ({S},){hint}, but has shape {answer.shape}.")
                return False
            if not np.issubdtype(answer.dtype, np.integer):
                print(f"On {name}: the policy should hold integer actions, but has dtype {answer.dtype}.")
                return False
            if answer.min() < 0 or answer.max() >= A:
                s = int(np.flatnonzero((answer < 0) | (answer >= A))[0])
                print(f"On {name}: actions must be in 0..{A - 1}, but policy[{s}] = {answer[s]}.")
                return False
            Q = q_values(mdp, V, gamma)
            best = Q.max(axis=1)
            chosen = Q[np.arange(S), answer]
            wrong = np.flatnonzero((chosen < best - _TOL) & ~mdp.terminal)
            if wrong.size:
                s = int(wrong[0])
                a, b = int(answer[s]), int(Q[s].argmax())
                hint = ""
                if np.array_equal(answer[~mdp.terminal], mdp.R.argmax(axis=1)[~mdp.terminal]):
                    hint = " Your policy maximises R[s, a] only: add gamma * sum_s' P[s, a, s'] V[s']."
                print(
                    f"On {name}: your policy picks action {a} ({_action(mdp, a)}) in state {s} but that has "
                    f"Q={chosen[s]:.4g} < best Q={best[s]:.4g} (action {b}, {_action(mdp, b)}).{hint}"
                )
                return False
    print("Correct! Your policy is greedy with respect to V on every test MDP.")
    return True


# ------------------------------------------------------------------- helpers
def _cases() -> list[tuple[str, MDP, float]]:
    return [
        ("FrozenLake 4x4 (slip 2/3, gamma 0.9)", frozen_lake("4x4"), 0.9),
        ("Cliff Walking (gamma 0.8)", cliff_walking(), 0.8),
        (
            "a gridworld with walls (slip 0.2, gamma 0.95)",
            gridworld(["S.#.", "..#G", "H..."], slip=0.2, step_reward=-0.1),
            0.95,
        ),
        ("a 3-state MDP whose terminal state has outgoing rewards (gamma 0.5)", _chain_with_rewarding_terminal(), 0.5),
    ]


def _chain_with_rewarding_terminal() -> MDP:
    """s0 -> s1 -> s2 (terminal); the rows of s2 pay rewards that must never be collected."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 0] = P[0, 1, 1] = P[1, 0, 0] = P[1, 1, 2] = 1.0
    P[2, :, 0] = 1.0
    R = np.array([[1.0, 0.0], [0.0, 10.0], [5.0, 5.0]])
    return MDP(P=P, R=R, terminal=[2], start=0)


def _call(fn: Callable, name: str, mdp: MDP, *args: Any) -> Any:
    copies = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    try:
        answer = fn(mdp, *copies)
    except NotImplementedError:
        print("Your function still raises NotImplementedError: replace the stub with your code.")
        return None
    except Exception as error:  # the student's code: report any failure plainly
        print(f"On {name}: your function raised {type(error).__name__}: {error}")
        return None
    if answer is None:
        print("Your function returned None: did you forget the return statement?")
        return None
    for original, copy in zip(args, copies):
        if isinstance(original, np.ndarray) and not np.array_equal(original, copy):
            print(f"On {name}: your function changed its input array in place; compute a new array instead.")
            return None
    return answer


def _is_values(answer: Any, mdp: MDP, name: str, label: str) -> bool:
    answer = np.asarray(answer)
    S = mdp.n_states
    if answer.shape != (S,):
        hint = ""
        if answer.shape == (S, mdp.n_actions):
            hint = " (that looks like Q(s, a): pick the policy's action in each state)"
        print(f"On {name}: {label} should have shape ({S},), one value per state, but has shape {answer.shape}{hint}.")
        return False
    if not np.issubdtype(answer.dtype, np.number) or not np.isfinite(answer).all():
        print(f"On {name}: {label} should contain finite numbers.")
        return False
    return True


def _compare(answer: Any, expected: np.ndarray, mdp: MDP, name: str, label: str, mistakes: dict) -> bool:
    answer = np.asarray(answer, dtype=float)
    bad_terminal = np.flatnonzero(mdp.terminal & (np.abs(answer) > _TOL))
    if bad_terminal.size:
        s = int(bad_terminal[0])
        print(f"On {name}: {label}[{s}] should be 0.0 (terminal: the episode is over) but is {answer[s]:.4g}.")
        return False
    wrong = np.flatnonzero(np.abs(answer - expected) > _TOL)
    if not wrong.size:
        return True
    s = int(wrong[0])
    hint = next(
        (
            text
            for text, variant in mistakes.items()
            if np.allclose(np.where(mdp.terminal, 0.0, variant), answer, atol=_TOL)
        ),
        None,
    )
    print(
        f"On {name}: {label}[{s}] should be {expected[s]:.4g} but is {answer[s]:.4g} "
        f"({wrong.size} of {mdp.n_states} states differ)." + (f" Hint: {hint}" if hint else "")
    )
    return False


def _in_place_sweep(mdp: MDP, V: np.ndarray, policy: np.ndarray, gamma: float) -> np.ndarray:
    V = V.copy()
    for s in range(mdp.n_states):
        if not mdp.terminal[s]:
            a = policy[s]
            V[s] = mdp.R[s, a] + gamma * mdp.P[s, a] @ V
    return V


def _action(mdp: MDP, a: int) -> str:
    return mdp.action_names[a] if mdp.action_names is not None else f"action {a}"


__all__ = ["check_greedy_policy", "check_policy_evaluation_sweep"]
