import numpy as np
import pytest

from drlkit.tabular import q_learning
from drlkit.tabular.schedules import Constant, ExponentialDecay, LinearDecay, schedule_values


def test_constant_is_the_same_every_episode():
    schedule = Constant(0.3)
    assert [schedule(k) for k in (0, 1, 1000)] == [0.3, 0.3, 0.3]


def test_linear_decay_hits_both_ends_then_stays_flat():
    schedule = LinearDecay(start=1.0, end=0.1, episodes=10)
    assert schedule(0) == pytest.approx(1.0)
    assert schedule(5) == pytest.approx(0.55)
    assert schedule(10) == pytest.approx(0.1)
    assert schedule(500) == pytest.approx(0.1)
    values = [schedule(k) for k in range(12)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_exponential_decay_keeps_the_fraction_decay_of_the_distance_to_end():
    schedule = ExponentialDecay(start=1.0, end=0.2, decay=0.5)
    assert schedule(0) == pytest.approx(1.0)
    assert schedule(1) == pytest.approx(0.2 + 0.8 * 0.5)
    assert schedule(3) == pytest.approx(0.2 + 0.8 * 0.125)
    assert schedule(200) == pytest.approx(0.2)


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: LinearDecay(1.0, 0.1, episodes=0), "episodes"),
        (lambda: LinearDecay(1.0, 0.1, episodes=2.5), "episodes"),
        (lambda: LinearDecay("high", 0.1, episodes=10), "start"),
        (lambda: ExponentialDecay(1.0, 0.0, decay=0.0), "decay"),
        (lambda: ExponentialDecay(1.0, 0.0, decay=1.5), "decay"),
        (lambda: Constant(float("nan")), "value"),
    ],
)
def test_bad_schedule_parameters_name_the_field(make, field):
    with pytest.raises((TypeError, ValueError), match=field):
        make()


def test_schedule_values_evaluates_each_episode():
    values = schedule_values("epsilon", LinearDecay(1.0, 0.0, episodes=4), 6, low=0, high=1)
    np.testing.assert_allclose(values, [1.0, 0.75, 0.5, 0.25, 0.0, 0.0])
    np.testing.assert_allclose(schedule_values("epsilon", 0.2, 3, low=0, high=1), [0.2, 0.2, 0.2])


def test_a_schedule_leaving_its_range_names_the_field_and_the_episode():
    # Linear "decay" that grows past 1 at episode 6.
    growing = LinearDecay(start=0.5, end=1.5, episodes=10)
    with pytest.raises(ValueError, match=r"epsilon \(schedule at episode 6\) must be in \[0, 1\]"):
        schedule_values("epsilon", growing, 20, low=0, high=1)


def test_any_callable_is_a_schedule_and_learners_record_its_values():
    result = q_learning("FrozenLake-v1", episodes=5, epsilon=lambda k: 1.0 / (k + 1), seed=0)
    np.testing.assert_allclose(result.epsilons, [1.0, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    np.testing.assert_allclose(result.to_frame()["epsilon"], result.epsilons)


def test_learners_reject_an_alpha_schedule_reaching_zero():
    with pytest.raises(ValueError, match="alpha"):
        q_learning("FrozenLake-v1", episodes=20, alpha=LinearDecay(0.5, 0.0, episodes=10), seed=0)
