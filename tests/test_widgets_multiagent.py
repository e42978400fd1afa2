"""The independent-learners explorer of notebook 09 re-runs the learners for its game, α and ε."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from drlkit.multiagent import independent_q_learning  # noqa: E402
from drlkit.widgets.multiagent import explore_independent_learners  # noqa: E402


def test_sliders_rerun_the_learners_with_their_values():
    w = explore_independent_learners("stag_hunt", steps=300, runs=40, alpha=0.1, epsilon=0.0, seed=3)
    expected = independent_q_learning("stag_hunt", steps=300, runs=40, alpha=0.1, epsilon=0.0, seed=3)
    np.testing.assert_array_equal(w.result.actions, expected.actions)
    w.epsilon.value = 0.5
    assert w.result.epsilons[0] == 0.5 and not np.array_equal(w.result.actions, expected.actions)
    w.alpha.value = 0.3
    again = independent_q_learning("stag_hunt", steps=300, runs=40, alpha=0.3, epsilon=0.5, seed=3)
    np.testing.assert_array_equal(w.result.Q, again.Q)
    w.game.value = "rock_paper_scissors"
    assert w.result.game.name == "rock-paper-scissors" and w.result.Q.shape == (40, 2, 3)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="game must be one of"):
        explore_independent_learners("chess")
    with pytest.raises(ValueError, match="alpha"):
        explore_independent_learners(alpha=0)
    with pytest.raises(ValueError, match="steps"):
        explore_independent_learners(steps=0)
