"""Fuzz: agent configs, act/evaluate, checkpoints (truncated, corrupted, wrong types, other
versions), drlkit.distributed.train options (validation runs before any cluster is needed)
and the exercise checks.

Every call is bounded in time and may only return or raise a documented exception whose
message names the argument (for checkpoints: the file and the entry).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import io

import gymnasium as gym
import numpy as np
import pytest
import torch
from fuzz_tools import (
    DOCUMENTED,
    Hang,
    bounded,
    call_cleanly,
    fuzz_settings,
    junk,
    perturbed,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import drlkit
from drlkit.agents import ALGORITHMS

# Small settings so that building (and, for checkpoints, briefly training) an agent is cheap.
SMALL = {
    "A2C": {"num_envs": 2, "n_steps": 4, "hidden_sizes": (8,)},
    "DQN": {
        "buffer_size": 64,
        "batch_size": 8,
        "learning_starts": 8,
        "train_freq": 8,
        "gradient_steps": 1,
        "hidden_sizes": (8,),
    },
    "PPO": {"num_envs": 2, "n_steps": 8, "batch_size": 8, "n_epochs": 1, "hidden_sizes": (8,)},
    "REINFORCE": {"num_envs": 2, "n_steps": 16, "hidden_sizes": (8,)},
    "TRPO": {
        "num_envs": 2,
        "n_steps": 8,
        "batch_size": 8,
        "cg_iters": 2,
        "backtrack_iters": 2,
        "value_epochs": 1,
        "hidden_sizes": (8,),
    },
}
TYPOS = ["lr", "learning_rat", "n_env", "hidden", "gama", "seed", "env", "buffer"]


def bad_value():
    return st.one_of(
        junk(),
        st.integers(-3, 0),
        st.sampled_from([10**12, 10**6, 1.5, -0.5, 2.0, 1e-300]),
        st.lists(st.integers(-2, 10**7), max_size=3).map(tuple),
    )


@fuzz_settings(60)
@given(
    algorithm=st.sampled_from(sorted(SMALL)),  # the online agents; offline agents need a dataset
    data=st.data(),
)
def test_agent_configs(algorithm, data):
    cls = ALGORITHMS[algorithm]
    fields = [f.name for f in dataclasses.fields(cls.Config)]
    keys = data.draw(st.lists(st.sampled_from(fields + TYPOS), min_size=1, max_size=2, unique=True))
    config = {**SMALL[algorithm], **{k: data.draw(bad_value(), label=k) for k in keys}}
    env = data.draw(
        st.one_of(
            st.just("CartPole-v1"),
            st.just("CartPole-v1"),
            junk(),
            st.sampled_from(["CartPol-v1", "FrozenLake-v1", "MountainCarContinuous-v0"]),
        ),
        label="env",
    )
    names = [
        *keys,
        "env",
        "batch_size",
        "buffer_size",
        "n_steps",
        "num_envs",
        "learning_starts",
        "exploration_initial_eps",
        "exploration_final_eps",
        "observations",
        "action space",
        "actions",
        "hidden_sizes",
        *([env] if isinstance(env, str) and env else []),
    ]
    agent, error = call_cleanly(lambda: cls(env, seed=0, **config), names, seconds=30)
    if error is None:
        assert agent.evaluate(1, max_episode_steps=5).shape == (1,)


@pytest.fixture(scope="module")
def agents():
    discrete = drlkit.PPO("CartPole-v1", **SMALL["PPO"])
    continuous = drlkit.PPO(lambda: gym.make("Pendulum-v1").unwrapped, **SMALL["PPO"])  # no time limit
    return {"discrete": discrete, "continuous": continuous}


@fuzz_settings(80)
@given(
    which=st.sampled_from(["discrete", "continuous"]),
    obs=st.one_of(
        hnp.arrays(
            np.float64,
            st.sampled_from([(4,), (3,), (2, 4), (2, 3), (0, 4), (4, 1), ()]),
            elements=st.one_of(st.floats(-5, 5), st.sampled_from([np.nan, np.inf, -np.inf, 1e39])),
        ),
        junk(),
        st.lists(st.floats(-1, 1), min_size=3, max_size=4),
    ),
    deterministic=st.one_of(st.booleans(), junk()),
)
def test_act(agents, which, obs, deterministic):
    agent = agents[which]
    action, error = call_cleanly(
        lambda: agent.act(obs, deterministic=deterministic), ["obs", "deterministic"], seconds=10
    )
    if error is None:
        assert agent.action_space.contains(action) or np.ndim(action) >= 1


@fuzz_settings(40)
@given(
    which=st.sampled_from(["discrete", "continuous"]),
    args=perturbed(
        good={
            "episodes": st.integers(1, 2),
            "seed": st.none() | st.integers(0, 2**40),
            "deterministic": st.booleans(),
            "max_episode_steps": st.integers(1, 30),
        },
        # (10**6 episodes or steps are legal, just long: left out.)
        bad={
            "episodes": bad_value().filter(lambda v: not isinstance(v, int) or v != 10**6),
            "seed": bad_value(),
            "deterministic": junk(),
            "max_episode_steps": bad_value().filter(lambda v: not isinstance(v, int) or v < 10**6),
        },
    ),
)
def test_evaluate(agents, which, args):
    kwargs, bad = args
    agent = agents[which]
    returns, error = call_cleanly(lambda: agent.evaluate(**kwargs), list(bad), seconds=30)
    if error is None:
        assert returns.shape == (kwargs["episodes"],) and np.isfinite(returns).all()
    else:
        assert bad, f"valid arguments refused: {error}"


# ------------------------------------------------------------- checkpoints
@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    paths = {}
    for name in ("PPO", "DQN"):
        agent = ALGORITHMS[name]("CartPole-v1", **SMALL[name])
        agent.train(32)
        paths[name] = agent.save(folder / f"{name}.pt")
    return paths


def _mutations():
    leaf = st.one_of(
        junk(),
        st.integers(-5, 10**6),
        st.just(torch.zeros(3)),
        st.just(torch.zeros(2, 64)),
        st.just({}),
        st.just([]),
        st.just("CartPole-v1"),
        st.just("Acrobot-v1"),
    )
    return st.lists(
        st.tuples(
            st.sampled_from(["delete", "set", "set_nested", "format", "truncate", "flip", "garbage", "env"]),
            st.integers(0, 10**6),
            leaf,
        ),
        min_size=1,
        max_size=2,
    )


def _mutate(path, out, mutations):
    raw = path.read_bytes()
    state = torch.load(path, weights_only=True)
    as_bytes = None
    load_env = None
    for kind, n, value in mutations:
        keys = sorted(state) if isinstance(state, dict) else []
        if kind == "delete" and keys:
            state.pop(keys[n % len(keys)])
        elif kind == "set" and keys:
            state[keys[n % len(keys)]] = value
        elif kind == "set_nested" and keys:
            key = keys[n % len(keys)]
            outer = state[key]
            if isinstance(outer, dict) and outer:
                inner = sorted(outer)
                outer[inner[(n // 7) % len(inner)]] = value
        elif kind == "format" and isinstance(state, dict):
            state["format"] = [0, 2, 99, -1, "1", 1.0, None][n % 7]
        elif kind == "truncate":
            as_bytes = raw[: n % len(raw)]
        elif kind == "flip":
            data = bytearray(raw)
            for i in range(1 + n % 8):
                data[(n * (i + 13)) % len(data)] ^= 0xFF
            as_bytes = bytes(data)
        elif kind == "garbage":
            as_bytes = bytes((n * i) % 256 for i in range(n % 300))
        elif kind == "env":
            load_env = ["Acrobot-v1", "Pendulum-v1", "CartPole-v1", "NoSuchEnv-v0"][n % 4]
    if as_bytes is not None:
        out.write_bytes(as_bytes)
    else:
        torch.save(state, out)
    return load_env


@fuzz_settings(60)
@given(algorithm=st.sampled_from(["PPO", "DQN"]), mutations=_mutations())
def test_checkpoints(checkpoints, tmp_path_factory, algorithm, mutations):
    out = tmp_path_factory.mktemp("mutated") / "agent.pt"
    load_env = _mutate(checkpoints[algorithm], out, mutations)
    agent, error = call_cleanly(lambda: drlkit.load(out, env=load_env), [str(out), "env"], seconds=30)
    if error is None:
        # Whatever loaded must work: act, and keep training a few steps.
        obs = np.zeros(agent.observation_space.shape, dtype=np.float32)
        _, act_error = call_cleanly(lambda: agent.act(obs), ["obs"], seconds=10)
        assert act_error is None
        _, train_error = call_cleanly(lambda: agent.train(16), ["total_steps"], seconds=60)
        assert train_error is None, f"a checkpoint that loaded does not train: {train_error}"


@fuzz_settings(20)
@given(path=st.one_of(junk(), st.sampled_from(["", "/nonexistent/agent.pt", "/", "/proc/self/status"])))
def test_load_paths(path):
    call_cleanly(lambda: drlkit.load(path), ["path", "checkpoint", str(path)], seconds=10)


# ------------------------------------------------- distributed.train options
TRAIN_OPTIONS = {
    "mode": st.one_of(st.sampled_from(["sync", "async", "a3c", "rollouts", "sync_grad", "SYNC", "sink"]), junk()),
    "total_steps": bad_value(),
    "n_workers": bad_value(),
    "fragment_steps": bad_value(),
    "local_steps": bad_value(),
    "eta": bad_value(),
    "staleness_aware": junk(),
    "max_staleness": bad_value(),
    "backup_workers": bad_value(),
    "round_timeout": bad_value(),
    "reduce": st.one_of(st.sampled_from(["auto", "flat", "tree", "Tree", ""]), junk()),
    "tree_fanin": bad_value(),
    "delays": st.one_of(
        junk(),
        st.dictionaries(
            st.one_of(st.integers(-1, 3), st.text(max_size=1)), st.floats(-1, 5, allow_nan=False), max_size=2
        ),
    ),
    "slowdown": st.one_of(junk(), st.dictionaries(st.integers(-1, 3), st.floats(0, 5), max_size=2)),
    "kill_worker_at": st.one_of(junk(), st.tuples(st.floats(-1, 3), st.integers(-1, 3))),
    "seed": bad_value(),
    "callbacks": st.one_of(st.lists(junk(), max_size=2), st.text(max_size=2), st.just({"a": 1}), junk()),
    "on_update": junk(),
    "worker_timeout": bad_value(),
    "client": st.one_of(junk(), st.just("tcp://127.0.0.1:1")),
    "checkpoint": st.one_of(junk(), st.sampled_from(["", "/proc/self/status", "/proc/drlkit-run", "/"])),
    "checkpoint_every": bad_value(),
    "resume": st.one_of(junk(), st.sampled_from(["", "/nonexistent/run", "/proc/self/status", "/"])),
}
NO_CLIENT = "no Dask client is running"


@fuzz_settings(80)
@given(
    args=perturbed(
        good={"total_steps": st.integers(1, 64), "n_workers": st.integers(1, 2)}, bad=TRAIN_OPTIONS, max_bad=1
    ),
    algorithm=st.sampled_from(["PPO", "DQN"]),
)
def test_distributed_train_options(agents, args, algorithm):
    kwargs, bad = args
    agent = agents["discrete"] if algorithm == "PPO" else _dqn()
    names = [*bad, "agent", "mode", "worker slot", "checkpoint"]
    try:
        with bounded(30):
            drlkit.distributed.train(agent, **kwargs)
    except Hang:
        raise
    except RuntimeError as exc:
        # Options that passed validation reach the client lookup: without a cluster running,
        # drlkit.distributed.train raises RuntimeError (see docs/ERRORS.md) -- never a hang.
        assert NO_CLIENT in str(exc), exc
        return
    except DOCUMENTED as exc:
        from fuzz_tools import names_one_of

        assert names_one_of(str(exc), names), f"{type(exc).__name__} does not name one of {names}: {exc}"
        return
    raise AssertionError("train returned without a cluster")


@functools.lru_cache(maxsize=1)
def _dqn():
    return drlkit.DQN("CartPole-v1", **SMALL["DQN"])


# ------------------------------------------------------------ exercise checks
def _all_checks():
    checks = []
    for module in ("mdps", "q_learning", "dqn", "policy_gradients", "distributed", "distributed_q"):
        mod = importlib.import_module(f"drlkit.exercises.{module}")
        checks += [getattr(mod, n) for n in sorted(dir(mod)) if n.startswith("check_")]
    return checks


CHECKS = _all_checks()


def _returns(value):
    return lambda *args, **kwargs: value


def _raises(error):
    def student(*args, **kwargs):
        raise error

    return student


STUDENT_FUNCTIONS = st.one_of(
    junk(),
    junk().map(_returns),
    hnp.arrays(
        np.float64,
        st.sampled_from([(), (1,), (3,), (4,), (4, 2), (16,), (3, 2, 2)]),
        elements=st.one_of(st.floats(-3, 3), st.sampled_from([np.nan, np.inf])),
    ).map(_returns),
    st.sampled_from([ValueError("bad"), ZeroDivisionError(), NotImplementedError(), KeyError(1), RecursionError()]).map(
        _raises
    ),
    st.just(functools.partial(lambda *a, **k: None)),
    st.just(lambda: 0),
    st.just(lambda *a: a[0] if a else None),
    st.just(lambda *a, **k: torch.zeros(3)),
)


@fuzz_settings(120)
@given(check=st.sampled_from(CHECKS), student=STUDENT_FUNCTIONS)
def test_exercise_checks(check, student):
    buffer = io.StringIO()
    try:
        with bounded(20), contextlib.redirect_stdout(buffer):
            verdict = check(student)
    except Hang:
        raise
    except Exception as exc:
        raise AssertionError(f"{check.__name__} crashed on a student's answer: {type(exc).__name__}: {exc}") from exc
    assert isinstance(verdict, bool)
    printed = buffer.getvalue().strip()
    assert printed, f"{check.__name__} printed nothing"
    assert "Traceback" not in printed
