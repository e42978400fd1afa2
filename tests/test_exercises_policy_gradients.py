"""The checks of notebook 04's exercises accept right answers and name the mistake in wrong ones."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from drlkit.exercises.policy_gradients import check_clipped_surrogate, check_gae, check_returns_to_go


def verdict(check, fn, capsys) -> tuple[bool, str]:
    ok = check(fn)
    return ok, capsys.readouterr().out


# ------------------------------------------------------------ returns-to-go
def returns_to_go(rewards, gamma):
    # Independent of the checker's loop: G = T^{-1} r with the upper-triangular discount matrix.
    T = len(rewards)
    k, t = np.meshgrid(np.arange(T), np.arange(T))
    weights = np.where(k >= t, gamma ** np.clip(k - t, 0, None), 0.0)
    return weights @ rewards


def test_returns_to_go_right_answers_pass(capsys):
    ok, out = verdict(check_returns_to_go, returns_to_go, capsys)
    assert ok and out.startswith("Correct!")

    def with_torch(rewards, gamma):  # a tensor result is fine too
        return torch.as_tensor(returns_to_go(rewards, gamma))

    assert check_returns_to_go(with_torch)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda r, g: np.cumsum(r[::-1])[::-1], "forget the discount"),
        (lambda r, g: np.full(len(r), returns_to_go(r, g)[0]), "G_0"),
        (lambda r, g: np.array([sum(g ** (t - k) * r[k] for k in range(t + 1)) for t in range(len(r))]), "before"),
        (lambda r, g: np.append(returns_to_go(r, g)[1:], 0.0), "includes the reward r_t"),
        (
            lambda r, g: np.array([sum(g**k * r[k] for k in range(t, len(r))) for t in range(len(r))]),
            r"gamma\*\*\(k - t\)",
        ),
        (lambda r, g: returns_to_go(r, g)[::-1], "reverse order"),
        (lambda r, g: returns_to_go(r, g).sum(), "single number"),
        (lambda r, g: returns_to_go(r, g)[:-1], r"shape \(\d,\); expected"),
        (lambda r, g: returns_to_go(r, g) + 0.1, r"G\[\d\] should be"),
    ],
)
def test_returns_to_go_mistakes_are_named(wrong, hint, capsys):
    ok, out = verdict(check_returns_to_go, wrong, capsys)
    assert not ok
    assert out.startswith("Not yet:")
    assert re.search(hint, out), out


def test_stub_and_crash_are_reported(capsys):
    def stub(rewards, gamma):
        raise NotImplementedError

    def crashes(rewards, gamma):
        return rewards[len(rewards)]

    ok, out = verdict(check_returns_to_go, stub, capsys)
    assert not ok and "NotImplementedError" in out
    ok, out = verdict(check_returns_to_go, crashes, capsys)
    assert not ok and "raised IndexError" in out
    ok, out = verdict(check_returns_to_go, "not a function", capsys)
    assert not ok and "pass your function" in out
    ok, out = verdict(check_gae, lambda *args: None, capsys)
    assert not ok and "forget the `return`" in out


def test_student_cannot_change_the_checker_inputs(capsys):
    def mutates(rewards, gamma):
        result = returns_to_go(rewards, gamma)
        rewards[:] = 0.0  # must not corrupt the reference answer
        return result

    assert check_returns_to_go(mutates)


# ---------------------------------------------------------------------- GAE
def gae(rewards, values, dones, gamma, lam):
    # Independent route: A_t = sum_l (gamma*lam)^l delta_{t+l}, summed until the episode ends.
    T = len(rewards)
    alive = 1.0 - np.asarray(dones, dtype=float)
    deltas = rewards + gamma * alive * values[1:] - values[:-1]
    advantages = np.zeros(T)
    for t in range(T):
        weight = 1.0
        for u in range(t, T):
            advantages[t] += weight * deltas[u]
            if alive[u] == 0.0:
                break
            weight *= gamma * lam
    return advantages


def test_gae_right_answer_passes(capsys):
    ok, out = verdict(check_gae, gae, capsys)
    assert ok and out.startswith("Correct!")


def _gae_variant(mask_delta=True, mask_trace=True, trace=None, post=None):
    def fn(rewards, values, dones, gamma, lam):
        running, out = 0.0, np.zeros(len(rewards))
        decay = gamma * lam if trace is None else trace(gamma, lam)
        for t in reversed(range(len(rewards))):
            alive = 1.0 - dones[t]
            delta = rewards[t] + gamma * values[t + 1] * (alive if mask_delta else 1.0) - values[t]
            running = delta + decay * (alive if mask_trace else 1.0) * running
            out[t] = running
        return out if post is None else post(out, values)

    return fn


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_gae_variant(mask_delta=False, mask_trace=False), "belongs to the next episode"),
        (_gae_variant(mask_delta=False), r"do not add gamma \* V"),
        (_gae_variant(mask_trace=False), "across the episode boundary"),
        (_gae_variant(trace=lambda g, l: g), "gamma alone"),
        (_gae_variant(trace=lambda g, l: l), "lam alone"),
        (_gae_variant(post=lambda a, v: a + v[:-1]), "lambda-returns"),
        (_gae_variant(post=lambda a, v: -a), "sign is flipped"),
        (_gae_variant(trace=lambda g, l: 0.0), "one-step TD errors"),
        (_gae_variant(post=lambda a, v: np.append(a, 0.0)), r"shape \(\d,\); expected"),
    ],
)
def test_gae_mistakes_are_named(wrong, hint, capsys):

    ok, out = verdict(check_gae, wrong, capsys)
    assert not ok and out.startswith("Not yet:")
    assert re.search(hint, out), out


# -------------------------------------------------------- clipped surrogate
def clipped_surrogate(ratio, advantage, clip_range):
    # Case analysis instead of min/clip: with A >= 0 the ratio is capped at 1 + eps, with A < 0 floored at 1 - eps.
    capped = np.where(advantage >= 0, np.minimum(ratio, 1 + clip_range), np.maximum(ratio, 1 - clip_range))
    return capped * advantage


def test_clipped_surrogate_right_answer_passes(capsys):
    ok, out = verdict(check_clipped_surrogate, clipped_surrogate, capsys)
    assert ok and out.startswith("Correct!")

    def with_torch(ratio, advantage, clip_range):
        r, a = torch.as_tensor(ratio), torch.as_tensor(advantage)
        return torch.min(r * a, r.clamp(1 - clip_range, 1 + clip_range) * a)

    assert check_clipped_surrogate(with_torch)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda r, a, e: -clipped_surrogate(r, a, e), "loss -L"),
        (lambda r, a, e: np.maximum(r * a, np.clip(r, 1 - e, 1 + e) * a), r"\*minimum\*"),
        (lambda r, a, e: r * a, "nothing is clipped"),
        (lambda r, a, e: np.clip(r, 1 - e, 1 + e) * a, "without the min"),
        (lambda r, a, e: np.minimum(r * a, np.clip(r, -e, e) * a), "around 1"),
        (lambda r, a, e: np.minimum(r * a, np.clip(r, 1 - e, 1 + e)), "forgot the advantage"),
        (lambda r, a, e: clipped_surrogate(r, a, e).mean(), "returned the mean"),
        (lambda r, a, e: clipped_surrogate(r, a, e) * 1.01, r"L\[\d\] should be"),
    ],
)
def test_clipped_surrogate_mistakes_are_named(wrong, hint, capsys):

    ok, out = verdict(check_clipped_surrogate, wrong, capsys)
    assert not ok and out.startswith("Not yet:")
    assert re.search(hint, out), out
