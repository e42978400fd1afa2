"""Fuzz the offline datasets and the search games: bad arrays and boards get errors that name them.

An OfflineDataset checks every array it is built from (shapes, finiteness, action ranges, episode
ends); a game checks every board and move. Generated input may be accepted only when it is valid.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from fuzz_tools import call_cleanly, fuzz_settings, junk
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from drlkit.envs.games import make_game
from drlkit.offline.dataset import OfflineDataset

OBS_SPACE = gym.spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
ACT_SPACE = gym.spaces.Discrete(2)
N = 6
FLOATS = st.one_of(st.floats(-2, 2), st.sampled_from([np.nan, np.inf, -np.inf]))


def _good() -> dict:
    rng = np.random.default_rng(0)
    terminations = np.zeros(N, dtype=bool)
    terminations[-1] = True
    return {
        "observations": rng.uniform(-1, 1, (N, 3)).astype(np.float32),
        "actions": rng.integers(0, 2, N),
        "rewards": np.ones(N, dtype=np.float32),
        "terminations": terminations,
        "truncations": np.zeros(N, dtype=bool),
    }


ARRAYS = {
    "observations": st.one_of(
        hnp.arrays(np.float64, st.sampled_from([(N, 3), (N, 2), (N + 1, 3), (N,)]), elements=FLOATS), junk()
    ),
    "actions": st.one_of(
        hnp.arrays(np.int64, st.sampled_from([(N,), (N - 1,), (N, 1)]), elements=st.integers(-3, 4)), junk()
    ),
    "rewards": st.one_of(hnp.arrays(np.float64, st.sampled_from([(N,), (N - 2,), ()]), elements=FLOATS), junk()),
    "terminations": st.one_of(hnp.arrays(np.int64, st.sampled_from([(N,), (3,)]), elements=st.integers(-1, 2)), junk()),
}


@fuzz_settings(60)
@given(data=st.data())
def test_datasets_name_the_bad_array(data):
    arrays = _good()
    bad = data.draw(st.lists(st.sampled_from(sorted(ARRAYS)), min_size=1, max_size=2, unique=True))
    for name in bad:
        arrays[name] = data.draw(ARRAYS[name], label=name)
    names = [*bad, "dataset", "episode", "next_observations", "transitions"]
    call_cleanly(
        lambda: OfflineDataset.from_arrays(**arrays, observation_space=OBS_SPACE, action_space=ACT_SPACE),
        names,
        seconds=10,
    )


@fuzz_settings(60)
@given(
    game=st.sampled_from(["tictactoe", "connect_four"]),
    board=st.one_of(
        hnp.arrays(np.int64, st.sampled_from([(3, 3), (6, 7), (3, 4), (9,)]), elements=st.integers(-2, 2)), junk()
    ),
    player=st.one_of(st.none(), st.sampled_from([1, -1, 0, 2]), junk()),
)
def test_boards_are_accepted_only_when_legal(game, board, player):
    g = make_game(game)
    state, error = call_cleanly(
        lambda: g.from_board(board, player), ["board", "player", "stones", "move", "win"], seconds=5
    )
    if error is None:
        # An accepted board plays on: every legal move gives a valid next position.
        for action in g.legal_actions(state):
            g.next_state(state, action)


@fuzz_settings(40)
@given(
    game=st.sampled_from(["tictactoe", "connect_four"]),
    moves=st.lists(st.one_of(st.integers(-2, 10), junk()), max_size=12),
)
def test_moves_are_checked(game, moves):
    g = make_game(game)

    def play():
        state = g.initial_state()
        for move in moves:
            state = g.next_state(state, move)
        return state

    call_cleanly(play, ["action", "move", "column", "cell", "illegal", "over"], seconds=5)
