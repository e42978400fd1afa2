"""REINFORCE: the Monte-Carlo policy gradient (Williams 1992), with an optional learned baseline.

The policy-gradient theorem gives the gradient of the expected return
:math:`J(\\theta)` as

.. math::
    \\nabla_\\theta J(\\theta) = \\mathbb E\\Big[\\sum_t \\nabla_\\theta \\log\\pi_\\theta(a_t|s_t)\\,
    \\big(G_t - b(s_t)\\big)\\Big], \\qquad G_t = \\sum_{k \\ge t} \\gamma^{k-t} r_k,

for any baseline :math:`b(s)` that does not depend on the action. REINFORCE
estimates it with sampled episodes: :math:`G_t` is the actual discounted
reward-to-go observed until the end of the episode (no bootstrapping). With
``baseline=True`` a critic :math:`V_\\phi` is fitted to :math:`G_t` by least
squares and used as :math:`b` -- same expectation, lower variance; with
``baseline=False``, :math:`b = 0`.

Each update collects ``n_steps`` steps in each of ``num_envs`` environments
(``(T, N)`` arrays) and takes one gradient step on

.. math::
    \\mathcal L = -\\frac{1}{M}\\sum_{\\text{complete}} \\log\\pi_\\theta(a_t|s_t)\\,\\hat A_t
    + c_v \\frac{1}{M}\\sum_{\\text{complete}} \\big(V_\\phi(s_t) - G_t\\big)^2
    - c_e \\frac{1}{M}\\sum_{\\text{complete}} H(\\pi_\\theta(\\cdot|s_t)),
    \\qquad \\hat A_t = G_t - b(s_t),

where the sums run over the ``M`` steps whose episode ended inside the rollout:
a step of an episode still running at the end has no Monte-Carlo return yet
and is left out (its environment continues in the next rollout, where the
rest of that episode counts). ``normalize_advantage`` rescales
:math:`\\hat A` to zero mean and unit variance within the batch -- a common
variance reduction that changes the step size, not the direction on average.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from .._checks import check_number
from .advantages import monte_carlo_returns
from .base import Fragment
from .on_policy import OnPolicyAgent, OnPolicyConfig, check_flag, fragment_tensors


@dataclass
class REINFORCEConfig(OnPolicyConfig):
    """REINFORCE hyperparameters. ``n_steps`` per environment should exceed the
    typical episode length, since only finished episodes are learned from."""

    learning_rate: float = 3e-3
    gamma: float = 0.99
    num_envs: int = 4
    #: Steps taken in each environment per update, >= 1; should exceed the typical episode length,
    #: since only finished episodes are learned from.
    n_steps: int = 500
    #: Learn a critic V(s) and subtract it from the returns (lower variance): True or False.
    baseline: bool = True
    #: Weight c_v >= 0 of the critic's squared error in the loss (with ``baseline``).
    vf_coef: float = 0.5
    #: Weight c_e >= 0 of the entropy bonus (more exploration); 0: the entropy is only logged.
    ent_coef: float = 0.0
    #: Standardise the weights G_t - b(s_t) over each batch (zero mean, unit variance): True or False.
    normalize_advantage: bool = True

    def validate(self) -> None:
        super().validate()
        self.baseline = check_flag("baseline", self.baseline)
        self.vf_coef = check_number("vf_coef", self.vf_coef, low=0)
        self.ent_coef = check_number("ent_coef", self.ent_coef, low=0)
        self.normalize_advantage = check_flag("normalize_advantage", self.normalize_advantage)


class REINFORCE(OnPolicyAgent):
    """Monte-Carlo policy gradient with an optional learned baseline (see module docstring)."""

    Config = REINFORCEConfig
    config: REINFORCEConfig
    LOG_KEYS: ClassVar[tuple[str, ...]] = ("policy_loss", "value_loss", "entropy", "complete_fraction")

    def _uses_critic(self) -> bool:
        return self.config.baseline

    def _build_optimizers(self) -> None:
        self.optimizer = torch.optim.Adam(list(self._trainable.values()), lr=self.config.learning_rate)

    def _loss(self, fragment: Fragment) -> tuple[torch.Tensor | None, dict[str, float]]:
        """The loss over the fragment's complete steps (``None`` if no episode ended in it)."""
        c, d = self.config, fragment.data
        returns_np, complete = monte_carlo_returns(d["rewards"], d["dones"], c.gamma)
        keep = torch.from_numpy(complete.reshape(-1))
        metrics = {"complete_fraction": float(complete.mean())}
        if not keep.any():
            return None, metrics
        obs, actions = (x[keep] for x in fragment_tensors(fragment, "obs", "actions"))
        returns = torch.from_numpy(returns_np.reshape(-1))[keep]

        dist = self.policy(obs)
        if self.value is not None:
            values = self.value(obs)
            advantages = returns - values.detach()  # the baseline must not carry the policy gradient
            value_loss = (values - returns).pow(2).mean()
        else:
            advantages, value_loss = returns, torch.zeros(())
        if c.normalize_advantage and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        policy_loss = -(dist.log_prob(actions) * advantages).mean()
        entropy = dist.entropy().mean()
        loss = policy_loss + c.vf_coef * value_loss
        if c.ent_coef > 0:  # otherwise the entropy is only logged, and backward skips it
            loss = loss - c.ent_coef * entropy
        metrics.update(policy_loss=policy_loss.item(), value_loss=value_loss.item(), entropy=entropy.item())
        return loss, metrics

    def compute_gradients(self, fragment: Fragment) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Gradient of the REINFORCE loss on ``fragment`` at the current parameters; no step is taken."""
        loss, metrics = self._loss(fragment)  # loss is None when no episode ended: the gradient is zero
        return self._loss_gradients(loss), metrics

    def apply_gradients(self, gradients: dict[str, np.ndarray]) -> None:
        """One optimizer step (after gradient-norm clipping) with the given gradients."""
        self._step_with_gradients(gradients)

    def learn_from(self, fragment: Fragment) -> dict[str, float]:
        """One gradient step on the fragment's finished episodes (none if no episode ended)."""
        gradients, metrics = self.compute_gradients(fragment)
        if metrics["complete_fraction"] > 0:
            self.apply_gradients(gradients)
        return metrics
