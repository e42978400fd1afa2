"""The machinery every training mode shares: sending work, waiting for it, surviving failures, bookkeeping.

This is the one module of drlkit that talks to Dask (submit, scatter, gather, wait);
``cluster.py`` only starts and checks clusters. Besides the training modes it runs
*independent* tasks (:func:`run_tasks`: ``map_tasks`` and the rounds of distributed
tabular Q-learning) with the same guarantees.

A mode (``sync.py``, ``async_.py``, ``rollouts.py``) is a short loop written
with a :class:`Run`:

* :meth:`Run.submit` sends one task for a worker *slot*, with the current
  parameters (scattered to the cluster once per version, then passed by
  reference), and returns a :class:`Ticket`;
* :meth:`Run.wait_any` blocks until some task finished (and meanwhile kills a
  worker on schedule, notices workers leaving and joining, resends tasks whose
  input the cluster lost, and raises a clear error when every worker is gone);
* :meth:`Run.fetch` collects results, :meth:`Run.cancel` drops stragglers;
* :meth:`Run.submit_tree` sends merge tasks that sum a synchronous round's results on the
  workers (data moves worker to worker) and :meth:`Run.fetch_tree` fetches their root, or
  says the round must be merged on the driver (a slot was sent again, the tree was lost);
* :func:`serve` is the asynchronous server loop (``async``, ``a3c``, ``rollouts``):
  it merges whatever results have arrived as one batch, one new version per batch;
* :meth:`Run.record` books a result: a row in the result table, the
  episodes it finished, and -- for an applied update -- a row in the agent's
  History, the progress bar and the user's callbacks.
* ``Run.submit_many(..., inputs=...)`` gives each slot its own input in place of
  the shared parameters (a population member's state, an actor's job), kept on the
  driver and sent again as it was if the task is lost;
* :func:`run_pinned` runs a graph of calls pinned to workers whose state lives there
  (the stages of a model split across workers), results passed worker to worker.

The authoritative parameters are always the driver's ``agent``: a mode changes
them (merge, ``learn_from``, ``apply_gradients``) and bumps ``run.version``.
Workers only ever hold copies, so a worker dying loses at most the work in
flight: the driver books it as ``lost`` and sends it again, as an ordinary task,
to a live worker (Dask itself re-runs a finished result that died before it was
fetched). Every wait is bounded: the driver looks at the cluster at least every
:data:`POLL_INTERVAL` seconds, and fetching results or sending tasks gives up
with a clear error after ``worker_timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import pickle
import queue
import threading
import time
import uuid
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import Any, Callable, NoReturn, Sequence, overload

import numpy as np

from ..agents.base import Timer
from .result import DistributedResult
from .worker import Recipe, SlotServer, TaskReport, Work, kill_this_process, payload_bytes, prepare_slot

#: How often (seconds) the driver looks at the cluster while no result arrives.
POLL_INTERVAL = 0.25

#: Parameters up to this many bytes travel inside each task (no scatter round trip,
#: and a task whose worker dies depends on nothing that died with it); larger ones
#: are sent straight to the workers once per version and passed by reference.
INLINE_PARAMS_BYTES = 64 * 1024

#: Seconds after sending tasks before the driver lets go of futures it no longer needs
#: (:meth:`Run._release_garbage`).
RELEASE_AFTER = 0.02

#: Let go of them sooner once the results they hold on the workers add up to this many bytes.
RELEASE_BYTES = 64 * 2**20

#: Longest single attempt (seconds) to fetch finished results before looking at the cluster again.
FETCH_ATTEMPT_SECONDS = 5.0


class DistributedTrainingError(RuntimeError):
    """Training stopped early; ``result`` holds everything up to the last applied update
    (``result.agent`` has exactly those parameters)."""

    def __init__(self, message: str, result: DistributedResult) -> None:
        super().__init__(message)
        self.result = result


class DirectCall:
    """A task sent straight to a worker's :class:`~drlkit.distributed.worker.SlotServer`
    (``transport="actors"``). It answers like a Dask future where the engine asks
    (``key``, ``status``, ``exception()``, ``add_done_callback``); its result arrives
    with the reply (``value``), so nothing is left to gather.

    ``status``: ``"pending"``, then ``"finished"``, ``"error"`` (the task raised) or
    ``"cancelled"``; ``lost`` is True when the worker could not be reached or the
    connection broke (the driver then sends the work again as an ordinary task).
    """

    def __init__(self, key: str, address: str) -> None:
        self.key = key
        self.address = address
        self.status = "pending"
        self.lost = False
        self.value: Any = None
        self._exception: BaseException | None = None
        self._callbacks: list[Callable[[Any], Any]] = []
        self._lock = threading.Lock()
        self.task: Any = None  # the asyncio task on the client's event loop

    def add_done_callback(self, callback: Callable[[Any], Any]) -> None:
        with self._lock:
            if self.status == "pending":
                self._callbacks.append(callback)
                return
        callback(self)

    def exception(self) -> BaseException | None:
        return self._exception

    def settle(
        self, status: str, value: Any = None, exception: BaseException | None = None, lost: bool = False
    ) -> None:
        with self._lock:
            if self.status != "pending":
                return
            self.status, self.value, self._exception, self.lost = status, value, exception, lost
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)


@dataclass(eq=False)
class Ticket:
    """One task in flight: which slot, what work, where it was sent and when."""

    slot: int
    task: Callable[..., Any]
    work: Work
    address: str
    submit_time: float
    round: int
    future: Any
    #: What the task gets instead of the driver's current parameters (e.g. gossip: the neighbours'
    #: parameter futures); ``None``: the driver's parameters. ``bytes_in``: payload bytes it receives.
    inputs: Any = None
    bytes_in: int = 0


@dataclass(eq=False)
class Tree:
    """The merge tasks of one synchronous round (:meth:`Run.submit_tree`): the round's tickets in
    slot order, the slot futures the tree was built on, and every merge future, the root last."""

    tickets: list[Ticket]
    children: list[Any]
    merges: list[Any]


@dataclass
class Settings:
    """Run-wide settings common to all modes (validated by :func:`drlkit.distributed.train`)."""

    total_steps: int
    n_slots: int
    fragment_steps: int
    delays: dict[int, float]
    slowdown: dict[int, float]
    kill_worker_at: tuple[float, int] | None
    worker_timeout: float
    #: Send each parameter version to every worker up front (synchronous rounds).
    broadcast: bool = False
    #: Options every task gets in ``Work.options`` (FedProx's μ, compression).
    task_options: dict[str, Any] = field(default_factory=dict)
    #: ``"tasks"``: every task goes through the Dask scheduler (shown on the dashboard);
    #: ``"actors"``: the driver calls a :class:`~drlkit.distributed.worker.SlotServer` on each
    #: worker directly (see :data:`TRANSPORTS`).
    transport: str = "tasks"


#: How tasks reach the workers (``train(..., transport=...)``).
TRANSPORTS = {
    "tasks": "every task goes through the Dask scheduler and appears on the dashboard's task stream",
    "actors": "the driver calls one Dask Actor per worker directly: one message each way per task, "
    "the lowest latency, but the calls do not appear on the dashboard's task stream",
}


class Run:
    """State of one call to :func:`drlkit.distributed.train` (see module docstring)."""

    def __init__(
        self,
        client: Any,
        agent: Any,
        recipe: Recipe,
        settings: Settings,
        result: DistributedResult,
        callbacks: Sequence[Callable[[Any], Any]],
        on_update: Callable[[DistributedResult], Any] | None,
        progress: bool,
    ) -> None:
        self.client = client
        self.agent = agent
        self.recipe = recipe
        self.settings = settings
        self.result = result
        self.callbacks = list(callbacks)
        self.on_update = on_update
        #: Parameter updates applied so far in this run; work is stamped with it.
        self.version = 0
        #: Env steps received (applied or dropped) and still expected from tasks in flight.
        self.steps_received = 0
        self.steps_in_flight = 0
        self.stopped = False
        self._finished = False
        self.until = agent.total_steps + settings.total_steps
        self._show_progress = progress
        self.timer = Timer(agent, self.until, False)
        self._start = time.perf_counter()
        self._done: queue.Queue = queue.Queue()
        self._ready: collections.deque[Ticket] = collections.deque()  # finished, not yet handed out
        self._pending: dict[str, Ticket] = {}
        self._orphans: list[Ticket] = []  # lost with their worker, to be sent again once a worker is alive
        self._params_future: Any = None
        self._params_version = -1
        self._params_nbytes = 0
        self._params_value: Any = None
        self._value_version = -1
        #: transport="actors": worker address -> (actor key, the future that keeps the actor alive).
        self._actors: dict[str, tuple[str, Any]] = {}
        #: Modes whose tickets carry their own ``inputs`` (gossip) set this: called with a lost
        #: ticket, it returns the inputs to send it again with (e.g. the driver's copies).
        self.inputs_for_resend: Callable[[Ticket], Any] | None = None
        self._slot_address: dict[int, str] = {}
        self._workers: set[str] = set()
        self._workers_checked = -math.inf
        self._no_workers_since: float | None = None
        self._kill_pending = settings.kill_worker_at is not None
        #: Futures the run no longer needs; let go of while the driver waits (see _release_garbage).
        self._garbage: list[Any] = []
        self._last_send = -math.inf
        self._last_release = -math.inf
        self._old_garbage: list[Any] = []
        self._garbage_bytes = 0
        #: Seconds of the run before this process took it over (a resumed run continues its clock).
        self.time_offset = 0.0
        self._scheduler_lost_since: float | None = None
        #: Writes the run's state to disk (``train(checkpoint=...)``, see ``checkpoint.py``).
        self.checkpointer: Any = None
        self.refresh_workers()
        self._rebalance()

    def prepare(self) -> None:
        """Build every slot's agent on its worker, then restart the clock: the run's
        times measure training, not importing torch on fresh workers."""
        started = time.perf_counter()
        futures = [
            self.client.submit(
                prepare_slot,
                self.recipe,
                slot,
                workers=[self._address_of(slot)] or None,
                allow_other_workers=True,
                pure=False,
                key=f"drlkit-prepare-{self.recipe.token}-{self._next_key()}",
            )
            for slot in range(self.settings.n_slots)
        ]
        try:
            self.client.gather(futures)
        except Exception as exc:
            self._fail(
                f"the workers could not build the agent ({type(exc).__name__}: {exc}); is drlkit, with the "
                f"module that defines {type(self.agent).__name__}, installed where the workers run?",
                cause=exc,
            )
        if self.settings.transport == "actors":
            self._start_actors(sorted(self._workers))
        self.result.setup_time = time.perf_counter() - started
        self._start = time.perf_counter()
        self.timer = Timer(self.agent, self.until, self._show_progress)

    # ------------------------------------------------------------- clock
    def elapsed(self) -> float:
        """Driver seconds since the run started."""
        return time.perf_counter() - self._start + self.time_offset

    def wants_more(self, steps: int = 0) -> bool:
        """True while the step budget (counting work in flight, plus ``steps`` more) is not used up."""
        return not self.stopped and self.steps_received + self.steps_in_flight + steps < self.settings.total_steps

    # ------------------------------------------------------------ sending
    def submit(self, slot: int, task: Callable[..., Any], local_steps: int = 1, round: int = -1) -> Ticket:
        """Send ``task`` for ``slot`` with the current parameters and version."""
        return self.submit_many([slot], task, local_steps, round)[0]

    def submit_many(
        self,
        slots: Sequence[int],
        task: Callable[..., Any],
        local_steps: int = 1,
        round: int = -1,
        inputs: Sequence[Any] | None = None,
        bytes_in: Sequence[int] | None = None,
    ) -> list[Ticket]:
        """Send ``task`` for every slot in ``slots`` (current parameters and version) in one message.

        Dask's client writes to the scheduler at most once per 10 ms: tasks submitted
        one after another would leave in several writes, the later ones waiting. All
        the tasks of a call are therefore submitted from one callback on the client's
        event loop, so they are queued before its sender wakes and leave together.

        ``inputs`` (one per slot) replaces the driver's parameters as the tasks' second
        argument: each slot's own input held on the driver (a population member's state), or
        Dask futures of other tasks' outputs (gossip: Dask then moves that data from worker to
        worker). A task lost with its worker is sent again with the same input, or with
        ``inputs_for_resend(ticket)`` when the mode sets it. ``bytes_in`` is what each task
        receives, for the record (default: :func:`payload_bytes` of its input).
        """
        if inputs is not None and len(inputs) != len(slots):
            raise ValueError(f"inputs must have one entry per slot ({len(slots)}); got {len(inputs)}")
        tickets = [
            Ticket(
                slot,
                task,
                self._work(slot, local_steps),
                "",
                0.0,
                round,
                None,
                None if inputs is None else inputs[i],
                int(bytes_in[i]) if bytes_in is not None else 0 if inputs is None else payload_bytes(inputs[i]),
            )
            for i, slot in enumerate(slots)
        ]
        if tickets:
            self._send(tickets)
            self.steps_in_flight += self.settings.fragment_steps * local_steps * len(tickets)
        return tickets

    def _work(self, slot: int, local_steps: int) -> Work:
        s = self.settings
        return Work(
            slot=slot,
            version=self.version,
            global_steps=self.agent.total_steps,
            fragment_steps=s.fragment_steps,
            local_steps=local_steps,
            delay=s.delays.get(slot, 0.0),
            slowdown=s.slowdown.get(slot, 1.0),
            options=s.task_options,
        )

    def _send(self, tickets: Sequence[Ticket], direct: bool = True) -> None:
        """Send ``tickets`` in one message to the scheduler, or -- ``transport="actors"`` and
        ``direct`` -- straight to the actors of their workers (work sent again after a loss
        always goes as an ordinary task, wherever it lands)."""
        for ticket in tickets:
            ticket.address = self._address_of(ticket.slot)
        calls = [t for t in tickets if direct and t.address in self._actors and not _holds_futures(t.inputs)]
        ordinary = [t for t in tickets if t not in calls]
        central = [t for t in ordinary if t.inputs is None]
        params = self._params([t.address for t in central]) if central else None
        # The parameters, pickled once for all of this send's direct calls.
        shared = _pickled(self._params_now()) if any(t.inputs is None for t in calls) else b""
        for ticket in tickets:
            if ticket.inputs is None:
                ticket.bytes_in = self._params_nbytes
        now = self.elapsed()
        for ticket in tickets:
            ticket.submit_time = now
            if ticket.address not in self._workers:  # it died while the parameters were sent
                ticket.address = self._address_of(ticket.slot)

        def key(t: Ticket) -> str:
            return f"drlkit-{t.task.__name__.replace('_', '-')}-{self.recipe.token}-{self._next_key()}"

        async def submit_all() -> list[Any]:
            futures: list[Any] = []
            for t in tickets:
                if t in calls:
                    call = DirectCall(key(t), t.address)
                    message = _pickled((t.task, self.recipe, t.work))
                    payload = shared if t.inputs is None else _pickled(t.inputs)
                    call.task = asyncio.ensure_future(
                        self._call_actor(call, self._actors[t.address][0], message, payload)
                    )
                    futures.append(call)
                    continue
                futures.append(
                    self.client.submit(
                        t.task,
                        self.recipe,
                        params if t.inputs is None else t.inputs,
                        t.work,
                        key=key(t),
                        workers=[t.address] if t.address else None,
                        allow_other_workers=True,
                        pure=False,
                        retries=0,
                    )
                )
            return futures

        futures = self._submit_on_loop(submit_all, "the tasks")
        for ticket, future in zip(tickets, futures):
            ticket.future = future
            self._pending[future.key] = ticket
            future.add_done_callback(self._done.put)
        self._last_send = self.elapsed()

    def _submit_on_loop(self, submit_all: Callable[[], Any], what: str) -> list[Any]:
        """Run ``submit_all`` (a coroutine function that submits) on the client's event loop, so that
        everything it submits leaves in one message; a clear error after ``worker_timeout`` seconds
        or when the connection to the scheduler is gone."""
        try:
            return self.client.sync(submit_all, callback_timeout=self.settings.worker_timeout)
        except TimeoutError as exc:
            self._fail(f"the Dask client did not send {what} within {self.settings.worker_timeout:g} s", cause=exc)
        except OSError as exc:  # the connection to the scheduler is gone
            self._fail(f"lost the connection to the Dask scheduler ({type(exc).__name__}: {exc})", cause=exc)

    async def _call_actor(self, call: DirectCall, actor_key: str, message: bytes, params: bytes) -> None:
        """One direct call, run on the client's event loop: ``SlotServer.call(message, params)`` on
        ``call.address``. A worker that cannot be reached, or whose connection breaks, makes
        the call ``lost``; a task that raises makes it ``error``."""
        try:
            reply = await self.client.rpc(call.address).actor_execute(
                actor=actor_key, function="call", args=[message, params], kwargs={}
            )
        except asyncio.CancelledError:
            call.settle("cancelled")
            raise
        except Exception:  # the worker is gone, or it no longer has the actor
            call.settle("cancelled", lost=True)
            return
        if reply.get("status") == "OK":
            call.settle("finished", value=pickle.loads(reply["result"]))
        else:
            exception = reply.get("exception")
            call.settle("error", exception=exception if isinstance(exception, BaseException) else None)

    def _start_actors(self, addresses: Sequence[str]) -> None:
        """Put a :class:`SlotServer` actor on each worker in ``addresses`` that has none (waiting
        at most ``worker_timeout`` seconds); a worker whose actor does not start gets ordinary tasks."""
        from distributed.client import _wait

        todo = [a for a in addresses if a not in self._actors]
        if not todo:
            return
        futures = [
            self.client.submit(
                SlotServer,
                actor=True,
                workers=[address],
                allow_other_workers=False,
                pure=False,
                key=f"drlkit-slot-server-{self.recipe.token}-{self._next_key()}",
            )
            for address in todo
        ]
        with contextlib.suppress(Exception):  # a worker that died meanwhile: ordinary tasks for it
            self.client.sync(_wait, futures, timeout=self.settings.worker_timeout)
        for address, future in zip(todo, futures):
            if future.status == "finished":
                self._actors[address] = (future.key, future)
            else:
                self._release([future])

    def _drop_actor(self, address: str) -> None:
        entry = self._actors.pop(address, None)
        if entry is not None:
            self._release([entry[1]])

    def _release(self, futures: Sequence[Any]) -> None:
        """Cancel Dask futures and direct calls (best effort: a scheduler that is gone has nothing to cancel)."""
        calls = [f for f in futures if isinstance(f, DirectCall)]
        for call in calls:
            if call.task is not None:
                with contextlib.suppress(Exception):
                    self.client.loop.add_callback(call.task.cancel)
            call.settle("cancelled")
        others = [f for f in futures if f is not None and not isinstance(f, DirectCall)]
        if others:
            with contextlib.suppress(Exception):
                self.client.cancel(others)

    def _params_now(self) -> Any:
        """The driver's current parameters, read once per version."""
        if self._value_version != self.version or self._params_value is None:
            self._params_value = self.agent.get_parameters()
            self._params_nbytes = payload_bytes(self._params_value)
            self._value_version = self.version
        return self._params_value

    def sent_parameters(self) -> Any:
        """The current parameters as tasks receive them (inside the task when small, else a future
        of the copy on the workers), for tasks that need θ besides the slot tasks (tree merges)."""
        return self._params(sorted(self._workers))

    def _params(self, addresses: Sequence[str]) -> Any:
        """The current parameters, sent once per version: inside the tasks when small
        (:data:`INLINE_PARAMS_BYTES`), else put straight on the workers and passed as a future.

        Synchronous rounds need them on every worker at once, so they go to all
        workers in one step; an asynchronous task needs them only where it runs.
        """
        if self._params_version != self.version or self._params_future is None:
            if self._params_future is not None and not isinstance(self._params_future, dict):
                self._garbage.append(self._params_future)  # the previous version's copy on the workers
                self._garbage_bytes += self._params_nbytes * max(len(self._workers), 1)
            params = self._params_now()
            if self._params_nbytes <= INLINE_PARAMS_BYTES:
                self._params_future = params
            elif self.settings.broadcast:
                self._params_future = self._scatter(params, sorted(self._workers) or None, broadcast=True)
            else:
                targets = sorted({a for a in addresses if a}) or None
                self._params_future = self._scatter(params, targets, broadcast=False)
            self._params_version = self.version
        return self._params_future

    def _scatter(self, params: dict[str, Any], workers: list[str] | None, broadcast: bool) -> Any:
        """Put ``params`` on ``workers`` (others fetch it when they need it), retrying while workers die."""
        deadline = self.elapsed() + self.settings.worker_timeout
        while True:
            try:
                # direct: the client sends the data to the workers itself, not through the scheduler.
                [future] = self.client.scatter(
                    [params],
                    hash=False,
                    workers=workers,
                    broadcast=broadcast,
                    direct=True,
                    timeout=self.settings.worker_timeout,
                )
                return future
            except (OSError, TimeoutError, KeyError, ValueError) as exc:  # a target worker died
                alive = self.refresh_workers(force=True)
                if self.elapsed() > deadline:
                    if not alive:
                        self._fail(f"every Dask worker is gone (none for {self.settings.worker_timeout:g} s)")
                    self._fail(
                        f"could not send the parameters to any worker within "
                        f"{self.settings.worker_timeout:g} s ({type(exc).__name__}: {exc})"
                    )
                time.sleep(POLL_INTERVAL / 5)
                workers = [w for w in workers or [] if w in alive] or None

    _key_counter = 0

    def _next_key(self) -> int:
        return Run._key_counter_next()

    @staticmethod
    def _key_counter_next() -> int:
        Run._key_counter += 1
        return Run._key_counter

    # ------------------------------------------------------------ waiting
    @overload
    def wait_any(self, deadline: None = None) -> Ticket: ...
    @overload
    def wait_any(self, deadline: float | None) -> Ticket | None: ...
    def wait_any(self, deadline: float | None = None) -> Ticket | None:
        """The next finished ticket; ``None`` if ``deadline`` (run seconds) passes first.

        Failed tasks raise :class:`DistributedTrainingError`; tasks whose input was
        lost are sent again (recorded as ``lost``) and waited for.
        """
        if self._ready:
            return self._ready.popleft()
        return self._next_finished(deadline)

    def poll(self) -> Ticket | None:
        """A finished ticket if one has already arrived, else ``None`` (waits at most a fraction of a ms)."""
        if self._ready:
            return self._ready.popleft()
        return self._next_finished(self.elapsed() + 1e-4)

    def _next_finished(self, deadline: float | None = None) -> Ticket | None:
        while True:
            now = self.elapsed()
            if deadline is not None and now >= deadline:
                return None
            self._kill_on_schedule(now)
            self._check_alive()  # at most one look at the cluster per POLL_INTERVAL
            timeout = POLL_INTERVAL if deadline is None else min(POLL_INTERVAL, deadline - now)
            if self._kill_pending and self.settings.kill_worker_at is not None:
                timeout = min(timeout, max(self.settings.kill_worker_at[0] - now, 0.0))
            if self._garbage:
                timeout = min(timeout, self._release_garbage(now))
            try:
                future = self._done.get(timeout=max(timeout, 0.0))
            except queue.Empty:
                continue
            ticket = self._pending.get(future.key)
            if ticket is None or ticket.future is not future:
                continue  # a task this run already cancelled
            status = future.status
            if status == "finished":
                del self._pending[future.key]
                self.steps_in_flight -= ticket.work.fragment_steps * ticket.work.local_steps
                return ticket
            if status == "error":
                self._fail_task(ticket)
            if status != "cancelled":
                # Finished, then its result died with its worker: Dask computes it again.
                future.add_done_callback(self._done.put)
                continue
            if isinstance(future, DirectCall):  # its worker is gone or lost the actor
                self._drop_actor(future.address)
                self.refresh_workers(force=True)
            self._resend_lost(ticket)

    def _release_garbage(self, now: float) -> float:
        """Let go of futures the run no longer needs while the workers compute: at the first wait at
        least :data:`RELEASE_AFTER` seconds after tasks were sent, the futures set aside before the
        previous such wait are dropped, and those set aside since then wait for the next one.
        Returns the seconds until the next release is due (``inf`` when nothing is due).

        Why two generations: a mode still holds the tickets of the round it just merged (and so their
        futures) until its next round returns. Dropped any sooner, those futures would be released
        right when the next round's results arrive -- the release messages then queue in front of
        the fetch (about 9 ms of a 2-worker sync round on the benchmark machine)."""
        due = self._last_send + RELEASE_AFTER
        if self._garbage_bytes <= RELEASE_BYTES and (now < due or self._last_release >= due):
            return due - now if now < due else math.inf
        self._old_garbage, self._garbage = self._garbage, []
        self._garbage_bytes = 0
        self._last_release = now
        return math.inf

    def _resend_lost(self, ticket: Ticket) -> None:
        """The cluster cancelled ``ticket``: a worker died holding the scattered parameters it
        needs. Book it as lost and send the same work again from freshly scattered parameters."""
        self._pending.pop(ticket.future.key, None)
        self._book(ticket, None, "lost")
        self._params_future = None
        ticket.work = self._work(ticket.slot, ticket.work.local_steps)
        self._fresh_inputs(ticket)
        self._send([ticket], direct=False)

    def _fresh_inputs(self, ticket: Ticket) -> None:
        if ticket.inputs is not None and self.inputs_for_resend is not None:
            ticket.inputs = self.inputs_for_resend(ticket)

    def wait_all(self, tickets: Sequence[Ticket]) -> list[Ticket]:
        """Wait until every one of ``tickets`` (all that are in flight) has finished -- a lost one is
        sent again meanwhile -- and return them in slot order: one synchronous round."""
        arrived: list[Ticket] = []
        while len(arrived) < len(tickets):
            arrived.append(self.wait_any())
        return sorted(arrived, key=lambda t: t.slot)

    def fetch(self, tickets: Sequence[Ticket]) -> list[tuple[Any, TaskReport]]:
        """Outputs and reports of finished tickets, in the given order.

        Gathered straight from the workers, each attempt bounded: a result that died
        with its worker (and that Dask has not made again meanwhile) is booked as
        ``lost`` and its work sent again as an ordinary task; after ``worker_timeout``
        seconds without the results training stops with an error.
        """
        outputs = self._gather([t for t in tickets if not isinstance(t.future, DirectCall)])
        for ticket in tickets:  # direct calls brought their results with them
            if isinstance(ticket.future, DirectCall):
                outputs[ticket.future.key] = ticket.future.value
        ordered = [outputs[t.future.key] for t in tickets]
        self._count_arrived(tickets, [report for _, report in ordered])
        self._garbage.extend(t.future for t in tickets)
        self._garbage_bytes += sum(report.bytes_out for _, report in ordered)
        return ordered

    def _gather(self, tickets: Sequence[Ticket]) -> dict[str, Any]:
        """Results of finished Dask tasks by key, straight from the workers (see :meth:`fetch`)."""
        if not tickets:
            return {}
        deadline = self.elapsed() + self.settings.worker_timeout
        known = self._gather_from_known_workers(tickets)
        rest = [t for t in tickets if t.future.key not in known]
        if not rest:
            return known
        tickets = rest
        while True:
            futures = [t.future for t in tickets]
            attempt = max(min(FETCH_ATTEMPT_SECONDS, deadline - self.elapsed()), POLL_INTERVAL)
            try:
                # A private coroutine, because the public gather() has no timeout.
                outputs = self.client.sync(self.client._gather, futures, direct=True, callback_timeout=attempt)
                break
            except CancelledError:
                # A result died with its worker between finishing and being fetched, and Dask
                # cannot recompute it without the lost parameters: send it again and wait for it.
                self._resend_unfinished(tickets, "cancelled")
            except TimeoutError:
                alive = self.refresh_workers(force=True)
                if self.elapsed() >= deadline:
                    self._fail(
                        ("every Dask worker is gone" if not alive else "could not fetch finished results")
                        + f" (none for {self.settings.worker_timeout:g} s)"
                    )
                # Not finished any more: their results died with a worker. Run them again.
                self._resend_unfinished(tickets, "finished")
            except Exception as exc:
                for ticket in tickets:
                    if ticket.future.status == "error":
                        self._fail_task(ticket)
                self._fail(f"could not fetch results from the workers ({type(exc).__name__}: {exc})", cause=exc)
        return {**known, **{t.future.key: output for t, output in zip(tickets, outputs)}}

    def _gather_from_known_workers(self, tickets: Sequence[Ticket]) -> dict[str, Any]:
        """Results fetched from the workers the tasks were sent to, without first asking the
        scheduler where they are (one round trip less than Dask's direct gather). Whatever is not
        there (a task that moved, a worker that died) is left to the full gather."""
        from distributed.utils_comm import gather_from_workers

        who_has = {t.future.key: [t.address] for t in tickets if t.address and t.future.status == "finished"}
        if not who_has:
            return {}
        attempt = max(min(FETCH_ATTEMPT_SECONDS, self.settings.worker_timeout), POLL_INTERVAL)
        try:
            data, _, _, _ = self.client.sync(
                gather_from_workers, who_has, rpc=self.client.rpc, callback_timeout=attempt
            )
        except Exception:  # a worker went away mid-fetch: the full gather sorts it out
            return {}
        return dict(data)

    def _count_arrived(self, tickets: Sequence[Ticket], reports: Sequence[TaskReport]) -> None:
        for report in reports:
            # Counted on arrival, as a local collect() would before learning from it.
            self.steps_received += report.env_steps
            self.agent.total_steps += report.env_steps
        self.result.env_steps = self.steps_received
        if any(r.address not in (t.address, "local") for t, r in zip(tickets, reports)):
            self.refresh_workers(force=True)

    # ------------------------------------------------------- tree reduction
    def submit_tree(
        self,
        tickets: Sequence[Ticket],
        fanin: int,
        leaf: Callable[..., Any],
        node: Callable[..., Any],
        leaf_args: Sequence[Any] = (),
    ) -> Tree:
        """Send the merge tasks that reduce a round's results in a tree, in one message.

        ``tickets`` (just sent with :meth:`submit_many`) are taken in slot order and grouped as
        :func:`drlkit.distributed.tree.tree_levels` says: a leaf runs ``leaf(*leaf_args, *results)``
        on ``fanin`` consecutive slots' ``(output, report)`` results, an inner node
        ``node(*results)`` on ``fanin`` lower merge results. Every merge task gets its children's
        Dask futures, so their data moves from worker to worker (Dask runs a merge where most of
        its input already is); the driver fetches only the root (:meth:`fetch_tree`).
        """
        from .tree import tree_levels

        ordered = sorted(tickets, key=lambda t: t.slot)
        levels = tree_levels(len(ordered), fanin)
        token = self.recipe.token

        async def submit_all() -> list[Any]:
            merges: list[Any] = []
            nodes = [t.future for t in ordered]
            for depth, level in enumerate(levels):
                fn, args = (leaf, tuple(leaf_args)) if depth == 0 else (node, ())
                nodes = [
                    self.client.submit(
                        fn,
                        *args,
                        *[nodes[i] for i in group],
                        key=f"drlkit-merge-{depth}-{token}-{self._next_key()}",
                        pure=False,
                        retries=0,
                    )
                    for group in level
                ]
                merges.extend(nodes)
            return merges

        merges = self._submit_on_loop(submit_all, "the merge tasks")
        return Tree(ordered, [t.future for t in ordered], merges)

    def fetch_tree(self, tree: Tree) -> tuple[Any, list[TaskReport]] | None:
        """The root's result of a tree sent by :meth:`submit_tree` once its slot tickets have finished
        (:meth:`wait_all`): ``(sum, the slots' reports in slot order)``, counted like :meth:`fetch`.

        ``None`` -- and the merge tasks are cancelled -- when the tree cannot give the round's result:
        a slot task was sent again (its worker died holding its input, so the tree waits on a future
        that is gone), or the root is cancelled, fails or does not arrive within ``worker_timeout``
        seconds. The caller then fetches the slots' results itself (:meth:`fetch`) and computes the
        same sum on the driver. Each attempt waits at most :data:`FETCH_ATTEMPT_SECONDS`.
        """
        if any(t.future is not f for t, f in zip(tree.tickets, tree.children)):
            self._drop_tree(tree, "a slot task was sent again")
            return None
        root = tree.merges[-1]
        deadline = self.elapsed() + self.settings.worker_timeout
        while True:
            attempt = max(min(FETCH_ATTEMPT_SECONDS, deadline - self.elapsed()), POLL_INTERVAL)
            try:
                # A private coroutine, because the public gather() has no timeout.
                [(total, reports)] = self.client.sync(
                    self.client._gather, [root], direct=True, callback_timeout=attempt
                )
                break
            except TimeoutError:
                self.refresh_workers(force=True)
                if root.status in ("cancelled", "error"):
                    self._drop_tree(tree, f"its root was {root.status}")
                    return None
                if self.elapsed() >= deadline:
                    self._drop_tree(tree, f"its root did not arrive within {self.settings.worker_timeout:g} s")
                    return None
            except Exception as exc:  # a merge was cancelled (CancelledError) or failed
                self._drop_tree(tree, f"{type(exc).__name__}: {exc}")
                return None
        self._count_arrived(tree.tickets, reports)
        self._garbage.extend(tree.children + tree.merges)
        self._garbage_bytes += sum(r.bytes_out for r in reports) * 2  # the slots' outputs and the partial sums
        return total, list(reports)

    def _drop_tree(self, tree: Tree, why: str) -> None:
        with contextlib.suppress(Exception):  # a scheduler that is gone has nothing to cancel
            self.client.cancel(tree.merges)
        event = f"tree merge dropped ({why}); merged on the driver"
        self.result.events.append({"wall_time": self.elapsed(), "event": event, "address": "", "worker": -1})

    def _resend_orphans(self) -> None:
        """Tasks sent to a worker that has left are booked as ``lost`` at once and sent again,
        as ordinary tasks, as soon as a worker is alive.

        The driver does not leave them to Dask: a task restricted to a worker that died
        while no other worker was alive stays in Dask's ``no-worker`` state even after a
        new worker joins (``allow_other_workers`` notwithstanding), so it would never finish.
        """
        orphans = [t for t in self._pending.values() if t.address and t.address not in self._workers]
        for ticket in orphans:
            self._release([ticket.future])
            self._pending.pop(ticket.future.key, None)
            self._book(ticket, None, "lost")
            self._orphans.append(ticket)
        if self._workers:
            while self._orphans:
                ticket = self._orphans.pop(0)
                ticket.work = self._work(ticket.slot, ticket.work.local_steps)
                self._fresh_inputs(ticket)
                self._send([ticket], direct=False)

    def _resend_unfinished(self, tickets: Sequence[Ticket], keep: str) -> None:
        """Send again, and wait for, the tickets whose future is not in status ``keep``
        (``"cancelled"``: only cancelled ones are resent; ``"finished"``: all but finished ones)."""
        for ticket in tickets:
            status = ticket.future.status
            if (status == "cancelled") if keep == "cancelled" else (status != "finished"):
                self._release([ticket.future])
                self._resend_lost(ticket)
                self._wait_for(ticket)

    def _wait_for(self, ticket: Ticket) -> None:
        """Wait until ``ticket`` finished, keeping other tickets that finish meanwhile for later."""
        while True:
            finished = self._next_finished()
            if finished is ticket:
                return
            if finished is not None:
                self._ready.append(finished)

    def cancel(self, tickets: Sequence[Ticket]) -> None:
        """Drop tasks still in flight (or finished but not handed out); each becomes a ``cancelled`` row."""
        finished = [t for t in tickets if t in self._ready]
        for ticket in finished:
            self._ready.remove(ticket)
        for ticket in [t for t in tickets if t in self._orphans]:  # already booked as lost
            self._orphans.remove(ticket)
            self.steps_in_flight -= ticket.work.fragment_steps * ticket.work.local_steps
        running = [t for t in tickets if self._pending.pop(t.future.key, None) is not None]
        self._release([t.future for t in running])
        for ticket in running:
            self.steps_in_flight -= ticket.work.fragment_steps * ticket.work.local_steps
        for ticket in finished + running:
            self._book(ticket, None, "cancelled")

    def cancel_all(self) -> None:
        self.cancel(list(self._ready) + list(self._pending.values()) + list(self._orphans))

    # ----------------------------------------------------------- booking
    def record(
        self,
        tickets: Sequence[Ticket],
        reports: Sequence[TaskReport],
        status: str,
        *,
        staleness: Sequence[int],
        weights: Sequence[float] | None = None,
        metrics: Sequence[dict[str, float]] | None = None,
        apply_time: float = math.nan,
    ) -> bool:
        """Book results that were ``"applied"`` together as one update (``run.version``
        already bumped) or ``"dropped"``. Returns False when a callback asked to stop."""
        agent = self.agent
        for i, (ticket, report) in enumerate(zip(tickets, reports)):
            per_agent = report.episode_agent_returns  # multi-agent fragments: one list of returns per episode
            for e, (episode_return, episode_length) in enumerate(zip(report.episode_returns, report.episode_lengths)):
                agent_returns = np.asarray(per_agent[e]) if len(per_agent) == len(report.episode_returns) else None
                agent.record_episode(episode_return, episode_length, self.timer, agent_returns)
                self.result.episodes.append(
                    {
                        "wall_time": self.elapsed(),
                        "step": agent.total_steps,
                        "episode_return": episode_return,
                        "episode_length": episode_length,
                        "worker": ticket.slot,
                        "version": ticket.work.version,
                    }
                )
            row_metrics = metrics[i] if metrics is not None else _mean_metrics(report.metrics)
            self._book(
                ticket,
                report,
                status,
                staleness=staleness[i],
                weight=weights[i] if weights is not None else math.nan,
                metrics=row_metrics,
                apply_time=apply_time,
            )
        if status != "applied":
            self.timer.advance(agent.total_steps)
            return True
        update_metrics = _mean_metrics(
            [metrics[i] for i in range(len(tickets))]
            if metrics is not None
            else [m for r in reports for m in r.metrics]
        )
        logged = {k: v for k, v in update_metrics.items() if k in agent.LOG_KEYS}
        # As in local training, an update that reports nothing (e.g. DQN filling its
        # replay buffer before learning starts) adds no History row and runs no callbacks.
        keep_going = agent.record_update(self.timer, self.callbacks, **logged) if logged else True
        self.result.wall_time = self.elapsed()
        if self.on_update is not None and self.on_update(self.result) is False:
            keep_going = False
        if not keep_going:
            self.stopped = True
        if self.checkpointer is not None:
            self.checkpointer.after_update(self)
        return keep_going

    def _book(
        self,
        ticket: Ticket,
        report: TaskReport | None,
        status: str,
        *,
        staleness: int = -1,
        weight: float = math.nan,
        metrics: dict[str, float] | None = None,
        apply_time: float = math.nan,
    ) -> None:
        returns = report.episode_returns if report is not None else []
        row = {
            "updates": self.version,
            "status": status,
            "worker": ticket.slot,
            "address": report.address if report is not None else ticket.address,
            "moved": report is not None and report.address not in (ticket.address, "local"),
            "sync_round": ticket.round,
            "version": ticket.work.version,
            "staleness": staleness,
            "weight": weight,
            "env_steps": report.env_steps if report is not None else 0,
            "n_episodes": len(returns),
            "mean_return": float(np.mean(returns)) if returns else math.nan,
            "submit_time": ticket.submit_time,
            "wall_time": self.elapsed(),
            "compute_time": report.compute_time if report is not None else math.nan,
            "delay_time": report.delay_time if report is not None else math.nan,
            "apply_time": apply_time,
            "bytes_sent": report.bytes_out if report is not None else 0,
            "bytes_received": ticket.bytes_in,
        }
        metrics = metrics or {}
        row.update({key: float(metrics.get(key, math.nan)) for key in self.result.metric_keys})
        self.result.rows.append(row)

    def finish(self) -> DistributedResult:
        """Stop the clock and hand back the result (also after an error)."""
        if self._finished:
            return self.result
        self._finished = True
        self.cancel_all()
        self.timer.close()
        self._garbage, self._old_garbage = [], []
        self._params_future = None
        for address in list(self._actors):
            self._drop_actor(address)
        self.result.wall_time = self.elapsed()
        self.result.env_steps = self.steps_received
        if self.checkpointer is not None:
            self.checkpointer.final(self)
        return self.result

    # ------------------------------------------------------------ workers
    def refresh_workers(self, force: bool = False) -> set[str]:
        """Ask the scheduler which workers exist (at most every ``POLL_INTERVAL`` unless forced)."""
        now = self.elapsed()
        if not force and now - self._workers_checked < POLL_INTERVAL:
            return self._workers
        status = str(getattr(self.client, "status", "running"))
        if status != "running":  # the scheduler is gone; Dask's client tries to reconnect
            if self._scheduler_lost_since is None:
                self._scheduler_lost_since = now
            if status in ("closing", "closed") or now - self._scheduler_lost_since > self.settings.worker_timeout:
                lost = now - self._scheduler_lost_since
                self._fail(f"lost the connection to the Dask scheduler (client {status} for {lost:.1f} s)")
            self._workers_checked = now
            return self._workers
        self._scheduler_lost_since = None
        try:
            workers = set(self.client.nthreads())
        except Exception as exc:  # the scheduler itself is gone
            self._fail(f"lost the connection to the Dask scheduler ({type(exc).__name__}: {exc})")
        for address in sorted(self._workers - workers):
            self._event("worker left", address)
        for address in sorted(workers - self._workers):
            if self._workers_checked > -math.inf:  # not the first look at the cluster
                self._event("worker joined", address)
        changed = workers != self._workers
        self._workers = workers
        self._workers_checked = now
        if changed:
            if self._workers - workers:
                # Finished results that died with a worker would be computed again by Dask while
                # futures for them are held: let go of the ones the run no longer needs at once.
                self._garbage, self._old_garbage = [], []
            for address in [a for a in self._actors if a not in workers]:
                self._drop_actor(address)
            self._rebalance()
            if self.settings.transport == "actors" and self._actors:  # started once prepare() ran
                self._start_actors(sorted(workers))
        return workers

    def _rebalance(self) -> None:
        """Slots on live workers stay; the others go to the least loaded workers, and a
        worker that just joined takes slots from the busiest one."""
        if not self._workers:
            return
        alive = sorted(self._workers)
        load = collections.Counter({address: 0 for address in alive})
        for slot in range(self.settings.n_slots):
            address = self._slot_address.get(slot)
            if address in self._workers:
                load[address] += 1
            else:
                self._slot_address.pop(slot, None)
        for slot in range(self.settings.n_slots):
            if slot not in self._slot_address:
                address = min(alive, key=lambda a: load[a])
                self._slot_address[slot] = address
                load[address] += 1
        while True:
            busiest = max(alive, key=lambda a: load[a])
            idlest = min(alive, key=lambda a: load[a])
            if load[busiest] - load[idlest] < 2:
                break
            slot = max(s for s, a in self._slot_address.items() if a == busiest)
            self._slot_address[slot] = idlest
            load[busiest] -= 1
            load[idlest] += 1

    def _address_of(self, slot: int) -> str:
        address = self._slot_address.get(slot)
        if address not in self._workers:
            self.refresh_workers(force=True)
            address = self._slot_address.get(slot, "")
        return address

    def _check_alive(self) -> None:
        alive = self.refresh_workers()
        self._resend_orphans()
        if alive:
            self._no_workers_since = None
            return
        now = self.elapsed()
        if self._no_workers_since is None:
            self._no_workers_since = now
        elif now - self._no_workers_since > self.settings.worker_timeout:
            self._fail(f"every Dask worker is gone (none for {self.settings.worker_timeout:g} s)")

    def _kill_on_schedule(self, now: float) -> None:
        kill = self.settings.kill_worker_at
        if not self._kill_pending or kill is None or now < kill[0]:
            return
        self._kill_pending = False
        slot = kill[1]
        address = self._address_of(slot)
        if not address:
            return  # no worker left to kill
        with contextlib.suppress(OSError, TimeoutError):  # that worker was already going away
            self.client.run(kill_this_process, workers=[address], wait=False)
        self._event("killed", address, slot)

    def _event(self, event: str, address: str, slot: int | None = None) -> None:
        if slot is None:
            slot = next((s for s, a in self._slot_address.items() if a == address), -1)
        self.result.events.append({"wall_time": self.elapsed(), "event": event, "address": address, "worker": slot})

    # ------------------------------------------------------------- errors
    def _fail_task(self, ticket: Ticket) -> None:
        from distributed.scheduler import KilledWorker

        exc = ticket.future.exception()
        where = f"worker slot {ticket.slot} ({ticket.task.__name__})"
        if isinstance(exc, KilledWorker):
            self._fail(
                f"{where}: the task was lost with every worker that tried it (Dask's allowed-failures limit); "
                "are the workers crashing, e.g. running out of memory?"
            )
        self._fail(f"{where} failed on the worker with {type(exc).__name__}: {exc}", cause=exc)

    def _fail(self, message: str, cause: BaseException | None = None) -> NoReturn:
        applied = f"the agent keeps its parameters after update {self.version} ({self.agent.total_steps} env steps)"
        result = self.finish()
        note = self.checkpointer.note() if self.checkpointer is not None else ""
        raise DistributedTrainingError(f"{message}; training stopped, {applied}{note}", result) from cause


def serve(
    run: Run,
    n_workers: int,
    task: Callable[..., Any],
    local_steps: int,
    max_staleness: int | None,
    apply: Callable[[Ticket, Any, int], tuple[float, dict[str, float] | None]],
    max_batch: int = 1,
    after_batch: Callable[[], None] | None = None,
) -> None:
    """The asynchronous server loop shared by ``async``, ``a3c`` and ``rollouts``.

    One task in flight per worker slot. The loop waits for the next result and
    takes, up to ``max_batch`` in all, every other result that has already
    arrived (a *batch*, fetched in one gather). For each result in arrival order:
    τ = the version before the batch − its start version; it is dropped if
    τ > ``max_staleness``, else ``apply(ticket, output, τ) -> (weight, metrics)``
    changes ``run.agent`` (``metrics`` None: log the worker's), and ``after_batch()`` (if given)
    completes the batch's change (e.g. loads parameters merged in numpy into the agent). The applied
    results of a batch make one new version (one row per result, one History
    update); then the batch's slots get new work from the newest parameters,
    sent once, in one message. With ``max_batch=1`` every result is its own version.
    """
    in_flight = {
        t.slot: t
        for t in run.submit_many(
            [slot for slot in range(n_workers) if run.wants_more(run.settings.fragment_steps * local_steps * slot)],
            task,
            local_steps,
        )
    }
    while in_flight:
        first = run.wait_any()
        assert first is not None  # no deadline
        batch = [first]
        while len(batch) < max_batch:
            ticket = run.poll()
            if ticket is None:
                break
            batch.append(ticket)
        for ticket in batch:
            del in_flight[ticket.slot]
        results = run.fetch(batch)
        base_version = run.version
        applied: list[tuple[Ticket, TaskReport, int, float, dict[str, float] | None]] = []
        started = time.perf_counter()
        for ticket, (output, report) in zip(batch, results):
            staleness = base_version - ticket.work.version
            if max_staleness is not None and staleness > max_staleness:
                run.record([ticket], [report], "dropped", staleness=[staleness])
            else:
                weight, metrics = apply(ticket, output, staleness)
                applied.append((ticket, report, staleness, weight, metrics))
        if after_batch is not None:
            after_batch()
        if applied:
            run.version += 1
            with_metrics = any(a[4] is not None for a in applied)
            run.record(
                [a[0] for a in applied],
                [a[1] for a in applied],
                "applied",
                staleness=[a[2] for a in applied],
                weights=[a[3] for a in applied],
                metrics=[a[4] if a[4] is not None else _mean_metrics(a[1].metrics) for a in applied]
                if with_metrics
                else None,
                apply_time=time.perf_counter() - started,
            )
        if run.stopped:
            run.cancel(list(in_flight.values()))
            return
        per_task = run.settings.fragment_steps * local_steps
        slots: list[int] = []
        for ticket in batch:
            if run.wants_more(per_task * len(slots)):
                slots.append(ticket.slot)
        for ticket in run.submit_many(slots, task, local_steps):
            in_flight[ticket.slot] = ticket


def _pickled(value: Any) -> bytes:
    """``value`` as a direct call carries it (:meth:`drlkit.distributed.worker.SlotServer.call`)."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _holds_futures(inputs: Any) -> bool:
    """True if ``inputs`` holds Dask futures (gossip's neighbour outputs): only a task can take those."""
    from distributed import Future

    if isinstance(inputs, list | tuple):
        return any(_holds_futures(x) for x in inputs)
    return isinstance(inputs, Future)


def _mean_metrics(metrics: Sequence[dict[str, float]]) -> dict[str, float]:
    """Key-wise mean of several metric dicts (NaN-free keys only where present)."""
    keys = {k for m in metrics for k in m}
    return {k: float(np.mean([m[k] for m in metrics if k in m])) for k in keys}


# -------------------------------------------------------------- independent tasks
# Work that needs no parameter server: one function over many inputs, results in
# order (``map_tasks``), or the rounds of tabular Q-learning whose tasks are pure
# functions of their inputs (``q_learning``). Same guarantees as a training run:
# one message per batch of tasks, every wait bounded, lost inputs sent again.

#: Attempts of a batch of independent tasks whose shared input keeps dying with its worker.
LOST_INPUT_ATTEMPTS = 3


class TaskError(RuntimeError):
    """A task of :func:`run_tasks` (e.g. of :func:`drlkit.distributed.map_tasks`) failed;
    ``index`` is its position in the list of tasks."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


class NoWorkerError(RuntimeError, TimeoutError):
    """No Dask worker joined the cluster in time (both a ``RuntimeError`` and a ``TimeoutError``)."""


@dataclass(eq=False)
class Shared:
    """An input many tasks read (an MDP, a large table): put on the cluster once, passed to
    the tasks by reference, and put there again if the worker holding it dies."""

    value: Any
    future: Any = None


def wait_for_workers(client: Any, timeout: float) -> None:
    """Return once ``client``'s cluster has a running worker; :class:`NoWorkerError` after ``timeout`` s."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise NoWorkerError(f"no Dask worker joined the cluster within {timeout:g} s") from None


def worker_count(client: Any) -> int:
    """How many Dask workers ``client``'s cluster has now."""
    return len(client.nthreads())


def run_tasks(
    client: Any,
    fn: Callable[..., Any],
    calls: Sequence[Sequence[Any]],
    *,
    timeout: float,
    name: str,
    labels: Sequence[str] | None = None,
    retries: int = 0,
) -> list[Any]:
    """``[fn(*args) for args in calls]``, each call a Dask task, results in the order of ``calls``.

    * every task leaves in one message to the scheduler; an argument that is a
      :class:`Shared` is sent to the cluster once (the first time it is needed) and
      passed by reference, any other argument travels inside its task;
    * a task whose worker dies is run again by Dask (``retries`` more times if it *raises*);
      a task that lost a :class:`Shared` input with its worker is cancelled by Dask, so
      the input is sent again and the task resubmitted (:data:`LOST_INPUT_ATTEMPTS` times);
    * the whole call waits at most ``timeout`` seconds, then raises ``TimeoutError``
      naming ``name`` and how many tasks finished; a task that raises becomes a
      :class:`TaskError` naming it (``labels[i]``, default ``"task i"``).
    """
    labels = list(labels) if labels is not None else [f"task {i}" for i in range(len(calls))]
    deadline = time.monotonic() + timeout
    futures: list[Any] = [None] * len(calls)
    todo = list(range(len(calls)))
    lost = 0
    try:
        while True:
            if todo:
                _submit_tasks(client, fn, calls, todo, futures, name, retries, deadline)
            outputs = _wait_and_gather(client, futures, deadline)
            failed = next((i for i, f in enumerate(futures) if f.status == "error"), None)
            if failed is not None:
                exc = futures[failed].exception()
                raise TaskError(
                    f"{name} failed on the workers for {labels[failed]}: {type(exc).__name__}: {exc}", failed
                ) from exc
            if outputs is not None:
                return outputs
            if time.monotonic() >= deadline:
                done = sum(f.status == "finished" for f in futures)
                raise TimeoutError(f"{name}: only {done} of {len(calls)} tasks finished within timeout={timeout:g} s")
            todo = [i for i, f in enumerate(futures) if f.status == "cancelled"]
            if todo:
                lost += 1
                if lost >= LOST_INPUT_ATTEMPTS:
                    raise RuntimeError(
                        f"{name}: the cluster lost the data sent to it {lost} times (workers keep dying); "
                        "check the workers' logs and memory limits"
                    )
                for args in calls:  # a worker died holding them: send them again
                    for arg in args:
                        if isinstance(arg, Shared):
                            arg.future = None
                time.sleep(POLL_INTERVAL)  # let the scheduler notice the dead worker first
    finally:
        with contextlib.suppress(OSError, TimeoutError):  # a scheduler that is gone has nothing to release
            client.cancel([f for f in futures if f is not None])


def _submit_tasks(
    client: Any,
    fn: Callable[..., Any],
    calls: Sequence[Sequence[Any]],
    todo: Sequence[int],
    futures: list[Any],
    name: str,
    retries: int,
    deadline: float,
) -> None:
    """Submit ``calls[i]`` for every ``i`` in ``todo`` as one graph, shared inputs sent first."""
    for i in todo:
        for arg in calls[i]:
            if isinstance(arg, Shared) and arg.future is None:
                arg.future = _scatter_shared(client, arg.value, deadline, name)
    columns = [
        [arg.future if isinstance(arg, Shared) else arg for arg in column] for column in zip(*(calls[i] for i in todo))
    ]
    token = uuid.uuid4().hex[:12]
    keys = [f"drlkit-{name.replace('_', '-').replace(' ', '-')}-{token}-{i}" for i in todo]
    submitted = client.map(fn, *columns, key=keys, pure=False, retries=retries)
    for i, future in zip(todo, submitted):
        futures[i] = future


def _scatter_shared(client: Any, value: Any, deadline: float, name: str) -> Any:
    """Put ``value`` on the cluster (its key starts with its type's name), retrying while workers die."""
    while True:
        remaining = deadline - time.monotonic()
        try:
            [future] = client.scatter([value], hash=False, timeout=max(remaining, POLL_INTERVAL))
            return future
        except (OSError, TimeoutError, KeyError, ValueError) as exc:  # a target worker died meanwhile
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{name}: could not send {type(value).__name__} to the workers in time "
                    f"({type(exc).__name__}: {exc})"
                ) from None
            time.sleep(POLL_INTERVAL)


def _wait_and_gather(client: Any, futures: Sequence[Any], deadline: float) -> list[Any] | None:
    """The results, or ``None`` when some task failed, lost its input or the deadline passed."""
    from distributed import wait

    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    try:
        wait(futures, timeout=remaining)
    except (CancelledError, TimeoutError):
        return None
    if any(f.status != "finished" for f in futures):
        return None
    try:
        # A private coroutine, because the public gather() has no timeout.
        outputs = client.sync(
            client._gather, list(futures), callback_timeout=max(deadline - time.monotonic(), POLL_INTERVAL)
        )
    except (CancelledError, OSError, TimeoutError):  # a result died with its worker
        return None
    return list(outputs)


def release_on_workers(client: Any, fn: Callable[..., Any], *args: Any, workers: Sequence[str] | None = None) -> None:
    """Best-effort clean-up: ``fn(*args)`` in the worker processes (``workers``, default all) to free
    state kept there (replay shards, pipeline stages). A cluster that is going away frees it itself,
    so failures are ignored."""
    with contextlib.suppress(Exception):
        client.run(fn, *args, workers=list(workers) if workers is not None else None)


# ------------------------------------------------------------------- pinned task graphs
@dataclass(frozen=True)
class Ref:
    """In :class:`PinnedCall` arguments: the result of the ``index``-th call of the same graph."""

    index: int


@dataclass(frozen=True)
class PinnedCall:
    """``fn(*args)`` on the worker at ``address`` only (its state lives there); an argument that is a
    :class:`Ref` is the result of an earlier call, sent worker to worker without passing the driver."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    address: str


def run_pinned(
    client: Any, calls: Sequence[PinnedCall], *, timeout: float, fetch: Sequence[int] | None = None
) -> list[Any]:
    """Run a graph of calls pinned to workers, sent in one message; return the results of the
    calls ``fetch`` (default: all), in that order.

    For work whose state lives in particular worker processes (the stages of a model split
    across workers): a call never moves to another worker, and a result needed by a later
    call travels straight between the two workers. Waits at most ``timeout`` seconds; a call
    that fails, or a worker that dies holding a call's state, raises :class:`RuntimeError`
    naming the call.
    """
    from distributed.client import _wait  # the public wait() works only with the default client

    for i, call in enumerate(calls):
        for arg in call.args:
            if isinstance(arg, Ref) and not 0 <= arg.index < i:
                raise ValueError(
                    f"call {i} ({call.fn.__name__}) refers to call {arg.index}, which does not come before it"
                )

    async def submit_all() -> list[Any]:
        futures: list[Any] = []
        for call in calls:
            args = [futures[a.index] if isinstance(a, Ref) else a for a in call.args]
            futures.append(
                client.submit(
                    call.fn,
                    *args,
                    workers=[call.address],
                    allow_other_workers=False,
                    pure=False,
                    retries=0,
                    key=f"drlkit-{call.fn.__name__.replace('_', '-')}-{Run._key_counter_next()}",
                )
            )
        return futures

    futures = client.sync(submit_all, callback_timeout=timeout)
    try:
        client.sync(_wait, futures, timeout=timeout)
    except TimeoutError:
        done = sum(f.status == "finished" for f in futures)
        client.cancel(futures)
        raise RuntimeError(f"only {done} of {len(calls)} pinned calls finished within {timeout:g} s") from None
    for i, future in enumerate(futures):
        if future.status == "error":
            exc = future.exception()
            client.cancel(futures)
            raise RuntimeError(
                f"call {i} ({calls[i].fn.__name__} on {calls[i].address}) failed: {type(exc).__name__}: {exc}"
            ) from exc
        if future.status != "finished":
            client.cancel(futures)
            raise RuntimeError(
                f"call {i} ({calls[i].fn.__name__}) was lost with worker {calls[i].address}: its state is gone"
            )
    wanted = [futures[i] for i in (range(len(calls)) if fetch is None else fetch)]
    try:
        return client.gather(wanted)
    finally:
        client.cancel(futures)
