"""Trust Region Policy Optimization (Schulman et al. 2015, "Trust Region Policy Optimization").

TRPO improves the policy by solving, at every update, the constrained problem
(paper, eq. 14)

.. math::
    \\max_\\theta\\ L(\\theta)
    = \\mathbb E_t\\Big[\\frac{\\pi_\\theta(a_t|s_t)}{\\pi_{\\text{old}}(a_t|s_t)}\\hat A_t\\Big]
    \\quad\\text{subject to}\\quad
    \\bar D_{\\mathrm{KL}}(\\theta)
    = \\mathbb E_t\\big[\\mathrm{KL}(\\pi_{\\text{old}}(\\cdot|s_t)\\,\\|\\,\\pi_\\theta(\\cdot|s_t))\\big] \\le \\delta

with :math:`\\delta` = ``max_kl`` and :math:`\\hat A_t` generalized advantage
estimates (``gae_lambda``; the paper's Monte-Carlo/vine estimators were later
replaced by GAE, Schulman et al. 2016). It is solved approximately
(paper, Appendix C), in the steps :meth:`TRPO.learn_from` names:

1. **Policy gradient** :math:`g = \\nabla_\\theta L(\\theta_{\\text{old}})`.
2. **Natural gradient direction.** Near :math:`\\theta_{\\text{old}}`, the KL is
   quadratic, :math:`\\bar D_{\\mathrm{KL}} \\approx \\tfrac12 s^\\top F s`, with :math:`F`
   the Fisher information matrix (the Hessian of :math:`\\bar D_{\\mathrm{KL}}`). The
   direction :math:`x = F^{-1} g` is found with ``cg_iters`` steps of conjugate
   gradient, which only needs products :math:`Fv` -- computed by differentiating
   :math:`(\\nabla_\\theta \\bar D_{\\mathrm{KL}})^\\top v` once more, never forming
   :math:`F` (``cg_damping`` adds :math:`\\lambda I` for numerical stability).
3. **Maximal step.** Scale :math:`x` so the quadratic KL model hits the bound:
   :math:`s = \\beta x`, :math:`\\beta = \\sqrt{2\\delta / x^\\top F x}`.
4. **Backtracking line search.** Try :math:`\\theta_{\\text{old}} + \\alpha^i s` for
   :math:`i = 0, 1, \\dots` (``backtrack_coef`` :math:`\\alpha`, at most
   ``backtrack_iters`` tries) and keep the first that *actually* satisfies the
   KL constraint and improves :math:`L` -- the quadratic model is only a model.
   If none does, the policy is left unchanged.
5. **Value function.** Separately, the critic :math:`V_\\phi` regresses on the
   returns :math:`\\hat R_t = \\hat A_t + V_{\\text{old}}(s_t)` with Adam
   (``learning_rate``, ``value_epochs`` passes of minibatches of ``batch_size``).

Shapes: a fragment holds ``(T, N, ...)`` arrays (``T = n_steps``, ``N = num_envs``),
flattened to ``T*N`` samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, ClassVar

import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from .._checks import check_number
from .advantages import fragment_advantages
from .base import Fragment
from .on_policy import OnPolicyAgent, OnPolicyConfig, check_flag, explained_variance, fragment_tensors


def conjugate_gradient(
    matvec: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, iters: int, tolerance: float = 1e-10
) -> torch.Tensor:
    """Approximately solve :math:`Ax = b` for a symmetric positive-definite :math:`A`
    known only through ``matvec(v) = A v``; ``b`` and the result have shape ``(n,)``.

    Each iteration minimises :math:`\\tfrac12 x^\\top A x - b^\\top x` along a new
    direction :math:`A`-conjugate to the previous ones, so ``n`` iterations solve
    the system exactly (in exact arithmetic) and a few already give a good
    approximation when :math:`A`'s spectrum is concentrated.
    """
    x = torch.zeros_like(b)
    residual = b.clone()  # r = b - A x, with x = 0
    direction = residual.clone()
    residual_norm = residual @ residual
    for _ in range(iters):
        if residual_norm < tolerance:
            break
        a_direction = matvec(direction)
        step = residual_norm / (direction @ a_direction)
        x += step * direction
        residual -= step * a_direction
        new_norm = residual @ residual
        direction = residual + (new_norm / residual_norm) * direction
        residual_norm = new_norm
    return x


@dataclass
class NaturalGradient:
    """What :func:`natural_gradient` computes at the current parameters :math:`\\theta_{\\text{old}}`.

    ``gradient`` :math:`g` and ``direction`` :math:`x \\approx F^{-1} g` are flat ``(P,)``
    vectors over ``parameters`` (``P`` numbers in all); ``fisher_product(v)`` is
    :math:`(F + \\lambda I) v`; ``surrogate()`` and ``mean_kl()`` evaluate :math:`L(\\theta)`
    and :math:`\\bar D_{\\mathrm{KL}}(\\theta)` at the policy's parameters *now* (so a line
    search can move them and call again); ``surrogate_old`` is :math:`L(\\theta_{\\text{old}})`.
    """

    parameters: list[torch.nn.Parameter]
    surrogate: Callable[[], torch.Tensor]
    mean_kl: Callable[[], torch.Tensor]
    surrogate_old: torch.Tensor
    gradient: torch.Tensor
    direction: torch.Tensor
    fisher_product: Callable[[torch.Tensor], torch.Tensor]


def natural_gradient(
    policy: torch.nn.Module,
    obs: torch.Tensor,
    actions: torch.Tensor,
    old_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    cg_iters: int = 10,
    damping: float = 0.1,
) -> NaturalGradient:
    """Steps 1 and 2 of TRPO: the policy gradient :math:`g = \\nabla_\\theta L` and the natural
    gradient :math:`x \\approx (F + \\lambda I)^{-1} g` by ``cg_iters`` steps of conjugate gradient.

    ``policy`` maps ``obs (n, obs_dim)`` to a distribution (``log_prob``, ``kl``); ``actions (n, ...)``,
    ``old_log_probs (n,)`` and ``advantages (n,)`` are the samples of the surrogate
    :math:`L(\\theta) = \\mathbb E[\\pi_\\theta(a|s) / \\pi_{\\text{old}}(a|s)\\,\\hat A]`; ``damping``
    is :math:`\\lambda`. Works for any stochastic policy network (A2C's, PPO's, TRPO's).
    """
    policy_params = list(policy.parameters())
    with torch.no_grad():
        old_dist = policy(obs).detach()  # pi_old: fixed reference of the KL

    def surrogate() -> torch.Tensor:
        """L(theta) = E[pi_theta(a|s) / pi_old(a|s) * A]  (paper eq. 14, objective)."""
        return (torch.exp(policy(obs).log_prob(actions) - old_log_probs) * advantages).mean()

    def mean_kl() -> torch.Tensor:
        """KL-bar(theta) = E_s[KL(pi_old(.|s) || pi_theta(.|s))]  (paper eq. 14, constraint)."""
        return old_dist.kl(policy(obs)).mean()

    # Step 1: policy gradient g at theta_old.
    surrogate_old = surrogate()
    g = parameters_to_vector(torch.autograd.grad(surrogate_old, policy_params))

    # Step 2: x = F^-1 g by conjugate gradient, with Fisher-vector products F v = d/dtheta (grad KL . v).
    kl_gradient = parameters_to_vector(torch.autograd.grad(mean_kl(), policy_params, create_graph=True))

    def fisher_vector_product(v: torch.Tensor) -> torch.Tensor:
        hessian_v = torch.autograd.grad(kl_gradient @ v, policy_params, retain_graph=True)
        return parameters_to_vector(hessian_v) + damping * v

    direction = conjugate_gradient(fisher_vector_product, g, cg_iters)
    return NaturalGradient(policy_params, surrogate, mean_kl, surrogate_old, g, direction, fisher_vector_product)


@dataclass
class TRPOConfig(OnPolicyConfig):
    """TRPO hyperparameters; the defaults solve CartPole-v1.

    ``learning_rate``, ``value_epochs`` and ``batch_size`` concern the value
    regression only: the policy's step size is set by ``max_kl``.
    """

    #: Adam step size of the value regression only, in (0, 1]; the policy's step is set by ``max_kl``.
    learning_rate: float = 1e-3
    gamma: float = 0.99
    num_envs: int = 8
    n_steps: int = 128
    #: λ of generalized advantage estimation, in [0, 1].
    gae_lambda: float = 0.95
    #: Trust region δ > 0: the largest mean KL(π_old || π_new) a policy update may reach.
    max_kl: float = 0.01
    #: Conjugate-gradient iterations for the natural gradient F⁻¹g, >= 1.
    cg_iters: int = 10
    #: λ >= 0 added to the Fisher matrix (F + λI) for numerical stability.
    cg_damping: float = 0.1
    #: Factor in (0, 1) by which the line search shrinks a rejected step.
    backtrack_coef: float = 0.8
    #: Steps the line search tries before keeping the old policy, >= 1.
    backtrack_iters: int = 10
    #: Passes of minibatch Adam over each rollout for the critic, >= 1.
    value_epochs: int = 5
    #: Samples per minibatch of the value regression, in [1, ``n_steps * num_envs``].
    batch_size: int = 128
    #: Standardise the advantages over each rollout (zero mean, unit variance): True or False.
    normalize_advantage: bool = True

    def validate(self) -> None:
        super().validate()
        self.gae_lambda = check_number("gae_lambda", self.gae_lambda, low=0, high=1)
        self.max_kl = check_number("max_kl", self.max_kl, low=0, low_open=True)
        self.cg_iters = check_number("cg_iters", self.cg_iters, low=1, integer=True)
        self.cg_damping = check_number("cg_damping", self.cg_damping, low=0)
        self.backtrack_coef = check_number(
            "backtrack_coef", self.backtrack_coef, low=0, high=1, low_open=True, high_open=True
        )
        self.backtrack_iters = check_number("backtrack_iters", self.backtrack_iters, low=1, integer=True)
        self.value_epochs = check_number("value_epochs", self.value_epochs, low=1, integer=True)
        self.batch_size = check_number("batch_size", self.batch_size, low=1, integer=True)
        if self.batch_size > self.n_steps * self.num_envs:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be at most n_steps * num_envs "
                f"({self.n_steps} * {self.num_envs} = {self.n_steps * self.num_envs}), the rollout size"
            )
        self.normalize_advantage = check_flag("normalize_advantage", self.normalize_advantage)


class TRPO(OnPolicyAgent):
    """Trust Region Policy Optimization with GAE and a separately regressed critic (see module docstring)."""

    Config = TRPOConfig
    config: TRPOConfig
    LOG_KEYS: ClassVar[tuple[str, ...]] = (
        "policy_loss",
        "value_loss",
        "entropy",
        "kl",
        "step_fraction",
        "surrogate_improvement",
        "explained_variance",
    )

    #: Steps 1-2 of the update as a function of any policy and samples (see :func:`natural_gradient`).
    natural_gradient = staticmethod(natural_gradient)

    def _build_optimizers(self) -> None:
        self.optimizer = torch.optim.Adam(self.critic.parameters(), lr=self.config.learning_rate)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"value_optimizer": self.optimizer}

    def learn_from(self, fragment: Fragment) -> dict[str, float]:
        """One TRPO update: natural-gradient policy step with line search, then value regression."""
        c, d = self.config, fragment.data
        advantages, returns = fragment_advantages(d, c.gamma, c.gae_lambda, c.normalize_advantage)
        obs, actions, old_log_probs = fragment_tensors(fragment, "obs", "actions", "log_probs")
        # Steps 1 and 2: policy gradient g at theta_old and natural direction x = F^-1 g.
        problem = natural_gradient(self.policy, obs, actions, old_log_probs, advantages, c.cg_iters, c.cg_damping)
        surrogate, mean_kl, surrogate_old = problem.surrogate, problem.mean_kl, problem.surrogate_old
        direction, fisher_vector_product, policy_params = problem.direction, problem.fisher_product, problem.parameters

        # Step 3: the largest step the quadratic KL model allows, 1/2 s^T F s = max_kl.
        curvature = direction @ fisher_vector_product(direction)
        step = math.sqrt(2 * c.max_kl / max(float(curvature), 1e-12)) * direction

        # Step 4: backtracking line search on the true KL and surrogate.
        old_params = parameters_to_vector(policy_params).detach()
        step_fraction, kl, improvement = 0.0, 0.0, 0.0
        with torch.no_grad():
            for i in range(c.backtrack_iters):
                fraction = c.backtrack_coef**i
                vector_to_parameters(old_params + fraction * step, policy_params)
                new_kl, gain = float(mean_kl()), float(surrogate() - surrogate_old)
                if new_kl <= c.max_kl and gain > 0:
                    step_fraction, kl, improvement = fraction, new_kl, gain
                    break
            else:  # no acceptable step: keep the old policy
                vector_to_parameters(old_params, policy_params)
            entropy = float(self.policy(obs).entropy().mean())

        # Step 5: value-function regression on the GAE returns.
        value_loss = self._fit_value(obs, returns)
        return {
            "policy_loss": -surrogate_old.item() - improvement,
            "value_loss": value_loss,
            "entropy": entropy,
            "kl": kl,
            "step_fraction": step_fraction,
            "surrogate_improvement": improvement,
            "explained_variance": explained_variance(d["values"].ravel(), returns.numpy()),
        }

    def _fit_value(self, obs: torch.Tensor, returns: torch.Tensor) -> float:
        """``value_epochs`` passes of minibatch Adam on the squared error; returns the mean minibatch loss."""
        c = self.config
        total, count = 0.0, 0
        for _ in range(c.value_epochs):
            order = torch.from_numpy(self.np_rng.permutation(len(returns)))
            for start in range(0, len(returns), c.batch_size):
                index = order[start : start + c.batch_size]
                loss = (self.critic(obs[index]) - returns[index]).pow(2).mean()
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if c.max_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(self.critic.parameters(), c.max_grad_norm)
                self.optimizer.step()
                total, count = total + loss.item(), count + 1
        return total / count
