"""Figures of the DQN notebook: the ε schedule and Q-values along an episode during training.

* :func:`plot_epsilon_schedule` -- ε against environment steps for a linear schedule;
* :func:`greedy_episode` -- the states of one greedy episode of an agent;
* :class:`QNetworkRecorder` -- a training callback keeping snapshots of the Q-network;
* :func:`plot_q_values` -- those Q-values along the episode at one checkpoint,
  and their mean over training (on the axes of :func:`q_value_axes`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._checks import check_number
from ._recorder import PeriodicRecorder


def epsilon_schedule(steps: Any, initial: float, final: float, exploration_steps: int) -> np.ndarray:
    """ε at each of ``steps``: linear from ``initial`` (step 0) to ``final`` (``exploration_steps``), then flat.

    The schedule DQN acts with (:func:`drlkit.agents.dqn.linear_schedule`, :meth:`DQN.exploration_rate`)."""
    from ..agents.dqn import linear_schedule

    return np.asarray(linear_schedule(np.asarray(steps, dtype=float), initial, final, exploration_steps), dtype=float)


def plot_epsilon_schedule(
    initial: float,
    final: float,
    exploration_steps: int,
    total_steps: int,
    learning_starts: int | None = None,
    ax: Any = None,
) -> Any:
    """ε of the ε-greedy policy over ``total_steps`` environment steps, with the expected
    share of random actions taken so far in the legend. Returns the Axes."""
    import matplotlib.pyplot as plt

    initial = check_number("initial", initial, low=0, high=1)
    final = check_number("final", final, low=0, high=1)
    exploration_steps = check_number("exploration_steps", exploration_steps, low=0, integer=True)
    total_steps = check_number("total_steps", total_steps, low=1, integer=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    steps = np.linspace(0, total_steps, 501)
    eps = epsilon_schedule(steps, initial, final, exploration_steps)
    random_share = float(np.mean(epsilon_schedule(np.arange(total_steps), initial, final, exploration_steps)))
    ax.plot(steps, eps, linewidth=2, label=f"ε (random actions: {random_share:.0%} of all steps)")
    if learning_starts:
        ax.axvspan(0, min(learning_starts, total_steps), color="0.85", label="filling the buffer (no learning)")
    ax.set_xlim(0, total_steps)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("ε")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    return ax


def greedy_episode(agent: Any, seed: int = 0, max_steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Play one episode greedily on a fresh env; returns ``states (T, obs_dim)`` and ``rewards (T,)``
    (``states[t]`` is the state the agent acted in at step ``t``)."""
    from ..envs.make import make_env

    env = make_env(agent.env_spec)
    states: list[np.ndarray] = []
    rewards: list[float] = []
    try:
        obs, _ = env.reset(seed=check_number("seed", seed, low=0, integer=True))
        done = False
        while not done and (max_steps is None or len(states) < max_steps):
            states.append(np.asarray(obs, dtype=np.float32))
            obs, reward, terminated, truncated, _ = env.step(agent.act(obs))
            rewards.append(float(reward))
            done = terminated or truncated
    finally:
        env.close()
    return np.array(states), np.array(rewards)


class QNetworkRecorder(PeriodicRecorder):
    """Training callback that keeps snapshots of an agent's Q-network.

    Every ``every`` environment steps (at the first update after each multiple)
    it stores a copy of ``agent.q_net``'s weights. Afterwards
    :meth:`q_values` evaluates every snapshot on any states -- e.g. the states of
    an episode played by the *final* policy -- giving ``(K, S, A)`` values.
    Call :meth:`record` yourself for the untrained network::

        recorder = QNetworkRecorder(every=2000)
        recorder.record(agent)                       # step 0
        agent.train(30_000, callbacks=[recorder])
        q = recorder.q_values(states)                # (checkpoints, states, actions)
    """

    def __init__(self, every: int) -> None:
        super().__init__(every)
        self._weights: list[dict[str, Any]] = []
        self._network: Any = None

    def _snapshot(self, agent: Any) -> None:
        import copy

        if not hasattr(agent, "q_net"):
            raise TypeError(f"{type(agent).__name__} has no Q-network (agent.q_net)")
        if self._network is None:
            self._network = copy.deepcopy(agent.q_net)
        self._weights.append({k: v.detach().clone() for k, v in agent.q_net.state_dict().items()})

    def q_values(self, states: Any) -> np.ndarray:
        """Q-values of ``states (S, obs_dim)`` under every snapshot, shape ``(K, S, A)``."""
        import torch

        if not self._weights:
            raise ValueError("no snapshots yet: train with the recorder as a callback (or call recorder.record(agent))")
        states = torch.as_tensor(np.asarray(states, dtype=np.float32))
        if states.ndim != 2:
            raise ValueError(f"states must have shape (n_states, obs_dim); got {tuple(states.shape)}")
        values = []
        with torch.no_grad():
            for weights in self._weights:
                self._network.load_state_dict(weights)
                values.append(self._network(states).numpy())
        return np.array(values)


def q_value_axes(figsize: tuple[float, float] = (11, 5.2)) -> tuple[Any, Any]:
    """A figure laid out for :func:`plot_q_values`: two stacked panels on the left, one on the right."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize)
    grid = fig.add_gridspec(2, 2, width_ratios=[1.6, 1])
    values = fig.add_subplot(grid[0, 0])
    centred = fig.add_subplot(grid[1, 0], sharex=values)
    training = fig.add_subplot(grid[:, 1])
    return fig, (values, centred, training)


def plot_q_values(
    steps: Any,
    q_values: Any,
    index: int = -1,
    gamma: float | None = None,
    action_labels: Sequence[str] | None = None,
    axes: Any = None,
) -> Any:
    r"""Q-values along an episode at checkpoint ``index``, and their mean over training.

    ``steps (K,)`` and ``q_values (K, T, A)`` (checkpoints, states of the episode,
    actions) come e.g. from :class:`QNetworkRecorder`. Three panels (``axes``, as
    made by :func:`q_value_axes`): :math:`Q(s_t, a)` of every action along the
    episode; the same values centred on their mean over actions,
    :math:`Q(s_t, a) - \frac1A\sum_b Q(s_t, b)`, where the highest line is the greedy
    action; and :math:`\max_a Q(s_t, a)` averaged over the episode at every
    checkpoint, the chosen one marked. With ``gamma``, the first and last show
    :math:`1/(1-\gamma)`, the value of a reward of 1 at every step forever.
    Returns the three Axes.
    """
    steps = np.asarray(steps)
    q_values = np.asarray(q_values, dtype=float)
    if q_values.ndim != 3 or len(steps) != len(q_values) or len(steps) == 0:
        raise ValueError(f"need steps (K,) and q_values (K, T, A) with K >= 1; got {steps.shape} and {q_values.shape}")
    n_checkpoints, horizon, n_actions = q_values.shape
    index = int(index)
    if not -n_checkpoints <= index < n_checkpoints:
        raise ValueError(f"index must be in [{-n_checkpoints}, {n_checkpoints - 1}], got {index}")
    index %= n_checkpoints
    labels = list(action_labels) if action_labels is not None else [f"action {a}" for a in range(n_actions)]
    if len(labels) != n_actions:
        raise ValueError(f"action_labels has {len(labels)} names for {n_actions} actions")
    if axes is None:
        _, axes = q_value_axes()
    values_ax, centred_ax, training_ax = axes
    q = q_values[index]
    t = np.arange(horizon)
    centred = q - q.mean(axis=1, keepdims=True)
    for a in range(n_actions):
        values_ax.plot(t, q[:, a], label=f"Q(s, {labels[a]})")
        centred_ax.plot(t, centred[:, a], linewidth=1)
    if gamma is not None:
        values_ax.axhline(1 / (1 - gamma), color="0.3", linestyle="--", linewidth=1, label="1 / (1 - γ)")
    low, high = min(q_values.min(), 0.0), max(q_values.max(), 1.0 if gamma is None else 1 / (1 - gamma))
    values_ax.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
    values_ax.set_ylabel("Q(s_t, a)")
    values_ax.set_title(f"after {steps[index]:,} environment steps")
    values_ax.legend(loc="lower right", fontsize="small")
    spread = max(float(np.abs(centred).max()), 1e-6)
    centred_ax.axhline(0.0, color="0.3", linewidth=0.8)
    centred_ax.set_ylim(-1.1 * spread, 1.1 * spread)
    centred_ax.set_ylabel("Q minus mean over a")
    centred_ax.set_xlabel("time step t of the episode (top line in the lower panel: the greedy action)")
    mean_max = q_values.max(axis=2).mean(axis=1)
    training_ax.plot(steps, mean_max, marker="o", markersize=3)
    training_ax.plot(steps[index], mean_max[index], marker="o", markersize=9, color="C3")
    if gamma is not None:
        training_ax.axhline(1 / (1 - gamma), color="0.3", linestyle="--", linewidth=1)
    training_ax.set_xlabel("environment steps")
    training_ax.set_ylabel("mean of max_a Q(s_t, a) over the episode")
    training_ax.set_title("value estimates during training")
    for ax in axes:
        ax.grid(alpha=0.3)
    return axes
