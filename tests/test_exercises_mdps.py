"""Exercise checks of notebook 01: right answers pass, typical wrong answers get a specific message."""

import re

import numpy as np
import pytest

from drlkit.exercises.mdps import check_greedy_policy, check_policy_evaluation_sweep


def sweep(mdp, V, policy, gamma):
    states = np.arange(mdp.n_states)
    V_new = mdp.R[states, policy] + gamma * mdp.P[states, policy] @ V
    V_new[mdp.terminal] = 0.0
    return V_new


def sweep_without_discount(mdp, V, policy, gamma):
    return sweep(mdp, V, policy, 1.0)


def sweep_ignoring_terminal(mdp, V, policy, gamma):
    states = np.arange(mdp.n_states)
    return mdp.R[states, policy] + gamma * mdp.P[states, policy] @ V


def sweep_in_place(mdp, V, policy, gamma):
    V = V.copy()
    for s in range(mdp.n_states):
        V[s] = 0.0 if mdp.terminal[s] else mdp.R[s, policy[s]] + gamma * mdp.P[s, policy[s]] @ V
    return V


def stub(*args):
    raise NotImplementedError


def test_right_sweep_passes(capsys):
    assert check_policy_evaluation_sweep(sweep) is True
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (sweep_without_discount, r"V_new\[\d+\] should be .* but is .*Hint: did you forget the discount gamma\?"),
        (sweep_ignoring_terminal, r"V_new\[2\] should be 0.0 \(terminal: the episode is over\) but is"),
        (sweep_in_place, r"Hint: did you update V in place\?"),
        (lambda mdp, V, policy, gamma: mdp.R + gamma * mdp.P @ V, r"shape \(16,\).*looks like Q\(s, a\)"),
        (lambda mdp, V, policy, gamma: None, "returned None"),
        (stub, "NotImplementedError"),
    ],
)
def test_wrong_sweeps_are_explained(wrong, message, capsys):
    assert check_policy_evaluation_sweep(wrong) is False
    out = capsys.readouterr().out
    assert "Correct" not in out
    assert re.search(message, out), out


def greedy(mdp, V, gamma):
    return (mdp.R + gamma * mdp.P @ np.where(mdp.terminal, 0.0, V)).argmax(axis=1)


def test_right_greedy_policy_passes_even_with_other_tie_breaking(capsys):
    assert check_greedy_policy(greedy) is True

    def last_best(mdp, V, gamma):  # ties broken towards the highest action index
        Q = mdp.R + gamma * mdp.P @ V
        return mdp.n_actions - 1 - Q[:, ::-1].argmax(axis=1)

    assert check_greedy_policy(last_best) is True
    assert capsys.readouterr().out.count("Correct") == 2


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda mdp, V, gamma: (mdp.R + gamma * mdp.P @ V).argmin(axis=1),
            r"picks action \d \(\w+\) in state \d+ but that has Q=.* < best Q=.* \(action \d, \w+\)",
        ),
        (lambda mdp, V, gamma: mdp.R.argmax(axis=1), "maximises R\\[s, a\\] only"),
        (lambda mdp, V, gamma: mdp.R + gamma * mdp.P @ V, r"shape \(16,\).*argmax"),
        (lambda mdp, V, gamma: greedy(mdp, V, gamma).astype(float), "integer actions"),
        (lambda mdp, V, gamma: greedy(mdp, V, gamma) + 1, r"actions must be in 0..3"),
    ],
)
def test_wrong_greedy_policies_are_explained(wrong, message, capsys):
    assert check_greedy_policy(wrong) is False
    out = capsys.readouterr().out
    assert re.search(message, out), out


def test_student_code_that_mutates_its_input_is_caught(capsys):
    def mutating(mdp, V, policy, gamma):
        V[:] = sweep(mdp, V, policy, gamma)
        return V

    assert check_policy_evaluation_sweep(mutating) is False
    assert "changed its input array in place" in capsys.readouterr().out
