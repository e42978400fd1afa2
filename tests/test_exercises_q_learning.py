"""Exercise checks of notebook 02: right answers pass, typical wrong answers get a specific message."""

import re

import numpy as np
import pytest

from drlkit.exercises.q_learning import check_epsilon_greedy, check_q_learning_target, check_sarsa_update


def stub(*args):
    raise NotImplementedError


# ------------------------------------------------------------- ε-greedy
def epsilon_greedy(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(rng.choice(np.flatnonzero(q_values == q_values.max())))


def first_of_ties(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(np.argmax(q_values))


def explores_only_other_actions(q_values, epsilon, rng):
    greedy = int(rng.choice(np.flatnonzero(q_values == q_values.max())))
    if rng.random() < epsilon:
        return int(rng.choice([a for a in range(len(q_values)) if a != greedy]))
    return greedy


def swapped_cases(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.choice(np.flatnonzero(q_values == q_values.max())))
    return int(rng.integers(len(q_values)))


def never_explores(q_values, epsilon, rng):
    return epsilon_greedy(q_values, 0.0, rng)


def test_right_epsilon_greedy_passes(capsys):
    assert check_epsilon_greedy(epsilon_greedy) is True
    assert "Correct!" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, message",
    [
        (first_of_ties, "always chose 0. Break ties at random"),
        (explores_only_other_actions, "draw from all actions, the greedy one included"),
        (swapped_cases, r"must always be 1 \(the greedy one\)"),
        (never_explores, r"with epsilon=1.0 .* should be chosen 25% of the time"),
        (stub, "not implemented yet"),
        (lambda q, e, rng: 9, "returned 9.0; expected an action index 0..3"),
    ],
)
def test_wrong_epsilon_greedy_gets_a_specific_message(answer, message, capsys):
    assert check_epsilon_greedy(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:")
    assert re.search(message, out), out


# ------------------------------------------------------------- Q-learning target
def target(Q, reward, next_state, terminated, gamma):
    return reward if terminated else reward + gamma * Q[next_state].max()


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda Q, r, s2, t, g: r if t else r + Q[s2].max(), "not discounted"),
        (lambda Q, r, s2, t, g: r + g * Q[s2].max(), "terminated is True .* just the reward"),
        (lambda Q, r, s2, t, g: r if t else r + g * Q[s2].mean(), "max over the next actions, not their mean"),
        (lambda Q, r, s2, t, g: r if t else g * Q[s2].max(), "reward is missing"),
        (lambda Q, r, s2, t, g: r if t else r + g * Q.max(), "row of the next state"),
        (lambda Q, r, s2, t, g: 0.0 if t else r + g * Q[s2].max(), "reward still counts"),
        (lambda Q, r, s2, t, g: None, "forget the `return`"),
        (stub, "not implemented yet"),
    ],
)
def test_wrong_q_learning_target_gets_a_specific_message(answer, message, capsys):
    assert check_q_learning_target(answer) is False
    out = capsys.readouterr().out
    assert re.search(message, out), out


def test_right_q_learning_target_passes(capsys):
    assert check_q_learning_target(target) is True
    assert "Correct!" in capsys.readouterr().out


# ------------------------------------------------------------- SARSA update
def sarsa_update(Q, s, a, r, s2, a2, terminated, alpha, gamma):
    td_target = r if terminated else r + gamma * Q[s2, a2]
    Q[s, a] += alpha * (td_target - Q[s, a])


def returns_a_new_table(Q, s, a, r, s2, a2, terminated, alpha, gamma):
    Q = Q.copy()
    sarsa_update(Q, s, a, r, s2, a2, terminated, alpha, gamma)
    return Q


def q_learning_update(Q, s, a, r, s2, a2, terminated, alpha, gamma):
    td_target = r if terminated else r + gamma * Q[s2].max()
    Q[s, a] += alpha * (td_target - Q[s, a])


def updates_a_copy(Q, s, a, r, s2, a2, terminated, alpha, gamma):
    sarsa_update(Q.copy(), s, a, r, s2, a2, terminated, alpha, gamma)


def no_step_size(Q, s, a, r, s2, a2, terminated, alpha, gamma):
    Q[s, a] = r if terminated else r + gamma * Q[s2, a2]


def ignores_terminal(Q, s, a, r, s2, a2, terminated, alpha, gamma):
    Q[s, a] += alpha * (r + gamma * Q[s2, a2] - Q[s, a])


def updates_the_whole_row(Q, s, a, r, s2, a2, terminated, alpha, gamma):
    td_target = r if terminated else r + gamma * Q[s2, a2]
    Q[s] += alpha * (td_target - Q[s, a])


@pytest.mark.parametrize("answer", [sarsa_update, returns_a_new_table])
def test_right_sarsa_update_passes(answer, capsys):
    assert check_sarsa_update(answer) is True
    assert "Correct!" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, message",
    [
        (q_learning_update, "that is Q-learning"),
        (updates_a_copy, "did not change .* in place"),
        (no_step_size, "move only a fraction alpha"),
        (ignores_terminal, "terminated is True the next state is worth 0"),
        (updates_the_whole_row, r"only Q\[state, action\] = Q\[2, 1\] should change, but Q\[2, 0\] changed too"),
        (stub, "not implemented yet"),
    ],
)
def test_wrong_sarsa_update_gets_a_specific_message(answer, message, capsys):
    assert check_sarsa_update(answer) is False
    out = capsys.readouterr().out
    assert re.search(message, out), out
