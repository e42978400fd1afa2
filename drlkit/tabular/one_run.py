"""One learning run of Q-learning, SARSA or Expected SARSA, written to be read.

This is the textbook loop (Sutton & Barto, sections 6.4-6.6) on any gymnasium
environment with Discrete observation and action spaces. For each step:

1. choose an action ε-greedily from ``Q[state]``;
2. act, observe ``reward`` and ``next_state``;
3. form the TD target -- the only place where the three algorithms differ::

       Q-learning       r + γ max_a' Q(s', a')
       SARSA            r + γ Q(s', a')              a' the action actually taken next
       Expected SARSA   r + γ Σ_a' π(a'|s') Q(s', a')  π the ε-greedy policy

   (just ``r`` when ``s'`` is terminal: a terminal state is worth 0);
4. move ``Q(s, a)`` a fraction α of the way towards the target.

:mod:`drlkit.tabular.vectorised` runs the same algorithm for many independent
runs at once on the arrays of an MDP; it draws from the same distributions.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

ALGORITHMS = ("q_learning", "sarsa", "expected_sarsa")


def epsilon_greedy(q_values: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """With probability ε a uniformly random action, otherwise a greedy one.

    Ties between greedy actions are broken at random: with ``Q0 = 0`` every
    action starts tied, and always taking the first would never try the others.
    """
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    best_actions = np.flatnonzero(q_values == q_values.max())
    return int(rng.choice(best_actions))


def epsilon_greedy_probabilities(q_values: np.ndarray, epsilon: float) -> np.ndarray:
    """π(a|s) of the ε-greedy policy, shape ``(A,)``: ε/A each, plus (1-ε) shared by the tied best."""
    n_actions = len(q_values)
    is_best = q_values == q_values.max()
    return epsilon / n_actions + (1.0 - epsilon) * is_best / is_best.sum()


@dataclass
class RunOutput:
    """What one run produces (shapes for ``E`` episodes, ``S`` states, ``A`` actions)."""

    Q: np.ndarray  # (S, A) final action values
    returns: np.ndarray  # (E,) sum of rewards of each episode
    lengths: np.ndarray  # (E,) steps of each episode
    Q_history: np.ndarray | None  # (E, S, A) Q after each episode, when recorded


def learn_one_run(
    env: gym.Env,
    algorithm: str,
    Q0: np.ndarray,
    epsilons: np.ndarray,
    alphas: np.ndarray,
    gamma: float,
    max_steps: int | None,
    rng: np.random.Generator,
    env_seed: int,
    record_q: bool = False,
) -> RunOutput:
    """Run ``len(epsilons)`` episodes of ``algorithm`` on ``env``, starting from ``Q = Q0``.

    ``epsilons[k]`` and ``alphas[k]`` are ε and α during episode ``k``; ``rng``
    drives the agent's choices, ``env_seed`` seeds the environment once.
    An episode ends when the env terminates or truncates, or after ``max_steps``
    steps; only termination cuts the bootstrap (a truncated episode's last
    state still has a future).
    """
    Q = np.array(Q0, dtype=float)  # (S, A), a copy
    episodes = len(epsilons)
    returns = np.zeros(episodes)
    lengths = np.zeros(episodes, dtype=int)
    Q_history = np.zeros((episodes, *Q.shape)) if record_q else None

    for episode in range(episodes):
        epsilon, alpha = epsilons[episode], alphas[episode]
        state, _ = env.reset(seed=env_seed if episode == 0 else None)
        action = epsilon_greedy(Q[state], epsilon, rng)
        steps, episode_return = 0, 0.0

        while True:
            next_state, reward, terminated, truncated, _ = env.step(action)
            steps += 1
            episode_return += float(reward)

            # --- TD target ---------------------------------------------------
            if algorithm == "sarsa":
                # SARSA is on-policy: it evaluates the action it will really take next,
                # so that action is chosen now, before the update.
                next_action = epsilon_greedy(Q[next_state], epsilon, rng)
                next_value = Q[next_state, next_action]
            elif algorithm == "q_learning":
                # Q-learning is off-policy: it evaluates the greedy action, whatever it does next.
                next_value = Q[next_state].max()
            else:
                # Expected SARSA averages over what the ε-greedy policy might do next.
                next_value = epsilon_greedy_probabilities(Q[next_state], epsilon) @ Q[next_state]
            target = reward if terminated else reward + gamma * next_value

            # --- TD update: move Q(s, a) a fraction alpha towards the target ---
            Q[state, action] += alpha * (target - Q[state, action])

            if terminated or truncated or (max_steps is not None and steps >= max_steps):
                break
            state = next_state
            if algorithm == "sarsa":
                action = next_action
            else:
                # Q-learning and Expected SARSA choose with the Q just updated.
                action = epsilon_greedy(Q[state], epsilon, rng)

        returns[episode], lengths[episode] = episode_return, steps
        if Q_history is not None:
            Q_history[episode] = Q
    return RunOutput(Q, returns, lengths, Q_history)
