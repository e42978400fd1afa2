"""Defaults that travel: drlkit's default hyperparameters and per-environment presets on
the classic-control tasks, next to Stable-Baselines3's defaults.

For every (environment, algorithm) cell and every seed, an agent trains for the
environment's fixed step budget (``BUDGETS``, times ``--budget-scale``); then its
deterministic policy plays ``EVAL_EPISODES`` = 10 episodes on a separate env seeded
``EVAL_SEED + i``, and the mean return of those episodes is the seed's score. The
table gives, per cell and column, the median over seeds, [min, max], and how many
seeds reach the environment's threshold (``THRESHOLDS``: gymnasium's
``reward_threshold``; Pendulum-v1 has none, -250 is used, as in
``benchmarks/time_to_solve.py``)::

    python benchmarks/defaults.py                                   # the whole table, 3 seeds
    python benchmarks/defaults.py --envs Acrobot-v1 --algos PPO DQN --seeds 5
    python benchmarks/defaults.py --columns defaults sb3 --jobs 2 --out runs.jsonl
    python benchmarks/defaults.py --table runs.jsonl more.jsonl     # print the table of saved runs

Columns:

* ``defaults`` -- ``drlkit.<ALGO>(env, seed=s)``: every hyperparameter at its default;
* ``preset`` -- ``drlkit.<ALGO>(env, seed=s, **drlkit.<ALGO>.preset(env))`` for the cells
  that have a preset (``drlkit.<ALGO>.presets()``); other cells show ``=``;
* ``sb3`` -- Stable-Baselines3 (the optional ``bench`` extra) with its own defaults:
  ``sb3.<ALGO>("MlpPolicy", gymnasium.make(env), seed=s)``, one environment. SB3 has
  no TRPO (that lives in sb3-contrib, which is not installed): those cells show ``n/a``.

Every run is one process with one torch thread (``torch.set_num_threads(1)``);
``--jobs N`` runs N of them side by side. Each finished run is appended to the
``--out`` JSON-lines file at once, and runs already in it are skipped (so an
interrupted benchmark resumes where it stopped).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Sequence

import numpy as np

DISCRETE = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0")
CONTINUOUS = ("Pendulum-v1", "MountainCarContinuous-v0")
ENVS = DISCRETE + CONTINUOUS
ALGOS = ("DQN", "PPO", "A2C", "TRPO")
#: Algorithms measured on each kind of action space (DQN needs discrete actions).
ALGOS_FOR = {**{env: ALGOS for env in DISCRETE}, **{env: ("PPO", "TRPO") for env in CONTINUOUS}}
#: Environment steps of a run, per environment (before ``--budget-scale``).
BUDGETS = {
    "CartPole-v1": 50_000,
    "Acrobot-v1": 50_000,
    "MountainCar-v0": 60_000,
    "Pendulum-v1": 80_000,
    "MountainCarContinuous-v0": 50_000,
}
#: The return at which a seed counts as a working agent.
THRESHOLDS = {
    "CartPole-v1": 475.0,
    "Acrobot-v1": -100.0,
    "MountainCar-v0": -110.0,
    "Pendulum-v1": -250.0,
    "MountainCarContinuous-v0": 90.0,
}
COLUMNS = ("defaults", "preset", "sb3")
COLUMN_TITLES = {"defaults": "drlkit defaults", "preset": "drlkit preset", "sb3": "SB3 defaults"}
EVAL_EPISODES = 10
EVAL_SEED = 1_000_000  # evaluation episodes use seeds EVAL_SEED + i, far from any training seed
SB3_ALGOS = ("DQN", "PPO", "A2C")


def sb3_available() -> bool:
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        return False
    return True


def has_preset(algo: str, env: str) -> bool:
    """Whether ``drlkit.<algo>`` has a preset for ``env`` that differs from its defaults."""
    import drlkit

    cls = getattr(drlkit, algo)
    if not hasattr(cls, "presets"):  # a drlkit without presets
        return False
    return env in cls.presets() and bool(cls.preset(env))


def evaluate_policy(act: Any, env_id: str, episodes: int = EVAL_EPISODES) -> np.ndarray:
    """Undiscounted returns of ``episodes`` episodes of ``act(obs) -> action`` on fresh envs
    seeded ``EVAL_SEED + i``; the same protocol for drlkit and Stable-Baselines3 policies."""
    import gymnasium as gym

    env = gym.make(env_id)
    returns = np.zeros(episodes)
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=EVAL_SEED + i)
            done = False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(act(obs))
                returns[i] += float(reward)
                done = terminated or truncated
    finally:
        env.close()
    return returns


def run_one(column: str, env: str, algo: str, seed: int, steps: int) -> dict[str, Any]:
    """Train one agent for ``steps`` steps and evaluate it; a JSON-ready record."""
    import torch

    torch.set_num_threads(1)
    if column == "sb3":
        import gymnasium as gym
        import stable_baselines3

        start = time.perf_counter()  # training time: construction and learning, not the imports
        model = getattr(stable_baselines3, algo)("MlpPolicy", gym.make(env), seed=seed, device="cpu", verbose=0)
        model.learn(steps)
        train_seconds = time.perf_counter() - start
        returns = evaluate_policy(lambda obs: model.predict(obs, deterministic=True)[0], env)
    else:
        import drlkit

        start = time.perf_counter()
        cls = getattr(drlkit, algo)
        config = cls.preset(env) if column == "preset" else {}
        agent = cls(env, seed=seed, **config)
        agent.train(steps)
        train_seconds = time.perf_counter() - start
        returns = evaluate_policy(agent.act, env)
    return {
        "column": column,
        "env": env,
        "algo": algo,
        "seed": seed,
        "steps": steps,
        "score": float(returns.mean()),
        "returns": [float(r) for r in returns],
        "train_seconds": round(train_seconds, 2),
    }


def _key(record: dict[str, Any]) -> tuple[str, str, str, int, int]:
    return (record["column"], record["env"], record["algo"], int(record["seed"]), int(record["steps"]))


def read_records(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    """The runs saved in ``paths``; a run saved twice (same column, env, algorithm, seed, steps) counts once."""
    records: dict[tuple[str, str, str, int, int], dict[str, Any]] = {}
    for path in paths:
        path = Path(path)
        if path.is_file():
            for line in path.read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    records.setdefault(_key(record), record)
    return list(records.values())


def planned_runs(
    envs: Sequence[str], algos: Sequence[str], columns: Sequence[str], seeds: Sequence[int], scale: float
) -> list[tuple[str, str, str, int, int]]:
    runs = []  # seed by seed, so that an interrupted benchmark has every cell, at fewer seeds
    for seed in seeds:
        for env in envs:
            for algo in algos:
                if algo not in ALGOS_FOR[env]:
                    continue
                for column in columns:
                    if column == "sb3" and algo not in SB3_ALGOS:
                        continue
                    if column == "preset" and not has_preset(algo, env):
                        continue
                    runs.append((column, env, algo, seed, max(1, round(BUDGETS[env] * scale))))
    return runs


def _cell(records: list[dict[str, Any]], env: str) -> str:
    scores = np.array([r["score"] for r in records])
    solved = int((scores >= THRESHOLDS[env]).sum())
    return f"{np.median(scores):.0f} [{scores.min():.0f}, {scores.max():.0f}] {solved}/{len(scores)}"


def table(records: list[dict[str, Any]], columns: Sequence[str] = COLUMNS) -> str:
    """The markdown table of ``records``: one row per (env, algorithm), one column per kind of run."""
    groups: dict[tuple[str, str, str, int], list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault((record["column"], record["env"], record["algo"], record["steps"]), []).append(record)
    rows = sorted(
        {(env, algo, steps) for (_, env, algo, steps) in groups},
        key=lambda row: (ENVS.index(row[0]) if row[0] in ENVS else len(ENVS), row[0], ALGOS.index(row[1]), row[2]),
    )
    lines = [
        "| env | algorithm | steps | " + " | ".join(COLUMN_TITLES[c] for c in columns) + " |",
        "|---|---|---:|" + "---|" * len(columns),
    ]
    for env, algo, steps in rows:
        cells = []
        for column in columns:
            found = groups.get((column, env, algo, steps))
            if found:
                cells.append(_cell(found, env))
            elif column == "sb3" and algo not in SB3_ALGOS:
                cells.append("n/a")
            elif column == "preset" and not has_preset(algo, env):
                cells.append("=")
            else:
                cells.append("")
        lines.append(f"| {env} | {algo} | {steps:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--envs", nargs="+", default=list(ENVS), choices=ENVS, metavar="ENV", help=", ".join(ENVS))
    parser.add_argument("--algos", nargs="+", default=list(ALGOS), choices=ALGOS, metavar="ALGO", help=", ".join(ALGOS))
    parser.add_argument(
        "--columns", nargs="+", default=list(COLUMNS), choices=COLUMNS, help="kinds of run (default: all three)"
    )
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (default 3)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds FIRST..FIRST+N-1 (default 0)")
    parser.add_argument("--budget-scale", type=float, default=1.0, help="multiply every step budget (default 1)")
    parser.add_argument("--jobs", type=int, default=1, help="runs side by side, one process each (default 1)")
    parser.add_argument("--out", default="benchmarks/defaults_runs.jsonl", help="JSON-lines file of finished runs")
    parser.add_argument("--table", nargs="+", metavar="JSONL", help="only print the table of these files' runs")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1 or args.first_seed < 0 or not args.budget_scale > 0:
        parser.error("--seeds and --jobs must be >= 1, --first-seed >= 0 and --budget-scale > 0")

    if args.table:
        print(table(read_records(args.table), args.columns))
        return 0
    columns = list(args.columns)
    if "sb3" in columns and not sb3_available():
        print("stable-baselines3 is not installed (pip install -e '.[bench]'): no SB3 column", file=sys.stderr)
        columns.remove("sb3")
    out = Path(args.out)
    done = {_key(r) for r in read_records([out])}
    runs = [
        run
        for run in planned_runs(
            args.envs, args.algos, columns, range(args.first_seed, args.first_seed + args.seeds), args.budget_scale
        )
    ]
    todo = [run for run in runs if run not in done]
    print(f"{len(runs)} runs planned, {len(runs) - len(todo)} already in {out}", file=sys.stderr, flush=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with ProcessPoolExecutor(max_workers=args.jobs) as pool, out.open("a") as sink:
        futures = {pool.submit(run_one, *run): run for run in todo}
        for future in as_completed(futures):
            record = future.result()
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            print(
                f"{record['column']:8s} {record['env']:24s} {record['algo']:4s} seed {record['seed']}: "
                f"{record['score']:8.1f} ({record['train_seconds']:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    wanted = {run for run in runs}
    print(table([r for r in read_records([out]) if _key(r) in wanted], columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
