"""drlkit.cluster(): local clusters bound to 127.0.0.1, existing clusters by address, clear errors."""

from __future__ import annotations

import asyncio
import concurrent.futures
import operator
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

import psutil
import pytest
from distributed import Client

import drlkit
from drlkit.distributed import resolve_client

from dask_processes import cli_cluster


def _listening(processes) -> set[tuple[str, int, int]]:
    """(ip, port, pid) of every TCP socket the given processes listen on."""
    found = set()
    for proc in processes:
        try:
            for conn in proc.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN:
                    found.add((conn.laddr.ip, conn.laddr.port, proc.pid))
        except psutil.NoSuchProcess:
            pass
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _raises_within(seconds: float, func):
    """Run ``func`` in a thread; return the exception it raised (fail if it hangs or returns)."""
    outcome: dict = {}

    def target():
        try:
            func()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: it hangs instead of failing"
    assert "error" in outcome, "no error raised"
    return outcome["error"]


@pytest.mark.cluster
def test_local_cluster_binds_scheduler_workers_and_dashboard_to_loopback(capsys):
    me = psutil.Process()
    before = _listening([me])
    with drlkit.cluster(n_workers=2) as client:
        info = client.scheduler_info()
        assert urlparse(info["address"]).hostname == "127.0.0.1"
        assert len(info["workers"]) == 2
        assert all(urlparse(address).hostname == "127.0.0.1" for address in info["workers"])
        assert urlparse(client.dashboard_link).hostname == "127.0.0.1"
        assert client.submit(operator.add, 2, 3).result() == 5
        # Nothing that the cluster opened listens beyond loopback (the default would be 0.0.0.0).
        workers = [psutil.Process(pid) for pid in client.run(os.getpid).values()]
        opened = (_listening([me]) - before) | _listening(workers)
        assert opened, "expected the scheduler, dashboard and workers to listen"
        assert {ip for ip, _, _ in opened} == {"127.0.0.1"}, opened
        dashboard_port = urlparse(client.dashboard_link).port
        assert any(port == dashboard_port for _, port, _ in opened)
    printed = capsys.readouterr().out
    assert client.dashboard_link in printed
    assert client.status == "closed"
    psutil.wait_procs(workers, timeout=30)
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in workers), "workers leaked"


@pytest.mark.cluster
def test_local_cluster_is_the_default_client_inside_the_block():
    with drlkit.cluster(n_workers=1, quiet=True) as client:
        assert resolve_client() is client
        assert resolve_client(client) is client
    with pytest.raises(RuntimeError, match="closed"):
        resolve_client(client)


def test_without_any_client_the_error_says_how_to_start_one():
    # A fresh interpreter, so that no client of another test can be the default.
    code = (
        "import drlkit\n"
        "from drlkit.agents.a2c import A2C\n"
        "for call in (drlkit.distributed.resolve_client,\n"
        "             lambda: drlkit.distributed.train(A2C('CartPole-v1'), 'sync', total_steps=100)):\n"
        "    try:\n"
        "        call()\n"
        "    except RuntimeError as error:\n"
        "        print('RuntimeError:', error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    lines = out.strip().splitlines()
    assert len(lines) == 2, out
    assert all(
        line.startswith("RuntimeError: no Dask client is running") and "drlkit.cluster(n_workers=2)" in line
        for line in lines
    )


def test_unreachable_address_fails_quickly_naming_the_address():
    address = f"tcp://127.0.0.1:{_free_port()}"

    def connect():
        with drlkit.cluster(address=address, timeout=1):
            pass

    error = _raises_within(30, connect)
    assert isinstance(error, ConnectionError)
    assert address in str(error) and "1 s" in str(error)


def test_malformed_and_tls_addresses_explain_what_is_wrong():
    with pytest.raises(ValueError, match="bogus"):
        with drlkit.cluster(address="bogus://somewhere:1"):
            pass
    with pytest.raises(ValueError, match="security="):
        with drlkit.cluster(address="tls://127.0.0.1:1"):
            pass
    with pytest.raises(TypeError, match="address"):
        with drlkit.cluster(address=8786):
            pass


@pytest.mark.parametrize("n_workers, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("2", TypeError)])
def test_bad_n_workers_is_rejected_before_starting_anything(n_workers, error):
    with pytest.raises(error, match="n_workers"):
        with drlkit.cluster(n_workers=n_workers):
            pass


def test_bad_threads_and_local_options_with_an_address():
    with pytest.raises(ValueError, match="threads_per_worker"):
        with drlkit.cluster(threads_per_worker=0):
            pass
    with pytest.raises(TypeError, match="memory_limit"):
        with drlkit.cluster(address="tcp://127.0.0.1:1", memory_limit="1GiB"):
            pass


def test_resolve_client_rejects_other_objects():
    with pytest.raises(TypeError, match="distributed.Client"):
        resolve_client("tcp://127.0.0.1:8786")


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    with cli_cluster(tmp_path_factory.mktemp("dask"), n_workers=2) as cluster:
        yield cluster


@pytest.mark.cluster
def test_connects_to_an_existing_cluster_and_leaves_it_running(cli, capsys):
    with drlkit.cluster(address=cli.address) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        assert client.submit(operator.mul, 6, 7).result() == 42
    assert cli.address in capsys.readouterr().out
    assert client.status == "closed"
    assert cli.scheduler.poll() is None and all(w.poll() is None for w in cli.workers)
    with Client(cli.address, timeout=10) as again:
        assert len(again.scheduler_info()["workers"]) == 2


@pytest.mark.cluster
def test_an_existing_client_is_used_as_is(cli):
    with Client(cli.address, timeout=10) as mine:
        with drlkit.cluster(address=mine) as client:
            assert client is mine
        assert mine.status == "running"
        assert mine.submit(operator.add, 1, 1).result() == 2


@pytest.mark.cluster
@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_tls_security_passes_through(tmp_path):
    from distributed.security import Security

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    c, k = str(cert), str(key)
    security = Security(
        tls_ca_file=c,
        tls_client_cert=c,
        tls_client_key=k,
        tls_scheduler_cert=c,
        tls_scheduler_key=k,
        tls_worker_cert=c,
        tls_worker_key=k,
        require_encryption=True,
    )
    with drlkit.cluster(n_workers=1, security=security, quiet=True) as client:
        address = client.scheduler_info()["address"]
        assert address.startswith("tls://127.0.0.1:")
        assert client.submit(operator.add, 1, 2).result() == 3
        with drlkit.cluster(address=address, security=security, quiet=True) as second:
            assert second.submit(operator.add, 2, 2).result() == 4
        # Without the certificates the scheduler does not talk to us.
        plain = Security(tls_ca_file=c, require_encryption=True)
        error = _raises_within(30, lambda: drlkit.cluster(address=address, security=plain, timeout=2).__enter__())
        assert isinstance(error, ConnectionError) and address in str(error)


def test_unreachable_address_is_reported_inside_a_running_event_loop():
    # Jupyter kernels run an event loop in the main thread; the probe must still work there.
    async def connect_from_a_coroutine():
        with pytest.raises(ConnectionError, match="127.0.0.1:1"):
            with drlkit.cluster(address="tcp://127.0.0.1:1", timeout=2):
                pass

    # A fresh thread, so the loop is ours whatever earlier tests left running in the main thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, connect_from_a_coroutine()).result()


# ----------------------------------------------------------------- servers that are not a scheduler
@pytest.fixture
def silent_server():
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def test_a_server_that_accepts_and_says_nothing_fails_within_the_timeout(silent_server):
    def connect():
        with drlkit.cluster(address=silent_server, timeout=1.5):
            pass

    start = time.monotonic()
    error = _raises_within(30, connect)
    seconds = time.monotonic() - start
    assert isinstance(error, ConnectionError), repr(error)
    assert silent_server in str(error) and "1.5 s" in str(error) and "accepted the connection" in str(error)
    assert seconds < 6, f"took {seconds:.1f} s with timeout=1.5"


@pytest.mark.cluster
def test_the_dashboard_port_is_named_as_http_not_a_scheduler(cli):
    # The real dashboard of a running cluster: something answers there, and it is not a scheduler.
    with Client(cli.address, timeout=10, set_as_default=False) as client:
        port = urlparse(client.dashboard_link).port
    address = f"tcp://127.0.0.1:{port}"
    error = _raises_within(30, lambda: drlkit.cluster(address=address, timeout=3).__enter__())
    assert isinstance(error, ConnectionError), repr(error)
    message = str(error)
    assert address in message and "not a Dask scheduler" in message and "HTTP" in message, message
    assert "MemoryError" not in message and "Unable to allocate" not in message, message


@pytest.mark.parametrize(
    "option, suggestion",
    [
        ("n_worker", "n_workers"),
        ("memory_limt", "memory_limit"),
        ("treads_per_worker", "threads_per_worker"),
        ("dashbord_address", "dashboard_address"),
    ],
)
def test_a_misspelled_option_is_named_with_a_suggestion_before_anything_starts(option, suggestion):
    me = psutil.Process()
    children = {p.pid for p in me.children(recursive=True)}
    start = time.monotonic()
    with pytest.raises(TypeError, match=rf"unknown option '{option}'; did you mean '{suggestion}'\?"):
        with drlkit.cluster(**{option: 2}):
            pass
    assert time.monotonic() - start < 2
    assert {p.pid for p in me.children(recursive=True)} <= children, "a cluster was started"


def test_an_unknown_option_without_a_close_name_lists_what_is_allowed():
    with pytest.raises(TypeError, match=r"unknown option 'gpu'.*memory_limit"):
        with drlkit.cluster(gpu=True):
            pass
