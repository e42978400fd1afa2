"""Real clusters that are not drlkit's own LocalCluster: a Dask cluster manager, and workers whose
environment differs from the driver's (another torch, no drlkit), which must be named at once."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import psutil
import pytest
from distributed import Client

import drlkit
from drlkit.agents.a2c import A2C
from drlkit.distributed import ClusterEnvironmentError

from agent_tools import one_thread  # noqa: F401  (autouse fixture)
from dask_processes import cli_cluster

pytestmark = pytest.mark.cluster

FAKE_TORCH = "1.0.0"


def _shadowing_torch_metadata(directory: Path) -> dict[str, str]:
    """Environment overrides for a worker whose installed-package metadata says torch 1.0.0.

    A ``torch-1.0.0.dist-info`` directory earlier on ``sys.path`` than the real one is what pip
    reports for an environment with that release, and it is what Dask reads for its versions.
    """
    dist_info = directory / f"torch-{FAKE_TORCH}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torch\nVersion: {FAKE_TORCH}\n")
    root = Path(__file__).resolve().parents[1]
    return {"PYTHONPATH": os.pathsep.join([str(directory), str(root)])}


def _venv_without_drlkit(directory: Path) -> str:
    """A venv on the same interpreter with every package of this one except drlkit; its python."""
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(directory)], check=True, timeout=60)
    ours = Path(sysconfig.get_paths()["purelib"])
    theirs = next(directory.glob("lib/python*/site-packages"))
    for entry in ours.iterdir():
        if "drlkit" not in entry.name.lower():
            (theirs / entry.name).symlink_to(entry)
    python = str(directory / "bin" / "python")
    check = subprocess.run(
        [python, "-c", "import distributed, torch; import drlkit"],
        check=False,
        capture_output=True,
        text=True,
        cwd=directory,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        timeout=120,
    )
    assert "No module named 'drlkit'" in check.stderr, check.stderr[-500:]
    return python


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A scheduler with one worker like the driver, one with torch 1.0.0, one without drlkit."""
    base = tmp_path_factory.mktemp("mixed")
    environments = {
        1: (sys.executable, _shadowing_torch_metadata(base / "fake-torch")),
        2: (_venv_without_drlkit(base / "venv"), {"PYTHONPATH": ""}),
    }
    with cli_cluster(base / "dask", n_workers=3, worker_environments=environments) as cluster:
        yield cluster


def _bounded(seconds: float, func):
    """Run ``func`` in a thread; return what it raised (fail if it hangs or returns)."""
    outcome: dict = {}

    def target():
        try:
            func()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    start = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    assert "error" in outcome, "no error raised"
    return outcome["error"], time.monotonic() - start


def _assert_names_both_problems(message: str, cluster) -> None:
    import torch

    # torch: the package, the driver's version and the worker's.
    assert f"torch: the driver has {torch.__version__.split('+')[0]}" in message and FAKE_TORCH in message, message
    # drlkit missing on the third worker, with the driver's version.
    assert "drlkit is not installed on worker" in message and drlkit.__version__ in message, message
    # Nothing wrong is said of the worker that matches the driver.
    assert message.count("worker tcp://") == 2, message
    # What to install, at the driver's versions.
    assert f"pip install -c constraints.txt torch=={torch.__version__.split('+')[0]} drlkit" not in message
    assert f"drlkit=={drlkit.__version__} torch=={torch.__version__.split('+')[0]}" in message, message


def test_cluster_names_the_package_and_both_versions(mixed):
    def connect():
        with drlkit.cluster(address=mixed.address, quiet=True):
            pass

    error, seconds = _bounded(60, connect)
    assert isinstance(error, ClusterEnvironmentError), repr(error)
    _assert_names_both_problems(str(error), mixed)
    assert seconds < 15, f"took {seconds:.1f} s"


def test_train_names_the_package_and_both_versions_before_sending_work(mixed):
    with Client(mixed.address, set_as_default=False, timeout=30) as client:
        processed = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
        error, seconds = _bounded(
            60, lambda: drlkit.distributed.train(A2C("CartPole-v1", seed=0), "sync", total_steps=400, client=client)
        )
        assert isinstance(error, ClusterEnvironmentError), repr(error)
        _assert_names_both_problems(str(error), mixed)
        assert seconds < 15, f"took {seconds:.1f} s"
        # No task was sent (an unpickling error from a worker would come after one).
        assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) == processed


@pytest.mark.slow
def test_train_through_a_subprocess_cluster_manager(tmp_path):
    """distributed's SubprocessCluster: scheduler and workers in their own processes, started by the manager."""
    from distributed.deploy.subprocess import SubprocessCluster

    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        manager = SubprocessCluster(
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            n_workers=2,
            threads_per_worker=1,
            worker_kwargs={"local_directory": str(tmp_path)},
        )
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    with manager:
        with drlkit.cluster(address=manager, quiet=True) as client:
            client.wait_for_workers(2, timeout=120)  # the manager returns before its workers have joined
            info = client.scheduler_info()
            assert len(info["workers"]) == 2
            assert urlparse(info["address"]).hostname == "127.0.0.1"
            worker_pids = set(client.run(os.getpid).values())
            scheduler_pid = client.run_on_scheduler(os.getpid)
            assert os.getpid() not in worker_pids | {scheduler_pid}, "the manager must start separate processes"
            # Everything the manager started listens on loopback only.
            listening = {
                c.laddr.ip
                for pid in worker_pids | {scheduler_pid}
                for c in psutil.Process(pid).net_connections(kind="tcp")
                if c.status == psutil.CONN_LISTEN
            }
            assert listening == {"127.0.0.1"}, listening

            agent = A2C("CartPole-v1", seed=0)
            before = {k: v.copy() for k, v in agent.get_parameters().items()}
            result = drlkit.distributed.train(agent, "sync", total_steps=800, fragment_steps=40)
            frame = result.to_frame()
            assert result.env_steps == 800
            assert set(frame.address) == set(info["workers"]), "both workers of the manager trained"
            assert any((agent.get_parameters()[k] != before[k]).any() for k in before)
