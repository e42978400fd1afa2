"""The checks of notebook 11's exercises accept right answers and name the mistake in wrong ones."""

import numpy as np
import pytest

from drlkit.exercises.beyond import check_gossip_step, check_metropolis, check_ssp_admission


def verdict(check, fn, capsys):
    ok = check(fn)
    return ok, capsys.readouterr().out


def metropolis_loops(adjacency):
    a = np.asarray(adjacency)
    d = a.sum(axis=1)
    w = np.zeros(a.shape)
    for i in range(len(a)):
        for j in range(len(a)):
            if a[i, j]:
                w[i, j] = 1 / (1 + max(d[i], d[j]))
        w[i, i] = 1 - w[i].sum()
    return w


def metropolis_own_degree(adjacency):  # 1 / (1 + d_i): rows sum to 1, columns do not
    a = np.asarray(adjacency)
    d = a.sum(axis=1)
    w = np.where(a > 0, 1 / (1 + d[:, None]), 0.0)
    return w + np.diag(1 - w.sum(axis=1))


def test_metropolis(capsys):
    assert verdict(check_metropolis, metropolis_loops, capsys)[0]
    ok, out = verdict(check_metropolis, lambda a: np.asarray(a) / 3, capsys)
    assert not ok and "diagonal" in out
    ok, out = verdict(check_metropolis, metropolis_own_degree, capsys)
    assert not ok and "max(d_i, d_j)" in out


def test_gossip_step(capsys):
    assert verdict(check_gossip_step, lambda x, w: w @ x, capsys)[0]
    ok, out = verdict(check_gossip_step, lambda x, w: np.broadcast_to(x.mean(axis=0), x.shape), capsys)
    assert not ok and "neighbours" in out
    ok, out = verdict(check_gossip_step, lambda x, w: x, capsys)
    assert not ok and "nothing changed" in out


@pytest.mark.parametrize(
    "fn, ok_expected, hint",
    [
        (lambda c, i, s: c[i] <= min(c) + s, True, "Correct"),
        (lambda c, i, s: c[i] - min(c) <= s, True, "Correct"),
        (lambda c, i, s: c[i] < min(c) + s, False, "<="),
        (lambda c, i, s: c[i] <= max(c) + s, False, "min(clocks)"),
        (lambda c, i, s: 1, False, "True or False"),
    ],
)
def test_ssp_admission(fn, ok_expected, hint, capsys):
    ok, out = verdict(check_ssp_admission, fn, capsys)
    assert ok == ok_expected and hint in out
