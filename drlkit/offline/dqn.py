r"""Naive offline DQN: the same DQN, learning only from a fixed dataset.

The loss is DQN's (:mod:`drlkit.agents.dqn`): the Huber loss of
:math:`Q_\theta(s, a) - y` with the (Double) DQN target computed by the same
:func:`~drlkit.agents.dqn.td_target`

.. math:: y = r + \gamma (1 - d) \max_{a'} Q_{\bar\theta}(s', a'),

on minibatches drawn from the dataset instead of a replay buffer that keeps
growing. Nothing else changes -- and that is the point: it is the baseline that
shows why offline RL needs its own algorithms.

**Extrapolation error** (Fujimoto, Meger & Precup 2019, *Off-policy deep
reinforcement learning without exploration*; Kumar et al. 2019). The max in the
target looks at *every* action in :math:`s'`, including actions the behaviour
policy never took there. Their Q-values are never corrected by data, so errors
in them -- and the max picks the ones that happen to be too high -- propagate
through bootstrapping. Online, the agent would try such an action and learn it
is bad; offline it cannot. The result: Q-values far above the returns the
greedy policy actually gets (measure it with
:func:`drlkit.offline.q_overestimation`) and a policy that heads for actions the
data says nothing about. :mod:`drlkit.offline.cql` fixes this.

Shapes in a gradient step (batch ``B``): ``obs, next_obs (B, obs_dim)``,
``actions, rewards, terminated (B,)``, ``Q_θ(obs) (B, n_actions)``, target ``y (B,)``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_number
from ..agents.base import mlp
from ..agents.dqn import td_target
from ..envs.make import env_id_of
from .base import OfflineAgent, OfflineConfig


@dataclass
class OfflineDQNConfig(OfflineConfig):
    """Offline DQN hyperparameters (plus :class:`~drlkit.offline.base.OfflineConfig`'s)."""

    #: Learning rate of Adam, in (0, 1].
    learning_rate: float = 5e-4
    #: Gradient steps between target-network updates, >= 1.
    target_update_interval: int = 100
    #: Target update rate: θ̄ <- τθ + (1-τ)θ̄, in (0, 1]; 1 copies.
    tau: float = 1.0
    #: Use the Double DQN target (online network picks a', target network evaluates it).
    double_dqn: bool = False

    def validate(self) -> None:
        super().validate()
        check_number("target_update_interval", self.target_update_interval, low=1, integer=True)
        check_number("tau", self.tau, low=0, high=1, low_open=True)
        if not isinstance(self.double_dqn, (bool, np.bool_)):
            raise TypeError(f"double_dqn must be True or False, got {self.double_dqn!r}")


class OfflineDQN(OfflineAgent):
    """DQN trained on a dataset only (see module docstring)."""

    Config = OfflineDQNConfig
    LOG_KEYS: ClassVar[tuple[str, ...]] = ("loss", "td_loss", "q_mean")
    ACTION_SPACES = (gym.spaces.Discrete,)
    config: OfflineDQNConfig

    def _check_spaces(self) -> None:
        if not isinstance(self.action_space, gym.spaces.Discrete):
            raise ValueError(
                f"{type(self).__name__} needs Discrete actions (it takes a max over Q(s, a)); "
                f"{env_id_of(self.env_spec) or 'this env'} has {self.action_space}. "
                "For continuous actions use BC or TD3BC."
            )
        super()._check_spaces()

    def _build_networks(self) -> None:
        cfg = self.config
        obs_dim = int(self.observation_space.shape[0])
        self.n_actions = int(self.action_space.n)
        self.q_net = mlp(obs_dim, cfg.hidden_sizes, self.n_actions, cfg.activation)
        self.target_net = copy.deepcopy(self.q_net).requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.q_net.parameters(), lr=cfg.learning_rate)

    def networks(self) -> dict[str, nn.Module]:
        # The target network is part of the state: workers need it to compute the same targets.
        return {"q_net": self.q_net, "target_net": self.target_net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"q_net": self.optimizer}

    @torch.no_grad()
    def q_values(self, obs: Any) -> np.ndarray:
        """Q-values ``(n_actions,)`` for one observation or ``(B, n_actions)`` for a batch."""
        obs_arr = np.asarray(obs, dtype=np.float32)
        q = self.q_net(torch.as_tensor(obs_arr[None] if obs_arr.ndim == 1 else obs_arr)).numpy()
        return q[0] if obs_arr.ndim == 1 else q

    def _td_loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """DQN's Huber TD loss and ``Q_θ(obs) (B, n_actions)``."""
        with torch.no_grad():
            next_online = self.q_net(batch["next_obs"]) if self.config.double_dqn else None
            target = td_target(
                batch["rewards"],
                batch["terminated"],
                self.target_net(batch["next_obs"]),
                self.config.gamma,
                next_online,
            )
        q_all = self.q_net(batch["obs"])
        q_taken = q_all.gather(1, batch["actions"].long()[:, None]).squeeze(1)
        return F.smooth_l1_loss(q_taken, target), q_all

    def _loss(self, batch):
        td, q_all = self._td_loss(batch)
        q_taken = q_all.gather(1, batch["actions"].long()[:, None]).squeeze(1)
        return td, {"loss": td.detach(), "td_loss": td.detach(), "q_mean": q_taken.detach().mean()}

    @torch.no_grad()
    def _after_update(self) -> None:
        if self._n_updates % self.config.target_update_interval == 0:
            for target, online in zip(self.target_net.parameters(), self.q_net.parameters()):
                target.lerp_(online, self.config.tau)

    @torch.no_grad()
    def _act_batch(self, obs: torch.Tensor, deterministic: bool) -> torch.Tensor:
        return self.q_net(obs).argmax(dim=1) + int(self.action_space.start)
