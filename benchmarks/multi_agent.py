"""Multi-agent benchmark on MPE ``simple_spread`` (3 agents, 25-step episodes, discrete actions).

1. Rollout overhead: joint env steps per second of ``MAPPO.collect`` (policy forward passes,
   per-agent bookkeeping, ``num_envs`` env copies) against stepping the PettingZoo env alone
   with random actions, measured in the same run. Target: overhead <= 2x.
2. ``--learn``: wall-clock seconds and joint env steps until MAPPO and IPPO reach a team return
   of ``--threshold`` (default -71: a random team scores about -81, a scripted assignment team
   about -29, both from ``drlkit.multiagent.reference``; -71 is what the test budget of
   tests/test_marl_ppo.py reaches). Evaluated every ``--eval-every`` steps on 10 episodes.

    python benchmarks/multi_agent.py                 # overhead only, ~1 min
    python benchmarks/multi_agent.py --learn         # plus time to threshold (several minutes)

Single-threaded torch (one core). Figures from a busy machine are pessimistic; the ratio is
comparable within a run.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

SPREAD = dict(N=3, max_cycles=25, continuous_actions=False)


def raw_steps_per_second(steps: int) -> float:
    from mpe2 import simple_spread_v3

    env = simple_spread_v3.parallel_env(**SPREAD)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(steps):
        if not env.agents:
            env.reset(seed=int(rng.integers(1 << 30)))
        env.step({a: int(rng.integers(5)) for a in env.agents})
    return steps / (time.perf_counter() - start)


def collect_steps_per_second(steps: int) -> float:
    from drlkit.multiagent import MAPPO

    team = MAPPO("simple_spread", seed=0, env_kwargs=SPREAD)
    team.collect(400)  # warm up
    start = time.perf_counter()
    team.collect(steps)
    return steps / (time.perf_counter() - start)


def time_to_threshold(cls_name: str, threshold: float, budget: int, eval_every: int) -> tuple[float, int | None]:
    import drlkit.multiagent as ma

    team = getattr(ma, cls_name)("simple_spread", seed=0, env_kwargs=SPREAD)
    start = time.perf_counter()
    while team.total_steps < budget:
        team.train(eval_every)
        if team.evaluate(10).mean() >= threshold:
            return time.perf_counter() - start, team.total_steps
    return time.perf_counter() - start, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=4_000, help="joint steps per throughput timing")
    parser.add_argument("--learn", action="store_true", help="also time MAPPO and IPPO to --threshold")
    parser.add_argument("--threshold", type=float, default=-71.0)
    parser.add_argument("--budget", type=int, default=100_000, help="joint steps before giving up")
    parser.add_argument("--eval-every", type=int, default=2_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"load average before: {os.getloadavg()}")
    raw = max(raw_steps_per_second(args.steps) for _ in range(2))
    ours = max(collect_steps_per_second(args.steps) for _ in range(2))
    print(f"PettingZoo simple_spread alone: {raw:,.0f} joint steps/s")
    print(f"MAPPO.collect (8 envs):         {ours:,.0f} joint steps/s  -> overhead {raw / ours:.2f}x (target <= 2x)")
    if args.learn:
        for name in ("MAPPO", "IPPO"):
            seconds, steps = time_to_threshold(name, args.threshold, args.budget, args.eval_every)
            reached = f"{steps:,} joint steps" if steps else f"not reached within {args.budget:,} steps"
            print(f"{name}: team return >= {args.threshold} after {seconds:.0f} s, {reached}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
