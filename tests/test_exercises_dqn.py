"""The DQN exercise checks accept right answers and name the mistake in wrong ones."""

import numpy as np
import pytest
import torch

from drlkit.agents.dqn import td_target as library_td_target
from drlkit.exercises.dqn import check_double_dqn_target, check_epsilon_schedule, check_td_target


def run(check, fn, capsys):
    ok = check(fn)
    return ok, capsys.readouterr().out


# ------------------------------------------------------------ TD target
def right_td_target(rewards, terminated, next_q, gamma):
    return rewards + gamma * (1 - terminated) * next_q.max(axis=1)


def test_td_target_right_answers_pass(capsys):
    ok, out = run(check_td_target, right_td_target, capsys)
    assert ok and out.startswith("Correct!")

    # the library's torch implementation is accepted too (tensors in, tensor out)
    def via_library(rewards, terminated, next_q, gamma):
        return library_td_target(torch.as_tensor(rewards), torch.as_tensor(terminated), torch.as_tensor(next_q), gamma)

    assert run(check_td_target, via_library, capsys)[0]


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda r, d, q, g: r + g * q.max(axis=1), "(1 - terminated)"),
        (lambda r, d, q, g: r + g * d * q.max(axis=1), "not by terminated"),
        (lambda r, d, q, g: r + (1 - d) * q.max(axis=1), "discount is missing"),
        (lambda r, d, q, g: g * (1 - d) * q.max(axis=1), "reward is missing"),
        (lambda r, d, q, g: r + g * (1 - d) * q.mean(axis=1), "averaged"),
        (lambda r, d, q, g: r + g * (1 - d) * q.argmax(axis=1), "argmax"),
        (lambda r, d, q, g: r + g * (1 - d) * q.max(axis=0), "raised ValueError"),  # wrong axis: shapes clash
        (lambda r, d, q, g: (r + g * (1 - d) * q.max(axis=1))[:, None], "shape (4,)"),
        (lambda r, d, q, g: r + g * (1 - d) * q.max(axis=1) + 0.1, "y[0] should be 3.250 but is 3.350"),
        (lambda r, d, q, g: None, "return"),
    ],
)
def test_td_target_mistakes_are_named(wrong, hint, capsys):
    ok, out = run(check_td_target, wrong, capsys)
    assert not ok and out.startswith("Not yet") and hint in out


def test_an_answer_fitted_to_the_first_batch_fails(capsys):
    first_answer = np.array([3.25, 0.0, 2.6, 2.0])
    ok, out = run(check_td_target, lambda r, d, q, g: first_answer if len(r) == 4 else r, capsys)
    assert not ok and "should be" in out  # the second, random batch catches it


def test_unimplemented_stub_and_non_function(capsys):
    def stub(rewards, terminated, next_q, gamma):
        raise NotImplementedError

    ok, out = run(check_td_target, stub, capsys)
    assert not ok and "NotImplementedError" in out
    ok, out = run(check_td_target, 3.0, capsys)
    assert not ok and "pass your function" in out


# ------------------------------------------------------- Double DQN target
def right_double(rewards, terminated, next_q_online, next_q_target, gamma):
    best = next_q_online.argmax(axis=1)
    return rewards + gamma * (1 - terminated) * next_q_target[np.arange(len(best)), best]


def test_double_dqn_right_answer_passes(capsys):
    ok, out = run(check_double_dqn_target, right_double, capsys)
    assert ok and out.startswith("Correct!")

    def via_library(r, d, qo, qt, g):
        t = torch.as_tensor
        return library_td_target(t(r), t(d), t(qt), g, next_q_online=t(qo))

    assert run(check_double_dqn_target, via_library, capsys)[0]


def _pick(q, actions):
    return q[np.arange(len(actions)), actions]


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda r, d, qo, qt, g: r + g * (1 - d) * qt.max(axis=1), "plain DQN target"),
        (lambda r, d, qo, qt, g: r + g * (1 - d) * _pick(qo, qt.argmax(axis=1)), "roles are swapped"),
        (lambda r, d, qo, qt, g: r + g * (1 - d) * qo.max(axis=1), "max of the online network"),
        (lambda r, d, qo, qt, g: r + g * _pick(qt, qo.argmax(axis=1)), "(1 - terminated)"),
        (lambda r, d, qo, qt, g: r + (1 - d) * _pick(qt, qo.argmax(axis=1)), "discount is missing"),
        (lambda r, d, qo, qt, g: r + g * (1 - d) * qt[:, qo.argmax(axis=1)], "shape (4,)"),
    ],
)
def test_double_dqn_mistakes_are_named(wrong, hint, capsys):
    ok, out = run(check_double_dqn_target, wrong, capsys)
    assert not ok and out.startswith("Not yet") and hint in out


# ------------------------------------------------------------ ε schedule
def right_epsilon(step, initial, final, decay_steps):
    return initial + min(step / decay_steps, 1.0) * (final - initial)


def test_epsilon_right_answer_passes(capsys):
    ok, out = run(check_epsilon_schedule, right_epsilon, capsys)
    assert ok and out.startswith("Correct!")


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda s, i, f, n: i + s / n * (f - i), "stay at final=0.1"),
        (lambda s, i, f, n: f + min(s / n, 1.0) * (i - f), "backwards"),
        (lambda s, i, f, n: f, "at step 0"),
        (lambda s, i, f, n: i + min(s / (2 * n), 1.0) * (f - i), "at step 250 ε should be 0.775"),
        (lambda s, i, f, n: [i, f], "one number"),
    ],
)
def test_epsilon_mistakes_are_named(wrong, hint, capsys):
    ok, out = run(check_epsilon_schedule, wrong, capsys)
    assert not ok and hint in out
