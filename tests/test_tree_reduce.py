"""Synchronous rounds summed in a tree of merge tasks on the workers (``train(reduce="tree")``).

The tree must give bitwise the parameters of the flat merge on the driver (same grouping of the
float64 sum, ``tree_fanin``), book the same records, survive a killed worker, and be the mean an
independent computation (numpy in float64) gives.
"""

from __future__ import annotations

import numpy as np
import pytest
from distributed import get_task_stream

import drlkit
from drlkit.agents.a2c import A2C
from drlkit.distributed import average_deltas, mean_gradients, resume, sync, train
from drlkit.distributed.compression import compress, expand
from drlkit.distributed.tree import delta_terms, finish_deltas, finish_gradients, tree_levels, tree_sum
from drlkit.distributed.worker import TaskReport, merge_leaf, merge_node

from agent_tools import one_thread  # noqa: F401  (autouse fixture)

ENV = "CartPole-v1"
FRAGMENT = 40  # A2C's own rollout: 5 steps in each of 8 envs
COMPARED = [
    "worker",
    "status",
    "version",
    "updates",
    "staleness",
    "weight",
    "env_steps",
    "n_episodes",
    "mean_return",
    "sync_round",
    "bytes_sent",
    "bytes_received",
]


@pytest.fixture(scope="module")
def client():
    with drlkit.cluster(n_workers=2, threads_per_worker=4, quiet=True) as client:
        yield client


def _random_params(rng, n):
    theta = {"w": rng.normal(size=(4, 3)).astype(np.float32), "b": rng.normal(size=5).astype(np.float32)}
    theta["count"] = np.array([7], dtype=np.int64)
    thetas = [
        {
            "w": (theta["w"] + rng.normal(size=(4, 3))).astype(np.float32),
            "b": (theta["b"] + rng.normal(size=5)).astype(np.float32),
            "count": np.array([k], dtype=np.int64),
        }
        for k in range(n)
    ]
    return theta, thetas


def _merge_like_the_workers(theta, outputs, fanin, kind="deltas"):
    """What the merge tasks compute, called here in the tree's order (no cluster)."""
    reports = [TaskReport(slot=i, version=0) for i in range(len(outputs))]
    nodes = [(output, report) for output, report in zip(outputs, reports)]
    for depth, level in enumerate(tree_levels(len(nodes), fanin)):
        if depth == 0:
            nodes = [merge_leaf(kind, theta, *[nodes[i] for i in group]) for group in level]
        else:
            nodes = [merge_node(*[nodes[i] for i in group]) for group in level]
    total, got_reports = nodes[0]
    assert [r.slot for r in got_reports] == list(range(len(outputs)))
    return total


# ------------------------------------------------------------------- the arithmetic
def test_tree_levels_group_consecutive_nodes_with_a_short_last_group():
    assert [[list(g) for g in level] for level in tree_levels(9, 3)] == [[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1, 2]]]
    assert [[list(g) for g in level] for level in tree_levels(7, 2)] == [
        [[0, 1], [2, 3], [4, 5], [6]],
        [[0, 1], [2, 3]],
        [[0, 1]],
    ]
    assert [[list(g) for g in level] for level in tree_levels(1, 8)] == [[[0]]]
    with pytest.raises(ValueError, match="fanin"):
        tree_levels(4, 1)


@pytest.mark.parametrize("n, fanin", [(9, 2), (16, 3), (10, 8), (5, 8)])
def test_tree_sum_is_the_mean_numpy_computes_and_the_workers_merge_equals_the_drivers(n, fanin):
    rng = np.random.default_rng(n * 10 + fanin)
    theta, thetas = _random_params(rng, n)
    # Independent: numpy's mean of the float64 deltas.
    for key in ("w", "b"):
        expected = np.mean(np.stack([t[key].astype(np.float64) - theta[key].astype(np.float64) for t in thetas]), 0)
        total = tree_sum([delta_terms(theta, t) for t in thetas], fanin)
        np.testing.assert_allclose(total[key] / n, expected, rtol=1e-12, atol=1e-12)
    # The workers' merge tasks add the same float64 numbers in the same order as the driver.
    on_workers = _merge_like_the_workers(theta, thetas, fanin)
    on_driver = tree_sum([delta_terms(theta, t) for t in thetas], fanin)
    for key in ("w", "b"):
        np.testing.assert_array_equal(on_workers[key], on_driver[key])
    merged = average_deltas(theta, thetas, fanin)
    assert merged["w"].dtype == np.float32 and merged["count"].tolist() == [7]  # counters are not averaged
    # The workers' merge tasks, run in the tree's order, give the driver's result bit for bit.
    from_tree = finish_deltas(theta, _merge_like_the_workers(theta, thetas, fanin), n)
    for key in theta:
        np.testing.assert_array_equal(from_tree[key], merged[key])
    # Gradients: the same sum, float32 mean.
    grads = [{k: t[k] for k in ("w", "b")} for t in thetas]
    flat = mean_gradients(grads, fanin)
    tree = finish_gradients(_merge_like_the_workers(None, grads, fanin, "gradients"), n)
    for key in ("w", "b"):
        np.testing.assert_array_equal(tree[key], flat[key])
        np.testing.assert_allclose(flat[key], np.mean([g[key].astype(np.float64) for g in grads], 0), rtol=1e-6)
        assert flat[key].dtype == np.float32


def test_the_grouping_is_part_of_the_sum():
    # Float addition is not associative: other groupings give other float64 sums (so the bitwise
    # comparisons above and on the cluster would notice a tree that grouped differently).
    rng = np.random.default_rng(2)
    terms = [{"x": rng.normal(size=1000) * 10.0 ** rng.integers(-8, 8, size=1000)} for _ in range(16)]
    sums = {fanin: tree_sum(terms, fanin)["x"] for fanin in (2, 3, 16)}
    assert not np.array_equal(sums[2], sums[3]) and not np.array_equal(sums[3], sums[16])
    np.testing.assert_allclose(sums[2], sums[16], rtol=1e-9, atol=1e-6)


def test_one_group_is_todays_left_to_right_mean_bit_for_bit():
    rng = np.random.default_rng(0)
    theta, thetas = _random_params(rng, 6)
    merged = average_deltas(theta, thetas, fanin=8)
    for key in ("w", "b"):
        base = theta[key].astype(np.float64)
        delta = np.mean([t[key].astype(np.float64) - base for t in thetas], axis=0)
        np.testing.assert_array_equal(merged[key], (base + delta).astype(np.float32))


def test_compressed_deltas_merge_on_the_workers_as_on_the_driver():
    rng = np.random.default_rng(1)
    theta, thetas = _random_params(rng, 5)
    floats = {k: v for k, v in theta.items() if k != "count"}
    outputs = [compress({k: t[k] - floats[k] for k in floats}, 0.5, True) for t in thetas]
    on_driver = average_deltas(theta, [expand(o, theta) for o in outputs], 2)
    from_tree = finish_deltas(theta, _merge_like_the_workers(theta, outputs, 2), 5)
    for key in theta:
        np.testing.assert_array_equal(from_tree[key], on_driver[key])


# ------------------------------------------------------------------- on a cluster
def _train(client, reduce, seed=3, **options):
    agent = A2C(ENV, seed=seed)
    with get_task_stream(client) as stream:
        result = train(agent, client=client, reduce=reduce, progress=False, **options)
    merges = [t for t in stream.data if str(t["key"]).startswith("drlkit-merge")]
    return agent, result, len(merges)


def _same_records(a, b) -> None:
    fa, fb = a.to_frame()[COMPARED], b.to_frame()[COMPARED]
    assert len(fa) == len(fb) > 0
    assert fa.reset_index(drop=True).equals(fb.reset_index(drop=True)), (fa, fb)


@pytest.mark.cluster
@pytest.mark.parametrize(
    "mode, n, fanin, options",
    [
        ("sync", 9, 2, {}),
        ("sync", 16, 3, {"local_steps": 2}),
        ("sync", 7, 3, {"topk": 0.5, "quantize": True}),
        ("sync_grad", 10, 3, {}),
    ],
)
def test_tree_rounds_give_bitwise_the_parameters_and_records_of_flat_rounds(client, mode, n, fanin, options):
    rounds = 3
    local = options.get("local_steps", 1)
    kwargs = dict(mode=mode, total_steps=rounds * n * FRAGMENT * local, n_workers=n, tree_fanin=fanin, **options)
    flat_agent, flat, flat_merges = _train(client, "flat", **kwargs)
    tree_agent, tree, tree_merges = _train(client, "tree", **kwargs)
    assert flat_merges == 0
    per_round = sum(len(level) for level in tree_levels(n, fanin))
    assert tree_merges >= rounds * per_round  # the tree ran (more only if Dask recomputed a lost merge)
    assert not [e for e in tree.events if "tree merge dropped" in e["event"]]
    assert tree.updates == flat.updates == rounds
    flat_params, tree_params = flat_agent.get_parameters(), tree_agent.get_parameters()
    for key in flat_params:
        np.testing.assert_array_equal(tree_params[key], flat_params[key], err_msg=key)
    _same_records(tree, flat)
    assert tree_agent.total_steps == flat_agent.total_steps == tree.env_steps
    assert tree.options["reduce"] == "tree" and tree.options["tree_fanin"] == fanin


@pytest.mark.cluster
def test_auto_uses_the_tree_from_the_threshold_on_and_never_with_backup_workers(client, monkeypatch):
    monkeypatch.setattr(sync, "TREE_AUTO_SLOTS", 4)
    _, _, below = _train(client, "auto", mode="sync", total_steps=3 * FRAGMENT, n_workers=3)
    _, _, above = _train(client, "auto", mode="sync", total_steps=4 * FRAGMENT, n_workers=4)
    _, _, backup = _train(client, "auto", mode="sync", total_steps=4 * FRAGMENT, n_workers=4, backup_workers=1)
    assert below == 0 and above >= 1 and backup == 0


@pytest.mark.cluster
def test_a_tree_run_checkpointed_midway_resumes_as_a_tree_and_equals_a_resumed_flat_run(client, tmp_path):
    # A resumed run rebuilds the slots' agents (fresh envs and optimizers), so it is compared with a
    # flat run cut and resumed at the same update, not with an uninterrupted one.
    small = {"num_envs": 1, "n_steps": 20, "hidden_sizes": (8,)}
    resumed = {}
    for reduce in ("flat", "tree"):
        kwargs = dict(total_steps=4 * 6 * 20, n_workers=6, reduce=reduce, tree_fanin=2, client=client, progress=False)
        where = tmp_path / reduce
        cut = train(A2C(ENV, seed=3, **small), "sync", checkpoint=where, on_update=lambda r: r.updates < 2, **kwargs)
        assert cut.updates == 2
        with get_task_stream(client) as stream:
            resumed[reduce] = resume(where, client=client, checkpoint=where / "resumed")
        merges = sum(str(t["key"]).startswith("drlkit-merge") for t in stream.data)
        assert resumed[reduce].options["reduce"] == reduce and resumed[reduce].options["tree_fanin"] == 2
        assert resumed[reduce].updates == 4 and (
            merges >= 2 * sum(map(len, tree_levels(6, 2))) if reduce == "tree" else merges == 0
        )
    flat, tree = (resumed[r].agent.get_parameters() for r in ("flat", "tree"))
    for key in flat:
        np.testing.assert_array_equal(tree[key], flat[key], err_msg=key)
    _same_records(resumed["tree"], resumed["flat"])


@pytest.mark.cluster
def test_a_tree_that_fails_falls_back_to_the_flat_merge_with_the_same_result(client, monkeypatch):
    # Leaves that cannot merge (merge_node given the leaf's arguments raises on the workers):
    # every round's root fails, so every round is merged on the driver -- with the same result.
    monkeypatch.setattr(sync, "merge_leaf", merge_node)
    kwargs = dict(mode="sync", total_steps=2 * 5 * FRAGMENT, n_workers=5, tree_fanin=2)
    flat_agent, flat, _ = _train(client, "flat", **kwargs)
    tree_agent, tree, merges = _train(client, "tree", **kwargs)
    dropped = [e for e in tree.events if "tree merge dropped" in e["event"]]
    assert merges >= 2 and len(dropped) == tree.updates == 2
    flat_params, tree_params = flat_agent.get_parameters(), tree_agent.get_parameters()
    for key in flat_params:
        np.testing.assert_array_equal(tree_params[key], flat_params[key], err_msg=key)
    _same_records(tree, flat)


@pytest.mark.cluster
def test_a_killed_worker_during_tree_rounds_loses_no_steps_and_no_parameters(client):
    n, rounds = 8, 12
    agent = A2C(ENV, seed=5)
    start = {k: v.copy() for k, v in agent.get_parameters().items()}
    result = train(
        agent,
        "sync",
        total_steps=rounds * n * FRAGMENT,
        n_workers=n,
        reduce="tree",
        tree_fanin=2,
        delays={s: 0.05 for s in range(n)},
        kill_worker_at=(0.6, 1),
        client=client,
        progress=False,
    )
    frame = result.to_frame()
    events = [e["event"] for e in result.events]
    assert "killed" in events
    assert (frame.moved | (frame.status == "lost")).sum() >= 1  # the kill hit the round in flight
    assert result.updates == rounds and result.env_steps == agent.total_steps >= rounds * n * FRAGMENT
    counts = result.counts()
    assert counts["submitted"] == len(frame) == counts["applied"] + counts["lost"]
    applied = frame[frame.status == "applied"]
    assert (applied.groupby("sync_round").size() == n).all()
    assert sorted(applied.sync_round.unique()) == list(range(rounds))
    assert applied.env_steps.sum() == result.env_steps
    params = agent.get_parameters()
    assert all(np.isfinite(v).all() for v in params.values())
    assert any(not np.array_equal(params[k], start[k]) for k in start)


# ------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "mode, options, names",
    [
        ("sync", {"reduce": "x"}, ["reduce", "'x'", "'auto', 'flat', 'tree'"]),
        ("sync_grad", {"reduce": 3}, ["reduce", "3"]),
        ("sync", {"tree_fanin": 1}, ["tree_fanin", "[2, 4096]", "1"]),
        ("sync", {"tree_fanin": 2.5}, ["tree_fanin", "integer"]),
        ("sync", {"reduce": "tree", "backup_workers": 1}, ["reduce='tree'", "backup_workers=1", "round_timeout"]),
        ("sync_grad", {"reduce": "tree", "round_timeout": 1.0}, ["reduce='tree'", "round_timeout=1.0"]),
        ("async", {"reduce": "tree"}, ["'reduce'", "'sync', 'sync_grad'"]),
        ("gossip", {"tree_fanin": 4}, ["'tree_fanin'"]),
    ],
)
def test_bad_reduce_options_name_the_field_before_the_cluster_is_touched(mode, options, names):
    with pytest.raises((ValueError, TypeError)) as error:
        train(A2C(ENV, seed=0), mode, total_steps=40, client="tcp://127.0.0.1:1", worker_timeout=1, **options)
    for name in names:
        assert name in str(error.value), (name, str(error.value))
