"""Shaping: reward shaping (potential-based and not) and policy shaping from a teacher's feedback.

* :mod:`drlkit.shaping.reward` -- :func:`potential_shaping`, :func:`bonus_shaping`,
  :func:`distance_potential`, :func:`progress_bonus` on MDPs; :class:`PotentialShaping` for gymnasium envs.
* :mod:`drlkit.shaping.policy` -- :func:`policy_shaping` (Advise, Griffith et al. 2013).
"""

from .policy import PolicyShapingResult, boltzmann, combine_policies, feedback_policy, policy_shaping
from .reward import (
    PotentialShaping,
    bonus_shaping,
    distance_potential,
    goal_distances,
    potential_shaping,
    progress_bonus,
)

__all__ = [
    "PolicyShapingResult",
    "PotentialShaping",
    "boltzmann",
    "bonus_shaping",
    "combine_policies",
    "distance_potential",
    "feedback_policy",
    "goal_distances",
    "policy_shaping",
    "potential_shaping",
    "progress_bonus",
]
