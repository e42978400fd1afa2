"""Two-stage pipeline: the split model's gradients equal the unsplit model's, it trains, the
timing adds up, and the cost model's crossover behaves as its formula says."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from drlkit.distributed.engine import PinnedCall, Ref, run_pinned
from drlkit.distributed.pipeline import (
    TwoStagePipeline,
    build_mlp,
    cartpole_returns,
    crossover_width,
    split_model,
    step_time_model,
)

from agent_tools import one_thread  # noqa: F401  (autouse fixture)
from dask_processes import cluster_with_client


def test_split_model_composes_to_the_whole():
    model = build_mlp(4, 16, 4)
    first, second = split_model(model)
    x = torch.randn(8, 4)
    torch.testing.assert_close(second(first(x)), model(x))
    assert len(first) == 4 and len(second) == 5


def test_cartpole_returns_are_discounted_returns_to_go():
    x, y = cartpole_returns(300, gamma=0.5)
    assert x.shape == (300, 4) and y.shape == (300, 1)
    # With gamma 1/2 every return is in [1, 2] (2 after float32 rounding); an episode's last state has 1.
    assert np.all((y >= 1) & (y <= 2)) and np.any(y == 1.0)


def test_cost_model_crossover():
    kwargs = dict(flops=1e10, bandwidth=1e9, latency=1e-3)
    single, split = step_time_model([8, 100_000], 4, 256, **kwargs)
    assert split[0] > single[0] and split[1] < single[1]
    width = crossover_width(4, 256, **kwargs)
    assert 8 < width < 100_000
    s, p = step_time_model([width - 1, width], 4, 256, **kwargs)
    assert p[0] >= s[0] and p[1] < s[1]
    # Less latency moves the crossover down, more moves it up; an impossible link never pays.
    assert crossover_width(4, 256, flops=1e10, bandwidth=1e9, latency=1e-5) < width
    assert crossover_width(4, 256, flops=1e10, bandwidth=1e9, latency=10.0) > width
    assert math.isinf(crossover_width(4, 256, flops=1e10, bandwidth=1e9, latency=1e12))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with cluster_with_client(tmp_path_factory.mktemp("dask"), n_workers=2) as (_, client):
        yield client


@pytest.mark.cluster
def test_run_pinned_passes_results_between_workers_and_names_failures(client):
    a, b = sorted(client.nthreads())
    out = run_pinned(client, [PinnedCall(abs, (-3,), a), PinnedCall(pow, (Ref(0), 2), b)], timeout=30)
    assert out == [3, 9]
    with pytest.raises(RuntimeError, match="call 0 .*divmod"):
        run_pinned(client, [PinnedCall(divmod, (1, 0), a)], timeout=30)
    with pytest.raises(ValueError, match="refers to call 1"):
        run_pinned(client, [PinnedCall(abs, (Ref(1),), a), PinnedCall(abs, (1,), a)], timeout=30)


@pytest.mark.cluster
@pytest.mark.parametrize("micro_batches", [1, 4])
def test_split_gradients_equal_the_unsplit_models(client, micro_batches):
    model = build_mlp(4, 32, 4, seed=1)
    x, y = cartpole_returns(64)
    pipe = TwoStagePipeline(model, client=client)
    try:
        split = pipe.gradients(x, y, micro_batches=micro_batches)
    finally:
        pipe.close()
    loss = nn.functional.mse_loss(model(torch.as_tensor(x)), torch.as_tensor(y))
    loss.backward()
    cut = 4
    for name, p in model.named_parameters():
        k, rest = name.split(".", 1)
        key = f"0.{k}.{rest}" if int(k) < cut else f"1.{int(k) - cut}.{rest}"
        np.testing.assert_allclose(split[key], p.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert len(split) == len(list(model.parameters()))


@pytest.mark.cluster
def test_pipeline_trains_and_times_its_steps(client):
    x, y = cartpole_returns(256)
    pipe = TwoStagePipeline(build_mlp(4, 32, 2), client=client, learning_rate=1e-2)
    try:
        timings = [pipe.train_step(x, y, micro_batches=2) for _ in range(40)]
        params = pipe.parameters()
    finally:
        pipe.close()
    assert timings[-1].loss < 0.5 * timings[0].loss
    t = timings[-1]
    assert t.wall >= max(t.compute) > 0 and t.other >= 0
    # Activations forward and gradients back: 2 messages of (batch, width) float32 per step.
    assert t.bytes == 2 * 256 * 32 * 4
    # Two hidden layers: one (Linear, Tanh) on stage 0; the other and the output layer on stage 1.
    assert set(params) == {"0.0.weight", "0.0.bias", "1.0.weight", "1.0.bias", "1.2.weight", "1.2.bias"}
