"""Checkpoints of drlkit.distributed.train and resuming from them, on a real multi-process cluster.

A run stopped midway (as a kernel restart would) and resumed in a fresh agent must
continue the same run: the same versions, records and step budget as a run that
was never interrupted; the checkpoint holds the options and RNG states; bad
checkpoint arguments name the field; a dead scheduler gives an error that names
the last checkpoint, within a bound.
"""

from __future__ import annotations

import json
import os
import signal
import time

import numpy as np
import pytest
import torch

import drlkit
from drlkit.agents.a2c import A2C
from drlkit.agents.ppo import PPO
from drlkit.distributed import DistributedTrainingError, ResumeError, resume, train

from agent_tools import one_thread  # noqa: F401  (autouse fixture)
from dask_processes import cluster_with_client

ENV = "CartPole-v1"
SMALL = {"num_envs": 1, "n_steps": 20, "hidden_sizes": (8,)}
pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with cluster_with_client(tmp_path_factory.mktemp("dask"), n_workers=2) as (_, client):
        yield client


def _stop_at(version: int):
    return lambda result: result.updates < version  # False at `version`: training stops


def _columns(rows, keys=("updates", "status", "worker", "sync_round", "version", "staleness", "env_steps")):
    return [tuple(row[k] for k in keys) for row in rows]


def test_sync_stopped_midway_and_resumed_in_a_fresh_agent_continues_the_same_run(client, tmp_path):
    total = 20 * 2 * 10  # 10 rounds of 2 workers
    whole = train(A2C(ENV, seed=3, **SMALL), "sync", total_steps=total, client=client, n_workers=2)

    first = A2C(ENV, seed=3, **SMALL)
    cut = train(
        first,
        "sync",
        total_steps=total,
        client=client,
        n_workers=2,
        checkpoint=tmp_path / "run",
        on_update=_stop_at(4),
    )
    assert cut.updates == 4 and (tmp_path / "run" / "latest").read_text() == "update-00000004"
    saved = json.loads((tmp_path / "run" / "update-00000004" / "run.json").read_text())
    assert saved["options"] == json.loads(json.dumps(cut.options)) and saved["mode"] == "sync"
    saved_params = {k: v.copy() for k, v in first.get_parameters().items()}

    del first  # the kernel is gone: everything comes from the checkpoint
    resumed = resume(tmp_path / "run", client=client, checkpoint=tmp_path / "first")
    agent = resumed.agent
    assert resumed.updates == whole.updates == 10
    assert resumed.env_steps == whole.env_steps == total == agent.total_steps
    assert _columns(resumed.rows) == _columns(whole.rows)  # same records, versions continue
    assert resumed.options == whole.options
    assert (agent.history.to_frame().event == "update").sum() == 10
    assert [r["wall_time"] for r in resumed.rows] == sorted(r["wall_time"] for r in resumed.rows)
    # The first 4 updates are exactly the checkpointed ones, and training moved on from them.
    assert _columns(resumed.rows[:8]) == _columns(cut.rows)
    assert any((agent.get_parameters()[k] != saved_params[k]).any() for k in saved_params)

    # Resuming the same checkpoint again (writing elsewhere) gives exactly the same run: sync is deterministic.
    again = resume(tmp_path / "run", client=client, checkpoint=tmp_path / "again")
    assert again.updates == 10 and _columns(again.rows) == _columns(resumed.rows)
    for key, value in agent.get_parameters().items():
        np.testing.assert_array_equal(again.agent.get_parameters()[key], value)


def test_async_resumed_run_loses_and_duplicates_no_record(client, tmp_path):
    agent = A2C(ENV, seed=0, **SMALL)
    total = 20 * 24
    cut = train(
        agent,
        "async",
        total_steps=total,
        client=client,
        n_workers=2,
        checkpoint=str(tmp_path / "a"),
        checkpoint_every=0,
        on_update=_stop_at(5),
    )
    assert cut.updates == 5
    # The work in flight when the run stopped was cancelled: it is not in the checkpoint and is done again.
    kept = [r for r in cut.rows if r["status"] != "cancelled"]
    assert all(r["status"] == "cancelled" for r in cut.rows[len(kept) :])
    rows_before = json.dumps(kept)  # NaN-safe comparison
    resumed = resume(tmp_path / "a", client=client)
    frame = resumed.to_frame()
    applied = frame[frame.status == "applied"]
    n_before = len(kept)
    assert json.dumps(resumed.rows[:n_before]) == rows_before  # nothing lost or rewritten
    assert sorted(applied.updates) == list(range(1, resumed.updates + 1))  # each version once, continuing
    assert resumed.env_steps == frame.env_steps.sum() == resumed.agent.total_steps >= total
    assert resumed.env_steps < total + 2 * 20  # within one fragment per worker of the budget
    # Versions continue: new work started from versions >= 5.
    assert (frame.version.iloc[n_before:] >= 5).all()
    # checkpoint_every=0: a checkpoint after every update; the newest two are kept.
    assert sorted(p.name for p in (tmp_path / "a").glob("update-*")) == [
        f"update-{v:08d}" for v in (resumed.updates - 1, resumed.updates)
    ]


def test_checkpoint_round_trips_options_and_rng_states(client, tmp_path):
    agent = A2C(ENV, seed=5, **SMALL)
    torch.manual_seed(11)
    np.random.seed(12)
    train(agent, "async", total_steps=80, client=client, n_workers=2, local_steps=2, eta=0.25, checkpoint=tmp_path)
    expect = (agent.torch_rng.get_state(), agent.np_rng.bit_generator.state, torch.get_rng_state())
    np_state = np.random.get_state()
    where = tmp_path / (tmp_path / "latest").read_text()
    loaded = drlkit.load(where / "agent.pt")
    assert torch.equal(loaded.torch_rng.get_state(), expect[0])
    assert loaded.np_rng.bit_generator.state == expect[1]
    assert torch.equal(torch.load(where / "driver_rng.pt", weights_only=True)["torch"], expect[2])
    saved = json.loads((where / "run.json").read_text())
    assert saved["options"]["local_steps"] == 2 and saved["options"]["eta"] == 0.25
    assert np.array_equal(saved["numpy_random"][1], np_state[1])
    # A resume of a finished run restores them (and has nothing left to do).
    torch.manual_seed(0)
    np.random.seed(0)
    done = resume(tmp_path, client=client)
    assert done.options["eta"] == 0.25 and done.options["local_steps"] == 2
    assert torch.equal(torch.get_rng_state(), expect[2]) and np.array_equal(np.random.get_state()[1], np_state[1])
    assert torch.equal(done.agent.torch_rng.get_state(), expect[0])


def test_bad_checkpoint_arguments_name_the_field(client, tmp_path):
    agent = A2C(ENV, seed=0, **SMALL)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="checkpoint=.*file.*is a file"):
        train(agent, "sync", total_steps=40, checkpoint=blocker)
    with pytest.raises(ValueError, match="checkpoint=.*cannot be written"):
        train(agent, "sync", total_steps=40, checkpoint=blocker / "sub")
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(ValueError, match="checkpoint=.*cannot be written"):
            train(agent, "sync", total_steps=40, checkpoint=locked / "run")
    with pytest.raises(ValueError, match="checkpoint_every"):
        train(agent, "sync", total_steps=40, checkpoint=tmp_path / "x", checkpoint_every=-1)
    with pytest.raises(TypeError, match="checkpoint must be a directory path"):
        train(agent, "sync", total_steps=40, checkpoint=3)
    with pytest.raises(ValueError, match="checkpoint is not available for mode='gossip': each slot keeps"):
        train(agent, "gossip", total_steps=40, checkpoint=tmp_path / "g")
    with pytest.raises(FileNotFoundError, match="resume=.*no checkpoint"):
        train(agent, "sync", total_steps=40, resume=tmp_path / "nothing")

    train(agent, "sync", total_steps=40, client=client, n_workers=2, checkpoint=tmp_path / "run")
    run = tmp_path / "run"
    with pytest.raises(ResumeError, match="resume: .* mode='sync' run; got mode='async'"):
        train(A2C(ENV, seed=0, **SMALL), "async", total_steps=40, resume=run)
    with pytest.raises(ResumeError, match="resume: .*A2C agent; agent is a PPO"):
        train(PPO(ENV, seed=0, hidden_sizes=(8,)), "sync", total_steps=40, resume=run)
    with pytest.raises(ResumeError, match="resume: .*env 'CartPole-v1'; agent's env is 'Acrobot-v1'"):
        train(A2C("Acrobot-v1", seed=0, **SMALL), "sync", total_steps=40, resume=run)
    with pytest.raises(ResumeError, match="option total_steps=80 differs"):
        train(A2C(ENV, seed=0, **SMALL), "sync", total_steps=80, resume=run)
    with pytest.raises(ResumeError, match="option local_steps=3 differs"):
        train(A2C(ENV, seed=0, **SMALL), "sync", total_steps=40, local_steps=3, resume=run)
    with pytest.raises(ResumeError, match="seed 0 .*agent has seed 1"):
        train(A2C(ENV, seed=1, **SMALL), "sync", total_steps=40, resume=run, client=client)


def test_a_dead_scheduler_stops_training_with_an_error_naming_the_last_checkpoint(tmp_path):
    with cluster_with_client(tmp_path / "dask", n_workers=1) as (cluster, client):
        agent = A2C(ENV, seed=0, **SMALL)
        killed = []

        def kill_scheduler(result):
            if result.updates == 3 and not killed:
                os.kill(cluster.scheduler.pid, signal.SIGKILL)
                killed.append(time.monotonic())

        with pytest.raises(DistributedTrainingError) as caught:
            train(
                agent,
                "async",
                total_steps=10_000_000,
                n_workers=1,
                client=client,
                checkpoint=tmp_path / "run",
                checkpoint_every=0,
                worker_timeout=5.0,
                on_update=kill_scheduler,
            )
        seconds = time.monotonic() - killed[0]
        message = str(caught.value)
        updates = caught.value.result.updates
        assert f"the last checkpoint (update {updates}) is at {tmp_path / 'run' / f'update-{updates:08d}'}" in message
        assert "drlkit.distributed.resume(" in message
        assert seconds < 20, f"took {seconds:.1f} s"
        assert (tmp_path / "run" / "latest").read_text() == f"update-{updates:08d}"


def test_a_resumed_run_keeps_checkpointing_where_it_was_resumed_from(client, tmp_path):
    agent = A2C(ENV, seed=2, **SMALL)
    train(agent, "sync", total_steps=20 * 2 * 4, client=client, n_workers=2, checkpoint=tmp_path, on_update=_stop_at(2))
    assert (tmp_path / "latest").read_text() == "update-00000002"
    done = resume(tmp_path, client=client)
    assert done.updates == 4 and (tmp_path / "latest").read_text() == "update-00000004"
    assert sorted(p.name for p in tmp_path.glob("update-*")) == ["update-00000002", "update-00000004"]
    assert not list(tmp_path.glob(".tmp-*")), "no temporary directory left behind"


def test_a_checkpoint_that_cannot_be_written_mid_run_warns_and_training_goes_on(client, tmp_path):
    import shutil

    where = tmp_path / "run"

    def break_the_directory(result):
        if result.updates == 2:  # the disk "goes away": the directory becomes a file
            shutil.rmtree(where)
            where.write_text("not a directory")

    agent = A2C(ENV, seed=0, **SMALL)
    with pytest.warns(RuntimeWarning, match="checkpoint: could not write to .*run.*training goes on"):
        result = train(
            agent,
            "sync",
            total_steps=20 * 2 * 4,
            client=client,
            n_workers=2,
            checkpoint=where,
            checkpoint_every=0,
            on_update=break_the_directory,
        )
    assert result.updates == 4 and agent.total_steps == 160


def test_a_damaged_checkpoint_is_a_clear_error_before_any_cluster_is_needed(client, tmp_path):
    train(A2C(ENV, seed=0, **SMALL), "sync", total_steps=40, client=client, n_workers=2, checkpoint=tmp_path)
    where = tmp_path / "update-00000001"
    state = json.loads((where / "run.json").read_text())
    (where / "run.json").write_text(json.dumps(dict(state, mode=7)))
    with pytest.raises(ResumeError, match="field 'mode' must be"):
        resume(tmp_path)
    (where / "run.json").write_text(json.dumps(dict(state, rows=[1, 2])))
    with pytest.raises(ResumeError, match="field 'rows' must be a list of records"):
        resume(tmp_path)
    (where / "run.json").write_text(json.dumps(state)[:100])
    with pytest.raises(ResumeError, match="run.json cannot be read"):
        resume(tmp_path)
    (where / "run.json").write_text(json.dumps(state))
    (where / "agent.pt").write_bytes((where / "agent.pt").read_bytes()[:200])
    with pytest.raises(drlkit.agents.base.CheckpointError, match="agent.pt"):
        resume(tmp_path)
    (tmp_path / "latest").write_text("../../etc")
    with pytest.raises(ResumeError, match="must name a checkpoint like"):
        resume(tmp_path)


DRIVER = """
import sys, time
from drlkit.agents.a2c import A2C
from drlkit.distributed import train
from distributed import Client

with Client(sys.argv[1], set_as_default=False, timeout=30) as client:
    agent = A2C("CartPole-v1", seed=0, num_envs=1, n_steps=20, hidden_sizes=(8,))
    train(agent, "async", total_steps=20 * 60, client=client, n_workers=2, checkpoint=sys.argv[2],
          checkpoint_every=0, on_update=lambda result: time.sleep(0.1))
"""


def test_a_driver_killed_mid_run_is_resumed_from_its_periodic_checkpoint(client, tmp_path):
    """The kernel dies for real (SIGKILL of the driver process): the newest periodic checkpoint continues."""
    import subprocess
    import sys

    from dask_processes import _environment

    where = tmp_path / "run"
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, client.scheduler.address, str(where)],
        env=_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            latest = where / "latest"
            if latest.exists() and latest.read_text() >= "update-00000004":
                break
            assert driver.poll() is None, "the driver ended before it was killed"
            time.sleep(0.05)
        driver.send_signal(signal.SIGKILL)
    finally:
        driver.kill()
        driver.wait(30)
    name = (where / "latest").read_text()
    saved = json.loads((where / name / "run.json").read_text())
    assert 4 <= saved["version"] < 60
    resumed = resume(where, client=client)
    frame = resumed.to_frame()
    assert json.dumps(resumed.rows[: len(saved["rows"])]) == json.dumps(saved["rows"])
    applied = frame[frame.status == "applied"]
    assert sorted(applied.updates) == list(range(1, resumed.updates + 1)) and resumed.updates > saved["version"]
    assert resumed.env_steps == frame.env_steps.sum() == resumed.agent.total_steps >= 20 * 60
