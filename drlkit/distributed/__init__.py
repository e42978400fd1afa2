"""Distributed reinforcement learning on Dask.

* :func:`cluster` -- a Dask client for a ``with`` block: a local cluster (127.0.0.1) or an existing one.
* :func:`train` -- train a deep RL agent in one of the :data:`MODES`: ``"rollouts"``,
  ``"sync"``, ``"sync_grad"``, ``"async"``, ``"a3c"``, ``"gossip"`` (decentralised averaging on a
  graph, :mod:`.mixing`), ``"ssp"`` (bounded staleness), ``"federated"`` (FedAvg/FedProx over env
  variants); returns a :class:`DistributedResult`.
* :func:`resume` -- continue a run checkpointed with ``train(..., checkpoint=path)`` after a kernel restart.
* :func:`q_learning` -- tabular Q-learning with workers whose tables are merged.
* :func:`map_tasks` -- independent tasks (one function over many inputs), results in order.
"""

from .async_ import merge_weight, mix
from .checkpoint import ResumeError, resume
from .cluster import ClusterEnvironmentError, check_worker_versions, cluster, dashboard_url, resolve_client
from .engine import DistributedTrainingError
from .mixing import consensus_distance, metropolis_weights, mixing_matrix, spectral_gap
from .q_learning import q_learning
from .result import DistributedResult
from .sync import average_deltas, mean_gradients
from .tasks import TaskError, map_tasks
from .training import MODE_TABLE, MODES, Mode, supported_modes, train
from .worker import slot_seed

__all__ = [
    "MODE_TABLE",
    "MODES",
    "Mode",
    "ClusterEnvironmentError",
    "DistributedResult",
    "DistributedTrainingError",
    "TaskError",
    "average_deltas",
    "check_worker_versions",
    "cluster",
    "consensus_distance",
    "metropolis_weights",
    "mixing_matrix",
    "spectral_gap",
    "dashboard_url",
    "map_tasks",
    "mean_gradients",
    "merge_weight",
    "mix",
    "q_learning",
    "resolve_client",
    "resume",
    "ResumeError",
    "slot_seed",
    "supported_modes",
    "train",
]
