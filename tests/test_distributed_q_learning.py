"""Distributed tabular Q-learning: merge maths, the round loop against an independent replay, convergence to Q*."""

from __future__ import annotations

import importlib
import os
import signal

import numpy as np
import pytest

import drlkit
from drlkit import distributed, tabular
from drlkit.distributed.q_learning import merge_q_tables, round_seed
from drlkit.envs import frozen_lake, gridworld
from drlkit.planning import policy_evaluation, value_iteration
from drlkit.tabular import ExponentialDecay

GAMMA = 0.9


def small_maze(slip: float = 0.0):
    """3x3 grid with a wall in the middle: 9 states, 4 actions, every pair quickly reachable."""
    return gridworld(["S..", ".#.", "..G"], slip=slip, step_reward=-0.1)


def optimal_actions_taken(Q: np.ndarray, Q_star: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Per state: is argmax_a Q(s, a) one of the optimal actions of Q* (Q* may have ties)?"""
    greedy = Q.argmax(axis=1)
    return Q_star[np.arange(len(Q)), greedy] >= Q_star.max(axis=1) - tol


# ----------------------------------------------------------------------- merge maths
def test_average_merge_is_the_mean_of_the_tables():
    rng = np.random.default_rng(0)
    tables = rng.normal(size=(3, 5, 4))
    expected = np.zeros((5, 4))
    for table in tables:
        expected += table
    expected /= 3
    np.testing.assert_allclose(merge_q_tables(tables, "average"), expected, rtol=0, atol=1e-12)


def test_visit_weighted_merge_matches_a_loop_over_pairs():
    rng = np.random.default_rng(1)
    K, S, A = 3, 6, 4
    start = rng.normal(size=(S, A))
    visits = rng.integers(0, 4, size=(K, S, A))
    visits[:, 0, 0] = 0  # nobody visited (0, 0) ...
    visits[:, 1, 2] = [0, 5, 0]  # ... only worker 1 visited (1, 2)
    # A worker's table changed only where it visited.
    tables = start + np.where(visits > 0, rng.normal(size=(K, S, A)), 0.0)

    merged = merge_q_tables(tables, "visits", visits)

    for s in range(S):
        for a in range(A):
            n = visits[:, s, a]
            expected = start[s, a] if n.sum() == 0 else sum(n[k] * tables[k, s, a] for k in range(K)) / n.sum()
            assert merged[s, a] == pytest.approx(expected, abs=1e-12)
    assert merged[0, 0] == start[0, 0]
    assert merged[1, 2] == tables[1, 1, 2]


def test_merges_of_one_table_return_it():
    table = np.arange(12.0).reshape(1, 3, 4)
    np.testing.assert_array_equal(merge_q_tables(table, "average"), table[0])
    np.testing.assert_array_equal(merge_q_tables(table, "visits", np.ones_like(table)), table[0])


def test_merge_errors_name_the_problem():
    tables = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="merge must be one of 'average', 'visits'; got 'median'"):
        merge_q_tables(tables, "median")
    with pytest.raises(ValueError, match="needs visits"):
        merge_q_tables(tables, "visits")
    with pytest.raises(ValueError, match=r"visits must have the shape of tables \(2, 3, 4\)"):
        merge_q_tables(tables, "visits", np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match=r"tables must have shape \(K, S, A\)"):
        merge_q_tables(np.zeros((3, 4)), "average")


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs, error, field",
    [
        ({"n_workers": 0}, ValueError, "n_workers"),
        ({"n_workers": 1.5}, TypeError, "n_workers"),
        ({"episodes": 0}, ValueError, "episodes"),
        ({"merge_every": 0}, ValueError, "merge_every"),
        ({"merge": "median"}, ValueError, "merge must be one of 'average', 'visits'; got 'median', or a function"),
        ({"alpha": 0.0}, ValueError, r"alpha must be in \(0, 1\]"),
        ({"alpha": 1.5}, ValueError, "alpha"),
        ({"gamma": 1.2}, ValueError, r"gamma must be in \[0, 1\]"),
        ({"epsilon": -0.1}, ValueError, "epsilon"),
        ({"seed": -1}, ValueError, "seed"),
        ({"Q_star": np.zeros((9, 3))}, ValueError, r"Q_star must have shape \(S, A\) = \(9, 4\)"),
        ({"Q0": np.zeros(9)}, ValueError, "Q0"),
        ({"client": "tcp://127.0.0.1:8786"}, TypeError, "client must be a distributed.Client"),
    ],
)
def test_bad_input_names_the_field(kwargs, error, field):
    with pytest.raises(error, match=field):
        distributed.q_learning(small_maze(), **kwargs)


def test_an_env_the_workers_cannot_rebuild_is_refused_before_any_work():
    with pytest.raises(TypeError, match="workers cannot rebuild this MDPEnv"):
        distributed.q_learning(tabular.MDPEnv(small_maze()), episodes=2)


def test_no_client_running_says_how_to_start_one():
    from distributed import default_client

    try:
        default_client()
        pytest.skip("a Dask client is already running in this process")
    except ValueError:
        pass
    with pytest.raises(RuntimeError, match="no Dask client is running; start one with `with drlkit.cluster"):
        distributed.q_learning(small_maze(), episodes=2)


# ------------------------------------------------------------------- on a real cluster
@pytest.fixture(scope="module")
def client():
    with drlkit.cluster(n_workers=2, quiet=True) as dask_client:
        # Workers import drlkit (and torch) once here rather than in the first test.
        dask_client.run(importlib.import_module, "drlkit.distributed.q_learning")
        yield dask_client


@pytest.mark.cluster
def test_rounds_replay_exactly_as_single_process_q_learning_then_numpy_mean(client):
    """Replay the algorithm on the driver with drlkit.tabular and np.mean: the same tables, bit for bit."""
    mdp, seed, K, episodes, merge_every = small_maze(), 7, 2, 12, 5
    result = distributed.q_learning(
        mdp,
        n_workers=K,
        episodes=episodes,
        merge_every=merge_every,
        alpha=0.5,
        gamma=GAMMA,
        epsilon=0.3,
        seed=seed,
        client=client,
    )

    Q = np.zeros((mdp.n_states, mdp.n_actions))
    for r, first in enumerate(range(0, episodes, merge_every)):
        n = min(merge_every, episodes - first)
        runs = [
            tabular.q_learning(mdp, n, alpha=0.5, gamma=GAMMA, epsilon=0.3, seed=round_seed(seed, k, r), Q0=Q)
            for k in range(K)
        ]
        for k, run in enumerate(runs):
            np.testing.assert_array_equal(result.worker_returns[k, first : first + n], run.returns)
        Q = np.mean([run.Q for run in runs], axis=0)
    np.testing.assert_allclose(result.Q, Q, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.Q, result.worker_Q.mean(axis=0), rtol=0, atol=1e-12)


@pytest.mark.cluster
def test_visits_merge_in_the_loop_and_what_each_merge_records(client):
    mdp, K, episodes, merge_every = small_maze(), 3, 10, 4
    S, A = mdp.n_states, mdp.n_actions
    result = distributed.q_learning(
        mdp,
        n_workers=K,
        episodes=episodes,
        merge_every=merge_every,
        merge="visits",
        gamma=GAMMA,
        epsilon=0.5,
        seed=3,
        client=client,
    )
    # One visit per step: the last round's counts add up to its episode lengths.
    last_round = slice(8, 10)
    np.testing.assert_array_equal(
        result.worker_visits.sum(axis=(1, 2)), result.worker_lengths[:, last_round].sum(axis=1)
    )
    visits, tables = result.worker_visits, result.worker_Q
    total = visits.sum(axis=0)
    expected = np.where(total > 0, (visits * tables).sum(axis=0) / np.maximum(total, 1), tables[0])
    np.testing.assert_allclose(result.Q, expected, rtol=0, atol=1e-12)

    frame = result.to_frame()
    assert list(frame.index) == [1, 2, 3]  # rounds of 4, 4 and 2 episodes
    assert list(frame["episodes"]) == [4, 8, 10]
    assert list(frame["total_episodes"]) == [12, 24, 30]
    assert (frame["bytes_down"] == K * S * A * 8).all()
    # Reply: table and visits (S * A * 8 bytes each) plus return and length per episode.
    assert list(frame["bytes_up"]) == [K * (2 * S * A * 8 + 16 * n) for n in (4, 4, 2)]
    assert list(frame["total_bytes"]) == list(np.cumsum(frame["bytes"]))
    assert frame["wall_time"].is_monotonic_increasing
    np.testing.assert_allclose(frame["mean_return"].iloc[-1], result.worker_returns[:, last_round].mean())
    assert frame["q_error"].isna().all()  # no Q_star given
    assert result.worker_returns.shape == result.worker_lengths.shape == (K, episodes)


@pytest.mark.cluster
@pytest.mark.parametrize("merge", ["average", "visits"])
def test_converges_to_value_iteration_on_a_deterministic_maze(client, merge):
    mdp = small_maze()
    Q_star = value_iteration(mdp, GAMMA).Q
    # epsilon=1: Q-learning is off-policy, random behaviour tries every pair often.
    result = distributed.q_learning(
        mdp,
        n_workers=2,
        episodes=150,
        merge_every=10,
        merge=merge,
        alpha=0.5,
        gamma=GAMMA,
        epsilon=1.0,
        seed=0,
        Q_star=Q_star,
        client=client,
    )
    assert np.abs(result.Q - Q_star).max() < 1e-3
    assert optimal_actions_taken(result.Q, Q_star).all()
    assert result.to_frame()["q_error"].iloc[-1] == pytest.approx(np.abs(result.Q - Q_star).max())

    # Single-process Q-learning on the same total experience lands on the same table.
    single = tabular.q_learning(mdp, 300, alpha=0.5, gamma=GAMMA, epsilon=1.0, seed=0)
    assert np.abs(result.Q - single.Q).max() < 2e-3


@pytest.mark.cluster
def test_learns_an_optimal_policy_on_slippery_ice(client):
    mdp = gridworld(["S..", ".H.", "..G"], slip=0.2)
    planning = value_iteration(mdp, GAMMA)
    result = distributed.q_learning(
        mdp,
        n_workers=2,
        episodes=1000,
        merge_every=50,
        merge="visits",
        alpha=ExponentialDecay(0.5, 0.01, 0.995),
        gamma=GAMMA,
        epsilon=1.0,
        seed=0,
        Q_star=planning.Q,
        client=client,
    )
    assert result.to_frame()["q_error"].iloc[-1] < 0.1
    greedy_values = policy_evaluation(mdp, result.greedy_policy(), GAMMA).V
    np.testing.assert_allclose(greedy_values, planning.V, atol=1e-6)


@pytest.mark.cluster
def test_gymnasium_id_keeps_its_time_limit(client):
    result = distributed.q_learning(
        "FrozenLake-v1", n_workers=2, episodes=6, merge_every=3, epsilon=1.0, seed=0, client=client
    )
    assert result.Q.shape == (16, 4)
    assert result.worker_lengths.max() <= 100  # FrozenLake-v1's TimeLimit
    assert set(np.unique(result.worker_returns)) <= {0.0, 1.0}


@pytest.mark.cluster
def test_a_gymnasium_env_is_rebuilt_on_the_workers_from_its_spec(client):
    import gymnasium as gym

    env = gym.make("FrozenLake-v1", map_name="8x8")
    result = distributed.q_learning(env, n_workers=2, episodes=2, merge_every=1, epsilon=1.0, seed=0, client=client)
    assert result.Q.shape == (64, 4)  # the workers' lakes are 8x8 too, not FrozenLake-v1's default 4x4
    assert result.config.env == "FrozenLake-v1"


@pytest.mark.cluster
def test_custom_merge_runs_on_the_driver(client):
    def elementwise_max(tables, visits):
        assert visits.shape == tables.shape
        return tables.max(axis=0)

    result = distributed.q_learning(
        small_maze(), n_workers=2, episodes=4, merge_every=2, merge=elementwise_max, seed=0, client=client
    )
    np.testing.assert_array_equal(result.Q, result.worker_Q.max(axis=0))
    assert result.config.merge == "elementwise_max"

    with pytest.raises(ValueError, match=r"merge function must return an array of shape \(S, A\) = \(9, 4\)"):
        distributed.q_learning(
            small_maze(), n_workers=2, episodes=2, merge=lambda tables, visits: tables, seed=0, client=client
        )


@pytest.mark.cluster
def test_the_current_client_is_used_by_default(client):
    result = distributed.q_learning(small_maze(), n_workers=1, episodes=2, merge_every=1, seed=0)
    assert result.config.n_merges == 2


@pytest.mark.cluster
@pytest.mark.slow
def test_same_result_when_a_worker_dies_mid_run(client):
    """Kill the worker holding the scattered MDP after the first merge: the driver resends it, same result."""
    kwargs = dict(n_workers=2, episodes=40, merge_every=10, gamma=GAMMA, epsilon=0.5, seed=11, client=client)
    undisturbed = distributed.q_learning(small_maze(), **kwargs)
    killed = []

    def kill_the_worker_holding_the_mdp(row):
        if row["merge"] == 1:
            holders = {a for key, where in client.who_has().items() if str(key).startswith("MDP-") for a in where}
            pids = client.run(os.getpid)
            for address in holders:
                os.kill(pids[address], signal.SIGKILL)
                killed.append(address)

    disturbed = distributed.q_learning(small_maze(), on_merge=kill_the_worker_holding_the_mdp, **kwargs)
    assert killed
    np.testing.assert_array_equal(disturbed.Q, undisturbed.Q)
    np.testing.assert_array_equal(disturbed.worker_returns, undisturbed.worker_returns)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it for the next tests


# ------------------------------------------------------------ plots and the widget
@pytest.fixture(scope="module")
def period_runs(client):
    """Two merge periods on the maze, with the error to Q* recorded."""
    mdp = small_maze()
    Q_star = value_iteration(mdp, GAMMA).Q
    return {
        f"every {m}": distributed.q_learning(
            mdp,
            n_workers=2,
            episodes=12,
            merge_every=m,
            merge="visits",
            gamma=GAMMA,
            epsilon=1.0,
            seed=0,
            Q_star=Q_star,
            client=client,
        )
        for m in (3, 12)
    }


@pytest.mark.cluster
def test_error_plot_draws_each_merge_of_each_run(period_runs):
    import matplotlib.pyplot as plt

    from drlkit.plotting.q_merge import plot_merge_errors

    baseline = np.linspace(1.0, 0.1, 24)
    ax = plot_merge_errors(period_runs, x="total_episodes", baselines={"one process": baseline})
    lines = {line.get_label(): line for line in ax.get_lines()}
    for label, run in period_runs.items():
        np.testing.assert_array_equal(lines[label].get_xdata(), run.merges["total_episodes"])
        np.testing.assert_array_equal(lines[label].get_ydata(), run.merges["q_error"])
    np.testing.assert_array_equal(lines["one process"].get_xdata(), np.arange(1, 25))
    plt.close("all")

    with pytest.raises(ValueError, match="x must be one of"):
        plot_merge_errors(period_runs, x="merges")
    with pytest.raises(ValueError, match="baselines are per-episode curves"):
        plot_merge_errors(period_runs, x="wall_time", baselines={"one process": baseline})
    with pytest.raises(ValueError, match="highlight must be one of the labels"):
        plot_merge_errors(period_runs, highlight="every 5")


@pytest.mark.cluster
def test_error_plot_refuses_runs_without_a_reference(client):
    from drlkit.plotting.q_merge import plot_merge_errors

    run = distributed.q_learning(small_maze(), n_workers=1, episodes=2, merge_every=1, seed=0, client=client)
    with pytest.raises(ValueError, match=r"results\['no ref'\] has no q_error: .*Q_star="):
        plot_merge_errors({"no ref": run})


@pytest.mark.cluster
def test_communication_bars_and_worker_tables(period_runs):
    import matplotlib.pyplot as plt

    from drlkit.plotting.q_merge import plot_communication, plot_worker_tables

    ax = plot_communication(period_runs, highlight="every 3")
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [run.merges["total_bytes"][-1] for run in period_runs.values()]
    assert heights[0] > heights[1]  # 4 merges send more than 1

    fig = plot_worker_tables(small_maze(), period_runs["every 3"])
    assert [ax.get_title() for ax in fig.axes] == ["worker 0", "worker 1", "merged (visits)"]
    plt.close("all")
    with pytest.raises(ValueError, match=r"result.Q has shape \(9, 4\) but mdp has"):
        plot_worker_tables(frozen_lake(), period_runs["every 3"])


@pytest.mark.cluster
def test_explorer_sliders_pick_the_run_that_is_drawn(client, monkeypatch):
    import matplotlib.pyplot as plt

    from drlkit.widgets import distributed_q as widget

    shown = []
    monkeypatch.setattr(widget, "display", shown.append)
    mdp = small_maze()
    explorer = widget.explore_merges(
        mdp,
        [1, 2],
        [2, 6],
        Q_star=value_iteration(mdp, GAMMA).Q,
        episodes=6,
        gamma=GAMMA,
        seed=0,
        client=client,
    )
    assert set(explorer.results) == {(1, 2), (1, 6), (2, 2), (2, 6)}
    assert explorer.results[(1, 6)].config.n_workers == 1 and explorer.results[(1, 6)].config.merge_every == 6

    def bold_line(fig):
        error_ax = fig.axes[0]
        return max(error_ax.get_lines(), key=lambda line: line.get_linewidth())

    explorer.workers_slider.value = 2
    explorer.merge_slider.value = 6
    line = bold_line(shown[-1])
    assert line.get_label() == "every 6"
    np.testing.assert_array_equal(line.get_ydata(), explorer.results[(2, 6)].merges["q_error"])
    assert "2 worker(s), merge every 6 episodes" in shown[-1].axes[0].get_title()
    plt.close("all")

    with pytest.raises(TypeError, match="merge_every is set by the sliders"):
        widget.explore_merges(mdp, [1], [2], Q_star=np.zeros((9, 4)), merge_every=3, client=client)
    with pytest.raises(ValueError, match="merge_periods must not repeat a value"):
        widget.explore_merges(mdp, [1], [2, 2], Q_star=np.zeros((9, 4)), client=client)


# ------------------------------------------------------------------------ exercises
def test_exercise_checks_accept_right_answers_and_explain_wrong_ones(capsys):
    import math

    from drlkit.exercises.distributed_q import check_average_merge, check_bytes_per_run, check_visit_weighted_merge

    def weighted(tables, visits):
        total = visits.sum(axis=0)
        return np.where(total > 0, (visits * tables).sum(axis=0) / np.maximum(total, 1), tables.mean(axis=0))

    assert check_average_merge(lambda tables: tables.mean(axis=0))
    assert check_visit_weighted_merge(weighted)
    assert check_bytes_per_run(lambda K, S, A, E, m: math.ceil(E / m) * 2 * K * S * A * 8 + 16 * K * E)
    capsys.readouterr()

    wrong_answers = [
        (check_average_merge, lambda tables: tables.mean(axis=1), "averaging over the states (axis=1)"),
        (check_average_merge, lambda tables: tables.sum(axis=0), "divide by the number of workers K = 3"),
        (check_visit_weighted_merge, lambda tables, visits: tables.mean(axis=0), "plain average"),
        (
            check_visit_weighted_merge,
            lambda tables, visits: np.nan_to_num((visits * tables).sum(0) / visits.sum(0)),
            "no worker visited pair (state 0, action 1)",
        ),
        (check_bytes_per_run, lambda K, S, A, E, m: (E // m) * 2 * K * S * A * 8 + 16 * K * E, "ceil"),
        (
            check_bytes_per_run,
            lambda K, S, A, E, m: math.ceil(E / m) * 2 * K * S * A * 8,
            "the return and the length of every episode",
        ),
    ]
    for check, answer, hint in wrong_answers:
        with np.errstate(invalid="ignore", divide="ignore"):
            assert not check(answer)
        printed = capsys.readouterr().out
        assert printed.startswith("Not yet:") and hint in printed, printed
