"""A short end-to-end demo in the terminal: distributed training on a Dask cluster on this machine.

    python -m drlkit.demo                                  # sync and async, 2 workers, about a minute
    python -m drlkit.demo --workers 4 --steps 100000 --mode async
    python -m drlkit.demo --mode sync,sync_grad,async,a3c,rollouts

It starts a local Dask cluster (scheduler, worker processes and dashboard all
on 127.0.0.1), trains PPO on CartPole-v1 in each chosen mode -- every mode from
the same initial parameters and with the same budget of environment steps --
evaluates the greedy policy, and prints one line per mode:

==================  ==========================================================
``updates``         parameter updates the driver applied
``env steps/s``     environment steps per second, all workers together
``mean staleness``  updates applied while a result was being computed (0 in
                    the synchronous modes)
``eval return``     mean return of the greedy policy over fresh episodes
                    (CartPole-v1's maximum is 500)
==================  ==========================================================

Open the dashboard link it prints to watch the workers while it trains.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Sequence

from ._checks import int_argument

#: What the demo trains.
ENV_ID = "CartPole-v1"
#: PPO with fewer passes per fragment than its default: tasks of tens of milliseconds.
PPO_CONFIG: dict[str, Any] = {"n_epochs": 10}
COLUMNS = ("mode", "updates", "env steps/s", "mean staleness", "eval return", "seconds")


def _modes(text: str) -> list[str]:
    from .distributed import MODES

    modes = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if not modes or unknown:
        raise argparse.ArgumentTypeError(
            f"mode must be one or more of {', '.join(MODES)} separated by commas; got {text!r}"
        )
    return list(dict.fromkeys(modes))  # in the given order, each once


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m drlkit.demo",
        description="Train PPO on CartPole-v1 on a local Dask cluster, synchronously and asynchronously, and compare.",
    )
    parser.add_argument(
        "--workers",
        type=int_argument("workers", 1),
        default=2,
        help="Dask worker processes (default: 2; each takes about 250 MB)",
    )
    parser.add_argument(
        "--steps",
        type=int_argument("steps", 1),
        default=40_960,
        help="environment steps per mode, over all workers (default: 40960)",
    )
    parser.add_argument(
        "--mode", type=_modes, default=["sync", "async"], help="training modes, comma-separated (default: sync,async)"
    )
    parser.add_argument(
        "--fragment-steps",
        type=int_argument("fragment-steps", 1),
        default=256,
        help="environment steps per task (default: 256)",
    )
    parser.add_argument(
        "--eval-episodes",
        type=int_argument("eval-episodes", 1),
        default=10,
        help="episodes of the final evaluation (default: 10)",
    )
    parser.add_argument("--seed", type=int_argument("seed", low=0), default=0, help="random seed (default: 0)")
    return parser.parse_args(argv)


def summarize(result: Any, eval_return: float) -> dict[str, Any]:
    """One row of the table for a finished run (``seconds``: training, without starting the workers' agents)."""
    frame = result.to_frame()
    applied = frame[frame.status == "applied"]
    return {
        "mode": result.mode,
        "updates": result.updates,
        "env steps/s": result.steps_per_second,
        "mean staleness": float(applied.staleness.mean()) if len(applied) else float("nan"),
        "eval return": eval_return,
        "seconds": result.wall_time,
    }


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as a plain-text table with aligned columns."""
    formats = {
        "mode": "{}",
        "updates": "{:d}",
        "env steps/s": "{:,.0f}",
        "mean staleness": "{:.2f}",
        "eval return": "{:.1f}",
        "seconds": "{:.1f}",
    }
    cells = [[formats[c].format(row[c]) for c in COLUMNS] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(COLUMNS, widths)))]
    for row in cells:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    import drlkit
    from drlkit.agents.ppo import PPO

    # The driver only merges results and evaluates; leave the cores to the workers.
    torch.set_num_threads(1)
    show_progress = sys.stderr.isatty()
    started = time.perf_counter()
    print(
        f"drlkit demo: PPO on {ENV_ID}, {args.steps:,} env steps per mode, modes {', '.join(args.mode)}, "
        f"{args.workers} Dask worker process{'es' * (args.workers != 1)} on 127.0.0.1",
        flush=True,
    )
    with drlkit.cluster(n_workers=args.workers, quiet=True) as client:
        print(f"Dask dashboard: {client.dashboard_link or 'not available'}  (open it to watch the workers)", flush=True)
        untrained = PPO(ENV_ID, seed=args.seed, **PPO_CONFIG)
        print(f"untrained policy: eval return {untrained.evaluate(args.eval_episodes).mean():.1f}", flush=True)
        rows = []
        for mode in args.mode:
            agent = PPO(ENV_ID, seed=args.seed, **PPO_CONFIG)
            result = drlkit.distributed.train(
                agent, mode, total_steps=args.steps, fragment_steps=args.fragment_steps, progress=show_progress
            )
            eval_return = float(agent.evaluate(args.eval_episodes).mean())
            rows.append(summarize(result, eval_return))
            print(f"trained {mode}: {result.env_steps:,} env steps in {result.wall_time:.1f} s", flush=True)
    print()
    print(format_table(rows))
    print(f"\nfinished in {time.perf_counter() - started:.0f} s, starting the cluster included")
    return 0


if __name__ == "__main__":  # workers are spawned processes: they import this module without running it
    sys.exit(main())
