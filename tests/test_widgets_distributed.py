"""Notebook 05's widgets, live plot, tables and the schedule model."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import drlkit  # noqa: E402
from drlkit.agents.ppo import PPO  # noqa: E402
from drlkit.distributed import DistributedResult  # noqa: E402
from drlkit.distributed.result import ROW_COLUMNS  # noqa: E402
from drlkit.widgets.distributed import (  # noqa: E402
    TABLE_COLUMNS,
    LiveRunPlot,
    describe_schedule,
    explore_scenarios,
    plot_scaling,
    plot_schedule,
    run_live,
    run_table,
    simulate_schedule,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def make_agent():
    return PPO("CartPole-v1", seed=0, n_epochs=2)


def recorded_run(mode="async", rows=(), episodes=(), wall_time=2.0, env_steps=0, n_workers=2):
    """A DistributedResult written out by hand; rows are (status, version, staleness)."""
    result = DistributedResult(agent=None, mode=mode, n_workers=n_workers, options={}, metric_keys=())
    applied = 0
    for status, version, staleness in rows:
        applied += status == "applied"
        row = dict.fromkeys(ROW_COLUMNS, float("nan"))
        row.update(updates=applied, status=status, worker=0, moved=False, version=version, staleness=staleness)
        result.rows.append(row)
    result.episodes = [
        {"wall_time": 0.1 * i, "step": 10 * i, "episode_return": r, "episode_length": int(r), "worker": 0, "version": 0}
        for i, r in enumerate(episodes)
    ]
    result.wall_time, result.env_steps = wall_time, env_steps
    return result


# ------------------------------------------------------------ schedule model
def test_a_synchronous_round_lasts_as_long_as_the_straggler():
    tasks = simulate_schedule("sync", n_workers=3, slowdown=3.0, duration=12.0)
    rounds = sorted({t["version"] for t in tasks})
    assert rounds == [0, 1, 2, 3]  # 12 time units / 3 per round
    for r in rounds:
        in_round = [t for t in tasks if t["version"] == r]
        assert sorted(t["slot"] for t in in_round) == [0, 1, 2]
        assert {t["start"] for t in in_round} == {3.0 * r}
    assert all(t["staleness"] == 0 and t["status"] == "applied" for t in tasks)
    # The fast slots compute 1 unit per 3-unit round.
    assert describe_schedule(tasks, "sync", 3, 12.0) == "4 updates, mean τ 0.0, 0 dropped, fast workers busy 33%"


def test_asynchronous_workers_never_wait_and_staleness_follows_the_version_stamps():
    tasks = simulate_schedule("async", n_workers=2, slowdown=3.0, duration=12.0)
    assert sum(t["slot"] == 1 for t in tasks) == 12 and sum(t["slot"] == 0 for t in tasks) == 4
    for slot in (0, 1):
        own = [t for t in tasks if t["slot"] == slot]
        assert all(a["end"] == b["start"] for a, b in zip(own, own[1:]))  # back to back
    # Handled in order of their end times; τ = results applied before this one - its stamp.
    assert [t["end"] for t in tasks] == sorted(t["end"] for t in tasks)
    for k, task in enumerate(tasks):
        assert task["staleness"] == k - task["version"]
    # The straggler's results: sent at version v, 3 fast results (and its own) later.
    assert [t["staleness"] for t in tasks if t["slot"] == 0] == [2, 3, 3, 3]


def test_a_staleness_cap_drops_results_and_they_do_not_count_as_updates():
    tasks = simulate_schedule("async", n_workers=2, slowdown=3.0, duration=12.0, max_staleness=1)
    applied = [t for t in tasks if t["status"] == "applied"]
    assert all(t["staleness"] <= 1 for t in applied)
    assert all(t["staleness"] > 1 for t in tasks if t["status"] == "dropped")
    assert [t["slot"] for t in tasks if t["status"] == "dropped"] == [0, 0, 0, 0]
    version = 0
    for task in tasks:
        assert task["staleness"] == version - task["version"]
        version += task["status"] == "applied"


def test_one_asynchronous_worker_is_sequential_training():
    tasks = simulate_schedule("async", n_workers=1, slowdown=1.0, duration=5.0)
    assert [(t["start"], t["version"], t["staleness"]) for t in tasks] == [(k, k, 0) for k in range(5)]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(mode="asink", n_workers=2), "mode"),
        (dict(mode="sync", n_workers=0), "n_workers"),
        (dict(mode="sync", n_workers=2, slowdown=0.5), "slowdown"),
        (dict(mode="async", n_workers=2, duration=0), "duration"),
        (dict(mode="async", n_workers=2, max_staleness=-1), "max_staleness"),
    ],
)
def test_bad_schedule_settings_name_the_field(kwargs, field):
    with pytest.raises((TypeError, ValueError), match=field):
        simulate_schedule(**kwargs)


def test_plot_schedule_draws_one_bar_per_task():
    tasks = simulate_schedule("async", n_workers=3, slowdown=2.0, duration=6.0)
    ax = plot_schedule(tasks, n_workers=3)
    assert len(ax.patches) == len(tasks)
    assert [t.get_text() for t in ax.texts] == [f"τ={t['staleness']}" for t in tasks]


# ----------------------------------------------------------- tables, plots
def test_run_table_summarises_each_run():
    async_run = recorded_run(
        rows=[("applied", 0, 0), ("applied", 0, 1), ("dropped", 0, 2), ("applied", 1, 1), ("cancelled", 3, -1)],
        episodes=[10.0] * 5 + [30.0, 50.0],
        wall_time=2.0,
        env_steps=1000,
    )
    table = run_table({"a": async_run}, window=2)
    assert list(table.columns) == list(TABLE_COLUMNS)
    row = table.loc["a"]
    assert row["updates"] == 3 and row["dropped"] == 1 and row["env steps"] == 1000
    assert row["mean staleness"] == pytest.approx((0 + 1 + 1) / 3, abs=0.01)  # applied results only
    assert row["max staleness"] == 1
    assert row["return"] == pytest.approx(40.0)  # the last 2 episodes
    assert row["env steps/s"] == pytest.approx(500.0) and row["updates/s"] == pytest.approx(1.5)


def test_run_table_rejects_what_is_not_a_run():
    with pytest.raises(TypeError, match="runs\\['x'\\]"):
        run_table({"x": 3})


def test_plot_scaling_draws_ideal_linear_scaling_from_the_first_point():
    ax = plot_scaling([1, 2, 4], [100.0, 150.0, 160.0], cores=2)
    measured, ideal = ax.lines[0], ax.lines[1]
    np.testing.assert_allclose(ideal.get_ydata(), [100.0, 200.0, 400.0])
    np.testing.assert_allclose(measured.get_ydata(), [100.0, 150.0, 160.0])
    with pytest.raises(ValueError, match="equal"):
        plot_scaling([1, 2], [1.0])


# ------------------------------------------------------------ live plot
def test_live_plot_stops_the_run_at_the_time_limit_and_redraws_at_most_every_interval():
    plot = LiveRunPlot("async", time_limit=1.5, interval=3600.0)
    run = recorded_run(episodes=[10.0, 20.0])
    run.wall_time = 1.0
    assert plot(run) is True and plot.redraws == 1
    run.wall_time = 1.6
    assert plot(run) is False and plot.redraws == 1  # out of time; not redrawn within the interval
    plot.draw(run, final=True)
    assert plot.redraws == 2 and "finished" in plot.figure.get_suptitle()
    assert plot.png().startswith(b"\x89PNG")


def test_live_plot_checks_its_arguments():
    reference = recorded_run()
    with pytest.raises(ValueError, match="already used"):
        LiveRunPlot("sync", compare={"sync": reference})
    with pytest.raises(ValueError, match="time_limit"):
        LiveRunPlot("x", time_limit=0)
    with pytest.raises(TypeError, match="output"):
        LiveRunPlot("x", output="here")


def test_run_live_needs_a_budget():
    with pytest.raises(TypeError, match="total_steps"):
        run_live(make_agent(), "sync")


# ------------------------------------------------------------- explorer
def test_the_explorer_turns_its_widgets_into_train_options():
    explorer = explore_scenarios(make_agent, total_steps=2048, fragment_steps=128, n_workers=2, max_workers=4)
    explorer.mode.value = "sync"
    explorer.slowdown.value = 3.0
    assert explorer.scenario() == {"n_workers": 2, "total_steps": 2048, "fragment_steps": 128, "slowdown": {0: 3.0}}
    assert explorer.label() == "#1 sync 2w straggler ×3"
    assert explorer.eta.disabled and explorer.max_staleness.disabled
    assert len({t["version"] for t in explorer.schedule()}) == 4  # the preview follows the widgets

    explorer.mode.value = "async"
    explorer.workers.value = 3
    explorer.eta.value = 0.5
    explorer.staleness_aware.value = True
    explorer.max_staleness.value = 2
    assert not explorer.eta.disabled
    assert explorer.scenario() == {
        "n_workers": 3,
        "total_steps": 2048,
        "fragment_steps": 128,
        "slowdown": {0: 3.0},
        "eta": 0.5,
        "staleness_aware": True,
        "max_staleness": 2,
    }
    assert explorer.label() == "#1 async 3w straggler ×3 η=0.5/τ cap 2"
    assert all(t["staleness"] <= 2 for t in explorer.schedule() if t["status"] == "applied")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_explorer_options_pass_the_engine_checks(mode):
    # train() checks every option before it looks at the client: reaching the client check
    # means the scenario's options are all valid for its mode.
    explorer = explore_scenarios(make_agent, total_steps=1024)
    explorer.mode.value = mode
    explorer.slowdown.value = 2.0
    if mode == "async":
        explorer.max_staleness.value = 0
    with pytest.raises(TypeError, match="client must be a distributed.Client"):
        drlkit.distributed.train(make_agent(), mode, client="not a client", **explorer.scenario())


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(make_agent=3), "make_agent"),
        (dict(total_steps=10), "total_steps"),
        (dict(n_workers=5, max_workers=4), "n_workers"),
        (dict(max_workers=0), "max_workers"),
        (dict(fragment_steps=0), "fragment_steps"),
        (dict(runs={"a": 1}), "runs"),
    ],
)
def test_bad_explorer_settings_name_the_field(kwargs, field):
    kwargs.setdefault("make_agent", make_agent)
    with pytest.raises((TypeError, ValueError), match=field):
        explore_scenarios(**kwargs)


def test_the_explorer_reports_a_failed_run_and_keeps_its_runs(capsys):
    reference = recorded_run(episodes=[10.0])
    explorer = explore_scenarios(make_agent, client="not a client", total_steps=1024, runs={"earlier": reference})
    assert explorer.run() is None
    assert "stopped: TypeError: client must be a distributed.Client" in capsys.readouterr().out
    assert list(explorer.results) == ["earlier"] and not explorer.run_button.disabled


# ------------------------------------------------- on a real local cluster
@pytest.fixture(scope="module")
def client():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    with drlkit.cluster(n_workers=2, quiet=True) as client:
        yield client
    torch.set_num_threads(previous)


@pytest.mark.cluster
@pytest.mark.slow
def test_run_live_stops_at_its_time_limit_and_prints_a_summary(client, capsys):
    result = run_live(make_agent(), "async", label="timed", time_limit=1.0, fragment_steps=128, interval=0.2)
    out = capsys.readouterr().out
    assert out.startswith("timed: ") and "mean staleness" in out
    # It stopped on time, not at the (enormous) step budget it was given.
    assert result.wall_time >= 1.0 and result.env_steps < 10**8
    assert f"{result.updates} updates" in out and f"{result.env_steps:,} env steps" in out


@pytest.mark.cluster
@pytest.mark.slow
def test_the_explorer_trains_a_scenario_and_keeps_every_run(client):
    explorer = explore_scenarios(make_agent, total_steps=1024, fragment_steps=128, n_workers=2, interval=0.0)
    explorer.mode.value = "sync"
    first = explorer.run()
    explorer.mode.value = "async"
    explorer.max_staleness.value = 0
    second = explorer.run()
    assert list(explorer.results) == ["#1 sync 2w", "#2 async 2w η=0.5 cap 0"]
    assert first.mode == "sync" and first.env_steps == 1024 and first.updates == 4  # 1024 / (2 x 128)
    assert second.options["max_staleness"] == 0
    frame = second.to_frame()
    assert (frame.staleness[frame.status == "applied"] == 0).all()
    assert "#2 async 2w η=0.5 cap 0" in explorer.table.value and "<table" in explorer.table.value
    assert not explorer.run_button.disabled


def test_moved_pieces_are_the_same_objects_under_their_old_names():
    """The schedule model lives in drlkit.distributed.schedule, the figures in drlkit.plotting;
    notebook code importing them from the widgets module keeps working."""
    from drlkit.distributed import schedule
    from drlkit.plotting import distributed as plots
    from drlkit.plotting.live import LiveCurve, LiveFigure

    assert simulate_schedule is schedule.simulate_schedule and describe_schedule is schedule.describe_schedule
    assert plot_schedule is plots.plot_schedule and plot_scaling is plots.plot_scaling
    assert LiveRunPlot is plots.LiveRunPlot
    assert issubclass(LiveRunPlot, LiveFigure) and issubclass(LiveCurve, LiveFigure)


def test_run_table_is_the_summary_table_of_the_results():
    runs = {
        "a": recorded_run(rows=[("applied", 0, 0), ("applied", 1, 2)], env_steps=100),
        "b": recorded_run("sync", rows=[("applied", 0, 0)], env_steps=50),
    }
    table = DistributedResult.summary_table(runs, window=5)
    assert table.equals(run_table(runs, window=5))
    assert list(table.columns) == list(TABLE_COLUMNS) and list(table.index) == ["a", "b"]
    assert table.loc["a", "max staleness"] == 2 and table.loc["b", "mode"] == "sync"
    with pytest.raises(TypeError, match="DistributedResult"):
        DistributedResult.summary_table({"x": 1})
