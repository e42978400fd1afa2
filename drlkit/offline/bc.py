r"""Behaviour cloning (BC): supervised learning of the dataset's actions.

BC ignores rewards. It fits a policy :math:`\pi_\theta` to the behaviour
policy :math:`\pi_\beta` that made the data by maximum likelihood
(Pomerleau 1991, *Efficient training of artificial neural networks for autonomous
navigation*; Bain & Sammut 1995, *A framework for behavioural cloning*):

* **Discrete actions** -- a classifier: logits :math:`z_\theta(s)` ``(B, n_actions)``,
  cross-entropy :math:`L(\theta) = -\frac1B \sum_i \log \mathrm{softmax}(z_\theta(s_i))_{a_i}`;
  the policy acts with :math:`\arg\max_a z_\theta(s)_a`.
* **Continuous actions** (a Box of bounds ``[low, high]``) -- a regression: a
  deterministic policy :math:`\mu_\theta(s) = c + h \tanh(f_\theta(s))` with centre
  :math:`c` and half-width :math:`h` of the box (so it never leaves it), mean squared error
  :math:`L(\theta) = \frac1B \sum_i \lVert \mu_\theta(s_i) - a_i \rVert^2`
  (maximum likelihood for a Gaussian policy of fixed variance).

BC copies the data: on expert data it is hard to beat, on random data it
learns a random policy. It also suffers *compounding errors*: a small mistake
leads to states the expert never visited, where the policy was never trained.
Offline RL methods (:mod:`drlkit.offline.cql`, :mod:`drlkit.offline.td3bc`) use the
rewards to do better than the data.

>>> from drlkit.offline import BC, collect
>>> data = collect("CartPole-v1", expert, steps=10_000)     # doctest: +SKIP
>>> agent = BC("CartPole-v1", data=data, seed=0)             # doctest: +SKIP
>>> agent.train(2_000); agent.evaluate(10).mean()            # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import torch
import torch.nn.functional as F
from torch import nn

from ..agents.base import mlp
from .base import OfflineAgent, OfflineConfig


@dataclass
class BCConfig(OfflineConfig):
    """BC hyperparameters (all from :class:`~drlkit.offline.base.OfflineConfig`); the defaults
    reach the expert's return on CartPole-v1 expert data in about 1,000 gradient steps."""


def bc_loss(output: torch.Tensor, actions: torch.Tensor, discrete: bool) -> torch.Tensor:
    """Cross-entropy of logits ``output (B, n_actions)`` at integer ``actions (B,)`` (discrete), or the
    mean over the batch of the squared error ``||output - actions||^2`` for ``(B, act_dim)`` (continuous)."""
    if discrete:
        return F.cross_entropy(output, actions.long())
    return (output - actions).pow(2).sum(-1).mean()


class BC(OfflineAgent):
    """Behaviour cloning for Discrete and Box actions (see module docstring)."""

    Config = BCConfig
    LOG_KEYS = ("loss", "accuracy")
    ACTION_SPACES = (gym.spaces.Discrete, gym.spaces.Box)

    def _build_networks(self) -> None:
        cfg = self.config
        obs_dim = int(self.observation_space.shape[0])
        self.discrete = isinstance(self.action_space, gym.spaces.Discrete)
        out = int(self.action_space.n) if self.discrete else int(self.action_space.shape[0])
        self.policy = mlp(obs_dim, cfg.hidden_sizes, out, cfg.activation)
        if not self.discrete:
            low, high = (
                torch.as_tensor(b, dtype=torch.float32) for b in (self.action_space.low, self.action_space.high)
            )
            self._centre, self._half = (high + low) / 2, (high - low) / 2
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=cfg.learning_rate)

    def networks(self) -> dict[str, nn.Module]:
        return {"policy": self.policy}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"policy": self.optimizer}

    def _output(self, obs: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, n_actions)`` or actions ``(B, act_dim)`` inside the box."""
        out = self.policy(obs)
        return out if self.discrete else self._centre + self._half * torch.tanh(out)

    def _loss(self, batch):
        output = self._output(batch["obs"])
        loss = bc_loss(output, batch["actions"], self.discrete)
        if self.discrete:
            accuracy = (output.argmax(1) == batch["actions"]).float().mean()
        else:  # fraction of actions reproduced within 10 % of the box width
            accuracy = ((output - batch["actions"]).abs() <= 0.2 * self._half).all(-1).float().mean()
        return loss, {"loss": loss.detach(), "accuracy": accuracy}

    @torch.no_grad()
    def _act_batch(self, obs: torch.Tensor, deterministic: bool) -> torch.Tensor:
        out = self._output(obs)
        return out.argmax(1) + int(self.action_space.start) if self.discrete else out
