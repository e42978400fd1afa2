"""Fault tolerance on a real multi-process cluster: worker processes killed with SIGKILL mid-run.

Training must finish, every task must be accounted for, the agent must still
learn; and when no worker is left, training stops with a clear error and the
agent keeps the parameters of the last applied update.
"""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from drlkit.agents.a2c import A2C
from drlkit.distributed import DistributedResult, DistributedTrainingError, train

from agent_tools import one_thread  # noqa: F401  (autouse fixture)
from dask_processes import cluster_with_client

ENV = "CartPole-v1"

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with cluster_with_client(tmp_path_factory.mktemp("dask"), n_workers=2, nanny=True) as (cl, client):
        yield cl, client


def _assert_accounted_for(result: DistributedResult, agent: A2C, steps_before: int) -> None:
    frame = result.to_frame()
    counts = result.counts()
    assert (
        counts["submitted"]
        == len(frame)
        == (counts["applied"] + counts["dropped"] + counts["cancelled"] + counts["lost"])
    )
    # Every result that arrived counts its steps once, on the agent and in the table.
    assert agent.total_steps - steps_before == frame.env_steps.sum() == result.env_steps
    assert result.env_steps >= result.options["total_steps"]
    history = agent.history.to_frame()
    assert (history.event == "update").sum() == result.updates
    assert (history.event == "episode").sum() == frame.n_episodes.sum()


@pytest.mark.slow
def test_async_survives_a_worker_killed_mid_task_and_still_learns(cluster):
    cl, client = cluster
    client.wait_for_workers(2, timeout=60)
    agent = A2C(ENV, seed=1)
    before = agent.evaluate(10).mean()
    killed = {}

    def kill_the_other_worker(result: DistributedResult):
        # The worker that just reported is idle; the other one is in the middle of its task.
        if result.updates == 5:
            pids = client.run(os.getpid)
            victim = next(address for address in pids if address != result.rows[-1]["address"])
            os.kill(pids[victim], signal.SIGKILL)
            killed.update(address=victim, time=result.rows[-1]["wall_time"])

    result = train(
        agent, "async", total_steps=30_000, n_workers=2, local_steps=10, client=client, on_update=kill_the_other_worker
    )
    frame = result.to_frame()
    _assert_accounted_for(result, agent, 0)
    # The killed worker's task was run again elsewhere: by Dask (a "moved" result) or, when the
    # parameters it needed died with the worker, sent again by the driver (a "lost" row, then a new task).
    recovered = frame[frame.moved | (frame.status == "lost")]
    assert len(recovered) >= 1
    assert (frame.status[frame.moved] == "applied").all()
    assert killed["address"] not in set(frame.address[(frame.wall_time > killed["time"]) & (frame.status != "lost")])
    assert any(e["event"] == "worker left" and e["address"] == killed["address"] for e in result.events)
    assert frame.updates[frame.status == "applied"].tolist() == list(range(1, result.updates + 1))
    after = agent.evaluate(10).mean()
    assert after > max(3 * before, 150), (before, after)


@pytest.mark.slow
def test_sync_survives_kill_worker_at_and_still_learns(cluster):
    cl, client = cluster
    client.wait_for_workers(2, timeout=60)
    agent = A2C(ENV, seed=1)
    before = agent.evaluate(10).mean()
    # Slot 1 is three times slower, so it is mid-task whenever the driver waits in a round.
    result = train(
        agent,
        "sync",
        total_steps=30_000,
        n_workers=2,
        local_steps=10,
        slowdown={1: 3.0},
        kill_worker_at=(1.0, 1),
        client=client,
    )
    frame = result.to_frame()
    _assert_accounted_for(result, agent, 0)
    assert result.counts()["cancelled"] == 0 and result.counts()["dropped"] == 0
    # Every round merged both slots, from the round's version.
    per_round = frame[frame.status == "applied"].groupby("sync_round")
    assert (per_round.size() == 2).all() and (per_round.version.max() == per_round.version.min()).all()
    assert sorted(frame.sync_round.unique()) == list(range(result.updates))
    events = [e["event"] for e in result.events]
    assert "killed" in events and "worker left" in events
    assert (frame.moved | (frame.status == "lost")).sum() >= 1
    after = agent.evaluate(10).mean()
    assert after > max(3 * before, 150), (before, after)


@pytest.mark.slow
def test_a_lone_worker_killed_and_restarted_by_its_nanny_finishes_the_run(tmp_path):
    with cluster_with_client(tmp_path, n_workers=1, nanny=True) as (cl, client):
        agent = A2C(ENV, seed=0)
        result = train(
            agent,
            "sync",
            total_steps=400 * 40,
            n_workers=1,
            local_steps=5,
            client=client,
            kill_worker_at=(0.5, 0),
            worker_timeout=60,
        )
        _assert_accounted_for(result, agent, 0)
        events = [e["event"] for e in result.events]
        assert events[:2] == ["killed", "worker left"] and "worker joined" in events
        frame = result.to_frame()
        # Nothing ran on the killed process after the kill; the new process did the rest. (A "lost" row names
        # the dead address by design: it books the loss when the driver notices it, later under load.)
        killed = result.events[0]
        after = frame[(frame.wall_time > killed["wall_time"] + 1.0) & (frame.status != "lost")]
        assert len(after) > 0 and killed["address"] not in set(after.address)


@pytest.mark.slow
def test_when_every_worker_is_gone_training_stops_with_the_last_applied_update(tmp_path):
    with cluster_with_client(tmp_path, n_workers=1, nanny=False) as (cl, client):
        agent = A2C(ENV, seed=0)
        snapshots = []

        def keep(result: DistributedResult):
            snapshots.append(result.agent.get_parameters())

        with pytest.raises(DistributedTrainingError, match="every Dask worker is gone") as caught:
            train(
                agent,
                "async",
                total_steps=10_000_000,
                n_workers=1,
                local_steps=5,
                client=client,
                kill_worker_at=(1.0, 0),
                worker_timeout=2.0,
                on_update=keep,
            )
        result = caught.value.result
        assert result.agent is agent and len(snapshots) == result.updates >= 1
        assert f"update {result.updates}" in str(caught.value)
        final = agent.get_parameters()
        for key, value in snapshots[-1].items():
            np.testing.assert_array_equal(final[key], value)
        assert (agent.history.to_frame().event == "update").sum() == result.updates
        assert [e["event"] for e in result.events][:2] == ["killed", "worker left"]
