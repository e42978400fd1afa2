"""Distributed training on a local Dask cluster: scaling, Dask's overhead, sync vs async.

    python benchmarks/distributed.py                      # both parts, about 5-10 minutes on 2 cores
    python benchmarks/distributed.py --part scaling       # throughput and overhead only
    python benchmarks/distributed.py --part solve --seeds 3
    python benchmarks/distributed.py --part scale         # many simulated slots: updates/s vs ideal
    python benchmarks/distributed.py --part topology      # central vs ring vs complete: bytes, round time
    python benchmarks/distributed.py --part tree          # sync rounds merged flat vs in a tree of merge tasks

Part 1, scaling (A2C on CartPole-v1, mode ``sync``). Every worker task makes
``local_steps`` collect + learn_from updates; ``local_steps`` is calibrated so
that a task computes about ``--task-ms`` milliseconds. Measured in the same
run: environment steps per second of

* a single process doing the same updates in a loop (no Dask),
* ``sync`` with 1 worker and with 2 workers (the driver only merges), and with 2 workers
  and ``transport="actors"``,

the scaling (2 workers / 1 worker) and its efficiency (scaling / 2), and
the overhead per synchronous round: the time from sending one round to
sending the next, minus the slowest worker's compute time in that round --
scheduling, moving parameters both ways, merging and bookkeeping -- next to
three bare rounds with no work: the plain Dask one (scatter through the scheduler, a
``submit`` per worker, gather through the scheduler), the lean one (one graph with the
parameters inside, direct gather; with where its time goes, from timestamps taken on the
driver and in the workers) and one through Dask Actors (a no-op call on each worker's
actor). The same is measured for short tasks (one update, a few ms) to show why tasks
must not be tiny.

Part 3, scale (``--part scale``): ``async`` with 8 to 128 simulated slots whose tasks mostly
wait (see :func:`scale`), with both transports: applied results/s against the ideal, and the
CPU used by the driver's process (with the scheduler) and by the workers.

Part 2, time to solve CartPole-v1 (PPO, 2 workers) with ``sync`` and
``async`` (η = 1/2), without and with a straggler (worker 1 three times
slower: ``slowdown={1: 3.0}``). A run is solved when the mean return of the
last 20 training episodes (from all workers) reaches 475; training stops
there. Reported: wall-clock seconds and environment steps to solve, applied
updates per second (sync: one per round; async: one per merged result), mean
staleness, and the deterministic return of the final policy over 20 episodes.

Part 4, topology (``--part topology``): central averaging (``sync``) against ``gossip`` on a ring
and on the complete graph, at 2, 8 and 32 simulated slots (tasks of one A2C fragment plus
``--topology-task-ms`` of sleep, as in part 3). Reported per configuration: payload bytes per
update (every transfer counted once), bytes through the busiest endpoint per round (central: the
driver, 2N models; gossip: the slot with the most neighbours, plus its copy to the driver) and wall
seconds per round. Then the consensus rate of pure gossip (no learning) measured against theory:
the ratio of consecutive consensus distances after 40 steps from random parameters, against
λ2² of the graph's mixing matrix.

Part 5, tree (``--part tree``): ``sync`` rounds with 16, 32 and 64 simulated slots (one A2C fragment
plus ``--tree-task-ms`` of sleep per task, 2 worker processes with as many threads as slots, as in
part 3), merged on the driver (``reduce="flat"``) or in a tree of merge tasks on the workers
(``reduce="tree"``, fan-in 8), for the default network (64, 64) and a larger one (256, 256).
Each point is run ``--tree-repeats`` times, flat and tree alternating (the machine's load drifts);
reported: median wall seconds per round (rounds after the first), and the payload bytes the
driver receives per round: every slot's parameters (flat) or the root's float64 sum (tree), and the
CPU seconds per round of the driver's process (with a ``LocalCluster`` it also runs the scheduler).

The machine may be shared: the load average is printed before and after, and
all figures are ratios or differences of quantities measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import os
import platform
import sys
import threading
import time

# This file is named like the `distributed` package: keep its folder off the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import numpy as np  # noqa: E402
import torch  # noqa: E402

import drlkit  # noqa: E402
from drlkit.agents.a2c import A2C  # noqa: E402
from drlkit.agents.dqn import DQN  # noqa: E402
from drlkit.agents.ppo import PPO  # noqa: E402

ENV = "CartPole-v1"
SOLVED = 475.0
WINDOW = 20


# ------------------------------------------------------------------ part 1
def local_step_seconds(fragment: int, repeats: int = 30) -> float:
    """Seconds per collect + learn_from of one A2C agent in this process."""
    agent = A2C(ENV, seed=0)
    for _ in range(5):
        agent.learn_from(agent.collect(fragment))
    start = time.perf_counter()
    for _ in range(repeats):
        agent.learn_from(agent.collect(fragment))
    return (time.perf_counter() - start) / repeats


def single_process_steps_per_second(fragment: int, local_steps: int, rounds: int) -> float:
    agent = A2C(ENV, seed=0)
    agent.learn_from(agent.collect(fragment))
    start = time.perf_counter()
    for _ in range(rounds * local_steps):
        agent.learn_from(agent.collect(fragment))
    return rounds * local_steps * fragment / (time.perf_counter() - start)


def round_overheads(result) -> np.ndarray:
    """Per sync round: time until the next round was sent, minus the slowest worker's busy time (s)."""
    frame = result.to_frame()
    frame = frame[frame.status == "applied"]
    per_round = frame.groupby("sync_round").agg(
        sent=("submit_time", "min"), slowest=("compute_time", "max"), delay=("delay_time", "max")
    )
    durations = np.diff(per_round.sent.to_numpy())
    return durations - (per_round.slowest + per_round.delay).to_numpy()[:-1]


def dask_round_trip(client, params: dict, rounds: int = 40) -> np.ndarray:
    """Seconds per bare Dask round with the same messages as a sync round and no work, written the
    plain way: scatter the parameters to both workers (through the scheduler), one ``submit`` per
    worker back to back running a no-op (``len`` of the parameters), gather (through the scheduler)."""
    workers = sorted(client.nthreads())
    times, previous = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        [future] = client.scatter([params], hash=False, broadcast=True, workers=workers)
        tasks = [client.submit(len, future, workers=[w], pure=False) for w in workers]
        previous[:] = []  # released after the submit, as the engine does (see Run._send)
        client.gather(tasks)
        times.append(time.perf_counter() - start)
        previous[:] = [future, tasks]
    return np.array(times[5:])


def dask_lean_round_trip(client, params: dict, rounds: int = 40) -> np.ndarray:
    """Seconds per bare Dask round written the way the engine sends a round: one graph (one
    ``client.map``) with the parameters inside the tasks, a no-op on each worker, gathered
    straight from the workers -- no scatter, one message each way."""
    n = len(client.nthreads())
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        tasks = client.map(len, [params] * n, pure=False)
        client.gather(tasks, direct=True)
        times.append(time.perf_counter() - start)
    return np.array(times[5:])


def lean_round_breakdown(client, params: dict, rounds: int = 40) -> np.ndarray:
    """Where the lean bare round's time goes, in ms (medians): driver submit -> first task starts on a
    worker, the tasks run (a no-op), last task ends -> the driver hears both are done, then the
    direct gather. Timestamps from this process and the workers (same machine, same clock)."""
    rows = []
    n = len(client.nthreads())
    for _ in range(rounds):
        done: list[float] = []
        heard = threading.Event()
        start = time.time()
        tasks = client.map(_stamped_noop, [params] * n, pure=False)
        for task in tasks:
            task.add_done_callback(functools.partial(_heard, done, heard, n))
        heard.wait(10)
        notified = time.time()
        stamps = client.gather(tasks, direct=True)
        gathered = time.time()
        first, last = min(s[0] for s in stamps), max(s[1] for s in stamps)
        rows.append((first - start, last - first, notified - last, gathered - notified, gathered - start))
    return np.median(np.array(rows[5:]), axis=0) * 1000


def _heard(done: list[float], heard: threading.Event, n: int, future) -> None:
    done.append(time.time())
    if len(done) == n:
        heard.set()


def _stamped_noop(params: dict) -> tuple[float, float]:
    begin = time.time()
    return begin, time.time()


class _Echo:
    """A bare Dask Actor for the reference direct round."""

    def noop(self, params: dict) -> int:
        return len(params)


def dask_actor_round_trip(client, params: dict, rounds: int = 40) -> np.ndarray:
    """Seconds per bare round through Dask Actors (one per worker, Dask's public Actor API):
    call a no-op with the parameters on each, wait for both replies."""
    actors = [client.submit(_Echo, actor=True, workers=[w]).result() for w in sorted(client.nthreads())]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        calls = [actor.noop(params) for actor in actors]
        for call in calls:
            call.result(10)
        times.append(time.perf_counter() - start)
    return np.array(times[5:])


def scaling(client, task_ms: float, rounds: int) -> dict:
    fragment = 40  # A2C's own rollout: 5 steps in each of 8 envs
    step_seconds = local_step_seconds(fragment)
    local_steps = max(1, round(task_ms / 1000 / step_seconds))
    print(
        f"\n== Scaling: A2C, fragments of {fragment} steps, one local update = {step_seconds * 1000:.1f} ms "
        f"in this process -> local_steps = {local_steps} (task ~ {local_steps * step_seconds * 1000:.0f} ms)"
    )
    figures = {"single": single_process_steps_per_second(fragment, local_steps, rounds)}
    print(f"single process:      {figures['single']:8.0f} env steps/s")
    for n, transport in ((1, "tasks"), (2, "tasks"), (2, "actors")):
        result = drlkit.distributed.train(
            A2C(ENV, seed=0),
            "sync",
            total_steps=rounds * n * local_steps * fragment,
            n_workers=n,
            local_steps=local_steps,
            client=client,
            transport=transport,
        )
        overhead = round_overheads(result)
        task = result.to_frame().compute_time
        name = n if transport == "tasks" else f"{n}-{transport}"
        figures[name] = result.steps_per_second
        figures[f"overhead{name}"] = overhead
        print(
            f"sync, {n} worker{'s' * (n > 1)}, {transport:6}: {result.steps_per_second:8.0f} env steps/s   "
            f"task compute median {task.median() * 1000:5.1f} ms   overhead per round: median "
            f"{np.median(overhead) * 1000:5.1f} ms, mean {overhead.mean() * 1000:5.1f} ms"
        )
    floor = dask_round_trip(client, A2C(ENV, seed=0).get_parameters())
    figures["floor"] = floor
    print(
        f"bare Dask round trip (scatter to both workers, a no-op task on each, gather): median "
        f"{np.median(floor) * 1000:.1f} ms -- the plain-Dask reference for the overhead above"
    )
    lean = dask_lean_round_trip(client, A2C(ENV, seed=0).get_parameters())
    figures["lean_floor"] = lean
    print(
        f"bare Dask round, one graph with the parameters inside, direct gather: median {np.median(lean) * 1000:.1f} ms"
    )
    parts = lean_round_breakdown(client, A2C(ENV, seed=0).get_parameters())
    print(
        "  where its time goes (medians, ms): submit -> first task starts {:.1f} | tasks run {:.1f} | "
        "last task ends -> driver hears {:.1f} | direct gather {:.1f} | whole round {:.1f}".format(*parts)
    )
    actor_floor = dask_actor_round_trip(client, A2C(ENV, seed=0).get_parameters())
    figures["actor_floor"] = actor_floor
    print(f"bare Dask Actor round (a no-op call on each worker's actor): median {np.median(actor_floor) * 1000:.1f} ms")
    ours = float(np.median(figures["overhead2"]))
    fast = float(np.median(figures["overhead2-actors"]))
    figures["fast"] = fast
    print(
        f"TARGET overhead per sync round (default transport, 2 workers) < 12 ms: median {ours * 1000:.1f} ms "
        f"-> {'met' if ours < 0.012 else 'NOT met'} (bare Dask round in the same run: "
        f"{np.median(floor) * 1000:.1f} ms, lean {np.median(lean) * 1000:.1f} ms)"
    )
    print(
        f"TARGET overhead per sync round (transport='actors', 2 workers) < 5 ms: median {fast * 1000:.1f} ms "
        f"-> {'met' if fast < 0.005 else 'NOT met'} (bare Actor round in the same run: "
        f"{np.median(actor_floor) * 1000:.1f} ms)"
    )
    speedup = figures[2] / figures[1]
    print(
        f"2 workers / 1 worker: {speedup:.2f}x (efficiency {speedup / 2:.0%}); "
        f"2 workers / single process: {figures[2] / figures['single']:.2f}x"
    )

    short = drlkit.distributed.train(
        A2C(ENV, seed=0), "sync", total_steps=rounds * 2 * fragment, n_workers=2, local_steps=1, client=client
    )
    short_overhead = round_overheads(short)
    print(
        f"short tasks (1 update, compute median {short.to_frame().compute_time.median() * 1000:.1f} ms), 2 workers: "
        f"{short.steps_per_second:.0f} env steps/s, overhead per round median "
        f"{np.median(short_overhead) * 1000:.1f} ms"
    )
    figures.update(speedup=speedup, short_overhead=short_overhead)
    return figures


# ------------------------------------------------------------------ part 2
def solve(client, mode: str, straggler: bool, seed: int, budget: int) -> dict:
    agent = PPO(ENV, seed=seed)

    def solved(result) -> bool | None:
        returns = [e["episode_return"] for e in result.episodes[-WINDOW:]]
        return not (len(returns) == WINDOW and np.mean(returns) >= SOLVED)  # False stops training

    options = {"eta": 0.5} if mode == "async" else {}
    result = drlkit.distributed.train(
        agent,
        mode,
        total_steps=budget,
        n_workers=2,
        client=client,
        slowdown={1: 3.0} if straggler else None,
        on_update=solved,
        **options,
    )
    frame = result.to_frame()
    applied = frame[frame.status == "applied"]
    done = not solved(result)
    return {
        "mode": mode,
        "straggler": straggler,
        "seed": seed,
        "solved": done,
        "seconds": result.wall_time,
        "steps": result.env_steps,
        "updates": result.updates,
        "update_rate": result.update_rate,
        "staleness": applied.staleness.mean(),
        "eval": agent.evaluate(20).mean(),
    }


def solve_table(client, seeds: int, budget: int) -> list[dict]:
    print(
        f"\n== Time to solve {ENV} (last {WINDOW} training episodes >= {SOLVED:g}), PPO, 2 workers, "
        f"budget {budget} steps"
    )
    print(
        f"{'mode':6} {'straggler':>9} {'seed':>4} {'solved':>6} {'seconds':>8} {'env steps':>9} {'updates':>7} "
        f"{'upd/s':>6} {'stale':>5} {'eval':>6}"
    )
    rows = []
    for straggler in (False, True):
        for mode in ("sync", "async"):
            for seed in range(seeds):
                row = solve(client, mode, straggler, seed, budget)
                rows.append(row)
                print(
                    f"{row['mode']:6} {'3x' if straggler else '-':>9} {seed:>4} "
                    f"{'yes' if row['solved'] else 'NO':>6} "
                    f"{row['seconds']:8.1f} {row['steps']:9d} {row['updates']:7d} {row['update_rate']:6.1f} "
                    f"{row['staleness']:5.2f} {row['eval']:6.1f}"
                )
    for straggler in (False, True):
        medians = {}
        for mode in ("sync", "async"):
            mine = [r for r in rows if r["mode"] == mode and r["straggler"] == straggler]
            medians[mode] = (
                np.median([r["seconds"] for r in mine]),
                np.median([r["update_rate"] for r in mine]),
                all(r["solved"] for r in mine),
            )
        (s_sec, s_rate, s_ok), (a_sec, a_rate, a_ok) = medians["sync"], medians["async"]
        print(
            f"{'with' if straggler else 'without'} straggler: median seconds to solve sync {s_sec:.1f}"
            f"{'' if s_ok else ' (not all solved)'} vs async {a_sec:.1f}{'' if a_ok else ' (not all solved)'}; "
            f"update rate async / sync = {a_rate / s_rate:.2f}x"
        )
    return rows


# ------------------------------------------------------------------ part 3
def scale(
    slots_list: list[int],
    task_ms: float,
    max_batch: int,
    seconds_per_point: float,
    transports: list[str],
    processes: int = 2,
) -> list[dict]:
    """A large cluster simulated on this machine: many slots whose tasks mostly wait.

    Each task is 8 environment steps of a DQN agent that does not learn yet (``learning_starts`` beyond
    the budget: under 1 ms of CPU, where even a tiny A2C update costs about 3 ms and 64 slots of those
    would need more than this machine's 2 cores) plus ``task_ms`` of sleep (``delays``, a stand-in for
    an environment that costs time), on ``processes`` worker processes with as many threads as slots. The full
    engine path still runs: parameters out, θ_i back, merged into one version per batch, one row per
    result; so what is measured is the driver and the scheduler. Ideal: every slot
    delivers one result per task duration (sleep + its measured compute); reported: applied results
    per second / ideal, and the CPU used meanwhile by this process (the driver, and the scheduler,
    which a local cluster runs in the same process) and by the worker processes, in cores.
    """
    import psutil

    print(
        f"\n== Scale: async, tasks of ~{task_ms:g} ms that mostly wait, max_batch={max_batch}, "
        f"{processes} worker processes"
    )
    print(
        f"{'transport':>9} {'slots':>5} {'results/s':>9} {'ideal':>7} {'of ideal':>8} {'versions/s':>10} "
        f"{'driver+sched cores':>18} {'worker cores':>12}"
    )
    rows = []
    fragment = 8
    for transport, n in [(t, n) for t in transports for n in slots_list]:
        threads = -(-n // processes)
        with drlkit.cluster(n_workers=processes, threads_per_worker=threads, quiet=True) as client:
            agent = DQN(ENV, seed=0, learning_starts=10**9, train_freq=fragment)
            budget = int(n * seconds_per_point / (task_ms / 1000) * fragment)
            watched = [psutil.Process()] + [psutil.Process(pid) for pid in client.run(os.getpid).values()]
            before, started = _cpu_seconds(watched), time.perf_counter()
            result = drlkit.distributed.train(
                agent,
                "async",
                total_steps=budget,
                n_workers=n,
                fragment_steps=fragment,
                delays={s: task_ms / 1000 for s in range(n)},
                max_batch=max_batch,
                client=client,
                transport=transport,
            )
            after, seconds = _cpu_seconds(watched), time.perf_counter() - started  # set-up included
        frame = result.to_frame()
        applied = frame[frame.status == "applied"]
        task_seconds = float((applied.compute_time + applied.delay_time).median())
        rate = len(applied) / result.wall_time
        ideal = n / task_seconds
        driver_cores = (after[0] - before[0]) / seconds
        worker_cores = (after[1] - before[1]) / seconds
        rows.append(
            {
                "transport": transport,
                "slots": n,
                "rate": rate,
                "ideal": ideal,
                "fraction": rate / ideal,
                "driver_cores": driver_cores,
                "worker_cores": worker_cores,
            }
        )
        print(
            f"{transport:>9} {n:5d} {rate:9.1f} {ideal:7.1f} {rate / ideal:8.0%} "
            f"{result.updates / result.wall_time:10.1f} {driver_cores:18.2f} {worker_cores:12.2f}"
        )
    return rows


def _cpu_seconds(processes: list) -> tuple[float, float]:
    """CPU seconds used so far by the first process (this one) and by the others together."""
    busy = [sum(p.cpu_times()[:2]) for p in processes]
    return busy[0], sum(busy[1:])


# ------------------------------------------------------------------ part 4
def topology(slots_list: list[int], task_ms: float, rounds: int) -> list[dict]:
    """Central vs ring vs complete-graph averaging at several simulated slot counts (module docstring)."""
    from drlkit.distributed.mixing import mixing_matrix, second_eigenvalue
    from drlkit.widgets.beyond import pure_gossip

    print(f"\n== Topology: {rounds} rounds of one A2C fragment + {task_ms:g} ms sleep per task")
    print(f"{'slots':>5} {'averaging':>10} {'bytes/update':>13} {'busiest/round':>14} {'s/round':>8}")
    rows = []
    for n in slots_list:
        threads = -(-n // 2)
        with drlkit.cluster(n_workers=2, threads_per_worker=threads, quiet=True) as client:
            for label, mode, options in [
                ("central", "sync", {"reduce": "flat"}),  # the driver receives every model
                ("ring", "gossip", {"graph": "ring"}),
                ("complete", "gossip", {"graph": "complete"}),
            ]:
                if n < 3 and label == "ring":
                    continue  # a ring of 2 is the complete graph
                agent = A2C(ENV, seed=0)
                size = sum(v.nbytes for v in agent.get_parameters().values())
                result = drlkit.distributed.train(
                    agent,
                    mode,
                    total_steps=rounds * n * 40,
                    n_workers=n,
                    fragment_steps=40,
                    delays={s: task_ms / 1000 for s in range(n)},
                    client=client,
                    **options,
                )
                frame = result.to_frame()
                per_round = frame.groupby("sync_round")[["bytes_sent", "bytes_received"]].sum()
                if mode == "sync":
                    busiest = 2 * n * size  # the driver sends and receives every model
                else:
                    later = frame[frame.sync_round > 0]
                    busiest = int((later.bytes_received + later.bytes_sent).max())
                row = {
                    "slots": n,
                    "averaging": label,
                    "bytes_per_update": result.bytes_moved() / result.updates,
                    "busiest_per_round": busiest,
                    "seconds_per_round": result.wall_time / result.updates,
                    "bytes_per_round": float(per_round.sum(axis=1).median()),
                }
                rows.append(row)
                print(
                    f"{n:5d} {label:>10} {row['bytes_per_update']:13,.0f} {busiest:14,d} "
                    f"{row['seconds_per_round']:8.3f}"
                )
    print("\nconsensus of pure gossip (no learning): measured ratio per step after 40 steps vs theory λ2²")
    print(f"{'slots':>5} {'graph':>9} {'measured':>9} {'theory':>9}")
    for n in slots_list:
        for graph in ("ring", "torus", "complete"):
            if graph == "torus" and all(n % r for r in range(2, int(n**0.5) + 1)):
                continue
            w = mixing_matrix(graph, n)
            d = pure_gossip(w, steps=40, seed=0)
            t = max(k for k in range(1, len(d)) if d[k - 1] > 1e-18 * d[0])
            print(f"{n:5d} {graph:>9} {d[t] / d[t - 1]:9.4f} {second_eigenvalue(w) ** 2:9.4f}")
    return rows


# ------------------------------------------------------------------ part 5
def tree_reduce(slots_list: list[int], task_ms: float, rounds: int, fanin: int, repeats: int) -> list[dict]:
    """Flat vs tree merging of ``sync`` rounds at several simulated slot counts (module docstring)."""
    from drlkit.distributed.worker import payload_bytes

    print(
        f"\n== Tree: sync rounds of one A2C fragment + {task_ms:g} ms sleep per task, tree fan-in {fanin}; "
        f"medians of {repeats} runs of {rounds} rounds each, flat and tree runs alternating"
    )
    print(
        f"{'slots':>5} {'network':>10} {'model bytes':>11} {'reduce':>6} {'s/round':>8} {'driver bytes/round':>19} "
        f"{'driver CPU s/round':>18}"
    )
    rows = []
    for n in slots_list:
        threads = -(-n // 2)
        with drlkit.cluster(n_workers=2, threads_per_worker=threads, quiet=True) as client:
            for hidden in ((64, 64), (256, 256)):
                runs: dict[str, list[tuple[float, float, float, int]]] = {"flat": [], "tree": []}
                floats: dict[str, np.ndarray] = {}
                for repeat in range(repeats):
                    for reduce in ("flat", "tree") if repeat % 2 == 0 else ("tree", "flat"):
                        agent = A2C(ENV, seed=repeat, hidden_sizes=hidden)
                        params = agent.get_parameters()
                        floats = {k: v for k, v in params.items() if np.issubdtype(v.dtype, np.floating)}
                        cpu = time.process_time()
                        result = drlkit.distributed.train(
                            agent,
                            "sync",
                            total_steps=(rounds + 1) * n * 40,
                            n_workers=n,
                            fragment_steps=40,
                            delays={s: task_ms / 1000 for s in range(n)},
                            reduce=reduce,
                            tree_fanin=fanin,
                            client=client,
                            progress=False,
                        )
                        cpu = (time.process_time() - cpu) / result.updates
                        frame = result.to_frame()
                        ends = frame.groupby("sync_round").wall_time.max().sort_index().to_numpy()
                        if reduce == "flat":
                            received = float(frame.groupby("sync_round").bytes_sent.sum().median())
                        else:  # the root's sum: one float64 array per floating-point parameter
                            received = float(payload_bytes({k: v.astype(np.float64) for k, v in floats.items()}))
                        dropped = sum("tree merge dropped" in e["event"] for e in result.events)
                        runs[reduce].append((float(np.median(np.diff(ends))), received, cpu, dropped))
                for reduce, measured in runs.items():
                    seconds, received, cpu = (float(np.median([m[i] for m in measured])) for i in range(3))
                    dropped = sum(m[3] for m in measured)
                    row = {
                        "slots": n,
                        "network": "x".join(map(str, hidden)),
                        "model_bytes": payload_bytes(floats),
                        "reduce": reduce,
                        "seconds_per_round": seconds,
                        "seconds_per_round_runs": [m[0] for m in measured],
                        "driver_bytes_per_round": received,
                        "driver_cpu_per_round": cpu,
                        "rounds_merged_on_driver": dropped,
                    }
                    rows.append(row)
                    note = f"  ({dropped} tree rounds merged on the driver)" if dropped else ""
                    spread = "/".join(f"{m[0]:.2f}" for m in measured)
                    print(
                        f"{n:5d} {row['network']:>10} {row['model_bytes']:11,d} {reduce:>6} {seconds:8.3f} "
                        f"{received:19,.0f} {cpu:18.3f}  (runs: {spread}){note}"
                    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["all", "scaling", "solve", "scale", "topology", "tree"], default="all")
    parser.add_argument("--topology-slots", type=int, nargs="+", default=[2, 8, 32], help="slots for --part topology")
    parser.add_argument("--topology-task-ms", type=float, default=20.0, help="sleep per task for --part topology")
    parser.add_argument("--topology-rounds", type=int, default=8, help="rounds per --part topology point")
    parser.add_argument("--slots", type=int, nargs="+", default=[8, 32, 64, 128], help="slots for --part scale")
    parser.add_argument("--tree-slots", type=int, nargs="+", default=[16, 32, 64], help="slots for --part tree")
    parser.add_argument("--tree-task-ms", type=float, default=50.0, help="sleep per task for --part tree")
    parser.add_argument("--tree-rounds", type=int, default=6, help="rounds per --part tree point")
    parser.add_argument("--tree-fanin", type=int, default=8, help="tree_fanin for --part tree")
    parser.add_argument("--tree-repeats", type=int, default=3, help="runs per --part tree point (medians)")
    parser.add_argument("--scale-task-ms", type=float, default=100.0, help="task duration for --part scale")
    parser.add_argument("--max-batch", type=int, default=64, help="async max_batch for --part scale")
    parser.add_argument(
        "--transports", nargs="+", choices=["tasks", "actors"], default=["tasks", "actors"], help="for --part scale"
    )
    parser.add_argument("--scale-processes", type=int, default=2, help="worker processes for --part scale")
    parser.add_argument("--scale-seconds", type=float, default=10.0, help="seconds of training per scale point")
    parser.add_argument("--task-ms", type=float, default=150.0, help="target compute time of a scaling task")
    parser.add_argument("--rounds", type=int, default=30, help="sync rounds per scaling measurement")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per time-to-solve configuration")
    parser.add_argument("--budget", type=int, default=300_000, help="env steps before a solve run gives up")
    args = parser.parse_args()

    torch.set_num_threads(1)
    print(
        f"{platform.platform()}, Python {platform.python_version()}, torch {torch.__version__}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (1 min)"
    )
    own_clusters = ("scale", "topology", "tree")
    shared = drlkit.cluster(n_workers=2, quiet=True) if args.part not in own_clusters else contextlib.nullcontext()
    with shared as client:
        if args.part not in own_clusters:
            print("LocalCluster: 2 single-threaded worker processes on 127.0.0.1; the driver is this process")
        if args.part in ("all", "scaling"):
            figures = scaling(client, args.task_ms, args.rounds)
            overhead = np.median(figures["overhead2"]) * 1000
            fast = figures["fast"] * 1000
            print(
                f"targets: overhead per sync round < 12 ms: {overhead:.1f} ms "
                f"({'met' if overhead < 12 else 'NOT met'}); with transport='actors' < 5 ms: {fast:.1f} ms "
                f"({'met' if fast < 5 else 'NOT met'}); 2 workers >= 1.7x one worker: {figures['speedup']:.2f}x "
                f"({'met' if figures['speedup'] >= 1.7 else 'NOT met'})"
            )
        if args.part in ("all", "solve"):
            rows = solve_table(client, args.seeds, args.budget)
            sync_rate = np.median([r["update_rate"] for r in rows if r["mode"] == "sync" and r["straggler"]])
            async_rate = np.median([r["update_rate"] for r in rows if r["mode"] == "async" and r["straggler"]])
            ratio = async_rate / sync_rate if sync_rate > 0 else math.nan
            print(
                f"target: async >= 1.5x the update rate of sync with a 3x straggler: {ratio:.2f}x "
                f"({'met' if ratio >= 1.5 else 'NOT met'})"
            )
    if args.part in ("all", "scale"):
        rows = scale(
            args.slots, args.scale_task_ms, args.max_batch, args.scale_seconds, args.transports, args.scale_processes
        )
        for row in [r for r in rows if r["slots"] == 64]:
            print(
                f"target: >= 90% of the ideal update rate at 64 slots, transport={row['transport']!r}: "
                f"{row['fraction']:.0%} ({'met' if row['fraction'] >= 0.9 else 'NOT met'})"
            )
    if args.part in ("all", "topology"):
        topology(args.topology_slots, args.topology_task_ms, args.topology_rounds)
    if args.part in ("all", "tree"):
        tree_reduce(args.tree_slots, args.tree_task_ms, args.tree_rounds, args.tree_fanin, args.tree_repeats)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (1 min)")


if __name__ == "__main__":
    main()
