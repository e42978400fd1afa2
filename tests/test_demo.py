"""`python -m drlkit.demo`: the terminal demo trains on a local cluster and prints its comparison table."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from drlkit.demo import COLUMNS, format_table, parse_args

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.cluster
@pytest.mark.slow
def test_the_demo_trains_every_mode_and_prints_the_table():
    steps, fragment, workers = 1024, 128, 2
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "drlkit.demo",
            "--workers",
            str(workers),
            "--steps",
            str(steps),
            "--fragment-steps",
            str(fragment),
            "--mode",
            "sync,async",
            "--eval-episodes",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    out = completed.stdout
    assert re.search(r"^Dask dashboard: http://127\.0\.0\.1:\d+/status", out, re.MULTILINE)
    assert f"{workers} Dask worker processes on 127.0.0.1" in out

    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["mode", "updates"])
    assert re.split(r"\s{2,}", lines[header].strip()) == list(COLUMNS)
    rows = {}
    for line in lines[header + 1 : header + 3]:
        mode, updates, rate, staleness, eval_return, seconds = re.split(r"\s{2,}", line.strip())
        rows[mode] = dict(
            updates=int(updates),
            rate=float(rate.replace(",", "")),
            staleness=float(staleness),
            eval_return=float(eval_return),
            seconds=float(seconds),
        )
    assert list(rows) == ["sync", "async"]
    # Sync: one update per round of one fragment per worker; async: one per fragment.
    assert rows["sync"]["updates"] == steps // (fragment * workers)
    assert rows["async"]["updates"] == steps // fragment
    assert rows["sync"]["staleness"] == 0.0
    # Two fragments start from version 0, so the second result to arrive is at least 1 update stale.
    assert rows["async"]["staleness"] > 0.0
    for row in rows.values():
        assert row["rate"] > 0 and row["seconds"] > 0
        assert 8.0 <= row["eval_return"] <= 500.0  # CartPole-v1 episodes last 8 to 500 steps


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--workers", "0"], "workers must be in"),
        (["--steps", "many"], "steps must be an integer"),
        (["--mode", "sync,turbo"], "mode must be one or more of rollouts, sync"),
        (["--seed", "-1"], "seed must be in"),
    ],
)
def test_bad_options_are_named(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_defaults_and_mode_lists():
    args = parse_args([])
    assert (args.workers, args.mode, args.seed) == (2, ["sync", "async"], 0)
    assert parse_args(["--mode", "async, a3c,async"]).mode == ["async", "a3c"]


def test_the_table_aligns_its_columns():
    rows = [
        dict(
            mode="sync",
            updates=4,
            **{"env steps/s": 2500.4, "mean staleness": 0.0, "eval return": 9.5, "seconds": 1.25},
        ),
        dict(
            mode="rollouts",
            updates=1234,
            **{"env steps/s": 12.0, "mean staleness": 1.5, "eval return": 500.0, "seconds": 10.0},
        ),
    ]
    lines = format_table(rows).splitlines()
    assert len({len(line) for line in lines}) == 1  # every line as wide as the header
    assert re.split(r"\s{2,}", lines[1].strip()) == ["sync", "4", "2,500", "0.00", "9.5", "1.2"]
    assert re.split(r"\s{2,}", lines[2].strip()) == ["rollouts", "1234", "12", "1.50", "500.0", "10.0"]
