"""The public learners: :func:`q_learning`, :func:`sarsa`, :func:`expected_sarsa`.

They validate their arguments, pick an engine and package the result:

* ``runs == 1`` -- the readable loop of :mod:`drlkit.tabular.one_run`, on any
  gymnasium env with Discrete spaces (an MDP is wrapped as one);
* ``runs > 1`` -- all runs at once with :mod:`drlkit.tabular.vectorised` when the
  model is known (an MDP, or a toy-text gymnasium env converted with
  :meth:`MDP.from_gymnasium`); otherwise the loop is repeated run after run.

``vectorised=True/False`` forces the choice.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._checks import DrlkitWarning, check_memory, check_number
from .environments import effective_step_limit, resolve_env
from .one_run import ALGORITHMS, learn_one_run
from .result import TabularConfig, TabularResult
from .schedules import FloatOrSchedule, schedule_values
from .vectorised import learn_runs

# Q_history beyond this many bytes is refused rather than exhausting a small machine's memory.
_MAX_HISTORY_BYTES = 512 * 2**20


def q_learning(
    env: Any,
    episodes: int = 500,
    *,
    alpha: FloatOrSchedule = 0.5,
    gamma: float = 0.99,
    epsilon: FloatOrSchedule = 0.1,
    seed: int | None = None,
    runs: int = 1,
    max_steps_per_episode: int | None = 10_000,
    Q0: float | np.ndarray = 0.0,
    vectorised: bool | None = None,
    record_q: bool = False,
) -> TabularResult:
    r"""Q-learning (off-policy TD control, Watkins 1989) with an ε-greedy behaviour policy.

    After each step :math:`(s, a, r, s')`:

    .. math:: Q(s,a) \leftarrow Q(s,a) + \alpha\,[\,r + \gamma \max_{a'} Q(s',a') - Q(s,a)\,]

    (the bracketed target is just :math:`r` when :math:`s'` is terminal). The
    target uses the greedy action whatever the agent does next, so ``Q``
    approaches the optimal :math:`Q^*` even while the agent keeps exploring.

    Parameters
    ----------
    env : str, gymnasium.Env, callable or drlkit.MDP
        A gymnasium id (``"CliffWalking-v1"``), an env or a callable making one,
        with Discrete observation and action spaces; or an :class:`~drlkit.MDP`.
    episodes : int
        Episodes per run, ``>= 1``.
    alpha : float or schedule
        Step size in (0, 1], or a schedule ``alpha(episode)`` (see
        :mod:`drlkit.tabular.schedules`).
    gamma : float
        Discount factor in [0, 1].
    epsilon : float or schedule
        Exploration rate in [0, 1], or a schedule ``epsilon(episode)``.
    seed : int, optional
        Same seed, same result. ``None`` draws one (stored in ``result.config.seed``).
    runs : int
        Independent runs, ``>= 1``; results gain a leading ``runs`` axis when > 1.
    max_steps_per_episode : int or None
        Cut an episode after this many steps (the env's own time limit also applies).
    Q0 : float or array (S, A)
        Initial action values (optimistic values encourage exploration).
    vectorised : bool, optional
        Force (``True``) or forbid (``False``) running all runs at once;
        by default they are when ``runs > 1`` and the model is known.
    record_q : bool
        Keep ``Q`` after every episode in ``result.Q_history``.

    Returns
    -------
    TabularResult
        ``Q``, ``returns``, ``lengths`` (see its docstring for shapes), ``config``,
        ``to_frame()``, ``greedy_policy()``.
    """
    return _learn("q_learning", **locals())


def sarsa(
    env: Any,
    episodes: int = 500,
    *,
    alpha: FloatOrSchedule = 0.5,
    gamma: float = 0.99,
    epsilon: FloatOrSchedule = 0.1,
    seed: int | None = None,
    runs: int = 1,
    max_steps_per_episode: int | None = 10_000,
    Q0: float | np.ndarray = 0.0,
    vectorised: bool | None = None,
    record_q: bool = False,
) -> TabularResult:
    r"""SARSA (on-policy TD control, Rummery & Niranjan 1994) with an ε-greedy policy.

    After each step :math:`(s, a, r, s', a')`, where :math:`a'` is the action the
    agent will take next (chosen ε-greedily before the update):

    .. math:: Q(s,a) \leftarrow Q(s,a) + \alpha\,[\,r + \gamma\, Q(s',a') - Q(s,a)\,]

    ``Q`` approaches the values of the ε-greedy policy itself, exploration
    included -- so near a cliff it learns to keep its distance.

    Parameters are those of :func:`q_learning`.
    """
    return _learn("sarsa", **locals())


def expected_sarsa(
    env: Any,
    episodes: int = 500,
    *,
    alpha: FloatOrSchedule = 0.5,
    gamma: float = 0.99,
    epsilon: FloatOrSchedule = 0.1,
    seed: int | None = None,
    runs: int = 1,
    max_steps_per_episode: int | None = 10_000,
    Q0: float | np.ndarray = 0.0,
    vectorised: bool | None = None,
    record_q: bool = False,
) -> TabularResult:
    r"""Expected SARSA (van Seijen et al. 2009) with an ε-greedy policy π.

    .. math:: Q(s,a) \leftarrow Q(s,a) + \alpha\,[\,r + \gamma \sum_{a'} \pi(a'|s')\, Q(s',a') - Q(s,a)\,]

    It learns the same values as SARSA but averages out the randomness of the
    next action, so it tolerates larger step sizes.

    Parameters are those of :func:`q_learning`.
    """
    return _learn("expected_sarsa", **locals())


def _learn(
    algorithm: str,
    *,
    env: Any,
    episodes: int,
    alpha: FloatOrSchedule,
    gamma: float,
    epsilon: FloatOrSchedule,
    seed: int | None,
    runs: int,
    max_steps_per_episode: int | None,
    Q0: float | np.ndarray,
    vectorised: bool | None,
    record_q: bool,
) -> TabularResult:
    assert algorithm in ALGORITHMS
    # Cheap scalar checks first, so a typo fails before an environment is built.
    episodes = check_number("episodes", episodes, low=1, integer=True)
    runs = check_number("runs", runs, low=1, integer=True)
    # returns and lengths per episode (8 bytes each) and the two schedules: before anything is allocated.
    check_memory(
        f"runs x episodes = {runs} x {episodes}",
        runs * episodes * 16 + episodes * 16,
        "use fewer runs or episodes (each run keeps one return and one length per episode)",
    )

    gamma = check_number("gamma", gamma, low=0, high=1)
    if max_steps_per_episode is not None:
        max_steps_per_episode = check_number("max_steps_per_episode", max_steps_per_episode, low=1, integer=True)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    else:
        seed = check_number("seed", seed, low=0, integer=True)
    for name, flag in (("vectorised", vectorised), ("record_q", record_q)):
        if flag is not None and not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    epsilons = schedule_values("epsilon", epsilon, episodes, low=0, high=1)
    alphas = schedule_values("alpha", alpha, episodes, low=0, high=1, low_open=True)

    tabular = resolve_env(env)
    check_memory(
        f"runs x S x A = {runs} x {tabular.n_states} x {tabular.n_actions} (the Q tables of env {tabular.label})",
        runs * tabular.n_states * tabular.n_actions * 8 * 3,
        "use fewer runs or a smaller environment",
    )
    Q0_array = action_values("Q0", Q0, tabular.n_states, tabular.n_actions)
    if record_q:
        size = runs * episodes * tabular.n_states * tabular.n_actions * 8
        if size > _MAX_HISTORY_BYTES:
            raise ValueError(
                f"record_q would keep {size / 2**20:.0f} MB of Q tables (runs x episodes x S x A); "
                f"the limit is {_MAX_HISTORY_BYTES // 2**20} MB: use fewer runs or episodes"
            )
    if vectorised is None:
        vectorised = runs > 1 and tabular.mdp is not None
    elif vectorised and tabular.mdp is None:
        raise TypeError(
            f"vectorised=True needs the model of env {tabular.label} (an MDP or a toy-text gymnasium env "
            "with env.unwrapped.P); use vectorised=False to run the loop once per run"
        )
    max_steps = effective_step_limit(max_steps_per_episode, tabular.time_limit)
    if max_steps is None:
        raise ValueError(
            f"max_steps_per_episode=None needs an env with its own time limit, and env {tabular.label} has none: "
            "an episode that never reaches a terminal state would never end. Give a number of steps "
            "(the default is 10000)"
        )

    if vectorised:
        assert tabular.mdp is not None  # checked above: the vectorised engine needs the model
        out = learn_runs(
            tabular.mdp,
            algorithm,
            runs,
            Q0_array,
            epsilons,
            alphas,
            gamma,
            max_steps,
            np.random.default_rng(seed),
            record_q,
        )
        if runs == 1:
            out.Q, out.returns, out.lengths = out.Q[0], out.returns[0], out.lengths[0]
            out.Q_history = None if out.Q_history is None else out.Q_history[0]
    else:
        outputs = []
        # One independent pair of streams (agent, env) per run, all derived from the seed.
        for run_seed in np.random.SeedSequence(seed).spawn(runs):
            agent_seed, env_seed = run_seed.spawn(2)
            outputs.append(
                learn_one_run(
                    tabular.env,
                    algorithm,
                    Q0_array,
                    epsilons,
                    alphas,
                    gamma,
                    max_steps,
                    np.random.default_rng(agent_seed),
                    int(env_seed.generate_state(1)[0]),
                    record_q,
                )
            )
        out = outputs[0]
        if runs > 1:
            out.Q = np.stack([o.Q for o in outputs])
            out.returns = np.stack([o.returns for o in outputs])
            out.lengths = np.stack([o.lengths for o in outputs])
            histories = [o.Q_history for o in outputs if o.Q_history is not None]
            out.Q_history = np.stack(histories) if record_q else None

    if max_steps is not None and np.all(np.asarray(out.lengths) >= max_steps) and not _ends_in_time(tabular, max_steps):
        warnings.warn(
            f"every episode of every run was cut at the step limit of {max_steps} steps without reaching a "
            f"terminal state of env {tabular.label}: the returns are those of truncated episodes. Check that the "
            "env has a reachable goal, or raise max_steps_per_episode",
            DrlkitWarning,
            stacklevel=3,
        )
    config = TabularConfig(
        algorithm=algorithm,
        env=tabular.label,
        episodes=episodes,
        alpha=alpha if callable(alpha) else float(alpha),
        gamma=gamma,
        epsilon=epsilon if callable(epsilon) else float(epsilon),
        seed=seed,
        runs=runs,
        max_steps_per_episode=max_steps_per_episode,
        Q0=float(Q0) if np.ndim(Q0) == 0 else f"array {np.shape(Q0)}",
        vectorised=bool(vectorised),
    )
    return TabularResult(config, out.Q, out.returns, out.lengths, epsilons, alphas, out.Q_history)


def action_values(name: str, value: Any, n_states: int, n_actions: int, *, fill: bool = True) -> np.ndarray:
    """``value`` as an ``(S, A)`` float array of finite numbers; errors name ``name``.

    With ``fill`` (an initial table such as ``Q0``) a number fills the table; without it
    (a reference table such as ``Q_star``) only an array of that shape is accepted.
    """
    if fill and np.ndim(value) == 0:
        return np.full((n_states, n_actions), float(check_number(name, value)))
    expected = f"{'a number or ' if fill else ''}an array of shape (S, A) = ({n_states}, {n_actions})"
    try:
        table = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be {expected}") from None
    if table.shape != (n_states, n_actions):
        if fill:
            raise ValueError(f"{name} must be {expected}; got shape {table.shape}")
        raise ValueError(f"{name} must have shape (S, A) = ({n_states}, {n_actions}); got {table.shape}")
    if not np.isfinite(table).all():
        raise ValueError(f"{name} must contain only finite numbers")
    return table


def _ends_in_time(tabular: Any, max_steps: int) -> bool:
    """Whether the step limit is the env's own time limit (its truncation is a normal ending)."""
    return tabular.time_limit is not None and tabular.time_limit <= max_steps
