"""Fuzz drlkit.cluster(): addresses, timeouts and options.

Every call must end within its bound with a documented exception that names what was wrong
(the address, the option, the timeout), never hang and never start a cluster for a bad option.
Addresses stay on 127.0.0.1 (or fail to parse before any lookup): nothing leaves this machine.
"""

from __future__ import annotations

import socket

from fuzz_tools import call_cleanly, fuzz_settings, junk
from hypothesis import given
from hypothesis import strategies as st

import drlkit
from drlkit.distributed.cluster import _cluster_options


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MALFORMED = [
    "",
    "tcp://",
    "tcp://127.0.0.1",
    "tcp://127.0.0.1:notaport",
    "tcp://127.0.0.1:99999",
    "udp://127.0.0.1:8786",
    "tls://127.0.0.1:8786",
    "tcp://[::1",
    "ws:/127.0.0.1:1",
    "127.0.0.1:-3",
]
ADDRESSES = st.one_of(
    st.sampled_from(MALFORMED),
    st.builds(
        lambda port, scheme: f"{scheme}127.0.0.1:{port}",
        st.just(0).map(lambda _: _closed_port()),
        st.sampled_from(["tcp://", ""]),
    ),
    junk().filter(lambda v: v is not None),
)
OWN = {"n_workers", "address", "security", "threads_per_worker", "timeout", "quiet"}
UNKNOWN_OPTIONS = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=14).filter(
    lambda name: name not in _cluster_options() | OWN
)


def _connect(**kwargs):
    with drlkit.cluster(**kwargs):
        pass


@fuzz_settings(25)
@given(address=ADDRESSES, timeout=st.sampled_from([0.3, 0.5]))
def test_addresses_fail_fast_and_name_the_address(address, timeout):
    _, error = call_cleanly(
        lambda: _connect(address=address, timeout=timeout),
        ["address", str(address), "TLS", "security"],
        seconds=timeout + 8,
    )
    assert error is not None, f"drlkit.cluster(address={address!r}) connected to something"


@fuzz_settings(25)
@given(name=UNKNOWN_OPTIONS, value=st.one_of(st.integers(), st.text(max_size=5), st.booleans()))
def test_unknown_options_are_named_before_anything_starts(name, value):
    _, error = call_cleanly(lambda: _connect(**{name: value}), [name], seconds=5)
    assert error is not None and "unknown option" in str(error)


@fuzz_settings(20)
@given(
    field=st.sampled_from(["timeout", "n_workers", "threads_per_worker"]),
    value=st.one_of(junk(), st.sampled_from([0, -1, -0.5, 1.5, float("nan"), float("inf")])),
)
def test_bad_numbers_are_named(field, value):
    # With an address nothing local starts, so only the validation is exercised.
    kwargs = {"address": f"tcp://127.0.0.1:{_closed_port()}", "timeout": 0.3, field: value}
    _, error = call_cleanly(lambda: _connect(**kwargs), [field, "address"], seconds=10)
    assert error is not None
