"""Fuzzing the command line's argument handling: whatever a user types, `drlkit train` either trains and
`drlkit plot` either draws, or the command answers with one line on stderr and exit status 2 -- never a
traceback."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drlkit.agents.ppo import PPO
from drlkit.cli import main

NAMES = [f.name for f in dataclasses.fields(PPO.Config)]
keys = st.one_of(st.sampled_from(NAMES), st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))
values = st.one_of(
    st.text(max_size=12),
    st.integers(-10, 5000).map(str),
    st.floats(allow_nan=True).map(repr),
    st.sampled_from(["None", "true", "64,64", "(0,)", "relu", "[]", "{}", "1e400", "-0.0", "'x'"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=keys,
    value=values,
    algorithm=st.sampled_from(["PPO", "ppo", "PP0", "", "A2C"]),
    env=st.sampled_from(["CartPole-v1", "cartpole", "CartPole-v1 ", "Pendulum-v1"]),
)
def test_train_answers_bad_input_with_one_line_and_status_2(tmp_path_factory, capsys, key, value, algorithm, env):
    out = tmp_path_factory.mktemp("run")
    status = main(
        [
            "train",
            algorithm,
            env,
            "--steps",
            "1",
            "--quiet",
            "--set",
            f"{key}={value}",
            "--set",
            "n_steps=8",
            "--set",
            "batch_size=8",
            "--out",
            str(out / "r"),
        ]
    )
    captured = capsys.readouterr()
    assert status in (0, 2), captured.err
    if status == 2:
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in captured.err, captured.err
        assert not (out / "r" / "agent.pt").exists()
    else:
        assert (out / "r" / "agent.pt").exists()


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two real run folders of one setting (seeds 0 and 1), written by `drlkit train`."""
    root = tmp_path_factory.mktemp("runs")
    for seed in (0, 1):
        status = main(
            [
                "train",
                "REINFORCE",
                "CartPole-v1",
                "--steps",
                "300",
                "--quiet",
                "--seed",
                str(seed),
                "--set",
                "hidden_sizes=8,8",
                "--out",
                str(root / f"s{seed}"),
            ]
        )
        assert status == 0
    return root


option_values = st.one_of(
    st.text(max_size=8),
    st.integers(-5, 300).map(str),
    st.sampled_from(["0", "1", "2", "-1", "1e9", "nan", "std", "sem", "minmax", "none", "step", "wall_time", "seed"]),
)
plot_options = st.lists(
    st.tuples(st.sampled_from(["--smooth", "--points", "--band", "--x", "--dpi", "--label-by"]), option_values),
    max_size=3,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=plot_options)
def test_plot_answers_bad_options_with_one_line_and_status_2(two_runs, tmp_path_factory, capsys, options):
    out = tmp_path_factory.mktemp("png") / "curves.png"
    argv = ["plot", str(two_runs), "--out", str(out)]
    for name, value in options:
        argv += [name, value] if not value.startswith("-") else [f"{name}={value}"]
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own exit (a bad choice or type), after one line on stderr
        status = exit_.code
    captured = capsys.readouterr()
    assert status in (0, 2), captured.err
    if status == 2:
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in captured.err, captured.err
        assert not out.exists()
    else:
        assert out.read_bytes().startswith(b"\x89PNG")
