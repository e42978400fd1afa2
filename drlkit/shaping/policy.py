r"""Policy shaping: learning from a teacher who says "right" or "wrong" (Griffith et al. 2013).

Griffith, Subramanian, Scholz, Isbell & Thomaz 2013, *Policy Shaping: Integrating
Human Feedback with Reinforcement Learning* (NeurIPS), the *Advise* algorithm.

A teacher watches the agent and, after some actions, labels them right (+1) or
wrong (-1). It is modelled by two numbers:

* **likelihood** :math:`L` -- the probability that the teacher gives feedback on a step at all;
* **consistency** :math:`C` -- the probability that a label is correct (the action is
  optimal and called right, or not optimal and called wrong). :math:`C = 1` never errs,
  :math:`C = 0.5` is noise, :math:`C < 0.5` is *misleading*.

The agent counts, per state and action, :math:`\Delta(s, a)` = (#right - #wrong).
If every label is correct with probability :math:`\hat C`, Bayes' rule gives

.. math::

    P\big(a \text{ optimal in } s \mid \Delta\big) = \frac{\hat C^{\Delta}}{\hat C^{\Delta} + (1 - \hat C)^{\Delta}},

normalised over actions into a *feedback policy* :math:`\pi_F(a|s)`. The agent
acts with the product of its own Boltzmann policy
:math:`\pi_Q(a|s) \propto \exp(Q(s, a)/\tau)` and :math:`\pi_F`:

.. math:: \pi(a|s) \propto \pi_Q(a|s)\, \pi_F(a|s),

(two independent sources of evidence about which action is best) and learns Q by Q-learning.
Without feedback :math:`\Delta = 0`, :math:`\pi_F` is uniform and this is plain Boltzmann
Q-learning. The agent's belief :math:`\hat C` (``assumed_consistency``) may differ from the
teacher's true :math:`C`: an agent that trusts a misleading teacher is led astray.

:func:`policy_shaping` runs many independent runs at once on the arrays of an MDP
(``Q``, ``Δ`` of shape ``(runs, S, A)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import check_number
from ..envs.mdp import MDP
from ..planning import value_iteration


def feedback_policy(delta: np.ndarray, consistency: float) -> np.ndarray:
    r""":math:`\pi_F(a|s) \propto \hat C^{\Delta} / (\hat C^{\Delta} + (1-\hat C)^{\Delta})` over the last axis
    of ``delta (..., A)``; computed as a logistic function of :math:`\Delta \log(\hat C / (1-\hat C))`
    so large counts do not overflow."""
    consistency = check_number("consistency", consistency, low=0, high=1, low_open=True, high_open=True)
    logit = np.asarray(delta, dtype=float) * np.log(consistency / (1 - consistency))
    p_optimal = 1.0 / (1.0 + np.exp(-logit))
    return p_optimal / p_optimal.sum(axis=-1, keepdims=True)


def boltzmann(q: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(q / temperature)`` over the last axis of ``q (..., A)``."""
    z = q / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def combine_policies(*policies: np.ndarray) -> np.ndarray:
    """Product of action distributions ``(..., A)``, renormalised."""
    product = np.prod(np.stack(policies), axis=0)
    return product / product.sum(axis=-1, keepdims=True)


@dataclass
class PolicyShapingResult:
    """Per-episode curves of ``runs`` runs: ``lengths, returns (runs, E)``; final ``Q, delta (runs, S, A)``;
    ``feedback`` (runs,) labels received, ``correct`` (runs,) of them correct."""

    lengths: np.ndarray
    returns: np.ndarray
    Q: np.ndarray
    delta: np.ndarray
    feedback: np.ndarray
    correct: np.ndarray


def policy_shaping(
    mdp: MDP,
    *,
    consistency: float = 0.8,
    likelihood: float = 0.5,
    assumed_consistency: float | None = 0.8,
    episodes: int = 50,
    runs: int = 100,
    temperature: float = 0.05,
    alpha: float = 0.5,
    gamma: float = 0.95,
    max_steps: int = 200,
    seed: int = 0,
) -> PolicyShapingResult:
    """Boltzmann Q-learning with a simulated teacher (see module docstring), ``runs`` runs at once.

    Parameters
    ----------
    mdp : drlkit.MDP
        The task; the teacher knows its optimal actions (value iteration with ``gamma``).
    consistency : float in [0, 1]
        C, the probability that the teacher's label is correct.
    likelihood : float in [0, 1]
        L, the probability of feedback on each step (0 = plain Q-learning).
    assumed_consistency : float in (0, 1), or None
        Ĉ, what the agent believes C is (default 0.8: it trusts its teacher). None: Ĉ = C (clipped to
        [0.01, 0.99]), the agent knows exactly how reliable the teacher is.
    episodes, runs, max_steps : int >= 1
        Episodes per run, independent runs, step limit per episode.
    temperature, alpha, gamma : float
        Boltzmann temperature τ > 0, Q-learning step size α in (0, 1], discount γ in [0, 1).
    seed : int >= 0
    """
    if not isinstance(mdp, MDP):
        raise TypeError(f"mdp must be a drlkit.MDP, got {type(mdp).__name__}")
    C = check_number("consistency", consistency, low=0, high=1)
    L = check_number("likelihood", likelihood, low=0, high=1)
    if assumed_consistency is None:
        C_hat = min(max(C, 0.01), 0.99)
    else:
        C_hat = check_number("assumed_consistency", assumed_consistency, low=0, high=1, low_open=True, high_open=True)
    episodes = check_number("episodes", episodes, low=1, integer=True)
    runs = check_number("runs", runs, low=1, integer=True)
    max_steps = check_number("max_steps", max_steps, low=1, integer=True)
    temperature = check_number("temperature", temperature, low=0, low_open=True)
    alpha = check_number("alpha", alpha, low=0, high=1, low_open=True)
    gamma = check_number("gamma", gamma, low=0, high=1, high_open=True)
    seed = check_number("seed", seed, low=0, integer=True)

    rng = np.random.default_rng(seed)
    plan = value_iteration(mdp, gamma)
    optimal = plan.Q >= plan.Q.max(axis=1, keepdims=True) - 1e-9  # (S, A): the teacher's "right" actions
    S, A = mdp.n_states, mdp.n_actions
    Q = np.zeros((runs, S, A))
    delta = np.zeros((runs, S, A))
    lengths = np.zeros((runs, episodes), dtype=np.int64)
    returns = np.zeros((runs, episodes))
    feedback = np.zeros(runs, dtype=np.int64)
    correct = np.zeros(runs, dtype=np.int64)
    idx = np.arange(runs)
    for episode in range(episodes):
        state = mdp.reset_batch(runs, rng)
        active = np.ones(runs, dtype=bool)
        for _ in range(max_steps):
            r_ = idx[active]
            s = state[active]
            pi = combine_policies(boltzmann(Q[r_, s], temperature), feedback_policy(delta[r_, s], C_hat))
            a = (pi.cumsum(axis=1) < rng.random((len(r_), 1))).sum(axis=1).clip(max=A - 1)
            s2, reward, done = mdp.step_batch(s, a, rng)
            target = reward + gamma * np.where(done, 0.0, Q[r_, s2].max(axis=1))
            Q[r_, s, a] += alpha * (target - Q[r_, s, a])
            # The teacher: feedback with probability L, a correct label with probability C.
            gives = rng.random(len(r_)) < L
            truthful = rng.random(len(r_)) < C
            label = np.where(optimal[s, a] == truthful, 1.0, -1.0)
            delta[r_[gives], s[gives], a[gives]] += label[gives]
            feedback[r_[gives]] += 1
            correct[r_[gives]] += truthful[gives]
            returns[r_, episode] += reward
            lengths[r_, episode] += 1
            state[active] = s2
            active[r_[done]] = False
            if not active.any():
                break
    return PolicyShapingResult(lengths, returns, Q, delta, feedback, correct)
