"""Connecting to Dask: a local cluster on this machine, or an existing one.

>>> import drlkit
>>> with drlkit.cluster(n_workers=2) as client:      # doctest: +SKIP
...     result = drlkit.distributed.train(agent, mode="sync", total_steps=50_000)

Without an address, :func:`cluster` starts a ``LocalCluster`` of single-threaded
worker *processes* (each with its own Python interpreter, as on separate
machines) and prints the link to the Dask dashboard. Everything it starts
listens on 127.0.0.1 only, so nobody else on the network can reach it.

With ``address=`` it connects to a running scheduler, e.g. one started with
``dask scheduler`` / ``dask worker`` on a lab cluster or by a cluster manager
(``SSHCluster``, ``dask-jobqueue``, ``dask-kubernetes``, Coiled), and leaves that
cluster running when the ``with`` block ends. Before it hands out the client it
checks that the scheduler and every worker run the driver's versions of the
packages whose objects travel between them (:func:`check_worker_versions`): a
worker without drlkit, or with another torch, fails at once with the package
and both versions named, not later with an unpickling traceback.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import difflib
import inspect
import logging
import socket
from collections.abc import Iterator
from typing import Any

from .._checks import check_number

#: Seconds to wait for a scheduler to answer before reporting it unreachable.
CONNECT_TIMEOUT = 5.0

#: Packages that must be the same on the driver, the scheduler and every worker: drlkit's tasks,
#: parameters (numpy arrays, torch tensors) and environments travel between them pickled.
CHECKED_PACKAGES = ("drlkit", "torch", "gymnasium", "numpy", "cloudpickle", "dask", "distributed")

#: Seconds to wait for the scheduler and workers to report their package versions.
VERSION_TIMEOUT = 10.0


class ClusterEnvironmentError(RuntimeError):
    """The scheduler or a worker lacks drlkit or runs other versions of the packages than the driver."""


_NO_CLIENT_HELP = (
    "no Dask client is running; start one with `with drlkit.cluster(n_workers=2) as client:` "
    "(a cluster on this machine) or `with drlkit.cluster(address='tcp://host:8786') as client:` "
    "(an existing cluster), or pass client=distributed.Client(...)"
)


@contextlib.contextmanager
def cluster(
    n_workers: int = 2,
    address: Any = None,
    *,
    security: Any = None,
    threads_per_worker: int = 1,
    timeout: float = CONNECT_TIMEOUT,
    quiet: bool = False,
    **kw: Any,
) -> Iterator[Any]:
    """A ``distributed.Client`` for the ``with`` block: a new local cluster, or an existing one.

    Parameters
    ----------
    n_workers : int >= 1
        Worker processes of the local cluster (ignored with ``address``).
    address : str, distributed.Client or cluster object, optional
        ``None`` starts a ``LocalCluster`` on 127.0.0.1 and shuts it down at the end
        of the block. A scheduler address such as ``"tcp://10.0.0.5:8786"`` (or
        ``"tls://..."``), or a cluster object with a ``scheduler_address``, connects
        to it; an existing ``Client`` is used as it is. Clusters given by address
        keep running after the block (only the connection is closed).
    security : distributed.security.Security, optional
        TLS settings, passed to the client and, for a local cluster, to the cluster
        (e.g. ``Security.temporary()`` for encrypted local traffic).
    threads_per_worker : int >= 1
        Threads per worker process. The default 1 makes every worker a single
        actor, like one core of a real cluster, and keeps torch from oversubscribing.
    timeout : float > 0
        Seconds to wait for a scheduler at ``address`` before raising ``ConnectionError``.
    quiet : bool
        Do not print the dashboard link.
    **kw
        Passed on to ``distributed.LocalCluster`` (e.g. ``memory_limit="1GiB"``).

    Yields
    ------
    distributed.Client
        Also the default client, so ``drlkit.distributed.train(...)`` finds it.
    """
    from distributed import Client

    # Upper bounds: more processes or threads than this machine could hold, or a wait longer than a day,
    # are typos (one zero too many), not plans.
    n_workers = check_number("n_workers", n_workers, low=1, high=1024, integer=True)
    threads_per_worker = check_number("threads_per_worker", threads_per_worker, low=1, high=1024, integer=True)
    timeout = check_number("timeout", timeout, low=0, low_open=True, high=86_400)

    if address is None:
        _check_local_options(kw)
    if isinstance(address, Client):
        _reject_local_options(kw)
        check_worker_versions(address, timeout=max(timeout, VERSION_TIMEOUT))
        yield address
        return

    if address is None:
        client, local = _start_local(n_workers, threads_per_worker, security, kw)
        try:
            if not quiet:
                n = len(client.scheduler_info()["workers"])
                print(f"Dask dashboard: {client.dashboard_link}  ({n} worker process{'es' * (n != 1)} on 127.0.0.1)")
            yield client
        finally:
            client.close()
            local.close()
        return

    _reject_local_options(kw)
    if isinstance(getattr(address, "scheduler_address", None), str):
        client = Client(address, security=security, timeout=timeout)
    elif isinstance(address, str):
        _probe_scheduler(address, timeout, security)
        client = Client(address, security=security, timeout=timeout)
    else:
        raise TypeError(
            f"address must be a scheduler address such as 'tcp://127.0.0.1:8786', a distributed.Client "
            f"or a cluster object (SSHCluster, SLURMCluster, KubeCluster, ...); got {type(address).__name__}"
        )
    try:
        check_worker_versions(client, timeout=max(timeout, VERSION_TIMEOUT))
    except BaseException:
        client.close()
        raise
    try:
        if not quiet:
            n = len(client.scheduler_info()["workers"])
            address = getattr(client.scheduler, "address", None)  # set once connected
            print(f"Connected to {address} ({n} workers); dashboard: {client.dashboard_link}")
        yield client
    finally:
        client.close()


def resolve_client(client: Any = None) -> Any:
    """``client`` if given, else the current default client; a clear error if there is none.

    Every distributed function in drlkit takes ``client=`` and resolves it with this.
    """
    from distributed import Client, default_client

    if client is None:
        try:
            client = default_client()
        except ValueError:
            raise RuntimeError(_NO_CLIENT_HELP) from None
    elif not isinstance(client, Client):
        raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}; {_NO_CLIENT_HELP}")
    if client.status not in ("running", "connecting"):
        raise RuntimeError(f"the Dask client is {client.status}; {_NO_CLIENT_HELP}")
    return client


#: Dashboard pages worth showing on their own (Dask serves each as a plain route).
DASHBOARD_PAGES = (
    "status",
    "individual-task-stream",
    "individual-progress",
    "individual-workers-memory",
    "individual-nprocessing",
    "workers",
    "tasks",
)


def dashboard_url(client: Any = None, page: str = "status") -> str:
    """The address of one page of ``client``'s Dask dashboard, as a browser would open it.

    It follows ``client.dashboard_link``, so it honours Dask's link template
    (``distributed.dashboard.link``, or the ``DASK_DISTRIBUTED__DASHBOARD__LINK``
    environment variable): on Binder or JupyterHub, ``binder/start`` sets it to the
    hub's proxy (``.../user/<name>/proxy/{port}/status``); under ``make tutorials``,
    to JupyterLab's own proxy (``/proxy/{port}/status``); elsewhere it is the plain
    ``http://127.0.0.1:<port>/status``.
    """
    from .._checks import check_choice

    page = check_choice("page", page, DASHBOARD_PAGES)
    client = resolve_client(client)
    link = getattr(client, "dashboard_link", None)
    if not link:
        raise ValueError("this client has no dashboard (is bokeh installed where the scheduler runs?)")
    base, sep, last = link.rstrip("/").rpartition("/")
    if not sep or last != "status":
        raise ValueError(
            f"the dashboard link {link!r} does not end in /status; set the link template "
            "(distributed.dashboard.link) to one that does, e.g. '/proxy/{port}/status'"
        )
    return f"{base}/{page}"


_CHECKED: dict[tuple[str, frozenset[str]], None] = {}


def check_worker_versions(client: Any, timeout: float = VERSION_TIMEOUT) -> None:
    """Raise :class:`ClusterEnvironmentError` unless the scheduler and every worker can run drlkit's tasks.

    They must have drlkit installed and the driver's versions of :data:`CHECKED_PACKAGES` (and the
    same Python ``major.minor``): otherwise a task fails later with an unpickling traceback from a
    worker, or worse, runs with other numerics. The versions come from Dask
    (``client.get_versions``), within ``timeout`` seconds; a cluster already checked with the same
    workers is not asked again. Workers that join later are not checked until the next call.
    """
    timeout = check_number("timeout", timeout, low=0, low_open=True)
    client = resolve_client(client)
    try:
        workers = frozenset(client.scheduler_info(n_workers=-1)["workers"])
    except TypeError:  # older distributed: no n_workers argument
        workers = frozenset(client.scheduler_info()["workers"])
    key = (str(client.scheduler.address), workers)
    if key in _CHECKED:
        return
    try:
        versions = client.sync(client._get_versions, packages=list(CHECKED_PACKAGES), callback_timeout=timeout)
    except (TimeoutError, asyncio.TimeoutError):
        raise ClusterEnvironmentError(
            f"the Dask scheduler at {client.scheduler.address} and its workers did not report their package "
            f"versions within {timeout:g} s; is a worker stuck or overloaded?"
        ) from None
    problems = _version_problems(
        versions["client"],
        {"the scheduler": versions["scheduler"], **{f"worker {a}": v for a, v in versions["workers"].items()}},
    )
    if problems:
        raise ClusterEnvironmentError(
            f"the Dask cluster at {client.scheduler.address} cannot run drlkit's tasks as this driver sends them:\n  "
            + "\n  ".join(problems)
            + "\nInstall the driver's versions in the scheduler's and workers' environment (or image), e.g. "
            + f"`pip install -c constraints.txt {_pins(versions['client'], problems)}`, then restart them."
        )
    if len(_CHECKED) > 256:
        _CHECKED.clear()
    _CHECKED[key] = None


def _version_problems(driver: dict, others: dict[str, Any]) -> list[str]:
    """One line per (package, place) whose version differs from the driver's."""
    mine = dict(driver.get("packages", {}))
    mine["python"] = _minor(mine.get("python"))
    problems = []
    for place, info in sorted(others.items()):
        theirs = dict(info.get("packages", {})) if isinstance(info, dict) else {}
        if not theirs:
            problems.append(f"{place} did not report its package versions")
            continue
        theirs["python"] = _minor(theirs.get("python"))
        for package in ("python", *CHECKED_PACKAGES):
            ours, other = _public(mine.get(package)), _public(theirs.get(package))
            if ours == other:
                continue
            if other is None:
                problems.append(f"{package} is not installed on {place} (the driver has {package} {ours})")
            elif ours is None:
                problems.append(f"{package} {other} is on {place} but not on the driver")
            else:
                problems.append(f"{package}: the driver has {ours}, {place} has {other}")
    return problems


def _pins(driver: dict, problems: list[str]) -> str:
    """``name==version`` of the driver for every package named in ``problems``."""
    packages = driver.get("packages", {})
    named = [p for p in CHECKED_PACKAGES if any(line.startswith((f"{p}:", f"{p} ")) for line in problems)]
    return " ".join(f"{p}=={_public(packages[p])}" for p in named if packages.get(p)) or "drlkit"


def _public(version: Any) -> str | None:
    """A version without its local label: torch 2.13.0+cpu and 2.13.0 exchange tensors alike."""
    return None if version is None else str(version).split("+", 1)[0]


def _minor(version: Any) -> str | None:
    return None if version is None else ".".join(str(version).split(".")[:2])


def _cluster_options() -> set[str]:
    """Option names drlkit.cluster() passes on to a LocalCluster and, through it, to its workers."""
    from distributed import LocalCluster, Nanny, Worker

    names: set[str] = set()
    for cls in (LocalCluster, Nanny, Worker):
        names |= {
            n
            for n, p in inspect.signature(cls.__init__).parameters.items()
            if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }
    return names - {"n_workers", "threads_per_worker", "security", "scheduler_ip", "scheduler_port", "scheduler_file"}


def _check_local_options(kw: dict[str, Any]) -> None:
    allowed = _cluster_options()
    own = {"n_workers", "address", "security", "threads_per_worker", "timeout", "quiet"}
    for name in kw:
        if name not in allowed:
            close = difflib.get_close_matches(name, sorted(allowed | own), n=1, cutoff=0.6)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else (
                    "; drlkit.cluster() takes n_workers, address, security, threads_per_worker, timeout, quiet and "
                    "the options of distributed.LocalCluster (e.g. memory_limit, dashboard_address, processes)"
                )
            )
            raise TypeError(f"drlkit.cluster() got an unknown option {name!r}{hint}")


# ----------------------------------------------------------------- helpers
def _start_local(n_workers: int, threads_per_worker: int, security: Any, kw: dict[str, Any]) -> tuple[Any, Any]:
    from distributed import Client, LocalCluster

    options: dict[str, Any] = {
        "processes": True,
        "host": "127.0.0.1",  # scheduler and workers: loopback only
        "dashboard_address": "127.0.0.1:0",  # any free port, loopback only (the default is 0.0.0.0:8787)
        "silence_logs": logging.ERROR,  # workers restarting after a kill are expected, not news
    }
    options.update(kw)
    if security is not None:
        options["security"] = security
        options.setdefault("protocol", "tls://")
    local = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, **options)
    try:
        client = Client(local, security=security)
    except BaseException:
        local.close()
        raise
    return client, local


def _reject_local_options(kw: dict[str, Any]) -> None:
    if kw:
        raise TypeError(
            f"options {sorted(kw)} configure a new local cluster and cannot be used with address=; "
            "configure the existing cluster where it is started instead"
        )


def _probe_scheduler(address: str, timeout: float, security: Any) -> None:
    """Check that a Dask scheduler answers at ``address`` within ``timeout`` seconds.

    ``distributed.Client`` would also time out, but a failed client keeps trying to close itself
    for several more seconds, and Dask's connection handshake itself has no time limit: a server
    that accepts the connection and says nothing would hold it forever. This probe bounds every
    step by ``timeout`` and says which step failed: nothing listening, something listening that
    does not answer, or something answering that is not a Dask scheduler (an HTTP server such as
    the dashboard's port, say).
    """
    from distributed.comm import connect
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.security import Security

    if address.startswith("tls://") and security is None:
        raise ValueError(
            f"address {address!r} uses TLS: pass security=distributed.security.Security(tls_ca_file=..., "
            "tls_client_cert=..., tls_client_key=...)"
        )
    try:
        scheme, location = parse_address(address)
        host, port = parse_host_port(location) if scheme in ("tcp", "tls") else (None, None)
    except ValueError as exc:
        raise ValueError(f"address {address!r} is not a Dask scheduler address: {exc}") from None
    if host is not None and port is not None:  # parse_host_port gives both or raises
        _tcp_reachable(address, host, port, timeout)

    async def identity() -> dict:
        args = (security or Security()).get_connection_args("client")
        comm = await connect(address, timeout=timeout, **args)
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            comm.abort()

    async def bounded() -> dict:
        # One deadline for connection, handshake, request and reply.
        return await asyncio.wait_for(identity(), timeout)

    try:
        # A thread of its own: inside Jupyter an event loop already runs in this thread.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            reply = pool.submit(asyncio.run, bounded()).result()
    except ValueError as exc:  # unknown scheme, malformed address
        raise ValueError(f"address {address!r} is not a Dask scheduler address: {exc}") from None
    except (TimeoutError, asyncio.TimeoutError):
        http = _http_status(host, port, timeout) if host is not None and port is not None else None
        if http is not None:  # a web server waiting for the rest of a request that Dask never sends
            raise ConnectionError(_not_a_scheduler(address, http, TimeoutError("no Dask reply"))) from None
        raise ConnectionError(
            f"no Dask scheduler answered at {address!r} within {timeout:g} s: a server accepted the connection "
            "there but did not answer as a scheduler. Is this the scheduler's port (usually 8786), is the "
            "scheduler overloaded, or does it expect TLS (tls:// and security=)?"
        ) from None
    except OSError as exc:  # refused, reset, TLS mismatch
        raise ConnectionError(
            f"no Dask scheduler answered at {address!r} within {timeout:g} s "
            f"({type(exc).__name__}: {str(exc)[:120]}); is `dask scheduler` running there and reachable "
            f"(firewall, tls:// vs tcp://, security=)?"
        ) from None
    except Exception as exc:  # noqa: BLE001 - bytes that are not Dask's protocol (e.g. an HTTP reply read as a frame size)
        http = _http_status(host, port, timeout) if host is not None and port is not None else None
        raise ConnectionError(_not_a_scheduler(address, http, exc)) from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ConnectionError(
            f"something answered at {address!r}, but it is not a Dask scheduler (it answered {str(reply)[:80]}); "
            "is this a worker's or another service's address?"
        )


def _tcp_reachable(address: str, host: str, port: int, timeout: float) -> None:
    """A plain TCP connection, to tell 'nothing listens' from 'something listens but is not Dask'."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except TimeoutError:
        raise ConnectionError(
            f"no Dask scheduler answered at {address!r} within {timeout:g} s (the TCP connection was not "
            "accepted: a firewall, or a host that is down?)"
        ) from None
    except OSError as exc:
        raise ConnectionError(
            f"no Dask scheduler answered at {address!r} within {timeout:g} s ({type(exc).__name__}: "
            f"{str(exc)[:120]}); is `dask scheduler` running there and reachable (firewall, tls:// vs tcp://)?"
        ) from None


def _http_status(host: str, port: int, timeout: float) -> str | None:
    """The status line if the server at ``host:port`` answers an HTTP request, else None."""
    try:
        with socket.create_connection((host, port), timeout=min(timeout, 2.0)) as sock:
            sock.settimeout(min(timeout, 2.0))
            sock.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
            first = sock.recv(64)
    except OSError:
        return None
    if not first.startswith(b"HTTP/"):
        return None
    return first.split(b"\r\n", 1)[0].decode("latin-1")


def _not_a_scheduler(address: str, http_status: str | None, exc: BaseException) -> str:
    """The message for a server that answered, but not in Dask's protocol; says if it speaks HTTP."""
    what = ""
    if http_status is not None:
        what = (
            f" It speaks HTTP ({http_status!r}): a web server, such as the Dask dashboard (usually port "
            "8787), not the scheduler (usually 8786)."
        )
    return (
        f"something answered at {address!r}, but it is not a Dask scheduler: its reply is not Dask's protocol "
        f"({type(exc).__name__}: {str(exc)[:80]}).{what} Use the address the scheduler prints as "
        "'Scheduler at: tcp://...', or client.scheduler.address."
    )
