"""The PettingZoo AEC adapter of drlkit's games, checked by PettingZoo's own API test."""

import numpy as np
import pytest
from pettingzoo.test import api_test

from drlkit.envs.game_aec import GameAEC


@pytest.mark.parametrize("game", ["tictactoe", "connect_four"])
def test_pettingzoo_api_test_passes(game):
    api_test(GameAEC(game), num_cycles=200)


def test_a_full_game_through_the_aec_api():
    env = GameAEC("tictactoe")
    env.reset(seed=0)
    for a in [0, 3, 1, 4, 2]:  # player_0 completes the top row
        env.step(a)
    obs, reward, term, trunc, info = env.last()
    assert term and env.rewards == {"player_0": 1.0, "player_1": -1.0}
    assert obs["action_mask"].sum() == 0
    env2 = GameAEC("tictactoe")
    env2.reset()
    env2.step(4)
    with pytest.raises(ValueError, match="illegal move 4"):
        env2.step(4)
    assert np.asarray(env2.observe("player_1")["observation"])[1, 1, 1] == 1
