"""The protocol of benchmarks/time_to_solve.py: when it evaluates, what time it counts, when it stops.

No timing thresholds: the checks are on the bookkeeping (evaluation time kept
out of the training time, stopping at the first check that meets the threshold),
on tiny budgets.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from agent_tools import one_thread  # noqa: F401  (autouse fixture)

ROOT = Path(__file__).resolve().parents[1]


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("time_to_solve", ROOT / "benchmarks" / "time_to_solve.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tts = _load_benchmark()


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def scripted_evaluation(clock: FakeClock, means: list[float], seconds: float):
    """An evaluation that takes ``seconds`` on the clock and returns the next scripted mean."""
    remaining = list(means)

    def evaluate() -> np.ndarray:
        clock.now += seconds
        return np.full(20, remaining.pop(0))

    return evaluate


# ------------------------------------------------------------ SolveTracker
def test_tracker_counts_training_time_only_and_stops_at_first_passing_check():
    clock = FakeClock()
    tracker = tts.SolveTracker(
        scripted_evaluation(clock, [100.0, 300.0, 480.0, 500.0], seconds=10.0),
        threshold=475.0,
        eval_interval=5000,
        clock=clock,
    )
    tracker.start()
    keep_going = []
    for step in range(1000, 30_001, 1000):  # one update per 1000 steps, 1 s each
        clock.now += 1.0
        keep_going.append(tracker(step))
        if not keep_going[-1]:
            break
    assert [c.step for c in tracker.checks] == [5000, 10_000, 15_000]
    # 15 updates of 1 s; the two 10 s evaluations before the solving check are not counted.
    assert [c.train_seconds for c in tracker.checks] == [5.0, 10.0, 15.0]
    assert [c.mean_return for c in tracker.checks] == [100.0, 300.0, 480.0]
    assert tracker.solved and tracker.eval_seconds == 30.0
    assert keep_going == [True] * 14 + [False]
    assert tracker(16_000) is False  # once solved, it keeps asking to stop


def test_tracker_checks_at_the_first_update_past_each_multiple():
    clock = FakeClock()
    tracker = tts.SolveTracker(
        scripted_evaluation(clock, [0.0] * 10, 1.0), threshold=475.0, eval_interval=5000, clock=clock
    )
    tracker.start()
    for step in range(3000, 30_001, 3000):
        assert tracker(step) is True
    # 6000 covers 5000; 12000 covers 10000; 15000; 21000 covers 20000; 27000 covers 25000; 30000.
    assert [c.step for c in tracker.checks] == [6000, 12_000, 15_000, 21_000, 27_000, 30_000]


def test_finish_runs_a_check_only_when_one_is_due():
    clock = FakeClock()
    tracker = tts.SolveTracker(
        scripted_evaluation(clock, [490.0], 1.0), threshold=475.0, eval_interval=5000, clock=clock
    )
    tracker.start()
    tracker(4000)
    tracker.finish(4999)
    assert tracker.checks == []
    tracker.finish(5000)
    assert [c.step for c in tracker.checks] == [5000] and tracker.solved


def test_tracker_rejects_bad_interval_and_a_missing_start():
    with pytest.raises(ValueError, match="eval_interval"):
        tts.SolveTracker(lambda: np.zeros(1), 1.0, eval_interval=0)
    tracker = tts.SolveTracker(lambda: np.zeros(1), 1.0, eval_interval=10)
    with pytest.raises(RuntimeError, match="start"):
        tracker(10)


# --------------------------------------------------- with a real agent
def test_real_agent_training_time_excludes_evaluation():
    from drlkit.agents.ppo import PPO

    agent = PPO("CartPole-v1", seed=0)
    rollout = agent.config.n_steps * agent.config.num_envs

    def train(on_update):
        agent.train(4 * rollout, callbacks=lambda a: on_update(a.total_steps))
        return agent.total_steps

    def evaluate():
        return tts.evaluate_policy(agent.act, "CartPole-v1", episodes=5)

    began = time.perf_counter()
    tracker, final_step, seconds = tts.run_until_solved(train, evaluate, threshold=math.inf, eval_interval=rollout)
    total = time.perf_counter() - began
    assert final_step == 4 * rollout and not tracker.solved
    assert [c.step for c in tracker.checks] == [rollout, 2 * rollout, 3 * rollout, 4 * rollout]
    assert tracker.eval_seconds > 0 and seconds > 0
    assert seconds <= total - tracker.eval_seconds
    # The training time at each check grows and stays below the final training time.
    times = [c.train_seconds for c in tracker.checks]
    assert times == sorted(times) and times[-1] <= seconds


def test_run_stops_at_the_first_check_that_meets_the_threshold():
    from drlkit.agents.ppo import PPO

    rollout = PPO.Config().n_steps * PPO.Config().num_envs
    # Every CartPole episode returns at least 8, so the first check already "solves" it.
    result = tts.run_drlkit("PPO", seed=0, budget=100 * rollout, eval_interval=rollout + 1, threshold=0.0)
    assert result.solved
    assert len(result.checks) == 1
    assert result.steps == result.checks[0].step == 2 * rollout  # the first update at or after the interval
    assert result.wall_seconds == result.checks[0].train_seconds


def test_unsolved_run_reports_the_budget():
    from drlkit.agents.ppo import PPO

    rollout = PPO.Config().n_steps * PPO.Config().num_envs
    result = tts.run_drlkit("PPO", seed=0, budget=2 * rollout, eval_interval=rollout, threshold=math.inf)
    assert not result.solved and result.steps == 2 * rollout and result.budget == 2 * rollout
    assert [c.step for c in result.checks] == [rollout, 2 * rollout]


# ------------------------------------------------------------- evaluation
def test_evaluate_policy_matches_plain_rollouts():
    def lean_policy(obs):  # push the cart towards where the pole leans
        return (np.asarray(obs)[..., 2] > 0).astype(np.int64)

    returns = tts.evaluate_policy(lean_policy, "CartPole-v1", episodes=6, seed=123)
    expected = []
    env = gym.make("CartPole-v1")
    for i in range(6):
        obs, _ = env.reset(seed=123 + i)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(int(lean_policy(obs)))
            total += reward
            done = terminated or truncated
        expected.append(total)
    np.testing.assert_array_equal(returns, expected)
    assert len(set(expected)) > 1  # different seeds, different episodes


# ---------------------------------------------------------------- summary
def run(library, algo, seed, solved, steps, wall, budget=1000):
    return tts.RunResult(library, algo, "CartPole-v1", seed, budget, solved, steps, wall, 0.0)


def test_summary_counts_unsolved_runs_at_their_budget():
    results = [
        run("drlkit", "PPO", 0, True, 300, 3.0),
        run("drlkit", "PPO", 1, True, 500, 5.0),
        run("drlkit", "PPO", 2, False, 1000, 12.0),
        run("SB3", "PPO", 0, True, 400, 8.0),
        run("SB3", "PPO", 1, True, 600, 10.0),
        run("SB3", "PPO", 2, True, 600, 12.0),
    ]
    ours, theirs = tts.summarise(results)
    assert (ours.library, ours.solved, ours.runs) == ("drlkit", 2, 3)
    assert ours.median_wall == 5.0 and ours.mean_wall == pytest.approx(20.0 / 3)
    assert ours.median_steps == 500 and ours.lower_bound
    assert not theirs.lower_bound and theirs.median_wall == 10.0
    assert tts.speedups([ours, theirs]) == {"PPO": pytest.approx(2.0)}
    table = tts.format_table([ours, theirs])
    assert "2/3" in table and ">5.0" in table and "lower bound" in table


def test_cli_rejects_unknown_algorithms_and_bad_numbers(capsys):
    for argv, field in (
        ([["--algos", "PPO", "SAC"]], "SAC"),
        ([["--seeds", "0"]], "--seeds"),
        ([["--budget-scale", "-1"]], "--budget-scale"),
    ):
        with pytest.raises(SystemExit):
            tts.parse_args(*argv)
        assert field in capsys.readouterr().err
    args = tts.parse_args(["--algos", "PPO", "DQN", "--seeds", "2", "--sb3"])
    assert args.algos == ["PPO", "DQN"] and args.seeds == 2 and args.sb3 and not args.pendulum


# ------------------------------------------------------------------- SB3
def test_sb3_run_follows_the_same_protocol():
    pytest.importorskip("stable_baselines3")
    result = tts.run_sb3("PPO", seed=0, eval_interval=500, threshold=0.0, budget=5000)
    # 8 envs step together: the first callback at or after 500 steps is at 504; training stops there.
    assert result.library == "SB3" and result.solved
    assert [c.step for c in result.checks] == [504] and result.steps == 504
