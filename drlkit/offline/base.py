r"""What every offline agent shares: the dataset, minibatches, the gradient-step loop and its hooks.

An offline agent is a drlkit :class:`~drlkit.agents.base.Agent` that learns from
an :class:`~drlkit.offline.dataset.OfflineDataset` instead of an environment.
Its environment is used only to check the dataset's spaces and to
:meth:`~drlkit.agents.base.Agent.evaluate` the learned policy.

**Steps.** For an offline agent a *step* is one **gradient step** on a minibatch
of ``batch_size`` transitions drawn uniformly from the dataset:
``agent.train(5_000)`` takes 5,000 gradient steps and ``total_steps`` counts them.
The History gets one update row per ``log_interval`` gradient steps (metrics
averaged over them) and, if ``eval_interval > 0``, the returns of
``eval_episodes`` greedy evaluation episodes every ``eval_interval`` steps as its
episode rows (the learning curve).

**Data-parallel training on Dask.** ``drlkit.distributed.train(agent, mode="sync_grad",
n_workers=N, total_steps=K)`` runs K gradient steps with the dataset split into
N shards of whole episodes (``n_shards=N``). The dataset must be in Minari
storage (``dataset_id=``, ``dataset_root=``) that the workers can read: each
worker loads it once, keeps only its shard (slot ``i`` reads shard ``i mod N``),
and every round returns the gradient of the loss on a minibatch of
``batch_size / N`` transitions of its shard. The driver averages the N gradients
-- the gradient of one ``batch_size`` minibatch -- and takes the optimizer step,
so the learning curve per gradient step is that of one process, up to which
transitions were sampled. Parameters (including target networks) go to the
workers once per step; the data never moves.

When it pays off: each round costs Dask's messaging, about 40 ms on a local 2-core
cluster (measured: 25 gradient steps/s for CQL on CartPole with 2 workers, against
440/s in one process). Data-parallel training is for gradients that cost far more than
that (large networks and batches) or datasets too large for one machine's memory, not for
the small networks of the notebooks.

Subclasses fill in ``_build_networks``, ``_loss(batch)`` and ``_act_batch`` (and
``_after_update`` for target networks); see :mod:`drlkit.offline.bc`,
:mod:`~drlkit.offline.dqn`, :mod:`~drlkit.offline.cql`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from .._checks import check_number
from ..agents.base import ALGORITHMS, Agent, AgentConfig, AgentSpec, Callback, Fragment, Timer
from .dataset import DatasetError, OfflineDataset


@dataclass
class OfflineConfig(AgentConfig):
    """Hyperparameters every offline agent has (plus :class:`~drlkit.agents.base.AgentConfig`'s)."""

    #: Learning rate of Adam, in (0, 1].
    learning_rate: float = 1e-3
    #: Hidden-layer activation: "tanh", "relu" or "elu".
    activation: str = "relu"
    #: Gradient-norm clip, > 0, or None for no clipping.
    max_grad_norm: float | None = None
    #: Transitions per gradient step (over all workers in data-parallel training), >= 1.
    batch_size: int = 256
    #: Gradient steps per History update row (metrics are averaged over them), >= 1.
    log_interval: int = 100
    #: Gradient steps between greedy evaluations logged as History episodes; 0 = never, >= 0.
    eval_interval: int = 0
    #: Episodes per evaluation when ``eval_interval > 0``, >= 1.
    eval_episodes: int = 5
    #: Minari dataset id in local storage to learn from ("" = the ``data=`` passed to the constructor).
    dataset_id: str = ""
    #: Minari storage root for ``dataset_id`` ("" = ``MINARI_DATASETS_PATH``, default ``~/.minari/datasets``).
    dataset_root: str = ""
    #: Shards the dataset is split into for data-parallel training (one per worker), >= 1.
    n_shards: int = 1
    #: Seed of the driver's agent, set by ``spec()`` so a worker's agent can tell its slot; -1 = not a worker.
    shard_base_seed: int = -1

    def validate(self) -> None:
        super().validate()
        check_number("batch_size", self.batch_size, low=1, integer=True)
        check_number("log_interval", self.log_interval, low=1, integer=True)
        check_number("eval_interval", self.eval_interval, low=0, integer=True)
        check_number("eval_episodes", self.eval_episodes, low=1, integer=True)
        check_number("n_shards", self.n_shards, low=1, integer=True)
        check_number("shard_base_seed", self.shard_base_seed, low=-1, integer=True)
        for name in ("dataset_id", "dataset_root"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a string, got {type(getattr(self, name)).__name__}")
        if self.batch_size < self.n_shards:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be at least n_shards ({self.n_shards}): every "
                "worker draws batch_size / n_shards transitions per step"
            )


class OfflineAgent(Agent):
    """Base class of the offline agents (see module docstring).

    ``Algo(env, seed=0, data=None, progress=False, **config)``: ``data`` is an
    :class:`OfflineDataset`; without it the agent reads ``dataset_id`` from Minari
    storage, or has no data (it can still act, be evaluated, saved and loaded).
    """

    Config = OfflineConfig
    config: OfflineConfig
    #: The optimizer that ``_gradient_step`` steps, made by ``_build_networks`` (TD3+BC has its own two).
    optimizer: torch.optim.Optimizer
    #: A fragment of ``drlkit.distributed.train`` is one gradient step's minibatch.
    DEFAULT_FRAGMENT_STEPS = 1

    def __init__(
        self, env: Any, seed: int = 0, *, data: OfflineDataset | None = None, progress: bool = False, **config: Any
    ) -> None:
        if data is not None and not isinstance(data, OfflineDataset):
            raise TypeError(
                f"data must be an OfflineDataset (drlkit.offline.collect / load_dataset), got {type(data).__name__}"
            )
        self._given_data = data
        super().__init__(env, seed=seed, progress=progress, **config)

    # ------------------------------------------------------------- build
    def _build(self) -> None:
        self.data: OfflineDataset | None = self._load_data()
        self.shard_index = 0
        if self.data is not None:
            self.data.check_env(self.env_spec, who=type(self).__name__)
            self.shard_index = self._my_shard()
            if self.config.n_shards > 1 and self.config.shard_base_seed >= 0:
                self.data = self.data.shard(self.shard_index, self.config.n_shards)
            self._tensors = self._to_tensors(self.data)
        self._build_networks()
        self._n_updates = 0
        self._pending: list[dict[str, float]] = []

    def _load_data(self) -> OfflineDataset | None:
        if self._given_data is not None:
            return self._given_data
        if self.config.dataset_id:
            from .storage import load_dataset

            return load_dataset(self.config.dataset_id, root=self.config.dataset_root or None)
        return None

    def _my_shard(self) -> int:
        """Shard of a worker agent: its slot (from ``slot_seed``) modulo ``n_shards``; 0 elsewhere."""
        base = self.config.shard_base_seed
        if base < 0 or self.seed == base:
            return 0
        slot = (self.seed - base) // 1000 - 1  # inverse of drlkit.distributed.worker.slot_seed
        return max(slot, 0) % self.config.n_shards

    def _to_tensors(self, data: OfflineDataset) -> dict[str, torch.Tensor]:
        actions = torch.as_tensor(data.actions)
        if isinstance(self.action_space, gym.spaces.Discrete):
            actions = actions - int(self.action_space.start)
        return {
            "obs": torch.as_tensor(data.observations),
            "actions": actions,
            "rewards": torch.as_tensor(data.rewards),
            "next_obs": torch.as_tensor(data.next_observations),
            "terminated": torch.as_tensor(data.terminations, dtype=torch.float32),
        }

    def set_data(self, data: OfflineDataset) -> None:
        """Learn from ``data`` from now on (same spaces as the agent's env)."""
        if not isinstance(data, OfflineDataset):
            raise TypeError(f"data must be an OfflineDataset, got {type(data).__name__}")
        data.check_env(self.env_spec, who=type(self).__name__)
        self.data, self._tensors = data, self._to_tensors(data)

    # --------------------------------------------------------- subclasses
    def _build_networks(self) -> None:
        raise NotImplementedError

    def _loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss on a minibatch (``obs, next_obs (B, obs_dim)``, ``actions (B,)`` or ``(B, act_dim)``,
        ``rewards, terminated (B,)``) and the metrics to log (scalar tensors, keys of ``LOG_KEYS``)."""
        raise NotImplementedError

    def _after_update(self) -> None:
        """Called after every optimizer step (target networks)."""

    def _trainable(self) -> dict[str, nn.Parameter]:
        """Parameters the optimizer updates, keyed as in :meth:`get_parameters`."""
        return {
            f"{net_name}.{key}": p
            for net_name, net in self.networks().items()
            for key, p in net.named_parameters()
            if p.requires_grad
        }

    # ----------------------------------------------------------- sampling
    def _require_data(self) -> dict[str, torch.Tensor]:
        if self.data is None:
            raise DatasetError(
                f"{type(self).__name__} has no dataset: pass data=... (an OfflineDataset) or "
                "dataset_id=... (a Minari dataset in local storage), or call set_data(...)"
            )
        return self._tensors

    def sample(self, batch_size: int) -> dict[str, torch.Tensor]:
        """A minibatch of ``batch_size`` transitions drawn uniformly (with replacement) from the dataset."""
        tensors = self._require_data()
        index = torch.as_tensor(self.np_rng.integers(len(tensors["rewards"]), size=batch_size))
        return {key: value[index] for key, value in tensors.items()}

    # ----------------------------------------------------------- learning
    def _gradient_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        loss, metrics = self._loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._step_optimizer()
        return metrics

    def _step_optimizer(self) -> None:
        if self.config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(list(self._trainable().values()), self.config.max_grad_norm)
        self.optimizer.step()
        self._n_updates += 1
        self._after_update()

    def _train(self, until_step: int, timer: Timer, callbacks: Sequence[Callback]) -> None:
        self._require_data()
        cfg = self.config
        while self.total_steps < until_step:
            metrics = self._gradient_step(self.sample(cfg.batch_size))
            self.total_steps += 1
            if not self._log(metrics, timer, callbacks):
                return

    def _log(self, metrics: dict[str, Any], timer: Timer, callbacks: Sequence[Callback]) -> bool:
        """Accumulate one step's metrics; every ``log_interval`` steps write a History row
        (and run callbacks); every ``eval_interval`` steps log evaluation episodes."""
        cfg = self.config
        self._pending.append({k: float(v) for k, v in metrics.items()})
        if cfg.eval_interval and self.total_steps % cfg.eval_interval == 0:
            returns = self.evaluate(cfg.eval_episodes)
            for value, length in zip(returns, self.last_evaluation_lengths):
                self.history.log_episode(self.total_steps, timer.elapsed(), float(value), int(length))
        if self.total_steps % cfg.log_interval == 0:
            row = {k: float(np.mean([m[k] for m in self._pending])) for k in self._pending[0]}
            self._pending = []
            return self._record_update(timer, callbacks, **row)
        return True

    # ------------------------------------------------- distributed hooks
    def collect(self, n_steps: int) -> Fragment:
        """A minibatch of ``ceil(batch_size / n_shards)`` transitions from this agent's shard, as a
        fragment for ``sync_grad``. ``n_steps`` (gradient steps the fragment stands for) is counted
        only by the worker of shard 0, so a round of N workers counts as the one step it is."""
        n_steps = check_number("n_steps", n_steps, low=1, integer=True)
        per_worker = math.ceil(self.config.batch_size / self.config.n_shards)
        batch = self.sample(per_worker)
        return Fragment({k: v.numpy() for k, v in batch.items()}, n_steps if self.shard_index == 0 else 0)

    def learn_from(self, fragment: Fragment) -> dict[str, float]:
        """One gradient step on the fragment's minibatch (what ``compute_gradients`` then
        ``apply_gradients`` do, in one call): the ``rollouts`` and ``sync`` modes' hook."""
        gradients, metrics = self.compute_gradients(fragment)
        self.apply_gradients(gradients)
        return metrics

    def compute_gradients(self, fragment: Fragment) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        batch = {k: torch.as_tensor(v) for k, v in fragment.data.items()}
        params = self._trainable()
        for p in params.values():
            p.grad = None
        loss, metrics = self._loss(batch)
        loss.backward()
        grads = {
            key: (p.grad if p.grad is not None else torch.zeros_like(p)).numpy().copy() for key, p in params.items()
        }
        return grads, {k: float(v) for k, v in metrics.items()}

    def apply_gradients(self, gradients: dict[str, np.ndarray]) -> None:
        params = self._trainable()
        missing = params.keys() - gradients.keys()
        if missing:
            raise ValueError(f"gradients miss parameters {sorted(missing)[:3]} of {type(self).__name__}")
        for key, p in params.items():
            p.grad = torch.as_tensor(np.asarray(gradients[key], dtype=np.float32)).reshape(p.shape).clone()
        self._step_optimizer()

    def spec(self) -> AgentSpec:
        if not self.config.dataset_id:
            raise TypeError(
                f"{type(self).__name__} was given its data in memory; Dask workers read the dataset from Minari "
                "storage: save it with drlkit.offline.save_dataset(data, id, root=...) and build the agent with "
                "dataset_id=id, dataset_root=root"
            )
        config = dataclasses.asdict(self.config)
        config["shard_base_seed"] = self.seed
        return AgentSpec(type(self).__name__, self.env_spec, self.seed, config)

    # --------------------------------------------------------- checkpoints
    def _extra_state(self) -> dict[str, Any]:
        return {"n_updates": self._n_updates}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self._n_updates = int(state["n_updates"])


# The base class is not an algorithm: keep it out of the registry that drlkit.load and workers read.
ALGORITHMS.pop("OfflineAgent", None)
