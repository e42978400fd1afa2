"""Tabular TD control: Q-learning, SARSA and Expected SARSA with ε-greedy exploration.

>>> from drlkit import tabular
>>> result = tabular.q_learning("CliffWalking-v1", episodes=500, runs=100, seed=0)
>>> result.returns.shape        # (runs, episodes)
(100, 500)

* :mod:`~drlkit.tabular.one_run` -- the textbook loop, one run, any Discrete gymnasium env;
* :mod:`~drlkit.tabular.vectorised` -- many runs at once on the arrays of an MDP;
* :mod:`~drlkit.tabular.schedules` -- ε or α as a function of the episode.
"""

from .environments import MDPEnv, greedy_path
from .learn import expected_sarsa, q_learning, sarsa
from .one_run import epsilon_greedy, epsilon_greedy_probabilities
from .result import TabularConfig, TabularResult
from .schedules import Constant, ExponentialDecay, LinearDecay

__all__ = [
    "Constant",
    "ExponentialDecay",
    "LinearDecay",
    "MDPEnv",
    "TabularConfig",
    "TabularResult",
    "epsilon_greedy",
    "epsilon_greedy_probabilities",
    "expected_sarsa",
    "greedy_path",
    "q_learning",
    "sarsa",
]
