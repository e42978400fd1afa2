"""Pieces shared by the agent tests: a single-threaded torch, the random-policy baseline,
and the checks every agent's history and checkpoint must pass.

Test modules import ``one_thread`` to make it an autouse fixture of their own.
"""
from __future__ import annotations

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
