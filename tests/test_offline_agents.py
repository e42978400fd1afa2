"""Offline agents: the losses against hand computations, learning thresholds, checkpoints, bad input."""

import numpy as np
import pytest
import torch

import drlkit
from drlkit.offline import (
    BC,
    CQL,
    DatasetError,
    OfflineDQN,
    behaviour_policy,
    collect,
    normalized_score,
    q_overestimation,
    reference_returns,
    save_dataset,
)
from drlkit.offline.bc import bc_loss
from drlkit.offline.cql import cql_regularizer

from agent_tools import one_thread  # noqa: F401  (autouse fixture)


@pytest.fixture(scope="module")
def expert():
    return behaviour_policy("CartPole-v1", "expert")


@pytest.fixture(scope="module")
def medium_data():
    return collect("CartPole-v1", behaviour_policy("CartPole-v1", "medium"), steps=5_000, seed=0, quality="medium")


def test_cql_regularizer_matches_a_hand_computation():
    q = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    actions = torch.tensor([2, 0])
    expected = ((np.log(np.exp(1) + np.exp(2) + np.exp(3)) - 3) + (np.log(3) - 0)) / 2
    assert float(cql_regularizer(q, actions)) == pytest.approx(expected, rel=1e-6)


def test_bc_losses_match_hand_computations():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    expected = -(np.log(np.exp(2) / (np.exp(2) + 1)) + np.log(np.exp(1) / (1 + np.exp(1)))) / 2
    assert float(bc_loss(logits, torch.tensor([0, 1]), discrete=True)) == pytest.approx(expected, rel=1e-6)
    out, target = torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    assert float(bc_loss(out, target, discrete=False)) == pytest.approx((1 + 4 + 1 + 1) / 2)


def test_normalized_score_maps_random_to_0_and_expert_to_100():
    assert normalized_score(20.0, 20.0, 500.0) == 0.0
    assert normalized_score(500.0, 20.0, 500.0) == 100.0
    np.testing.assert_allclose(normalized_score([260.0, 20.0], 20.0, 500.0), [50.0, 0.0])
    with pytest.raises(ValueError, match="must differ"):
        normalized_score(1.0, 5.0, 5.0)


@pytest.mark.slow
def test_bc_on_expert_data_reaches_90_percent_of_the_expert(expert):
    _, expert_return = reference_returns("CartPole-v1", expert, episodes=5)
    data = collect("CartPole-v1", expert, steps=5_000, seed=0, quality="expert")
    agent = BC("CartPole-v1", data=data, seed=0)
    history = agent.train(1_500)
    assert history.to_frame()["accuracy"].dropna().iloc[-1] > 0.9
    assert agent.evaluate(10).mean() >= 0.9 * expert_return


@pytest.mark.slow
def test_cql_beats_naive_offline_dqn_on_medium_data_in_return_and_overestimation(medium_data):
    naive = OfflineDQN("CartPole-v1", data=medium_data, seed=0)
    naive.train(1_500)
    cql = CQL("CartPole-v1", data=medium_data, seed=0, cql_alpha=1.0)
    cql.train(1_500)
    naive_return, cql_return = naive.evaluate(10).mean(), cql.evaluate(10).mean()
    assert cql_return > naive_return + 20
    # CQL's return is near the data's (medium) level; naive DQN drives its policy off the data.
    assert cql_return >= 0.7 * medium_data.episode_returns().mean()
    naive_gap, cql_gap = q_overestimation(naive, 5), q_overestimation(cql, 5)
    # Naive DQN predicts far more than it gets; CQL is conservative (a lower bound, as the paper shows).
    assert naive_gap["overestimation"] > 20
    assert cql_gap["overestimation"] < 5
    assert cql_gap["overestimation"] < naive_gap["overestimation"] - 20


def test_history_has_one_row_per_log_interval_and_evaluation_episodes(medium_data):
    agent = CQL("CartPole-v1", data=medium_data, seed=0, log_interval=10, eval_interval=20, eval_episodes=2)
    frame = agent.train(40).to_frame()
    updates = frame[frame["loss"].notna()]
    assert list(updates["step"]) == [10, 20, 30, 40]
    assert set(agent.LOG_KEYS) <= set(frame.columns)
    assert (updates["cql_regularizer"] >= 0).all()
    assert list(frame.loc[frame["episode_return"].notna(), "step"]) == [20, 20, 40, 40]
    assert agent.total_steps == 40


@pytest.mark.parametrize("cls", [BC, OfflineDQN, CQL])
def test_checkpoint_round_trip_acts_and_learns_alike(tmp_path, medium_data, cls):
    agent = cls("CartPole-v1", data=medium_data, seed=1, log_interval=5)
    agent.train(10)
    loaded = drlkit.load(agent.save(tmp_path / "agent.pt"))
    assert type(loaded) is cls and loaded.total_steps == 10 and loaded.data is None
    obs = medium_data.observations[:64]
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))
    loaded.set_data(medium_data)
    loaded.train(5)
    agent.train(5)
    for key, value in agent.get_parameters().items():
        np.testing.assert_allclose(loaded.get_parameters()[key], value, rtol=1e-6, atol=1e-7)


def test_an_agent_can_read_its_dataset_from_minari_storage(tmp_path, medium_data):
    save_dataset(medium_data, "test/cartpole/medium-v0", root=tmp_path)
    agent = BC("CartPole-v1", seed=0, dataset_id="test/cartpole/medium-v0", dataset_root=str(tmp_path))
    assert len(agent.data) == len(medium_data)
    np.testing.assert_array_equal(agent.data.actions, medium_data.actions)


def test_gradients_of_shards_average_to_the_gradient_of_their_union(medium_data):
    """What sync_grad relies on: the mean of N workers' gradients on equal minibatches is the
    gradient on the union minibatch."""
    agent = CQL("CartPole-v1", data=medium_data, seed=0)
    a, b = agent.collect(1), agent.collect(1)
    union = drlkit.agents.Fragment({k: np.concatenate([a.data[k], b.data[k]]) for k in a.data}, 1)
    ga, _ = agent.compute_gradients(a)
    gb, _ = agent.compute_gradients(b)
    gu, _ = agent.compute_gradients(union)
    for key in gu:
        np.testing.assert_allclose((ga[key] + gb[key]) / 2, gu[key], rtol=1e-4, atol=1e-6)
    before = agent.get_parameters()
    agent.apply_gradients(gu)
    assert any(not np.array_equal(before[k], v) for k, v in agent.get_parameters().items())


# ------------------------------------------------------------------ bad input
def test_training_without_data_says_how_to_give_it():
    agent = CQL("CartPole-v1", seed=0)
    with pytest.raises(DatasetError, match="has no dataset: pass data="):
        agent.train(10)


def test_continuous_actions_are_refused_by_the_q_learners():
    with pytest.raises(ValueError, match="OfflineDQN needs Discrete actions"):
        OfflineDQN("Pendulum-v1")


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"cql_alpha": -1.0}, "cql_alpha"),
        ({"batch_size": 0}, "batch_size"),
        ({"target_update_interval": 0}, "target_update_interval"),
        ({"n_shards": 4, "batch_size": 2}, "batch_size"),
    ],
)
def test_bad_hyperparameters_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        CQL("CartPole-v1", **kwargs)


def test_an_unknown_hyperparameter_gets_a_hint():
    with pytest.raises(TypeError, match="did you mean 'cql_alpha'"):
        CQL("CartPole-v1", cql_alpha_=1.0)


def test_data_must_be_a_dataset():
    with pytest.raises(TypeError, match="data must be an OfflineDataset"):
        BC("CartPole-v1", data={"observations": []})


def test_in_memory_data_cannot_go_to_dask_workers(medium_data):
    agent = BC("CartPole-v1", data=medium_data)
    with pytest.raises(TypeError, match="save_dataset"):
        agent.spec()


@pytest.mark.slow
def test_bc_clones_a_continuous_controller_inside_the_box():
    controller = behaviour_policy("Pendulum-v1", "expert")
    random_return, expert_return = reference_returns("Pendulum-v1", controller, episodes=5)
    data = collect("Pendulum-v1", controller, steps=2_000, seed=0)
    agent = BC("Pendulum-v1", data=data, seed=0)
    agent.train(1_500)
    assert normalized_score(agent.evaluate(5).mean(), random_return, expert_return) > 80
    actions = agent.act(data.observations[:200])
    assert actions.shape == (200, 1) and np.abs(actions).max() <= 2.0


# ------------------------------------------------------------------ TD3+BC
@pytest.fixture(scope="module")
def pendulum_data():
    return collect("Pendulum-v1", behaviour_policy("Pendulum-v1", "medium"), steps=1_000, seed=0, epsilon=0.3)


def test_td3bc_acts_inside_the_box_and_round_trips_through_a_checkpoint(tmp_path, pendulum_data):
    from drlkit.offline import TD3BC

    agent = TD3BC("Pendulum-v1", data=pendulum_data, seed=0, log_interval=10)
    frame = agent.train(20).to_frame()
    assert list(frame["step"].dropna()) == [10, 20]
    # The actor steps every policy_delay critic steps; the BC term is logged from its first step on.
    assert frame["bc_loss"].iloc[-1] > 0
    actions = agent.act(pendulum_data.observations[:100])
    assert actions.shape == (100, 1) and np.abs(actions).max() <= 2.0
    loaded = drlkit.load(agent.save(tmp_path / "td3bc.pt"))
    np.testing.assert_array_equal(loaded.act(pendulum_data.observations[:100]), actions)
    assert set(loaded.get_parameters()) == set(agent.get_parameters())


def test_td3bc_with_alpha_zero_is_behaviour_cloning_of_the_critic_free_kind(pendulum_data):
    """With bc_alpha = 0 the actor loss is the BC loss alone: the actor's parameters then follow
    exactly the gradient of the squared error, whatever the critics learn."""
    from drlkit.offline import TD3BC

    agent = TD3BC("Pendulum-v1", data=pendulum_data, seed=0, bc_alpha=0.0, policy_delay=1, log_interval=1)
    frame = agent.train(1).to_frame()
    assert frame["actor_loss"].iloc[-1] == pytest.approx(frame["bc_loss"].iloc[-1])


def test_td3bc_refuses_discrete_actions_and_distributed_modes(pendulum_data):
    from drlkit.offline import TD3BC

    with pytest.raises(ValueError, match="TD3BC needs a 1-D Box action space"):
        TD3BC("CartPole-v1")
    with pytest.raises(ValueError, match="TD3BC supports no distributed mode"):
        drlkit.distributed.train(TD3BC("Pendulum-v1", data=pendulum_data), mode="sync_grad", total_steps=10)
    with pytest.raises(ValueError, match="bc_alpha"):
        TD3BC("Pendulum-v1", bc_alpha=-1.0)
