"""Population-based training: exploit copies parameters and optimizer state exactly, explore stays in
its bounds, the lineage is consistent, PBT without exploit/explore is independent training, and a
killed worker loses no member."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from drlkit.agents.dqn import DQN
from drlkit.agents.ppo import PPO
from drlkit.distributed.population import MemberState, apply_hyperparameters, load_member, member_state
from drlkit.distributed.worker import slot_seed
from drlkit.population import LogUniform, Uniform, explore, select_parents, train_population

from agent_tools import one_thread  # noqa: F401  (autouse fixture)
from dask_processes import cluster_with_client

ENV = "CartPole-v1"
SPACE = {"learning_rate": LogUniform(1e-4, 1e-2), "ent_coef": Uniform(0.0, 0.02)}
PPO_SMALL = dict(n_steps=64, num_envs=2, batch_size=64, n_epochs=2)


def _optimizer_tensors(state: dict) -> list[torch.Tensor]:
    return [v for per_param in state["state"].values() for v in per_param.values() if isinstance(v, torch.Tensor)]


# ----------------------------------------------------------------- exploit / explore (no cluster)
def test_exploit_copies_parameters_and_optimizer_state_exactly():
    strong = PPO(ENV, seed=0, **PPO_SMALL)
    strong.train(256)
    weak = PPO(ENV, seed=1, **PPO_SMALL)
    state = member_state(strong, {"learning_rate": 3e-3, "ent_coef": 0.01})
    load_member(weak, state.copy())
    for key, value in strong.get_parameters().items():
        np.testing.assert_array_equal(weak.get_parameters()[key], value)
    ours, theirs = weak.optimizer.state_dict(), strong.optimizer.state_dict()
    assert len(_optimizer_tensors(ours)) == len(_optimizer_tensors(theirs)) > 0
    for a, b in zip(_optimizer_tensors(ours), _optimizer_tensors(theirs)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert weak.config.learning_rate == 3e-3 and weak.config.ent_coef == 0.01
    assert weak.total_steps == strong.total_steps
    # The copy shares nothing: training the copy leaves the saved state alone.
    before = {k: v.copy() for k, v in state.params.items()}
    weak.train(128)
    for key, value in before.items():
        np.testing.assert_array_equal(state.params[key], value)


def test_learning_rate_reaches_the_optimizer():
    agent = DQN(ENV, seed=0)
    apply_hyperparameters(agent, {"learning_rate": 1e-4, "exploration_final_eps": 0.2})
    assert agent.optimizer.param_groups[0]["lr"] == 1e-4 and agent.config.exploration_final_eps == 0.2
    with pytest.raises(ValueError, match="learning_rate"):
        apply_hyperparameters(agent, {"learning_rate": 5.0})


def test_explore_perturbs_within_the_stated_bounds():
    rng = np.random.default_rng(0)
    space = {"learning_rate": LogUniform(1e-4, 1e-2), "ent_coef": Uniform(0.0, 0.02)}
    factors = (0.8, 1.2)
    for _ in range(200):
        h = {name: dist.sample(rng) for name, dist in space.items()}
        new = explore(h, space, rng, factors)
        for name, value in new.items():
            allowed = [min(max(h[name] * f, space[name].low), space[name].high) for f in factors]
            assert any(math.isclose(value, a) for a in allowed), (name, h[name], value)
    # Resampling always: every value drawn from the space, inside its bounds.
    for _ in range(100):
        new = explore({"learning_rate": 1e-3, "ent_coef": 0.01}, space, rng, factors, resample_probability=1.0)
        assert all(space[k].low <= v <= space[k].high for k, v in new.items())


def test_truncation_and_tournament_copy_only_from_higher_scores():
    rng = np.random.default_rng(0)
    scores = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 4.0]
    for _ in range(50):
        parents = select_parents(scores, rng, "truncation", 0.25)
        assert set(parents) == {1, 5}  # the bottom quarter
        assert set(parents.values()) <= {2, 6}  # copy from the top quarter
        tournament = select_parents(scores, rng, "tournament")
        assert all(scores[p] > scores[m] for m, p in tournament.items())
    assert select_parents([1.0, 1.0, 1.0, 1.0], rng) == {}  # ties copy nothing
    assert select_parents([math.nan, 2.0], rng) == {0: 1}  # a member without a score ranks lowest


def test_best_member_is_the_best_last_score_and_survives_missing_scores():
    from drlkit.population import PopulationResult

    rows = [(0, 0, 5.0), (0, 1, 1.0), (1, 0, math.nan), (1, 1, 3.0)]
    result = PopulationResult(None, {}, [], True, records=[dict(round=r, member=m, score=s) for r, m, s in rows])
    assert result.best_member() == 1  # round 0's best does not count, a member without a score ranks lowest
    np.testing.assert_array_equal(result.best_scores(), [5.0, 3.0])
    result.records[-1]["score"] = math.nan
    assert result.best_member() == 0  # nobody scored: the first member


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(n_members=1), "n_members"),
        (dict(perturb_factors=(0.8, 0.0)), "perturb_factors"),
        (dict(perturb_factors=(-1.2,)), "perturb_factors"),
        (dict(perturb_factors=()), "perturb_factors"),
        (dict(resample_probability=1.5), "resample_probability"),
        (dict(truncation=0.8), "truncation"),
        (dict(selection="best"), "selection"),
        (dict(space={"learning_rat": (1e-4, 1e-3)}), "learning_rat"),
        (dict(space={"learning_rate": LogUniform(0.0, 1e-3)}), "low"),
        (dict(space={"learning_rate": (1e-2, 1e-3)}), "high"),
        (dict(space={}), "space"),
        (dict(interval_steps=0), "interval_steps"),
    ],
)
def test_bad_input_is_refused_before_the_cluster_is_touched(kwargs, name):
    agent = PPO(ENV, seed=0, **PPO_SMALL)
    args = dict(space=SPACE, n_members=4, total_steps=1000)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=name):
        train_population(agent, args.pop("space"), client=object(), **args)


def test_a_population_of_one_without_exploit_is_allowed_to_reach_the_cluster():
    # n_members=1 is only refused with exploit; without it the next failure is the fake client.
    with pytest.raises((AttributeError, TypeError, ValueError)) as info:
        train_population(PPO(ENV, **PPO_SMALL), SPACE, n_members=1, exploit=False, total_steps=10, client=object())
    assert "n_members" not in str(info.value)


# ------------------------------------------------------------------------------ on a cluster
@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with cluster_with_client(tmp_path_factory.mktemp("dask"), n_workers=2, nanny=True) as (_, client):
        yield client


@pytest.mark.cluster
def test_lineage_is_consistent_and_explore_follows_the_parent(client):
    agent = PPO(ENV, seed=3, **PPO_SMALL)
    result = train_population(
        agent,
        SPACE,
        n_members=4,
        interval_steps=256,
        total_steps=4 * 256 * 4,
        eval_episodes=2,
        truncation=0.5,
        client=client,
    )
    frame = result.to_frame()
    assert len(frame) == 16 and sorted(frame["round"].unique()) == [0, 1, 2, 3]
    assert len(result.lineage) >= 1
    for copy in result.lineage:
        r, m, p = copy["round"], copy["member"], copy["parent"]
        assert 0 <= p < 4 and p != m
        parent_row = frame[(frame["round"] == r) & (frame.member == p)].iloc[0]
        member_row = frame[(frame["round"] == r) & (frame.member == m)].iloc[0]
        assert copy["parent_score"] == parent_row.score > member_row.score == copy["member_score"]
        assert member_row.parent == p
        # Explore: each hyperparameter is the parent's times 0.8 or 1.2, clipped to the space.
        for name, dist in SPACE.items():
            allowed = [dist.clip(parent_row[name] * f) for f in (0.8, 1.2)]
            assert any(math.isclose(copy["after"][name], a) for a in allowed)
        # The member trains the next round with the explored hyperparameters.
        following = frame[(frame["round"] == r + 1) & (frame.member == m)].iloc[0]
        assert all(math.isclose(following[name], copy["after"][name]) for name in SPACE)
    # Members without a copy keep their hyperparameters.
    copied = {(c["round"], c["member"]) for c in result.lineage}
    for r in range(3):
        for m in range(4):
            if (r, m) not in copied:
                a = frame[(frame["round"] == r) & (frame.member == m)].iloc[0]
                b = frame[(frame["round"] == r + 1) & (frame.member == m)].iloc[0]
                assert all(a[name] == b[name] for name in SPACE)
    assert result.agent().evaluate(2).shape == (2,)


@pytest.mark.cluster
def test_without_exploit_each_member_trains_exactly_as_alone(client):
    agent = PPO(ENV, seed=5, **PPO_SMALL)
    interval, rounds = 128, 3
    result = train_population(
        agent,
        SPACE,
        n_members=2,
        interval_steps=interval,
        total_steps=2 * interval * rounds,
        exploit=False,
        eval_episodes=1,
        client=client,
    )
    assert result.lineage == []
    frame = result.to_frame()
    for m in range(2):
        rows = frame[frame.member == m]
        assert rows[list(SPACE)].nunique().max() == 1  # its hyperparameters never changed
        alone = PPO(ENV, seed=slot_seed(5, m), **PPO_SMALL)
        apply_hyperparameters(alone, {name: rows.iloc[0][name] for name in SPACE})
        scores = []
        for _ in range(rounds):
            alone.train(interval)
            scores.append(float(alone.evaluate(1).mean()))
        member = result.members[m]
        assert member.total_steps == alone.total_steps == interval * rounds
        for key, value in alone.get_parameters().items():
            np.testing.assert_array_equal(member.params[key], value)
        np.testing.assert_array_equal(rows.score.to_numpy(), scores)


@pytest.mark.cluster
@pytest.mark.slow
def test_a_killed_worker_loses_no_member(client):
    client.wait_for_workers(2, timeout=60)
    agent = PPO(ENV, seed=7, **PPO_SMALL)
    interval, rounds = 512, 6
    result = train_population(
        agent,
        SPACE,
        n_members=4,
        interval_steps=interval,
        total_steps=4 * interval * rounds,
        eval_episodes=2,
        kill_worker_at=(0.3, 1),
        client=client,
        worker_timeout=60,
    )
    events = [e["event"] for e in result.run.events]
    assert "killed" in events
    runs = result.run.to_frame()
    assert ((runs.status == "lost") | runs.moved).any()  # the killed worker's task ran again
    assert (runs.status == "applied").sum() == 4 * rounds
    assert len(result.members) == 4
    assert all(isinstance(s, MemberState) and s.total_steps == interval * rounds for s in result.members)
    assert len(result.to_frame()) == 4 * rounds


# ------------------------------------------------------------------- shared vs private replay
@pytest.mark.cluster
@pytest.mark.parametrize("shared", [True, False])
def test_dqn_population_shares_one_replay_or_keeps_one_each(client, shared):
    from drlkit.population.shared_replay import train_dqn_population

    agent = DQN(ENV, seed=0, learning_starts=64, batch_size=32, train_freq=64, gradient_steps=2, buffer_size=1000)
    result = train_dqn_population(agent, [0.3, 0.02], shared=shared, total_steps=2 * 64 * 3, client=client)
    a, b = result.learners
    assert a.total_steps == b.total_steps == 64 * 3
    assert a.config.exploration_final_eps == 0.3 and b.config.exploration_final_eps == 0.02
    if shared:
        assert a.replay is b.replay and len(a.replay) == 2 * 64 * 3 and a.replay.capacity == 2000
    else:
        assert a.replay is not b.replay and len(a.replay) == len(b.replay) == 64 * 3
        # Private buffers hold different experience (each its own actor's).
        assert not np.array_equal(a.replay.rows[:64], b.replay.rows[:64])
    frame = result.to_frame()
    assert len(frame) == 6 and frame.loss.notna().sum() >= 2
    assert result.bytes_from_workers == 2 * 3 * 64 * (2 * 4 * 4 + 8 + 4 + 1)  # obs, next_obs, action, reward, done
