r"""Exercises of notebook 09 (multi-agent RL) and their checks.

Each ``check_*`` function calls the student's function on cases whose answers the package
computes, prints what is wrong -- naming the likely mistake when the answer matches a
common one -- or a success message, and returns ``True`` when everything is right.

1. :func:`check_is_nash` -- ``is_nash_equilibrium(A, B, x, y) -> bool`` for payoff tables
   ``A, B (n, m)`` and mixed strategies ``x (n,)``, ``y (m,)``: neither player gains by
   deviating alone (compared with :func:`drlkit.multiagent.is_nash`).
2. :func:`check_iql_update` -- ``iql_update(Q, actions, rewards, alpha) -> Q'`` for
   ``Q (runs, 2, k)``, ``actions (runs, 2)``, ``rewards (runs, 2)``: one round of independent
   Q-learning (compared with :func:`drlkit.multiagent.iql_update`).
3. :func:`check_critic_input` -- ``critic_input(state, n_agents) -> (K, K + S)``: the rows
   MAPPO's centralised critic reads, ``[one-hot id, global state]`` (compared with
   :func:`drlkit.multiagent.ppo.critic_input`, the function MAPPO itself uses).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..envs.matrix_games import GAMES
from ..multiagent.equilibria import is_nash, nash_equilibria
from ..multiagent.matrix_learners import iql_update
from ..multiagent.ppo import critic_input
from ._feedback import call_student, fail, student_check, succeed


def _nash_cases() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(description, A, B, x, y): equilibria and non-equilibria where the usual mistakes differ."""
    pd, sh, co, mp = (GAMES[g] for g in ("prisoners_dilemma", "stag_hunt", "coordination", "matching_pennies"))
    e = np.eye(2)
    cases: list[tuple[str, Any, np.ndarray, np.ndarray]] = [
        ("prisoner's dilemma, both defect", pd, e[1], e[1]),
        ("prisoner's dilemma, both cooperate", pd, e[0], e[0]),
        # Only the column player gains by deviating here: a check of the row player alone says yes.
        ("prisoner's dilemma, row defects, column cooperates", pd, e[1], e[0]),
        ("stag hunt, both hunt hare", sh, e[1], e[1]),
        ("stag hunt, stag and hare", sh, e[0], e[1]),
        ("matching pennies, both heads", mp, e[0], e[0]),
    ]
    for name, game in (("stag hunt", sh), ("coordination", co), ("matching pennies", mp)):
        for eq in nash_equilibria(game):
            if not eq.is_pure:  # probabilities such as 1/3 are not exact floats: a tolerance is needed
                cases.append((f"{name}, its mixed equilibrium", game, *eq.as_arrays()))
    # A game where the column player's payoffs are not the row player's transposed (B != A^T):
    # (row 0, column 1) is an equilibrium for B but not if the column player were judged by A^T.
    A = np.array([[1.0, 2.0], [0.0, 3.0]])
    B = np.array([[0.0, 1.0], [2.0, 0.0]])
    cases.append(("an asymmetric game, (0, 1)", _Game(A, B), e[0], e[1]))
    cases.append(("an asymmetric game, (1, 1)", _Game(A, B), e[1], e[1]))
    return [(d, g.A, g.B, x, y) for d, g, x, y in cases]


class _Game:
    def __init__(self, A: np.ndarray, B: np.ndarray) -> None:
        self.A, self.B = A, B


def _row_only(A: np.ndarray, B: np.ndarray, x: np.ndarray, y: np.ndarray) -> bool:
    return bool((A @ y).max() <= x @ A @ y + 1e-9)


def _column_only(A: np.ndarray, B: np.ndarray, x: np.ndarray, y: np.ndarray) -> bool:
    return bool((x @ B).max() <= x @ B @ y + 1e-9)


def _column_by_a(A: np.ndarray, B: np.ndarray, x: np.ndarray, y: np.ndarray) -> bool:
    return _row_only(A, B, x, y) and bool((x @ A).max() <= x @ A @ y + 1e-9)


@student_check("is_nash_equilibrium")
def check_is_nash(is_nash_equilibrium: Callable[..., Any]) -> bool:
    """Check ``is_nash_equilibrium(A, B, x, y)`` on equilibria and non-equilibria of the classic games."""
    cases = _nash_cases()
    answers = []
    for _, A, B, x, y in cases:
        out, problem = call_student(is_nash_equilibrium, "is_nash_equilibrium", A, B, x, y)
        if problem:
            return fail(problem)
        if out.shape != ():
            return fail(
                f"is_nash_equilibrium must return one True or False; it returned shape {out.shape} "
                f"(use .all() or max() to reduce the comparisons to one answer)."
            )
        answers.append(bool(out))
    expected = [_is_nash(A, B, x, y) for _, A, B, x, y in cases]
    if answers == expected:
        return succeed(f"all {len(cases)} cases right: no player gains by switching to any single action.")
    for name, mistake in (
        (
            "checks only the row player: the column player must not gain by deviating either "
            "(compare x @ B with x @ B @ y)",
            _row_only,
        ),
        ("checks only the column player: the row player must not gain either (A @ y)", _column_only),
        ("judges the column player by A: its payoffs are B, so its deviations are x @ B", _column_by_a),
    ):
        if answers == [mistake(A, B, x, y) for _, A, B, x, y in cases] and answers != expected:
            return fail(f"your function {name}.")
    wrong = [(d, e) for (d, *_), a, e in zip(cases, answers, expected) if a != e]
    mixed = [d for d, _ in wrong if "mixed" in d]
    if mixed and len(mixed) == len(wrong) and all(e for _, e in wrong):
        return fail(
            f"the mixed equilibria ({mixed[0]}) are equilibria, but the payoffs are floats: 1/3 is not "
            f"exact, so compare with a small tolerance, e.g. best <= value + 1e-9."
        )
    description, answer = wrong[0]
    return fail(
        f"{description}: the answer is {answer}, your function says {not answer} "
        f"({len(wrong)} of {len(cases)} cases wrong)."
    )


def _is_nash(A: np.ndarray, B: np.ndarray, x: np.ndarray, y: np.ndarray) -> bool:
    from ..envs.matrix_games import MatrixGame

    n, m = A.shape
    return is_nash(MatrixGame("check", A, B, tuple(map(str, range(n))), tuple(map(str, range(m)))), x, y)


# Four runs of a 3-action game; the runs play different joint actions, including the same action for both.
_Q = np.array(
    [
        [[0.5, 1.0, -0.2], [0.0, 0.3, 0.8]],
        [[1.5, 0.0, 0.4], [2.0, -1.0, 0.1]],
        [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
        [[-0.5, 0.7, 0.9], [0.6, 0.2, -0.3]],
    ]
)
_ACTIONS = np.array([[0, 2], [1, 1], [2, 0], [1, 2]])
_REWARDS = np.array([[1.0, -1.0], [3.0, 0.0], [0.0, 2.0], [-2.0, 5.0]])
_ALPHA = 0.25


@student_check("iql_update")
def check_iql_update(student_update: Callable[..., Any]) -> bool:
    """Check ``iql_update(Q, actions, rewards, alpha)`` against :func:`drlkit.multiagent.iql_update`."""
    out, problem = call_student(student_update, "iql_update", _Q, _ACTIONS, _REWARDS, _ALPHA)
    if problem:
        return fail(problem)
    expected = iql_update(_Q, _ACTIONS, _REWARDS, _ALPHA)
    if out.shape != expected.shape:
        return fail(f"return the new Q with the shape of Q, (runs, 2, k) = {expected.shape}; got {out.shape}.")
    if np.allclose(out, expected):
        return succeed("each player moved only its own action's value, towards its own reward.")
    swapped = iql_update(_Q, _ACTIONS, _REWARDS[:, ::-1], _ALPHA)
    team = iql_update(_Q, _ACTIONS, np.repeat(_REWARDS.sum(1, keepdims=True), 2, axis=1), _ALPHA)
    all_actions = _Q + _ALPHA * (_REWARDS[:, :, None] - _Q)
    mistakes = {
        "each player must learn from its own reward: player 0 from rewards[:, 0], player 1 from rewards[:, 1]": swapped,
        "independent learners use their own rewards, not the team's sum": team,
        "update only the action each player played, Q[run, player, actions[run, player]], not all": all_actions,
        "the step is Q + alpha * (r - Q); the sign of (r - Q) is reversed": 2 * _Q - expected,
    }
    for message, wrong in mistakes.items():
        if np.allclose(out, wrong):
            return fail(message + ".")
    if np.allclose(out[:, 0], expected[:, 0]):
        return fail("player 0's values are right, player 1's are not: update both players.")
    run, player, action = np.unravel_index(np.argmax(np.abs(out - expected)), expected.shape)
    return fail(
        f"in run {run}, Q[player {player}, action {action}] should be {expected[run, player, action]:.3f}, "
        f"not {out[run, player, action]:.3f}."
    )


_STATE = np.array([0.25, 0.5, 1.0, 0.0, 0.75, 0.5])


@student_check("critic_input")
def check_critic_input(student_fn: Callable[..., Any]) -> bool:
    """Check ``critic_input(state, n_agents)`` against the rows MAPPO's critic reads."""
    K = 3
    out, problem = call_student(student_fn, "critic_input", _STATE, K)
    if problem:
        return fail(problem)
    expected = critic_input(_STATE, K)
    S = len(_STATE)
    if out.shape != expected.shape:
        hint = {
            (K, S): " -- the agent's one-hot id is missing in front of the state",
            (K + S,): " -- one row per agent",
            (S,): " -- one row per agent, each [one-hot id, state]",
        }
        return fail(
            f"for a state of {S} numbers and {K} agents return shape (K, K + S) = {expected.shape}; got "
            f"{out.shape}{hint.get(out.shape, '')}."
        )
    if np.allclose(out, expected):
        return succeed(
            "one row per agent, [one-hot id, global state]: the same state for every agent, and the id "
            "tells the shared critic whose value it predicts."
        )
    if np.allclose(out, np.concatenate([np.tile(_STATE, (K, 1)), np.eye(K)], axis=1)):
        return fail("put the one-hot id first, then the state (MAPPO reads [id, state]).")
    if np.allclose(out[:, K:], expected[:, K:]):
        return fail(f"the state part is right; the first {K} columns must be the identity: row k has a 1 in column k.")
    return fail(f"row 0 should be {np.round(expected[0], 2).tolist()}, not {np.round(out[0], 2).tolist()}.")
