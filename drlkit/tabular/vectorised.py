"""Many independent learning runs at once, on the arrays of an MDP.

Learning curves are noisy; the usual remedy (Sutton & Barto's figures average
100+ runs) is to repeat the experiment and average. Here ``runs`` copies of the
agent learn side by side: ``Q`` has shape ``(runs, S, A)`` and every step
advances all unfinished runs with one :meth:`MDP.step_batch` call.

The runs are not kept in lockstep: each one has its own episode counter and
starts its next episode as soon as the previous one ends, so a long episode in
one run does not make the others wait. A run stops after its ``E`` episodes.

Each step draws from exactly the distributions of the one-run loop in
:mod:`drlkit.tabular.one_run` (same ε-greedy rule, same random tie-breaking,
same action timing for SARSA), so the two give the same results in
distribution; they use their random numbers in a different order, so not the
same individual runs.
"""

from __future__ import annotations

import numpy as np

from ..envs import MDP
from .one_run import RunOutput


def epsilon_greedy_batch(q_rows: np.ndarray, epsilons: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """ε-greedy actions for ``n`` rows of action values ``q_rows (n, A)``; returns ``(n,)`` ints.

    Random tie-breaking: every tied best action gets an independent uniform
    number, the others 0, and the largest wins -- each tied action equally likely.
    """
    n, n_actions = q_rows.shape
    is_best = q_rows == q_rows.max(axis=1, keepdims=True)
    greedy = np.argmax(rng.random((n, n_actions)) * is_best, axis=1)
    explore = rng.random(n) < epsilons
    return np.where(explore, rng.integers(n_actions, size=n), greedy)


def expected_values_batch(q_rows: np.ndarray, epsilons: np.ndarray) -> np.ndarray:
    """Σ_a π(a|s) Q(s, a) under ε-greedy π for ``q_rows (n, A)``; returns ``(n,)``."""
    n_actions = q_rows.shape[1]
    is_best = q_rows == q_rows.max(axis=1, keepdims=True)
    greedy_share = (1.0 - epsilons)[:, None] * is_best / is_best.sum(axis=1, keepdims=True)
    probabilities = epsilons[:, None] / n_actions + greedy_share
    return (probabilities * q_rows).sum(axis=1)


def learn_runs(
    mdp: MDP,
    algorithm: str,
    runs: int,
    Q0: np.ndarray,
    epsilons: np.ndarray,
    alphas: np.ndarray,
    gamma: float,
    max_steps: int | None,
    rng: np.random.Generator,
    record_q: bool = False,
) -> RunOutput:
    """``runs`` independent runs of ``algorithm``, each of ``len(epsilons)`` episodes.

    Returns a :class:`RunOutput` whose arrays gain a leading ``runs`` axis:
    ``Q (runs, S, A)``, ``returns``/``lengths`` ``(runs, E)``,
    ``Q_history (runs, E, S, A)``.
    """
    episodes = len(epsilons)
    Q = np.broadcast_to(np.asarray(Q0, dtype=float), (runs, mdp.n_states, mdp.n_actions)).copy()
    returns = np.zeros((runs, episodes))
    lengths = np.zeros((runs, episodes), dtype=int)
    Q_history = np.zeros((runs, episodes, mdp.n_states, mdp.n_actions)) if record_q else None

    episode = np.zeros(runs, dtype=int)  # current episode of each run
    steps = np.zeros(runs, dtype=int)  # steps so far in it
    episode_return = np.zeros(runs)
    states = mdp.reset_batch(runs, rng)
    actions = epsilon_greedy_batch(Q[np.arange(runs), states], epsilons[episode], rng)
    step_limit = np.inf if max_steps is None else max_steps

    active = np.arange(runs)  # runs that still have episodes to play
    while active.size:
        s, a = states[active], actions[active]
        eps, alpha = epsilons[episode[active]], alphas[episode[active]]
        next_s, reward, terminated = mdp.step_batch(s, a, rng)
        steps[active] += 1
        episode_return[active] += reward

        next_q = Q[active, next_s]  # (n, A)
        if algorithm == "sarsa":
            next_a = epsilon_greedy_batch(next_q, eps, rng)
            next_value = next_q[np.arange(active.size), next_a]
        elif algorithm == "q_learning":
            next_value = next_q.max(axis=1)
        else:
            next_value = expected_values_batch(next_q, eps)
        target = reward + gamma * np.where(terminated, 0.0, next_value)
        Q[active, s, a] += alpha * (target - Q[active, s, a])

        ended = terminated | (steps[active] >= step_limit)
        states[active] = next_s
        if algorithm == "sarsa":
            actions[active] = next_a
        if ended.any():
            finished = active[ended]
            returns[finished, episode[finished]] = episode_return[finished]
            lengths[finished, episode[finished]] = steps[finished]
            if Q_history is not None:
                Q_history[finished, episode[finished]] = Q[finished]
            episode[finished] += 1
            steps[finished] = 0
            episode_return[finished] = 0.0
            states[finished] = mdp.reset_batch(finished.size, rng)
            active = active[episode[active] < episodes]
        if active.size and algorithm != "sarsa":
            # Q-learning and Expected SARSA choose with the Q just updated.
            actions[active] = epsilon_greedy_batch(Q[active, states[active]], epsilons[episode[active]], rng)
        elif ended.any() and active.size:
            # SARSA: a run that starts a new episode chooses its first action now.
            restarted = active[steps[active] == 0]
            actions[restarted] = epsilon_greedy_batch(
                Q[restarted, states[restarted]], epsilons[episode[restarted]], rng
            )
    return RunOutput(Q, returns, lengths, Q_history)
