"""``transport="actors"``: tasks called directly on one Dask Actor per worker, on a real multi-process cluster.

Same guarantees as ordinary tasks: the same parameters and records for a fixed seed, nothing lost
when a worker is killed (its work runs again as an ordinary task), and the driver stays authoritative.
"""

from __future__ import annotations

import numpy as np
import pytest
from distributed import get_task_stream

from drlkit.agents.a2c import A2C
from drlkit.distributed import MODE_TABLE, resume, train

from agent_tools import one_thread  # noqa: F401  (autouse fixture)
from dask_processes import cluster_with_client

ENV = "CartPole-v1"
FRAGMENT = 40
#: Columns that depend on timing or on where the work ran, not on what was computed.
TIMING = ["submit_time", "wall_time", "compute_time", "delay_time", "apply_time", "address", "moved"]

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with cluster_with_client(tmp_path_factory.mktemp("dask"), n_workers=2, nanny=True) as (_, client):
        yield client


def _run(client, mode, transport, **options):
    agent = A2C(ENV, seed=5)
    result = train(agent, mode, client=client, transport=transport, **options)
    return agent, result


@pytest.mark.parametrize(
    "mode, options",
    [
        ("sync", {"total_steps": 6 * 2 * 3 * FRAGMENT, "n_workers": 2, "local_steps": 3}),
        ("sync_grad", {"total_steps": 8 * 3 * FRAGMENT, "n_workers": 3}),
        ("async", {"total_steps": 6 * FRAGMENT, "n_workers": 1, "eta": 1.0}),  # one slot: sequential
        ("rollouts", {"total_steps": 6 * FRAGMENT, "n_workers": 1}),  # fragments travel back
        ("a3c", {"total_steps": 6 * FRAGMENT, "n_workers": 1}),
    ],
)
def test_actors_compute_exactly_what_tasks_compute(client, mode, options):
    client.wait_for_workers(2, timeout=60)
    with_tasks, tasks_result = _run(client, mode, "tasks", **options)
    with_actors, actors_result = _run(client, mode, "actors", **options)
    for key, value in with_tasks.get_parameters().items():
        np.testing.assert_array_equal(with_actors.get_parameters()[key], value, err_msg=key)
    a, b = tasks_result.to_frame().drop(columns=TIMING), actors_result.to_frame().drop(columns=TIMING)
    assert len(a) >= 6 and a.equals(b)
    assert actors_result.options["transport"] == "actors"


def test_actor_calls_bypass_the_scheduler(client):
    client.wait_for_workers(2, timeout=60)
    with get_task_stream(client) as stream:
        _, result = _run(client, "sync", "actors", total_steps=20 * 2 * FRAGMENT, n_workers=2)
    assert result.updates == 20
    # Only the set-up runs as Dask tasks (building each slot's agent, one actor per worker);
    # the 40 training tasks went straight to the actors.
    names = [task["key"] for task in stream.data]
    assert not any("local-updates" in str(name) for name in names), names
    assert len(names) <= 2 + 2


@pytest.mark.slow
def test_a_worker_killed_under_actors_loses_nothing(client):
    client.wait_for_workers(2, timeout=60)
    agent = A2C(ENV, seed=1)
    # Slot 1 is slower, so it is in the middle of a call whenever its worker is killed.
    result = train(
        agent,
        "sync",
        total_steps=60 * 2 * 5 * FRAGMENT,
        n_workers=2,
        local_steps=5,
        slowdown={1: 3.0},
        kill_worker_at=(1.0, 1),
        client=client,
        transport="actors",
    )
    frame = result.to_frame()
    counts = result.counts()
    assert counts["submitted"] == len(frame) == counts["applied"] + counts["lost"]
    assert counts["lost"] >= 1 and counts["cancelled"] == 0
    assert agent.total_steps == frame.env_steps.sum() == result.env_steps >= 60 * 2 * 5 * FRAGMENT
    # Every round merged both slots, each from the round's version: the lost call ran again elsewhere.
    per_round = frame[frame.status == "applied"].groupby("sync_round")
    assert (per_round.size() == 2).all() and (per_round.version.max() == per_round.version.min()).all()
    assert sorted(frame.sync_round.unique()) == list(range(result.updates))
    killed = next(e for e in result.events if e["event"] == "killed")
    later = frame[(frame.wall_time > killed["wall_time"] + 1.0) & (frame.status == "applied")]
    assert len(later) > 0 and killed["address"] not in set(later.address)
    assert (agent.history.to_frame().event == "update").sum() == result.updates


def test_bad_transports_are_named_before_the_cluster_is_touched():
    agent = A2C(ENV, seed=0)
    with pytest.raises(ValueError, match=r"transport must be one of 'tasks', 'actors'; got 'pigeons'"):
        train(agent, "sync", total_steps=40, transport="pigeons", client="tcp://127.0.0.1:1")
    assert "transport" not in MODE_TABLE["gossip"].options
    with pytest.raises(ValueError, match=r"transport='actors' is not available for mode='gossip'"):
        train(agent, "gossip", total_steps=40, transport="actors", client="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match=r"reduce='tree'.*transport='actors'"):
        train(agent, "sync", total_steps=40, reduce="tree", transport="actors", client="tcp://127.0.0.1:1")


def test_a_run_checkpointed_with_tasks_resumes_with_actors_and_computes_the_same(client, tmp_path):
    client.wait_for_workers(2, timeout=60)
    total = 8 * 2 * FRAGMENT
    train(
        A2C(ENV, seed=2),
        "sync",
        total_steps=total,
        n_workers=2,
        client=client,
        checkpoint=tmp_path / "run",
        on_update=lambda result: result.updates < 3,  # stops after update 3, as a restart would
    )
    runs = {
        transport: resume(tmp_path / "run", client=client, checkpoint=tmp_path / transport, transport=transport)
        for transport in ("tasks", "actors")
    }
    assert runs["actors"].options["transport"] == "actors" and runs["tasks"].options["transport"] == "tasks"
    a, b = runs["tasks"].to_frame().drop(columns=TIMING), runs["actors"].to_frame().drop(columns=TIMING)
    assert runs["tasks"].updates == 8 and a.equals(b)
    for key, value in runs["tasks"].agent.get_parameters().items():
        np.testing.assert_array_equal(runs["actors"].agent.get_parameters()[key], value, err_msg=key)
