r"""Exercises of the populations-and-replay notebook: PBT's exploit/explore step, sampling from a sum-tree,
and importance-sampling weights.

``check_exploit_explore(fn)``: ``fn(params (N, D), lrs (N,), scores (N,), factor) -> (params', lrs')``: the member
with the lowest score copies the parameters of the member with the highest score and takes that member's learning
rate times ``factor``; everyone else is unchanged (the inputs must not be modified).
``check_sum_tree_find(fn)``: ``fn(sums (2L,), u) -> leaf``: in a sum-tree stored as an array (root at index 1,
children of node i at 2i and 2i + 1, the L leaves at L .. 2L - 1), the leaf (0 .. L-1) whose cumulative range holds
``u`` (0 <= u < sums[1]): walk down, going left when u < sums[left], else subtracting sums[left] and going right.
``check_importance_weights(fn)``: ``fn(priorities (N,), indices (B,), alpha, beta) -> weights (B,)``:
:math:`P(i) = p_i^\alpha / \sum_k p_k^\alpha` and :math:`w = (N P(i))^{-\beta} / \max_j (N P(j))^{-\beta}`.
Answers are compared with :mod:`drlkit.agents.prioritized_replay`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..agents.prioritized_replay import SumTree, importance_weights, sampling_probabilities
from ._feedback import call_student, fail, student_check, succeed


def _reference_exploit(params: np.ndarray, lrs: np.ndarray, scores: np.ndarray, factor: float) -> tuple[Any, Any]:
    params, lrs = params.copy(), lrs.copy()
    weak, strong = int(np.argmin(scores)), int(np.argmax(scores))
    params[weak] = params[strong]
    lrs[weak] = lrs[strong] * factor
    return params, lrs


@student_check("exploit_explore")
def check_exploit_explore(exploit_explore: Callable[..., Any]) -> bool:
    rng = np.random.default_rng(0)
    params = rng.normal(size=(4, 3))
    lrs = np.array([1e-3, 3e-3, 5e-4, 2e-3])
    for score_list, factor in (([10.0, -5.0, 30.0, 0.0], 1.2), ([7.0, 8.0, 1.0, 9.0], 0.8)):
        scores = np.array(score_list)
        before = params.copy(), lrs.copy()
        try:
            out = exploit_explore(params.copy(), lrs.copy(), scores.copy(), factor)
        except NotImplementedError:
            return fail("exploit_explore still raises NotImplementedError: replace the stub's `raise` line.")
        except Exception as exc:
            return fail(f"exploit_explore raised {type(exc).__name__}: {exc}")
        if not isinstance(out, tuple) or len(out) != 2:
            return fail("return the pair (params, lrs).")
        new_params, new_lrs = np.asarray(out[0], dtype=float), np.asarray(out[1], dtype=float)
        if new_params.shape != params.shape or new_lrs.shape != lrs.shape:
            return fail(
                f"params must keep shape {params.shape} and lrs {lrs.shape}; got {new_params.shape}, {new_lrs.shape}."
            )
        expected_params, expected_lrs = _reference_exploit(*before, scores, factor)
        weak, strong = int(np.argmin(scores)), int(np.argmax(scores))
        if np.allclose(new_params[strong], params[weak]) and not np.allclose(new_params[weak], params[strong]):
            return fail("the copy goes the other way: the weakest member (lowest score) copies the strongest.")
        if not np.allclose(new_params, expected_params):
            return fail(
                f"with scores {scores.tolist()} member {weak} should take member {strong}'s parameters "
                "and every other member keep its own."
            )
        if np.isclose(new_lrs[weak], lrs[weak] * factor):
            return fail("explore perturbs the *copied* learning rate: the strong member's rate times factor.")
        if np.isclose(new_lrs[weak], lrs[strong]):
            return fail("after copying the learning rate, explore it: multiply it by factor.")
        if not np.allclose(new_lrs, expected_lrs):
            return fail(f"with scores {scores.tolist()} the learning rates should be {expected_lrs.tolist()}.")
    return succeed("the weakest member copies the strongest's parameters and a perturbed copy of its learning rate.")


@student_check("sum_tree_find")
def check_sum_tree_find(sum_tree_find: Callable[..., Any]) -> bool:
    priorities = np.array([3.0, 0.0, 1.0, 4.0, 0.5, 2.5, 1.0, 6.0])
    tree = SumTree(len(priorities))
    tree.update(np.arange(len(priorities)), priorities)
    cumulative = np.cumsum(priorities)
    for u in (0.0, 2.99, 3.0, 3.5, 4.0, 7.9, 10.2, 11.0, 17.9):
        out, problem = call_student(sum_tree_find, "sum_tree_find", tree.sums.copy(), u)
        if problem:
            return fail(problem)
        if out.shape != ():
            return fail(f"return one leaf index (an int); got an array of shape {out.shape}.")
        expected = int(tree.find([u])[0])
        got = int(out)
        if got == expected:
            continue
        if got == expected + len(priorities):
            return fail("return the leaf's position among the leaves (node index minus L), not its node index.")
        if got == int(np.searchsorted(cumulative, u, side="left")):
            return fail(f"u = {u} lies exactly on a boundary: go right when u >= sums[left] (subtracting it).")
        return fail(f"u = {u} falls in leaf {expected} (cumulative sums {cumulative.tolist()}); you returned {got}.")
    return succeed("a walk from the root finds the leaf in O(log N) steps.")


@student_check("importance_weights")
def check_importance_weights(weights_fn: Callable[..., Any]) -> bool:
    priorities = np.array([0.5, 2.0, 1.0, 4.0, 0.25])
    indices = np.array([1, 3, 3, 0, 2])  # not the least likely transition (4): its weight is the maximum
    for alpha, beta in ((0.6, 0.4), (1.0, 1.0), (0.0, 0.5)):
        out, problem = call_student(weights_fn, "importance_weights", priorities, indices, alpha, beta)
        if problem:
            return fail(problem)
        if out.shape != indices.shape:
            return fail(f"return one weight per sampled index, shape {indices.shape}; got {out.shape}.")
        P = sampling_probabilities(priorities, alpha)
        expected = importance_weights(P[indices], len(priorities), beta, P.min())
        if np.allclose(out, expected, rtol=1e-5):
            continue
        raw = (len(priorities) * P[indices]) ** -beta
        case = f"alpha={alpha}, beta={beta}"
        if np.allclose(out, raw, rtol=1e-5):
            return fail(f"{case}: normalise by the largest weight over the whole buffer, max_j (N P(j))^-beta.")
        if np.allclose(out, raw / raw.max(), rtol=1e-5):
            return fail(f"{case}: the maximum is over the whole buffer (the least likely transition), not the batch.")
        plain = priorities / priorities.sum()
        if np.allclose(out, ((len(priorities) * plain[indices]) ** -beta) / ((len(priorities) * plain.min()) ** -beta)):
            return fail(f"{case}: P(i) uses priorities raised to alpha: p^alpha / sum p^alpha.")
        return fail(f"{case}: expected {np.round(expected, 4).tolist()}, got {np.round(out, 4).tolist()}.")
    return succeed("w = (N P(i))^-beta / max_j (N P(j))^-beta: rarely sampled transitions weigh most, at most 1.")
