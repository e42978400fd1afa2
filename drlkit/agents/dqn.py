r"""Deep Q-Network (DQN) and Double DQN for discrete actions.

DQN is Q-learning with a neural network in place of the table. The network
:math:`Q_\theta(s, \cdot)` maps an observation to one value per action
(``obs (B, obs_dim) -> q (B, n_actions)``) and acts ε-greedily. Three pieces
make learning stable:

**Replay buffer.** Transitions :math:`(s, a, r, s', d)` go into a ring buffer
(:class:`~drlkit.agents.replay.ReplayBuffer`); every gradient step uses a
minibatch of ``batch_size`` transitions drawn uniformly from it, so consecutive,
strongly correlated steps are not learned from one after the other. With
``prioritized_replay=True`` minibatches are drawn in proportion to
:math:`|\delta|^\alpha` and each loss is weighted by its importance weight
(:mod:`drlkit.agents.prioritized_replay`, Schaul et al. 2016).

**Target network.** The regression target is computed with a copy
:math:`Q_{\bar\theta}` of the network that changes only every
``target_update_interval`` gradient steps (:math:`\bar\theta \leftarrow
\tau\theta + (1-\tau)\bar\theta`; ``tau = 1`` copies), so the network does
not chase a target that moves with every step. ``target_update_interval=1``
with ``tau=1`` means no target network at all.

**TD target.** With ``d = 1`` when the episode *terminated* at ``s'``
(truncation by a time limit is not termination: the state still has a value)

.. math::

    y_\text{DQN} = r + \gamma (1 - d) \max_{a'} Q_{\bar\theta}(s', a')

    y_\text{Double} = r + \gamma (1 - d)\, Q_{\bar\theta}\big(s', \arg\max_{a'} Q_\theta(s', a')\big)

The max over noisy estimates is biased upwards (:math:`\mathbb E \max \ge \max
\mathbb E`); Double DQN (``double_dqn=True``) picks the action with the online
network and evaluates it with the target network, which removes most of that
bias. The loss is the Huber loss of :math:`Q_\theta(s, a) - y` averaged over
the minibatch (quadratic near 0, linear beyond 1, so rare large TD errors do
not produce huge gradients). Shapes in a gradient step, for a batch of ``B``:
``obs, next_obs (B, obs_dim)``, ``actions, rewards, terminated (B,)``,
``Q_θ(obs) (B, n_actions)`` gathered at ``actions`` to ``(B,)``, target ``y (B,)``.

**Schedule.** Learning alternates between collecting ``train_freq``
environment steps (over all ``num_envs`` envs) with the ε-greedy policy and
taking ``gradient_steps`` gradient steps; the first ``learning_starts`` steps
only fill the buffer. ε falls linearly from ``exploration_initial_eps`` to
``exploration_final_eps`` over the first ``exploration_steps`` environment
steps of the agent's life (counted by ``total_steps``, so several ``train``
calls continue the schedule) and then stays there.

**Hooks.** :meth:`DQN.collect` plays the ε-greedy policy and counts the steps
in ``total_steps``; :meth:`DQN.learn_from` stores a fragment in the buffer
and takes the gradient steps due. ``train`` is a loop of exactly these two, so
a learner fed with fragments from remote workers runs the same algorithm (a
worker follows the learner's ε if its ``total_steps`` is set to the learner's).

>>> import drlkit
>>> agent = drlkit.DQN("CartPole-v1", seed=0)
>>> history = agent.train(20_000)          # doctest: +SKIP
>>> agent.evaluate(20).mean()              # mean return of 20 greedy episodes (500 at most)  # doctest: +SKIP
500.0
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_number
from ..envs.make import env_id_of
from .base import Agent, AgentConfig, Callback, Fragment, Timer, make_vec_env, mlp
from .prioritized_replay import PRIORITY_EPS, PrioritizedReplayBuffer
from .replay import ReplayBuffer


@dataclass
class DQNConfig(AgentConfig):
    """DQN hyperparameters; the defaults solve CartPole-v1 in about 20k environment steps.

    ``train_freq``, ``learning_starts`` and ``exploration_steps`` count environment
    steps (over all envs); ``target_update_interval`` counts gradient steps. There
    is no gradient clipping by default (``max_grad_norm=None``): the Huber loss
    already bounds each transition's gradient.
    """

    #: Adam step size, in (0, 1].
    learning_rate: float = 4e-3
    hidden_sizes: tuple[int, ...] = (64, 64)
    activation: str = "relu"
    #: Clip the global gradient norm to this (> 0); ``None`` (the default): the Huber loss already
    #: bounds each transition's gradient.
    max_grad_norm: float | None = None
    #: Transitions the replay buffer keeps (the oldest are overwritten), >= 1 and >= ``batch_size``.
    buffer_size: int = 50_000
    #: Transitions per gradient step, sampled uniformly from the buffer, in [1, ``buffer_size``].
    batch_size: int = 128
    #: Environment steps collected before the first gradient step, >= 0 (fills the buffer).
    learning_starts: int = 500
    #: Environment steps (over all envs) between two training rounds, >= 1.
    train_freq: int = 256
    #: Gradient steps per training round, >= 1.
    gradient_steps: int = 64
    #: Gradient steps between two updates of the target network, >= 1.
    target_update_interval: int = 32
    #: Target update θ⁻ ← τθ + (1-τ)θ⁻, τ in (0, 1]; 1 copies the online network (a hard update).
    tau: float = 1.0
    #: Double DQN targets (the online net picks a', the target net values it): True or False.
    double_dqn: bool = True
    #: ε of the ε-greedy policy at step 0, in [0, 1].
    exploration_initial_eps: float = 1.0
    #: ε after ``exploration_steps``, in [0, 1].
    exploration_final_eps: float = 0.04
    #: Environment steps over which ε falls linearly from initial to final, >= 0.
    exploration_steps: int = 5_000
    #: Environments stepped side by side, >= 1.
    num_envs: int = 1
    #: Sample minibatches by priority, the absolute TD error (Schaul et al. 2016,
    #: :mod:`drlkit.agents.prioritized_replay`), instead of uniformly: True or False.
    prioritized_replay: bool = False
    #: Prioritised replay: priority exponent α in [0, 1] (0 is uniform sampling).
    priority_alpha: float = 0.6
    #: Prioritised replay: importance-sampling exponent β in [0, 1] (1 corrects the sampling bias fully).
    priority_beta: float = 0.4

    def validate(self) -> None:
        super().validate()
        if not isinstance(self.prioritized_replay, (bool, np.bool_)):
            raise TypeError(f"prioritized_replay must be True or False, got {self.prioritized_replay!r}")
        check_number("priority_alpha", self.priority_alpha, low=0, high=1)
        check_number("priority_beta", self.priority_beta, low=0, high=1)
        check_number("buffer_size", self.buffer_size, low=1, integer=True)
        check_number("batch_size", self.batch_size, low=1, integer=True)
        if self.batch_size > self.buffer_size:
            raise ValueError(
                f"batch_size ({self.batch_size}) must not exceed buffer_size ({self.buffer_size}): "
                f"a minibatch is drawn from the transitions in the replay buffer"
            )
        check_number("learning_starts", self.learning_starts, low=0, integer=True)
        check_number("train_freq", self.train_freq, low=1, integer=True)
        check_number("gradient_steps", self.gradient_steps, low=1, integer=True)
        check_number("target_update_interval", self.target_update_interval, low=1, integer=True)
        check_number("tau", self.tau, low=0, high=1, low_open=True)
        if not isinstance(self.double_dqn, (bool, np.bool_)):
            raise TypeError(f"double_dqn must be True or False, got {self.double_dqn!r}")
        check_number("exploration_initial_eps", self.exploration_initial_eps, low=0, high=1)
        check_number("exploration_final_eps", self.exploration_final_eps, low=0, high=1)
        check_number("exploration_steps", self.exploration_steps, low=0, integer=True)
        check_number("num_envs", self.num_envs, low=1, integer=True)


def td_target(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    next_q_target: torch.Tensor,
    gamma: float,
    next_q_online: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""TD targets ``y (B,)`` from ``rewards, terminated (B,)`` and next-state values ``(B, n_actions)``.

    Without ``next_q_online`` this is the DQN target
    :math:`r + \gamma(1-d)\max_{a'} Q_{\bar\theta}(s', a')`; with it, the Double
    DQN target :math:`r + \gamma(1-d) Q_{\bar\theta}(s', \arg\max_{a'} Q_\theta(s', a'))`.
    """
    if next_q_online is None:
        next_value = next_q_target.max(dim=1).values
    else:
        best = next_q_online.argmax(dim=1, keepdim=True)
        next_value = next_q_target.gather(1, best).squeeze(1)
    return rewards + gamma * (1.0 - terminated) * next_value


def linear_schedule(step: Any, initial: float, final: float, duration: int) -> Any:
    """Linear decay from ``initial`` at step 0 to ``final`` at ``duration``, then flat at ``final``
    (DQN's ε). ``step`` is an int (returns a float) or an array of steps (returns an array of
    that shape); ``duration = 0`` means ``final`` from the start."""
    steps = np.asarray(step, dtype=float)
    fraction = steps / duration if duration > 0 else np.ones_like(steps)
    values = np.where(steps >= duration, final, initial + fraction * (final - initial))
    return float(values) if values.ndim == 0 else values


class DQN(Agent):
    """Deep Q-Network with replay, a target network and optional Double DQN (see module docstring).

    ``DQN(env, seed=0, progress=False, **config)``; hyperparameters in :class:`DQNConfig`.
    """

    Config = DQNConfig
    LOG_KEYS = ("loss", "q_mean", "exploration_rate")
    ACTION_SPACES = (gym.spaces.Discrete,)
    config: DQNConfig

    def _check_spaces(self) -> None:
        if not isinstance(self.action_space, gym.spaces.Discrete):
            raise ValueError(
                f"DQN needs Discrete actions (it takes the max of Q(s, a) over a finite set of actions); "
                f"{env_id_of(self.env_spec) or 'this env'} has {self.action_space}. "
                f"For continuous actions use PPO, A2C, TRPO or REINFORCE."
            )
        super()._check_spaces()

    # ------------------------------------------------------------- build
    def _build(self) -> None:
        cfg = self.config
        obs_dim = int(self.observation_space.shape[0])
        self.n_actions = int(self.action_space.n)
        self._action_start = int(self.action_space.start)
        self.q_net = mlp(obs_dim, cfg.hidden_sizes, self.n_actions, cfg.activation)
        self.target_net = copy.deepcopy(self.q_net).requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.q_net.parameters(), lr=cfg.learning_rate, fused=True)
        self.replay = (
            PrioritizedReplayBuffer(cfg.buffer_size, obs_dim, cfg.priority_alpha)
            if cfg.prioritized_replay
            else ReplayBuffer(cfg.buffer_size, obs_dim)
        )
        self.envs = make_vec_env(self.env_spec, cfg.num_envs)
        obs, _ = self.envs.reset(seed=self.seed)
        self._obs = np.asarray(obs, dtype=np.float32)
        self._episode_returns = np.zeros(cfg.num_envs)
        self._episode_lengths = np.zeros(cfg.num_envs, dtype=np.int64)
        self._steps_since_training = 0  # env steps added since the last round of gradient steps
        self._n_updates = 0  # gradient steps taken, for the target network's schedule

    def networks(self) -> dict[str, nn.Module]:
        return {"q_net": self.q_net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"q_net": self.optimizer}

    # ------------------------------------------------------------ acting
    def exploration_rate(self, step: Any = None) -> Any:
        """ε of the ε-greedy policy at environment step ``step`` (default: now); a float, or an
        array of the shape of ``step`` for an array of steps (see :func:`linear_schedule`)."""
        cfg = self.config
        step = self.total_steps if step is None else step
        return linear_schedule(step, cfg.exploration_initial_eps, cfg.exploration_final_eps, cfg.exploration_steps)

    @torch.no_grad()
    def q_values(self, obs: Any) -> np.ndarray:
        """Q-values of the online network, ``(n_actions,)`` for one observation or ``(B, n_actions)``."""
        obs_arr = np.asarray(obs, dtype=np.float32)
        single = obs_arr.ndim == 1
        q = self.q_net(torch.as_tensor(obs_arr[None] if single else obs_arr)).numpy()
        return q[0] if single else q

    @torch.no_grad()
    def _act_batch(self, obs: torch.Tensor, deterministic: bool) -> torch.Tensor:
        greedy = self.q_net(obs).argmax(dim=1)
        if not deterministic:  # ε-greedy with the current ε; torch_rng is not used by training
            n = len(obs)
            explore = torch.rand(n, generator=self.torch_rng) < self.exploration_rate()
            random = torch.randint(self.n_actions, (n,), generator=self.torch_rng)
            greedy = torch.where(explore, random, greedy)
        return greedy + self._action_start

    # -------------------------------------------------------- experience
    def collect(self, n_steps: int) -> Fragment:
        """About ``n_steps`` env steps (rounded up to whole steps of all ``num_envs``
        envs) with the current ε-greedy policy; advances ``total_steps`` and ε.

        ``data``: ``obs, next_obs (T, N, obs_dim)``, ``actions, rewards, terminated (T, N)``.
        ``next_obs`` is the true last observation when an episode ended (not
        the first one of the next episode).
        """
        n_steps = check_number("n_steps", n_steps, low=1, integer=True)
        return self._collect(n_steps, timer=None)

    def _collect(self, n_steps: int, timer: Timer | None) -> Fragment:
        n_envs = self.config.num_envs
        horizon = math.ceil(n_steps / n_envs)
        obs_dim = self._obs.shape[1]
        obs_buf = np.empty((horizon, n_envs, obs_dim), dtype=np.float32)
        next_obs_buf = np.empty_like(obs_buf)
        actions_buf = np.empty((horizon, n_envs), dtype=np.int64)
        rewards_buf = np.empty((horizon, n_envs), dtype=np.float32)
        terminated_buf = np.empty((horizon, n_envs), dtype=bool)
        finished_returns: list[float] = []
        finished_lengths: list[int] = []
        obs = self._obs
        for t in range(horizon):
            # Draw both random numbers every step so the RNG stream does not depend on ε.
            explore = self.np_rng.random(n_envs) < self.exploration_rate()
            actions = self.np_rng.integers(self.n_actions, size=n_envs)
            if not explore.all():
                with torch.no_grad():
                    greedy = self.q_net(torch.as_tensor(obs)).argmax(dim=1).numpy()
                actions = np.where(explore, actions, greedy)
            next_obs, rewards, terminated, truncated, info = self.envs.step(actions + self._action_start)
            next_obs = np.asarray(next_obs, dtype=np.float32)
            self.total_steps += n_envs
            obs_buf[t] = obs
            actions_buf[t] = actions
            rewards_buf[t] = rewards
            terminated_buf[t] = terminated
            next_obs_buf[t] = next_obs
            self._episode_returns += rewards
            self._episode_lengths += 1
            done = terminated | truncated
            if done.any():
                for i in np.flatnonzero(done):
                    # The env already reset itself; the transition's s' is the episode's last obs.
                    next_obs_buf[t, i] = info["final_obs"][i]
                    ret, length = float(self._episode_returns[i]), int(self._episode_lengths[i])
                    finished_returns.append(ret)
                    finished_lengths.append(length)
                    if timer is not None:
                        self._record_episode(ret, length, timer)
                    self._episode_returns[i] = 0.0
                    self._episode_lengths[i] = 0
            obs = next_obs
        self._obs = obs
        data: dict[str, np.ndarray] = {
            "obs": obs_buf,
            "actions": actions_buf,
            "rewards": rewards_buf,
            "next_obs": next_obs_buf,
            "terminated": terminated_buf,
        }
        return Fragment(data, horizon * n_envs, finished_returns, finished_lengths)

    # ---------------------------------------------------------- learning
    def learn_from(self, fragment: Fragment) -> dict[str, float]:
        """Add a fragment's transitions to the replay buffer, then take the gradient
        steps that are due: ``gradient_steps`` for every ``train_freq`` env steps
        received after the first ``learning_starts``.

        Returns the mean loss and Q-value over those gradient steps and the current
        ε, or ``{}`` when no gradient step was due. Does not change ``total_steps``
        (:meth:`collect` counts the steps it takes).
        """
        cfg = self.config
        data = fragment.data
        received_before = self.replay.added
        self.replay.add(data["obs"], data["actions"], data["rewards"], data["next_obs"], data["terminated"])
        # Only steps after learning_starts count towards training rounds, however the steps are split into fragments.
        starts = max(cfg.learning_starts, cfg.batch_size)
        self._steps_since_training += max(0, self.replay.added - max(received_before, starts))
        rounds = self._steps_since_training // cfg.train_freq
        self._steps_since_training -= rounds * cfg.train_freq
        if rounds == 0:
            return {}
        loss_sum = torch.zeros(())
        q_sum = torch.zeros(())
        n = rounds * cfg.gradient_steps
        for _ in range(n):
            loss, q_mean = self._gradient_step()
            loss_sum += loss
            q_sum += q_mean
        return {"loss": float(loss_sum) / n, "q_mean": float(q_sum) / n, "exploration_rate": self.exploration_rate()}

    def _gradient_step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One Adam step on the Huber loss of a replay minibatch; returns (loss, mean Q(s, a)).

        With prioritised replay the minibatch is drawn by priority, each transition's loss
        is multiplied by its importance weight ``w (B,)`` and its priority becomes ``|δ| + ε``."""
        cfg = self.config
        replay = self.replay
        if isinstance(replay, PrioritizedReplayBuffer):
            rows, indices, weights = replay.sample_prioritized(cfg.batch_size, self.np_rng, cfg.priority_beta)
            batch = replay.unpack(torch.as_tensor(rows))
        else:
            batch = replay.unpack(torch.as_tensor(replay.sample(cfg.batch_size, self.np_rng)))
        target = self._td_targets(batch)
        q_taken = self.q_net(batch["obs"]).gather(1, batch["actions"].long()[:, None]).squeeze(1)
        if isinstance(replay, PrioritizedReplayBuffer):
            loss = (torch.as_tensor(weights) * F.smooth_l1_loss(q_taken, target, reduction="none")).mean()
            replay.update_priorities(indices, (q_taken - target).detach().abs().numpy() + PRIORITY_EPS)
        else:
            loss = F.smooth_l1_loss(q_taken, target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.q_net.parameters(), cfg.max_grad_norm)
        self.optimizer.step()
        self._n_updates += 1
        if self._n_updates % cfg.target_update_interval == 0:
            self._update_target()
        return loss.detach(), q_taken.detach().mean()

    @torch.no_grad()
    def _td_targets(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """DQN or Double DQN targets ``(B,)`` for a minibatch from :meth:`ReplayBuffer.unpack`."""
        next_q_online = self.q_net(batch["next_obs"]) if self.config.double_dqn else None
        next_q_target = self.target_net(batch["next_obs"])
        return td_target(batch["rewards"], batch["terminated"], next_q_target, self.config.gamma, next_q_online)

    @torch.no_grad()
    def _update_target(self) -> None:
        tau = self.config.tau
        for target, online in zip(self.target_net.parameters(), self.q_net.parameters()):
            if tau == 1.0:
                target.copy_(online)
            else:
                target.lerp_(online, tau)

    def _train(self, until_step: int, timer: Timer, callbacks: Sequence[Callback]) -> None:
        while self.total_steps < until_step:
            due = self.config.train_freq - self._steps_since_training
            fragment = self._collect(min(due, until_step - self.total_steps), timer)
            metrics = self.learn_from(fragment)
            if metrics and not self._record_update(timer, callbacks, **metrics):
                return

    # ------------------------------------------------------- checkpoints
    def _extra_state(self) -> dict[str, Any]:
        return {
            "target_net": self.target_net.state_dict(),
            "replay": self.replay.state_dict(),
            "steps_since_training": self._steps_since_training,
            "n_updates": self._n_updates,
        }

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        # The envs' internal state is not saved: a loaded agent starts fresh episodes.
        self.target_net.load_state_dict(state["target_net"])
        self.replay.load_state_dict(state["replay"])
        # A ValueError here becomes a CheckpointError naming the file (drlkit.load wraps restore errors).
        for key, high in (("steps_since_training", 2**53), ("n_updates", 2**53)):
            value = state[key]
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
                raise ValueError(f"{key!r} must be an integer in [0, {high}]; got {value!r}")
        self._steps_since_training = int(state["steps_since_training"])
        self._n_updates = int(state["n_updates"])
