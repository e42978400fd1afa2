"""Proximal Policy Optimization (Schulman et al. 2017, "Proximal Policy Optimization Algorithms").

PPO repeats: collect ``n_steps`` steps in each of ``num_envs`` environments with
the current policy :math:`\\pi_{\\text{old}}`, then improve the policy for
``n_epochs`` passes over that data in shuffled minibatches of ``batch_size``,
maximising the *clipped surrogate objective*

.. math::
    L^{\\text{CLIP}}(\\theta) = \\mathbb E_t\\Big[\\min\\big(\\rho_t(\\theta)\\hat A_t,\\
    \\mathrm{clip}(\\rho_t(\\theta), 1-\\epsilon, 1+\\epsilon)\\hat A_t\\big)\\Big],
    \\qquad \\rho_t(\\theta) = \\frac{\\pi_\\theta(a_t|s_t)}{\\pi_{\\text{old}}(a_t|s_t)},

with :math:`\\epsilon` = ``clip_range``. Taking the minimum removes any incentive
to move the ratio outside :math:`[1-\\epsilon, 1+\\epsilon]`, so many gradient
steps on the same batch stay close to the policy that collected it -- a cheap
stand-in for TRPO's KL constraint.

The advantages :math:`\\hat A_t` are generalized advantage estimates
(:func:`drlkit.agents.advantages.compute_gae`, ``gae_lambda``); the critic
:math:`V_\\phi` regresses on :math:`\\hat R_t = \\hat A_t + V_{\\text{old}}(s_t)`. The
loss minimised per minibatch is

.. math::
    \\mathcal L = -L^{\\text{CLIP}} + c_v\\,\\mathbb E_t\\big[(V_\\phi(s_t) - \\hat R_t)^2\\big]
    - c_e\\,\\mathbb E_t\\big[H(\\pi_\\theta(\\cdot|s_t))\\big]

(``vf_coef`` :math:`c_v`, ``ent_coef`` :math:`c_e`). With ``clip_range_vf`` set,
the value error is also clipped: :math:`\\max\\big((V_\\phi-\\hat R)^2,
(V_{\\text{old}} + \\mathrm{clip}(V_\\phi - V_{\\text{old}}, \\pm\\epsilon_v) - \\hat R)^2\\big)`.
With ``normalize_advantage`` the advantages are standardised (zero mean, unit
variance) over each fragment. With ``anneal_steps`` set, the learning rate and
the clip range decay linearly to 0 over that many environment steps (progress
is ``self.total_steps``).

Shapes: a fragment holds ``(T, N, ...)`` arrays (``T = n_steps``, ``N = num_envs``),
flattened to ``T*N`` samples for the minibatches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Iterable

import numpy as np
import torch

from .._checks import check_number
from .advantages import fragment_advantages
from .base import Fragment
from .on_policy import OnPolicyAgent, OnPolicyConfig, check_flag, explained_variance, fragment_tensors


@dataclass
class PPOConfig(OnPolicyConfig):
    """PPO hyperparameters; the defaults solve CartPole-v1, typically within 10-30k steps.

    ``batch_size`` is the minibatch size (at most ``n_steps * num_envs``);
    ``anneal_steps`` the horizon in environment steps over which learning rate
    and clip range decay linearly to 0 (``None``: constant). The default
    learning rate is large, for speed; for a long run, setting ``anneal_steps``
    to its length lets the final policy settle instead of wandering.
    """

    #: Adam step size, in (0, 1]; decays linearly to 0 with ``anneal_steps``.
    learning_rate: float = 5e-3
    gamma: float = 0.98
    num_envs: int = 8
    n_steps: int = 32
    #: Samples per minibatch, in [1, ``n_steps * num_envs``] (the rollout size).
    batch_size: int = 256
    #: Passes over each rollout, >= 1: each pass is one Adam step per minibatch.
    n_epochs: int = 6
    #: λ of generalized advantage estimation, in [0, 1]: 0 is the one-step TD error (low variance,
    #: biased), 1 the Monte-Carlo return minus V (unbiased, high variance).
    gae_lambda: float = 0.8
    #: ε of the clipped objective, in (0, 1]: the probability ratio counts only within [1-ε, 1+ε];
    #: decays linearly to 0 with ``anneal_steps``.
    clip_range: float = 0.2
    #: Clip range (> 0) of the value prediction around the value at collection; ``None``: unclipped.
    clip_range_vf: float | None = None
    #: Weight c_e >= 0 of the entropy bonus (more exploration); 0: the entropy is only logged.
    ent_coef: float = 0.0
    #: Weight c_v >= 0 of the critic's squared error in the loss.
    vf_coef: float = 0.5
    #: Standardise the advantages over each rollout (zero mean, unit variance): True or False.
    normalize_advantage: bool = True
    #: Environment steps over which learning rate and clip range decay linearly to 0, >= 1;
    #: ``None``: constant.
    anneal_steps: int | None = None

    def validate(self) -> None:
        super().validate()
        self.batch_size = check_number("batch_size", self.batch_size, low=1, integer=True)
        if self.batch_size > self.n_steps * self.num_envs:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be at most n_steps * num_envs "
                f"({self.n_steps} * {self.num_envs} = {self.n_steps * self.num_envs}), the rollout size"
            )
        self.n_epochs = check_number("n_epochs", self.n_epochs, low=1, integer=True)
        self.gae_lambda = check_number("gae_lambda", self.gae_lambda, low=0, high=1)
        self.clip_range = check_number("clip_range", self.clip_range, low=0, high=1, low_open=True)
        if self.clip_range_vf is not None:
            self.clip_range_vf = check_number("clip_range_vf", self.clip_range_vf, low=0, low_open=True)
        self.ent_coef = check_number("ent_coef", self.ent_coef, low=0)
        self.vf_coef = check_number("vf_coef", self.vf_coef, low=0)
        self.normalize_advantage = check_flag("normalize_advantage", self.normalize_advantage)
        if self.anneal_steps is not None:
            self.anneal_steps = check_number("anneal_steps", self.anneal_steps, low=1, integer=True)


class PPO(OnPolicyAgent):
    """Proximal Policy Optimization with GAE, clipped surrogate and minibatch epochs (see module docstring).

    >>> agent = PPO("CartPole-v1", seed=0)            # doctest: +SKIP
    >>> agent.train(100_000); agent.evaluate().mean()  # doctest: +SKIP
    """

    Config = PPOConfig
    config: PPOConfig
    LOG_KEYS: ClassVar[tuple[str, ...]] = (
        "policy_loss",
        "value_loss",
        "entropy",
        "approx_kl",
        "clip_fraction",
        "explained_variance",
        "learning_rate",
        "clip_range",
    )

    @classmethod
    def pendulum_config(cls) -> dict[str, Any]:
        """Hyperparameters that solve Pendulum-v1 (mean return above -250), typically in
        50-60k steps: ``PPO("Pendulum-v1", **PPO.pendulum_config())``.

        Longer rollouts than on CartPole (the reward is dense and noisy), a short
        discount horizon (``gamma=0.9``: swinging up pays off within a few dozen
        steps), an initial action std of ``exp(-0.5)`` and a learning rate
        annealed to 0 over 150k steps. The same values as ``PPO.preset("Pendulum-v1")``
        (:mod:`drlkit.agents.presets`)."""
        from .presets import preset_values

        return preset_values("PPO", "Pendulum-v1")

    def _build_optimizers(self) -> None:
        params = [p for net in self.networks().values() for p in net.parameters()]
        self.optimizer = torch.optim.Adam(params, lr=self.config.learning_rate, eps=1e-5, fused=True)

    # ------------------------------------------------------------- schedule
    def _schedule(self) -> tuple[float, float]:
        """Learning rate and clip range now: constant, or decayed linearly over ``anneal_steps``."""
        c = self.config
        remaining = 1.0 if c.anneal_steps is None else max(0.0, 1.0 - self.total_steps / c.anneal_steps)
        learning_rate, clip_range = c.learning_rate * remaining, c.clip_range * remaining
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate
        return learning_rate, clip_range

    # ----------------------------------------------------------------- loss
    def _batch(self, fragment: Fragment) -> dict[str, torch.Tensor]:
        """The fragment flattened to ``T*N`` samples, with GAE advantages (normalised over the
        fragment if ``normalize_advantage``) and value targets."""
        c = self.config
        advantages, returns = fragment_advantages(fragment.data, c.gamma, c.gae_lambda, c.normalize_advantage)
        obs, actions, log_probs, values = fragment_tensors(fragment, "obs", "actions", "log_probs", "values")
        return {
            "obs": obs,
            "actions": actions,
            "old_log_probs": log_probs,
            "old_values": values,
            "advantages": advantages,
            "returns": returns,
        }

    def _loss(self, batch: dict[str, torch.Tensor], clip_range: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The PPO loss on a (mini)batch of samples and its diagnostics."""
        c = self.config
        dist = self.policy(batch["obs"])
        log_probs = dist.log_prob(batch["actions"])
        log_ratio = log_probs - batch["old_log_probs"]
        ratio = log_ratio.exp()
        advantages = batch["advantages"]
        # Pessimistic bound: the clipped term only counts when it is the smaller one.
        surrogate = torch.min(ratio * advantages, ratio.clamp(1 - clip_range, 1 + clip_range) * advantages)
        policy_loss = -surrogate.mean()

        values = self.critic(batch["obs"])
        value_error = (values - batch["returns"]).pow(2)
        if c.clip_range_vf is not None:
            old = batch["old_values"]
            clipped = old + (values - old).clamp(-c.clip_range_vf, c.clip_range_vf)
            value_error = torch.max(value_error, (clipped - batch["returns"]).pow(2))
        value_loss = value_error.mean()
        entropy = dist.entropy().mean()
        loss = policy_loss + c.vf_coef * value_loss
        if c.ent_coef > 0:  # otherwise the entropy is only logged, and backward skips it
            loss = loss - c.ent_coef * entropy
        with torch.no_grad():
            stats = {
                "policy_loss": policy_loss.detach(),
                "value_loss": value_loss.detach(),
                "entropy": entropy.detach(),
                # E[(rho - 1) - log rho]: an unbiased, non-negative estimate of KL(old || new).
                "approx_kl": ((ratio - 1) - log_ratio).mean(),
                "clip_fraction": ((ratio - 1).abs() > clip_range).float().mean(),
            }
        return loss, stats

    # --------------------------------------------------------------- update
    def learn_from(self, fragment: Fragment) -> dict[str, float]:
        """``n_epochs`` passes of shuffled minibatches over the fragment; returns averaged diagnostics."""
        c = self.config
        learning_rate, clip_range = self._schedule()
        batch = self._batch(fragment)
        n_samples = len(batch["advantages"])
        totals: dict[str, torch.Tensor] = {}
        n_minibatches = 0
        for _ in range(c.n_epochs):
            minibatches: Iterable[dict[str, torch.Tensor]]
            if n_samples <= c.batch_size:  # one minibatch: the whole batch, order does not matter
                minibatches = [batch]
            else:
                order = torch.from_numpy(self.np_rng.permutation(n_samples))
                minibatches = (
                    {k: v[order[start : start + c.batch_size]] for k, v in batch.items()}
                    for start in range(0, n_samples, c.batch_size)
                )
            for minibatch in minibatches:
                loss, stats = self._loss(minibatch, clip_range)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self._optimizer_step()
                for key, value in stats.items():
                    totals[key] = totals.get(key, 0.0) + value
                n_minibatches += 1
        metrics = {key: float(value) / n_minibatches for key, value in totals.items()}
        metrics["explained_variance"] = explained_variance(fragment.data["values"].ravel(), batch["returns"].numpy())
        metrics.update(learning_rate=learning_rate, clip_range=clip_range)
        return metrics

    def compute_gradients(self, fragment: Fragment) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Gradient of the PPO loss on the whole fragment (one full batch) at the current parameters.

        At the parameters that collected the fragment the ratio is 1, so this is
        the plain policy gradient plus the value and entropy terms; averaged over
        workers, it gives synchronous data-parallel PPO with one step per rollout.
        """
        _, clip_range = self._schedule()
        loss, stats = self._loss(self._batch(fragment), clip_range)
        return self._loss_gradients(loss), {key: float(value) for key, value in stats.items()}

    def apply_gradients(self, gradients: dict[str, np.ndarray]) -> None:
        """One optimizer step (after gradient-norm clipping) with the given gradients."""
        self._schedule()
        self._step_with_gradients(gradients)
