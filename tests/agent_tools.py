"""Pieces shared by the agent tests: a single-threaded torch, the random-policy baseline,
the checks every agent's history and checkpoint must pass, and the table of construction
cases (:data:`AGENT_CASES`) the contract tests in ``test_agent_contract.py`` run every algorithm with.

Test modules import ``one_thread`` to make it an autouse fixture of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

# Mean return of a uniformly random policy on CartPole-v1: "learned" means several times this.
RANDOM_CARTPOLE_RETURN = 22


@pytest.fixture(autouse=True)
def one_thread():
    """Run each test on one torch thread (tests and Dask workers share two cores), then restore."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def history_frame(agent):
    """The agent's training history without the wall-clock column, for exact comparisons."""
    return agent.history.to_frame().drop(columns="wall_time")


def assert_same_parameters(agent, other) -> None:
    for key, value in agent.get_parameters().items():
        np.testing.assert_array_equal(other.get_parameters()[key], value)


def assert_reloaded_agent_acts_and_learns_alike(agent, loaded) -> None:
    """A CartPole agent and its reloaded checkpoint pick the same actions and make the same update."""
    obs = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))
    fragment = agent.collect()
    agent.learn_from(fragment)
    loaded.learn_from(fragment)
    assert_same_parameters(agent, loaded)


# --------------------------------------------------------------------------------------------
# The agent contract: one construction case per registered algorithm (tests/test_agent_contract.py).
#
# An algorithm joins the contract tests by adding one AgentCase below, keyed by its class name
# (the key of drlkit.agents.base.ALGORITHMS). The contract module fails for a registered
# algorithm that has no case, so a new algorithm cannot be forgotten.
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Learning:
    """``Algo(env, seed=seed, **config).train(steps)`` then ``evaluate(10).mean() > threshold``."""

    steps: int
    threshold: float = 5 * RANDOM_CARTPOLE_RETURN
    config: dict = field(default_factory=dict)
    seed: int = 0
    slow: bool = True


@dataclass(frozen=True)
class AgentCase:
    """How the contract tests build and exercise one algorithm.

    ``small``: hyperparameters for a fast agent (determinism, checkpoints, columns);
    ``steps``: a short training budget with those hyperparameters that finishes several
    episodes and several updates; ``bad_config``: ``(kwargs, name)`` pairs whose error must
    name ``name``; ``learns``: runs that must beat a random policy; ``not_applicable``:
    group of contract tests -> why it does not apply to this algorithm (say so in its docstring
    too). The groups: ``"determinism"``, ``"save_load"``, ``"bad_config"``, ``"bad_env"`` (gymnasium env
    errors), ``"history"`` (columns, callbacks), ``"learns"``; hyperparameter documentation always applies.

    An algorithm whose env is not CartPole (a PettingZoo game, a Minari dataset, a search
    problem) sets ``env`` to whatever its constructor takes first.
    """

    env: Any = "CartPole-v1"
    small: dict = field(default_factory=dict)
    steps: int = 1_000
    bad_config: tuple = ()
    learns: tuple = ()
    not_applicable: dict = field(default_factory=dict)

    def make(self, name: str, seed: int = 0, **overrides: Any):
        from drlkit.agents.base import ALGORITHMS

        return ALGORITHMS[name](self.env, seed=seed, **{**self.small, **overrides})

    def sample_obs(self, agent, n: int = 32) -> Any:
        """``n`` random observations in the form ``agent.act`` takes."""
        return np.random.default_rng(0).normal(size=(n, *agent.observation_space.shape)).astype(np.float32)

    def actions(self, agent, obs: Any, deterministic: bool = True) -> np.ndarray:
        """``agent.act(obs)`` as an array, for exact comparisons."""
        return np.asarray(agent.act(obs, deterministic=deterministic))

    def extra_columns(self, agent) -> tuple[str, ...]:
        """History columns between the base columns and ``LOG_KEYS`` (none for single-agent algorithms)."""
        return ()


AGENT_CASES: dict[str, AgentCase] = {
    "PPO": AgentCase(
        small=dict(n_steps=16, num_envs=4, batch_size=32, n_epochs=2, anneal_steps=5_000),
        bad_config=(
            (dict(learning_rate=-1e-3), "learning_rate"),
            (dict(gamma=1.5), "gamma"),
            (dict(gae_lambda=1.2), "gae_lambda"),
            (dict(clip_range=0.0), "clip_range"),
            (dict(clip_range=-0.1), "clip_range"),
            (dict(clip_range_vf=0.0), "clip_range_vf"),
            (dict(batch_size=512, n_steps=32, num_envs=8), "batch_size"),
            (dict(n_epochs=0), "n_epochs"),
            (dict(num_envs=0), "num_envs"),
            (dict(n_steps=2.5), "n_steps"),
            (dict(ent_coef=-0.01), "ent_coef"),
            (dict(vf_coef=-1), "vf_coef"),
            (dict(anneal_steps=0), "anneal_steps"),
            (dict(normalize_advantage="yes"), "normalize_advantage"),
            (dict(hidden_sizes=()), "hidden_sizes"),
            (dict(activation="sigmoid"), "activation"),
            (dict(batch_size=300), "batch_size.*n_steps \\* num_envs"),
            (dict(clip_ratio=0.2), "did you mean 'clip_range'"),
        ),
        learns=(Learning(12_000, seed=1),),
    ),
    "A2C": AgentCase(
        small=dict(n_steps=5, num_envs=8),
        steps=2_000,
        bad_config=(
            (dict(learning_rate=-1e-3), "learning_rate"),
            (dict(gamma=1.01), "gamma"),
            (dict(gae_lambda=-0.1), "gae_lambda"),
            (dict(n_steps=0), "n_steps"),
            (dict(num_envs=-2), "num_envs"),
            (dict(ent_coef=-1.0), "ent_coef"),
            (dict(vf_coef=-1.0), "vf_coef"),
            (dict(optimizer="adagrad"), "optimizer"),
            (dict(max_grad_norm=0), "max_grad_norm"),
            (dict(normalize_advantage=1), "normalize_advantage"),
        ),
        learns=(Learning(25_000),),
    ),
    "TRPO": AgentCase(
        small=dict(n_steps=32, num_envs=4),
        bad_config=(
            (dict(max_kl=0), "max_kl"),
            (dict(cg_iters=0), "cg_iters"),
            (dict(cg_damping=-0.1), "cg_damping"),
            (dict(backtrack_coef=1.0), "backtrack_coef"),
            (dict(backtrack_coef=0.0), "backtrack_coef"),
            (dict(backtrack_iters=0), "backtrack_iters"),
            (dict(value_epochs=0), "value_epochs"),
            (dict(batch_size=5000), "batch_size"),
            (dict(gae_lambda=2), "gae_lambda"),
            (dict(gamma=-0.5), "gamma"),
            (dict(learning_rate=-1.0), "learning_rate"),
        ),
        learns=(Learning(20_000),),
    ),
    "REINFORCE": AgentCase(
        small=dict(n_steps=100),
        steps=2_000,
        bad_config=(
            (dict(learning_rate=0), "learning_rate"),
            (dict(gamma=2), "gamma"),
            (dict(baseline="no"), "baseline"),
            (dict(vf_coef=-0.5), "vf_coef"),
            (dict(n_steps=-1), "n_steps"),
            (dict(num_envs=1.5), "num_envs"),
        ),
        learns=(Learning(40_000, config=dict(baseline=True)), Learning(40_000, config=dict(baseline=False))),
    ),
    "DQN": AgentCase(
        small=dict(
            hidden_sizes=(32,),
            learning_starts=200,
            train_freq=50,
            gradient_steps=10,
            batch_size=32,
            buffer_size=2_000,
            exploration_steps=1_000,
            num_envs=2,
        ),
        steps=1_200,
        bad_config=(
            (dict(batch_size=500, buffer_size=100), r"batch_size \(500\).*buffer_size \(100\)"),
            (dict(buffer_size=0), "buffer_size"),
            (dict(batch_size=2.5), "batch_size"),
            (dict(learning_starts=-1), "learning_starts"),
            (dict(train_freq=0), "train_freq"),
            (dict(gradient_steps=0), "gradient_steps"),
            (dict(target_update_interval=0), "target_update_interval"),
            (dict(tau=0.0), "tau"),
            (dict(tau=1.5), "tau"),
            (dict(exploration_initial_eps=1.2), "exploration_initial_eps"),
            (dict(exploration_final_eps=-0.1), "exploration_final_eps"),
            (dict(exploration_steps=-5), "exploration_steps"),
            (dict(num_envs=0), "num_envs"),
            (dict(gamma=1.5), "gamma"),
            (dict(double_dqn="yes"), "double_dqn"),
            (dict(target_update=10), "target_update_interval"),
        ),
        # A random policy scores about 22; the defaults pass 100 within 5k steps.
        learns=(Learning(5_000, threshold=100, slow=False),),
    ),
}


# ------------------------------------------------------------------ offline agents
_OFFLINE_DATA: dict[str, str] = {}


def offline_dataset_id(env_id: str) -> str:
    """A Minari dataset of a uniform random policy on ``env_id`` in a temporary storage root (made
    once per test session); the agents read it by id, so a loaded checkpoint finds it again."""
    if env_id not in _OFFLINE_DATA:
        import tempfile

        from drlkit.offline import collect, save_dataset

        root = Path(tempfile.mkdtemp(prefix="drlkit-contract-minari-"))
        dataset_id = f"contract/{env_id.split('-')[0].lower()}-random-v0"
        save_dataset(collect(env_id, "random", steps=3_000, seed=0), dataset_id, root=root)
        _OFFLINE_DATA[env_id] = f"{root}::{dataset_id}"
    return _OFFLINE_DATA[env_id]


@dataclass(frozen=True)
class OfflineCase(AgentCase):
    """An offline agent learns from a dataset in Minari storage, not from its environment:
    ``steps`` are gradient steps, and its History episodes are the greedy evaluations of ``eval_interval``."""

    def make(self, name: str, seed: int = 0, **overrides: Any):
        from drlkit.agents.base import ALGORITHMS

        root, dataset_id = offline_dataset_id(self.env).split("::")
        return ALGORITHMS[name](
            self.env, seed=seed, dataset_id=dataset_id, dataset_root=root, **{**self.small, **overrides}
        )


_OFFLINE_SMALL = dict(batch_size=32, log_interval=10, eval_interval=20, eval_episodes=1, hidden_sizes=(32,))
_OFFLINE_NOT_APPLICABLE = {
    "learns": "learns from a fixed dataset, not by acting: tests/test_offline_agents.py asserts BC reaches 90 % of "
    "the expert on expert data and CQL beats naive offline DQN on medium data",
}
for _name, _env in (
    ("BC", "CartPole-v1"),
    ("OfflineDQN", "CartPole-v1"),
    ("CQL", "CartPole-v1"),
    ("TD3BC", "Pendulum-v1"),
):
    AGENT_CASES[_name] = OfflineCase(
        env=_env,
        small=_OFFLINE_SMALL,
        steps=60,
        bad_config=(
            (dict(learning_rate=0), "learning_rate"),
            (dict(batch_size=0), "batch_size"),
            (dict(log_interval=0), "log_interval"),
            (dict(n_shards=0), "n_shards"),
        ),
        not_applicable=_OFFLINE_NOT_APPLICABLE,
    )


# ------------------------------------------------------------------ multi-agent learners
@dataclass(frozen=True)
class MultiAgentCase(AgentCase):
    """A multi-agent learner on a PettingZoo env: ``act`` maps ``{agent id: obs}`` to ``{agent id: action}``,
    and its History has one ``return_<agent id>`` column per agent before the PPO log keys."""

    def sample_obs(self, agent, n: int = 32) -> Any:
        rng = np.random.default_rng(0)
        return [
            {a: rng.normal(size=agent.info.obs_dims[k]).astype(np.float32) for k, a in enumerate(agent.agents)}
            for _ in range(n)
        ]

    def actions(self, agent, obs: Any, deterministic: bool = True) -> np.ndarray:
        return np.array(
            [
                [np.asarray(joint[a]) for a in agent.agents]
                for joint in (agent.act(o, deterministic=deterministic) for o in obs)
            ]
        )

    def extra_columns(self, agent) -> tuple[str, ...]:
        return tuple(f"return_{a}" for a in agent.agents)


# The contract runs on drlkit's own cooperative gridworld (fast, pure numpy). Learning is checked on MPE
# simple_spread in tests/test_marl_ppo.py, against a random team measured in the same test.
_MARL_SMALL = dict(
    num_envs=2,
    n_steps=20,
    batch_size=40,
    n_epochs=2,
    hidden_sizes=(32,),
    env_kwargs=dict(n_agents=2, size=4, max_steps=10),
)
for _name in ("IPPO", "SharedPPO", "MAPPO"):
    AGENT_CASES[_name] = MultiAgentCase(
        env="coop_grid",
        small=_MARL_SMALL,
        steps=200,
        bad_config=(
            (dict(learning_rate=0), "learning_rate"),
            (dict(batch_size=0), "batch_size"),
            (dict(n_epochs=0), "n_epochs"),
            (dict(env_kwargs=[1]), "env_kwargs"),
            (dict(env_kwargs=dict(n_agents=0)), "n_agents"),
        ),
        not_applicable={
            "bad_env": "a multi-agent learner takes a PettingZoo env, not a gymnasium id: "
            "tests/test_marl_ppo.py checks its env errors",
            "learns": "learning is on MPE simple_spread, not CartPole: tests/test_marl_ppo.py checks "
            "that the team beats a random team measured in the same test",
        },
    )


# ------------------------------------------------------------------ self-play search agents
@dataclass(frozen=True)
class GameCase(AgentCase):
    """A self-play agent on a drlkit board game (``env`` is the game's name): ``act`` takes a
    :class:`~drlkit.envs.games.GameState` and returns a move; ``steps`` are moves of self-play."""

    def sample_obs(self, agent, n: int = 32) -> Any:
        rng = np.random.default_rng(0)
        states = []
        for _ in range(n):  # positions a few random moves into a game, none of them over
            state = agent.game.initial_state()
            for _ in range(int(rng.integers(0, 4))):
                state = agent.game.next_state(state, int(rng.choice(agent.game.legal_actions(state))))
            states.append(state)
        return states

    def actions(self, agent, obs: Any, deterministic: bool = True) -> np.ndarray:
        return np.array([agent.act(state, deterministic=deterministic) for state in obs])


AGENT_CASES["AlphaZero"] = GameCase(
    env="tictactoe",
    small=dict(
        simulations=8,
        games_per_iteration=4,
        batch_size=16,
        gradient_steps=2,
        hidden_sizes=(32,),
        eval_interval=2,
        eval_games=2,
        eval_simulations=4,
    ),
    steps=60,
    bad_config=(
        (dict(simulations=0), "simulations"),
        (dict(games_per_iteration=0), "games_per_iteration"),
        (dict(dirichlet_eps=2.0), "dirichlet_eps"),
        (dict(c_puct=-1), "c_puct"),
        (dict(replay_games=0), "replay_games"),
        (dict(eval_interval=-1), "eval_interval"),
    ),
    not_applicable={
        "bad_env": "plays a drlkit board game, not a gymnasium env: tests/test_alphazero.py checks its game errors",
        "learns": "learns a two-player game, not CartPole: tests/test_alphazero.py checks that it beats plain UCT "
        "at Connect Four and never loses to the exact tic-tac-toe solver",
    },
)
