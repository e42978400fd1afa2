r"""PPO in one screen: the whole of :class:`drlkit.PPO`'s training, top to bottom, in one function.

Proximal Policy Optimization (Schulman et al. 2017) repeats four things:

1. **Rollout.** Run the policy :math:`\pi_{\text{old}}` for ``n_steps`` steps in each of
   ``num_envs`` environments; keep observations, actions, :math:`\log\pi_{\text{old}}(a|s)`,
   values :math:`V(s)`, rewards and episode ends.
2. **GAE.** Advantages :math:`\hat A_t = \delta_t + \gamma\lambda(1-d_t)\hat A_{t+1}` with
   :math:`\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t)`, and value targets :math:`\hat R_t = \hat A_t + V(s_t)`.
3. **Epochs of clipped updates.** ``n_epochs`` passes over the rollout in shuffled minibatches,
   each one Adam step on

   .. math::
       \mathcal L = -\mathbb E\big[\min(\rho_t \hat A_t,\ \mathrm{clip}(\rho_t, 1\pm\epsilon)\hat A_t)\big]
       + c_v\,\mathbb E\big[(V_\phi(s_t) - \hat R_t)^2\big] - c_e\,\mathbb E\big[H(\pi_\theta(\cdot|s_t))\big],
       \qquad \rho_t = \pi_\theta(a_t|s_t) / \pi_{\text{old}}(a_t|s_t).

4. **Logging.** One History row per finished episode and one per update.

This is *the same algorithm* as :class:`drlkit.PPO`, written without the class machinery that
lets the agent be saved, evaluated and run on Dask workers: for the same seed and
hyperparameters, :func:`train_ppo` returns the same :class:`~drlkit.agents.history.History`
as ``PPO(env, seed).train(total_steps)`` (a test checks it, number for number). The network
heads come from :mod:`drlkit.agents.policies`; everything else is here.

Shapes: ``T = n_steps``, ``N = num_envs``; rollout arrays are ``(T, N, ...)``, flattened
to ``T*N`` samples for the minibatches.
"""

from __future__ import annotations

import math
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from ..envs.make import make_env
from .base import make_vec_env
from .history import History
from .policies import ValueNetwork, make_policy
from .ppo import PPO, PPOConfig

LOG_KEYS = PPO.LOG_KEYS  # policy_loss, value_loss, entropy, approx_kl, clip_fraction, ...


def train_ppo(env: Any, total_steps: int, seed: int = 0, **config: Any) -> History:
    """Train PPO on ``env`` (an id or a callable making an env) for ``total_steps`` environment
    steps; ``config`` takes the hyperparameters of :class:`drlkit.agents.ppo.PPOConfig`."""
    c = PPOConfig.from_kwargs("train_ppo", **config)
    history = History(LOG_KEYS)
    start_time = time.perf_counter()

    # ------------------------------------------------------------------ setup
    np_rng = np.random.default_rng(seed)  # minibatch order, environment seeds
    torch_rng = torch.Generator().manual_seed(seed)  # action sampling
    probe = make_env(env)
    observation_space: Any = probe.observation_space  # a flat Box
    action_space: Any = probe.action_space  # Discrete or Box
    probe.close()
    with torch.random.fork_rng():  # initialise the networks from the seed, leave the global RNG alone
        torch.manual_seed(seed)
        envs = make_vec_env(env, c.num_envs)  # steps all N envs at once; resets an env when its episode ends
        obs = np.asarray(envs.reset(seed=int(np_rng.integers(2**31 - 1)))[0], dtype=np.float32)
        policy = make_policy(observation_space, action_space, c.hidden_sizes, c.activation, c.log_std_init)
        value = ValueNetwork(int(observation_space.shape[0]), c.hidden_sizes, c.activation)
    parameters = [*policy.parameters(), *value.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=c.learning_rate, eps=1e-5, fused=True)
    discrete = isinstance(action_space, gym.spaces.Discrete)

    def env_actions(actions: np.ndarray) -> np.ndarray:
        """What the environments receive: Discrete actions shifted to the space's start, Box ones clipped."""
        if discrete:
            return actions + int(action_space.start)
        return np.clip(actions, action_space.low.astype(np.float32), action_space.high.astype(np.float32))

    T, N = c.n_steps, c.num_envs
    running_return, running_length = np.zeros(N), np.zeros(N, dtype=np.int64)
    steps = 0
    while steps < total_steps:
        # -------------------------------------------------- 1. rollout (no learning)
        buf_obs = np.empty((T, N, obs.shape[1]), dtype=np.float32)
        buf_actions = np.empty(
            (T, N) if discrete else (T, N, action_space.shape[0]), dtype=np.int64 if discrete else np.float32
        )
        buf_log_probs, buf_values, buf_rewards = (np.zeros((T, N), dtype=np.float32) for _ in range(3))
        buf_dones = np.zeros((T, N), dtype=bool)
        buf_bootstrap = np.zeros((T, N), dtype=np.float32)  # V(final obs) where a time limit cut an episode
        finished: list[tuple[float, int]] = []
        with torch.inference_mode():
            for t in range(T):
                buf_obs[t] = obs
                dist = policy(torch.from_numpy(obs))
                action = dist.sample(torch_rng)
                buf_log_probs[t] = dist.log_prob(action).numpy()
                buf_values[t] = value(torch.from_numpy(obs)).numpy()
                buf_actions[t] = action.numpy()
                next_obs, reward, terminated, truncated, info = envs.step(env_actions(action.numpy()))
                buf_rewards[t], buf_dones[t] = reward, terminated | truncated
                running_return += reward
                running_length += 1
                cut = truncated & ~terminated  # a time limit is not a terminal state: its value still counts
                if cut.any():
                    final_obs = np.stack(info["final_obs"][cut]).astype(np.float32)
                    buf_bootstrap[t, cut] = value(torch.from_numpy(final_obs)).numpy()
                for i in np.flatnonzero(buf_dones[t]):
                    finished.append((float(running_return[i]), int(running_length[i])))
                running_return[buf_dones[t]], running_length[buf_dones[t]] = 0.0, 0
                obs = np.asarray(next_obs, dtype=np.float32)
            last_values = value(torch.from_numpy(obs)).numpy()  # V(s_T), to bootstrap the unfinished episodes
        steps += T * N
        for episode_return, episode_length in finished:
            history.log_episode(steps, time.perf_counter() - start_time, episode_return, episode_length)

        # -------------------------------------------------- 2. generalized advantage estimation
        advantages = np.empty((T, N), dtype=np.float32)
        next_values, next_advantage = last_values, np.zeros(N, dtype=np.float32)
        for t in reversed(range(T)):
            following = np.where(buf_dones[t], buf_bootstrap[t], next_values)  # value of the next state
            delta = buf_rewards[t] + c.gamma * following - buf_values[t]
            next_advantage = delta + c.gamma * c.gae_lambda * ~buf_dones[t] * next_advantage
            advantages[t], next_values = next_advantage, buf_values[t]
        returns = (advantages + buf_values).reshape(-1)  # value targets R_t = A_t + V(s_t)
        flat_advantages = advantages.reshape(-1)
        if c.normalize_advantage and len(flat_advantages) > 1:
            flat_advantages = (flat_advantages - flat_advantages.mean()) / (flat_advantages.std() + 1e-8)

        # -------------------------------------------------- 3. epochs of clipped updates
        remaining = 1.0 if c.anneal_steps is None else max(0.0, 1.0 - steps / c.anneal_steps)
        learning_rate, clip_range = c.learning_rate * remaining, c.clip_range * remaining
        for group in optimizer.param_groups:
            group["lr"] = learning_rate
        batch = {
            "obs": torch.from_numpy(buf_obs.reshape(T * N, -1)),
            "actions": torch.from_numpy(buf_actions.reshape(T * N, *buf_actions.shape[2:])),
            "old_log_probs": torch.from_numpy(buf_log_probs.reshape(-1)),
            "old_values": torch.from_numpy(buf_values.reshape(-1)),
            "advantages": torch.from_numpy(flat_advantages),
            "returns": torch.from_numpy(returns),
        }
        n_samples = T * N
        totals: dict[str, Any] = {}
        n_minibatches = 0
        for _ in range(c.n_epochs):
            if n_samples <= c.batch_size:
                minibatches = [batch]
            else:
                order = torch.from_numpy(np_rng.permutation(n_samples))
                minibatches = [
                    {k: v[order[i : i + c.batch_size]] for k, v in batch.items()}
                    for i in range(0, n_samples, c.batch_size)
                ]
            for mb in minibatches:
                dist = policy(mb["obs"])
                log_ratio = dist.log_prob(mb["actions"]) - mb["old_log_probs"]
                ratio = log_ratio.exp()
                adv = mb["advantages"]
                policy_loss = -torch.min(ratio * adv, ratio.clamp(1 - clip_range, 1 + clip_range) * adv).mean()
                values = value(mb["obs"])
                value_error = (values - mb["returns"]).pow(2)
                if c.clip_range_vf is not None:  # optionally, keep the critic close to the collecting one too
                    clipped = mb["old_values"] + (values - mb["old_values"]).clamp(-c.clip_range_vf, c.clip_range_vf)
                    value_error = torch.max(value_error, (clipped - mb["returns"]).pow(2))
                value_loss = value_error.mean()
                entropy = dist.entropy().mean()
                loss = policy_loss + c.vf_coef * value_loss
                if c.ent_coef > 0:
                    loss = loss - c.ent_coef * entropy

                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if c.max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(parameters, c.max_grad_norm, foreach=True)
                optimizer.step()

                with torch.no_grad():
                    stats = {
                        "policy_loss": policy_loss.detach(),
                        "value_loss": value_loss.detach(),
                        "entropy": entropy.detach(),
                        "approx_kl": ((ratio - 1) - log_ratio).mean(),  # estimates KL(old || new)
                        "clip_fraction": ((ratio - 1).abs() > clip_range).float().mean(),
                    }
                for key, stat in stats.items():
                    totals[key] = totals.get(key, 0.0) + stat
                n_minibatches += 1

        # -------------------------------------------------- 4. logging
        metrics = {key: float(total) / n_minibatches for key, total in totals.items()}
        target_variance = float(np.var(returns))  # explained variance of the critic that collected
        metrics["explained_variance"] = (
            math.nan if target_variance == 0 else 1.0 - float(np.var(returns - buf_values.ravel())) / target_variance
        )
        metrics.update(learning_rate=learning_rate, clip_range=clip_range)
        history.log_update(steps, time.perf_counter() - start_time, **metrics)
    envs.close()
    return history
