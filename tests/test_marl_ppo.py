"""The deep multi-agent learners (IPPO, SharedPPO, MAPPO): env errors, acting, and learning on MPE simple_spread.

The agent contract (determinism, save/load, bad hyperparameters, History columns) runs in
tests/test_agent_contract.py through the cases in tests/agent_tools.py.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from drlkit.envs.coop_grid import CoopGridEnv
from drlkit.multiagent import IPPO, MAPPO, SharedPPO
from drlkit.multiagent.pz import make_parallel_env
from drlkit.multiagent.reference import spread_team_returns

from agent_tools import one_thread  # noqa: F401  (autouse fixture)

GRID = dict(
    env_kwargs=dict(n_agents=2, size=4, max_steps=10), num_envs=2, n_steps=10, batch_size=20, hidden_sizes=(16,)
)
SPREAD = dict(N=3, max_cycles=25, continuous_actions=False)


def single_agent_env():
    """A module-level factory of a gymnasium (single-agent) env: not a PettingZoo env."""
    return gym.make("CartPole-v1")


class MixedActionsGrid(CoopGridEnv):
    """coop_grid where agent_1 has fewer actions than agent_0: agents that do not share an action space."""

    def action_space(self, agent):
        return spaces.Discrete(3) if agent == "agent_1" else super().action_space(agent)


def mixed_actions_grid():
    return MixedActionsGrid(n_agents=2, size=4)


@pytest.mark.parametrize("cls", [IPPO, SharedPPO, MAPPO])
def test_non_pettingzoo_env_is_rejected_clearly(cls):
    with pytest.raises(TypeError, match="PettingZoo ParallelEnv.*made a .*Single-agent gymnasium envs"):
        cls(single_agent_env)
    with pytest.raises(ValueError, match="cannot find a PettingZoo env factory 'no_such_env'"):
        cls("no_such_env")
    with pytest.raises(TypeError, match="env must be the name of a PettingZoo env factory"):
        cls(42)
    with pytest.raises(TypeError, match="rejected env_kwargs"):
        cls("coop_grid", env_kwargs={"no_such_option": 1})


def test_agents_without_a_shared_action_space_are_rejected():
    with pytest.raises(ValueError, match="same action space.*'agent_1' has Discrete\\(3\\)"):
        SharedPPO(mixed_actions_grid)


def test_act_rejects_unknown_agent_ids_and_wrong_shapes():
    team = MAPPO("coop_grid", **GRID)
    obs, _ = make_parallel_env("coop_grid", GRID["env_kwargs"]).reset(seed=0)
    actions = team.act(obs)
    assert set(actions) == set(obs) and all(0 <= a < 5 for a in actions.values())
    assert set(team.act({"agent_1": obs["agent_1"]})) == {"agent_1"}  # a subset of live agents
    with pytest.raises(KeyError, match="unknown agent id.*'agent_7'.*'agent_0', 'agent_1'"):
        team.act({**obs, "agent_7": obs["agent_0"]})
    with pytest.raises(ValueError, match="obs of 'agent_0' must have 8 entries"):
        team.act({"agent_0": np.zeros(3)})
    with pytest.raises(TypeError, match="obs must be a dict"):
        team.act(np.zeros(8))


def test_history_has_per_agent_and_team_returns_that_add_up():
    team = SharedPPO("coop_grid", **GRID)
    frame = team.train(200).to_frame()
    episodes = frame[frame.event == "episode"]
    assert len(episodes) >= 10
    per_agent = episodes[["return_agent_0", "return_agent_1"]].to_numpy()
    np.testing.assert_allclose(per_agent.sum(1), episodes.episode_return.to_numpy())
    assert team.evaluate_agents(3).shape == (3, 2)


def test_checkpoint_into_an_env_with_other_agents_is_refused(tmp_path):
    path = MAPPO("coop_grid", **GRID).save(tmp_path / "mappo.pt")
    # A different number of agents (other ids, other network shapes): a clear CheckpointError, never torch's.
    with pytest.raises(ValueError, match="mappo.pt"):
        _load_with(path, n_agents=3)


def _load_with(path, **env_kwargs):
    import torch

    import drlkit

    state = torch.load(path, weights_only=True)
    state["config"]["env_kwargs"] = {**state["config"]["env_kwargs"], **env_kwargs}
    torch.save(state, path)
    return drlkit.load(path)


# Yardsticks measured in the test itself (drlkit.multiagent.reference): on simple_spread with 3 agents a
# uniformly random team scores about -81 per episode (team return, 25 steps), the scripted assignment
# team about -29. The learners below were measured at -70 (SharedPPO) and -70 (MAPPO) after 15,600
# joint steps at seed 0 with the default config (IPPO: -70 too, not run here to save test time); the test
# asks for random + 10 -- a modest margin: 15,600 steps is what fits a test budget, not convergence.
@pytest.mark.slow
@pytest.mark.parametrize("cls", [SharedPPO, MAPPO])
def test_shared_ppo_and_mappo_beat_a_random_team_on_simple_spread(cls):
    random_team = spread_team_returns("random", episodes=20, seed=0).mean()
    team = cls("simple_spread", seed=0, env_kwargs=SPREAD)
    team.train(15_600)
    score = team.evaluate(10).mean()
    assert score > random_team + 10, f"{cls.__name__}: {score:.1f} vs random team {random_team:.1f}"


# MAPPO's threshold: a team return of -68 on simple_spread (3 agents) after 31,200 joint steps, default
# config. Where it comes from: measured here at seeds 0 and 1 (-66.8 and -64.7; a random team scores about
# -81, the scripted assignment team about -29, drlkit.multiagent.reference). Not every seed gets there in
# this budget: seed 2 measured -72.9, so the threshold is a fixed-seed check, not a guarantee.
MAPPO_THRESHOLD = -68.0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_mappo_reaches_the_stated_threshold_on_simple_spread(seed):
    team = MAPPO("simple_spread", seed=seed, env_kwargs=SPREAD)
    team.train(31_200)
    score = team.evaluate(10).mean()
    assert score > MAPPO_THRESHOLD, f"MAPPO seed {seed}: team return {score:.1f} after 31,200 steps"


def test_mappo_critic_reads_the_agent_id_and_the_global_state():
    from drlkit.multiagent.ppo import critic_input

    team = MAPPO("coop_grid", **GRID)
    rows = critic_input(team.envs[0].state(), 2)
    assert rows.shape == (2, 2 + 8)
    np.testing.assert_array_equal(rows[:, :2], np.eye(2))
    np.testing.assert_array_equal(rows[0, 2:], team.envs[0].state())
    # What the critic network is given during collection: columns obs_dim: of each agent's feature row.
    np.testing.assert_array_equal(team._features[0][:, team.info.obs_dim :], rows)


@pytest.mark.parametrize("cls", [IPPO, SharedPPO, MAPPO])
def test_batch_size_counts_per_agent_rows_as_documented(cls):
    """MultiAgentPPOConfig.batch_size: a rollout has n_steps * num_envs * n_agents rows, and each
    epoch takes ceil(rows / batch_size) Adam steps; more than n_steps * num_envs is refused."""
    import math

    n_steps, num_envs, n_agents, batch_size, n_epochs = 10, 2, 3, 8, 2
    agent = cls(
        "coop_grid",
        seed=0,
        num_envs=num_envs,
        n_steps=n_steps,
        batch_size=batch_size,
        n_epochs=n_epochs,
        hidden_sizes=(8,),
        env_kwargs=dict(n_agents=n_agents, size=4, max_steps=10),
    )
    steps = []
    step = agent.optimizer.step
    agent.optimizer.step = lambda *args, **kwargs: steps.append(1) or step(*args, **kwargs)
    agent.learn_from(agent.collect())
    assert len(steps) == n_epochs * math.ceil(n_steps * num_envs * n_agents / batch_size)
    assert "n_steps * num_envs * n_agents" in (cls.__doc__ or "")
    with pytest.raises(ValueError, match=r"batch_size \(21\) must be at most n_steps \* num_envs"):
        cls("coop_grid", num_envs=num_envs, n_steps=n_steps, batch_size=21, env_kwargs=dict(n_agents=n_agents))
