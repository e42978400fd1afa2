"""Mixing matrices, gossip consensus rates, compression and env variants: checked against numpy
linear algebra and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from drlkit.distributed.compression import compress, compress_with_feedback, decompress, expand
from drlkit.distributed.mixing import (
    average_parameters,
    check_mixing_matrix,
    consensus_distance,
    gossip_step,
    graph_adjacency,
    metropolis_weights,
    mixing_matrix,
    second_eigenvalue,
    spectral_gap,
    torus_shape,
)
from drlkit.distributed.ssp import admitted
from drlkit.distributed.worker import payload_bytes, proximal_step
from drlkit.envs.variants import make_variant, task_variant


@pytest.mark.parametrize("graph, n, degree", [("ring", 6, 2), ("torus", 12, 4), ("random_regular", 10, 3)])
def test_graphs_have_the_degree_they_promise_and_metropolis_weights_are_doubly_stochastic(graph, n, degree):
    a = graph_adjacency(graph, n, degree=degree, seed=1)
    assert (a == a.T).all() and (np.diag(a) == 0).all() and (a.sum(axis=1) == degree).all()
    w = metropolis_weights(a)
    np.testing.assert_allclose(w.sum(axis=0), 1) and np.testing.assert_allclose(w.sum(axis=1), 1)
    assert (w >= 0).all() and ((w > 0) == (a + np.eye(n) > 0)).all()


def test_metropolis_weights_of_a_path_by_hand():
    # Path 0 - 1 - 2: degrees 1, 2, 1; every edge weight 1 / (1 + 2).
    w = metropolis_weights([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    np.testing.assert_allclose(w, [[2 / 3, 1 / 3, 0], [1 / 3, 1 / 3, 1 / 3], [0, 1 / 3, 2 / 3]])


def test_spectral_gap_of_known_graphs():
    assert spectral_gap(mixing_matrix("complete", 5)) == pytest.approx(1.0)
    # Ring of n with weights 1/3: eigenvalues (1 + 2 cos(2πk/n)) / 3.
    n = 8
    expected = max(abs((1 + 2 * np.cos(2 * np.pi * k / n)) / 3) for k in range(1, n))
    assert second_eigenvalue(mixing_matrix("ring", n)) == pytest.approx(expected)
    assert torus_shape(12) == (3, 4)


@pytest.mark.parametrize("graph, n", [("ring", 8), ("torus", 16), ("random_regular", 12)])
def test_pure_gossip_consensus_shrinks_at_the_rate_of_the_second_eigenvalue(graph, n):
    w = mixing_matrix(graph, n, degree=3, seed=2)
    lam = second_eigenvalue(w)
    rng = np.random.default_rng(0)
    params = [{"w": rng.normal(size=50), "b": rng.normal(size=3)} for _ in range(n)]
    mean = average_parameters(params)
    distances = [consensus_distance(params)]
    for _ in range(40):
        params = gossip_step(params, w)
        distances.append(consensus_distance(params))
    d = np.array(distances)
    # Never slower than λ2² per step, and asymptotically exactly that rate.
    assert (d[1:] <= lam**2 * d[:-1] * (1 + 1e-6)).all()
    assert d[-1] / d[-2] == pytest.approx(lam**2, rel=2e-2)
    for key in mean:  # the average never moves
        np.testing.assert_allclose(average_parameters(params)[key], mean[key], atol=1e-12)


def test_bad_graphs_and_weights_say_what_is_wrong():
    with pytest.raises(ValueError, match="doubly stochastic"):
        check_mixing_matrix([[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="non-negative"):
        check_mixing_matrix([[1.5, -0.5], [-0.5, 1.5]])
    with pytest.raises(ValueError, match="symmetric"):
        mixing_matrix(np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]]), 3)
    with pytest.raises(ValueError, match="4 nodes but the run has 3"):
        mixing_matrix(graph_adjacency("ring", 4), 3)
    with pytest.raises(ValueError, match="even"):
        graph_adjacency("random_regular", 5, degree=3)


def test_topk_keeps_the_largest_entries_and_error_feedback_keeps_the_rest():
    start = {"w": np.zeros((2, 3), np.float32), "n": np.array([4])}
    end = {"w": np.array([[0.1, -3.0, 0.2], [2.0, 0.0, -0.5]], np.float32), "n": np.array([9])}
    compressed, residual = compress_with_feedback(start, end, None, topk=0.33, quantize=False)
    dense = decompress(compressed)["w"]
    np.testing.assert_array_equal(dense, [[0, -3.0, 0], [2.0, 0, 0]])  # ceil(0.33 * 6) = 2 entries
    np.testing.assert_allclose(dense + residual["w"], end["w"])  # nothing is lost
    # Next time the residual rides along: with no new change, what was held back is sent.
    again, residual = compress_with_feedback(end, end, residual, topk=1.0, quantize=False)
    np.testing.assert_allclose(decompress(again)["w"], [[0.1, 0, 0.2], [0, 0, -0.5]])
    assert np.abs(residual["w"]).max() == 0
    rebuilt = expand(again, start)
    assert rebuilt["n"].tolist() == [4]  # integer arrays keep the driver's value


def test_eight_bit_quantisation_is_within_half_a_step_and_four_times_smaller():
    rng = np.random.default_rng(0)
    delta = {"w": rng.normal(size=1000).astype(np.float32)}
    compressed = compress(delta, None, quantize=True)
    step = np.abs(delta["w"]).max() / 127
    assert np.abs(decompress(compressed)["w"] - delta["w"]).max() <= step / 2 + 1e-7
    assert payload_bytes(compressed) == 1000 + 4 + 8  # int8 entries, a float32 scale, the shape
    assert payload_bytes(delta) == 4000


def test_proximal_step_and_ssp_admission_rule():
    w, theta = {"w": np.array([2.0, 4.0])}, {"w": np.array([0.0, 0.0])}
    np.testing.assert_allclose(proximal_step(w, theta, 1.0)["w"], [1.0, 2.0])
    assert proximal_step(w, theta, 0.0)["w"] is not w and (proximal_step(w, theta, 0.0)["w"] == w["w"]).all()
    assert admitted([3, 1, 2], 1, 0) and not admitted([3, 1, 2], 0, 1) and admitted([3, 1, 2], 0, 2)
    assert admitted([9, 0], 0, None) and admitted([9, 0], 1, None)


def test_env_variants_change_physics_and_append_task_ids():
    env = make_variant("CartPole-v1", length=1.0, gravity=12.0)
    assert env.unwrapped.polemass_length == pytest.approx(0.1) and env.unwrapped.gravity == 12.0
    env = task_variant("CartPole-v1", task=2, n_tasks=3)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (7,) and obs[-3:].tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match="no constructor argument or attribute 'lenght'"):
        make_variant("CartPole-v1", lenght=1.0)
    with pytest.raises(ValueError, match="finite number"):
        make_variant("CartPole-v1", length=float("nan"))


def test_task_family_gives_one_policy_the_task_id_and_evaluates_it_per_task():
    from drlkit.agents.a2c import A2C
    from drlkit.distributed.multitask import per_task_returns, task_family

    env, slots = task_family("CartPole-v1", [{"length": 0.3}, {"length": 1.2}])
    assert slots == [{"task": 0, "length": 0.3}, {"task": 1, "length": 1.2}]
    agent = A2C(env, seed=0)
    assert agent.observation_space.shape == (6,)
    returns = per_task_returns(agent, slots, episodes=2)
    assert returns.shape == (2,) and (returns > 0).all() and agent.env_spec is env
    # The same evaluation by hand: the agent acting on task 1's env with its one-hot id.
    by_hand = A2C(env, seed=0)
    by_hand.set_parameters(agent.get_parameters())
    from drlkit.distributed.multitask import variant_env

    by_hand.env_spec = variant_env(env, slots[1])
    task_env = by_hand.env_spec()
    assert task_env.reset(seed=0)[0][-2:].tolist() == [0, 1] and task_env.unwrapped.length == 1.2
    assert by_hand.evaluate(episodes=2, seed=0).mean() == returns[1]
    with pytest.raises(ValueError, match="at least one"):
        task_family("CartPole-v1", [])
