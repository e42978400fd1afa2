"""The on-policy agents' shared machinery: collecting experience from vector environments.

What REINFORCE, A2C, PPO and TRPO share lives here:

* :class:`OnPolicyConfig` -- the hyperparameters of the rollouts;
* :class:`OnPolicyAgent` -- environments, policy/value networks, the acting loop
  :meth:`~OnPolicyAgent.collect` and the training loop ``collect -> learn_from``.

The advantage and return estimates built on a rollout are in :mod:`drlkit.agents.advantages`.
(This module was ``drlkit.agents.rollout``; that name still imports. The *distributed*
"rollouts" mode -- workers collect, the driver learns -- is :mod:`drlkit.distributed.rollouts`.)

Shapes: ``T`` steps per environment, ``N`` environments (``num_envs``). A
rollout fragment (:class:`~drlkit.agents.base.Fragment`) holds plain numpy arrays:

======================  =====================  ==================================================
key                     shape                  meaning
======================  =====================  ==================================================
``obs``                 ``(T, N, obs_dim)``    observation the action was taken in
``actions``             ``(T, N)`` int or      action sampled from the policy (for Box spaces
                        ``(T, N, act_dim)``    unclipped; the env received it clipped)
``log_probs``           ``(T, N)``             :math:`\\log\\pi_{\\text{old}}(a_t|s_t)` at collection
``values``              ``(T, N)``             :math:`V(s_t)` at collection (0 without a critic)
``rewards``             ``(T, N)``             :math:`r_t`
``dones``               ``(T, N)`` bool        the episode ended with this step (terminated or
                                               truncated)
``bootstrap_values``    ``(T, N)``             :math:`V(s_{\\text{final}})` where the episode was
                                               *truncated* by a time limit, else 0: a time limit
                                               is not a terminal state, so its value still counts
``last_values``         ``(N,)``               :math:`V(s_T)`, the state after the last step
======================  =====================  ==================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from .._checks import check_memory, check_number
from .base import ALGORITHMS, Agent, AgentConfig, Callback, Fragment, Timer, make_vec_env
from .policies import ValueNetwork, make_policy


@dataclass
class OnPolicyConfig(AgentConfig):
    """Hyperparameters shared by the on-policy agents.

    ``num_envs`` environments step in lockstep; each rollout takes ``n_steps``
    steps in every one of them, i.e. ``n_steps * num_envs`` transitions.
    ``log_std_init`` is the initial log standard deviation of a Gaussian
    policy (Box action spaces only).
    """

    #: Environments stepped side by side (a vector env), >= 1; a rollout has ``n_steps * num_envs`` steps.
    num_envs: int = 8
    #: Steps taken in each environment per rollout (per update), >= 1.
    n_steps: int = 32
    #: Initial log standard deviation of a Gaussian policy (Box action spaces only), in [-20, 2];
    #: 0 means std 1.
    log_std_init: float = 0.0

    def validate(self) -> None:
        super().validate()
        self.num_envs = check_number("num_envs", self.num_envs, low=1, integer=True)
        self.n_steps = check_number("n_steps", self.n_steps, low=1, integer=True)
        self.log_std_init = check_number("log_std_init", self.log_std_init, low=-20, high=2)


def check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


class OnPolicyAgent(Agent):
    """Environments, networks and the collect/learn loop of the on-policy agents.

    Subclasses say in :meth:`_uses_critic` whether a value network is built and
    evaluated while collecting, create ``self.optimizer`` in :meth:`_build_optimizers`
    and implement :meth:`learn_from`. Training is ``collect()`` then
    ``learn_from(fragment)``, repeated -- the distributed layer runs the same two
    calls on different machines.
    """

    Config = OnPolicyConfig
    config: OnPolicyConfig
    policy: nn.Module
    value: nn.Module | None  # a ValueNetwork; None when _uses_critic() is False
    envs: Any  # num_envs copies of the env: a gymnasium VectorEnv (MultiAgentPPO: a list of PettingZoo envs)
    optimizer: torch.optim.Optimizer

    def _uses_critic(self) -> bool:
        return True

    def _build(self) -> None:
        c = self.config
        # A rollout holds n_steps x num_envs observations, actions, rewards, values and log-probabilities
        # (float32): refuse one zero too many before the first rollout tries to allocate it.
        obs_size = int(np.prod(self.observation_space.shape or (1,)))
        check_memory(
            f"n_steps x num_envs = {c.n_steps} x {c.num_envs} (one rollout)",
            4.0 * c.n_steps * c.num_envs * (obs_size + 8),
            "use a smaller n_steps or num_envs",
        )
        self.envs = make_vec_env(self.env_spec, c.num_envs)
        # Env seeds come from the agent's generator, so agents with nearby seeds
        # (e.g. Dask workers seeded 0, 1, 2...) do not share environment streams.
        obs, _ = self.envs.reset(seed=int(self.np_rng.integers(2**31 - 1)))
        self._obs = np.asarray(obs, dtype=np.float32)
        self._running_returns = np.zeros(c.num_envs)
        self._running_lengths = np.zeros(c.num_envs, dtype=np.int64)
        self.policy = make_policy(
            self.observation_space, self.action_space, c.hidden_sizes, c.activation, c.log_std_init
        )
        obs_dim = int(self.observation_space.shape[0])
        self.value = ValueNetwork(obs_dim, c.hidden_sizes, c.activation) if self._uses_critic() else None
        self._discrete = isinstance(self.action_space, gym.spaces.Discrete)
        if self._discrete:
            self._action_start = int(self.action_space.start)
        else:
            self._low = self.action_space.low.astype(np.float32)
            self._high = self.action_space.high.astype(np.float32)
        self._trainable = self._parameters()
        self._build_optimizers()

    def _build_optimizers(self) -> None:
        raise NotImplementedError

    @property
    def critic(self) -> nn.Module:
        """The value network :math:`V_\\phi`, for the agents that always have one (A2C, PPO, TRPO)."""
        if self.value is None:
            raise AttributeError(f"{type(self).__name__} has no critic here (it was built without a value network)")
        return self.value

    def networks(self) -> dict[str, nn.Module]:
        nets: dict[str, nn.Module] = {"policy": self.policy}
        if self.value is not None:
            nets["value"] = self.value
        return nets

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optimizer": self.optimizer}

    # ---------------------------------------------------------------- acting
    def _act_batch(self, obs: torch.Tensor, deterministic: bool) -> torch.Tensor:
        dist = self.policy(obs)
        actions = dist.mode() if deterministic else dist.sample(self.torch_rng)
        if self._discrete:
            return actions + self._action_start
        return actions.clamp(torch.from_numpy(self._low), torch.from_numpy(self._high))

    def _env_actions(self, actions: np.ndarray) -> np.ndarray:
        """What the environment receives: Box actions clipped to the bounds."""
        if self._discrete:
            return actions + self._action_start if self._action_start else actions
        return np.clip(actions, self._low, self._high)

    @torch.inference_mode()
    def collect(self, n_steps: int | None = None) -> Fragment:
        """Run the current policy in the vector envs; no learning.

        ``n_steps`` counts environment steps over all envs and is rounded up to
        a multiple of ``num_envs``; by default one rollout of
        ``config.n_steps * num_envs``. Episodes continue across calls. Adds
        the steps to ``self.total_steps``. See the module docstring for the
        arrays in ``fragment.data``.
        """
        n_envs = self.config.num_envs
        if n_steps is None:
            horizon = self.config.n_steps
        else:
            horizon = math.ceil(check_number("n_steps", n_steps, low=1, integer=True) / n_envs)
        obs_dim = self._obs.shape[1]
        obs_buf = np.empty((horizon, n_envs, obs_dim), dtype=np.float32)
        if self._discrete:
            actions = np.empty((horizon, n_envs), dtype=np.int64)
        else:
            actions = np.empty((horizon, n_envs, self._low.shape[0]), dtype=np.float32)
        log_probs = np.empty((horizon, n_envs), dtype=np.float32)
        values = np.zeros((horizon, n_envs), dtype=np.float32)
        rewards = np.empty((horizon, n_envs), dtype=np.float32)
        dones = np.empty((horizon, n_envs), dtype=bool)
        bootstrap_values = np.zeros((horizon, n_envs), dtype=np.float32)
        episode_returns: list[float] = []
        episode_lengths: list[int] = []

        obs = self._obs
        for t in range(horizon):
            obs_buf[t] = obs
            obs_tensor = torch.from_numpy(obs)
            dist = self.policy(obs_tensor)
            action = dist.sample(self.torch_rng)
            log_probs[t] = dist.log_prob(action).numpy()
            if self.value is not None:
                values[t] = self.value(obs_tensor).numpy()
            action_np = action.numpy()
            actions[t] = action_np
            next_obs, reward, terminated, truncated, info = self.envs.step(self._env_actions(action_np))
            rewards[t] = reward
            done = terminated | truncated
            dones[t] = done
            self._running_returns += reward
            self._running_lengths += 1
            if done.any():
                # A time limit is not a terminal state: learning must still count the
                # value of where the episode was cut off, V(final obs).
                cut = truncated & ~terminated
                if self.value is not None and cut.any():
                    final_obs = np.stack(info["final_obs"][cut]).astype(np.float32)
                    bootstrap_values[t, cut] = self.value(torch.from_numpy(final_obs)).numpy()
                for i in np.flatnonzero(done):
                    episode_returns.append(float(self._running_returns[i]))
                    episode_lengths.append(int(self._running_lengths[i]))
                self._running_returns[done] = 0.0
                self._running_lengths[done] = 0
            obs = np.asarray(next_obs, dtype=np.float32)
        self._obs = obs
        last_values = np.zeros(n_envs, dtype=np.float32)
        if self.value is not None:
            last_values = self.value(torch.from_numpy(obs)).numpy()
        self.total_steps += horizon * n_envs
        data: dict[str, np.ndarray] = {
            "obs": obs_buf,
            "actions": actions,
            "log_probs": log_probs,
            "values": values,
            "rewards": rewards,
            "dones": dones,
            "bootstrap_values": bootstrap_values,
            "last_values": last_values,
        }
        return Fragment(data, horizon * n_envs, episode_returns, episode_lengths)

    # -------------------------------------------------------------- training
    def _train(self, until_step: int, timer: Timer, callbacks: Sequence[Callback]) -> None:
        while self.total_steps < until_step:
            fragment = self.collect()
            for episode_return, episode_length in zip(fragment.episode_returns, fragment.episode_lengths):
                self._record_episode(episode_return, episode_length, timer)
            metrics = self.learn_from(fragment)
            if not self._record_update(timer, callbacks, **metrics):
                return

    def learn_from(self, fragment: Fragment) -> dict[str, float]:
        raise NotImplementedError

    # ------------------------------------------------------------- gradients
    def _parameters(self) -> dict[str, nn.Parameter]:
        """Trainable parameters keyed like :meth:`get_parameters`."""
        return {
            f"{net_name}.{name}": param
            for net_name, net in self.networks().items()
            for name, param in net.named_parameters()
            if param.requires_grad
        }

    def _gradients(self) -> dict[str, np.ndarray]:
        return {
            key: (np.zeros(tuple(p.shape), dtype=np.float32) if p.grad is None else p.grad.numpy().copy())
            for key, p in self._trainable.items()
        }

    def _set_gradients(self, gradients: dict[str, np.ndarray]) -> None:
        params = self._trainable
        self._check_named_arrays("gradient", gradients, {key: tuple(p.shape) for key, p in params.items()})
        for key, param in params.items():
            param.grad = torch.from_numpy(np.array(gradients[key], dtype=np.float32))

    def _optimizer_step(self) -> None:
        """Clip the gradient norm (``max_grad_norm``) and take one optimizer step."""
        if self.config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self._trainable.values(), self.config.max_grad_norm, foreach=True)
        self.optimizer.step()

    def _loss_gradients(self, loss: torch.Tensor | None) -> dict[str, np.ndarray]:
        """Gradients of ``loss`` at the current parameters (zeros for ``None``); no ``.grad`` is left behind."""
        self.optimizer.zero_grad(set_to_none=True)
        if loss is not None:
            loss.backward()
        gradients = self._gradients()
        self.optimizer.zero_grad(set_to_none=True)
        return gradients

    def _step_with_gradients(self, gradients: dict[str, np.ndarray]) -> None:
        """One clipped optimizer step with the given gradients; no ``.grad`` is left behind."""
        self._set_gradients(gradients)
        self._optimizer_step()
        self.optimizer.zero_grad(set_to_none=True)


# A shared base class, not an algorithm one can train or load.
ALGORITHMS.pop(OnPolicyAgent.__name__, None)


def fragment_tensors(fragment: Fragment, *keys: str) -> list[torch.Tensor]:
    """``fragment.data[key]`` for each key, flattened over ``(T, N)`` to ``(T*N, ...)`` tensors."""
    out = []
    for key in keys:
        array = fragment.data[key]
        out.append(torch.from_numpy(np.ascontiguousarray(array.reshape(-1, *array.shape[2:]))))
    return out


def explained_variance(predictions: np.ndarray, targets: np.ndarray) -> float:
    """:math:`1 - \\mathrm{Var}[y - \\hat y] / \\mathrm{Var}[y]`: 1 for a perfect critic, 0 for a
    constant one, negative for one worse than a constant (NaN if the targets are constant)."""
    variance = float(np.var(targets))
    return math.nan if variance == 0 else 1.0 - float(np.var(targets - predictions)) / variance
