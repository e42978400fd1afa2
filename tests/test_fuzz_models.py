"""Fuzz: MDP construction, gridworld maps, planning and the tabular learners.

Every call is bounded in time and may only return or raise a documented exception
(ValueError, TypeError, drlkit's ConvergenceError) whose message names the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
from fuzz_tools import call_cleanly, fuzz_settings, junk, maybe_junk, numbers, perturbed
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from drlkit import MDP, planning, tabular
from drlkit.envs import gridworld

MDP_ARGS = ("P", "R", "terminal", "start", "state_names", "action_names", "layout", "grid")


def random_model(seed: int, S: int, A: int, n_terminal: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S) * 0.5, size=(S, A))
    R = rng.normal(size=(S, A))
    terminal = np.zeros(S, dtype=bool)
    terminal[rng.choice(S, size=min(n_terminal, S - 1), replace=False)] = True
    return P, R, terminal


def small_mdp(seed: int, S: int, A: int) -> MDP:
    P, R, terminal = random_model(seed, S, A)
    return MDP(P, R, terminal=terminal)


def wild_floats(low: float, high: float) -> st.SearchStrategy:
    """Floats in [low, high], and sometimes NaN or an infinity."""
    return st.one_of(st.floats(low, high), st.sampled_from([float("nan"), float("inf"), -float("inf")]))


@st.composite
def float_arrays(draw, shape):
    elements = wild_floats(-2, 2)
    return draw(hnp.arrays(np.float64, shape, elements=elements))


@st.composite
def mdp_arguments(draw):
    S, A = draw(st.integers(0, 4)), draw(st.integers(0, 3))
    seed = draw(st.integers(0, 2**16))
    if S >= 2 and A >= 1:
        P, R, terminal = random_model(seed, S, A)
    else:
        P, R, terminal = np.zeros((S, A, S)), np.zeros((S, A)), np.zeros(S, bool)
    kwargs = {"P": P, "R": R}
    # Perturb some of the arguments: wrong shape, wrong values, wrong type.
    if draw(st.booleans()):
        kwargs["P"] = draw(
            st.one_of(
                junk(),
                float_arrays(st.sampled_from([(S, A, S), (S, A), (2, 2, 3)])),
                st.just(P * 2),
                st.just(-P),
                st.just(P.tolist()),
            )
        )
    if draw(st.booleans()):
        kwargs["R"] = draw(
            st.one_of(junk(), float_arrays(st.sampled_from([(S, A), (S, A, S), (A, S)])), st.just(R.tolist()))
        )
    kwargs["terminal"] = draw(
        st.one_of(
            st.just(terminal),
            st.just(terminal.astype(int).tolist()),
            st.just(np.flatnonzero(terminal).tolist()),
            st.lists(st.integers(-2, S + 1), max_size=S + 1),
            st.lists(st.booleans(), max_size=S + 1),
            st.lists(wild_floats(-1, S), max_size=3),
            junk(),
        )
    )
    if draw(st.booleans()):
        kwargs["start"] = draw(
            st.one_of(st.integers(-1, S), numbers(), junk(), float_arrays(st.sampled_from([(S,), (S + 1,)])))
        )
    if draw(st.booleans()):
        kwargs["state_names"] = draw(st.one_of(junk(), st.lists(st.text(max_size=2), max_size=S + 1)))
    if draw(st.booleans()):
        kwargs["action_names"] = draw(st.one_of(junk(), st.lists(st.text(max_size=2), max_size=A + 1)))
    if draw(st.booleans()):
        kwargs["layout"] = draw(
            st.one_of(
                junk(), st.tuples(st.integers(-1, 4), st.integers(-1, 4)), st.tuples(st.floats(0, 3), st.integers(0, 3))
            )
        )
    return kwargs


@fuzz_settings(120)
@given(mdp_arguments())
def test_mdp_construction(kwargs):
    mdp, error = call_cleanly(lambda: MDP(**kwargs), MDP_ARGS, seconds=10)
    if error is None:
        S = mdp.n_states
        assert mdp.P.shape == (S, mdp.n_actions, S) and mdp.terminal.shape == (S,) and mdp.terminal.dtype == bool
        assert np.allclose(mdp.P.sum(axis=2), 1.0) and np.isclose(mdp.start.sum(), 1.0)


MAP_CHARS = "SGHC#.F"


@fuzz_settings(80)
@given(
    text_map=st.one_of(
        st.lists(st.text(alphabet=MAP_CHARS + "xs ", min_size=0, max_size=5), max_size=4),
        st.lists(st.text(alphabet=MAP_CHARS, min_size=3, max_size=3), min_size=1, max_size=3).map(
            lambda rows: ["S" + r[1:] if i == 0 else r.replace("S", ".") for i, r in enumerate(rows)]
        ),
        st.text(alphabet=MAP_CHARS + "\n ", max_size=16),
        junk(),
    ),
    slip=maybe_junk(st.floats(0, 1)),
    rewards=st.dictionaries(
        st.sampled_from(["step_reward", "goal_reward", "hole_reward", "cliff_reward"]),
        maybe_junk(st.floats(-5, 5)),
        max_size=2,
    ),
    continuing=st.one_of(st.booleans(), junk()),
)
def test_gridworld_maps_then_plan_and_learn(text_map, slip, rewards, continuing):
    names = ("text_map", "slip", "continuing", *rewards)
    mdp, error = call_cleanly(lambda: gridworld(text_map, slip=slip, continuing=continuing, **rewards), names)
    if error is not None:
        return
    # A map that was accepted can be planned and learned on, within a bound.
    result, _ = call_cleanly(lambda: planning.value_iteration(mdp, 0.9), ("gamma",))
    assert result.V.shape == (mdp.n_states,)
    learned, _ = call_cleanly(lambda: tabular.q_learning(mdp, episodes=3, max_steps_per_episode=50, seed=0), ("env",))
    assert learned.returns.shape == (3,)


PLANNING = {
    "policy_evaluation": (planning.policy_evaluation, ("policy", "gamma", "tol", "max_iterations")),
    "value_iteration": (planning.value_iteration, ("gamma", "tol", "max_iterations")),
    "policy_iteration": (
        planning.policy_iteration,
        ("gamma", "initial_policy", "tol", "max_iterations", "max_evaluation_sweeps"),
    ),
}
BAD_POLICY = st.one_of(
    junk(),
    st.lists(st.integers(-1, 3), max_size=6),
    hnp.arrays(np.float64, st.sampled_from([(5, 3), (5,), (3, 3)]), elements=wild_floats(-1, 2)),
)


@fuzz_settings(100)
@given(
    seed=st.integers(0, 2**16),
    S=st.integers(2, 5),
    A=st.integers(1, 3),
    method=st.sampled_from(sorted(PLANNING)),
    args=perturbed(
        good={"gamma": st.floats(0, 0.99), "tol": st.floats(1e-8, 0.1), "max_iterations": st.integers(3000, 5000)},
        bad={
            "gamma": maybe_junk(st.floats(0, 1)),
            "tol": maybe_junk(st.floats(0, 1)),
            "max_iterations": maybe_junk(st.integers(0, 3)),
            "policy": BAD_POLICY,
            "mdp": junk(),
        },
    ),
)
def test_planning(seed, S, A, method, args):
    kwargs, bad = args
    function, accepted = PLANNING[method]
    mdp = kwargs.pop("mdp") if "mdp" in kwargs else small_mdp(seed, S, A)
    policy = kwargs.pop("policy", None)
    if "policy" in accepted:
        default = np.zeros(mdp.n_states if isinstance(mdp, MDP) else 1, dtype=int)
        kwargs["policy"] = default if policy is None else policy
    elif "initial_policy" in accepted and policy is not None:
        kwargs["initial_policy"] = policy
    if method == "policy_iteration" and "max_iterations" in kwargs:
        kwargs["max_evaluation_sweeps"] = kwargs["max_iterations"]
    names = [n for n in bad if n != "policy"] + (["policy", "initial_policy"] if "policy" in bad else [])
    result, error = call_cleanly(lambda: function(mdp, **kwargs), names + ["max_evaluation_sweeps"], seconds=20)
    if error is None:
        assert np.isfinite(result.V).all() and result.policy.shape == (mdp.n_states,)
    else:
        assert bad, f"valid arguments refused: {error}"


LEARNERS = {"q_learning": tabular.q_learning, "sarsa": tabular.sarsa, "expected_sarsa": tabular.expected_sarsa}


def schedules():
    return st.one_of(
        st.floats(0.01, 1).map(lambda v: lambda episode: v),
        st.builds(tabular.LinearDecay, st.floats(0.01, 1), st.floats(0.01, 1), st.integers(1, 5)),
        st.builds(tabular.ExponentialDecay, st.floats(0.01, 1), st.floats(0.01, 1), st.floats(0.5, 1)),
    )


def bad_schedules():
    return st.one_of(
        st.floats(-1, 2).map(lambda v: lambda episode: v),
        st.just(lambda: 0.1),
        st.just(lambda episode: "x"),
        st.just(lambda episode: 1 / (episode - 1) if episode != 1 else float("nan")),
        st.builds(tabular.LinearDecay, st.floats(0, 1), st.floats(0, 1), st.integers(1, 5)),
        st.builds(tabular.ExponentialDecay, st.floats(0, 1), st.floats(0, 1), st.floats(0.5, 1)),
    )


@fuzz_settings(80)
@given(
    learner=st.sampled_from(sorted(LEARNERS)),
    env_name=st.sampled_from(["maze", "FrozenLake-v1", "no goal"]),
    args=perturbed(
        good={
            "episodes": st.integers(1, 12),
            "alpha": st.floats(0.01, 1) | schedules(),
            "epsilon": st.floats(0, 1) | schedules(),
            "gamma": st.floats(0, 1),
            "seed": st.integers(0, 2**32),
            "runs": st.integers(1, 3),
            "max_steps_per_episode": st.integers(1, 60),
        },
        bad={
            "env": st.one_of(st.sampled_from(["CartPole-v1", "FrozenLak-v1", "", "ALE/Pong-v5"]), junk()),
            "episodes": maybe_junk(st.integers(-1, 0)) | st.sampled_from([10**12, 0]),
            "runs": maybe_junk(st.integers(-1, 0)) | st.sampled_from([10**9, 10**12]),
            "alpha": maybe_junk(st.floats(-1, 2)) | bad_schedules(),
            "epsilon": maybe_junk(st.floats(-1, 2)) | bad_schedules(),
            "gamma": maybe_junk(st.floats(-1, 2)),
            "seed": maybe_junk(st.integers(-5, -1)),
            "max_steps_per_episode": st.one_of(st.integers(-1, 0), junk()),
            "Q0": st.one_of(
                numbers(),
                junk(),
                hnp.arrays(np.float64, st.sampled_from([(9, 4), (16, 4), (2,)]), elements=wild_floats(-1, 1)),
            ),
            "vectorised": st.one_of(st.booleans(), junk()),
            "record_q": st.one_of(st.booleans(), junk()),
        },
    ),
)
def test_tabular_learners(learner, env_name, args):
    kwargs, bad = args
    env = kwargs.pop("env", None)
    if "env" not in bad:
        env = {
            "maze": lambda: gridworld(["S..", ".#.", "..G"], slip=0.1),
            "FrozenLake-v1": lambda: "FrozenLake-v1",
            "no goal": lambda: gridworld(["S..", "..."], continuing=True),
        }[env_name]()
    names = list(bad) + (["runs x episodes", "runs x S x A"] if {"runs", "episodes"} & set(bad) else [])
    result, error = call_cleanly(lambda: LEARNERS[learner](env, **kwargs), names, seconds=30)
    if error is None:
        assert np.isfinite(result.Q).all()
        runs = kwargs["runs"]
        assert result.returns.shape == ((kwargs["episodes"],) if runs == 1 else (runs, kwargs["episodes"]))
    else:
        assert bad, f"valid arguments refused: {error}"


@pytest.mark.parametrize("learner", sorted(LEARNERS))
def test_tabular_bounded_without_terminal_states(learner):
    # No reachable terminal state: every episode runs to the cap, which must exist.
    mdp = gridworld(["S..", "..."], continuing=True)
    _result, error = call_cleanly(
        lambda: LEARNERS[learner](mdp, episodes=2, max_steps_per_episode=None), ("max_steps_per_episode",), seconds=10
    )
    assert error is not None and "time limit" in str(error)


@fuzz_settings(80)
@given(
    seed=st.integers(0, 2**16),
    function=st.sampled_from(
        ["q_values", "greedy_policy", "bellman_optimality_backup", "bellman_expectation_backup", "greedy_path"]
    ),
    args=perturbed(
        good={"gamma": st.floats(0, 1)},
        bad={
            "V": st.one_of(
                junk(), hnp.arrays(np.float64, st.sampled_from([(4,), (3,), (4, 2)]), elements=wild_floats(-1, 1))
            ),
            "gamma": maybe_junk(st.floats(-1, 2)),
            "policy": BAD_POLICY,
            "mdp": junk(),
            "start": maybe_junk(st.integers(-1, 5)),
            "max_steps": maybe_junk(st.integers(-1, 5)),
        },
    ),
)
def test_planning_helpers(seed, function, args):
    kwargs, bad = args
    mdp = kwargs.pop("mdp") if "mdp" in kwargs else small_mdp(seed, 4, 2)
    V = kwargs.pop("V") if "V" in kwargs else np.zeros(4)
    policy = kwargs.pop("policy") if "policy" in kwargs else np.zeros(4, dtype=int)
    gamma = kwargs["gamma"]
    calls = {
        "q_values": lambda: planning.q_values(mdp, V, gamma),
        "greedy_policy": lambda: planning.greedy_policy(mdp, V, gamma),
        "bellman_optimality_backup": lambda: planning.bellman_optimality_backup(mdp, V, gamma),
        "bellman_expectation_backup": lambda: planning.bellman_expectation_backup(mdp, V, policy, gamma),
        "greedy_path": lambda: tabular.greedy_path(
            mdp, policy, start=kwargs.get("start"), max_steps=kwargs.get("max_steps")
        ),
    }
    _, error = call_cleanly(calls[function], [*bad, "policy"], seconds=10)
    if error is not None:
        assert bad, f"valid arguments refused: {error}"
