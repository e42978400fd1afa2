"""Multi-agent PPO: independent (IPPO), parameter-shared, and with a centralised critic (MAPPO).

Every agent :math:`k` of a PettingZoo Parallel env acts from its own observation
:math:`o^k_t` (decentralised execution). The three learners differ only in
which networks they train:

- ``IPPO``: one actor :math:`\\pi_{\\theta_k}(a|o^k)` and one critic :math:`V_{\\phi_k}(o^k)` per agent;
- ``SharedPPO``: one actor :math:`\\pi_\\theta(a|o^k, e_k)` and one critic :math:`V_\\phi(o^k, e_k)` for all;
- ``MAPPO``: one actor :math:`\\pi_\\theta(a|o^k, e_k)` and one critic :math:`V_\\phi(s_t, e_k)` on the global state

(:math:`e_k` the one-hot id of agent :math:`k`, so a shared network can still
behave differently per agent.) IPPO is de Witt et al. 2020, "Is Independent
Learning All You Need in the StarCraft Multi-Agent Challenge?"; MAPPO is Yu et
al. 2022, "The Surprising Effectiveness of PPO in Cooperative Multi-Agent
Games": a critic that sees the global state :math:`s_t` (``env.state()``) during
training makes the advantages of a cooperative team far less noisy, while the
actors still need only local observations at execution.

Each agent's samples enter the ordinary PPO loss of :mod:`drlkit.agents.ppo`
(clipped surrogate, value regression, entropy), with per-agent generalized
advantage estimates (:func:`drlkit.agents.advantages.compute_gae`) from its own
rewards :math:`r^k_t`:

.. math::
    \\hat A^k_t = \\sum_l (\\gamma\\lambda)^l\\, \\delta^k_{t+l}, \\qquad
    \\delta^k_t = r^k_t + \\gamma V(x^k_{t+1}) - V(x^k_t),

:math:`x^k_t` the critic's input. All agents' samples are pooled, so one
update sees ``n_steps * num_envs * n_agents`` samples.

Shapes: a fragment holds ``(T, N, K, ...)`` arrays (``T = n_steps``, ``N = num_envs``,
``K`` agents): ``features (T, N, K, F)`` with ``F = obs_dim + K (+ state_dim)`` -- each
row is ``[observation (zero-padded), one-hot id, global state (MAPPO only)]``;
each network reads the columns it needs. ``actions``, ``log_probs``, ``values``,
``rewards``, ``dones``, ``bootstrap_values``, ``alive`` are ``(T, N, K)``; ``last_values``
``(N, K)``. A step where an agent is not in the game (it left early) is padding
(``alive`` False) with zero advantage and its own value as target, so it does not
move the networks. One *env step* is one joint step of all agents.

Where these differ from the single-agent :class:`~drlkit.agents.base.Agent`
contract: ``env`` names a PettingZoo env factory (``env_kwargs`` in the config),
``act`` maps ``{agent id: observation}`` to ``{agent id: action}``, ``evaluate``
returns team returns (sum over agents) and :meth:`evaluate_agents` per-agent ones,
and the History has one ``return_<agent id>`` column per agent next to the team
``episode_return`` (filled on every episode row, also for episodes that ran on Dask
workers: their task reports carry the per-agent returns). The agent-contract tests therefore skip
their gymnasium-env checks and CartPole learning run for these learners; tests/test_marl_ppo.py checks
their env errors and learning on ``simple_spread``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from .._checks import check_number
from ..agents.advantages import compute_gae
from ..agents.base import ALGORITHMS, Callback, Fragment, Timer
from ..agents.history import History
from ..agents.policies import ValueNetwork, make_policy
from ..agents.ppo import PPO, PPOConfig
from .pz import EnvInfo, check_agent_ids, inspect_env, make_parallel_env, resolve_factory


@dataclass
class MultiAgentPPOConfig(PPOConfig):
    """Hyperparameters of the multi-agent PPO learners; defaults tuned on ``simple_spread`` (3 agents).

    All PPO fields keep their meaning (:class:`~drlkit.agents.ppo.PPOConfig`);
    ``num_envs``/``n_steps`` count joint env steps. A rollout holds one *row* per agent per
    joint step, ``n_steps * num_envs * n_agents`` rows (an agent that finished early keeps
    padding rows); ``batch_size`` counts these rows, so each epoch takes
    ``ceil(n_steps * num_envs * n_agents / batch_size)`` Adam steps.
    """

    #: Adam step size, in (0, 1].
    learning_rate: float = 1e-3
    #: Discount, in [0, 1].
    gamma: float = 0.99
    #: Env copies stepped in lockstep, >= 1.
    num_envs: int = 8
    #: Joint steps per env per rollout, >= 1 (two 25-step MPE episodes).
    n_steps: int = 50
    #: Minibatch size in per-agent rows, in [1, n_steps * num_envs]; a rollout has n_steps * num_envs * n_agents
    #: rows, so each epoch takes ceil(n_steps * num_envs * n_agents / batch_size) Adam steps (3 on simple_spread).
    batch_size: int = 400
    #: Passes over each rollout, >= 1.
    n_epochs: int = 5
    #: GAE λ, in [0, 1].
    gae_lambda: float = 0.95
    #: Entropy bonus, >= 0.
    ent_coef: float = 0.01
    #: Keyword arguments of the env factory, e.g. ``{"N": 3, "max_cycles": 25}``; plain values only.
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        super().validate()
        if not isinstance(self.env_kwargs, dict) or not all(isinstance(k, str) for k in self.env_kwargs):
            raise TypeError(f"env_kwargs must be a dict of keyword arguments; got {self.env_kwargs!r}")


class PerAgent(nn.Module):
    """One network per agent, applied to the rows of that agent: ``features (..., F)`` -> its output.

    ``networks[k]`` reads ``features[..., :width]``; the agent of a row is the argmax of its one-hot
    columns ``features[..., id_start:id_start + K]``. Every network runs on every row and the
    right output is selected: cheap for a few agents, and one vectorised pass.
    """

    def __init__(self, networks: Sequence[nn.Module], width: int, id_start: int) -> None:
        super().__init__()
        self.networks = nn.ModuleList(networks)
        self.width, self.id_start = width, id_start

    def agent_ids(self, features: torch.Tensor) -> torch.Tensor:
        return features[..., self.id_start : self.id_start + len(self.networks)].argmax(-1)

    def forward(self, features: torch.Tensor) -> Any:
        x, ids = features[..., : self.width], self.agent_ids(features)
        outputs = [net(x) for net in self.networks]
        first = outputs[0]
        if isinstance(first, torch.Tensor):  # values (...)
            return torch.stack(outputs, -1).gather(-1, ids.unsqueeze(-1)).squeeze(-1)
        if hasattr(first, "log_probs"):  # Categorical
            stacked = torch.stack([o.log_probs for o in outputs], -2)  # (..., K, A)
            index = ids[..., None, None].expand(*ids.shape, 1, stacked.shape[-1])
            return type(first)(stacked.gather(-2, index).squeeze(-2))
        means = torch.stack([o.mean for o in outputs], -2)  # DiagGaussian: (..., K, D)
        index = ids[..., None, None].expand(*ids.shape, 1, means.shape[-1])
        log_std = torch.stack([net.get_parameter("log_std") for net in self.networks])[ids]
        return type(first)(means.gather(-2, index).squeeze(-2), log_std)


class Columns(nn.Module):
    """``features[..., start:stop]`` into ``net``: a shared actor reads ``[observation, one-hot id]``,
    the critic of MAPPO ``[one-hot id, state]``."""

    def __init__(self, net: nn.Module, start: int, stop: int) -> None:
        super().__init__()
        self.net, self.start, self.stop = net, start, stop

    def forward(self, features: torch.Tensor) -> Any:
        return self.net(features[..., self.start : self.stop])


class MultiAgentPPO(PPO):
    """PPO for PettingZoo Parallel envs (module docstring); subclasses choose the networks."""

    Config: ClassVar[type[MultiAgentPPOConfig]] = MultiAgentPPOConfig
    config: MultiAgentPPOConfig
    value: nn.Module  # always a critic: Columns or PerAgent of ValueNetworks
    SHARED_ACTOR: ClassVar[bool] = True
    CENTRAL_CRITIC: ClassVar[bool] = False

    def __init__(self, env: Any, seed: int = 0, *, progress: bool = False, **config: Any) -> None:
        name = type(self).__name__
        resolve_factory(env)  # a clear error before anything is built
        self.env_spec = env
        self.seed = check_number("seed", seed, low=0, integer=True)
        self.config = self.Config.from_kwargs(name, **config)
        self.progress = bool(progress)
        probe = make_parallel_env(env, self.config.env_kwargs)
        self.info: EnvInfo = inspect_env(probe, name)
        probe.close()
        self.agents = self.info.agents
        self.action_space = self.info.action_space
        self.observation_space = spaces.Box(-np.inf, np.inf, (self.info.obs_dim,), dtype=np.float32)
        self.np_rng = np.random.default_rng(self.seed)
        self.torch_rng = torch.Generator().manual_seed(self.seed)
        self.history = History(tuple(f"return_{a}" for a in self.agents) + self.LOG_KEYS)
        self.total_steps = 0
        self.wall_time = 0.0
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            self._build()

    # --------------------------------------------------------------- build
    def _build(self) -> None:
        c, info = self.config, self.info
        K, D = info.n_agents, info.obs_dim
        self._width = D + K + (info.state_dim if self.CENTRAL_CRITIC else 0)
        act = self.action_space
        if self.SHARED_ACTOR:
            self.policy = Columns(make_policy(_box(D + K), act, c.hidden_sizes, c.activation, c.log_std_init), 0, D + K)
        else:
            self.policy = PerAgent(
                [make_policy(_box(D), act, c.hidden_sizes, c.activation, c.log_std_init) for _ in range(K)], D, D
            )
        if self.CENTRAL_CRITIC:
            self.value = Columns(ValueNetwork(K + info.state_dim, c.hidden_sizes, c.activation), D, self._width)
        elif self.SHARED_ACTOR:
            self.value = Columns(ValueNetwork(D + K, c.hidden_sizes, c.activation), 0, D + K)
        else:
            self.value = PerAgent([ValueNetwork(D, c.hidden_sizes, c.activation) for _ in range(K)], D, D)
        self._discrete = isinstance(act, spaces.Discrete)
        if self._discrete:
            self._action_start = int(act.start)
        else:
            self._low, self._high = act.low.astype(np.float32), act.high.astype(np.float32)
        self.envs = [make_parallel_env(self.env_spec, c.env_kwargs) for _ in range(c.num_envs)]
        self._features = np.zeros((c.num_envs, K, self._width), dtype=np.float32)
        self._alive = np.zeros((c.num_envs, K), dtype=bool)
        self._running = np.zeros((c.num_envs, K))
        self._lengths = np.zeros(c.num_envs, dtype=np.int64)
        for e in range(c.num_envs):
            self._reset_env(e)
        self._trainable = self._parameters()
        self._build_optimizers()

    def _reset_env(self, e: int) -> None:
        obs, _ = self.envs[e].reset(seed=int(self.np_rng.integers(2**31 - 1)))
        self._write_features(self._features[e], self._alive[e], obs, self.envs[e])
        self._running[e] = 0.0
        self._lengths[e] = 0

    def _write_features(self, out: np.ndarray, alive: np.ndarray, obs: dict, env: Any) -> None:
        """Fill ``out (K, F)`` from an observation dict (and the env's global state), and ``alive (K,)``
        with the agents still in the game (``env.agents``; an agent that just left still has an observation)."""
        D, K = self.info.obs_dim, self.info.n_agents
        out[:] = 0.0
        out[:, D : D + K] = np.eye(K, dtype=np.float32)
        live = set(env.agents)
        for k, agent in enumerate(self.agents):
            alive[k] = agent in live
            if agent in obs:
                o = np.asarray(obs[agent], dtype=np.float32).ravel()
                out[k, : o.size] = o
        if self.CENTRAL_CRITIC:
            if self.info.has_state:
                state = np.asarray(env.state(), dtype=np.float32).ravel()
            else:
                state = out[:, :D].ravel()
            out[:, D:] = critic_input(state, K)

    # --------------------------------------------------------------- acting
    def _env_action(self, action: np.ndarray) -> Any:
        if self._discrete:
            return int(action) + self._action_start
        return np.clip(action, self._low, self._high)

    @torch.inference_mode()
    def collect(self, n_steps: int | None = None) -> Fragment:
        """Run the current policies in the ``num_envs`` envs for ``n_steps`` joint steps in total
        (rounded up to a multiple of ``num_envs``; default one rollout); no learning. Shapes: module docstring."""
        c = self.config
        N, K = c.num_envs, self.info.n_agents
        T = c.n_steps if n_steps is None else math.ceil(check_number("n_steps", n_steps, low=1, integer=True) / N)
        features = np.empty((T, N, K, self._width), dtype=np.float32)
        act_shape = (T, N, K) if self._discrete else (T, N, K, self._low.shape[0])
        actions = np.empty(act_shape, dtype=np.int64 if self._discrete else np.float32)
        log_probs, values, rewards = (np.zeros((T, N, K), dtype=np.float32) for _ in range(3))
        bootstrap = np.zeros((T, N, K), dtype=np.float32)
        dones, alive = np.zeros((T, N, K), dtype=bool), np.zeros((T, N, K), dtype=bool)
        team_returns, lengths, agent_returns = [], [], []
        final = np.zeros((N, K, self._width), dtype=np.float32)
        for t in range(T):
            features[t], alive[t] = self._features, self._alive
            x = torch.from_numpy(self._features)
            dist = self.policy(x)
            action = dist.sample(self.torch_rng)
            log_probs[t], values[t] = dist.log_prob(action).numpy(), self.value(x).numpy()
            actions[t] = action_np = action.numpy()
            cut = np.zeros((N, K), dtype=bool)
            for e, env in enumerate(self.envs):
                joint = {
                    agent: self._env_action(action_np[e, k]) for k, agent in enumerate(self.agents) if self._alive[e, k]
                }
                obs, rew, term, trunc, _ = env.step(joint)
                for k, agent in enumerate(self.agents):
                    if self._alive[e, k]:
                        rewards[t, e, k] = rew.get(agent, 0.0)
                        ended_term, ended_trunc = bool(term.get(agent, False)), bool(trunc.get(agent, False))
                        dones[t, e, k] = ended_term or ended_trunc
                        cut[e, k] = ended_trunc and not ended_term
                    else:
                        dones[t, e, k] = True
                self._running[e] += rewards[t, e]
                self._lengths[e] += 1
                if not env.agents:  # episode over: bootstrap truncated agents from their last observation
                    self._write_features(final[e], np.zeros(K, dtype=bool), obs, env)
                    team_returns.append(float(self._running[e].sum()))
                    agent_returns.append(self._running[e].copy())
                    lengths.append(int(self._lengths[e]))
                    self._reset_env(e)
                else:
                    self._write_features(self._features[e], self._alive[e], obs, env)
                    final[e] = self._features[e]
            if cut.any():
                bootstrap[t][cut] = self.value(torch.from_numpy(final[cut])).numpy()
        last_values = self.value(torch.from_numpy(self._features)).numpy()
        self.total_steps += T * N
        data = {
            "features": features,
            "actions": actions,
            "log_probs": log_probs,
            "values": values,
            "rewards": rewards,
            "dones": dones,
            "bootstrap_values": bootstrap,
            "last_values": last_values,
            "alive": alive,
            "episode_agent_returns": np.array(agent_returns, dtype=np.float64).reshape(-1, K),
        }
        return Fragment(data, T * N, team_returns, lengths)

    # ------------------------------------------------------------- learning
    def _batch(self, fragment: Fragment) -> dict[str, torch.Tensor]:
        """All agents' samples flattened to ``T*N*K`` rows, with per-agent GAE advantages (normalised over
        the live samples) and value targets; padding rows get advantage 0 and their own value as target."""
        c, d = self.config, fragment.data
        advantages, returns = compute_gae(
            d["rewards"], d["values"], d["dones"], d["bootstrap_values"], d["last_values"], c.gamma, c.gae_lambda
        )
        alive = d["alive"].reshape(-1)
        advantages, returns = advantages.reshape(-1), returns.reshape(-1)
        values = d["values"].reshape(-1)
        live = advantages[alive]
        if c.normalize_advantage and len(live) > 1:
            advantages = (advantages - live.mean()) / (live.std() + 1e-8)
        advantages = np.where(alive, advantages, 0.0).astype(np.float32)
        returns = np.where(alive, returns, values).astype(np.float32)
        flat = (
            lambda key: torch.from_numpy(
                np.ascontiguousarray(  # noqa: E731
                    d[key].reshape(-1, *d[key].shape[3:])
                )
            )
        )
        return {
            "obs": flat("features"),
            "actions": flat("actions"),
            "old_log_probs": flat("log_probs"),
            "old_values": flat("values"),
            "advantages": torch.from_numpy(advantages),
            "returns": torch.from_numpy(returns),
        }

    def _train(self, until_step: int, timer: Timer, callbacks: Sequence[Callback]) -> None:
        while self.total_steps < until_step:
            fragment = self.collect()
            per_agent = fragment.data["episode_agent_returns"]
            for i, (ret, length) in enumerate(zip(fragment.episode_returns, fragment.episode_lengths)):
                self._record_episode(ret, length, timer, per_agent[i])
            if not self._record_update(timer, callbacks, **self.learn_from(fragment)):
                return

    def _record_episode(
        self, episode_return: float, episode_length: int, timer: Timer, agent_returns: np.ndarray | None = None
    ) -> None:
        K = self.info.n_agents
        extra = [math.nan] * K if agent_returns is None else [float(r) for r in agent_returns]
        row = (
            "episode",
            int(self.total_steps),
            float(timer.elapsed()),
            float(episode_return),
            int(episode_length),
            *extra,
            *([math.nan] * len(self.LOG_KEYS)),
        )
        self.history.extend([row])

    # ------------------------------------------------------------ inference
    @torch.no_grad()
    def act(self, obs: dict[str, Any], deterministic: bool = True, state: Any = None) -> dict[str, Any]:
        """Actions ``{agent id: action}`` for the observations ``{agent id: obs}`` of the live agents.

        Only the actors run, so the global ``state`` is never needed (decentralised execution)."""
        if not isinstance(obs, dict):
            raise TypeError(f"obs must be a dict {{agent id: observation}}; got {type(obs).__name__}")
        check_agent_ids(obs, self.agents, "obs")
        D = self.info.obs_dim
        rows = np.zeros((len(obs), self._width), dtype=np.float32)
        for r, agent in enumerate(obs):
            k = self.agents.index(agent)
            o = np.asarray(obs[agent], dtype=np.float32).ravel()
            if o.size != self.info.obs_dims[k]:
                raise ValueError(
                    f"obs of {agent!r} must have {self.info.obs_dims[k]} entries; got shape {np.shape(obs[agent])}"
                )
            rows[r, : o.size], rows[r, D + k] = o, 1.0
        dist = self.policy(torch.from_numpy(rows))
        chosen = (dist.mode() if deterministic else dist.sample(self.torch_rng)).numpy()
        return {agent: self._env_action(chosen[r]) for r, agent in enumerate(obs)}

    def rollout(
        self, episodes: int = 1, seed: int | None = None, deterministic: bool = True, policy: str = "learned"
    ) -> dict[str, np.ndarray]:
        """Play ``episodes`` fresh episodes in a new env; returns ``agent_returns (episodes, K)``,
        ``team_returns (episodes,)`` and, for the first episode, ``observations (T+1, K, obs_dim)``
        (zero rows for absent agents). ``policy="random"`` plays uniformly random actions instead."""
        episodes = check_number("episodes", episodes, low=1, integer=True)
        if policy not in ("learned", "random"):
            raise ValueError(f"policy must be 'learned' or 'random'; got {policy!r}")
        base = self.seed + 10_000 if seed is None else check_number("seed", seed, low=0, integer=True)
        env = make_parallel_env(self.env_spec, self.config.env_kwargs)
        K, D = self.info.n_agents, self.info.obs_dim
        agent_returns = np.zeros((episodes, K))
        frames: list[np.ndarray] = []
        try:
            for i in range(episodes):
                obs, _ = env.reset(seed=base + i)
                for agent in env.agents:
                    env.action_space(agent).seed(base + i)
                while env.agents:
                    if i == 0:
                        frames.append(_obs_frame(obs, self.agents, D))
                    joint = (
                        self.act({a: obs[a] for a in env.agents}, deterministic)
                        if policy == "learned"
                        else {a: env.action_space(a).sample() for a in env.agents}
                    )
                    obs, rew, *_ = env.step(joint)
                    for agent, r in rew.items():
                        agent_returns[i, self.agents.index(agent)] += r
                if i == 0:
                    frames.append(_obs_frame(obs, self.agents, D))
        finally:
            env.close()
        return {"agent_returns": agent_returns, "team_returns": agent_returns.sum(1), "observations": np.stack(frames)}

    def evaluate(
        self,
        episodes: int = 20,
        seed: int | None = None,
        deterministic: bool = True,
        max_episode_steps: int | None = None,
    ) -> np.ndarray:
        """Team returns (summed over agents) of ``episodes`` fresh episodes, ``(episodes,)``.
        ``max_episode_steps`` must stay None: the PettingZoo env ends its episodes itself."""
        if max_episode_steps is not None:
            raise TypeError(
                f"{type(self).__name__}.evaluate takes no max_episode_steps (got {max_episode_steps!r}): "
                "the PettingZoo env ends its episodes itself"
            )
        return self.rollout(episodes, seed, deterministic)["team_returns"]

    def evaluate_agents(self, episodes: int = 20, seed: int | None = None, deterministic: bool = True) -> np.ndarray:
        """Each agent's return in ``episodes`` fresh episodes, ``(episodes, K)`` (columns: ``self.agents``)."""
        return self.rollout(episodes, seed, deterministic)["agent_returns"]

    def _extra_state(self) -> dict[str, Any]:
        return {"agents": list(self.agents)}

    def __repr__(self) -> str:
        env = self.env_spec if isinstance(self.env_spec, str) else getattr(self.env_spec, "__name__", "env")
        return f"{type(self).__name__}({env!r}, agents={len(self.agents)}, seed={self.seed}, steps={self.total_steps})"


ALGORITHMS.pop(MultiAgentPPO.__name__, None)  # a shared base, not an algorithm


class IPPO(MultiAgentPPO):
    """Independent PPO: one actor and one critic per agent, each on its own observation (module docstring).

    >>> team = IPPO("mpe2.simple_spread_v3", env_kwargs={"N": 3})  # doctest: +SKIP
    """

    SHARED_ACTOR, CENTRAL_CRITIC = False, False


class SharedPPO(MultiAgentPPO):
    """Parameter-shared PPO: one actor and one critic for all agents, agent id in the input (module docstring)."""

    SHARED_ACTOR, CENTRAL_CRITIC = True, False


class MAPPO(MultiAgentPPO):
    """MAPPO (Yu et al. 2022): a shared actor on local observations, a centralised critic on the global state.

    >>> team = MAPPO("mpe2.simple_spread_v3", env_kwargs={"N": 3, "max_cycles": 25})  # doctest: +SKIP
    >>> team.train(100_000); team.evaluate().mean()                                    # doctest: +SKIP
    """

    SHARED_ACTOR, CENTRAL_CRITIC = True, True


def critic_input(state: np.ndarray, n_agents: int) -> np.ndarray:
    """What MAPPO's centralised critic reads for each agent: ``(K, K + S)`` rows ``[one-hot id e_k, state s]``
    from the global ``state (S,)``. Every agent sees the same state; the id tells the shared critic whose
    value to predict (agents' rewards may differ)."""
    n_agents = check_number("n_agents", n_agents, low=1, high=1024, integer=True)
    try:
        state = np.asarray(state, dtype=np.float32).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"state must be a numeric array; {exc}") from None
    return np.concatenate([np.eye(n_agents, dtype=np.float32), np.tile(state, (n_agents, 1))], axis=1)


def _box(dim: int) -> spaces.Box:
    return spaces.Box(-np.inf, np.inf, (dim,), dtype=np.float32)


def _obs_frame(obs: dict, agents: tuple[str, ...], dim: int) -> np.ndarray:
    frame = np.zeros((len(agents), dim), dtype=np.float32)
    for k, agent in enumerate(agents):
        if agent in obs:
            o = np.asarray(obs[agent], dtype=np.float32).ravel()
            frame[k, : o.size] = o
    return frame
