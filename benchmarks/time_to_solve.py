"""Time to solve CartPole-v1 with each deep RL algorithm of drlkit.

For every algorithm and seed, train until the task is *solved* and report the
wall-clock training time and the environment steps it took::

    python benchmarks/time_to_solve.py                       # DQN REINFORCE A2C PPO TRPO, 5 seeds
    python benchmarks/time_to_solve.py --algos PPO DQN --seeds 3
    python benchmarks/time_to_solve.py --sb3 --json out.json # also Stable-Baselines3 PPO and DQN
    python benchmarks/time_to_solve.py --algos PPO --pendulum

Protocol (the same for drlkit and Stable-Baselines3 runs):

* every ``EVAL_INTERVAL`` = 5,000 environment steps (at the first update at or
  after each multiple), the current policy plays ``EVAL_EPISODES`` = 20
  deterministic episodes on a separate env, seeded ``EVAL_SEED + i``;
* the run is solved at the first check whose mean return reaches the threshold
  (475 on CartPole-v1, -250 on Pendulum-v1); training stops there (the
  callback returns False) and the steps and training seconds at that check are
  the result;
* training seconds exclude the evaluations and the construction of the agent;
* one thread (``torch.set_num_threads(1)``), runs one after another in one process;
* each algorithm has a step budget (``BUDGETS``, times ``--budget-scale``); a
  run that has not solved the task by then is reported "not solved" with the
  budget and counts at its full training time in the medians and means (which
  are then lower bounds, marked ``>``).

drlkit agents use their default hyperparameters (each algorithm's defaults are
chosen for CartPole-v1); PPO on Pendulum-v1 uses ``PPO.pendulum_config()``, the
settings its documentation gives. Stable-Baselines3 (the optional ``bench`` extra:
``pip install -c constraints.txt -e ".[bench]"``) runs with the rl-zoo tuned
CartPole-v1 hyperparameters in ``SB3_HYPERPARAMETERS``, for the rl-zoo's own
number of steps (its linear schedules span that many steps).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

CARTPOLE = "CartPole-v1"
PENDULUM = "Pendulum-v1"
THRESHOLDS = {CARTPOLE: 475.0, PENDULUM: -250.0}
EVAL_INTERVAL = 5_000
EVAL_EPISODES = 20
EVAL_SEED = 1_000_000  # evaluation episodes use seeds EVAL_SEED + i, far from any training seed

ALGOS = ("DQN", "REINFORCE", "A2C", "PPO", "TRPO")
#: Step budget of a CartPole-v1 run per algorithm, before --budget-scale.
BUDGETS = {"DQN": 100_000, "REINFORCE": 500_000, "A2C": 500_000, "PPO": 200_000, "TRPO": 300_000}
PENDULUM_BUDGET = 150_000  # PPO.pendulum_config() anneals its learning rate to 0 over 150k steps

#: rl-zoo's tuned CartPole-v1 settings; the budget is rl-zoo's ``n_timesteps``.
SB3_HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "PPO": dict(
        budget=100_000,
        n_envs=8,
        n_steps=32,
        batch_size=256,
        gae_lambda=0.8,
        gamma=0.98,
        n_epochs=20,
        ent_coef=0.0,
        learning_rate=("linear", 1e-3),
        clip_range=("linear", 0.2),
    ),
    "DQN": dict(
        budget=50_000,
        n_envs=1,
        learning_rate=2.3e-3,
        batch_size=64,
        buffer_size=100_000,
        learning_starts=1000,
        gamma=0.99,
        target_update_interval=10,
        train_freq=256,
        gradient_steps=128,
        exploration_fraction=0.16,
        exploration_final_eps=0.04,
        policy_kwargs={"net_arch": [256, 256]},
    ),
}


# ---------------------------------------------------------------------- protocol
def evaluate_policy(
    act: Callable[[np.ndarray], np.ndarray], env_id: str, episodes: int = EVAL_EPISODES, seed: int = EVAL_SEED
) -> np.ndarray:
    """Undiscounted returns of ``episodes`` episodes, shape ``(episodes,)``.

    Episode ``i`` starts from ``env.reset(seed=seed + i)``; all episodes run side by
    side and ``act`` maps a batch of observations ``(n, obs_dim)`` to actions ``(n, ...)``,
    so evaluating costs one forward pass per time step, not one per episode and step.
    """
    import gymnasium as gym

    envs = [gym.make(env_id) for _ in range(episodes)]
    try:
        obs = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])
        returns = np.zeros(episodes)
        running = np.arange(episodes)
        while running.size:
            actions = np.asarray(act(obs[running]))
            still = []
            for env_index, action in zip(running, actions):
                next_obs, reward, terminated, truncated, _ = envs[env_index].step(action)
                returns[env_index] += float(reward)
                obs[env_index] = next_obs
                if not (terminated or truncated):
                    still.append(env_index)
            running = np.array(still, dtype=int)
        return returns
    finally:
        for env in envs:
            env.close()


@dataclass
class Check:
    """One evaluation: at env step ``step``, after ``train_seconds`` of training, mean return ``mean_return``."""

    step: int
    train_seconds: float
    mean_return: float


class SolveTracker:
    """The stopping rule and the clock of one run, independent of the RL library.

    Call :meth:`start` right before training and ``tracker(step)`` after every
    update with the env steps so far; it evaluates when ``step`` has reached the
    next multiple of ``eval_interval`` and returns False (stop) once the mean
    evaluation return reaches ``threshold``. Time spent in ``evaluate`` is kept
    apart, so ``train_seconds`` of a check is the clock since :meth:`start`
    minus all evaluation time before it.
    """

    def __init__(
        self,
        evaluate: Callable[[], np.ndarray],
        threshold: float,
        eval_interval: int = EVAL_INTERVAL,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if eval_interval < 1:
            raise ValueError(f"eval_interval must be a positive number of steps, got {eval_interval}")
        self.evaluate, self.threshold, self.eval_interval, self.clock = evaluate, threshold, eval_interval, clock
        self.checks: list[Check] = []
        self.eval_seconds = 0.0
        self.solved = False
        self.next_check = eval_interval
        self._start: float | None = None

    def start(self) -> None:
        self._start = self.clock()

    def train_seconds(self) -> float:
        """Seconds since :meth:`start`, evaluations excluded."""
        if self._start is None:
            raise RuntimeError("SolveTracker.start() was not called")
        return self.clock() - self._start - self.eval_seconds

    def __call__(self, step: int) -> bool:
        """Evaluate if a check is due at ``step``; False means solved: stop training."""
        if self.solved:
            return False
        if step < self.next_check:
            return True
        train_seconds = self.train_seconds()
        began = self.clock()
        mean_return = float(np.mean(self.evaluate()))
        self.eval_seconds += self.clock() - began
        self.checks.append(Check(int(step), train_seconds, mean_return))
        self.next_check = (step // self.eval_interval + 1) * self.eval_interval
        self.solved = mean_return >= self.threshold
        return not self.solved

    def finish(self, step: int) -> None:
        """After training: run the check that was due at the last step if no update triggered it."""
        self(step)


@dataclass
class RunResult:
    """One training run. Unsolved runs have ``steps``/``wall_seconds`` of the whole budget."""

    library: str
    algo: str
    env_id: str
    seed: int
    budget: int
    solved: bool
    steps: int
    wall_seconds: float
    eval_seconds: float
    checks: list[Check] = field(default_factory=list)


def run_until_solved(
    train: Callable[[Callable[[int], bool]], int],
    evaluate: Callable[[], np.ndarray],
    threshold: float,
    eval_interval: int = EVAL_INTERVAL,
) -> tuple[SolveTracker, int, float]:
    """Apply the protocol to any training loop.

    ``train(on_update)`` trains for the budget, calls ``on_update(env_steps)``
    after every update, stops as soon as that returns False, and returns the env
    steps taken. Returns the tracker (with its checks), the final step count and
    the training seconds of the whole call (evaluations excluded).
    """
    tracker = SolveTracker(evaluate, threshold, eval_interval)
    tracker.start()
    final_step = train(tracker)
    seconds = tracker.train_seconds()
    tracker.finish(final_step)
    return tracker, final_step, seconds


def _result(library, algo, env_id, seed, budget, tracker, final_step, seconds) -> RunResult:
    if tracker.solved:
        last = tracker.checks[-1]
        steps, wall = last.step, last.train_seconds
    else:
        steps, wall = final_step, seconds
    return RunResult(
        library, algo, env_id, seed, budget, tracker.solved, steps, wall, tracker.eval_seconds, list(tracker.checks)
    )


def run_drlkit(
    algo: str,
    seed: int,
    budget: int,
    env_id: str = CARTPOLE,
    config: dict[str, Any] | None = None,
    eval_interval: int = EVAL_INTERVAL,
    threshold: float | None = None,
) -> RunResult:
    """Train one drlkit agent under the protocol (``config`` overrides its defaults)."""
    agent = _algorithm(algo)(env_id, seed=seed, **(config or {}))

    def train(on_update: Callable[[int], bool]) -> int:
        agent.train(budget, callbacks=lambda a: on_update(a.total_steps))
        return agent.total_steps

    def evaluate() -> np.ndarray:
        return evaluate_policy(lambda obs: agent.act(obs, deterministic=True), env_id)

    threshold = THRESHOLDS[env_id] if threshold is None else threshold
    tracker, final_step, seconds = run_until_solved(train, evaluate, threshold, eval_interval)
    return _result("drlkit", algo, env_id, seed, budget, tracker, final_step, seconds)


def run_sb3(
    algo: str,
    seed: int,
    budget_scale: float = 1.0,
    eval_interval: int = EVAL_INTERVAL,
    threshold: float | None = None,
    budget: int | None = None,
) -> RunResult:
    """Train one Stable-Baselines3 agent on CartPole-v1 with its rl-zoo settings under the protocol."""
    try:
        import stable_baselines3 as sb3
        from stable_baselines3.common.callbacks import BaseCallback
        from stable_baselines3.common.env_util import make_vec_env
    except ImportError:
        raise SystemExit('--sb3 needs Stable-Baselines3: pip install -c constraints.txt -e ".[bench]"') from None
    settings = dict(SB3_HYPERPARAMETERS[algo])
    zoo_budget, n_envs = settings.pop("budget"), settings.pop("n_envs")
    budget = int(round(zoo_budget * budget_scale)) if budget is None else budget
    for name, value in settings.items():
        if isinstance(value, tuple) and value[0] == "linear":
            settings[name] = _linear_schedule(value[1])
    env = make_vec_env(CARTPOLE, n_envs=n_envs, seed=seed)
    model = getattr(sb3, algo)("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **settings)

    class OnStep(BaseCallback):
        def __init__(self, on_update: Callable[[int], bool]) -> None:
            super().__init__()
            self.on_update = on_update

        def _on_step(self) -> bool:
            return self.on_update(self.num_timesteps)

    def train(on_update: Callable[[int], bool]) -> int:
        model.learn(budget, callback=OnStep(on_update))
        return model.num_timesteps

    def evaluate() -> np.ndarray:
        return evaluate_policy(lambda obs: model.predict(obs, deterministic=True)[0], CARTPOLE)

    threshold = THRESHOLDS[CARTPOLE] if threshold is None else threshold
    tracker, final_step, seconds = run_until_solved(train, evaluate, threshold, eval_interval)
    env.close()
    return _result("SB3", algo, CARTPOLE, seed, budget, tracker, final_step, seconds)


def _linear_schedule(start: float) -> Callable[[float], float]:
    """rl-zoo's ``lin_<start>``: SB3 calls it with the remaining progress, from 1 down to 0."""
    return lambda remaining: remaining * start


def _algorithm(name: str):
    """The drlkit agent class ``name`` (each algorithm module registers its class on import)."""
    import importlib

    from drlkit.agents import ALGORITHMS

    if name not in ALGORITHMS:
        try:
            importlib.import_module(f"drlkit.agents.{name.lower()}")
        except ModuleNotFoundError:
            pass
    if name not in ALGORITHMS:
        raise SystemExit(f"unknown algorithm {name!r}; drlkit has {', '.join(sorted(ALGORITHMS)) or 'none'}")
    return ALGORITHMS[name]


# ----------------------------------------------------------------------- summary
@dataclass
class Summary:
    """Statistics of the runs of one (library, algorithm, env); unsolved runs count at their budget."""

    library: str
    algo: str
    env_id: str
    runs: int
    solved: int
    median_wall: float
    mean_wall: float
    median_steps: float
    budget: int

    @property
    def lower_bound(self) -> bool:
        """True when unsolved runs entered the figures (they are then lower bounds)."""
        return self.solved < self.runs


def summarise(results: Sequence[RunResult]) -> list[Summary]:
    groups: dict[tuple[str, str, str], list[RunResult]] = {}
    for r in results:
        groups.setdefault((r.library, r.algo, r.env_id), []).append(r)
    return [
        Summary(
            library,
            algo,
            env_id,
            len(rs),
            sum(r.solved for r in rs),
            float(np.median([r.wall_seconds for r in rs])),
            float(np.mean([r.wall_seconds for r in rs])),
            float(np.median([r.steps for r in rs])),
            max(r.budget for r in rs),
        )
        for (library, algo, env_id), rs in groups.items()
    ]


def speedups(summaries: Sequence[Summary]) -> dict[str, float]:
    """SB3 median wall time / drlkit median wall time for each algorithm both ran on CartPole."""
    by_key = {(s.library, s.algo, s.env_id): s for s in summaries}
    return {
        algo: by_key[("SB3", algo, CARTPOLE)].median_wall / by_key[("drlkit", algo, CARTPOLE)].median_wall
        for (library, algo, env_id) in by_key
        if library == "drlkit" and env_id == CARTPOLE and ("SB3", algo, CARTPOLE) in by_key
    }


def target_report(summaries: Sequence[Summary], ratios: dict[str, float]) -> list[str]:
    """The project's targets, each with the figure measured and whether it is met."""
    lines = []
    for s in summaries:
        if s.library == "drlkit" and s.env_id == CARTPOLE and s.algo != "REINFORCE":
            met = "met" if s.solved == s.runs else "NOT met"
            lines.append(f"target: {s.algo} solves CartPole-v1 with every seed: {s.solved}/{s.runs} ({met})")
        if s.library == "drlkit" and s.env_id == PENDULUM:
            met = "met" if s.solved == s.runs else "NOT met"
            lines.append(f"target: PPO solves Pendulum-v1 (>= {THRESHOLDS[PENDULUM]:g}): {s.solved}/{s.runs} ({met})")
    for algo, ratio in ratios.items():
        lines.append(
            f"target: {algo} at least 2x as fast as Stable-Baselines3: {ratio:.2f}x "
            f"({'met' if ratio >= 2 else 'NOT met'})"
        )
    return lines


def _load() -> str:
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return "{:.1f} / {:.1f} / {:.1f} (1 / 5 / 15 min)".format(*os.getloadavg())


def format_table(summaries: Sequence[Summary]) -> str:
    header = ("env", "library", "algorithm", "solved", "median wall s", "mean wall s", "median steps", "budget")
    rows = []
    for s in summaries:
        mark = ">" if s.lower_bound else ""
        rows.append(
            (
                s.env_id,
                s.library,
                s.algo,
                f"{s.solved}/{s.runs}",
                f"{mark}{s.median_wall:.1f}",
                f"{mark}{s.mean_wall:.1f}",
                f"{mark}{s.median_steps:,.0f}",
                f"{s.budget:,}",
            )
        )
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if any(s.lower_bound for s in summaries):
        lines.append("> : some runs did not solve the task; they count at their budget, so this is a lower bound")
    return "\n".join(lines)


def machine_info() -> dict[str, Any]:
    import torch

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


# --------------------------------------------------------------------------- CLI
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--algos",
        nargs="+",
        default=list(ALGOS),
        metavar="ALGO",
        help=f"algorithms to run (default: {' '.join(ALGOS)})",
    )
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per algorithm (default 5)")
    parser.add_argument(
        "--budget-scale", type=float, default=1.0, help="multiply every step budget by this (default 1.0)"
    )
    parser.add_argument(
        "--sb3",
        action="store_true",
        help="also run Stable-Baselines3 PPO and DQN (rl-zoo settings) and print the speed-up",
    )
    parser.add_argument("--pendulum", action="store_true", help="also run PPO on Pendulum-v1 (solved at -250)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every run and the summary to this file")
    args = parser.parse_args(argv)
    unknown = [a for a in args.algos if a not in ALGOS]
    if unknown:
        parser.error(f"--algos: unknown {', '.join(map(repr, unknown))}; choose from {', '.join(ALGOS)}")
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}")
    if not args.budget_scale > 0:
        parser.error(f"--budget-scale must be positive, got {args.budget_scale}")
    return args


def main(argv: Sequence[str] | None = None) -> list[RunResult]:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(1)
    for algo in args.algos + (["PPO"] if args.pendulum else []):
        _algorithm(algo)  # fail now, not after hours of other runs
    plans: list[tuple[str, Callable[[], RunResult]]] = []
    for algo in args.algos:
        budget = int(round(BUDGETS[algo] * args.budget_scale))
        for seed in range(args.seeds):
            plans.append((f"drlkit {algo} seed {seed}", lambda a=algo, s=seed, b=budget: run_drlkit(a, s, b)))
    if args.sb3:
        for algo in (a for a in args.algos if a in SB3_HYPERPARAMETERS):
            for seed in range(args.seeds):
                plans.append((f"SB3 {algo} seed {seed}", lambda a=algo, s=seed: run_sb3(a, s, args.budget_scale)))
    if args.pendulum:
        budget = int(round(PENDULUM_BUDGET * args.budget_scale))
        config = _algorithm("PPO").pendulum_config()
        for seed in range(args.seeds):
            plans.append(
                (
                    f"drlkit PPO {PENDULUM} seed {seed}",
                    lambda s=seed, b=budget: run_drlkit("PPO", s, b, PENDULUM, config),
                )
            )

    info = machine_info()
    print(
        f"{info['platform']}, Python {info['python']}, torch {info['torch']}, {info['cpu_count']} CPUs, "
        f"load average {_load()}"
    )
    print(
        f"time to solve: {len(plans)} runs, one torch thread, evaluation every {EVAL_INTERVAL:,} steps "
        f"({EVAL_EPISODES} deterministic episodes, excluded from the times)",
        flush=True,
    )
    results = []
    for label, run in plans:
        result = run()
        status = f"solved at {result.steps:,} steps" if result.solved else f"not solved in {result.budget:,} steps"
        print(f"  {label:<32} {status}, {result.wall_seconds:.1f} s training", flush=True)
        results.append(result)

    summaries = summarise(results)
    print()
    print(format_table(summaries))
    ratios = speedups(summaries)
    for algo, ratio in ratios.items():
        print(f"{algo}: drlkit is {ratio:.2f}x as fast as Stable-Baselines3 (median wall time, SB3 / drlkit)")
    print()
    for line in target_report(summaries, ratios):
        print(line)
    print(f"load average at the end: {_load()}")
    if args.json:
        payload = {
            "protocol": {
                "eval_interval": EVAL_INTERVAL,
                "eval_episodes": EVAL_EPISODES,
                "eval_seed": EVAL_SEED,
                "thresholds": THRESHOLDS,
                "budget_scale": args.budget_scale,
            },
            "machine": machine_info(),
            "runs": [dataclasses.asdict(r) for r in results],
            "summary": [dataclasses.asdict(s) | {"lower_bound": s.lower_bound} for s in summaries],
            "speedup_vs_sb3": ratios,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2))
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    # As a script, this folder heads the import path: benchmarks/distributed.py would shadow Dask's
    # `distributed` package. Import drlkit from the repository root instead.
    _here = Path(__file__).resolve().parent
    sys.path[:] = [str(_here.parent)] + [p for p in sys.path if Path(p or os.curdir).resolve() != _here]
    main()
