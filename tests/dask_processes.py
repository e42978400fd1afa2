"""A real multi-process Dask cluster for tests: `dask scheduler` and `dask worker` command-line
processes on 127.0.0.1, started from this venv and killed (with every child) at the end.

>>> with cli_cluster(tmp_path, n_workers=2) as cl:      # doctest: +SKIP
...     with drlkit.cluster(address=cl.address) as client: ...
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import psutil

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class CLICluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]
    directory: Path

    def worker_pids(self, client) -> dict[str, int]:
        """Address -> pid of each worker process (the nanny's child that runs tasks)."""
        return client.run(os.getpid)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    # Workers import drlkit from this checkout, single-threaded like the test process.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return env


@contextlib.contextmanager
def cli_cluster(
    directory: Path,
    n_workers: int = 2,
    nanny: bool = True,
    timeout: float = 60.0,
    worker_environments: dict[int, tuple[str, dict[str, str]]] | None = None,
) -> Iterator[CLICluster]:
    """Start a scheduler and ``n_workers`` single-threaded workers; yield their addresses and processes.

    ``worker_environments[i]`` gives worker ``i`` its own ``(python executable, environment overrides)``
    (e.g. another venv, or a ``PYTHONPATH`` that shadows a package); the others use this venv.
    """
    directory.mkdir(parents=True, exist_ok=True)
    scheduler_file = directory / "scheduler.json"
    env = _environment()
    processes: list[subprocess.Popen] = []

    def start(
        args: list[str], log: str, python: str = sys.executable, overrides: dict | None = None
    ) -> subprocess.Popen:
        out = open(directory / log, "wb")
        # A new session per process: teardown kills the whole group (nanny and its worker child).
        proc = subprocess.Popen(
            [python, "-m", *args],
            cwd=directory,
            env={**env, **(overrides or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        processes.append(proc)
        return proc

    try:
        scheduler = start(
            [
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--dashboard-address",
                "127.0.0.1:0",
                "--scheduler-file",
                str(scheduler_file),
            ],
            "scheduler.log",
        )
        address = _wait_for_address(scheduler, scheduler_file, timeout, directory)
        workers = [
            start(
                [
                    "distributed.cli.dask_worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "1",
                    "--no-dashboard",
                    "--name",
                    f"worker-{i}",
                    "--local-directory",
                    str(directory / f"worker-{i}"),
                    "--death-timeout",
                    "60",
                    "--nanny" if nanny else "--no-nanny",
                ],
                f"worker-{i}.log",
                *((worker_environments or {}).get(i) or (sys.executable, None)),
            )
            for i in range(n_workers)
        ]
        cluster = CLICluster(address, scheduler, workers, directory)
        _wait_for_workers(address, n_workers, timeout, directory)
        yield cluster
    finally:
        _kill_all(processes)


@contextlib.contextmanager
def cluster_with_client(directory: Path, n_workers: int = 2, nanny: bool = True) -> Iterator[tuple[CLICluster, Any]]:
    """A :func:`cli_cluster` and a ``distributed.Client`` on it, not set as the default client."""
    from distributed import Client

    with cli_cluster(directory, n_workers=n_workers, nanny=nanny) as cluster:
        with Client(cluster.address, set_as_default=False, timeout=30) as client:
            yield cluster, client


def _wait_for_address(proc: subprocess.Popen, scheduler_file: Path, timeout: float, directory: Path) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dask scheduler exited: {(directory / 'scheduler.log').read_text()[-2000:]}")
        if scheduler_file.exists():
            try:
                return json.loads(scheduler_file.read_text())["address"]
            except (json.JSONDecodeError, KeyError):
                pass  # written but not complete yet
        time.sleep(0.05)
    raise RuntimeError(f"dask scheduler did not write {scheduler_file} within {timeout} s")


def _wait_for_workers(address: str, n_workers: int, timeout: float, directory: Path) -> None:
    from distributed import Client

    with Client(address, timeout=timeout) as client:
        try:
            client.wait_for_workers(n_workers, timeout=timeout)
        except TimeoutError:
            logs = "\n".join(p.read_text()[-1500:] for p in directory.glob("worker-*.log"))
            raise RuntimeError(f"{n_workers} dask workers did not join within {timeout} s:\n{logs}") from None


def _kill_all(processes: list[subprocess.Popen]) -> None:
    """SIGKILL every process we started and all their descendants, then check none survived."""
    family: list[psutil.Process] = []
    for proc in processes:
        try:
            parent = psutil.Process(proc.pid)
            family += [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    for proc in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    for member in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    for proc in processes:
        proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while True:
        alive = [p.pid for p in family if _running(p)]
        if not alive:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes survived the cluster teardown: {alive}")
        time.sleep(0.05)


def _running(process: psutil.Process) -> bool:
    """Alive and not a zombie (an orphaned worker's exit is reaped by init, maybe late)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
