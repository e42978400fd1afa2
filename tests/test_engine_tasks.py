"""engine.run_tasks: the one door to Dask for independent tasks (map_tasks, distributed Q-learning rounds)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import drlkit
from drlkit import distributed
from drlkit.distributed.engine import Shared, TaskError, run_tasks
from drlkit.envs import gridworld

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def client():
    with drlkit.cluster(n_workers=2, quiet=True) as dask_client:
        yield dask_client


def test_shared_input_is_put_on_the_cluster_once_and_results_keep_their_order(client):
    table = Shared(np.arange(6.0))
    results = run_tasks(client, np.dot, [(table, np.full(6, k)) for k in range(5)], timeout=60, name="dot")
    assert results == [k * 15.0 for k in range(5)]
    assert str(table.future.key).startswith("ndarray-")
    first = table.future
    assert run_tasks(client, np.sum, [(table,)], timeout=60, name="sum") == [15.0]
    assert table.future is first  # not sent again


def test_a_shared_input_lost_with_its_worker_is_sent_again(client):
    table = Shared(np.arange(4.0))
    assert run_tasks(client, np.sum, [(table,), (table,)], timeout=60, name="sum") == [6.0, 6.0]
    holders = client.who_has([table.future])[table.future.key]
    pids = client.run(os.getpid)
    for address in holders:
        os.kill(pids[address], signal.SIGKILL)
    lost = table.future
    assert run_tasks(client, np.sum, [(table,), (table,)], timeout=60, name="sum") == [6.0, 6.0]
    assert table.future is not lost
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker


def test_a_failing_task_is_named_by_its_label(client):
    with pytest.raises(TaskError, match=r"divide failed on the workers for worker 1: ZeroDivisionError") as info:
        run_tasks(client, _one_over, [(1,), (0,)], timeout=60, name="divide", labels=["worker 0", "worker 1"])
    assert info.value.index == 1


def test_q_learning_rounds_are_bounded_by_timeout(client):
    with pytest.raises(ValueError, match=r"timeout must be in \(0, inf\)"):
        distributed.q_learning(gridworld(["S.G"]), episodes=2, timeout=0, client=client)
    # A tiny bound that a round cannot meet: a clear TimeoutError naming the round, never a hang.
    with pytest.raises(TimeoutError, match=r"q-learning round 1: only \d of 2 tasks finished within timeout=1e-06 s"):
        distributed.q_learning(gridworld(["S.G"]), n_workers=2, episodes=2, timeout=1e-6, client=client)


def _one_over(x):
    return 1 / x
