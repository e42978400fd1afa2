"""Environment steps per second of drlkit's tabular learners, against a plain gymnasium loop.

Measured in the same process, one after another, on CliffWalking-v1 and FrozenLake-v1:

* ``gymnasium loop``: ``env.step(env.action_space.sample())`` with ``env.reset()``
  at the end of each episode -- no learning at all, the cost of the environment alone;
* ``one run, gymnasium env``: ``drlkit.tabular.q_learning(env_id)``, the readable
  one-run loop stepping the gymnasium env (ε-greedy choice, TD target, update);
* ``one run, MDP``: the same loop on the env's model (``MDP.from_gymnasium``) wrapped as a gymnasium env;
* ``vectorised, R runs``: ``q_learning(mdp, runs=R)``, every run advanced by one
  ``MDP.step_batch`` per step.

Steps are the environment transitions actually taken (``result.lengths.sum()``).
Each figure is the best of ``--repeats`` timings. The last column is the speed
relative to the plain gymnasium loop on the same environment::

    python benchmarks/tabular.py
    python benchmarks/tabular.py --runs 100 --episodes 500 --repeats 3
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import time
from typing import Callable

import gymnasium as gym
import numpy as np

from drlkit import MDP
from drlkit.tabular import q_learning

ENVS = ("CliffWalking-v1", "FrozenLake-v1")


def gymnasium_random_loop(env_id: str, steps: int, seed: int) -> int:
    """Step ``env_id`` with uniformly random actions; returns the number of steps taken."""
    env = gym.make(env_id)
    env.action_space.seed(seed)
    env.reset(seed=seed)
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    return steps


def best_time(measure: Callable[[], int], repeats: int) -> tuple[int, float]:
    """(steps, seconds) of the fastest of ``repeats`` calls of ``measure`` (which returns its steps)."""
    best = (0, float("inf"))
    for _ in range(repeats):
        started = time.perf_counter()
        steps = measure()
        seconds = time.perf_counter() - started
        if seconds < best[1]:
            best = (steps, seconds)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=500, help="episodes per run (default 500)")
    parser.add_argument("--runs", type=int, default=100, help="runs of the vectorised learner (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per figure, the best is kept (default 3)")
    parser.add_argument("--baseline-steps", type=int, default=100_000, help="steps of the gymnasium loop")
    args = parser.parse_args()

    print(
        f"python {platform.python_version()}, numpy {np.__version__}, gymnasium {gym.__version__}, "
        f"{os.cpu_count()} CPU(s), {platform.machine()}"
    )
    print(f"Q-learning, alpha=0.5, epsilon=0.1, gamma=1.0, {args.episodes} episodes per run; best of {args.repeats}\n")
    header = f"{'environment':16s} {'method':28s} {'steps':>10s} {'seconds':>8s} {'steps/s':>11s} {'vs gym':>7s}"
    print(header)
    print("-" * len(header))
    settings = dict(alpha=0.5, epsilon=0.1, gamma=1.0, seed=0)

    def learn(env, runs, **options):
        return lambda: int(q_learning(env, args.episodes, runs=runs, **options, **settings).lengths.sum())

    for env_id in ENVS:
        mdp = MDP.from_gymnasium(env_id)
        measurements = {
            "gymnasium loop (random)": functools.partial(gymnasium_random_loop, env_id, args.baseline_steps, seed=0),
            "one run, gymnasium env": learn(env_id, 1),
            "one run, MDP": learn(mdp, 1, vectorised=False),
            f"vectorised, {args.runs} runs": learn(mdp, args.runs),
        }
        baseline = None
        for method, measure in measurements.items():
            steps, seconds = best_time(measure, args.repeats)
            speed = steps / seconds
            baseline = baseline or speed
            print(f"{env_id:16s} {method:28s} {steps:10d} {seconds:8.2f} {speed:11,.0f} {speed / baseline:6.2f}x")
        print()


if __name__ == "__main__":
    main()
