"""The replay ring buffer: wrapping, sampling only filled rows, unpacking, checkpoints."""

import numpy as np
import pytest
import torch

from drlkit.agents.replay import ReplayBuffer


def transitions(start: int, n: int, obs_dim: int = 2):
    """n transitions numbered start, start+1, ...: every field encodes the number."""
    k = np.arange(start, start + n, dtype=np.float32)
    obs = np.repeat(k[:, None], obs_dim, axis=1)
    return obs, k % 3, k * 10, obs + 0.5, (k % 2 == 0)


def stored_numbers(buffer: ReplayBuffer) -> list[int]:
    return sorted(int(v) for v in buffer.rows[: len(buffer), 0])


def test_fills_in_order_then_wraps_over_the_oldest():
    buffer = ReplayBuffer(capacity=5, obs_dim=2)
    buffer.add(*transitions(0, 3))
    assert (len(buffer), buffer.position, buffer.added) == (3, 3, 3)
    assert stored_numbers(buffer) == [0, 1, 2]
    buffer.add(*transitions(3, 4))  # 7 transitions in a buffer of 5: 0 and 1 are forgotten
    assert (len(buffer), buffer.position, buffer.added) == (5, 2, 7)
    assert stored_numbers(buffer) == [2, 3, 4, 5, 6]
    # rows 0 and 1 hold the wrapped transitions 5 and 6
    np.testing.assert_array_equal(buffer.rows[:2, 0], [5, 6])


def test_a_batch_larger_than_the_capacity_keeps_the_newest():
    buffer = ReplayBuffer(capacity=4, obs_dim=2)
    buffer.add(*transitions(0, 1))
    buffer.add(*transitions(1, 10))
    assert stored_numbers(buffer) == [7, 8, 9, 10]
    assert buffer.added == 11


def test_samples_only_filled_rows_uniformly():
    buffer = ReplayBuffer(capacity=100, obs_dim=2)
    buffer.add(*transitions(1, 10))  # numbers 1..10; rows 10..99 are still zeros
    rows = buffer.sample(20_000, np.random.default_rng(0))
    numbers = rows[:, 0].astype(int)
    assert set(numbers) == set(range(1, 11))
    counts = np.bincount(numbers, minlength=11)[1:]
    assert counts.min() > 1700 and counts.max() < 2300  # 2000 expected each


def test_sample_after_wrap_covers_every_slot():
    buffer = ReplayBuffer(capacity=6, obs_dim=2)
    buffer.add(*transitions(0, 9))
    numbers = set(buffer.sample(2000, np.random.default_rng(1))[:, 0].astype(int))
    assert numbers == {3, 4, 5, 6, 7, 8}


def test_unpack_gives_each_field_with_its_shape_and_values():
    buffer = ReplayBuffer(capacity=8, obs_dim=3)
    obs, actions, rewards, next_obs, terminated = transitions(0, 4, obs_dim=3)
    buffer.add(obs, actions, rewards, next_obs, terminated)
    batch = buffer.unpack(torch.as_tensor(buffer.rows[:4]))
    assert batch["obs"].shape == (4, 3) and batch["next_obs"].shape == (4, 3)
    for name, expected in [("actions", actions), ("rewards", rewards), ("terminated", terminated)]:
        assert batch[name].shape == (4,)
        np.testing.assert_array_equal(batch[name].numpy(), expected.astype(np.float32))
    np.testing.assert_array_equal(batch["next_obs"].numpy(), next_obs)


def test_add_accepts_time_by_env_arrays():
    buffer = ReplayBuffer(capacity=10, obs_dim=2)
    obs = np.arange(12, dtype=np.float32).reshape(3, 2, 2)  # (T=3, N=2, obs_dim=2)
    buffer.add(obs, np.zeros((3, 2)), np.ones((3, 2)), obs, np.zeros((3, 2), dtype=bool))
    assert len(buffer) == 6
    np.testing.assert_array_equal(buffer.rows[:6, :2], obs.reshape(6, 2))


def test_state_dict_round_trip():
    buffer = ReplayBuffer(capacity=5, obs_dim=2)
    buffer.add(*transitions(0, 7))
    copy = ReplayBuffer(capacity=5, obs_dim=2)
    copy.load_state_dict(buffer.state_dict())
    np.testing.assert_array_equal(copy.rows, buffer.rows)
    assert (copy.position, copy.size, copy.added) == (buffer.position, buffer.size, buffer.added)
    # both continue identically
    buffer.add(*transitions(7, 2))
    copy.add(*transitions(7, 2))
    np.testing.assert_array_equal(copy.rows, buffer.rows)


def test_bad_inputs():
    with pytest.raises(ValueError, match="buffer_size"):
        ReplayBuffer(capacity=0, obs_dim=2)
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(capacity=3, obs_dim=2).sample(1, np.random.default_rng(0))
    small = ReplayBuffer(capacity=5, obs_dim=2)
    small.add(*transitions(0, 3))
    with pytest.raises(ValueError, match="capacity 2"):
        ReplayBuffer(capacity=2, obs_dim=2).load_state_dict(small.state_dict())
