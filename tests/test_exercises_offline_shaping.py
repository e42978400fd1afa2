"""The exercise checks of notebooks 07 and 08 accept the reference and name the usual mistakes."""

import numpy as np
import torch

from drlkit.exercises import offline as ex7
from drlkit.exercises import shaping as ex8


def test_bc_loss_check(capsys):
    def right(logits, actions):
        log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        return -log_p[np.arange(len(actions)), actions].mean()

    assert ex7.check_bc_loss(right)
    assert not ex7.check_bc_loss(lambda z, a: -right(z, a))
    assert "minus sign" in capsys.readouterr().out
    assert not ex7.check_bc_loss(lambda z, a: -z[np.arange(len(a)), a].mean())
    assert "log-softmax" in capsys.readouterr().out
    assert not ex7.check_bc_loss(lambda z, a: (_ for _ in ()).throw(NotImplementedError))
    assert "NotImplementedError" in capsys.readouterr().out
    # A torch answer is accepted too.
    assert ex7.check_bc_loss(lambda z, a: torch.nn.functional.cross_entropy(torch.as_tensor(z), torch.as_tensor(a)))


def test_cql_regularizer_check(capsys):
    def right(q, a):
        return (np.log(np.exp(q).sum(1)) - q[np.arange(len(a)), a]).mean()

    assert ex7.check_cql_regularizer(right)
    assert not ex7.check_cql_regularizer(lambda q, a: (q.max(1) - q[np.arange(len(a)), a]).mean())
    assert "log-sum-exp" in capsys.readouterr().out
    assert not ex7.check_cql_regularizer(lambda q, a: np.log(np.exp(q).sum(1)).mean())
    assert "subtract" in capsys.readouterr().out


def test_shaping_reward_check(capsys):
    def right(R, phi, terminal, gamma):
        return R + gamma * np.where(terminal, 0.0, phi)[None, None, :] - phi[:, None, None]

    assert ex8.check_shaping_reward(right)
    assert not ex8.check_shaping_reward(lambda R, phi, t, g: R + g * phi[None, None, :] - phi[:, None, None])
    assert "terminal" in capsys.readouterr().out
    assert not ex8.check_shaping_reward(lambda R, phi, t, g: R)
    assert "should be" in capsys.readouterr().out


def test_feedback_policy_check(capsys):
    def right(delta, C):
        p = C**delta / (C**delta + (1 - C) ** delta)
        return p / p.sum(1, keepdims=True)

    assert ex8.check_feedback_policy(right)
    assert not ex8.check_feedback_policy(lambda d, C: C**d / (C**d + (1 - C) ** d))
    assert "normalise" in capsys.readouterr().out
    assert not ex8.check_feedback_policy(lambda d, C: right(-d, C))
    assert "positive" in capsys.readouterr().out
