r"""TD3+BC: offline RL for continuous actions as TD3 plus a behaviour-cloning term.

Fujimoto & Gu 2021, *A Minimalist Approach to Offline Reinforcement Learning* (NeurIPS).

TD3 (Fujimoto, van Hoof & Meger 2018) learns two critics :math:`Q_{\phi_1}, Q_{\phi_2}`
and a deterministic actor :math:`\mu_\theta(s)` inside the action box. Critic
target, with target networks (bars) and clipped target-policy noise:

.. math::

    \tilde a = \mathrm{clip}\big(\mu_{\bar\theta}(s') + \mathrm{clip}(\epsilon, -c, c),\ \text{low}, \text{high}\big),
    \quad \epsilon \sim \mathcal N(0, \sigma^2)

    y = r + \gamma (1 - d) \min_{j=1,2} Q_{\bar\phi_j}(s', \tilde a),
    \qquad L(\phi_j) = \tfrac1B \textstyle\sum (Q_{\phi_j}(s, a) - y)^2 .

The minimum of two critics counters overestimation. Every ``policy_delay`` critic
steps the actor maximises the critic -- and, offline, stays close to the data's
actions, which is the whole change TD3+BC makes:

.. math::

    L(\theta) = -\lambda\, \tfrac1B \textstyle\sum Q_{\phi_1}(s, \mu_\theta(s))
                + \tfrac1B \textstyle\sum \lVert \mu_\theta(s) - a \rVert^2,
    \qquad \lambda = \frac{\alpha}{\tfrac1B \sum |Q_{\phi_1}(s, a)|}.

Dividing by the batch's mean :math:`|Q|` makes :math:`\alpha` (``bc_alpha``, 2.5 in the paper)
independent of the reward scale. Target networks follow
:math:`\bar x \leftarrow \tau x + (1 - \tau)\bar x` after each actor step.
Shapes (batch ``B``): ``obs (B, obs_dim)``, ``actions (B, act_dim)``, critics ``(B,)``.

TD3+BC takes two optimizers per step in a fixed order, so it trains in one
process (``agent.train``); it has no ``compute_gradients`` hook for ``sync_grad``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import gymnasium as gym
import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_number
from ..agents.base import Agent, Timer, mlp
from ..envs.make import env_id_of
from .base import OfflineAgent, OfflineConfig


@dataclass
class TD3BCConfig(OfflineConfig):
    """TD3+BC hyperparameters (plus :class:`~drlkit.offline.base.OfflineConfig`'s)."""

    #: Learning rate of both Adam optimizers, in (0, 1].
    learning_rate: float = 1e-3
    #: Hidden layers of the actor and of each critic: a tuple of widths, each >= 1.
    hidden_sizes: tuple[int, ...] = (64, 64)
    #: α of the paper: weight of the critic term relative to the BC term, >= 0 (0 = pure BC).
    bc_alpha: float = 2.5
    #: Critic steps per actor (and target) step, >= 1.
    policy_delay: int = 2
    #: Target-network update rate τ, in (0, 1].
    tau: float = 0.005
    #: Std of the target-policy noise, as a fraction of the action box's half-width, >= 0.
    policy_noise: float = 0.2
    #: Clip of that noise (same unit), >= 0.
    noise_clip: float = 0.5

    def validate(self) -> None:
        super().validate()
        check_number("bc_alpha", self.bc_alpha, low=0)
        check_number("policy_delay", self.policy_delay, low=1, integer=True)
        check_number("tau", self.tau, low=0, high=1, low_open=True)
        check_number("policy_noise", self.policy_noise, low=0)
        check_number("noise_clip", self.noise_clip, low=0)


class TD3BC(OfflineAgent):
    """TD3+BC for Box actions (see module docstring)."""

    Config = TD3BCConfig
    LOG_KEYS = ("critic_loss", "actor_loss", "bc_loss", "q_mean")
    ACTION_SPACES = (gym.spaces.Box,)
    config: TD3BCConfig

    def _check_spaces(self) -> None:
        if not isinstance(self.action_space, gym.spaces.Box) or len(self.action_space.shape) != 1:
            raise ValueError(
                f"TD3BC needs a 1-D Box action space; {env_id_of(self.env_spec) or 'this env'} has "
                f"{self.action_space}. For Discrete actions use CQL or BC."
            )
        super()._check_spaces()

    def _build_networks(self) -> None:
        cfg = self.config
        obs_dim, act_dim = int(self.observation_space.shape[0]), int(self.action_space.shape[0])
        low = torch.as_tensor(self.action_space.low, dtype=torch.float32)
        high = torch.as_tensor(self.action_space.high, dtype=torch.float32)
        self._centre, self._half, self._low, self._high = (high + low) / 2, (high - low) / 2, low, high
        self.actor = mlp(obs_dim, cfg.hidden_sizes, act_dim, cfg.activation)
        self.critic1 = mlp(obs_dim + act_dim, cfg.hidden_sizes, 1, cfg.activation)
        self.critic2 = mlp(obs_dim + act_dim, cfg.hidden_sizes, 1, cfg.activation)
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic1_target = copy.deepcopy(self.critic1).requires_grad_(False)
        self.critic2_target = copy.deepcopy(self.critic2).requires_grad_(False)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=cfg.learning_rate)
        self.critic_optimizer = torch.optim.Adam(
            [*self.critic1.parameters(), *self.critic2.parameters()], lr=cfg.learning_rate
        )
        self._last_actor = {"actor_loss": torch.tensor(0.0), "bc_loss": torch.tensor(0.0)}

    def networks(self) -> dict[str, nn.Module]:
        return {
            "actor": self.actor,
            "critic1": self.critic1,
            "critic2": self.critic2,
            "actor_target": self.actor_target,
            "critic1_target": self.critic1_target,
            "critic2_target": self.critic2_target,
        }

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"actor": self.actor_optimizer, "critic": self.critic_optimizer}

    def _mu(self, net: nn.Module, obs: torch.Tensor) -> torch.Tensor:
        """Deterministic action ``(B, act_dim)`` inside the box: centre + half-width · tanh."""
        return self._centre + self._half * torch.tanh(net(obs))

    @staticmethod
    def _q(net: nn.Module, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return net(torch.cat([obs, actions], dim=-1)).squeeze(-1)

    def _update(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        cfg = self.config
        obs, actions = batch["obs"], batch["actions"]
        with torch.no_grad():
            noise = (torch.randn(actions.shape, generator=self.torch_rng) * cfg.policy_noise).clamp(
                -cfg.noise_clip, cfg.noise_clip
            ) * self._half
            next_actions = torch.max(
                torch.min(self._mu(self.actor_target, batch["next_obs"]) + noise, self._high), self._low
            )
            next_q = torch.min(
                self._q(self.critic1_target, batch["next_obs"], next_actions),
                self._q(self.critic2_target, batch["next_obs"], next_actions),
            )
            target = batch["rewards"] + cfg.gamma * (1.0 - batch["terminated"]) * next_q
        q1, q2 = self._q(self.critic1, obs, actions), self._q(self.critic2, obs, actions)
        critic_loss = F.mse_loss(q1, target) + F.mse_loss(q2, target)
        self.critic_optimizer.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_optimizer.step()
        self._n_updates += 1
        if self._n_updates % cfg.policy_delay == 0:
            pi = self._mu(self.actor, obs)
            q_pi = self._q(self.critic1, obs, pi)
            lam = cfg.bc_alpha / q_pi.abs().mean().detach().clamp(min=1e-6)
            bc = (pi - actions).pow(2).sum(-1).mean()
            actor_loss = -lam * q_pi.mean() + bc
            self.actor_optimizer.zero_grad(set_to_none=True)
            actor_loss.backward()
            self.actor_optimizer.step()
            with torch.no_grad():
                for net, target_net in (
                    (self.actor, self.actor_target),
                    (self.critic1, self.critic1_target),
                    (self.critic2, self.critic2_target),
                ):
                    for p, tp in zip(net.parameters(), target_net.parameters()):
                        tp.lerp_(p, cfg.tau)
            self._last_actor = {"actor_loss": actor_loss.detach(), "bc_loss": bc.detach()}
        return {"critic_loss": critic_loss.detach(), **self._last_actor, "q_mean": q1.detach().mean()}

    def _train(self, until_step: int, timer: Timer, callbacks) -> None:
        self._require_data()
        while self.total_steps < until_step:
            metrics = self._update(self.sample(self.config.batch_size))
            self.total_steps += 1
            if not self._log(metrics, timer, callbacks):
                return

    @torch.no_grad()
    def _act_batch(self, obs: torch.Tensor, deterministic: bool) -> torch.Tensor:
        return self._mu(self.actor, obs)

    # TD3+BC's two optimizers step in a fixed order: it has no single-gradient hooks, and
    # drlkit.distributed.train says so (it sees the base class's unimplemented hooks).
    collect = Agent.collect
    compute_gradients = Agent.compute_gradients
    apply_gradients = Agent.apply_gradients
