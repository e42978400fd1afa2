"""The populations-and-replay exercises: right answers pass, typical mistakes get a specific hint."""

import contextlib
import io

import numpy as np

from drlkit.exercises.populations import check_exploit_explore, check_importance_weights, check_sum_tree_find


def _said(check, fn):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ok = check(fn)
    return ok, out.getvalue()


def exploit_explore(params, lrs, scores, factor):
    weak, strong = np.argmin(scores), np.argmax(scores)
    params[weak] = params[strong]
    lrs[weak] = lrs[strong] * factor
    return params, lrs


def sum_tree_find(sums, u):
    node, leaves = 1, len(sums) // 2
    while node < leaves:
        left = 2 * node
        if u < sums[left]:
            node = left
        else:
            u -= sums[left]
            node = left + 1
    return node - leaves


def importance_weights(priorities, indices, alpha, beta):
    P = priorities**alpha / (priorities**alpha).sum()
    w = (len(priorities) * P) ** -beta
    return w[indices] / w.max()


def test_right_answers_pass():
    assert _said(check_exploit_explore, exploit_explore) == (True, _said(check_exploit_explore, exploit_explore)[1])
    for check, fn in (
        (check_exploit_explore, exploit_explore),
        (check_sum_tree_find, sum_tree_find),
        (check_importance_weights, importance_weights),
    ):
        ok, text = _said(check, fn)
        assert ok and text.startswith("Correct!"), text


def test_mistakes_get_specific_hints():
    def copies_the_wrong_way(params, lrs, scores, factor):
        weak, strong = np.argmin(scores), np.argmax(scores)
        params[strong] = params[weak]
        return params, lrs

    def forgets_to_explore(params, lrs, scores, factor):
        weak, strong = np.argmin(scores), np.argmax(scores)
        params[weak] = params[strong]
        lrs[weak] = lrs[strong]
        return params, lrs

    def node_index(sums, u):
        return sum_tree_find(sums, u) + len(sums) // 2

    def batch_max(priorities, indices, alpha, beta):
        P = priorities**alpha / (priorities**alpha).sum()
        w = (len(priorities) * P[indices]) ** -beta
        return w / w.max()

    def no_alpha(priorities, indices, alpha, beta):
        return importance_weights(priorities, indices, 1.0, beta)

    cases = [
        (check_exploit_explore, copies_the_wrong_way, "other way"),
        (check_exploit_explore, forgets_to_explore, "multiply it by factor"),
        (check_sum_tree_find, node_index, "minus L"),
        (check_importance_weights, batch_max, "not the batch"),
        (check_importance_weights, no_alpha, "raised to alpha"),
    ]
    for check, fn, hint in cases:
        ok, text = _said(check, fn)
        assert not ok and hint in text, text


def test_stubs_and_non_functions_are_answered():
    def stub(*args):
        raise NotImplementedError

    for check in (check_exploit_explore, check_sum_tree_find, check_importance_weights):
        ok, text = _said(check, stub)
        assert not ok and "NotImplementedError" in text
        ok, text = _said(check, None)
        assert not ok and "pass your function" in text
