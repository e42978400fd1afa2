"""The `drlkit` command line, run as a user runs it: the installed console script in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import drlkit

from dask_processes import cli_cluster

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("drlkit")
COMMANDS = ("train", "evaluate", "plot", "sweep", "presets", "tutorials", "student-edition")


def drlkit_cli(
    *args: str, cwd: Path | None = None, timeout: float = 240, path_first: Path | None = None
) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    first = [str(path_first)] if path_first else []
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [*first, str(ROOT), env.get("PYTHONPATH")]))
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "drlkit.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


def test_the_console_script_is_installed():
    assert SCRIPT.exists(), f"{SCRIPT} missing: pip install -e . declares it in [project.scripts]"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_and_option_has_help(command):
    from drlkit.cli import build_parser

    done = drlkit_cli(command, "--help")
    assert done.returncode == 0, done.stderr
    assert "usage: drlkit " + command in done.stdout
    subparsers = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for action in subparsers[command]._actions:
        assert action.help, f"drlkit {command}: option {action.option_strings or action.dest} has no help text"
        for flag in action.option_strings:
            assert flag in done.stdout


def test_top_level_help_lists_every_command():
    done = drlkit_cli("--help")
    assert done.returncode == 0
    for command in COMMANDS:
        assert command in done.stdout


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["train", "PPOO", "CartPole-v1", "--steps", "10"], ["'PPOO'", "PPO"]),
        (["train", "PPO", "CartPole-v9", "--steps", "10"], ["'CartPole-v9'", "CartPole-v1"]),
        (["train", "PPO", "CartPole-v1", "--steps", "10", "--set", "lr=1e-3"], ["'lr'", "learning_rate"]),
        (["train", "PPO", "CartPole-v1", "--steps", "10", "--set", "gamma=1.5"], ["gamma", "1.5", "[0, 1]"]),
        (["train", "PPO", "CartPole-v1", "--steps", "10", "--set", "n_steps=many"], ["n_steps", "'many'"]),
        (["train", "PPO", "CartPole-v1", "--steps", "10", "--set", "gamma"], ["--set", "key=value"]),
        (["train", "PPO", "CartPole-v1", "--steps", "0"], ["--steps", ">= 1"]),
        (["train", "PPO", "CartPole-v1", "--steps", "10", "--mode", "allreduce"], ["--mode", "'allreduce'", "gossip"]),
        (
            ["train", "PPO", "CartPole-v1", "--steps", "10", "--mode", "sync", "--option", "eta=0.5"],
            ["'eta'", "'sync'"],
        ),
        (["train", "PPO", "CartPole-v1", "--steps", "10", "--mode", "sync", "--option", "speed=2"], ["'speed'"]),
        (["train", "DQN", "Pendulum-v1", "--steps", "10"], ["DQN", "Discrete"]),
        (["sweep", "PPO", "CartPole-v1", "--steps", "10", "--out", "x", "--grid", "gamma=0.9,7"], ["gamma", "7"]),
        (["evaluate", "no/such/run"], ["no/such/run"]),
        (["plot", "no/such/run"], ["no/such/run"]),
        (["frobnicate"], ["frobnicate"]),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, args, names):
    done = drlkit_cli(*args, cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and "error:" in lines[0]
    for name in names:
        assert name in lines[0], (name, lines[0])
    assert not list(tmp_path.iterdir()), "a rejected command must not leave files behind"


def test_train_writes_a_run_folder_that_evaluate_and_plot_read(tmp_path):
    runs = tmp_path / "runs"
    for seed in (0, 1):
        done = drlkit_cli(
            "train",
            "a2c",
            "CartPole-v1",
            "--steps",
            "1500",
            "--seed",
            str(seed),
            "--quiet",
            "--set",
            "hidden_sizes=32,32",
            "--set",
            "learning_rate=1e-3",
            "--out",
            str(runs / f"s{seed}"),
        )
        assert done.returncode == 0, done.stderr
    folder = runs / "s0"
    config = json.loads((folder / "config.json").read_text())
    assert config["algorithm"] == "A2C" and config["seed"] == 0 and config["mode"] == "local"
    assert config["config"]["hidden_sizes"] == [32, 32] and config["config"]["learning_rate"] == 1e-3
    # The checkpoint is the agent that was trained: settings, steps, and the History the CSV holds.
    agent = drlkit.load(folder / "agent.pt")
    assert type(agent).__name__ == "A2C" and agent.config.hidden_sizes == (32, 32)
    assert agent.total_steps >= 1500
    csv = pd.read_csv(folder / "history.csv")
    frame = agent.history.to_frame()
    assert list(csv.columns) == list(frame.columns)
    assert len(csv) == len(frame) and (csv.event == "episode").sum() > 10
    np.testing.assert_allclose(csv.episode_return.to_numpy(), frame.episode_return.to_numpy(), equal_nan=True)
    np.testing.assert_allclose(csv.policy_loss.to_numpy(), frame.policy_loss.to_numpy(), equal_nan=True)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["total_steps"] == agent.total_steps

    done = drlkit_cli("evaluate", str(folder), "--episodes", "4", "--seed", "123")
    assert done.returncode == 0, done.stderr
    evaluation = json.loads((folder / "evaluation.json").read_text())
    expected = agent.evaluate(episodes=4, seed=123)  # the same evaluation, computed in this process
    np.testing.assert_allclose(evaluation["returns"], expected)
    assert f"{expected.mean():.1f}" in done.stdout

    png = tmp_path / "curves.png"
    done = drlkit_cli("plot", str(runs), "--out", str(png), "--band", "minmax")
    assert done.returncode == 0, done.stderr
    assert "2 runs in 1 curves" in done.stdout
    import matplotlib.image

    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and image.shape[0] > 100 and image.std() > 0  # a real, non-blank picture

    # An existing run is never overwritten silently.
    done = drlkit_cli("train", "a2c", "CartPole-v1", "--steps", "10", "--out", str(folder), "--quiet")
    assert done.returncode == 2 and "--overwrite" in done.stderr


def test_history_is_written_as_parquet_or_the_run_says_how_to_get_it(tmp_path):
    train = ("train", "reinforce", "CartPole-v1", "--steps", "400", "--quiet", "--set", "hidden_sizes=16,16")
    # Without pyarrow (an import of it fails, as on an install without the parquet extra): the run still
    # succeeds, with its CSV, and one note names the extra to install.
    blocked = tmp_path / "no-pyarrow"
    (blocked / "pyarrow").mkdir(parents=True)
    (blocked / "pyarrow" / "__init__.py").write_text("raise ImportError('pyarrow is not installed')\n")
    done = drlkit_cli(*train, "--out", str(tmp_path / "csv-only"), path_first=blocked)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "csv-only" / "history.csv").is_file()
    assert not (tmp_path / "csv-only" / "history.parquet").exists()
    notes = [line for line in done.stderr.splitlines() if "parquet" in line]
    assert len(notes) == 1 and ".[parquet]" in notes[0] and "Traceback" not in done.stderr, done.stderr

    pytest.importorskip("pyarrow", reason="the parquet extra: pip install -c constraints.txt -e '.[parquet]'")
    done = drlkit_cli(*train, "--out", str(tmp_path / "both"))
    assert done.returncode == 0, done.stderr
    assert "parquet" not in done.stderr
    csv = pd.read_csv(tmp_path / "both" / "history.csv")
    parquet = pd.read_parquet(tmp_path / "both" / "history.parquet")
    agent = drlkit.load(tmp_path / "both" / "agent.pt")
    assert list(parquet.columns) == list(csv.columns) == list(agent.history.to_frame().columns)
    assert len(parquet) == len(csv) and (parquet.event == "episode").sum() > 3
    expected = agent.history.to_frame().episode_return.to_numpy(float)
    np.testing.assert_allclose(parquet.episode_return.to_numpy(float), expected, equal_nan=True)


@pytest.mark.cluster
def test_train_and_sweep_on_a_multi_process_cluster(tmp_path):
    with cli_cluster(tmp_path / "cluster", n_workers=2) as cluster:
        out = tmp_path / "dist"
        done = drlkit_cli(
            "train",
            "PPO",
            "CartPole-v1",
            "--steps",
            "3000",
            "--mode",
            "sync",
            "--workers",
            "2",
            "--address",
            cluster.address,
            "--option",
            "local_steps=1",
            "--out",
            str(out),
            "--quiet",
        )
        assert done.returncode == 0, done.stderr
        tasks = pd.read_csv(out / "distributed.csv")
        applied = tasks[tasks.status == "applied"]
        # Both worker processes of the external cluster did the work, in synchronous rounds.
        assert set(applied.worker) == {0, 1} and applied.address.nunique() == 2
        assert (applied.groupby("sync_round").size() == 2).all()
        assert applied.env_steps.sum() >= 3000
        agent = drlkit.load(out / "agent.pt")
        history = pd.read_csv(out / "history.csv")
        assert (
            (history.event == "update").sum()
            == applied.sync_round.nunique()
            == agent.history.to_frame().event.eq("update").sum()
        )
        episodes = pd.read_csv(out / "distributed_episodes.csv")
        assert set(episodes.worker) == {0, 1}

        sweep = tmp_path / "sweep"
        done = drlkit_cli(
            "sweep",
            "A2C",
            "CartPole-v1",
            "--steps",
            "800",
            "--seeds",
            "3",
            "4",
            "--grid",
            "learning_rate=1e-3,2e-3",
            "--eval-episodes",
            "2",
            "--address",
            cluster.address,
            "--out",
            str(sweep),
            "--quiet",
        )
        assert done.returncode == 0, done.stderr
    table = pd.read_csv(sweep / "sweep.csv")
    assert len(table) == 4
    assert sorted(zip(table.learning_rate, table.seed)) == [(1e-3, 3), (1e-3, 4), (2e-3, 3), (2e-3, 4)]
    # Each task trained exactly the run it names: the same run made in this process gives the same History.
    row = table[(table.learning_rate == 2e-3) & (table.seed == 4)].iloc[0]
    saved = drlkit.load(sweep / row.folder / "agent.pt")
    assert saved.seed == 4 and saved.config.learning_rate == 2e-3
    local = drlkit.A2C("CartPole-v1", seed=4, learning_rate=2e-3)
    local.train(800)
    np.testing.assert_allclose(saved.history.episode_returns, local.history.episode_returns)
    np.testing.assert_allclose(
        pd.read_csv(sweep / row.folder / "history.csv").query("event == 'episode'").episode_return.to_numpy(),
        local.history.episode_returns,
    )


def test_tutorials_serves_the_notebooks_on_localhost(tmp_path):
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "drlkit-cli-test"
    copy = tmp_path / "class"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"))
    proc = subprocess.Popen(
        [
            str(SCRIPT),
            "tutorials",
            "--port",
            str(port),
            "--no-browser",
            "--copy-to",
            str(copy),
            "--",
            f"--IdentityProvider.token={token}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        listing = None
        while time.monotonic() < deadline and listing is None:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=5) as r:
                    listing = json.load(r)
            except OSError:
                time.sleep(0.5)
        assert listing is not None, "JupyterLab did not answer within 90 s"
        names = {item["name"] for item in listing["content"]}
        expected = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
        assert expected and expected <= names
        # Bound to the loopback interface only.
        import psutil

        def listening(process: psutil.Process) -> set[str]:
            try:
                return {c.laddr.ip for c in process.net_connections(kind="inet") if c.status == "LISTEN"}
            except psutil.NoSuchProcess:  # a short-lived helper process that has exited listens nowhere
                return set()

        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        addresses = set().union(*(listening(p) for p in family))
        assert addresses and addresses <= {"127.0.0.1"}, addresses
    finally:
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_tutorials_copy_never_overwrites_a_students_work(tmp_path):
    copy = tmp_path / "class"
    copy.mkdir()
    first = sorted((ROOT / "notebooks").glob("*.ipynb"))[0]
    (copy / first.name).write_text("my answers")
    done = drlkit_cli("tutorials", "--copy-to", str(copy), "--print-command")
    assert done.returncode == 0, done.stderr
    assert (copy / first.name).read_text() == "my answers"
    assert "--ip=127.0.0.1" in done.stdout and str(copy) in done.stdout
    assert {p.name for p in copy.glob("*.ipynb")} == {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}


def test_value_parsing():
    from drlkit.cli import UsageError, parse_grid, parse_settings

    assert parse_settings(["hidden_sizes=64,64", "activation=relu", "max_grad_norm=None", "x=true", "lr=3e-4"]) == {
        "hidden_sizes": (64, 64),
        "activation": "relu",
        "max_grad_norm": None,
        "x": True,
        "lr": 3e-4,
    }
    assert parse_grid(["a=1,2", "b=x"]) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    assert parse_grid(["hidden_sizes=64,64;32"]) == [{"hidden_sizes": (64, 64)}, {"hidden_sizes": 32}]
    assert parse_grid([]) == [{}]
    with pytest.raises(UsageError, match="key=v1,v2"):
        parse_grid(["=1"])
