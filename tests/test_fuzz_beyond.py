"""Fuzz the entry points of notebook 11: mixing matrices, compression, env variants and the new train options.

Every call must end within its bound, returning or raising a documented exception that names the bad
argument. The train() calls are rejected before any cluster is contacted (the client address is closed).
"""

from __future__ import annotations

import numpy as np
from fuzz_tools import call_cleanly, fuzz_settings, junk
from hypothesis import given
from hypothesis import strategies as st

from drlkit.agents.a2c import A2C
from drlkit.distributed import train
from drlkit.distributed.compression import check_topk, compress
from drlkit.distributed.mixing import check_mixing_matrix, graph_adjacency, mixing_matrix
from drlkit.envs.variants import make_variant

AGENT = A2C("CartPole-v1", seed=0)
MATRICES = st.one_of(
    junk(),
    st.integers(1, 6).flatmap(
        lambda n: st.lists(st.lists(st.floats(-1, 2, allow_nan=True), min_size=n, max_size=n), min_size=n, max_size=n)
    ),
)


@fuzz_settings(15)
@given(weights=MATRICES, n=st.integers(1, 6))
def test_mixing_matrices_are_checked(weights, n):
    result, _ = call_cleanly(lambda: check_mixing_matrix(weights, n), ["mixing weights", "weights"])
    if result is not None:
        assert np.allclose(result.sum(axis=0), 1) and np.allclose(result.sum(axis=1), 1)


@fuzz_settings(15)
@given(
    graph=st.one_of(st.sampled_from(["ring", "torus", "complete", "random_regular", "star"]), junk()),
    n=st.integers(1, 20),
    degree=st.integers(0, 5),
)
def test_graphs_are_checked(graph, n, degree):
    call_cleanly(
        lambda: mixing_matrix(graph, n, degree=degree) if isinstance(graph, str) else mixing_matrix(graph, n),
        ["graph", "torus", "degree", "regular", "mixing weights", "n_workers"],
    )
    if isinstance(graph, str) and graph in ("ring", "complete"):
        assert graph_adjacency(graph, n).sum() == (
            0 if n == 1 else n * (n - 1) if graph == "complete" else 2 * n if n > 2 else n * (n - 1)
        )


@fuzz_settings(15)
@given(topk=st.one_of(st.floats(allow_nan=True), junk()), quantize=st.booleans())
def test_compression_options_are_checked(topk, quantize):
    checked, _ = call_cleanly(lambda: check_topk(topk), ["topk"])
    if checked is not None:
        compressed = compress({"w": np.arange(10, dtype=np.float32)}, checked, quantize)
        assert len(compressed.arrays["w"][1]) >= 1


@fuzz_settings(10)
@given(
    kwargs=st.dictionaries(
        st.sampled_from(["length", "gravity", "masspole", "bogus"]),
        st.one_of(st.floats(allow_nan=True), junk()),
        max_size=2,
    )
)
def test_env_variants_are_checked(kwargs):
    env, _ = call_cleanly(
        lambda: make_variant("CartPole-v1", **kwargs),
        ["env variant", "length", "gravity", "masspole", "bogus", "number"],
    )
    if env is not None:
        env.close()


OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "staleness_bound": st.one_of(st.integers(-3, 3), junk()),
        "prox_mu": st.one_of(st.floats(-1, 1), junk()),
        "topk": st.one_of(st.floats(-1, 2), junk()),
        "client_fraction": st.one_of(st.floats(-1, 2), junk()),
        "env_kwargs": st.one_of(
            junk(), st.lists(st.dictionaries(st.sampled_from(["length", "x"]), st.floats(0.1, 2)), max_size=3)
        ),
    },
)


@fuzz_settings(15)
@given(mode=st.sampled_from(["ssp", "federated", "gossip", "sync"]), options=OPTIONS)
def test_train_options_fail_before_the_cluster(mode, options):
    names = list(options) + ["env variant", "option", "client", "scheduler", "cluster", "worker", "n_workers"]
    call_cleanly(
        lambda: train(AGENT, mode, total_steps=40, client="tcp://127.0.0.1:1", worker_timeout=1, **options),
        names,
        extra=(OSError, RuntimeError),
    )
