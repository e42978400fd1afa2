"""The gossip explorer of notebook 11 rebuilds the mixing matrix and reruns gossip for its graph and N."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from drlkit.distributed.mixing import mixing_matrix, second_eigenvalue  # noqa: E402
from drlkit.widgets.beyond import explore_gossip  # noqa: E402


def test_menu_and_slider_rebuild_the_matrix_and_rerun_gossip():
    w = explore_gossip("ring", n=8, steps=20)
    np.testing.assert_allclose(w.weights, mixing_matrix("ring", 8))
    assert w.distances[-1] <= w.distances[0] * second_eigenvalue(w.weights) ** 40 * (1 + 1e-6)
    w.graph.value = "complete"
    assert w.lam == pytest.approx(0.0, abs=1e-12) and w.distances[1] < 1e-20
    w.n.value = 12
    w.graph.value = "torus"
    assert w.weights.shape == (12, 12) and (np.count_nonzero(w.weights, axis=1) == 5).all()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="graph must be one of"):
        explore_gossip("star")
    with pytest.raises(ValueError, match="n"):
        explore_gossip(n=2)
