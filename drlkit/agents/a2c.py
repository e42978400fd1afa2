"""Advantage Actor-Critic, synchronous (A2C; Mnih et al. 2016, "Asynchronous Methods for Deep RL",
run synchronously over vector environments).

Every update uses a short rollout of ``n_steps`` steps in each of ``num_envs``
environments -- ``(T, N)`` transitions with ``T = n_steps`` -- and takes **one**
gradient step on

.. math::
    \\mathcal L = -\\frac{1}{TN}\\sum_{t,n} \\log\\pi_\\theta(a_t|s_t)\\,\\hat A_t
    + c_v\\,\\frac{1}{TN}\\sum_{t,n}\\big(V_\\phi(s_t) - \\hat R_t\\big)^2
    - c_e\\,\\frac{1}{TN}\\sum_{t,n} H\\big(\\pi_\\theta(\\cdot|s_t)\\big)

where the advantage is the n-step one, bootstrapped from the critic at the end
of the rollout (or at a time-limit truncation, never at a termination):

.. math::
    \\hat R_t = r_t + \\gamma r_{t+1} + \\dots + \\gamma^{T-t-1} r_{T-1} + \\gamma^{T-t} V_\\phi(s_T),
    \\qquad \\hat A_t = \\hat R_t - V_\\phi(s_t).

This is :func:`~drlkit.agents.advantages.compute_gae` with ``gae_lambda = 1``
(the default); smaller ``gae_lambda`` trades variance for bias.

Because the loss is a plain mean over the ``T*N`` samples, the gradient of a
fragment split in equal parts is the mean of the parts' gradients: averaging
:meth:`A2C.compute_gradients` over Dask workers is exactly A2C on the union of
their rollouts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from .._checks import check_choice, check_number
from .advantages import fragment_advantages
from .base import Fragment
from .on_policy import OnPolicyAgent, OnPolicyConfig, check_flag, explained_variance, fragment_tensors

OPTIMIZERS = ("rmsprop", "adam", "sgd")


@dataclass
class A2CConfig(OnPolicyConfig):
    """A2C hyperparameters; the defaults solve CartPole-v1.

    ``optimizer`` is ``"rmsprop"`` (as in the A3C paper), ``"adam"`` or plain ``"sgd"``.
    """

    learning_rate: float = 7e-4
    gamma: float = 0.99
    num_envs: int = 8
    n_steps: int = 5
    #: λ of generalized advantage estimation, in [0, 1]; 1 (the default) is A2C's n-step return.
    gae_lambda: float = 1.0
    #: Weight c_e >= 0 of the entropy bonus (more exploration); 0: the entropy is only logged.
    ent_coef: float = 0.0
    #: Weight c_v >= 0 of the critic's squared error in the loss.
    vf_coef: float = 0.5
    #: Standardise the advantages over each rollout (zero mean, unit variance): True or False.
    normalize_advantage: bool = False
    #: ``"rmsprop"`` (as in the A3C paper), ``"adam"`` or plain ``"sgd"``.
    optimizer: str = "rmsprop"

    def validate(self) -> None:
        super().validate()
        self.gae_lambda = check_number("gae_lambda", self.gae_lambda, low=0, high=1)
        self.ent_coef = check_number("ent_coef", self.ent_coef, low=0)
        self.vf_coef = check_number("vf_coef", self.vf_coef, low=0)
        self.normalize_advantage = check_flag("normalize_advantage", self.normalize_advantage)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)


class A2C(OnPolicyAgent):
    """Synchronous n-step advantage actor-critic over vector environments (see module docstring)."""

    Config = A2CConfig
    config: A2CConfig
    LOG_KEYS: ClassVar[tuple[str, ...]] = ("policy_loss", "value_loss", "entropy", "explained_variance")

    def _build_optimizers(self) -> None:
        params = list(self._trainable.values())
        lr = self.config.learning_rate
        if self.config.optimizer == "rmsprop":
            self.optimizer = torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-5)
        elif self.config.optimizer == "adam":
            self.optimizer = torch.optim.Adam(params, lr=lr, eps=1e-5)
        else:
            self.optimizer = torch.optim.SGD(params, lr=lr)

    def _loss(self, fragment: Fragment) -> tuple[torch.Tensor, dict[str, float]]:
        c, d = self.config, fragment.data
        advantages, returns = fragment_advantages(d, c.gamma, c.gae_lambda, c.normalize_advantage)
        obs, actions = fragment_tensors(fragment, "obs", "actions")

        dist = self.policy(obs)
        # The advantages are constants (numpy): the policy gradient does not flow into the critic.
        policy_loss = -(dist.log_prob(actions) * advantages).mean()
        values = self.critic(obs)
        value_loss = (values - returns).pow(2).mean()
        entropy = dist.entropy().mean()
        loss = policy_loss + c.vf_coef * value_loss
        if c.ent_coef > 0:  # otherwise the entropy is only logged, and backward skips it
            loss = loss - c.ent_coef * entropy
        metrics = {
            "policy_loss": policy_loss.item(),
            "value_loss": value_loss.item(),
            "entropy": entropy.item(),
            "explained_variance": explained_variance(d["values"].ravel(), returns.numpy()),
        }
        return loss, metrics

    def compute_gradients(self, fragment: Fragment) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Gradient of the A2C loss on ``fragment`` at the current parameters; no step is taken."""
        loss, metrics = self._loss(fragment)
        return self._loss_gradients(loss), metrics

    def apply_gradients(self, gradients: dict[str, np.ndarray]) -> None:
        """One optimizer step (after gradient-norm clipping) with the given gradients."""
        self._step_with_gradients(gradients)

    def learn_from(self, fragment: Fragment) -> dict[str, float]:
        """One gradient step on the fragment: exactly ``apply_gradients(compute_gradients(fragment))``."""
        gradients, metrics = self.compute_gradients(fragment)
        self.apply_gradients(gradients)
        return metrics
