"""Populations and replay on a local Dask cluster: PBT against random search at equal compute, and
central against distributed (Ape-X-style) prioritised replay.

* PBT vs random search: the same population (PPO on Acrobot-v1, learning rate and entropy coefficient
  drawn from the same space, the same env steps) with and without exploit/explore, over several seeds;
  printed: each seed's best member's final greedy score and the mean over seeds.
* Pipeline: a two-stage MLP over two workers, ms per step split into compute and the rest, and the
  crossover width the cost model gives with the measured latency.
* Replay: DQN learning from N actors on CartPole-v1 with one central prioritised buffer on the driver, or
  with a replay shard in every actor's worker; printed: learner updates/s and MB moved, and the replay
  ratio (transitions sampled per transition collected) that decides which design moves less.

    .venv/bin/python benchmarks/populations.py --seeds 0 1 2 --rounds 6
    .venv/bin/python benchmarks/populations.py --replay-only --actors 2 4
    .venv/bin/python benchmarks/populations.py --pipeline-only
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

# This folder holds a distributed.py of its own: keep it from shadowing Dask's package.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def pbt_vs_random_search(client, seeds, members, interval, rounds, eval_episodes) -> None:
    from drlkit.agents.ppo import PPO
    from drlkit.population import LogUniform, Uniform, train_population

    space = {"learning_rate": LogUniform(1e-4, 3e-2), "ent_coef": Uniform(0.0, 0.05)}
    finals: dict[str, list[float]] = {"PBT": [], "random search": []}
    print(f"PBT vs random search: {members} members x {rounds} rounds x {interval} steps, Acrobot-v1, PPO")
    for seed in seeds:
        for label, exploit in (("PBT", True), ("random search", False)):
            template = PPO("Acrobot-v1", seed=seed, n_steps=256, num_envs=2, batch_size=256, n_epochs=4)
            start = time.perf_counter()
            result = train_population(
                template,
                space,
                n_members=members,
                interval_steps=interval,
                total_steps=members * interval * rounds,
                exploit=exploit,
                eval_episodes=eval_episodes,
                seed=seed,
                client=client,
            )
            best = float(result.best_scores()[-1])
            finals[label].append(best)
            print(
                f"  seed {seed} {label:>13}: best final score {best:7.1f}  copies {len(result.lineage):2d}  "
                f"{time.perf_counter() - start:5.1f} s"
            )
    for label, values in finals.items():
        print(
            f"  {label:>13}: mean best final score {np.mean(values):7.1f} ± {np.std(values):.1f} "
            f"over {len(values)} seeds"
        )


def replay_comparison(client, actors, steps, gradient_steps) -> None:
    from drlkit.agents.dqn import DQN
    from drlkit.distributed.replay import train_apex

    print(f"Central vs distributed prioritised replay: CartPole-v1 DQN, {steps} env steps")
    for n_actors in actors:
        for grad in gradient_steps:
            ratio = grad * 128 / (256 * n_actors)  # transitions sampled per transition collected
            for replay in ("central", "distributed"):
                learner = DQN("CartPole-v1", seed=0, prioritized_replay=True, train_freq=256, gradient_steps=grad)
                result = train_apex(learner, n_actors=n_actors, total_steps=steps, replay=replay, client=client)
                mb = sum(result.bytes_moved.values()) / 1e6
                print(
                    f"  {n_actors} actors, replay ratio {ratio:4.1f}: {replay:>11} {result.updates_per_second():7.0f} "
                    f"updates/s  {mb:7.2f} MB moved  {result.wall_time:5.1f} s  "
                    f"({', '.join(f'{k} {v / 1e6:.2f}' for k, v in result.bytes_moved.items())})"
                )


def pipeline_timing(client, widths, steps) -> None:
    from drlkit.distributed.pipeline import (
        TwoStagePipeline,
        build_mlp,
        cartpole_returns,
        crossover_width,
        measure_flops,
    )

    x, y = cartpole_returns(256)
    flops = measure_flops()
    print(f"Two-stage pipeline: batch 256, 4 hidden layers; this process computes {flops / 1e9:.1f} GFLOP/s")
    latency = None
    for width in widths:
        pipe = TwoStagePipeline(build_mlp(4, width, 4), client=client)
        try:
            for micro in (1, 4):
                timings = [pipe.train_step(x, y, micro_batches=micro) for _ in range(steps)][1:]
                wall = float(np.median([t.wall for t in timings]))
                compute = float(np.median([max(t.compute) for t in timings]))
                if width == widths[0] and micro == 1:
                    latency = (wall - compute) / 4
                print(
                    f"  width {width:5d}, {micro} micro-batches: {wall * 1e3:7.1f} ms per step, "
                    f"{compute * 1e3:6.2f} ms compute on the busier stage, {(wall - compute) * 1e3:7.1f} ms other"
                )
        finally:
            pipe.close()
    assert latency is not None
    for bandwidth in (1e8, 1e9, 1e10):
        width = crossover_width(4, 256, flops=flops, bandwidth=bandwidth, latency=latency)
        print(
            f"  crossover at {latency * 1e3:.2f} ms per message and {bandwidth / 1e9:g} GB/s: width {width:,.0f} "
            f"({4 * width**2 / 1e6:,.0f} M parameters)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--members", type=int, default=4)
    ap.add_argument("--interval", type=int, default=2048)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--eval-episodes", type=int, default=0)
    ap.add_argument("--actors", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--replay-steps", type=int, default=12_000)
    ap.add_argument(
        "--gradient-steps", type=int, nargs="+", default=[2, 32], help="learner steps per round (actors x 256 steps)"
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--replay-only", action="store_true")
    ap.add_argument("--pbt-only", action="store_true")
    ap.add_argument("--pipeline-only", action="store_true")
    ap.add_argument("--pipeline-widths", type=int, nargs="+", default=[64, 512, 2048])
    args = ap.parse_args()

    import torch

    import drlkit

    torch.set_num_threads(1)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    with drlkit.cluster(n_workers=args.workers) as client:
        only = args.replay_only or args.pbt_only or args.pipeline_only
        if args.pbt_only or not only:
            pbt_vs_random_search(client, args.seeds, args.members, args.interval, args.rounds, args.eval_episodes)
        if args.replay_only or not only:
            replay_comparison(client, args.actors, args.replay_steps, args.gradient_steps)
        if args.pipeline_only or not only:
            pipeline_timing(client, args.pipeline_widths, 8)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
