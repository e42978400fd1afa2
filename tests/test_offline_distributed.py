"""Offline RL on a real local Dask cluster: parallel dataset collection and data-parallel training."""

import numpy as np
import pytest

import drlkit
from drlkit.offline import CQL, behaviour_policy, collect, collect_parallel, concatenate, save_dataset

from agent_tools import one_thread  # noqa: F401  (autouse fixture)

pytestmark = pytest.mark.cluster

FIELDS = ("observations", "actions", "rewards", "next_observations", "terminations", "truncations")


@pytest.fixture(scope="module")
def client():
    with drlkit.cluster(n_workers=2) as client:
        yield client


@pytest.mark.parametrize("policy", ["random", "medium"])
def test_parallel_collection_gives_the_data_of_the_same_seeds_in_one_process(client, policy):
    if policy == "medium":
        policy = behaviour_policy("CartPole-v1", "medium")  # an agent: rebuilt on the workers
    parallel = collect_parallel("CartPole-v1", policy, steps=300, seeds=[5, 6], epsilon=0.1, client=client)
    local = concatenate([collect("CartPole-v1", policy, steps=300, seed=s, epsilon=0.1) for s in (5, 6)])
    assert len(parallel) == 600 and parallel.metadata["workers"] == 2 and parallel.metadata["seed"] == [5, 6]
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(parallel, name), getattr(local, name), err_msg=name)


def test_a_policy_defined_in_a_notebook_is_refused_before_the_cluster_is_used(client):
    with pytest.raises(ValueError, match="seeds must hold at least one seed"):
        collect_parallel("CartPole-v1", "random", steps=10, seeds=[], client=client)


def test_sync_grad_trains_on_shards_that_stay_on_the_workers(client, tmp_path):
    data = collect("CartPole-v1", behaviour_policy("CartPole-v1", "medium"), steps=3_000, seed=0)
    save_dataset(data, "test/cartpole/medium-v0", root=tmp_path)
    agent = CQL(
        "CartPole-v1",
        seed=0,
        dataset_id="test/cartpole/medium-v0",
        dataset_root=str(tmp_path),
        n_shards=2,
        log_interval=1,
    )
    before = agent.get_parameters()
    result = drlkit.distributed.train(agent, mode="sync_grad", n_workers=2, total_steps=30, client=client)
    # One gradient step per round of two workers, each applied once by the driver.
    assert agent.total_steps == 30
    frame = result.to_frame()
    assert set(frame["worker"]) == {0, 1} and (frame["status"] == "applied").all()
    assert len(agent.history.to_frame()["loss"].dropna()) == 30
    assert any(not np.array_equal(before[k], v) for k, v in agent.get_parameters().items())
    # The workers hold disjoint shards of whole episodes: the driver reads the whole dataset.
    assert len(agent.data) == len(data)
