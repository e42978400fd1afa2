"""drlkit.distributed.train on a real multi-process cluster (`dask scheduler` + 2 `dask worker` processes).

Exactness: every mode is checked against the same computation done by hand in
this process -- the sync merge against the mean of independently computed
worker parameters, one-worker async/a3c/rollouts against a sequential loop of
the same hooks with the same seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

import drlkit
from drlkit.agents.a2c import A2C
from drlkit.agents.ppo import PPO
from drlkit.distributed import (
    DistributedResult,
    average_deltas,
    mean_gradients,
    merge_weight,
    mix,
    slot_seed,
    supported_modes,
    train,
)
from drlkit.plotting.live import LiveCurve

from agent_tools import one_thread  # noqa: F401  (autouse fixture)
from dask_processes import cluster_with_client

ENV = "CartPole-v1"
FRAGMENT = 40  # A2C's own rollout: 5 steps in each of 8 envs


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    # Not the default client: tests pass it explicitly, and the no-client test sees none.
    with cluster_with_client(tmp_path_factory.mktemp("dask"), n_workers=2) as (_, client):
        yield client


def _slot_agent(seed: int, slot: int, theta: dict, algorithm=A2C, **config):
    """What worker slot ``slot`` starts from: an agent with the slot's seed and the driver's parameters."""
    agent = algorithm(ENV, seed=slot_seed(seed, slot), **config)
    agent.set_parameters(theta)
    return agent


def _assert_same_parameters(actual: dict, expected: dict, atol: float = 1e-6) -> None:
    assert actual.keys() == expected.keys()
    for key in expected:
        np.testing.assert_allclose(actual[key], expected[key], rtol=0, atol=atol, err_msg=key)


# ----------------------------------------------------------------- merges
def test_average_deltas_is_the_mean_of_the_worker_parameters():
    rng = np.random.default_rng(0)
    theta = {"w": rng.normal(size=(3, 4)).astype(np.float32), "count": np.array([7])}
    thetas = [{"w": rng.normal(size=(3, 4)).astype(np.float32), "count": np.array([k])} for k in range(3)]
    merged = average_deltas(theta, thetas)
    expected = np.mean(np.stack([t["w"].astype(np.float64) for t in thetas]), axis=0)
    np.testing.assert_allclose(merged["w"], expected, rtol=1e-6)
    assert merged["w"].dtype == np.float32
    assert merged["count"].tolist() == [7]  # integer buffers are not averaged
    # One worker: its parameters, whatever theta was.
    np.testing.assert_array_equal(average_deltas(theta, thetas[:1])["w"], thetas[0]["w"])


def test_mix_and_merge_weight():
    rng = np.random.default_rng(1)
    theta = {"w": rng.normal(size=5).astype(np.float32)}
    theta_i = {"w": rng.normal(size=5).astype(np.float32)}
    np.testing.assert_array_equal(mix(theta, theta_i, 1.0)["w"], theta_i["w"])
    np.testing.assert_allclose(mix(theta, theta_i, 0.25)["w"], 0.75 * theta["w"] + 0.25 * theta_i["w"], rtol=1e-6)
    assert merge_weight(0.5, 0, False) == 0.5
    assert merge_weight(0.5, 0, True) == 0.5  # tau floored at 1
    assert merge_weight(0.5, 4, True) == 0.125
    grads = [{"g": np.array([1.0, 2.0], np.float32)}, {"g": np.array([3.0, 6.0], np.float32)}]
    np.testing.assert_array_equal(mean_gradients(grads)["g"], [2.0, 4.0])


# ------------------------------------------------------- exact equivalences
@pytest.mark.cluster
@pytest.mark.parametrize("algorithm", [A2C, PPO])
def test_sync_round_with_local_steps_is_the_mean_of_independent_workers(client, algorithm):
    agent = algorithm(ENV, seed=0)
    fragment = agent.config.n_steps * agent.config.num_envs
    theta0 = agent.get_parameters()
    result = train(agent, "sync", total_steps=2 * 3 * fragment, n_workers=2, local_steps=3, client=client)

    thetas, metrics = [], []
    for slot in range(2):
        worker = _slot_agent(0, slot, theta0, algorithm)
        for _ in range(3):
            metrics.append(worker.learn_from(worker.collect(fragment)))
        thetas.append(worker.get_parameters())
    expected = {k: np.mean([t[k] for t in thetas], axis=0) for k in theta0}
    _assert_same_parameters(agent.get_parameters(), expected)

    frame = result.to_frame()
    assert list(frame.status) == ["applied", "applied"] and list(frame.worker) == [0, 1]
    assert list(frame.version) == [0, 0] and list(frame.staleness) == [0, 0] and list(frame.updates) == [1, 1]
    assert agent.total_steps == 6 * fragment == frame.env_steps.sum() == result.env_steps
    history = agent.history.to_frame()
    updates = history[history.event == "update"]
    assert len(updates) == 1
    assert updates.policy_loss.iloc[0] == pytest.approx(np.mean([m["policy_loss"] for m in metrics]), rel=1e-5)


@pytest.mark.cluster
def test_sync_is_reproducible_with_fixed_seeds(client):
    runs = []
    for _ in range(2):
        agent = A2C(ENV, seed=5)
        result = train(agent, "sync", total_steps=3 * 2 * 2 * FRAGMENT, n_workers=2, local_steps=2, client=client)
        runs.append((agent.get_parameters(), result.episode_frame().episode_return.tolist(), result.updates))
    (params_a, returns_a, updates_a), (params_b, returns_b, updates_b) = runs
    assert updates_a == updates_b == 3
    assert returns_a == returns_b and len(returns_a) > 5
    _assert_same_parameters(params_a, params_b, atol=0)


@pytest.mark.cluster
def test_async_with_one_worker_and_eta_1_is_sequential_training(client):
    agent = A2C(ENV, seed=0)
    theta0 = agent.get_parameters()
    result = train(agent, "async", total_steps=5 * 2 * FRAGMENT, n_workers=1, eta=1.0, local_steps=2, client=client)

    local = _slot_agent(0, 0, theta0)
    local_returns = []
    for _ in range(5 * 2):
        fragment = local.collect(FRAGMENT)
        local_returns += fragment.episode_returns
        local.learn_from(fragment)
    _assert_same_parameters(agent.get_parameters(), local.get_parameters())
    assert result.episode_frame().episode_return.tolist() == local_returns
    frame = result.to_frame()
    assert frame.staleness.tolist() == [0] * 5 and frame.version.tolist() == list(range(5))
    assert frame.weight.tolist() == [1.0] * 5


@pytest.mark.cluster
def test_a3c_with_one_worker_is_sequential_gradient_steps_on_the_driver(client):
    agent = A2C(ENV, seed=0)
    driver = A2C(ENV, seed=0)  # the same initial parameters and optimizer
    result = train(agent, "a3c", total_steps=6 * FRAGMENT, n_workers=1, client=client)

    worker = _slot_agent(0, 0, driver.get_parameters())
    for _ in range(6):
        worker.set_parameters(driver.get_parameters())
        gradients, _ = worker.compute_gradients(worker.collect(FRAGMENT))
        driver.apply_gradients(gradients)
    _assert_same_parameters(agent.get_parameters(), driver.get_parameters())
    assert result.updates == 6


@pytest.mark.cluster
def test_rollouts_with_one_worker_is_central_learning(client):
    agent = A2C(ENV, seed=0)
    learner = A2C(ENV, seed=0)
    train(agent, "rollouts", total_steps=6 * FRAGMENT, n_workers=1, client=client)

    actor = _slot_agent(0, 0, learner.get_parameters())
    for _ in range(6):
        actor.set_parameters(learner.get_parameters())
        learner.learn_from(actor.collect(FRAGMENT))
    _assert_same_parameters(agent.get_parameters(), learner.get_parameters())


@pytest.mark.cluster
def test_dqn_rollouts_with_one_worker_is_central_learning_with_the_global_exploration_schedule(client):
    config = dict(learning_starts=200, train_freq=100, gradient_steps=8, exploration_steps=600)
    agent = drlkit.DQN(ENV, seed=0, **config)
    learner = drlkit.DQN(ENV, seed=0, **config)
    result = train(agent, "rollouts", total_steps=8 * 100, n_workers=1, client=client)

    actor = _slot_agent(0, 0, learner.get_parameters(), drlkit.DQN, **config)
    learned = 0
    for _ in range(8):
        actor.set_parameters(learner.get_parameters())
        actor.total_steps = learner.total_steps  # exploration follows the steps of the whole run
        fragment = actor.collect(100)
        learner.total_steps += fragment.n_steps
        learned += bool(learner.learn_from(fragment))
    _assert_same_parameters(agent.get_parameters(), learner.get_parameters())
    assert agent.total_steps == learner.total_steps == 800
    history = agent.history.to_frame()
    # Like local DQN: no History row while fragments only fill the buffer (before learning_starts).
    assert 0 < learned < 8
    assert (history.event == "update").sum() == learned and result.updates == 8
    assert history.exploration_rate.dropna().iloc[-1] == pytest.approx(learner.exploration_rate())


@pytest.mark.cluster
def test_sync_grad_round_applies_the_mean_gradient_with_the_driver_optimizer(client):
    agent = A2C(ENV, seed=0)
    driver = A2C(ENV, seed=0)
    result = train(agent, "sync_grad", total_steps=2 * 2 * FRAGMENT, n_workers=2, client=client)

    workers = [_slot_agent(0, slot, driver.get_parameters()) for slot in range(2)]
    for _ in range(2):
        gradients = []
        for worker in workers:
            worker.set_parameters(driver.get_parameters())
            gradients.append(worker.compute_gradients(worker.collect(FRAGMENT))[0])
        driver.apply_gradients({k: np.mean([g[k] for g in gradients], axis=0) for k in gradients[0]})
    _assert_same_parameters(agent.get_parameters(), driver.get_parameters())
    assert result.to_frame().sync_round.tolist() == [0, 0, 1, 1]


@pytest.mark.cluster
def test_round_timeout_keeps_what_arrived_and_cancels_the_straggler(client):
    agent = A2C(ENV, seed=0)
    theta0 = agent.get_parameters()
    # Slot 1 always needs a second more than the round allows: every round keeps slot 0 alone.
    result = train(
        agent, "sync", total_steps=3 * FRAGMENT, n_workers=2, round_timeout=0.2, delays={1: 1.0}, client=client
    )
    frame = result.to_frame().sort_values(["sync_round", "worker"])
    assert frame.status.tolist() == ["applied", "cancelled"] * 3
    assert frame.worker.tolist() == [0, 1] * 3 and frame.sync_round.tolist() == [0, 0, 1, 1, 2, 2]
    assert (frame.weight[frame.status == "applied"] == 1.0).all()
    # The mean of one result is that result: three rounds of slot 0 training alone.
    local = _slot_agent(0, 0, theta0)
    for _ in range(3):
        local.learn_from(local.collect(FRAGMENT))
    _assert_same_parameters(agent.get_parameters(), local.get_parameters())


@pytest.mark.cluster
def test_backup_workers_keep_the_first_n_results_of_every_round(client):
    agent = A2C(ENV, seed=0)
    result = train(
        agent, "sync", total_steps=3 * 2 * FRAGMENT, n_workers=2, backup_workers=1, delays={2: 0.3}, client=client
    )
    frame = result.to_frame()
    assert result.updates == 3
    for round_index, rows in frame.groupby("sync_round"):
        applied = rows[rows.status == "applied"]
        assert len(rows) == 3 and len(applied) == 2 and applied.worker.nunique() == 2
        assert (applied.version == round_index).all() and (applied.weight == 0.5).all()
        assert (rows[rows.status == "cancelled"].env_steps == 0).all()
    counts = result.counts()
    assert counts["cancelled"] == 3 and counts["submitted"] == 9
    assert agent.total_steps == frame.env_steps.sum() == 3 * 2 * FRAGMENT


# ------------------------------------------------------------ bookkeeping
@pytest.mark.cluster
def test_async_staleness_drops_and_weights_are_accounted_for(client):
    agent = A2C(ENV, seed=1)
    # Slot 1 is a straggler: by the time its result arrives, slot 0 has moved the version on.
    result = train(
        agent,
        "async",
        total_steps=40 * FRAGMENT,
        n_workers=2,
        eta=0.5,
        staleness_aware=True,
        max_staleness=0,
        delays={1: 0.4},
        client=client,
    )
    frame = result.to_frame()
    applied, dropped = frame[frame.status == "applied"], frame[frame.status == "dropped"]
    assert len(dropped) >= 1 and (dropped.staleness >= 1).all() and (dropped.worker == 1).all()
    assert (applied.staleness == 0).all() and (applied.weight == 0.5).all() and dropped.weight.isna().all()
    assert applied.updates.tolist() == list(range(1, len(applied) + 1))  # one version per applied result
    counts = result.counts()
    assert counts["submitted"] == counts["applied"] + counts["dropped"] + counts["cancelled"] + counts["lost"]
    assert counts["updates"] == len(applied)
    assert agent.total_steps == frame.env_steps.sum() == result.env_steps >= 40 * FRAGMENT
    history = agent.history.to_frame()
    assert (history.event == "update").sum() == len(applied)
    assert (history.event == "episode").sum() == frame.n_episodes.sum() == len(result.episode_frame())
    hist = result.staleness_histogram()
    assert hist.loc[0, "applied"] == len(applied) and hist.dropped.sum() == len(dropped)
    throughput = result.throughput()
    assert throughput.env_steps.sum() == frame.env_steps.sum() and set(throughput.index) == {0, 1}


@pytest.mark.cluster
def test_callbacks_run_after_every_update_and_can_stop_training(client):
    agent = A2C(ENV, seed=2)
    seen_agents, seen_updates = [], []
    live = LiveCurve(every=0)

    def on_update(result: DistributedResult):
        seen_updates.append(result.updates)
        return result.updates < 3

    result = train(
        agent,
        "async",
        total_steps=100 * FRAGMENT,
        n_workers=2,
        local_steps=5,
        client=client,
        callbacks=[seen_agents.append, live.track("async")],
        on_update=on_update,
    )
    assert seen_updates == [1, 2, 3] and result.updates == 3
    assert seen_agents == [agent] * 3
    # A live learning curve follows the agent's History, which gets the workers' episodes.
    steps, returns = live.curves["async"]
    assert returns.tolist() == result.episode_frame().episode_return.tolist() and len(returns) > 0
    assert steps.tolist() == result.episode_frame().step.tolist()
    counts = result.counts()
    assert counts["applied"] == 3
    assert counts["submitted"] == counts["applied"] + counts["dropped"] + counts["cancelled"] + counts["lost"]


@pytest.mark.cluster
def test_an_env_made_by_a_lambda_travels_to_the_workers(client):
    import gymnasium as gym

    # Defined here, like in a notebook: the workers cannot import it, so it travels by value.
    agent = A2C(lambda: gym.make(ENV, max_episode_steps=50), seed=0)
    result = train(agent, "sync", total_steps=2 * 5 * FRAGMENT, n_workers=2, local_steps=5, client=client)
    episodes = result.episode_frame()
    assert result.updates == 1 and len(episodes) > 0
    assert episodes.episode_length.max() <= 50  # the workers used this env, time limit included


# ------------------------------------------------------------- bad input
def test_bad_input_is_rejected_before_the_cluster_is_touched():
    agent = A2C(ENV, seed=0)
    with pytest.raises(ValueError, match="mode must be one of 'rollouts', 'sync', 'sync_grad', 'async', 'a3c'"):
        train(agent, "hogwild", total_steps=100)
    with pytest.raises(ValueError, match=r"eta must be in \(0, 1\], got 0"):
        train(agent, "async", total_steps=100, eta=0)
    with pytest.raises(ValueError, match="eta"):
        train(agent, "async", total_steps=100, eta=1.5)
    with pytest.raises(ValueError, match="n_workers"):
        train(agent, "sync", total_steps=100, n_workers=0)
    with pytest.raises(ValueError, match="local_steps"):
        train(agent, "sync", total_steps=100, local_steps=0)
    with pytest.raises(ValueError, match="total_steps"):
        train(agent, "sync", total_steps=0)
    with pytest.raises(TypeError, match="'eta' does not apply to mode 'sync'"):
        train(agent, "sync", total_steps=100, eta=0.5)
    with pytest.raises(ValueError, match="delays key"):
        train(agent, "sync", total_steps=100, n_workers=2, delays={2: 1.0})
    with pytest.raises(ValueError, match=r"slowdown\[0\]"):
        train(agent, "sync", total_steps=100, n_workers=2, slowdown={0: 0.5})
    with pytest.raises(TypeError, match="kill_worker_at"):
        train(agent, "sync", total_steps=100, n_workers=2, kill_worker_at=3.0)
    with pytest.raises(TypeError, match="drlkit Agent"):
        train("PPO", "sync", total_steps=100)


def test_agent_without_the_hooks_of_a_mode_says_which_modes_it_supports():
    dqn = drlkit.DQN(ENV, seed=0)
    assert supported_modes(dqn) == ["rollouts", "sync", "async", "gossip", "ssp", "federated"]
    with pytest.raises(ValueError, match=r"compute_gradients\(\).*DQN supports modes 'rollouts', 'sync', 'async'"):
        train(dqn, "a3c", total_steps=100)
