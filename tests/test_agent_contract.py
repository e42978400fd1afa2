"""The agent contract, checked for every registered algorithm at once.

Every class in ``drlkit.agents.base.ALGORITHMS`` -- today's five and every one added
later, wherever in the package it lives -- must: give the same History for the same seed
(and a different one for another seed), whatever the global RNGs hold; round-trip through
``save``/``drlkit.load`` acting and learning identically; reject a bad hyperparameter
with an error naming it (and suggest the right name for a misspelt one); log a History
with fixed columns; and beat a random policy.

How each algorithm is built for these tests is one :class:`AgentCase` in
``tests/agent_tools.py``; a registered algorithm without one fails
:func:`test_every_registered_algorithm_has_a_case`. Tests of an algorithm's own
mathematics stay in its own file (``test_ppo.py``, ``test_dqn.py``, ...).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import numpy as np
import pytest
import torch

import drlkit
from drlkit.agents.base import ALGORITHMS
from drlkit.agents.history import BASE_COLUMNS

from agent_tools import (
    AGENT_CASES,
    history_frame,
    one_thread,  # noqa: F401  (autouse fixture)
)


def _import_every_module() -> None:
    """Import all of drlkit, so that algorithms defined anywhere in it are registered."""
    for module in pkgutil.walk_packages(drlkit.__path__, "drlkit."):
        if module.name.split(".")[-1] not in ("__main__", "demo"):
            importlib.import_module(module.name)


_import_every_module()
NAMES = sorted(ALGORITHMS)


def supports(agent, hook: str) -> bool:
    """Whether ``agent``'s class implements ``hook`` (an algorithm may leave a distributed hook out)."""
    from drlkit.agents.base import Agent

    return getattr(type(agent), hook) is not getattr(Agent, hook)


def case_of(name: str, test: str):
    """The case of ``name``; skips the test when the case declares it not applicable."""
    case = AGENT_CASES.get(name)
    if case is None:
        pytest.fail(
            f"{name} is a registered algorithm without a contract case: add AGENT_CASES[{name!r}] "
            f"to tests/agent_tools.py"
        )
    if test in case.not_applicable:
        pytest.skip(f"{name}: {case.not_applicable[test]}")
    return case


def test_every_registered_algorithm_has_a_case():
    missing = sorted(set(ALGORITHMS) - set(AGENT_CASES))
    assert not missing, f"registered algorithms without a case in tests/agent_tools.py AGENT_CASES: {missing}"
    stale = sorted(set(AGENT_CASES) - set(ALGORITHMS))
    assert not stale, f"AGENT_CASES has cases for algorithms that are not registered: {stale}"
    assert {"PPO", "A2C", "TRPO", "REINFORCE", "DQN"} <= set(ALGORITHMS)


# ------------------------------------------------------------------ determinism
@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_history_and_different_seed_differs(name):
    case = case_of(name, "determinism")
    runs = [case.make(name, seed=s) for s in (3, 3, 4)]
    for agent in runs:
        agent.train(case.steps)
    first, same, other = (history_frame(agent) for agent in runs)
    assert first.equals(same)
    assert not first.equals(other)
    for key, value in runs[0].get_parameters().items():
        np.testing.assert_array_equal(runs[1].get_parameters()[key], value, err_msg=key)
    obs = case.sample_obs(runs[0], 8)
    np.testing.assert_array_equal(case.actions(runs[0], obs, False), case.actions(runs[1], obs, False))


@pytest.mark.parametrize("name", NAMES)
def test_global_random_state_does_not_change_training(name):
    case = case_of(name, "determinism")
    first = case.make(name, seed=2)
    first.train(case.steps // 2)
    np.random.seed(123)
    torch.manual_seed(123)
    second = case.make(name, seed=2)
    np.random.rand(10)
    torch.rand(10)
    second.train(case.steps // 2)
    assert history_frame(first).equals(history_frame(second))


# ------------------------------------------------------------------ checkpoints
@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip_acts_learns_and_continues_alike(name, tmp_path):
    case = case_of(name, "save_load")
    agent = case.make(name)
    agent.train(case.steps)
    path = agent.save(tmp_path / f"{name}.pt")
    saved_steps, saved_rows = agent.total_steps, len(agent.history)
    loaded = drlkit.load(path)
    assert type(loaded) is type(agent) and loaded.config == agent.config
    assert loaded.total_steps == agent.total_steps and loaded.seed == agent.seed
    assert history_frame(loaded).equals(history_frame(agent))
    for key, value in agent.get_parameters().items():
        np.testing.assert_array_equal(loaded.get_parameters()[key], value, err_msg=key)
    for net_name, optimizer in agent.optimizers().items():
        assert loaded.optimizers()[net_name].state_dict()["state"].keys() == optimizer.state_dict()["state"].keys()
    obs = case.sample_obs(agent)
    np.testing.assert_array_equal(case.actions(loaded, obs), case.actions(agent, obs))
    np.testing.assert_array_equal(case.actions(loaded, obs, False), case.actions(agent, obs, False))

    # The same fragment (collected by a third copy, so both keep their RNG states) gives the same update.
    if supports(agent, "collect") and supports(agent, "learn_from"):
        fragment = drlkit.load(path).collect(case.steps // 4)
        agent.learn_from(fragment)
        loaded.learn_from(fragment)
        for key, value in agent.get_parameters().items():
            np.testing.assert_array_equal(loaded.get_parameters()[key], value, err_msg=key)

    # Training continues from the checkpoint the same way every time it is loaded.
    again, once_more = drlkit.load(path), drlkit.load(path)
    for a in (again, once_more):
        a.train(case.steps // 2)
    assert again.total_steps >= saved_steps + case.steps // 2
    assert len(again.history) > saved_rows
    assert history_frame(again).equals(history_frame(once_more))


def test_load_rejects_what_is_not_a_checkpoint(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a drlkit checkpoint"):
        drlkit.load(bad)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        drlkit.load(tmp_path / "missing.pt")


# ------------------------------------------------------------------ bad input
def _bad_config_params():
    for name in NAMES:
        case = AGENT_CASES.get(name)
        for kwargs, field in case.bad_config if case else ():
            yield pytest.param(name, kwargs, field, id=f"{name}-{'-'.join(kwargs)}")


@pytest.mark.parametrize("name, kwargs, field", list(_bad_config_params()))
def test_bad_hyperparameter_error_names_the_field(name, kwargs, field):
    case = case_of(name, "bad_config")
    with pytest.raises((ValueError, TypeError), match=field):
        case.make(name, **kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_shared_hyperparameters_are_validated(name):
    case = case_of(name, "bad_config")
    for kwargs, field in [
        (dict(learning_rate=-1.0), "learning_rate"),
        (dict(gamma=1.5), "gamma"),
        (dict(hidden_sizes=()), "hidden_sizes"),
        (dict(activation="sigmoid"), "activation"),
    ]:
        with pytest.raises((ValueError, TypeError), match=field):
            case.make(name, **kwargs)
    with pytest.raises(ValueError, match="seed"):
        case.make(name, seed=-1)


@pytest.mark.parametrize("name", NAMES)
def test_misspelt_hyperparameter_gets_did_you_mean(name):
    """Every field of the algorithm's config: a misspelling names it; an alias from other libraries too."""
    case = case_of(name, "bad_config")
    cls = ALGORITHMS[name]
    fields = [f.name for f in dataclasses.fields(cls.Config)]
    for field in fields:
        with pytest.raises(TypeError, match=f"did you mean '{field}'"):
            cls(case.env, **{field + "s" if not field.endswith("s") else field[:-1]: 1})
    with pytest.raises(TypeError, match="did you mean 'learning_rate'"):
        cls(case.env, lr=1e-3)
    with pytest.raises(TypeError, match="Valid names: "):
        cls(case.env, no_such_knob=1)


@pytest.mark.parametrize("name", NAMES)
def test_bad_env_is_reported(name):
    case = case_of(name, "bad_env")
    cls = ALGORITHMS[name]
    with pytest.raises(ValueError, match="unknown gymnasium environment id 'Cartpole-v1'"):
        cls("Cartpole-v1")
    with pytest.raises(TypeError, match="env must be"):
        cls(42)
    agent = case.make(name)
    with pytest.raises(ValueError, match="total_steps"):
        agent.train(-10)
    if supports(agent, "collect"):
        with pytest.raises(ValueError, match="n_steps"):
            agent.collect(0)
    with pytest.raises(ValueError, match="obs"):
        agent.act(np.zeros(agent.observation_space.shape[0] + 1))
    with pytest.raises(TypeError, match="callbacks"):
        agent.train(10, callbacks=[1])
    assert agent.total_steps == 0 and len(agent.history) == 0


# ------------------------------------------------------------------ History
@pytest.mark.parametrize("name", NAMES)
def test_history_has_fixed_columns_and_every_update_logs_every_key(name):
    case = case_of(name, "history")
    agent = case.make(name)
    agent.train(case.steps)
    frame = agent.history.to_frame()
    assert list(frame.columns) == [*BASE_COLUMNS, *case.extra_columns(agent), *agent.LOG_KEYS]
    assert agent.LOG_KEYS and len(set(agent.LOG_KEYS)) == len(agent.LOG_KEYS)
    episodes, updates = frame[frame.event == "episode"], frame[frame.event == "update"]
    assert len(episodes) >= 2 and len(updates) >= 2 and len(episodes) + len(updates) == len(frame)
    assert (episodes.episode_length > 0).all() and episodes[list(agent.LOG_KEYS)].isna().all().all()
    assert updates.episode_return.isna().all()
    assert not updates[list(agent.LOG_KEYS)].isna().all().any(), "a logged key is never filled"
    assert (np.diff(frame.step.to_numpy()) >= 0).all() and frame.step.iloc[-1] <= agent.total_steps
    assert agent.total_steps >= case.steps
    # A fresh agent learning from a fragment returns exactly the logged keys (or nothing, if no update was due).
    learner = case.make(name)
    if supports(learner, "collect") and supports(learner, "learn_from"):
        metrics = learner.learn_from(learner.collect(case.steps))
        assert set(metrics) in (set(agent.LOG_KEYS), set())


@pytest.mark.parametrize("name", NAMES)
def test_a_callback_can_stop_training(name):
    case = case_of(name, "history")
    agent = case.make(name)
    calls = []
    agent.train(50 * case.steps, callbacks=lambda a: calls.append(a.total_steps) or len(calls) < 3)
    assert len(calls) == 3 and agent.total_steps == calls[-1] < 50 * case.steps


@pytest.mark.parametrize("name", NAMES)
def test_record_episode_hook_books_one_row_with_or_without_per_agent_returns(name):
    """The engine calls ``record_episode(..., agent_returns)`` on every algorithm: a single-agent
    History has no per-agent columns and ignores them, a multi-agent one keeps them."""
    from drlkit.agents.base import Timer

    case = case_of(name, "history")
    agent = case.make(name)
    extra = case.extra_columns(agent)
    timer = Timer(agent, 0, False)
    agent.record_episode(2.5, 7, timer, np.arange(1.0, max(len(extra), 1) + 1))
    agent.record_episode(-1.0, 3, timer)
    frame = agent.history.to_frame()
    assert list(frame.event) == ["episode", "episode"]
    assert list(frame.episode_return) == [2.5, -1.0] and list(frame.episode_length) == [7, 3]
    assert [frame[column].iloc[0] for column in extra] == list(np.arange(1.0, len(extra) + 1))
    assert frame[list(extra)].iloc[1].isna().all()


# ------------------------------------------------------------------ learning
def _learning_params():
    for name in NAMES:
        case = AGENT_CASES.get(name)
        for i, run in enumerate(case.learns if case else ()):
            marks = [pytest.mark.slow] if run.slow else []
            yield pytest.param(name, i, id=f"{name}-{i}", marks=marks)


@pytest.mark.parametrize("name, index", list(_learning_params()))
def test_beats_a_random_policy(name, index):
    case = case_of(name, "learns")
    run = case.learns[index]
    agent = ALGORITHMS[name](case.env, seed=run.seed, **run.config)
    agent.train(run.steps)
    score = agent.evaluate(10).mean()
    assert score > run.threshold, f"{name} {run.config}: mean return {score:.1f} after {run.steps} steps"


@pytest.mark.parametrize("name", NAMES)
def test_every_algorithm_has_a_learning_case(name):
    case = case_of(name, "learns")
    assert case.learns, f"AGENT_CASES[{name!r}].learns is empty: give at least one run that beats a random policy"


# ------------------------------------------------------------------ documentation
@pytest.mark.parametrize("name", NAMES)
def test_every_hyperparameter_is_documented_with_its_range_and_help_lists_it(name):
    """Each Config field has a ``#:`` comment where it is declared, and help(Algo) shows all of them."""
    import pydoc

    from drlkit.agents._config_doc import hyperparameter_docs

    cls = ALGORITHMS[name]
    docs = hyperparameter_docs(cls.Config)
    undocumented = [field for field, text in docs.items() if not text]
    assert not undocumented, f"{name}.Config fields without a '#:' comment where declared: {undocumented}"
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    for field, doc in docs.items():
        assert f"{field} : " in text, field
        # A range, a set of choices or a flag: something a user can check a value against.
        assert any(token in doc for token in ("[", "(", ">=", ">", "True or False", '"')), (field, doc)
