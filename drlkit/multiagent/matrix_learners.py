"""Learning in repeated matrix games: independent Q-learners, fictitious play, gradient ascent.

**Independent Q-learning** (Claus & Boutilier 1998, "The Dynamics of
Reinforcement Learning in Cooperative Multiagent Systems"). Each player keeps
action values for its own actions only and treats the other player as part of
the environment. In a repeated one-shot game there is no state, so with
discount 0 the update is

.. math::
    Q_k(a_k) \\leftarrow Q_k(a_k) + \\alpha\\,\\big(r_k - Q_k(a_k)\\big)

and each player acts ε-greedily. The reward :math:`r_k = A_{a_0 a_1}` (or
:math:`B`) depends on the *other* player's action, whose policy keeps
changing: each learner's environment is non-stationary -- the central
difficulty of multi-agent RL. :func:`independent_q_learning` runs ``runs``
independent pairs of learners at once, as :mod:`drlkit.tabular` does for MDPs:
``Q`` has shape ``(runs, 2, n_actions)``.

**Fictitious play** (Brown 1951; Robinson 1951). Each player best-responds to
the empirical frequencies of the other's past actions:
:math:`a_0^{t} = \\arg\\max_i (A \\bar y^{t})_i`. In two-player zero-sum games the
empirical frequencies converge to a Nash equilibrium (Robinson 1951), while the
actions themselves keep cycling -- visible in rock-paper-scissors.

**Projected gradient ascent** on the policy simplex (Singh, Kearns & Mansour
2000, "Nash Convergence of Gradient Dynamics in General-Sum Games"). Each
player climbs its expected payoff :math:`x^\\top A y` in its own strategy:

.. math::
    x \\leftarrow \\Pi_\\Delta(x + \\eta\\, A y), \\qquad
    y \\leftarrow \\Pi_\\Delta(y + \\eta\\, B^\\top x)

(:math:`\\Pi_\\Delta` the Euclidean projection onto the simplex). In the
prisoner's dilemma it converges to mutual defection; in matching pennies the
strategies circle the mixed equilibrium (and with a finite step spiral
outwards) instead of converging to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import check_number
from ..envs.matrix_games import MatrixGame, get_game
from ..tabular.vectorised import epsilon_greedy_batch

#: Largest ``steps`` a matrix-game learner accepts (their trajectories are kept in memory).
MAX_STEPS = 1_000_000


@dataclass
class MatrixRunResult:
    """What :func:`independent_q_learning` returns.

    ``actions (steps, runs, 2)`` the joint actions played; ``rewards (steps, runs, 2)``;
    ``Q (runs, 2, n_actions)`` the final action values (column player's padded with
    ``-inf`` if it has fewer actions); ``greedy (steps, runs, 2)`` each player's greedy
    action after each step; ``game`` the game; ``epsilons (steps,)`` the exploration rate of
    each step; ``Q_trace (steps + 1, traced, 2, n_actions)`` the action values of the first
    ``traced`` runs before the first step and after every step.
    """

    game: MatrixGame
    actions: np.ndarray
    rewards: np.ndarray
    Q: np.ndarray
    greedy: np.ndarray
    epsilons: np.ndarray | None = None
    Q_trace: np.ndarray | None = None

    def policies(self) -> np.ndarray:
        """Each traced run's ε-greedy policies before each step, ``(steps, traced, 2, max(n, m))``:
        the probability that each player plays each of its actions (ties in Q share the greedy part)."""
        if self.Q_trace is None or self.epsilons is None:
            raise ValueError("this result has no Q_trace: run independent_q_learning with trace_runs >= 1")
        Q = self.Q_trace[:-1]
        k = Q.shape[-1]
        is_best = Q == Q.max(axis=-1, keepdims=True)
        greedy = is_best / is_best.sum(axis=-1, keepdims=True)
        explore = np.zeros((2, k))
        for player, n_actions in enumerate(self.game.shape):  # a random action past a player's last is clamped
            explore[player, :n_actions] = 1.0 / k
            explore[player, n_actions - 1] += (k - n_actions) / k
        eps = self.epsilons[:, None, None, None]
        return (1.0 - eps) * greedy + eps * explore

    def expected_payoffs(self) -> np.ndarray:
        """What each player's Q-values chase: the expected payoff of each of its actions against the
        other player's current ε-greedy policy, ``(steps, traced, 2, max(n, m))`` (``A y`` and ``Bᵀ x``;
        padding ``nan``). It moves whenever the other player learns: the non-stationarity."""
        pi = self.policies()
        n, m = self.game.shape
        out = np.full(pi.shape, np.nan)
        out[..., 0, :n] = pi[..., 1, :m] @ self.game.A.T
        out[..., 1, :m] = pi[..., 0, :n] @ self.game.B
        return out

    def final_greedy(self) -> np.ndarray:
        """Each run's greedy joint action at the end, ``(runs, 2)``."""
        return self.greedy[-1]

    def outcome_frequencies(self) -> np.ndarray:
        """Fraction of runs ending with each greedy joint action, ``(n, m)``."""
        n, m = self.game.shape
        counts = np.zeros((n, m))
        np.add.at(counts, (self.greedy[-1, :, 0], self.greedy[-1, :, 1]), 1)
        return counts / counts.sum()

    def action_frequencies(self, window: int = 100, runs: Any = None) -> np.ndarray:
        """Per step, the fraction of runs in which each player played each action, smoothed over
        ``window`` steps: ``(steps, 2, max(n, m))``. ``runs``: the run indices to count (default all);
        ``runs=[r]`` gives run ``r``'s own recent play, a point moving on the policy simplex."""
        steps = len(self.actions)
        k = max(self.game.shape)
        if runs is None:
            played = self.actions
        else:
            index = np.atleast_1d(np.asarray(runs))
            if (
                index.size == 0
                or index.dtype.kind not in "iu"
                or index.min() < 0
                or index.max() >= self.actions.shape[1]
            ):
                raise ValueError(f"runs must be indices of runs in [0, {self.actions.shape[1]}); got {runs!r}")
            played = self.actions[:, index]
        onehot = np.zeros((steps, 2, k))
        for p in range(2):
            for a in range(k):
                onehot[:, p, a] = (played[:, :, p] == a).mean(axis=1)
        window = int(max(1, min(window, steps)))
        kernel = np.ones(window) / window
        smooth = np.empty_like(onehot)
        for p in range(2):
            for a in range(k):
                full = np.convolve(onehot[:, p, a], kernel, mode="full")[:steps]
                counts = np.minimum(np.arange(1, steps + 1), window)
                smooth[:, p, a] = full * window / counts
        return smooth


def iql_update(Q: np.ndarray, actions: np.ndarray, rewards: np.ndarray, alpha: float) -> np.ndarray:
    """One round of independent Q-learning for every run: a new ``Q (runs, 2, k)``.

    ``actions (runs, 2)`` the joint actions played, ``rewards (runs, 2)`` each player's payoff.
    Each player moves the value of *its own* action only, towards *its own* reward:
    :math:`Q_k(a_k) \\leftarrow Q_k(a_k) + \\alpha (r_k - Q_k(a_k))`; the other player's
    action enters only through :math:`r_k`. ``Q`` is not modified.
    """
    Q, actions, rewards = _iql_arrays(Q, actions, rewards)
    alpha = check_number("alpha", alpha, low=0, high=1)
    runs = np.arange(Q.shape[0])
    for player in range(2):
        played = actions[:, player]
        Q[runs, player, played] += alpha * (rewards[:, player] - Q[runs, player, played])
    return Q


def _iql_arrays(Q: Any, actions: Any, rewards: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Q (runs, 2, k)`` as a float copy, ``actions (runs, 2)`` integers in ``[0, k)``, ``rewards (runs, 2)``."""
    try:
        Q = np.array(Q, dtype=float)
        actions_array = np.asarray(actions)
        rewards = np.asarray(rewards, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Q, actions and rewards must be numeric arrays; {exc}") from None
    if Q.ndim != 3 or Q.shape[1] != 2 or Q.shape[2] < 1:
        raise ValueError(f"Q must have shape (runs, 2, n_actions); got {Q.shape}")
    runs = Q.shape[0]
    if actions_array.shape != (runs, 2) or actions_array.dtype.kind not in "iu":
        raise ValueError(
            f"actions must be integers of shape ({runs}, 2); got {actions_array.dtype} {actions_array.shape}"
        )
    if actions_array.size and (actions_array.min() < 0 or actions_array.max() >= Q.shape[2]):
        raise ValueError(
            f"actions must be in [0, {Q.shape[2]}); got values from {actions_array.min()} to {actions_array.max()}"
        )
    if rewards.shape != (runs, 2):
        raise ValueError(f"rewards must have shape ({runs}, 2); got {rewards.shape}")
    return Q, actions_array, rewards


def independent_q_learning(
    game: str | MatrixGame,
    steps: int = 2000,
    runs: int = 100,
    alpha: float = 0.1,
    epsilon: float = 0.1,
    epsilon_final: float | None = None,
    q_init: float = 0.0,
    seed: int = 0,
    trace_runs: int = 1,
) -> MatrixRunResult:
    """``runs`` independent pairs of ε-greedy Q-learners playing ``game`` for ``steps`` rounds (module docstring).

    ``alpha`` in (0, 1] step size; ``epsilon`` in [0, 1] exploration (decayed linearly to
    ``epsilon_final`` over the run if given); ``q_init`` initial action value (optimism
    encourages exploration); ``trace_runs`` in [0, runs] how many runs keep their Q-values
    at every step (``Q_trace``). Random tie-breaking as in :mod:`drlkit.tabular`.
    """
    game = get_game(game)
    steps = check_number("steps", steps, low=1, high=MAX_STEPS, integer=True)
    runs = check_number("runs", runs, low=1, high=100_000, integer=True)
    if steps * runs > MAX_STEPS * 50:
        raise ValueError(
            f"steps * runs must be at most {MAX_STEPS * 50:,} (the run's records are kept in memory); "
            f"got steps={steps} and runs={runs}"
        )
    alpha = check_number("alpha", alpha, low=0, high=1, low_open=True)
    epsilon = check_number("epsilon", epsilon, low=0, high=1)
    epsilon_final = epsilon if epsilon_final is None else check_number("epsilon_final", epsilon_final, low=0, high=1)
    q_init = check_number("q_init", q_init)
    seed = check_number("seed", seed, low=0, integer=True)
    trace_runs = check_number("trace_runs", trace_runs, low=0, high=runs, integer=True)
    rng = np.random.default_rng(seed)
    n, m = game.shape
    k = max(n, m)
    Q = np.full((runs, 2, k), q_init, dtype=float)
    if m < k:
        Q[:, 1, m:] = -np.inf
    if n < k:
        Q[:, 0, n:] = -np.inf
    epsilons = np.linspace(epsilon, epsilon_final, steps)
    actions = np.empty((steps, runs, 2), dtype=np.int64)
    rewards = np.empty((steps, runs, 2))
    greedy = np.empty((steps, runs, 2), dtype=np.int64)
    n_acts = np.array([n, m])
    trace = np.empty((steps + 1, trace_runs, 2, k))
    trace[0] = Q[:trace_runs]
    for t in range(steps):
        eps = np.full(2 * runs, epsilons[t])
        acts = epsilon_greedy_batch(Q.reshape(2 * runs, k), eps, rng).reshape(runs, 2)
        # A random action must be one the player has (the smaller player's padding is -inf).
        acts = np.minimum(acts, n_acts - 1) if n != m else acts
        r0, r1 = game.A[acts[:, 0], acts[:, 1]], game.B[acts[:, 0], acts[:, 1]]
        rewards[t, :, 0], rewards[t, :, 1] = r0, r1
        Q = iql_update(Q, acts, rewards[t], alpha)
        actions[t] = acts
        greedy[t] = Q.argmax(axis=2)
        trace[t + 1] = Q[:trace_runs]
    return MatrixRunResult(game, actions, rewards, Q, greedy, epsilons, trace if trace_runs else None)


def fictitious_play(game: str | MatrixGame, steps: int = 500, initial: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Empirical action frequencies of both players under fictitious play, ``(steps, 2, max(n, m))``.

    Round 0 plays ``initial``; afterwards each player plays a best response to the other's
    frequencies so far (ties to the lowest action: deterministic).
    """
    game = get_game(game)
    steps = check_number("steps", steps, low=1, high=MAX_STEPS, integer=True)
    n, m = game.shape
    if not (isinstance(initial, (tuple, list)) and len(initial) == 2 and 0 <= initial[0] < n and 0 <= initial[1] < m):
        raise ValueError(f"initial must be a joint action (row < {n}, column < {m}); got {initial!r}")
    counts_x, counts_y = np.zeros(n), np.zeros(m)
    k = max(n, m)
    out = np.zeros((steps, 2, k))
    i, j = int(initial[0]), int(initial[1])
    for t in range(steps):
        counts_x[i] += 1
        counts_y[j] += 1
        x, y = counts_x / counts_x.sum(), counts_y / counts_y.sum()
        out[t, 0, :n], out[t, 1, :m] = x, y
        i, j = int(np.argmax(game.A @ y)), int(np.argmax(x @ game.B))
    return out


def project_simplex(v: np.ndarray) -> np.ndarray:
    """Euclidean projection of ``v (..., k)`` onto the probability simplex (sort-based, exact)."""
    v = np.asarray(v, dtype=float)
    u = np.sort(v, axis=-1)[..., ::-1]
    css = np.cumsum(u, axis=-1) - 1.0
    ks = np.arange(1, v.shape[-1] + 1)
    cond = u - css / ks > 0
    rho = cond.shape[-1] - 1 - np.argmax(cond[..., ::-1], axis=-1)
    theta = np.take_along_axis(css, rho[..., None], axis=-1) / (rho[..., None] + 1)
    return np.maximum(v - theta, 0.0)


def gradient_ascent(
    game: str | MatrixGame,
    steps: int = 500,
    lr: float = 0.05,
    initial: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Both players' mixed strategies under projected gradient ascent, ``(steps + 1, 2, max(n, m))``.

    ``initial``: the starting strategies ``(x (n,), y (m,))`` (default: uniform-ish, slightly
    off-centre so that the dynamics in a symmetric game have something to do).
    """
    game = get_game(game)
    steps = check_number("steps", steps, low=1, high=MAX_STEPS, integer=True)
    lr = check_number("lr", lr, low=0, low_open=True)
    n, m = game.shape
    if initial is None:
        x = project_simplex(np.ones(n) / n + 0.1 * (np.arange(n) == 0))
        y = project_simplex(np.ones(m) / m + 0.1 * (np.arange(m) == m - 1))
    else:
        x, y = (np.asarray(s, dtype=float) for s in initial)
        if (
            x.shape != (n,)
            or y.shape != (m,)
            or abs(x.sum() - 1) > 1e-6
            or abs(y.sum() - 1) > 1e-6
            or x.min() < 0
            or y.min() < 0
        ):
            raise ValueError(f"initial must be two probability vectors of lengths {n} and {m}")
    k = max(n, m)
    out = np.zeros((steps + 1, 2, k))
    out[0, 0, :n], out[0, 1, :m] = x, y
    for t in range(steps):
        x, y = project_simplex(x + lr * game.A @ y), project_simplex(y + lr * game.B.T @ x)
        out[t + 1, 0, :n], out[t + 1, 1, :m] = x, y
    return out
