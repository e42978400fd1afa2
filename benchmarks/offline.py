"""Offline RL: dataset collection speed, and drlkit's BC and CQL against d3rlpy on the same datasets.

    python benchmarks/offline.py                      # drlkit only
    python benchmarks/offline.py --d3rlpy             # + d3rlpy DiscreteBC / DiscreteCQL (bench extra)
    python benchmarks/offline.py --d3rlpy --steps 5000 --seeds 0 1 2

Protocol:

* **Collection.** Transitions per second of ``drlkit.offline.collect`` with the shipped
  medium CartPole policy (a DQN) in this process, and of ``collect_parallel`` on a local
  Dask cluster of 2 single-threaded workers (one seed each; cluster start-up and a warm-up
  call excluded).
* **Learning.** CartPole-v1 datasets of ``--dataset-steps`` transitions (medium and expert
  quality, collected once, seed 0). For each algorithm and seed, ``--steps`` gradient steps
  with minibatches of 256, the same MLP (64, 64, ReLU), Adam with the same learning rate, and
  for CQL the same α = 1 and a target network copied every 100 steps. Gradient steps per second
  time the training call only (construction and evaluation excluded). The score is the greedy
  return over 10 evaluation episodes, normalised (0 = random policy, 100 = the expert).
* One torch thread everywhere; runs one after another in one process. d3rlpy datasets are
  built from the same arrays (``MDPDataset`` with terminals and timeouts); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

os.environ.setdefault("OMP_NUM_THREADS", "1")
# benchmarks/distributed.py would shadow the `distributed` package: drop this directory from the path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

ENV = "CartPole-v1"
BATCH, LR, HIDDEN, ALPHA, TARGET_EVERY = 256, 1e-3, (64, 64), 1.0, 100


def collection(steps: int) -> dict[str, float]:
    import drlkit
    from drlkit.offline import behaviour_policy, collect, collect_parallel

    policy = behaviour_policy(ENV, "medium")
    collect(ENV, policy, steps=500, seed=99)  # warm-up
    start = time.perf_counter()
    collect(ENV, policy, steps=steps, seed=0)
    one = steps / (time.perf_counter() - start)
    with drlkit.cluster(n_workers=2) as client:
        client.run(_warm_up)  # every worker imports torch and drlkit.offline before the timing
        collect_parallel(ENV, policy, steps=500, seeds=[98, 99], client=client)
        start = time.perf_counter()
        collect_parallel(ENV, policy, steps=steps // 2, seeds=[0, 1], client=client)
        two = steps / (time.perf_counter() - start)
    return {"1 process": one, "2 workers": two}


def _warm_up() -> None:
    import drlkit.offline  # noqa: F401


def evaluate(act, episodes: int = 10) -> float:
    import drlkit

    env = drlkit.make_env(ENV)
    total = 0.0
    for i in range(episodes):
        obs, _ = env.reset(seed=50_000 + i)
        done = False
        while not done:
            obs, r, term, trunc, _ = env.step(int(act(np.asarray(obs, dtype=np.float32))))
            total += r
            done = term or trunc
    return total / episodes


def run_drlkit(name: str, data, steps: int, seed: int) -> tuple[float, float]:
    from drlkit.offline import BC, CQL

    if name == "BC":
        agent = BC(
            ENV, data=data, seed=seed, batch_size=BATCH, learning_rate=LR, hidden_sizes=HIDDEN, log_interval=steps
        )
    else:
        agent = CQL(
            ENV,
            data=data,
            seed=seed,
            batch_size=BATCH,
            learning_rate=LR,
            hidden_sizes=HIDDEN,
            cql_alpha=ALPHA,
            target_update_interval=TARGET_EVERY,
            log_interval=steps,
        )
    start = time.perf_counter()
    agent.train(steps)
    rate = steps / (time.perf_counter() - start)
    return rate, evaluate(agent.act)


def run_d3rlpy(name: str, data, steps: int, seed: int) -> tuple[float, float]:
    import logging

    import d3rlpy
    import structlog
    from d3rlpy.logging import NoopAdapterFactory

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))  # no per-run log lines

    d3rlpy.seed(seed)
    dataset = d3rlpy.dataset.MDPDataset(
        observations=data.observations,
        actions=data.actions.reshape(-1, 1),
        rewards=data.rewards.reshape(-1, 1),
        terminals=data.terminations.astype(np.float32),
        timeouts=data.truncations.astype(np.float32),
        action_space=d3rlpy.ActionSpace.DISCRETE,
        action_size=2,
    )
    encoder = d3rlpy.models.VectorEncoderFactory(hidden_units=list(HIDDEN))
    if name == "BC":
        config = d3rlpy.algos.DiscreteBCConfig(batch_size=BATCH, learning_rate=LR, encoder_factory=encoder)
    else:
        config = d3rlpy.algos.DiscreteCQLConfig(
            batch_size=BATCH,
            learning_rate=LR,
            encoder_factory=encoder,
            alpha=ALPHA,
            target_update_interval=TARGET_EVERY,
        )
    algo = config.create(device="cpu:0")
    algo.build_with_dataset(dataset)
    start = time.perf_counter()
    algo.fit(
        dataset,
        n_steps=steps,
        n_steps_per_epoch=steps,
        show_progress=False,
        save_interval=10**9,
        logger_adapter=NoopAdapterFactory(),
    )
    rate = steps / (time.perf_counter() - start)
    return rate, evaluate(lambda obs: algo.predict(obs[None])[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--d3rlpy", action="store_true", help="also run d3rlpy (pip install -c constraints.txt d3rlpy)")
    parser.add_argument("--steps", type=int, default=3_000, help="gradient steps per run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--dataset-steps", type=int, default=10_000)
    parser.add_argument("--collect-steps", type=int, default=20_000)
    parser.add_argument("--collection-only", action="store_true", help="skip the learning part")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"load average before: {os.getloadavg()}")
    rates = collection(args.collect_steps)
    print(f"\ncollection (medium DQN policy, {args.collect_steps} transitions):")
    for k, v in rates.items():
        print(f"  {k:10s} {v:10,.0f} transitions/s")
    print(f"  speed-up with 2 workers: {rates['2 workers'] / rates['1 process']:.2f}x")
    if args.collection_only:
        return

    from drlkit.offline import behaviour_policy, collect, normalized_score, reference_returns

    expert = behaviour_policy(ENV, "expert")
    random_return, expert_return = reference_returns(ENV, expert, episodes=10)
    datasets = {
        q: collect(ENV, behaviour_policy(ENV, q), steps=args.dataset_steps, seed=0, quality=q)
        for q in ("medium", "expert")
    }
    libraries = {"drlkit": run_drlkit}
    if args.d3rlpy:
        libraries["d3rlpy"] = run_d3rlpy
    print(
        f"\nlearning: {args.steps} gradient steps, batch {BATCH}, seeds {args.seeds}; "
        f"random {random_return:.1f}, expert {expert_return:.1f}"
    )
    print(f"{'algorithm':10s} {'dataset':8s} {'library':8s} {'grad steps/s':>13s} {'score (mean ± sd)':>20s}")
    table = {}
    for algo in ("BC", "CQL"):
        for quality, data in datasets.items():
            for lib, run in libraries.items():
                results = [run(algo, data, args.steps, seed) for seed in args.seeds]
                rate = float(np.median([r for r, _ in results]))
                scores = normalized_score([s for _, s in results], random_return, expert_return)
                table[algo, quality, lib] = (rate, scores.mean())
                print(
                    f"{algo:10s} {quality:8s} {lib:8s} {rate:13,.0f} {scores.mean():12.1f} ± {scores.std():5.1f}",
                    flush=True,
                )
    if args.d3rlpy:
        print("\nspeed ratio drlkit / d3rlpy (gradient steps/s) and score difference (drlkit - d3rlpy):")
        for algo in ("BC", "CQL"):
            for quality in datasets:
                (r1, s1), (r2, s2) = table[algo, quality, "drlkit"], table[algo, quality, "d3rlpy"]
                print(f"  {algo:4s} {quality:7s} {r1 / r2:5.2f}x   {s1 - s2:+6.1f}")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
