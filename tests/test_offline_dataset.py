"""Offline datasets: collection, Minari round trip, episodes, shards and every bad-input case."""

import numpy as np
import pytest

import drlkit
from drlkit.offline import (
    BC,
    DatasetError,
    OfflineDataset,
    collect,
    collect_replay,
    concatenate,
    load_dataset,
    save_dataset,
)

FIELDS = ("observations", "actions", "rewards", "next_observations", "terminations", "truncations")


@pytest.fixture
def minari_root(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    return tmp_path / "minari"


def test_collect_records_consistent_episodes_and_how_it_was_made():
    data = collect("CartPole-v1", "random", steps=600, seed=3, quality="random")
    assert len(data) == 600 and data.observations.shape == (600, 4) and data.actions.dtype == np.int64
    # Inside an episode, s'_t is s_{t+1}; CartPole's random episodes all terminate, except the cut last one.
    for episode in data.episodes():
        np.testing.assert_array_equal(data.observations[episode][1:], data.next_observations[episode][:-1])
    assert data.terminations[:-1].sum() == data.n_episodes - 1 and data.truncations[-1]
    assert data.episode_returns().sum() == pytest.approx(data.rewards.sum())
    assert data.metadata == {
        "env_id": "CartPole-v1",
        "policy": "random",
        "seed": 3,
        "steps": 600,
        "epsilon": 0.0,
        "quality": "random",
    }
    # Same seed, same data; another seed, other data.
    again = collect("CartPole-v1", "random", steps=600, seed=3)
    np.testing.assert_array_equal(again.observations, data.observations)
    assert not np.array_equal(collect("CartPole-v1", "random", steps=600, seed=4).actions, data.actions)


def test_epsilon_mixes_random_actions_into_a_policy():
    always_left = lambda obs: 0  # noqa: E731
    assert (collect("CartPole-v1", always_left, steps=300, seed=0).actions == 0).all()
    mixed = collect("CartPole-v1", always_left, steps=2000, seed=0, epsilon=0.5).actions
    # Half the steps are random, half of those pick action 1: about a quarter.
    assert 0.2 < mixed.mean() < 0.3


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_minari_round_trip_is_exact(minari_root, env_id):
    data = collect(env_id, "random", steps=450, seed=1, quality="random")
    path = save_dataset(data, f"test/{env_id.lower()}/random-v0", ref_min_score=-1.0, ref_max_score=2.0)
    assert (path / "data").is_dir() and str(path).startswith(str(minari_root))
    loaded = load_dataset(f"test/{env_id.lower()}/random-v0")
    for name in FIELDS:
        original, back = getattr(data, name), getattr(loaded, name)
        assert back.dtype == original.dtype and back.shape == original.shape, name
        np.testing.assert_array_equal(back, original, err_msg=name)
    assert loaded.observation_space == data.observation_space and loaded.action_space == data.action_space
    assert {k: loaded.metadata[k] for k in data.metadata} == data.metadata
    assert loaded.metadata["ref_min_score"] == -1.0 and loaded.metadata["ref_max_score"] == 2.0
    # Minari itself reads it as a valid dataset.
    import minari

    m = minari.load_dataset(f"test/{env_id.lower()}/random-v0")
    assert m.total_steps == 450 and m.total_episodes == data.n_episodes


def test_an_explicit_root_wins_and_existing_datasets_are_not_overwritten(tmp_path):
    data = collect("CartPole-v1", "random", steps=50, seed=0)
    save_dataset(data, "t/cp/a-v0", root=tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_dataset(data, "t/cp/a-v0", root=tmp_path)
    save_dataset(data, "t/cp/a-v0", root=tmp_path, overwrite=True)
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        load_dataset("t/cp/missing-v0", root=tmp_path)
    with pytest.raises(ValueError, match="-v<version>"):
        save_dataset(data, "no_version", root=tmp_path)


def test_medium_replay_is_every_transition_of_a_training_run():
    agent = drlkit.DQN("CartPole-v1", seed=0, learning_starts=100, train_freq=100, gradient_steps=1)
    data = collect_replay(agent, 700)
    assert len(data) == 700 and agent.total_steps == 700
    assert data.metadata["quality"] == "medium-replay"
    # The episode boundaries recovered from the stream are those the env reported to a twin agent
    # running the same collect/learn_from loop with the same seed.
    twin = drlkit.DQN("CartPole-v1", seed=0, learning_starts=100, train_freq=100, gradient_steps=1)
    reported = []
    for _ in range(7):
        fragment = twin.collect(100)
        twin.learn_from(fragment)
        reported += fragment.episode_lengths
    lengths = [e.stop - e.start for e in data.episodes()]
    assert lengths[:-1] == reported and sum(lengths) == 700
    assert data.terminations.sum() == len(lengths) - 1


def test_shards_are_disjoint_whole_episodes_covering_the_data():
    data = collect("CartPole-v1", "random", steps=500, seed=0)
    shards = [data.shard(i, 3) for i in range(3)]
    assert sum(len(s) for s in shards) == len(data)
    assert sum(s.n_episodes for s in shards) == data.n_episodes
    np.testing.assert_array_equal(np.sort(np.concatenate([s.rewards for s in shards])), np.sort(data.rewards))
    with pytest.raises(ValueError, match="shard index"):
        data.shard(3, 3)


def test_concatenate_makes_mixtures():
    a = collect("CartPole-v1", "random", steps=100, seed=0, quality="random")
    b = collect("CartPole-v1", lambda o: 1, steps=50, seed=1, quality="right")
    mix = concatenate([a, b])
    assert len(mix) == 150 and mix.n_episodes == a.n_episodes + b.n_episodes
    assert mix.metadata["quality"] == "random-right"
    with pytest.raises(DatasetError, match="dataset 1 has spaces"):
        concatenate([a, collect("Acrobot-v1", "random", steps=20, seed=0)])


# ------------------------------------------------------------------ bad input
def test_a_dataset_from_another_environment_is_refused():
    data = collect("Acrobot-v1", "random", steps=100, seed=0)
    with pytest.raises(DatasetError, match=r"observation space .* does not match BC's environment \(CartPole-v1\)"):
        BC("CartPole-v1", data=data)


def test_an_empty_dataset_is_refused():
    space = drlkit.make_env("CartPole-v1")
    with pytest.raises(DatasetError, match="empty"):
        OfflineDataset.from_arrays(
            np.zeros((0, 4)), [], [], [], [], observation_space=space.observation_space, action_space=space.action_space
        )


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_rewards_are_refused(bad):
    data = collect("CartPole-v1", "random", steps=30, seed=0)
    rewards = data.rewards.copy()
    rewards[7] = bad
    with pytest.raises(DatasetError, match=r"rewards must be finite.*index 7"):
        OfflineDataset(
            data.observations,
            data.actions,
            rewards,
            data.next_observations,
            data.terminations,
            data.truncations,
            data.observation_space,
            data.action_space,
        )


def test_a_truncated_episode_without_next_observations_is_refused():
    data = collect("CartPole-v1", "random", steps=30, seed=0)
    trunc = np.zeros(30, dtype=bool)
    trunc[9] = True
    with pytest.raises(DatasetError, match="transition 9 is truncated but next_observations were not given"):
        OfflineDataset.from_arrays(
            data.observations,
            data.actions,
            data.rewards,
            np.zeros(30, bool),
            trunc,
            observation_space=data.observation_space,
            action_space=data.action_space,
        )
    # With every episode terminated, next observations can be derived.
    term = np.zeros(30, dtype=bool)
    term[[9, 29]] = True
    ok = OfflineDataset.from_arrays(
        data.observations,
        data.actions,
        data.rewards,
        term,
        np.zeros(30, bool),
        observation_space=data.observation_space,
        action_space=data.action_space,
    )
    np.testing.assert_array_equal(ok.next_observations[:9], data.observations[1:10])


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("actions", np.full(30, 2), r"actions must be in \[0, 1\]"),
        ("observations", np.zeros((30, 3)), r"observations must have shape \(30, 4\)"),
        ("terminations", np.zeros(29, bool), r"terminations must have shape \(30,\)"),
    ],
)
def test_malformed_arrays_name_the_field(field, value, message):
    data = collect("CartPole-v1", "random", steps=30, seed=0)
    arrays = {name: getattr(data, name) for name in FIELDS}
    arrays[field] = value
    with pytest.raises(DatasetError, match=message):
        OfflineDataset(**arrays, observation_space=data.observation_space, action_space=data.action_space)


@pytest.mark.parametrize(
    "kwargs, field",
    [({"steps": 0}, "steps"), ({"steps": 5, "epsilon": 1.5}, "epsilon"), ({"steps": 5, "seed": -1}, "seed")],
)
def test_collect_options_are_checked(kwargs, field):
    with pytest.raises(ValueError, match=field):
        collect("CartPole-v1", "random", **kwargs)


def test_an_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="policy must be 'random'"):
        collect("CartPole-v1", "expert", steps=5)


def test_quality_datasets_are_ordered_by_return_and_labelled():
    from drlkit.offline import make_quality_datasets

    sets = make_quality_datasets("CartPole-v1", ("random", "medium", "expert", "medium-expert"), steps=1_000)
    means = {q: d.episode_returns()[:-1].mean() for q, d in sets.items()}  # complete episodes only
    assert means["random"] < means["medium"] < means["expert"]
    assert {q: d.metadata["quality"] for q, d in sets.items()} == {q: q for q in sets}
    assert len(sets["medium-expert"]) == 1_000
    with pytest.raises(ValueError, match="qualities entries must be among"):
        make_quality_datasets("CartPole-v1", ("great",))
