"""map_tasks: independent tasks on a real local cluster, results in order, clear errors."""

import pytest

import drlkit
from drlkit.distributed import TaskError, map_tasks

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def client():
    with drlkit.cluster(n_workers=2) as client:
        yield client


def test_results_come_back_in_the_order_of_the_inputs(client):
    items = list(range(-5, 20))
    assert map_tasks(abs, items, client=client) == [abs(i) for i in items]


def test_an_empty_list_needs_no_cluster():
    assert map_tasks(abs, []) == []


def test_a_failing_task_names_its_input(client):
    with pytest.raises(TaskError, match=r"item 1 .*ZeroDivisionError") as info:
        map_tasks(_divide_one_by, [1, 0, 2], client=client)
    assert info.value.index == 1


def test_a_task_that_outlives_the_timeout_raises(client):
    import time

    with pytest.raises(TimeoutError, match="timeout=0.2"):
        map_tasks(time.sleep, [5.0], client=client, timeout=0.2)


@pytest.mark.parametrize("kwargs, field", [({"timeout": 0}, "timeout"), ({"retries": -1}, "retries")])
def test_bad_options_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        map_tasks(abs, [1], **kwargs)


def test_items_must_be_a_sequence():
    with pytest.raises(TypeError, match="items"):
        map_tasks(abs, 3)


def _divide_one_by(x):
    return 1 / x
