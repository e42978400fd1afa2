"""The cases of "careless and hostile input": each once, by hand, with the message it must give.

(The fuzz suite, tests/test_fuzz_*.py, checks the same properties over many generated inputs.)
"""

from __future__ import annotations

import functools
import importlib
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch

import drlkit
from drlkit import MDP, tabular
from drlkit._checks import DrlkitWarning, check_choice
from drlkit.agents.base import CheckpointError
from drlkit.envs import gridworld

SMALL_PPO = {"num_envs": 2, "n_steps": 8, "batch_size": 8, "n_epochs": 1, "hidden_sizes": (8,)}


def chain(S: int = 3) -> tuple[np.ndarray, np.ndarray]:
    P = np.zeros((S, 2, S))
    P[:, :, S - 1] = 1.0
    return P, np.zeros((S, 2))


# ------------------------------------------------------------------ MDPs
def test_terminal_given_as_a_01_mask_is_refused_with_the_fix():
    P, R = chain(3)
    with pytest.raises(ValueError, match=r"terminal=\[0, 0, 1\] looks like a 0/1 mask") as info:
        MDP(P, R, terminal=[0, 0, 1])
    assert "dtype=bool" in str(info.value) and "states [2]" in str(info.value)


def test_ambiguous_terminal_indices_warn_and_say_how_to_be_explicit():
    P, R = chain(2)
    with pytest.warns(DrlkitWarning, match=r"terminal=\[1, 0\] is read as the state indices \[0, 1\]"):
        mdp = MDP(P, R, terminal=[1, 0], start=0)
    assert mdp.terminal.tolist() == [True, True]
    P, R = chain(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert MDP(P, R, terminal=np.array([0, 0, 1], dtype=bool)).terminal.tolist() == [False, False, True]
        assert MDP(P, R, terminal=[2]).terminal.tolist() == [False, False, True]


@pytest.mark.parametrize(
    "terminal, kind", [("ab", TypeError), ([0.5], ValueError), ([3], ValueError), ([1j], TypeError)]
)
def test_bad_terminal_names_terminal(terminal, kind):
    P, R = chain(3)
    with pytest.raises(kind, match="terminal"):
        MDP(P, R, terminal=terminal)


def test_complex_probabilities_are_refused():
    P, R = chain(3)
    with pytest.raises(TypeError, match="P must be an array of real numbers"):
        MDP(P.astype(complex), R)


# ------------------------------------------------------------- gridworlds
@pytest.mark.parametrize("text_map, why", [(["S..", "..."], "has no goal"), (["S#G"], "walls cut them off")])
def test_gridworld_without_a_reachable_end_warns(text_map, why):
    with pytest.warns(DrlkitWarning, match=why) as record:
        gridworld(text_map)
    assert "continuing=True" in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gridworld(text_map, continuing=True)
        gridworld(["S.G"])


def test_huge_gridworld_names_the_map_and_the_memory():
    with pytest.raises(ValueError, match=r"text_map of 1000 x 1000 cells .* would need .* TB"):
        gridworld(["S" + "." * 999] + ["." * 1000] * 999)


# ----------------------------------------------------------------- tabular
def test_tabular_without_any_step_cap_is_refused_not_a_hang():
    mdp = gridworld(["S..", "..."], continuing=True)
    with pytest.raises(ValueError, match="max_steps_per_episode=None needs an env with its own time limit"):
        tabular.q_learning(mdp, episodes=2, max_steps_per_episode=None)


def test_tabular_warns_when_every_episode_hits_the_step_cap():
    mdp = gridworld(["S..", "..."], continuing=True)
    with pytest.warns(DrlkitWarning, match="every episode of every run was cut at the step limit of 20"):
        tabular.sarsa(mdp, episodes=3, max_steps_per_episode=20, seed=0)


def test_one_zero_too_many_names_runs_episodes_and_the_memory():
    with pytest.raises(ValueError, match=r"runs x episodes = 100000 x 100000 would need 149\.0 GB") as info:
        tabular.q_learning("FrozenLake-v1", episodes=100_000, runs=100_000)
    assert "use fewer runs or episodes" in str(info.value)


def test_q_tables_too_large_name_runs_and_the_env():
    with pytest.raises(ValueError, match=r"runs x S x A = 100000000 x 16 x 4 .*FrozenLake-v1"):
        tabular.q_learning("FrozenLake-v1", episodes=1, runs=10**8)


# ------------------------------------------------------------ deep agents
@pytest.fixture(scope="module")
def ppo():
    return drlkit.PPO("CartPole-v1", **SMALL_PPO)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_act_refuses_non_finite_observations(ppo, bad):
    obs = np.zeros(4)
    obs[2] = bad
    with pytest.raises(ValueError, match=r"obs must be finite; obs\[2\]"):
        ppo.act(obs)
    with pytest.raises(ValueError, match=r"obs must be finite; obs\[1, 2\]"):
        ppo.act(np.stack([np.zeros(4), obs]))


def test_act_names_obs_for_non_numbers(ppo):
    with pytest.raises(TypeError, match="obs must be an array of numbers"):
        ppo.act(["a", "b", "c", "d"])
    with pytest.raises(TypeError, match="deterministic must be True or False"):
        ppo.act(np.zeros(4), deterministic="yes")


def test_evaluate_without_a_time_limit_is_bounded_and_says_so():
    agent = drlkit.PPO(lambda: gym.make("Pendulum-v1").unwrapped, **SMALL_PPO)  # never terminates
    agent.EVAL_MAX_EPISODE_STEPS = 50  # the default cap (10000), made small for the test
    with pytest.warns(DrlkitWarning, match=r"2 of 2 episode\(s\) were cut after max_episode_steps=50"):
        returns = agent.evaluate(2)
    assert returns.shape == (2,) and np.isfinite(returns).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an explicit cap is the user's choice: no warning
        # Pendulum pays at most 0 and at least -16.3 per step.
        assert -16.3 * 7 <= agent.evaluate(1, max_episode_steps=7)[0] <= 0
    with pytest.raises(ValueError, match="max_episode_steps must be in"):
        agent.evaluate(1, max_episode_steps=0)


def test_buffer_size_with_one_zero_too_many_names_it_and_the_memory():
    with pytest.raises(ValueError, match=r"buffer_size = 10000000000 transitions .* would need 409\.8 GB"):
        drlkit.DQN("CartPole-v1", buffer_size=10**10)


def test_too_many_envs_and_too_large_networks_are_named():
    with pytest.raises(ValueError, match="num_envs must be at most 1024"):
        drlkit.PPO("CartPole-v1", num_envs=10**6)
    with pytest.raises(ValueError, match=r"hidden_sizes = \(1000000, 1000000\) .* would need .* TB"):
        drlkit.PPO("CartPole-v1", hidden_sizes=(10**6, 10**6))
    with pytest.raises(ValueError, match="seed must be in"):
        drlkit.PPO("CartPole-v1", seed=2**70)


def test_train_callbacks_must_be_callables(ppo):
    with pytest.raises(TypeError, match="callbacks must be a callable"):
        ppo.train(8, callbacks=3)


def test_check_choice_on_an_array_names_the_field():
    with pytest.raises(ValueError, match="activation must be one of"):
        check_choice("activation", np.array([1.0, 2.0]), ["tanh", "relu"])


# ------------------------------------------------------------ checkpoints
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "ppo.pt"
    drlkit.PPO("CartPole-v1", **SMALL_PPO).save(path)
    return path


def edited(saved, tmp_path, edit):
    state = torch.load(saved, weights_only=True)
    edit(state)
    out = tmp_path / "edited.pt"
    torch.save(state, out)
    return out


def test_checkpoint_for_another_env_says_saved_for_and_loaded_into(saved):
    with pytest.raises(CheckpointError) as info:
        drlkit.load(saved, env="Acrobot-v1")
    message = str(info.value)
    assert "saved for PPO on CartPole-v1 (observations Box(4,), actions Discrete(2)" in message
    assert "being loaded into PPO on Acrobot-v1 (observations Box(6,), actions Discrete(3)" in message
    assert "size mismatch" not in message


def test_checkpoint_from_a_newer_format(saved, tmp_path):
    path = edited(saved, tmp_path, lambda s: s.update(format=2))
    with pytest.raises(CheckpointError, match=r"written by a newer drlkit \(checkpoint format 2\).*upgrade"):
        drlkit.load(path)


@pytest.mark.parametrize("entry", ["history", "networks", "total_steps", "np_rng"])
def test_checkpoint_missing_entry_is_named(saved, tmp_path, entry):
    path = edited(saved, tmp_path, lambda s: s.pop(entry))
    with pytest.raises(CheckpointError, match=f"checkpoint entry '{entry}' is missing"):
        drlkit.load(path)


@pytest.mark.parametrize(
    "entry, value, expected",
    [
        ("total_steps", "12", r"'total_steps' must be int; got '12' \(str\)"),
        ("seed", -3, r"'seed' must be >= 0"),
        ("config", [1], r"'config' must be dict"),
        ("torch_rng", torch.zeros(3), r"'torch_rng' is damaged"),
        ("np_rng", {"bit_generator": "nope"}, r"'np_rng' is damaged"),
        ("history", {"log_keys": ["x"], "rows": []}, r"'history' logs \['x'\]"),
        ("algorithm", "SAC", r"'algorithm' is 'SAC', which this drlkit does not know"),
    ],
)
def test_checkpoint_entries_of_the_wrong_type_are_named(saved, tmp_path, entry, value, expected):
    path = edited(saved, tmp_path, lambda s: s.update({entry: value}))
    with pytest.raises(CheckpointError, match=expected):
        drlkit.load(path)


def test_checkpoint_with_a_string_tensor_entry(saved, tmp_path):
    def edit(state):
        net = next(iter(state["networks"].values()))
        net[next(iter(net))] = "weights"

    with pytest.raises(CheckpointError, match="must be a tensor; got str"):
        drlkit.load(edited(saved, tmp_path, edit))


def test_truncated_checkpoint(saved, tmp_path):
    path = tmp_path / "cut.pt"
    path.write_bytes(saved.read_bytes()[:1000])
    with pytest.raises(
        CheckpointError, match="not a drlkit checkpoint, or not a complete one.*whole file that Agent.save"
    ):
        drlkit.load(path)


def test_load_path_errors(tmp_path):
    with pytest.raises(TypeError, match="path must be a file path"):
        drlkit.load(42)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        drlkit.load(tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match="is a directory"):
        drlkit.load(tmp_path)


def test_dqn_replay_state_of_the_wrong_shape_is_named(tmp_path):
    agent = drlkit.DQN(
        "CartPole-v1",
        buffer_size=64,
        batch_size=8,
        learning_starts=8,
        train_freq=8,
        gradient_steps=1,
        hidden_sizes=(8,),
    )
    agent.train(16)
    path = agent.save(tmp_path / "dqn.pt")
    state = torch.load(path, weights_only=True)
    state["extra"]["replay"]["rows"] = torch.zeros(3, 5)
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"checkpoint entry 'extra' .*replay state with rows of shape \(3, 5\)"):
        drlkit.load(path)


# ----------------------------------------------------------------- exercises
def _checks():
    for module in ("mdps", "q_learning", "dqn", "policy_gradients", "distributed", "distributed_q"):
        mod = importlib.import_module(f"drlkit.exercises.{module}")
        yield from (getattr(mod, n) for n in sorted(dir(mod)) if n.startswith("check_"))


@pytest.mark.parametrize("check", list(_checks()), ids=lambda c: c.__name__)
def test_exercise_checks_tell_the_student_what_to_pass(check, capsys):
    assert check(None) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet: pass your function itself") and "did you run the cell" in out
    assert check(functools.partial(lambda *a, **k: None)) is False
    assert check(lambda: 0) is False
    assert capsys.readouterr().out.count("\n") >= 2


def test_check_staleness_result_that_is_not_a_run(capsys):
    from drlkit.exercises.distributed import _staleness, check_staleness

    assert check_staleness(lambda v, cap=None: _staleness(v, cap), result=5) is False
    assert "result must be what drlkit.distributed.train returned" in capsys.readouterr().out
