"""Stochastic policies and value networks for the policy-gradient agents.

A policy maps a batch of observations ``obs (..., obs_dim)`` to a probability
distribution over actions. Two action spaces are covered:

* ``Discrete(A)`` -- a :class:`Categorical` distribution from logits ``(..., A)``:
  :math:`\\pi(a|s) = \\mathrm{softmax}(z(s))_a`.
* ``Box(D)`` -- a :class:`DiagGaussian` with a state-dependent mean ``(..., D)``
  and a *state-independent* learned log standard deviation ``(D,)``:
  :math:`\\pi(a|s) = \\prod_i \\mathcal N(a_i;\\ \\mu_i(s), \\sigma_i^2)`.
  Samples are unbounded; the agents clip them to the Box bounds only when
  stepping the environment, and compute log-probabilities on the unclipped
  sample (clipping would make the density ill-defined at the bounds).

The distribution classes are small on purpose: they do exactly what the losses
need (``log_prob``, ``entropy``, ``kl``, ``sample``, ``mode``) with no argument
validation, which keeps the acting loop cheap. Their formulas are checked
against :mod:`torch.distributions` in the tests.
"""

from __future__ import annotations

import math

import gymnasium as gym
import torch
from torch import nn

from .base import mlp

_LOG_2PI = math.log(2 * math.pi)


class Categorical:
    """Categorical distribution over ``A`` actions, batched over leading axes.

    ``logits (..., A)`` are stored normalised, so ``self.log_probs`` holds
    :math:`\\log \\pi(a|s)` for every action.
    """

    def __init__(self, logits: torch.Tensor) -> None:
        self.log_probs = torch.log_softmax(logits, -1)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """Actions ``(...)`` (int64) drawn with ``generator``.

        Gumbel-max trick: :math:`\\arg\\max_a (\\log\\pi(a) + g_a)` with
        :math:`g_a = -\\log e_a`, :math:`e_a \\sim \\mathrm{Exp}(1)` i.i.d., is distributed as
        :math:`\\pi` -- one vectorised op, cheaper than ``torch.multinomial`` for small batches.
        """
        noise = torch.empty_like(self.log_probs).exponential_(generator=generator)
        return (self.log_probs - noise.log()).argmax(-1)

    def mode(self) -> torch.Tensor:
        """Most probable action ``(...)``: the deterministic (greedy) policy."""
        return self.log_probs.argmax(-1)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        """:math:`\\log \\pi(a|s)` for ``actions (...)``; shape ``(...)``."""
        return self.log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        """:math:`H = -\\sum_a \\pi(a) \\log \\pi(a)`; shape ``(...)``."""
        # An action with probability exactly 0 contributes 0, not 0 * -inf.
        log_p = self.log_probs.clamp(min=torch.finfo(self.log_probs.dtype).min)
        return -(log_p.exp() * log_p).sum(-1)

    def kl(self, other: Categorical) -> torch.Tensor:
        """:math:`\\mathrm{KL}(\\text{self} \\,\\|\\, \\text{other}) = \\sum_a p_a (\\log p_a - \\log q_a)`;
        shape ``(...)``."""
        return (self.log_probs.exp() * (self.log_probs - other.log_probs)).sum(-1)

    def detach(self) -> Categorical:
        return Categorical(self.log_probs.detach())


class DiagGaussian:
    """Gaussian with diagonal covariance: ``mean (..., D)``, ``log_std`` broadcastable to it."""

    def __init__(self, mean: torch.Tensor, log_std: torch.Tensor) -> None:
        self.mean = mean
        self.log_std = log_std.expand_as(mean)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """:math:`a = \\mu + \\sigma \\odot \\varepsilon`, :math:`\\varepsilon \\sim \\mathcal N(0, I)`;
        shape ``(..., D)``."""
        noise = torch.randn(self.mean.shape, generator=generator, dtype=self.mean.dtype)
        return self.mean + self.log_std.exp() * noise

    def mode(self) -> torch.Tensor:
        return self.mean

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        """:math:`\\sum_i -\\tfrac{(a_i-\\mu_i)^2}{2\\sigma_i^2} - \\log\\sigma_i - \\tfrac12\\log 2\\pi`;
        shape ``(...)``."""
        z = (actions - self.mean) * torch.exp(-self.log_std)
        return (-0.5 * z.pow(2) - self.log_std - 0.5 * _LOG_2PI).sum(-1)

    def entropy(self) -> torch.Tensor:
        """:math:`\\sum_i \\tfrac12 + \\tfrac12\\log 2\\pi + \\log\\sigma_i`; shape ``(...)``."""
        return (0.5 + 0.5 * _LOG_2PI + self.log_std).sum(-1)

    def kl(self, other: DiagGaussian) -> torch.Tensor:
        """:math:`\\sum_i \\log\\tfrac{\\sigma'_i}{\\sigma_i}
        + \\tfrac{\\sigma_i^2 + (\\mu_i-\\mu'_i)^2}{2\\sigma_i'^2} - \\tfrac12`
        for self :math:`=(\\mu,\\sigma)`, other :math:`=(\\mu',\\sigma')`; shape ``(...)``."""
        var, other_var = torch.exp(2 * self.log_std), torch.exp(2 * other.log_std)
        return (other.log_std - self.log_std + (var + (self.mean - other.mean).pow(2)) / (2 * other_var) - 0.5).sum(-1)

    def detach(self) -> DiagGaussian:
        return DiagGaussian(self.mean.detach(), self.log_std.detach())


Distribution = Categorical | DiagGaussian


def _orthogonal_init(net: nn.Sequential, output_gain: float) -> None:
    """Orthogonal weights, zero biases. Hidden layers get gain sqrt(2); the output
    layer ``output_gain`` -- small for a policy, so it starts close to uniform /
    zero-mean and the first updates are not dominated by a random preference."""
    linears = [m for m in net if isinstance(m, nn.Linear)]
    for layer in linears:
        nn.init.orthogonal_(layer.weight, gain=output_gain if layer is linears[-1] else math.sqrt(2))
        nn.init.zeros_(layer.bias)


class CategoricalPolicy(nn.Module):
    """``obs (..., obs_dim)`` -> :class:`Categorical` over ``n_actions`` actions."""

    def __init__(self, obs_dim: int, n_actions: int, hidden_sizes: tuple[int, ...], activation: str) -> None:
        super().__init__()
        self.logits = mlp(obs_dim, hidden_sizes, n_actions, activation)
        _orthogonal_init(self.logits, output_gain=0.01)

    def forward(self, obs: torch.Tensor) -> Categorical:
        return Categorical(self.logits(obs))


class GaussianPolicy(nn.Module):
    """``obs (..., obs_dim)`` -> :class:`DiagGaussian` with mean ``(..., act_dim)`` and
    one learned ``log_std (act_dim,)`` shared by all states."""

    def __init__(
        self, obs_dim: int, act_dim: int, hidden_sizes: tuple[int, ...], activation: str, log_std_init: float
    ) -> None:
        super().__init__()
        self.mean = mlp(obs_dim, hidden_sizes, act_dim, activation)
        _orthogonal_init(self.mean, output_gain=0.01)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(log_std_init)))

    def forward(self, obs: torch.Tensor) -> DiagGaussian:
        return DiagGaussian(self.mean(obs), self.log_std)


class ValueNetwork(nn.Module):
    """State-value estimate :math:`V(s)`: ``obs (..., obs_dim)`` -> ``(...)``."""

    def __init__(self, obs_dim: int, hidden_sizes: tuple[int, ...], activation: str) -> None:
        super().__init__()
        self.net = mlp(obs_dim, hidden_sizes, 1, activation)
        _orthogonal_init(self.net, output_gain=1.0)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs).squeeze(-1)


def make_policy(
    observation_space: gym.spaces.Box,
    action_space: gym.Space,
    hidden_sizes: tuple[int, ...],
    activation: str,
    log_std_init: float = 0.0,
) -> CategoricalPolicy | GaussianPolicy:
    """The policy network matching ``action_space`` (Discrete or 1-D Box)."""
    obs_dim = int(observation_space.shape[0])
    if isinstance(action_space, gym.spaces.Discrete):
        return CategoricalPolicy(obs_dim, int(action_space.n), hidden_sizes, activation)
    if isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1:
        return GaussianPolicy(obs_dim, int(action_space.shape[0]), hidden_sizes, activation, log_std_init)
    raise ValueError(f"policies support Discrete and 1-D Box action spaces; got {action_space}")
