"""The checks of notebook 05's exercises accept right answers and name the mistake in wrong ones."""

import numpy as np
import pytest

from drlkit.distributed import DistributedResult, average_deltas, merge_weight, mix
from drlkit.exercises.distributed import check_async_merge, check_staleness, check_sync_merge


def verdict(check, fn, capsys, **kwargs):
    ok = check(fn, **kwargs)
    return ok, capsys.readouterr().out


# ------------------------------------------------------------- sync merge
def sync_right(theta, thetas):
    return theta + np.mean(thetas - theta, axis=0)


def sync_via_engine(theta, thetas):
    """The engine's merge on one-array parameter dicts: an independent right answer."""
    merged = average_deltas({"w": theta}, [{"w": t} for t in thetas])
    return merged["w"]


def sync_stub(theta, thetas):
    raise NotImplementedError


@pytest.mark.parametrize("fn", [sync_right, sync_via_engine, lambda t, ts: np.mean(ts, axis=0)])
def test_sync_merge_accepts_right_answers(fn, capsys):
    ok, out = verdict(check_sync_merge, fn, capsys)
    assert ok and out.startswith("Correct!")


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda t, ts: t + np.sum(ts - t, axis=0), "sum"),
        (lambda t, ts: np.mean(ts - t, axis=0), "add it to θ"),
        (lambda t, ts: (t + np.sum(ts, axis=0)) / (len(ts) + 1), "averaged θ together"),
        (lambda t, ts: ts[-1], "last worker"),
        (lambda t, ts: t, "did not change"),
        (lambda t, ts: t - np.mean(ts - t, axis=0), "away"),
        (lambda t, ts: np.mean(ts, axis=1), "shape"),
        (lambda t, ts: float(np.mean(ts)), "single number"),
        (sync_stub, "NotImplementedError"),
        (lambda t, ts: {"w": t}, "dict"),
        (lambda t, ts: t + np.mean(ts - t, axis=0) + (len(ts) == 3) * 0.5, "should be"),
    ],
)
def test_sync_merge_names_the_mistake(fn, hint, capsys):
    ok, out = verdict(check_sync_merge, fn, capsys)
    assert not ok
    assert out.startswith("Not yet:") and hint in out


def test_checks_reject_what_is_not_a_function(capsys):
    ok, out = verdict(check_sync_merge, np.zeros(3), capsys)
    assert not ok and "pass your function itself" in out


# ------------------------------------------------------------ async merge
def async_right(theta, theta_i, eta, staleness, staleness_aware):
    weight = eta / max(staleness, 1) if staleness_aware else eta
    return theta + weight * (theta_i - theta)


def async_via_engine(theta, theta_i, eta, staleness, staleness_aware):
    weight = merge_weight(eta, staleness, staleness_aware)
    return mix({"w": theta}, {"w": theta_i}, weight)["w"]


@pytest.mark.parametrize("fn", [async_right, async_via_engine])
def test_async_merge_accepts_right_answers(fn, capsys):
    ok, out = verdict(check_async_merge, fn, capsys)
    assert ok and out.startswith("Correct!")


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda t, ti, e, s, a: t + e * (ti - t), "shrink with the staleness"),
        (lambda t, ti, e, s, a: t + e / max(s, 1) * (ti - t), "whatever the staleness"),
        (lambda t, ti, e, s, a: t + (e / (s + 1) if a else e) * (ti - t), "τ + 1"),
        (lambda t, ti, e, s, a: t + (e * s if a else e) * (ti - t), "multiplied"),
        (lambda t, ti, e, s, a: ti + (e / max(s, 1) if a else e) * (t - ti), "towards the server"),
        (lambda t, ti, e, s, a: t + (e / max(s, 1) if a else e) * ti, "change"),
        (lambda t, ti, e, s, a: ti, "eta = 1 only"),
        (lambda t, ti, e, s, a: t + ((ti - t) / max(s, 1) if a else ti - t), "forgot eta"),
        # eta / staleness with a Python int staleness of 0 raises ZeroDivisionError...
        (lambda t, ti, e, s, a: t + (e / s if a else e) * (ti - t), "max(staleness, 1)"),
        # ... and with numpy numbers gives inf/nan instead.
        (lambda t, ti, e, s, a: t + (np.float64(e) / s if a else e) * (ti - t), "must be finite"),
    ],
)
def test_async_merge_names_the_mistake(fn, hint, capsys):
    ok, out = verdict(check_async_merge, fn, capsys)
    assert not ok
    assert out.startswith("Not yet:") and hint in out


# -------------------------------------------------------------- staleness
def staleness_right(start_versions, max_staleness=None):
    version, taus = 0, []
    for stamp in start_versions:
        taus.append(version - stamp)
        if max_staleness is None or taus[-1] <= max_staleness:
            version += 1
    return taus


def test_staleness_accepts_the_right_answer(capsys):
    ok, out = verdict(check_staleness, staleness_right, capsys)
    assert ok and out.startswith("Correct!")


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda v, cap=None: np.arange(len(v)) - np.asarray(v), "dropped ones too"),
        (lambda v, cap=None: np.asarray(staleness_right(v, cap)) + 1, "one too large"),
        (lambda v, cap=None: -np.asarray(staleness_right(v, cap)), "signs are flipped"),
        (lambda v, cap=None: [t for t in staleness_right(v, cap) if cap is None or t <= cap], "shape"),
        (lambda v: staleness_right(v), "TypeError"),  # forgot the max_staleness argument
    ],
)
def test_staleness_names_the_mistake(fn, hint, capsys):
    ok, out = verdict(check_staleness, fn, capsys)
    assert not ok
    assert out.startswith("Not yet:") and hint in out


def recorded_run(mode, versions, staleness, statuses, max_staleness=None):
    """A DistributedResult whose records are written out by hand (no cluster involved)."""
    result = DistributedResult(
        agent=None, mode=mode, n_workers=3, options={"max_staleness": max_staleness}, metric_keys=()
    )
    for version, tau, status in zip(versions, staleness, statuses):
        result.rows.append({"status": status, "worker": 0, "version": version, "staleness": tau})
    return result


def test_staleness_is_also_checked_against_a_run_with_drops(capsys):
    # The server goes to version 1, 2, stays at 2 (the third result, 2 updates stale, is dropped), 3, 4.
    # A cancelled task (staleness -1, never applied) must be ignored.
    run = recorded_run(
        "async",
        [0, 0, 0, 1, 2, 2],
        [0, 1, 2, 1, 1, -1],
        ["applied", "applied", "dropped", "applied", "applied", "cancelled"],
        max_staleness=1,
    )
    ok, out = verdict(check_staleness, staleness_right, capsys, result=run)
    assert ok and "5 results of the async run" in out


def test_a_run_the_function_does_not_reproduce_is_reported(capsys):
    # The records say the third result was 1 update stale; from the stamps it was 2.
    run = recorded_run("async", [0, 0, 0], [0, 1, 1], ["applied"] * 3)
    ok, out = verdict(check_staleness, staleness_right, capsys, result=run)
    assert not ok and "result 2" in out and "τ = 1 in the records but 2 from your function" in out


def test_a_synchronous_run_is_not_accepted_for_the_staleness_check(capsys):
    run = recorded_run("sync", [0, 0], [0, 0], ["applied", "applied"])
    ok, out = verdict(check_staleness, staleness_right, capsys, result=run)
    assert not ok and "asynchronous run" in out and "'sync'" in out
