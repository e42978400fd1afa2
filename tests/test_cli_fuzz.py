"""Fuzzing the command line's argument handling: whatever a user types, `drlkit train` either trains or answers
with one line on stderr and exit status 2 -- never a traceback."""
from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drlkit.agents.ppo import PPO
from drlkit.cli import main

NAMES = [f.name for f in dataclasses.fields(PPO.Config)]
keys = st.one_of(st.sampled_from(NAMES), st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))
values = st.one_of(
    st.text(max_size=12), st.integers(-10, 5000).map(str), st.floats(allow_nan=True).map(repr),
    st.sampled_from(["None", "true", "64,64", "(0,)", "relu", "[]", "{}", "1e400", "-0.0", "'x'"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=keys, value=values, algorithm=st.sampled_from(["PPO", "ppo", "PP0", "", "A2C"]),
       env=st.sampled_from(["CartPole-v1", "cartpole", "CartPole-v1 ", "Pendulum-v1"]))
def test_train_answers_bad_input_with_one_line_and_status_2(tmp_path_factory, capsys, key, value, algorithm, env):
    out = tmp_path_factory.mktemp("run")
    status = main(["train", algorithm, env, "--steps", "1", "--quiet", "--set", f"{key}={value}",
                   "--set", "n_steps=8", "--set", "batch_size=8", "--out", str(out / "r")])
    captured = capsys.readouterr()
    assert status in (0, 2), captured.err
    if status == 2:
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in captured.err, captured.err
        assert not (out / "r" / "agent.pt").exists()
    else:
        assert (out / "r" / "agent.pt").exists()
