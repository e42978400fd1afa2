"""Former name of :mod:`drlkit.agents.on_policy` (and of the advantage estimates, now in
:mod:`drlkit.agents.advantages`); kept so that existing imports keep working."""

from .advantages import compute_gae, monte_carlo_returns
from .on_policy import (
    OnPolicyAgent,
    OnPolicyConfig,
    check_flag,
    explained_variance,
    fragment_tensors,
)

__all__ = [
    "OnPolicyAgent",
    "OnPolicyConfig",
    "check_flag",
    "compute_gae",
    "explained_variance",
    "fragment_tensors",
    "monte_carlo_returns",
]
