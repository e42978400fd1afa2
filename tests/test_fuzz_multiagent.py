"""Fuzz: the multi-agent entry points -- matrix-game learners, the PettingZoo env resolution,
the deep learners' construction and ``act``.

Every call is bounded in time and may only return or raise a documented exception whose
message names the argument (or the agent id) at fault.
"""

from __future__ import annotations

import numpy as np
from fuzz_tools import call_cleanly, fuzz_settings, junk, maybe_junk, numbers, perturbed
from hypothesis import given
from hypothesis import strategies as st

from drlkit.envs.coop_grid import positions_from_observations
from drlkit.multiagent import (
    MAPPO,
    critic_input,
    fictitious_play,
    independent_q_learning,
    iql_update,
    make_parallel_env,
)
from drlkit.widgets.multiagent import explore_independent_learners

from agent_tools import one_thread  # noqa: F401  (autouse fixture)

GAMES = st.sampled_from(["prisoners_dilemma", "stag_hunt", "coordination", "matching_pennies", "rock_paper_scissors"])


@fuzz_settings(ci_examples=10)
@given(
    perturbed(
        good={"game": GAMES, "steps": st.integers(1, 50), "runs": st.integers(1, 8), "alpha": st.floats(0.01, 1)},
        bad={"game": maybe_junk(GAMES), "steps": numbers(-5, 50), "runs": numbers(-5, 8), "alpha": numbers(-1, 2)},
    )
)
def test_independent_q_learning_on_careless_input(args):
    kwargs, names = args
    _, error = call_cleanly(lambda: independent_q_learning(**kwargs), names or ["game"])
    assert error is None or names, f"valid input {kwargs} raised {error!r}"


@fuzz_settings(ci_examples=5)
@given(game=maybe_junk(GAMES), steps=numbers(-5, 40))
def test_fictitious_play_on_careless_input(game, steps):
    call_cleanly(lambda: fictitious_play(game, steps=steps), ["game", "steps"])


@fuzz_settings(ci_examples=5)
@given(
    env=st.one_of(junk(), st.sampled_from(["coop_grid", "no.such.module", "numpy", "numpy.zeros", ""])),
    env_kwargs=st.one_of(
        st.none(),
        st.just({"n_agents": 2}),
        st.dictionaries(st.sampled_from(["n_agents", "size", "bogus"]), numbers(-2, 6), max_size=2),
    ),
)
def test_make_parallel_env_on_careless_input(env, env_kwargs):
    call_cleanly(lambda: make_parallel_env(env, env_kwargs), ["env", "env_kwargs", "n_agents", "size", "bogus"])


_TEAM = None


def _team():
    global _TEAM
    if _TEAM is None:
        _TEAM = MAPPO(
            "coop_grid", env_kwargs=dict(n_agents=2, size=4), num_envs=1, n_steps=4, batch_size=4, hidden_sizes=(8,)
        )
    return _TEAM


@fuzz_settings(ci_examples=10)
@given(
    obs=st.one_of(
        junk(),
        st.dictionaries(
            st.sampled_from(["agent_0", "agent_1", "agent_9", "x"]),
            st.one_of(junk(), st.just(np.zeros(8)), st.just(np.ones(3))),
            max_size=3,
        ),
    )
)
def test_act_on_careless_input(obs):
    extra = (KeyError,)  # an unknown agent id is a KeyError naming it
    result, error = call_cleanly(lambda: _team().act(obs), ["obs", "agent_0", "agent_1", "agent_9", "x"], extra=extra)
    if error is None:
        assert set(result) == set(obs)


# --- the pieces notebook 09 shows: one learning step, the critic's input, positions, the explorer widget


def _arrays(shape_q=(3, 2, 2)):
    runs, _, k = shape_q
    return st.fixed_dictionaries(
        {
            "Q": st.one_of(junk(), st.just(np.zeros(shape_q)), st.just(np.zeros((runs, 3, k))), st.just(np.zeros(4))),
            "actions": st.one_of(
                junk(),
                st.just(np.zeros((runs, 2), dtype=int)),
                st.just(np.full((runs, 2), k)),
                st.just(np.zeros((runs, 2))),
                st.just(-np.ones((runs, 2), dtype=int)),
            ),
            "rewards": st.one_of(junk(), st.just(np.ones((runs, 2))), st.just(np.ones(runs))),
            "alpha": numbers(-1, 2),
        }
    )


@fuzz_settings(ci_examples=15)
@given(kwargs=_arrays())
def test_iql_update_on_careless_input(kwargs):
    result, error = call_cleanly(lambda: iql_update(**kwargs), ["Q", "actions", "rewards", "alpha"])
    if error is None:
        assert result.shape == np.asarray(kwargs["Q"]).shape


@fuzz_settings(ci_examples=10)
@given(state=st.one_of(junk(), st.just(np.arange(6.0)), st.just([[1.0, 2.0]])), n_agents=numbers(-2, 6))
def test_critic_input_on_careless_input(state, n_agents):
    result, error = call_cleanly(lambda: critic_input(state, n_agents), ["state", "n_agents"])
    if error is None:
        assert result.shape[0] == n_agents


@fuzz_settings(ci_examples=10)
@given(
    obs=st.one_of(junk(), st.just(np.zeros((3, 2, 10))), st.just(np.zeros((3, 2, 4))), st.just(np.zeros((2, 2)))),
    size=numbers(-2, 8),
)
def test_positions_from_observations_on_careless_input(obs, size):
    call_cleanly(lambda: positions_from_observations(obs, size), ["observations", "size"])


@fuzz_settings(ci_examples=8)
@given(
    perturbed(
        good={
            "game": GAMES,
            "steps": st.integers(1, 30),
            "runs": st.integers(1, 4),
            "alpha": st.floats(0.01, 1),
            "epsilon": st.floats(0, 1),
        },
        bad={
            "game": maybe_junk(GAMES),
            "steps": numbers(-5, 30),
            "runs": numbers(-5, 4),
            "alpha": numbers(-1, 2),
            "epsilon": numbers(-1, 2),
        },
    )
)
def test_independent_learners_explorer_on_careless_input(args):
    kwargs, names = args
    _, error = call_cleanly(lambda: explore_independent_learners(**kwargs), names or ["game"])
    assert error is None or names, f"valid input {kwargs} raised {error!r}"


# --- the environments' joint actions: an action index is an integer in range, never truncated or parsed
@fuzz_settings(80)
@given(
    env_name=st.sampled_from(["prisoners_dilemma", "coop_grid"]),
    action=st.one_of(st.integers(-3, 7), numbers(-3, 7), junk(), st.sampled_from([1.7, "1", np.float64(1.0)])),
    which=st.integers(0, 1),
)
def test_joint_actions_are_integers_in_range_or_refused_naming_agent_value_and_range(env_name, action, which):
    from drlkit.envs.coop_grid import coop_grid
    from drlkit.envs.matrix_games import prisoners_dilemma

    env = prisoners_dilemma() if env_name == "prisoners_dilemma" else coop_grid(n_agents=2, size=4)
    env.reset(seed=0)
    agents = list(env.agents)
    n = env.action_space(agents[0]).n
    actions = {agent: 0 for agent in agents}
    actions[agents[which]] = action
    integer = isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_))
    _, error = call_cleanly(lambda: env.step(actions), [repr(agents[which])])
    if integer and 0 <= action < n:
        assert error is None, error
    else:
        assert error is not None, f"{action!r} was accepted as an action"
        message = str(error)
        assert f"an integer in [0, {n - 1}]" in message and repr(action) in message, message
        assert isinstance(error, ValueError if integer else TypeError), message
