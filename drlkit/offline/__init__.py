"""Offline (batch) reinforcement learning: datasets, Minari storage, and agents that learn from data only.

* Datasets: :func:`collect` (any policy, ε-mixtures), :func:`collect_replay` (medium-replay),
  :func:`collect_parallel` (one seed per Dask worker), :func:`concatenate` (mixtures),
  :func:`make_quality_datasets` (random / medium-replay / medium / expert), :class:`OfflineDataset`.
* Storage: :func:`save_dataset` / :func:`load_dataset` (Minari, local only).
* Agents (drlkit Agents; ``train(n)`` = n gradient steps): :class:`BC`, :class:`OfflineDQN`,
  :class:`CQL`, :class:`TD3BC`.
* Scores: :func:`normalized_score`, :func:`reference_returns`, :func:`q_overestimation`.
"""

from .base import OfflineAgent, OfflineConfig
from .bc import BC
from .cql import CQL
from .dataset import QUALITIES, DatasetError, OfflineDataset, collect, collect_parallel, collect_replay, concatenate
from .dqn import OfflineDQN
from .experts import behaviour_policy
from .quality import make_quality_datasets
from .scores import normalized_score, q_overestimation, reference_returns
from .storage import from_minari, load_dataset, save_dataset
from .td3bc import TD3BC

__all__ = [
    "BC",
    "CQL",
    "QUALITIES",
    "TD3BC",
    "DatasetError",
    "OfflineAgent",
    "OfflineConfig",
    "OfflineDQN",
    "OfflineDataset",
    "behaviour_policy",
    "collect",
    "collect_parallel",
    "collect_replay",
    "concatenate",
    "from_minari",
    "load_dataset",
    "make_quality_datasets",
    "normalized_score",
    "q_overestimation",
    "reference_returns",
    "save_dataset",
]
