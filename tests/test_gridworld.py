"""Gridworld MDPs from text maps: dynamics, equivalence with gymnasium, map validation."""

import gymnasium as gym
import numpy as np
import pytest

from drlkit import MDP
from drlkit.envs import cliff_walking, frozen_lake, gridworld
from drlkit.envs.gridworld import ACTION_NAMES

LEFT, DOWN, RIGHT, UP = range(4)
# gymnasium CliffWalking numbers its actions 0=UP, 1=RIGHT, 2=DOWN, 3=LEFT;
# GYM_ACTION[a] is the gymnasium action that means drlkit action a.
GYM_ACTION = [3, 2, 1, 0]


def assert_same_model(ours: MDP, theirs: MDP, states=None, actions=None):
    states = np.arange(ours.n_states) if states is None else np.asarray(states)
    actions = np.arange(ours.n_actions) if actions is None else np.asarray(actions)
    np.testing.assert_allclose(ours.P[states], theirs.P[states][:, actions], atol=1e-12)
    np.testing.assert_allclose(ours.R[states], theirs.R[states][:, actions], atol=1e-12)
    reachable = theirs.P[states][:, actions] > 0
    np.testing.assert_allclose(ours.R3[states][reachable], theirs.R3[states][:, actions][reachable], atol=1e-12)
    np.testing.assert_array_equal(ours.terminal, theirs.terminal)
    np.testing.assert_allclose(ours.start, theirs.start)


@pytest.mark.parametrize("map_name", ["4x4", "8x8"])
def test_slippery_frozen_lake_equals_gymnasium(map_name):
    theirs = MDP.from_gymnasium(gym.make("FrozenLake-v1", map_name=map_name, is_slippery=True))
    ours = frozen_lake(map_name, slip=2 / 3)
    assert_same_model(ours, theirs)
    assert ours.layout == theirs.layout
    assert list(ours.grid) == list(theirs.grid)


def test_deterministic_frozen_lake_equals_gymnasium():
    theirs = MDP.from_gymnasium(gym.make("FrozenLake-v1", is_slippery=False))
    assert_same_model(frozen_lake("4x4", slip=0.0), theirs)


@pytest.mark.parametrize("slip, env_id", [(0.0, "CliffWalking-v1"), (2 / 3, "CliffWalkingSlippery-v1")])
def test_cliff_walking_equals_gymnasium_up_to_action_order(slip, env_id):
    ours = cliff_walking(slip=slip)
    theirs = MDP.from_gymnasium(env_id)
    # The agent only ever stands on the start and free cells; the goal is
    # terminal and the cliff cells send it back to the start, so those rows of
    # P are never used (gymnasium fills them with ordinary moves, drlkit with self-loops).
    occupiable = [s for s in range(ours.n_states) if ours.grid[s // 12][s % 12] in "S."]
    assert len(occupiable) == 48 - 10 - 1
    assert_same_model(ours, theirs, states=occupiable, actions=GYM_ACTION)


def test_cliff_walking_layout_and_rewards():
    mdp = cliff_walking()
    assert mdp.layout == (4, 12) and mdp.n_states == 48
    start, goal = 36, 47
    assert mdp.start[start] == 1.0
    assert mdp.terminal[goal] and mdp.terminal.sum() == 1
    # Stepping right from the start falls off the cliff: -100 and back to start.
    assert mdp.P[start, RIGHT, start] == 1.0 and mdp.R[start, RIGHT] == -100
    # Up from the start is an ordinary move; down from the cell above the goal ends it at -1.
    assert mdp.P[start, UP, 24] == 1.0 and mdp.R[start, UP] == -1
    assert mdp.P[35, DOWN, goal] == 1.0 and mdp.R[35, DOWN] == -1


def test_gridworld_layout_numbering_and_names():
    mdp = gridworld(["S.#", ".HG"])
    assert mdp.layout == (2, 3)
    assert tuple(mdp.grid) == ("S.#", ".HG")
    assert tuple(mdp.action_names) == ACTION_NAMES == ("LEFT", "DOWN", "RIGHT", "UP")
    np.testing.assert_array_equal(mdp.terminal, [False, False, False, False, True, True])
    np.testing.assert_array_equal(mdp.start, [1, 0, 0, 0, 0, 0])
    # Row-by-row numbering: state 1 is (0, 1); moving down from it enters the hole (1, 1) = state 4.
    assert mdp.P[1, DOWN, 4] == 1.0


def test_walls_and_edges_block_moves():
    mdp = gridworld(["S.#", "..G"], step_reward=-1.0)
    # From (0, 1) moving right hits the wall (0, 2): stay put, still pay the step.
    assert mdp.P[1, RIGHT, 1] == 1.0 and mdp.R[1, RIGHT] == -1.0
    # From (0, 0) moving left or up leaves the grid: stay put.
    assert mdp.P[0, LEFT, 0] == 1.0 and mdp.P[0, UP, 0] == 1.0
    # Entering the goal pays goal_reward (1 by default) instead of the step reward.
    assert mdp.P[4, RIGHT, 5] == 1.0 and mdp.R[4, RIGHT] == 1.0


@pytest.mark.parametrize("slip", [0.0, 0.2, 0.5, 1.0])
def test_slip_splits_between_perpendicular_moves(slip):
    # Start in the middle of an open 3x3 grid so that every move lands on a different cell.
    mdp = gridworld(["...", ".S.", "..."], slip=slip, continuing=True)
    centre = 4
    left, down, right, up = 3, 7, 5, 1
    row = mdp.P[centre, DOWN]
    assert row[down] == pytest.approx(1 - slip)
    assert row[left] == pytest.approx(slip / 2)
    assert row[right] == pytest.approx(slip / 2)
    assert row[up] == 0.0
    row = mdp.P[centre, UP]
    assert row[up] == pytest.approx(1 - slip) and row[left] == row[right] == pytest.approx(slip / 2)


def test_terminal_and_blocked_cells_are_absorbing_with_zero_reward():
    mdp = gridworld(["SCH", "#.G"])
    for s in (1, 2, 3, 5):  # cliff, hole, wall, goal
        assert (mdp.P[s, :, s] == 1.0).all() and (mdp.R[s] == 0).all()


def test_multiline_string_map_equals_list_map():
    text = """
        S..
        .#G
    """
    a, b = gridworld(text, slip=0.1), gridworld(["S..", ".#G"], slip=0.1)
    np.testing.assert_array_equal(a.P, b.P)
    np.testing.assert_array_equal(a.R, b.R)


def test_sampling_follows_the_model():
    mdp = frozen_lake("4x4")
    rng = np.random.default_rng(0)
    next_states, _, _ = mdp.step_batch(np.zeros(30_000, dtype=int), np.full(30_000, DOWN), rng)
    freq = np.bincount(next_states, minlength=16) / 30_000
    np.testing.assert_allclose(freq, mdp.P[0, DOWN], atol=0.015)


@pytest.mark.parametrize(
    "text_map, match",
    [
        (["S..", ".G"], "same length.*3, 2"),
        (["S.X", "..G"], "unknown character 'X' at row 0, column 2"),
        (["...", "..G"], "exactly one start cell 'S'; found 0"),
        (["S.S", "..G"], "exactly one start cell 'S'; found 2"),
        ([], "text_map is empty"),
    ],
)
def test_bad_maps_name_the_problem(text_map, match):
    with pytest.raises(ValueError, match=match):
        gridworld(text_map)


def test_bad_arguments_name_the_field():
    with pytest.raises(ValueError, match=r"slip must be in \[0, 1\], got 1.5"):
        gridworld(["SG"], slip=1.5)
    with pytest.raises(ValueError, match="slip"):
        frozen_lake(slip=-0.1)
    with pytest.raises(ValueError, match="map_name must be one of '4x4', '8x8'; got '5x5'"):
        frozen_lake("5x5")
    with pytest.raises(TypeError, match="text_map must be a list of strings"):
        gridworld(42)
    with pytest.raises(TypeError, match="goal_reward"):
        gridworld(["SG"], goal_reward="1")
