"""Fuzz the populations and replay entry points: prioritised replay's priorities and exponents, PBT's explore
and exploit steps, the search space, and the pipeline's cost model. Bad input gets an error naming it; good
input gives results inside their stated bounds."""

from __future__ import annotations

import math

import numpy as np
from fuzz_tools import call_cleanly, fuzz_settings, junk, maybe_junk, numbers
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from drlkit.agents.prioritized_replay import PrioritizedReplayBuffer, SumTree, importance_weights
from drlkit.distributed.pipeline import step_time_model
from drlkit.population import LogUniform, Uniform, explore, select_parents
from drlkit.population.pbt import check_space

PRIORITY = st.one_of(st.floats(0, 10), st.sampled_from([-1.0, np.nan, np.inf, 0.0]))


@fuzz_settings(40)
@given(
    priorities=st.one_of(hnp.arrays(np.float64, st.sampled_from([(4,), (3,), (2, 2)]), elements=PRIORITY), junk()),
    alpha=maybe_junk(st.floats(0, 1)),
    beta=maybe_junk(st.floats(0, 1)),
)
def test_prioritised_buffer_names_bad_priorities_and_exponents(priorities, alpha, beta):
    def run():
        buffer = PrioritizedReplayBuffer(8, 1, alpha=alpha)
        obs = np.zeros((4, 1), dtype=np.float32)
        buffer.add(obs, np.zeros(4), np.zeros(4), obs, np.zeros(4), priorities=priorities)
        return buffer.sample_prioritized(16, np.random.default_rng(0), beta)

    out, error = call_cleanly(run, ["alpha", "beta", "priorities", "priority", "sample"], seconds=5)
    if error is None:
        _, indices, weights = out
        assert np.all((weights > 0) & (weights <= 1 + 1e-6)) and np.all((indices >= 0) & (indices < 4))


@fuzz_settings(40)
@given(values=hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(0, 100)), seed=st.integers(0, 100))
def test_sum_tree_draws_only_positive_leaves(values, seed):
    tree = SumTree(len(values))
    tree.update(np.arange(len(values)), values)
    if values.sum() <= 0:
        call_cleanly(lambda: tree.sample(8, np.random.default_rng(seed)), ["priority"], seconds=5)
        return
    drawn = tree.sample(64, np.random.default_rng(seed))
    assert np.all(values[drawn] > 0)
    assert math.isclose(tree.total, values.sum(), rel_tol=1e-9, abs_tol=1e-9)


@fuzz_settings(40)
@given(
    probabilities=st.one_of(st.lists(numbers(0, 1), max_size=5), junk()),
    n=maybe_junk(st.integers(1, 10)),
    beta=maybe_junk(st.floats(0, 1)),
)
def test_importance_weights_name_their_bad_argument(probabilities, n, beta):
    out, error = call_cleanly(
        lambda: importance_weights(probabilities, n, beta), ["probabilities", "n", "beta", "min_probability"], seconds=5
    )
    if error is None and len(out):
        assert np.all((out > 0) & (out <= 1 + 1e-6))


@fuzz_settings(40)
@given(
    factors=st.one_of(st.lists(numbers(-1, 3), max_size=3), junk()),
    resample=maybe_junk(st.floats(0, 1)),
    value=st.floats(1e-5, 1.0),
    seed=st.integers(0, 100),
)
def test_explore_stays_in_the_space(factors, resample, value, seed):
    space = {"learning_rate": LogUniform(1e-4, 1e-2), "ent_coef": Uniform(0.0, 0.05)}
    out, error = call_cleanly(
        lambda: explore(
            {"learning_rate": value, "ent_coef": value / 20}, space, np.random.default_rng(seed), factors, resample
        ),
        ["perturb_factors", "resample_probability"],
        seconds=5,
    )
    if error is None:
        assert all(space[k].low <= v <= space[k].high for k, v in out.items())


@fuzz_settings(40)
@given(
    scores=st.lists(st.one_of(st.floats(-10, 10), st.just(np.nan)), max_size=6),
    selection=maybe_junk(st.sampled_from(["truncation", "tournament"])),
    truncation=maybe_junk(st.floats(0.01, 0.5)),
)
def test_exploit_copies_only_from_higher_scores(scores, selection, truncation):
    out, error = call_cleanly(
        lambda: select_parents(scores, np.random.default_rng(0), selection, truncation),
        ["selection", "truncation", "exploit"],
        seconds=5,
    )
    if error is None:
        s = np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
        assert all(s[p] > s[m] and p != m for m, p in out.items())


@fuzz_settings(30)
@given(
    space=st.one_of(
        st.dictionaries(
            st.sampled_from(["learning_rate", "ent_coef"]),
            st.one_of(st.tuples(numbers(), numbers()), junk()),
            max_size=2,
        ),
        junk(),
    )
)
def test_search_spaces_are_checked(space):
    call_cleanly(lambda: check_space(space), ["space", "low", "high"], seconds=5)


@fuzz_settings(30)
@given(
    width=st.integers(1, 10_000),
    flops=st.floats(1e6, 1e12),
    bandwidth=st.floats(1e3, 1e11),
    latency=st.floats(0, 1.0),
    micro=st.integers(1, 16),
)
def test_split_costs_at_least_half_the_compute(width, flops, bandwidth, latency, micro):
    single, split = step_time_model(
        [width], 4, 64, flops=flops, bandwidth=bandwidth, latency=latency, micro_batches=micro
    )
    assert split[0] >= single[0] / 2 and single[0] > 0
