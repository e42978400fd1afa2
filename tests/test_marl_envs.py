"""drlkit's PettingZoo environments: PettingZoo's own API test, game payoffs, gridworld rules, bad input."""

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from drlkit.envs import coop_grid as cg
from drlkit.envs import matrix_games as mg


@pytest.mark.parametrize("game", list(mg.GAMES))
def test_matrix_games_pass_the_pettingzoo_parallel_api_test(game):
    parallel_api_test(mg.matrix_game(game, rounds=5), num_cycles=20)


@pytest.mark.parametrize("n_agents, size", [(1, 3), (2, 4), (3, 5)])
def test_coop_grid_passes_the_pettingzoo_parallel_api_test(n_agents, size):
    parallel_api_test(cg.coop_grid(n_agents, size, max_steps=15), num_cycles=60)


def test_coop_grid_is_deterministic_given_the_seed():
    parallel_seed_test(lambda: cg.coop_grid(3, 5))


def test_matrix_game_pays_the_table_and_observes_the_last_joint_action():
    env = mg.prisoners_dilemma(rounds=2)
    obs, _ = env.reset(seed=0)
    assert obs["player_0"][-1] == 1  # first round marker
    obs, rewards, term, trunc, _ = env.step({"player_0": 0, "player_1": 1})  # cooperate vs defect
    assert rewards == {"player_0": 0.0, "player_1": 5.0}
    assert obs["player_1"].argmax() == 0 * 2 + 1 and not any(trunc.values())
    _, rewards, _, trunc, _ = env.step({"player_0": 1, "player_1": 1})
    assert rewards == {"player_0": 1.0, "player_1": 1.0} and all(trunc.values()) and env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({"player_0": 0, "player_1": 0})


def test_matrix_game_bad_actions_and_agent_ids():
    env = mg.matching_pennies()
    env.reset()
    with pytest.raises(KeyError, match="player_7"):
        env.step({"player_0": 0, "player_1": 0, "player_7": 1})
    with pytest.raises(KeyError, match="missing.*player_1"):
        env.step({"player_0": 0})
    with pytest.raises(ValueError, match="player_1.*Discrete"):
        env.step({"player_0": 0, "player_1": 5})
    with pytest.raises(KeyError, match="unknown agent id 'bob'"):
        env.observation_space("bob")
    with pytest.raises(ValueError, match="rounds"):
        mg.matrix_game("stag_hunt", rounds=0)


def _place(env, positions, targets):
    env.reset(seed=0)
    env.positions = np.array(positions)
    env.targets = np.array(targets)


def test_coop_grid_rewards_covered_targets_and_charges_collisions():
    env = cg.coop_grid(2, 4, collision_cost=0.5)
    # Agent 0 steps onto target (0, 1); agent 1 stays on target (3, 3): both covered.
    _place(env, [[0, 0], [3, 3]], [[0, 1], [3, 3]])
    _, rewards, *_ = env.step({"agent_0": 4, "agent_1": 0})
    assert rewards == {"agent_0": 1.0, "agent_1": 1.0}
    # Both move into (1, 1): they collide, stay put, and the team pays 2 * 0.5.
    _place(env, [[1, 0], [1, 2]], [[3, 3], [3, 0]])
    obs, rewards, _, _, infos = env.step({"agent_0": 4, "agent_1": 3})
    assert rewards["agent_0"] == pytest.approx(-1.0)
    assert env.positions.tolist() == [[1, 0], [1, 2]] and infos["agent_0"]["collided"]
    # Swapping cells is a collision too.
    _place(env, [[1, 0], [1, 1]], [[3, 3], [3, 0]])
    env.step({"agent_0": 4, "agent_1": 3})
    assert env.positions.tolist() == [[1, 0], [1, 1]]
    # Moving into a cell whose agent stays: held back, both charged.
    _place(env, [[1, 0], [1, 1]], [[3, 3], [3, 0]])
    _, rewards, *_ = env.step({"agent_0": 4, "agent_1": 0})
    assert env.positions.tolist() == [[1, 0], [1, 1]] and rewards["agent_0"] == pytest.approx(-1.0)


def test_coop_grid_observation_is_relative_positions():
    env = cg.coop_grid(2, 5)
    _place(env, [[0, 0], [4, 4]], [[0, 4], [4, 0]])
    obs, *_ = env.step({"agent_0": 0, "agent_1": 0})
    np.testing.assert_allclose(obs["agent_0"], [0, 0, 1, 1, 0, 1, 1, 0])
    np.testing.assert_allclose(obs["agent_1"], [1, 1, -1, -1, -1, 0, 0, -1])


def test_coop_grid_bad_arguments():
    with pytest.raises(ValueError, match="too small"):
        cg.coop_grid(n_agents=3, size=2)
    with pytest.raises(ValueError, match="collision_cost"):
        cg.coop_grid(collision_cost=-1)
    env = cg.coop_grid(2)
    env.reset()
    with pytest.raises(KeyError, match="agent_9"):
        env.step({"agent_0": 0, "agent_1": 0, "agent_9": 0})


def test_positions_and_targets_are_read_back_from_observations():
    from drlkit.envs.coop_grid import coop_grid, positions_from_observations

    env = coop_grid(n_agents=3, size=5, max_steps=4)
    obs, _ = env.reset(seed=7)
    frames, cells = [], []
    while True:
        frames.append(np.stack([obs[a] for a in env.possible_agents]))
        cells.append(env.positions.copy())
        if not env.agents:
            break
        obs, *_ = env.step({a: (i + 1) % 5 for i, a in enumerate(env.agents)})
    positions, targets = positions_from_observations(np.stack(frames), 5)
    np.testing.assert_array_equal(positions, np.stack(cells))
    np.testing.assert_array_equal(targets, env.targets)
    with pytest.raises(ValueError, match="entries each"):
        positions_from_observations(np.zeros((2, 3, 4)), 5)
