"""Per-environment presets (drlkit.agents.presets): discoverable, validated, applied, and they learn."""

from __future__ import annotations

import dataclasses
import json

import gymnasium as gym
import numpy as np
import pytest
from test_cli import drlkit_cli

import drlkit
from drlkit.agents.a2c import A2CConfig
from drlkit.agents.dqn import DQNConfig
from drlkit.agents.ppo import PPOConfig
from drlkit.agents.presets import PRESETS
from drlkit.agents.trpo import TRPOConfig

from agent_tools import one_thread  # noqa: F401  (autouse fixture)

CONFIGS = {"DQN": DQNConfig, "PPO": PPOConfig, "A2C": A2CConfig, "TRPO": TRPOConfig}
ALL_PRESETS = [(algo, env) for algo, table in PRESETS.items() for env in table]


def test_every_algorithm_with_presets_lists_them_with_a_one_line_note():
    assert set(PRESETS) == set(CONFIGS)
    for algo in PRESETS:
        listed = getattr(drlkit, algo).presets()
        assert "CartPole-v1" in listed
        assert list(listed) == list(PRESETS[algo])
        for env, note in listed.items():
            assert note.strip() and "\n" not in note, (algo, env)
            assert env in gym.registry, f"{algo} preset for an env gymnasium does not know: {env}"


@pytest.mark.parametrize(("algo", "env"), ALL_PRESETS)
def test_every_preset_is_a_valid_config_and_is_applied(algo, env):
    cls = getattr(drlkit, algo)
    values = cls.preset(env)
    defaults = CONFIGS[algo]()
    fields = {f.name for f in dataclasses.fields(CONFIGS[algo])}
    assert set(values) <= fields
    for key, value in values.items():
        assert getattr(defaults, key) != value, f"{algo} {env}: {key}={value!r} is the default; leave it out"
    config = CONFIGS[algo].preset(env)
    assert isinstance(config, CONFIGS[algo])
    for key, value in values.items():
        assert getattr(config, key) == value
    agent = cls(env, seed=0, **values)  # the env's spaces fit the algorithm
    for key, value in values.items():
        assert getattr(agent.config, key) == value


def test_a_preset_is_a_fresh_dict_that_own_values_override():
    values = drlkit.PPO.preset("Pendulum-v1")
    values["gamma"] = 0.5
    assert drlkit.PPO.preset("Pendulum-v1")["gamma"] == 0.9
    agent = drlkit.PPO("Pendulum-v1", seed=0, **{**drlkit.PPO.preset("Pendulum-v1"), "n_steps": 16})
    assert agent.config.n_steps == 16 and agent.config.gamma == 0.9
    assert drlkit.PPO.pendulum_config() == drlkit.PPO.preset("Pendulum-v1")
    assert drlkit.PPO.preset("CartPole-v1") == {}


def test_an_env_without_a_preset_names_the_ones_that_exist():
    with pytest.raises(ValueError) as info:
        drlkit.PPO.preset("pendulum-v1")
    message = str(info.value)
    assert "'pendulum-v1'" in message and "Did you mean 'Pendulum-v1'" in message
    for env in drlkit.PPO.presets():
        assert env in message
    with pytest.raises(ValueError, match="no preset for env 'LunarLander-v3'"):
        PPOConfig.preset("LunarLander-v3")
    with pytest.raises(TypeError, match="env_id must be a gymnasium env id"):
        drlkit.DQN.preset(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="REINFORCE has no presets"):
        drlkit.REINFORCE.preset("CartPole-v1")
    assert drlkit.REINFORCE.presets() == {}


def test_cli_train_with_preset_records_the_preset_values_under_set_overrides(tmp_path):
    out = tmp_path / "run"
    done = drlkit_cli(
        "train", "ppo", "Pendulum-v1", "--steps", "64", "--preset", "--set", "n_steps=16", "--out", str(out), "--quiet"
    )
    assert done.returncode == 0, done.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["preset"] is True
    assert config["config"]["gamma"] == 0.9 and config["config"]["n_steps"] == 16
    assert config["config"]["num_envs"] == drlkit.PPO.preset("Pendulum-v1")["num_envs"]

    done = drlkit_cli("train", "a2c", "Pendulum-v1", "--steps", "64", "--preset", "--out", str(tmp_path / "x"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "A2C has no preset for env 'Pendulum-v1'" in done.stderr and "CartPole-v1" in done.stderr
    assert not (tmp_path / "x").exists()


def test_cli_presets_lists_and_shows_them():
    done = drlkit_cli("presets")
    assert done.returncode == 0, done.stderr
    for algo, table in PRESETS.items():
        assert f"{algo}:" in done.stdout
        for env in table:
            assert env in done.stdout
    done = drlkit_cli("presets", "ppo", "Pendulum-v1")
    assert done.returncode == 0, done.stderr
    assert "--set gamma=0.9" in done.stdout
    done = drlkit_cli("presets", "dqn", "Pendulum-v1")
    assert done.returncode == 2 and "DQN has no preset for env 'Pendulum-v1'" in done.stderr
    assert drlkit_cli("presets", "--help").returncode == 0


def _score(agent, episodes=10):
    """Mean deterministic return on episodes seeded like benchmarks/defaults.py."""
    return float(np.mean(agent.evaluate(episodes=episodes, seed=1_000_000)))


def test_readme_preset_example_runs_as_written():
    from test_readme import _python_block_after

    namespace: dict = {"__name__": "readme_presets"}
    exec(compile(_python_block_after("### Presets"), "README.md", "exec"), namespace)
    assert namespace["agent"].config.max_kl == drlkit.TRPO.preset("Pendulum-v1")["max_kl"]
    assert namespace["tuned"].config.learning_rate == 3e-4 and namespace["tuned"].config.gamma == 0.9
    assert namespace["config"].gamma == 0.9
    with pytest.raises(ValueError, match="PPO has no preset for env 'Pong-v5'; presets exist for: CartPole-v1"):
        drlkit.PPO.preset("Pong-v5")


@pytest.mark.slow
def test_trpo_with_its_pendulum_preset_swings_the_pendulum_up():
    """The defaults stay near a random policy's -1200 here; the preset reaches -250 in ~30-40k steps
    (benchmarks/defaults.py). ~15 s of one core."""
    agent = drlkit.TRPO("Pendulum-v1", seed=0, **drlkit.TRPO.preset("Pendulum-v1"))
    agent.train(50_000)
    assert _score(agent) >= -400
