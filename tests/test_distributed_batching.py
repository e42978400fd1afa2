"""Batched asynchronous merges (``max_batch``) and one-message synchronous rounds, on a real cluster."""

from __future__ import annotations

import time

import numpy as np
import pytest

from drlkit.agents.a2c import A2C
from drlkit.distributed import MODE_TABLE, MODES, slot_seed, train

from agent_tools import one_thread  # noqa: F401  (autouse fixture)
from dask_processes import cluster_with_client

ENV = "CartPole-v1"
FRAGMENT = 40


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with cluster_with_client(tmp_path_factory.mktemp("dask"), n_workers=2) as (_, client):
        yield client


@pytest.mark.cluster
@pytest.mark.parametrize("max_batch", [1, 8])
def test_batched_async_with_one_result_at_a_time_is_sequential_training(client, max_batch):
    # One worker slot: a batch never holds more than one result, so any max_batch must give
    # exactly today's records and parameters: sequential training on the slot's own agent.
    agent = A2C(ENV, seed=3)
    theta0 = agent.get_parameters()
    result = train(agent, "async", total_steps=4 * FRAGMENT, n_workers=1, eta=1.0, max_batch=max_batch, client=client)
    local = A2C(ENV, seed=slot_seed(3, 0))
    local.set_parameters(theta0)
    for _ in range(4):
        local.learn_from(local.collect(FRAGMENT))
    for key, value in local.get_parameters().items():
        np.testing.assert_allclose(agent.get_parameters()[key], value, rtol=0, atol=1e-6, err_msg=key)
    frame = result.to_frame()
    assert frame.updates.tolist() == [1, 2, 3, 4] and frame.version.tolist() == [0, 1, 2, 3]
    assert frame.staleness.tolist() == [0, 0, 0, 0] and (frame.weight == 1.0).all()


@pytest.mark.cluster
def test_results_that_arrived_together_make_one_version(client):
    agent = A2C(ENV, seed=4)
    eta = 0.3

    def busy_driver(result):  # while the driver is busy, the other slots' results arrive
        time.sleep(0.3)

    # Four slots on two workers: while one batch is applied, the other slots finish.
    result = train(
        agent,
        "async",
        total_steps=16 * FRAGMENT,
        n_workers=4,
        eta=eta,
        max_batch=3,
        on_update=busy_driver,
        client=client,
    )
    frame = result.to_frame()
    applied = frame[frame.status == "applied"]
    per_version = applied.groupby("updates").size()
    assert 2 <= per_version.max() <= 3  # batches happened, never bigger than max_batch
    assert per_version.index.tolist() == list(range(1, len(per_version) + 1))  # one version per batch
    assert result.counts()["updates"] == len(per_version)
    history = agent.history.to_frame()
    assert (history.event == "update").sum() == len(per_version)  # one History update per batch
    # Staleness is measured against the version before the batch; every weight is eta (not staleness-aware).
    assert (applied.staleness == applied.updates - 1 - applied.version).all()
    assert np.allclose(applied.weight, eta)
    assert agent.total_steps == frame.env_steps.sum() >= 16 * FRAGMENT


def test_max_batch_is_checked_before_the_cluster_is_touched():
    agent = A2C(ENV, seed=0)
    with pytest.raises(ValueError, match="max_batch"):
        train(agent, "async", total_steps=100, max_batch=0)
    with pytest.raises(TypeError, match="max_batch.*does not apply to mode 'sync'"):
        train(agent, "sync", total_steps=100, max_batch=2)


def test_the_mode_table_is_what_validation_and_docs_read():
    modes = ["rollouts", "sync", "sync_grad", "async", "a3c", "gossip", "ssp", "federated"]
    assert list(MODES) == list(MODE_TABLE) == modes
    for name, mode in MODE_TABLE.items():
        assert callable(mode.runner) and set(mode.hooks) <= {
            "collect",
            "learn_from",
            "compute_gradients",
            "apply_gradients",
        }
        assert MODES[name] == mode.description
