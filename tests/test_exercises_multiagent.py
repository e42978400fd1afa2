"""The exercise checks of notebook 09 accept right answers and name the usual mistakes."""

import numpy as np

from drlkit.exercises import multiagent as ex


def test_is_nash_check(capsys):
    def right(A, B, x, y):
        return (A @ y).max() <= x @ A @ y + 1e-9 and (x @ B).max() <= x @ B @ y + 1e-9

    assert ex.check_is_nash(right)
    assert "Correct!" in capsys.readouterr().out
    assert not ex.check_is_nash(lambda A, B, x, y: (A @ y).max() <= x @ A @ y + 1e-9)
    assert "only the row player" in capsys.readouterr().out
    assert not ex.check_is_nash(lambda A, B, x, y: right(A, A, x, y))
    assert "judges the column player by A" in capsys.readouterr().out
    assert not ex.check_is_nash(lambda A, B, x, y: np.array([True, False]))
    assert "one True or False" in capsys.readouterr().out
    assert not ex.check_is_nash(lambda A, B, x, y: bool(x.max() == 1 and y.max() == 1 and right(A, B, x, y)))
    assert "mixed equilibri" in capsys.readouterr().out


def test_iql_update_check(capsys):
    def right(Q, actions, rewards, alpha):
        Q = Q.copy()
        for run in range(len(Q)):
            for p in (0, 1):
                a = actions[run, p]
                Q[run, p, a] += alpha * (rewards[run, p] - Q[run, p, a])
        return Q

    assert ex.check_iql_update(right)
    capsys.readouterr()
    assert not ex.check_iql_update(lambda Q, a, r, alpha: right(Q, a, r[:, ::-1], alpha))
    assert "its own reward" in capsys.readouterr().out
    assert not ex.check_iql_update(lambda Q, a, r, alpha: Q + alpha * (r[:, :, None] - Q))
    assert "only the action each player played" in capsys.readouterr().out
    assert not ex.check_iql_update(lambda Q, a, r, alpha: Q[:, 0])
    assert "shape" in capsys.readouterr().out


def test_critic_input_check(capsys):
    assert ex.check_critic_input(lambda s, k: np.concatenate([np.eye(k), np.tile(s, (k, 1))], axis=1))
    capsys.readouterr()
    assert not ex.check_critic_input(lambda s, k: np.concatenate([np.tile(s, (k, 1)), np.eye(k)], axis=1))
    assert "id first" in capsys.readouterr().out
    assert not ex.check_critic_input(lambda s, k: np.tile(s, (k, 1)))
    assert "one-hot id is missing" in capsys.readouterr().out
    assert not ex.check_critic_input(lambda s, k: np.concatenate([np.ones((k, k)), np.tile(s, (k, 1))], axis=1))
    assert "identity" in capsys.readouterr().out
