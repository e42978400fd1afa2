"""Per-environment presets: hyperparameters chosen for one environment, selected by its id.

Each algorithm's defaults are chosen for CartPole-v1. Where they do not give a
working agent on another task within a modest budget, a *preset* holds the
hyperparameters that do, with a one-line note of where its values come from::

    >>> import drlkit
    >>> drlkit.PPO.presets()                           # doctest: +SKIP
    {'CartPole-v1': 'the defaults ...', 'Pendulum-v1': '...', ...}
    >>> agent = drlkit.PPO("Pendulum-v1", seed=0, **drlkit.PPO.preset("Pendulum-v1"))
    >>> drlkit.agents.PPOConfig.preset("Pendulum-v1").gamma
    0.9

On the command line: ``drlkit train ppo Pendulum-v1 --steps 100000 --preset``
(``--set`` still overrides single values), and ``drlkit presets`` lists them all.

A preset is a plain dict of constructor keywords, so it combines with your own
values: ``PPO(env, **{**PPO.preset(env), "learning_rate": 1e-3})``. An environment
with a preset of ``{}`` works with the defaults as they are. The figures behind
every note are in the table of ``benchmarks/defaults.py`` (README, "Defaults that
travel").
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Preset:
    """Hyperparameters for one (algorithm, environment) pair and where they come from."""

    #: Constructor keywords (fields of the algorithm's Config) that differ from its defaults.
    values: Mapping[str, Any] = field(default_factory=dict)
    #: One line: where the values come from and what they reach (see ``benchmarks/defaults.py``).
    note: str = ""


_DEFAULTS_NOTE = "the defaults (chosen on CartPole-v1)"

#: Presets by algorithm name, then by gymnasium env id.
PRESETS: dict[str, dict[str, Preset]] = {
    "DQN": {
        "CartPole-v1": Preset({}, _DEFAULTS_NOTE),
        "Acrobot-v1": Preset(
            dict(
                learning_rate=6.3e-4,
                hidden_sizes=(256, 256),
                train_freq=128,
                target_update_interval=250,
                exploration_steps=6_000,
                exploration_final_eps=0.1,
            ),
            "rl-zoo's published DQN learning rate, width, target interval and final epsilon for Acrobot-v1, "
            "drlkit's batched training; measured in benchmarks/defaults.py",
        ),
    },
    "PPO": {
        "CartPole-v1": Preset({}, _DEFAULTS_NOTE),
        "Pendulum-v1": Preset(
            dict(
                learning_rate=1e-3,
                gamma=0.9,
                gae_lambda=0.95,
                num_envs=4,
                n_steps=512,
                batch_size=64,
                n_epochs=10,
                log_std_init=-0.5,
                anneal_steps=150_000,
            ),
            "PPO.pendulum_config(): short horizon (gamma 0.9, as rl-zoo publishes), long rollouts, learning rate "
            "annealed over 150k steps; measured in benchmarks/defaults.py",
        ),
    },
    "A2C": {
        "CartPole-v1": Preset({}, _DEFAULTS_NOTE),
    },
    "TRPO": {
        "CartPole-v1": Preset({}, _DEFAULTS_NOTE),
        "Pendulum-v1": Preset(
            dict(
                gamma=0.9,
                num_envs=4,
                n_steps=256,
                max_kl=0.02,
                value_epochs=10,
                batch_size=64,
                log_std_init=-0.5,
            ),
            "measured here (benchmarks/defaults.py): the short horizon of PPO's Pendulum preset (gamma 0.9, "
            "as rl-zoo publishes), 1024-step rollouts, a larger trust region (max_kl 0.02), a longer critic fit",
        ),
    },
}


def presets_of(algorithm: str) -> dict[str, str]:
    """``{env id: note}`` of the presets of ``algorithm`` (``{}`` for one without presets)."""
    return {env_id: preset.note for env_id, preset in PRESETS.get(algorithm, {}).items()}


def preset_values(algorithm: str, env_id: Any) -> dict[str, Any]:
    """A fresh copy of the constructor keywords of ``algorithm``'s preset for ``env_id``.

    Raises ``TypeError`` for an ``env_id`` that is not a string and ``ValueError``
    naming the presets that exist for an id without one.
    """
    if not isinstance(env_id, str):
        raise TypeError(f"{algorithm}.preset: env_id must be a gymnasium env id (str), got {type(env_id).__name__}")
    table = PRESETS.get(algorithm, {})
    if env_id not in table:
        if not table:
            raise ValueError(f"{algorithm} has no presets; use its defaults or pass hyperparameters yourself")
        close = difflib.get_close_matches(env_id, table, n=1) or [
            name for name in table if name.lower() == env_id.lower()
        ]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"{algorithm} has no preset for env {env_id!r}; presets exist for: {', '.join(table)}.{hint} "
            f"(Other envs: the defaults, or your own hyperparameters.)"
        )
    return {key: (tuple(value) if isinstance(value, list) else value) for key, value in table[env_id].values.items()}
