r"""Conservative Q-learning (CQL) for discrete actions, on top of offline DQN.

Kumar, Zhou, Tucker & Levine 2020, *Conservative Q-Learning for Offline
Reinforcement Learning* (NeurIPS), the CQL(H) variant for discrete actions.

Naive offline DQN (:mod:`drlkit.offline.dqn`) overestimates the value of
actions the data never shows. CQL adds to DQN's TD loss a regulariser that
pushes Q down on *all* actions (through a soft maximum) and up on the actions
in the data:

.. math::

    L(\theta) = \underbrace{\alpha\, \mathbb E_{s\sim\mathcal D}\Big[\log \sum_a \exp Q_\theta(s, a)
        - \mathbb E_{a\sim\mathcal D(\cdot|s)}\, Q_\theta(s, a)\Big]}_{\text{CQL regulariser}}
      + L_\text{TD}(\theta).

The log-sum-exp is a smooth maximum, so its gradient lowers the largest
Q-values most -- exactly the out-of-distribution actions the max in the TD
target would exploit -- while the second term keeps the data's actions where
the TD loss puts them. The paper shows the learned Q lower-bounds the true
value of the policy for a large enough :math:`\alpha` (``cql_alpha``); in
practice :math:`\alpha \in [0.5, 5]` gives a policy that stays close to the
data where the data is good and improves on it where the rewards say so.

Shapes (batch ``B``): ``Q_θ(obs) (B, n_actions)``; ``logsumexp`` over actions and
``Q_θ(obs, actions)`` are ``(B,)``; the regulariser is their difference averaged over ``B``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._checks import check_number
from .dqn import OfflineDQN, OfflineDQNConfig


@dataclass
class CQLConfig(OfflineDQNConfig):
    """CQL hyperparameters: offline DQN's plus the regulariser weight."""

    #: Weight α of the conservative regulariser, >= 0 (0 is naive offline DQN).
    cql_alpha: float = 1.0

    def validate(self) -> None:
        super().validate()
        check_number("cql_alpha", self.cql_alpha, low=0)


def cql_regularizer(q_all: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    r""":math:`\frac1B\sum_i \big[\log\sum_a \exp Q(s_i, a) - Q(s_i, a_i)\big]` for ``q_all (B, n_actions)``
    and the dataset's ``actions (B,)``; always >= 0 (a log-sum-exp is at least the largest term)."""
    q_data = q_all.gather(1, actions.long()[:, None]).squeeze(1)
    return (torch.logsumexp(q_all, dim=1) - q_data).mean()


class CQL(OfflineDQN):
    """Discrete CQL (see module docstring)."""

    Config = CQLConfig
    LOG_KEYS = ("loss", "td_loss", "q_mean", "cql_regularizer")
    config: CQLConfig

    def _loss(self, batch):
        td, q_all = self._td_loss(batch)
        reg = cql_regularizer(q_all, batch["actions"])
        loss = td + self.config.cql_alpha * reg
        q_taken = q_all.gather(1, batch["actions"].long()[:, None]).squeeze(1)
        return loss, {
            "loss": loss.detach(),
            "td_loss": td.detach(),
            "q_mean": q_taken.detach().mean(),
            "cql_regularizer": reg.detach(),
        }
