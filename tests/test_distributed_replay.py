"""Ape-X-style distributed prioritised replay: one shard is exactly a central buffer, shards keep the
experience on the workers (only samples and priorities travel), and the bytes moved add up."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drlkit.agents.dqn import DQN
from drlkit.agents.prioritized_replay import PrioritizedReplayBuffer, importance_weights
from drlkit.distributed.replay import (
    SampleJob,
    actor_epsilons,
    combine_replies,
    initial_priorities,
    serve_sample,
    split_batch,
    train_apex,
)

from agent_tools import one_thread  # noqa: F401  (autouse fixture)
from dask_processes import cluster_with_client

ENV = "CartPole-v1"
SMALL = dict(learning_starts=128, batch_size=32, train_freq=64, gradient_steps=4, prioritized_replay=True)


def test_actor_epsilons_follow_the_paper():
    np.testing.assert_allclose(actor_epsilons(3), [0.4, 0.4**4.5, 0.4**8])
    assert actor_epsilons(1).tolist() == [0.4]


def test_initial_priorities_are_td_errors_of_the_actor_network():
    agent = DQN(ENV, seed=0, double_dqn=False)
    fragment = agent.collect(16)
    d = fragment.data
    with torch.no_grad():
        q = agent.q_net(torch.as_tensor(d["obs"].reshape(16, 4))).numpy()
        q_next = agent.q_net(torch.as_tensor(d["next_obs"].reshape(16, 4))).numpy()
    a, r, done = d["actions"].reshape(16), d["rewards"].reshape(16), d["terminated"].reshape(16)
    expected = np.abs(q[np.arange(16), a] - (r + 0.99 * (1 - done) * q_next.max(axis=1)))
    np.testing.assert_allclose(initial_priorities(agent, d), expected + 1e-6, rtol=1e-5)


def test_a_shard_applies_the_new_priorities_before_sampling():
    buffer = PrioritizedReplayBuffer(8, 1, alpha=1.0)
    obs = np.arange(4, dtype=np.float32)[:, None]
    buffer.add(obs, np.zeros(4), np.zeros(4), obs, np.zeros(4), priorities=[1, 1, 1, 1])
    reply = serve_sample(buffer, SampleJob(1000, 0, (np.array([0, 1, 2]), np.array([0.0, 0.0, 0.0]))))
    assert set(reply.indices.tolist()) == {3}  # only the one transition with priority left
    assert reply.stats.size == 4 and reply.stats.total == pytest.approx(1.0)
    np.testing.assert_array_equal(reply.rows[:, 0], 3)


def test_several_shards_sample_as_one_buffer_holding_all_of_them():
    """Split by the shards' totals, each shard draws by its sum-tree: every transition of every shard is drawn
    with probability p^alpha / (sum over all shards), and the weights are those of one buffer with everything."""
    alpha, beta = 0.7, 0.5
    priorities = [np.array([1.0, 3.0, 0.5]), np.array([2.0, 0.25, 4.0, 1.5])]
    shards = []
    for p in priorities:
        shard = PrioritizedReplayBuffer(8, 1, alpha=alpha)
        obs = np.arange(len(p), dtype=np.float32)[:, None]
        shard.add(obs, np.zeros(len(p)), np.zeros(len(p)), obs, np.zeros(len(p)), priorities=p)
        shards.append(shard)
    union = np.concatenate(priorities) ** alpha
    expected = union / union.sum()
    rng = np.random.default_rng(0)
    counts = np.zeros(len(union))
    n, rounds = 64, 400
    for _ in range(rounds):
        per_shard, seeds = split_batch([sh.tree.total for sh in shards], n, rng)
        replies = [serve_sample(sh, SampleJob(int(c), int(s))) for sh, c, s in zip(shards, per_shard, seeds)]
        rows, shard_of, index, weights = combine_replies(replies, beta, rng)
        flat = np.where(shard_of == 0, index, len(priorities[0]) + index)
        np.add.at(counts, flat, 1)
        np.testing.assert_array_equal(rows[:, 0], index)  # each row is the transition it names
        np.testing.assert_allclose(
            weights, importance_weights(expected[flat], len(union), beta, expected.min()), rtol=1e-5
        )
    total = n * rounds
    assert np.all(np.abs(counts - total * expected) <= 5 * np.sqrt(total * expected * (1 - expected)))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [(dict(n_actors=0), "n_actors"), (dict(replay="sharded"), "replay"), (dict(total_steps=-1), "total_steps")],
)
def test_bad_input_names_the_argument(kwargs, name):
    args = dict(n_actors=2, total_steps=100)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=name):
        train_apex(DQN(ENV, **SMALL), client=object(), **args)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with cluster_with_client(tmp_path_factory.mktemp("dask"), n_workers=2) as (_, client):
        yield client


@pytest.mark.cluster
def test_one_shard_equals_the_central_buffer(client):
    runs = {}
    for replay in ("distributed", "central"):
        agent = DQN(ENV, seed=0, **SMALL)
        runs[replay] = (agent, train_apex(agent, n_actors=1, total_steps=640, replay=replay, client=client))
    (a, ra), (b, rb) = runs["distributed"], runs["central"]
    assert ra.updates == rb.updates > 0
    np.testing.assert_array_equal(ra.to_frame().loss.to_numpy(), rb.to_frame().loss.to_numpy())
    for key, value in a.get_parameters().items():
        np.testing.assert_array_equal(b.get_parameters()[key], value)
    # Central: every transition (obs, next_obs: 4 float32 each; int64 action, float32 reward, bool
    # terminated) and its float64 priority travelled once.
    assert rb.bytes_moved["experience"] == 640 * (2 * 4 * 4 + 8 + 4 + 1 + 8) and rb.bytes_moved["samples"] == 0
    # Distributed: none did; the sampled rows (with their index and p^alpha) and the priorities did.
    assert ra.bytes_moved["experience"] == 0
    assert ra.bytes_moved["samples"] == ra.updates * 32 * (11 * 4 + 8 + 8)
    assert ra.bytes_moved["parameters"] == rb.bytes_moved["parameters"] > 0


@pytest.mark.cluster
def test_several_shards_feed_one_learner(client):
    agent = DQN(ENV, seed=1, **SMALL)
    result = train_apex(agent, n_actors=3, total_steps=3 * 64 * 4, replay="distributed", client=client)
    frame = result.to_frame()
    assert agent.total_steps == 3 * 64 * 4 and len(frame) == 4
    assert result.updates == 4 * frame.loss.notna().sum() > 0
    assert result.bytes_moved["priorities"] > 0 and result.updates_per_second() > 0
    # The shards were freed at the end.
    counts = client.run(lambda: __import__("drlkit.distributed.replay", fromlist=["_SHARDS"])._SHARDS.__len__())
    assert sum(counts.values()) == 0
