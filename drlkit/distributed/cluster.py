"""Connecting to Dask: a local cluster on this machine, or an existing one.

>>> import drlkit
>>> with drlkit.cluster(n_workers=2) as client:      # doctest: +SKIP
...     result = drlkit.distributed.train(agent, mode="sync", total_steps=50_000)

Without an address, :func:`cluster` starts a ``LocalCluster`` of single-threaded
worker *processes* (each with its own Python interpreter, as on separate
machines) and prints the link to the Dask dashboard. Everything it starts
listens on 127.0.0.1 only, so nobody else on the network can reach it.

With ``address=`` it connects to a running scheduler, e.g. one started with
``dask scheduler`` / ``dask worker`` on a lab cluster, and leaves that cluster
running when the ``with`` block ends.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from typing import Any, Iterator

from .._checks import check_number

#: Seconds to wait for a scheduler to answer before reporting it unreachable.
CONNECT_TIMEOUT = 5.0

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

    n_workers = check_number("n_workers", n_workers, low=1, integer=True)
    threads_per_worker = check_number("threads_per_worker", threads_per_worker, low=1, integer=True)
    timeout = check_number("timeout", timeout, low=0, low_open=True)

    if isinstance(address, Client):
        _reject_local_options(kw)
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
            f"or a cluster object; got {type(address).__name__}"
        )
    try:
        if not quiet:
            n = len(client.scheduler_info()["workers"])
            print(f"Connected to {client.scheduler.address} ({n} workers); dashboard: {client.dashboard_link}")
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

    ``distributed.Client`` would also time out, but a failed client keeps
    trying to close itself for several more seconds; this probe fails cleanly.
    """
    from distributed.comm import connect
    from distributed.security import Security

    if address.startswith("tls://") and security is None:
        raise ValueError(
            f"address {address!r} uses TLS: pass security=distributed.security.Security(tls_ca_file=..., "
            "tls_client_cert=..., tls_client_key=...)"
        )

    async def identity() -> dict:
        args = (security or Security()).get_connection_args("client")
        comm = await connect(address, timeout=timeout, **args)
        try:
            await asyncio.wait_for(comm.write({"op": "identity"}), timeout)
            return await asyncio.wait_for(comm.read(), timeout)
        finally:
            comm.abort()

    try:
        # A thread of its own: inside Jupyter an event loop already runs in this thread.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            reply = pool.submit(asyncio.run, identity()).result()
    except ValueError as exc:  # unknown scheme, malformed address
        raise ValueError(f"address {address!r} is not a Dask scheduler address: {exc}") from None
    except Exception as exc:  # refused, timed out, TLS mismatch, garbage from a non-Dask server
        raise ConnectionError(
            f"no Dask scheduler answered at {address!r} within {timeout:g} s "
            f"({type(exc).__name__}: {str(exc)[:120]}); is `dask scheduler` running there and reachable "
            f"(firewall, tls:// vs tcp://, security=)?"
        ) from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ConnectionError(f"the server at {address!r} is not a Dask scheduler (it answered {str(reply)[:80]})")
