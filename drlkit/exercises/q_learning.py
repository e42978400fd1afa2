"""Exercises of notebook 02 (Q-learning and SARSA) and their checks.

Each ``check_*`` function calls the student's function on small cases whose
answers are known, prints what is wrong -- naming the likely mistake when the
answer matches a common one -- or a success message, and returns ``True``
when everything is right.

1. :func:`check_epsilon_greedy` -- ``epsilon_greedy(q_values, epsilon, rng) -> int``
2. :func:`check_q_learning_target` -- ``q_learning_target(Q, reward, next_state, terminated, gamma) -> float``
3. :func:`check_sarsa_update` -- ``sarsa_update(Q, state, action, reward, next_state, next_action,
   terminated, alpha, gamma)`` changing ``Q`` in place
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._feedback import fail, student_check, succeed

_SAMPLES = 4000  # calls per statistical check: frequencies are then within about ±0.02


@student_check("epsilon_greedy")
def check_epsilon_greedy(epsilon_greedy: Callable[..., Any]) -> bool:
    """Check ``epsilon_greedy(q_values, epsilon, rng)`` statistically.

    The ε-greedy rule: with probability ε an action drawn uniformly from *all*
    actions, otherwise a greedy action, ties broken at random. So the greedy
    action of ``Q = [0, 1, 0, 0]`` is taken with probability ``1 - ε + ε/4``.
    """
    rng = np.random.default_rng(0)
    q = np.array([0.0, 1.0, 0.0, 0.0])

    # Greedy when epsilon = 0.
    actions = _sample(epsilon_greedy, q, 0.0, rng)
    if isinstance(actions, str):
        return fail(actions)
    if (actions != 1).any():
        return fail(
            f"with epsilon=0 and q_values={q.tolist()} the action must always be 1 (the greedy one), "
            f"but your function returned {sorted(set(actions.tolist()) - {1})} in "
            f"{np.mean(actions != 1):.0%} of the calls"
        )

    # Ties broken at random.
    tied = np.array([1.0, 0.0, 1.0, 0.0])
    actions = _sample(epsilon_greedy, tied, 0.0, rng)
    if isinstance(actions, str):
        return fail(actions)
    if np.isin(actions, [1, 3]).any():
        return fail(
            f"with epsilon=0 and q_values={tied.tolist()} only actions 0 and 2 are greedy, "
            "but your function also chose 1 or 3"
        )
    share_of_0 = np.mean(actions == 0)
    if share_of_0 in (0.0, 1.0):
        first = 0 if share_of_0 == 1.0 else 2
        return fail(
            f"with q_values={tied.tolist()} actions 0 and 2 are tied, but your function always chose {first}. "
            "Break ties at random (np.argmax always takes the first): "
            "rng.choice(np.flatnonzero(q_values == q_values.max()))"
        )
    if abs(share_of_0 - 0.5) > 0.05:
        return fail(
            f"tied actions 0 and 2 should each be chosen half of the time; action 0 was chosen "
            f"{share_of_0:.0%} of the time"
        )

    # Exploration: probability of the greedy action is 1 - eps + eps / A.
    for epsilon in (1.0, 0.4):
        actions = _sample(epsilon_greedy, q, epsilon, rng)
        if isinstance(actions, str):
            return fail(actions)
        greedy_share = np.mean(actions == 1)
        expected = 1 - epsilon + epsilon / len(q)
        if abs(greedy_share - expected) <= 0.03:
            continue
        message = (
            f"with epsilon={epsilon} and q_values={q.tolist()} the greedy action should be chosen "
            f"{expected:.0%} of the time (1 - epsilon + epsilon/{len(q)}), but it was chosen {greedy_share:.0%}."
        )
        if abs(greedy_share - (1 - epsilon)) <= 0.03:
            message += " When exploring, draw from all actions, the greedy one included."
        elif abs(greedy_share - epsilon) <= 0.03:
            message += " Did you swap the cases? Explore with probability epsilon, act greedily otherwise."
        return fail(message)
    return succeed("epsilon_greedy is right: greedy with probability 1 - ε + ε/A, ties broken at random.")


@student_check("q_learning_target")
def check_q_learning_target(q_learning_target: Callable[..., Any]) -> bool:
    """Check ``q_learning_target(Q, reward, next_state, terminated, gamma)``.

    The Q-learning target is ``reward + gamma * max(Q[next_state])``, or just
    ``reward`` when ``next_state`` is terminal.
    """
    Q = np.array([[0.0, 0.0, 0.0], [2.0, -1.0, 5.0], [1.0, 7.0, 2.0], [0.5, 0.5, 0.5]])
    reward, next_state, gamma = -1.0, 1, 0.9
    row = Q[next_state]
    right = reward + gamma * row.max()
    common_mistakes = {
        reward + row.max(): "the next value is not discounted: multiply it by gamma",
        gamma * row.max(): "the reward is missing: the target is reward + gamma * ...",
        reward + gamma * row.mean(): "Q-learning takes the max over the next actions, not their mean",
        reward + gamma * row.min(): "Q-learning takes the max over the next actions, not the min",
        reward + gamma * Q.max(): "use the row of the next state, Q[next_state].max(), not the max of the whole table",
        reward: "the next state is not terminal here (terminated=False): add gamma * Q[next_state].max()",
    }
    answer = _call(q_learning_target, Q.copy(), reward, next_state, False, gamma)
    if not isinstance(answer, float):
        return fail(_not_a_number(answer))
    case = f"Q[{next_state}] = {row.tolist()}, reward={reward}, gamma={gamma}, terminated=False"
    if not np.isclose(answer, right):
        return fail(
            f"for {case} the target should be {right:.3f}, your function returned {answer:.3f}"
            + _hint(answer, common_mistakes)
        )

    answer = _call(q_learning_target, Q.copy(), reward, next_state, True, gamma)
    if not isinstance(answer, float):
        return fail(_not_a_number(answer))
    terminal_mistakes = {
        right: "when terminated is True the next state is terminal and worth 0: the target is just the reward",
        0.0: "the reward still counts on the last step: the target is the reward",
    }
    if not np.isclose(answer, reward):
        return fail(
            f"for a terminal next state (terminated=True) and reward={reward} the target should be "
            f"{reward:.3f}, your function returned {answer:.3f}" + _hint(answer, terminal_mistakes)
        )
    return succeed("q_learning_target is right: r + γ max_a' Q(s', a'), and r alone at the end of an episode.")


@student_check("sarsa_update")
def check_sarsa_update(sarsa_update: Callable[..., Any]) -> bool:
    """Check ``sarsa_update(Q, state, action, reward, next_state, next_action, terminated, alpha, gamma)``.

    It must change only ``Q[state, action]``, in place, to
    ``Q[s, a] + alpha * (reward + gamma * Q[next_state, next_action] - Q[s, a])``
    (without the ``gamma * ...`` term when ``terminated``).
    """
    Q0 = np.array([[0.0, 0.0, 0.0], [2.0, -1.0, 5.0], [1.0, 7.0, 2.0], [0.5, 0.5, 0.5]])
    state, action, reward, next_state, next_action, alpha, gamma = 2, 1, -1.0, 1, 0, 0.5, 0.9
    old = Q0[state, action]
    target = reward + gamma * Q0[next_state, next_action]
    right = old + alpha * (target - old)
    common_mistakes = {
        old + alpha * (reward + gamma * Q0[next_state].max() - old): (
            "you used max(Q[next_state]) -- that is Q-learning. SARSA uses the action it will really take: "
            "Q[next_state, next_action]"
        ),
        target: "you replaced Q[state, action] by the target: move only a fraction alpha towards it",
        old + alpha * target: "the TD error is target - Q[state, action]: subtract the current estimate",
        old + alpha * (reward + Q0[next_state, next_action] - old): "the next value is not discounted by gamma",
        old - alpha * (target - old): "the sign is reversed: add alpha * (target - Q[state, action])",
        old + alpha * (gamma * Q0[next_state, next_action] - old): "the reward is missing from the target",
    }
    for terminated in (False, True):
        Q = Q0.copy()
        returned = _call(sarsa_update, Q, state, action, reward, next_state, next_action, terminated, alpha, gamma)
        if isinstance(returned, str):
            return fail(returned)
        if isinstance(returned, np.ndarray) and returned.shape == Q.shape and np.array_equal(Q, Q0):
            Q = returned  # accept a function that returns the new table instead of changing Q
        expected = right if not terminated else old + alpha * (reward - old)
        changed = np.argwhere(~np.isclose(Q, Q0))
        others = [tuple(int(i) for i in idx) for idx in changed if tuple(idx) != (state, action)]
        if others:
            i, j = others[0]
            return fail(f"only Q[state, action] = Q[{state}, {action}] should change, but Q[{i}, {j}] changed too")
        case = (
            f"state={state}, action={action}, reward={reward}, next_state={next_state}, "
            f"next_action={next_action}, terminated={terminated}, alpha={alpha}, gamma={gamma}"
        )
        got = Q[state, action]
        if np.isclose(got, old) and not np.isclose(expected, old):
            return fail(
                f"Q[{state}, {action}] did not change ({case}). Update the table in place: Q[state, action] += ..."
            )
        if not np.isclose(got, expected):
            mistakes = (
                common_mistakes
                if not terminated
                else {
                    right: "when terminated is True the next state is worth 0: the target is just the reward",
                }
            )
            return fail(
                f"for {case}, Q[{state}, {action}] should become {expected:.3f} but is {got:.3f}" + _hint(got, mistakes)
            )
    return succeed("sarsa_update is right: Q(s,a) += α [r + γ Q(s',a') − Q(s,a)], with Q(s',a') = 0 at the end.")


# ---------------------------------------------------------------- helpers
def _call(function: Callable[..., Any], *args: Any) -> Any:
    """The function's result, or a message (str) explaining why there is none."""
    try:
        result = function(*args)
    except NotImplementedError:
        return "your function is not implemented yet: replace `raise NotImplementedError` with your code"
    except Exception as exc:  # the student's code may raise anything; report it instead
        return f"your function raised {type(exc).__name__}: {exc}"
    if result is None or isinstance(result, np.ndarray) and result.ndim > 0:
        return result
    try:
        return float(result)
    except (TypeError, ValueError):
        return f"your function returned {result!r}; expected a number"


def _not_a_number(answer: Any) -> str:
    if isinstance(answer, str):
        return answer
    if answer is None:
        return "your function returned None: did you forget the `return`?"
    return f"your function returned an array of shape {answer.shape}; expected one number, the target"


def _sample(epsilon_greedy: Callable[..., Any], q: np.ndarray, epsilon: float, rng: np.random.Generator) -> Any:
    """``_SAMPLES`` actions as an int array, or a message (str) when a call goes wrong."""
    actions = np.empty(_SAMPLES, dtype=int)
    for i in range(_SAMPLES):
        action = _call(epsilon_greedy, q.copy(), epsilon, rng)
        if isinstance(action, str):
            return action
        if not isinstance(action, float) or not action.is_integer() or not 0 <= action < len(q):
            return f"your function returned {action!r}; expected an action index 0..{len(q) - 1}"
        actions[i] = int(action)
    return actions


def _hint(answer: float, mistakes: dict[float, str]) -> str:
    for value, explanation in mistakes.items():
        if np.isclose(answer, value):
            return f". Hint: {explanation}."
    return "."


__all__ = ["check_epsilon_greedy", "check_q_learning_target", "check_sarsa_update"]
