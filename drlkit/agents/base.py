"""What every deep RL agent in drlkit shares: config validation, the training
loop's bookkeeping, acting, evaluation, checkpoints and the hooks the
distributed layer uses.

An algorithm is one file that subclasses :class:`Agent` and fills in

* ``Config`` -- a dataclass of its hyperparameters (subclass of :class:`AgentConfig`),
* ``LOG_KEYS`` -- the metrics each update logs (fixed columns of the History),
* ``_build()`` -- make environments, networks and optimizers,
* ``_train(until_step, timer)`` -- the learning loop, run until ``self.total_steps >= until_step``,
* ``_act_batch(obs, deterministic)`` -- actions for a batch of observations,
* ``collect(n_steps)`` / ``learn_from(fragment)`` -- one rollout fragment and
  one update from it, which the distributed layer runs on different machines.

Construction is ``Algo(env, seed=0, **config)``; training ``agent.train(total_steps)``
continues where the previous call stopped.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import inspect
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Sequence, TypeVar

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from .._checks import check_choice, check_memory, check_number
from ..envs.make import check_env_id, env_id_of, make_env
from ._config_doc import hyperparameter_section
from .history import History

#: Registered algorithm classes by name, for ``drlkit.load`` and for rebuilding agents on Dask workers.
ALGORITHMS: dict[str, type[Agent]] = {}

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU}

# Names other libraries and papers use for the same hyperparameters.
_ALIASES = {
    "lr": "learning_rate",
    "discount": "gamma",
    "n_envs": "num_envs",
    "net_arch": "hidden_sizes",
    "lambda_": "gae_lambda",
}

_Config = TypeVar("_Config", bound="AgentConfig")


@dataclass
class AgentConfig:
    """Hyperparameters every algorithm has. Subclasses add their own fields and
    extend :meth:`validate` (calling ``super().validate()``)."""

    #: Step size of the optimizer, in (0, 1].
    learning_rate: float = 3e-4
    #: Discount factor γ of future rewards, in [0, 1]: a reward k steps ahead counts γ^k.
    gamma: float = 0.99
    #: Widths of the hidden layers of every network, each >= 1 (e.g. ``(64, 64)``: two layers of 64).
    hidden_sizes: tuple[int, ...] = (64, 64)
    #: Activation between hidden layers: ``"tanh"``, ``"relu"`` or ``"elu"``.
    activation: str = "tanh"
    #: Gradients are rescaled so their global L2 norm is at most this (> 0); ``None``: no clipping.
    max_grad_norm: float | None = 0.5

    def validate(self) -> None:
        check_number("learning_rate", self.learning_rate, low=0, high=1, low_open=True)
        check_number("gamma", self.gamma, low=0, high=1)
        check_choice("activation", self.activation, ACTIVATIONS)
        if not isinstance(self.hidden_sizes, (tuple, list)) or not self.hidden_sizes:
            raise ValueError(f"hidden_sizes must be a non-empty tuple of layer widths, got {self.hidden_sizes!r}")
        for width in self.hidden_sizes:
            check_number("hidden_sizes entries", width, low=1, integer=True)
        self.hidden_sizes = tuple(int(w) for w in self.hidden_sizes)
        if self.max_grad_norm is not None:
            check_number("max_grad_norm", self.max_grad_norm, low=0, low_open=True)

    @classmethod
    def from_kwargs(cls: type[_Config], owner: str, **kwargs: Any) -> _Config:
        """Build and validate a config; unknown names get a 'did you mean' hint."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in kwargs:
            if key not in names:
                close = [_ALIASES[key]] if _ALIASES.get(key) in names else difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else "."
                raise TypeError(f"{owner} has no hyperparameter {key!r}{hint} Valid names: {', '.join(names)}")
        config = cls(**kwargs)
        config.validate()
        return config

    @classmethod
    def preset(cls: type[_Config], env_id: str) -> _Config:
        """The validated config of the algorithm's preset for ``env_id`` (``PPOConfig.preset("Pendulum-v1")``);
        ``ValueError`` listing the presets that exist for an env without one (see :mod:`drlkit.agents.presets`)."""
        from .presets import preset_values

        algorithm = cls.__name__.removesuffix("Config")
        return cls.from_kwargs(algorithm, **preset_values(algorithm, env_id))


@dataclass
class Fragment:
    """A piece of experience collected with fixed weights, small enough to ship between processes.

    ``data`` holds the algorithm's own numpy arrays (e.g. ``obs (T, N, obs_dim)``,
    ``actions``, ``rewards (T, N)``...). ``n_steps`` counts environment steps over
    all envs. ``episode_returns``/``episode_lengths`` list the episodes that
    ended inside the fragment. ``version`` is the parameter version the weights
    came from (set by the distributed layer; -1 when local).
    """

    data: dict[str, np.ndarray]
    n_steps: int
    episode_returns: list[float] = field(default_factory=list)
    episode_lengths: list[int] = field(default_factory=list)
    version: int = -1


Callback = Callable[["Agent"], "bool | None"]
"""Called after every update with the agent; return ``False`` to stop training early."""


class Agent:
    """Base class of the deep RL agents (see module docstring)."""

    Config: ClassVar[type[AgentConfig]] = AgentConfig
    LOG_KEYS: ClassVar[tuple[str, ...]] = ()
    #: Action spaces the algorithm supports.
    ACTION_SPACES: ClassVar[tuple[type[gym.Space], ...]] = (gym.spaces.Discrete, gym.spaces.Box)
    # The env's spaces (checked in _check_spaces: a flat Box, and one of ACTION_SPACES).
    observation_space: Any
    action_space: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ALGORITHMS[cls.__name__] = cls
        # help(Algo) lists every hyperparameter, from the comments where its Config declares them.
        cls.__doc__ = f"{inspect.cleandoc(cls.__doc__ or '')}\n\n{hyperparameter_section(cls.__name__, cls.Config)}"

    def __init__(self, env: Any, seed: int = 0, *, progress: bool = False, **config: Any) -> None:
        name = type(self).__name__
        if isinstance(env, str):
            check_env_id(env)
        elif not callable(env):
            raise TypeError(
                f"{name}: env must be a gymnasium env id (str) or a callable that makes an env "
                f"(so that copies can be made for vector envs and Dask workers); got {type(env).__name__}"
            )
        self.env_spec = env
        self.seed = check_number("seed", seed, low=0, high=2**63 - 1, integer=True)
        self.config = self.Config.from_kwargs(name, **config)
        self.progress = bool(progress)
        # A probe env tells the spaces; algorithms make their own (vector) envs in _build.
        probe = make_env(env)
        self.observation_space, self.action_space = probe.observation_space, probe.action_space
        probe.close()
        self._check_spaces()
        self.np_rng = np.random.default_rng(self.seed)
        self.torch_rng = torch.Generator().manual_seed(self.seed)
        self.history = History(self.LOG_KEYS)
        self.total_steps = 0
        self.wall_time = 0.0
        with torch.random.fork_rng():  # seed network init without touching the global RNG
            torch.manual_seed(self.seed)
            self._build()

    # --------------------------------------------------------------- presets
    @classmethod
    def presets(cls) -> dict[str, str]:
        """The environments this algorithm has a preset for: ``{env id: where its values come from}``."""
        from .presets import presets_of

        return presets_of(cls.__name__)

    @classmethod
    def preset(cls, env_id: str) -> dict[str, Any]:
        """Hyperparameters chosen for ``env_id``, as constructor keywords:
        ``PPO("Pendulum-v1", **PPO.preset("Pendulum-v1"))``. ``{}`` where the defaults
        are the choice; ``ValueError`` listing :meth:`presets` for an env without one."""
        from .presets import preset_values

        return preset_values(cls.__name__, env_id)

    # ------------------------------------------------------------ subclasses
    def _build(self) -> None:
        raise NotImplementedError

    def _train(self, until_step: int, timer: Timer, callbacks: Sequence[Callback]) -> None:
        raise NotImplementedError

    def _act_batch(self, obs: torch.Tensor, deterministic: bool) -> torch.Tensor:
        raise NotImplementedError

    def networks(self) -> dict[str, nn.Module]:
        """The modules whose parameters define the agent (shared, averaged, saved)."""
        raise NotImplementedError

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Optimizers whose state is saved with the agent."""
        return {}

    def collect(self, n_steps: int) -> Fragment:
        """Run the current policy for about ``n_steps`` environment steps; no learning."""
        raise NotImplementedError(f"{type(self).__name__} does not support collect()")

    def learn_from(self, fragment: Fragment) -> dict[str, float]:
        """One update from a fragment (possibly collected elsewhere); returns the logged metrics."""
        raise NotImplementedError(f"{type(self).__name__} does not support learn_from()")

    def compute_gradients(self, fragment: Fragment) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Gradients of the loss on ``fragment`` at the current parameters (keys as in
        :meth:`get_parameters`, trainable parameters only) and the metrics to log; no step is taken."""
        raise NotImplementedError(f"{type(self).__name__} does not support compute_gradients()")

    def apply_gradients(self, gradients: dict[str, np.ndarray]) -> None:
        """One optimizer step with the given gradients (e.g. averaged over workers)."""
        raise NotImplementedError(f"{type(self).__name__} does not support apply_gradients()")

    # ----------------------------------------------------------------- train
    def train(
        self,
        total_steps: int,
        callbacks: Callback | Iterable[Callback] | None = None,
        progress: bool | None = None,
    ) -> History:
        """Train for ``total_steps`` more environment steps; returns the (growing) History."""
        total_steps = check_number("total_steps", total_steps, low=1, integer=True)
        if callbacks is None:
            callbacks = []
        elif callable(callbacks):
            callbacks = [callbacks]
        elif isinstance(callbacks, Iterable) and not isinstance(callbacks, (str, bytes, dict)):
            callbacks = list(callbacks)
        else:
            raise TypeError(
                f"callbacks must be a callable taking the agent, or a list of them; got {type(callbacks).__name__}"
            )
        for cb in callbacks:
            if not callable(cb):
                raise TypeError(f"callbacks must be callables taking the agent; got {type(cb).__name__}")
        until = self.total_steps + total_steps
        show = self.progress if progress is None else progress
        timer = Timer(self, until, show)
        try:
            self._train(until, timer, callbacks)
        finally:
            timer.close()
        return self.history

    # ------------------------------------------------------------ inference
    @torch.no_grad()
    def act(self, obs: Any, deterministic: bool = True) -> Any:
        """Action for one observation (or a batch with a leading batch axis).

        ``obs`` has shape ``observation_space.shape`` (or ``(batch, *shape)``) and must be
        finite: a NaN or infinite entry raises ``ValueError`` naming its position rather than
        returning an action computed from garbage.
        """
        if not isinstance(deterministic, (bool, np.bool_)):
            raise TypeError(f"deterministic must be True or False; got {deterministic!r}")
        obs_arr = _as_observation(obs)
        shape = self._obs_shape()
        single = obs_arr.shape == shape
        if not single and obs_arr.shape[1:] != shape:
            raise ValueError(f"obs must have shape {shape} or (batch, *{shape}); got {obs_arr.shape}")
        if not np.isfinite(obs_arr).all():
            where = tuple(int(i) for i in np.argwhere(~np.isfinite(obs_arr))[0])
            raise ValueError(
                f"obs must be finite; obs{list(where)} = {obs_arr[where]} "
                f"({int((~np.isfinite(obs_arr)).sum())} non-finite entries): check the env or the wrapper "
                "that produced it"
            )
        batch = torch.as_tensor(obs_arr[None] if single else obs_arr)
        actions = self._act_batch(batch, bool(deterministic)).numpy()
        if isinstance(self.action_space, gym.spaces.Discrete):
            actions = actions.astype(np.int64)
            return int(actions[0]) if single else actions
        return actions[0] if single else actions

    #: Step cap of :meth:`evaluate` episodes when the env has no time limit of its own.
    EVAL_MAX_EPISODE_STEPS: ClassVar[int] = 10_000

    def evaluate(
        self,
        episodes: int = 20,
        seed: int | None = None,
        deterministic: bool = True,
        max_episode_steps: int | None = None,
    ) -> np.ndarray:
        """Undiscounted returns of ``episodes`` fresh episodes, shape ``(episodes,)``.

        Uses its own env, so training state (envs, RNGs) is untouched. Every episode
        stops after ``max_episode_steps`` steps (default: the env's own time limit, or
        :attr:`EVAL_MAX_EPISODE_STEPS` = 10000 when it has none, e.g. ``env.unwrapped``
        or a custom env); a cut episode counts the return of its steps so far and a
        :class:`~drlkit._checks.DrlkitWarning` says how many were cut. The episodes'
        lengths are kept in ``agent.last_evaluation_lengths``, shape ``(episodes,)``.
        """
        episodes = check_number("episodes", episodes, low=1, integer=True)
        base_seed = self.seed + 10_000 if seed is None else check_number("seed", seed, low=0, integer=True)
        if not isinstance(deterministic, (bool, np.bool_)):
            raise TypeError(f"deterministic must be True or False; got {deterministic!r}")
        if max_episode_steps is not None:
            max_episode_steps = check_number("max_episode_steps", max_episode_steps, low=1, integer=True)
        check_memory(f"episodes = {episodes}", episodes * 8, "evaluate fewer episodes")
        env = make_env(self.env_spec)
        time_limit = getattr(getattr(env, "spec", None), "max_episode_steps", None)
        cap = max_episode_steps or time_limit or self.EVAL_MAX_EPISODE_STEPS
        returns = np.zeros(episodes)
        lengths = np.zeros(episodes, dtype=np.int64)
        cut = 0
        try:
            for i in range(episodes):
                obs, _ = env.reset(seed=base_seed + i)
                done, total, steps = False, 0.0, 0
                while not done:
                    obs, reward, terminated, truncated, _ = env.step(self.act(obs, deterministic=deterministic))
                    total += float(reward)
                    steps += 1
                    done = terminated or truncated
                    if not done and steps >= cap:
                        cut += 1
                        break
                returns[i] = total
                lengths[i] = steps
        finally:
            env.close()
        self.last_evaluation_lengths = lengths
        if cut and max_episode_steps is None:
            import warnings

            from .._checks import DrlkitWarning

            warnings.warn(
                f"evaluate: {cut} of {episodes} episode(s) were cut after max_episode_steps={cap} steps without "
                f"ending (env {env_id_of(self.env_spec) or 'without an id'} has "
                f"{'no time limit' if time_limit is None else f'a time limit of {time_limit}'}); their returns "
                "cover those steps only. Pass max_episode_steps=... to choose the cap",
                DrlkitWarning,
                stacklevel=2,
            )
        return returns

    # ------------------------------------------------------ parameters (Dask)
    def get_parameters(self) -> dict[str, np.ndarray]:
        """All network parameters as numpy arrays, keyed ``"<network>.<param>"``."""
        return {
            f"{net_name}.{key}": value.detach().cpu().numpy().copy()
            for net_name, net in self.networks().items()
            for key, value in net.state_dict().items()
        }

    def _check_named_arrays(self, kind: str, given: dict[str, Any], shapes: dict[str, tuple[int, ...]]) -> None:
        """``given`` has exactly the keys of ``shapes``, each array of that shape; else a ValueError
        naming the ``kind`` ("parameter", "gradient") and the first keys or the shape that differ."""
        missing, extra = shapes.keys() - given.keys(), given.keys() - shapes.keys()
        if missing or extra:
            raise ValueError(
                f"{kind}s do not match this {type(self).__name__}: missing {sorted(missing)[:3]}, "
                f"unexpected {sorted(extra)[:3]}"
            )
        for key, shape in shapes.items():
            if np.shape(given[key]) != tuple(shape):
                raise ValueError(f"{kind} {key!r} has shape {np.shape(given[key])}; expected {tuple(shape)}")

    def set_parameters(self, params: dict[str, np.ndarray]) -> None:
        """Load parameters produced by :meth:`get_parameters` (same algorithm and sizes)."""
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict {{name: array}} from get_parameters(); got {type(params).__name__}")
        # The networks' own tensors (parameters and buffers), written in place: cheaper than
        # load_state_dict, which matters because this runs for every Dask task and every merge.
        live = {
            f"{net_name}.{key}": value
            for net_name, net in self.networks().items()
            for key, value in net.state_dict(keep_vars=True).items()
        }
        self._check_named_arrays("parameter", params, {key: tuple(value.shape) for key, value in live.items()})
        with torch.no_grad():
            for key, tensor in live.items():
                tensor.copy_(torch.as_tensor(np.asarray(params[key])))

    def spec(self) -> AgentSpec:
        """A small picklable recipe that rebuilds this kind of agent elsewhere (e.g. on a Dask worker)."""
        return AgentSpec(type(self).__name__, self.env_spec, self.seed, dataclasses.asdict(self.config))

    # ---------------------------------------------------------- checkpoints
    def save(self, path: str | Path) -> Path:
        """Write a checkpoint loadable with ``drlkit.load`` (``weights_only=True``).

        A callable env cannot be stored; loading then needs ``drlkit.load(path, env=...)``.
        """
        path = _check_path(path)
        if path.is_dir():
            raise ValueError(f"path {str(path)!r} is a directory; give a file name such as {str(path / 'agent.pt')!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        env_id = self.env_spec if isinstance(self.env_spec, str) else None
        state = {
            "format": CHECKPOINT_FORMAT,
            "spaces": {"observation": _space_str(self.observation_space), "action": _space_str(self.action_space)},
            "algorithm": type(self).__name__,
            "env_id": env_id,
            "seed": self.seed,
            "config": _plain(dataclasses.asdict(self.config)),
            "networks": {k: v.state_dict() for k, v in self.networks().items()},
            "optimizers": {k: v.state_dict() for k, v in self.optimizers().items()},
            "total_steps": self.total_steps,
            "wall_time": self.wall_time,
            "history": self.history.state_dict(),
            "torch_rng": self.torch_rng.get_state(),
            "np_rng": _plain(self.np_rng.bit_generator.state),
            "extra": self._extra_state(),
        }
        torch.save(state, path)
        return path

    def _extra_state(self) -> dict[str, Any]:
        """Algorithm-specific state to checkpoint (plain types and tensors only)."""
        return {}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    # --------------------------------------------------------------- helpers
    def _obs_shape(self) -> tuple[int, ...]:
        return tuple(self.observation_space.shape)

    def _check_spaces(self) -> None:
        name = type(self).__name__
        if not isinstance(self.action_space, self.ACTION_SPACES):
            allowed = " or ".join(s.__name__ for s in self.ACTION_SPACES)
            raise ValueError(
                f"{name} needs a {allowed} action space; {env_id_of(self.env_spec) or 'this env'} has "
                f"{self.action_space}"
            )
        if not isinstance(self.observation_space, gym.spaces.Box) or len(self.observation_space.shape) != 1:
            raise ValueError(f"{name} needs flat Box observations (a vector); this env has {self.observation_space}")

    def record_episode(
        self, episode_return: float, episode_length: int, timer: Timer, agent_returns: np.ndarray | None = None
    ) -> None:
        """History hook: book a finished episode at ``self.total_steps``. Called by ``train`` and by the
        distributed engine for every episode a worker finished; subclasses customise ``_record_episode``.
        ``agent_returns`` (shape ``(n_agents,)``) comes only from multi-agent learners."""
        self._record_episode(episode_return, episode_length, timer, agent_returns)

    def record_update(self, timer: Timer, callbacks: Sequence[Callback], **metrics: float) -> bool:
        """History hook: log an update (its metrics) and run the callbacks; False when one asks to stop.
        Called by ``train`` and by the distributed engine for every applied update."""
        return self._record_update(timer, callbacks, **metrics)

    def _record_episode(
        self, episode_return: float, episode_length: int, timer: Timer, agent_returns: np.ndarray | None = None
    ) -> None:
        """One History row for a finished episode; a single-agent History has no per-agent columns,
        so ``agent_returns`` is ignored here (multi-agent learners override this hook to keep them)."""
        self.history.log_episode(self.total_steps, timer.elapsed(), episode_return, episode_length)

    def _record_update(self, timer: Timer, callbacks: Sequence[Callback], **metrics: float) -> bool:
        """Log an update and run callbacks; returns False when a callback asks to stop."""
        self.history.log_update(self.total_steps, timer.elapsed(), **metrics)
        timer.advance(self.total_steps)
        return all(cb(self) is not False for cb in callbacks)

    def __repr__(self) -> str:
        env = env_id_of(self.env_spec) or getattr(self.env_spec, "__name__", "env")
        return f"{type(self).__name__}({env!r}, seed={self.seed}, steps={self.total_steps})"


@dataclass(frozen=True)
class AgentSpec:
    """Algorithm name, env, seed and config: enough to rebuild an agent anywhere drlkit is installed."""

    algorithm: str
    env: Any
    seed: int
    config: dict[str, Any]

    def build(self, seed: int | None = None) -> Agent:
        cls = ALGORITHMS[self.algorithm]
        return cls(self.env, seed=self.seed if seed is None else seed, **self.config)


class Timer:
    """Wall-clock of the training loop (accumulated on the agent) and the optional progress bar."""

    def __init__(self, agent: Agent, until: int, show: bool) -> None:
        self.agent = agent
        self._start = time.perf_counter()
        self._base = agent.wall_time
        self._bar = None
        if show:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=until, initial=agent.total_steps, unit="step", desc=type(agent).__name__)

    def elapsed(self) -> float:
        return self._base + time.perf_counter() - self._start

    def advance(self, step: int) -> None:
        if self._bar is not None:
            self._bar.update(step - self._bar.n)
            returns = self.agent.history.episode_returns
            if len(returns):
                self._bar.set_postfix(ret=f"{returns[-10:].mean():.1f}", refresh=False)

    def close(self) -> None:
        self.agent.wall_time = self.elapsed()
        if self._bar is not None:
            self._bar.close()


#: Version of the checkpoint layout written by :meth:`Agent.save`; ``drlkit.load`` reads this one only.
CHECKPOINT_FORMAT = 1

# Entries of a format-1 checkpoint and the types they must have (optional: "spaces").
_CHECKPOINT_ENTRIES: dict[str, tuple[type, ...]] = {
    "algorithm": (str,),
    "env_id": (str, type(None)),
    "seed": (int,),
    "config": (dict,),
    "networks": (dict,),
    "optimizers": (dict,),
    "total_steps": (int,),
    "wall_time": (int, float),
    "history": (dict,),
    "torch_rng": (torch.Tensor,),
    "np_rng": (dict,),
    "extra": (dict,),
}


class CheckpointError(ValueError):
    """A file that ``drlkit.load`` cannot turn into an agent; the message says which entry and why."""


def load(path: str | Path, env: Any = None) -> Agent:
    """Load an agent saved with ``agent.save``; it acts identically and can keep training.

    The file is read with ``torch.load(weights_only=True)``: a checkpoint cannot run code.

    Raises ``FileNotFoundError`` (no such file), ``TypeError`` (``path`` not a str/Path) and
    :class:`CheckpointError` (a ``ValueError``) for anything wrong with the file: not a
    checkpoint, truncated or corrupt, written by a newer drlkit, an entry missing or of the
    wrong type, or networks of another shape (the message says what the file was saved for
    and what it is being loaded into).
    """
    path = _check_path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if path.is_dir():
        raise CheckpointError(f"{path} is a directory, not a checkpoint file")
    try:
        state = torch.load(path, weights_only=True)
    except Exception as exc:  # a corrupt or foreign file: say so plainly
        if isinstance(exc, pickle.UnpicklingError) or "weights_only" in str(exc):
            # torch's own advice (weights_only=False) would run whatever code the file holds: never give it.
            detail = "it holds objects other than tensors and plain values, which drlkit never loads"
        else:
            detail = f"{type(exc).__name__}: {_first_line(exc)}"
        raise CheckpointError(
            f"{path} is not a drlkit checkpoint, or not a complete one: torch.load(weights_only=True) could not "
            f"read it ({detail}); is it the whole file that Agent.save() wrote?"
        ) from None
    if not isinstance(state, dict) or "format" not in state:
        raise CheckpointError(
            f"{path} is not a drlkit checkpoint (it holds a {type(state).__name__} without a 'format' entry; "
            "checkpoints are written by agent.save)"
        )
    fmt = state["format"]
    if isinstance(fmt, bool) or not isinstance(fmt, int):
        raise CheckpointError(f"{path}: checkpoint entry 'format' must be an integer; got {fmt!r}")
    if fmt > CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} was written by a newer drlkit (checkpoint format {fmt}); this drlkit reads format "
            f"{CHECKPOINT_FORMAT}: upgrade drlkit to load it"
        )
    if fmt != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} has unknown checkpoint format {fmt}; this drlkit reads format {CHECKPOINT_FORMAT}"
        )
    for key, types in _CHECKPOINT_ENTRIES.items():
        if key not in state:
            raise CheckpointError(f"{path}: checkpoint entry {key!r} is missing (the file is incomplete or edited)")
        value = state[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            allowed = " or ".join("None" if t is type(None) else t.__name__ for t in types)
            raise CheckpointError(
                f"{path}: checkpoint entry {key!r} must be {allowed}; got {_short(value)} ({type(value).__name__})"
            )
    name = state["algorithm"]
    if name not in ALGORITHMS:
        raise CheckpointError(
            f"{path}: checkpoint entry 'algorithm' is {name!r}, which this drlkit does not know "
            f"(known: {', '.join(sorted(ALGORITHMS))})"
        )
    for key in ("seed", "total_steps"):
        if state[key] < 0:
            raise CheckpointError(f"{path}: checkpoint entry {key!r} must be >= 0; got {state[key]}")
    if not np.isfinite(state["wall_time"]) or state["wall_time"] < 0:
        raise CheckpointError(
            f"{path}: checkpoint entry 'wall_time' must be a finite number >= 0; got {state['wall_time']}"
        )
    env = env if env is not None else state["env_id"]
    if env is None:
        raise ValueError(f"{path} was saved from an agent with a callable env; pass env=... to drlkit.load")
    saved_for = _saved_for(state)
    config = dict(state["config"])
    if isinstance(config.get("hidden_sizes"), list):
        config["hidden_sizes"] = tuple(config["hidden_sizes"])
    if not isinstance(env, str) and not callable(env):
        raise TypeError(
            f"env must be a gymnasium env id (str) or a callable that makes an env; got {type(env).__name__}"
        )
    try:
        agent = ALGORITHMS[name](env, seed=state["seed"], **config)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot rebuild the {saved_for}: {exc}") from None
    loading_into = _describe(agent)
    with _entry(path, "networks"):
        _check_tensors(
            path,
            "networks",
            state["networks"],
            {k: v.state_dict() for k, v in agent.networks().items()},
            saved_for,
            loading_into,
        )
        for net_name, net in agent.networks().items():
            net.load_state_dict(state["networks"][net_name])
    with _entry(path, "optimizers"):
        for opt_name, opt in agent.optimizers().items():
            if opt_name not in state["optimizers"]:
                raise CheckpointError(f"{path}: checkpoint entry 'optimizers' has no {opt_name!r} optimizer")
            _check_optimizer_state(opt, state["optimizers"][opt_name])
            opt.load_state_dict(state["optimizers"][opt_name])
    agent.total_steps = int(state["total_steps"])
    agent.wall_time = float(state["wall_time"])
    with _entry(path, "history"):
        history = state["history"]
        expected = list(agent.history.log_keys)  # LOG_KEYS plus any per-instance columns (multi-agent returns)
        if list(history.get("log_keys", [])) != expected:
            raise CheckpointError(
                f"{path}: checkpoint entry 'history' logs {history.get('log_keys')!r}; a {name} logs {expected}"
            )
        agent.history = History.from_state_dict(history)
        width = len(agent.history.columns)
        if not isinstance(history.get("rows"), list) or any(
            not isinstance(r, (list, tuple)) or len(r) != width for r in history["rows"]
        ):
            raise CheckpointError(f"{path}: checkpoint entry 'history' must hold rows of {width} fields")
    with _entry(path, "torch_rng"):
        agent.torch_rng.set_state(state["torch_rng"])
    with _entry(path, "np_rng"):
        agent.np_rng.bit_generator.state = state["np_rng"]
    with _entry(path, "extra"):
        agent._load_extra_state(state["extra"])
    return agent


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else "no message"


def _check_path(path: Any) -> Path:
    if isinstance(path, bytes) or not isinstance(path, (str, Path)) and not hasattr(path, "__fspath__"):
        raise TypeError(f"path must be a file path (str or pathlib.Path); got {_short(path)} ({type(path).__name__})")
    if isinstance(path, str) and not path.strip():
        raise ValueError("path must not be empty; give a file name such as 'agent.pt'")
    return Path(path)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(agent: Agent) -> str:
    env = env_id_of(agent.env_spec) or getattr(agent.env_spec, "__name__", "a callable env")
    return (
        f"{type(agent).__name__} on {env} (observations {_space_str(agent.observation_space)}, "
        f"actions {_space_str(agent.action_space)}, "
        f"hidden_sizes {tuple(agent.config.hidden_sizes)})"
    )


def _space_str(space: Any) -> str:
    """A short description of a space: ``Box(4,)``, ``Discrete(2)``."""
    if isinstance(space, gym.spaces.Box):
        return f"Box{tuple(space.shape)}"
    return str(space)


def _saved_for(state: dict[str, Any]) -> str:
    spaces = state.get("spaces") if isinstance(state.get("spaces"), dict) else {}
    where = state["env_id"] or "a callable env"
    detail = f"observations {spaces.get('observation')}, actions {spaces.get('action')}, " if spaces else ""
    hidden = state["config"].get("hidden_sizes")
    hidden = tuple(hidden) if isinstance(hidden, (list, tuple)) else hidden
    return f"{state['algorithm']} on {where} ({detail}hidden_sizes {hidden})"


def _check_tensors(
    path: Path, entry: str, saved: Any, own: dict[str, dict[str, torch.Tensor]], saved_for: str, loading_into: str
) -> None:
    """Every network of ``own`` is in ``saved`` with tensors of the same names and shapes."""
    for net_name, params in own.items():
        theirs = saved.get(net_name)
        if not isinstance(theirs, dict):
            raise CheckpointError(
                f"{path}: checkpoint entry {entry!r} has no {net_name!r} network (found {sorted(map(str, saved))})"
            )
        missing, extra = params.keys() - theirs.keys(), theirs.keys() - params.keys()
        for key, value in theirs.items():
            if not isinstance(value, torch.Tensor):
                raise CheckpointError(
                    f"{path}: checkpoint entry {entry}[{net_name!r}][{key!r}] must be a tensor; "
                    f"got {type(value).__name__}"
                )
        for key, value in theirs.items():
            if value.is_floating_point() and not torch.isfinite(value).all():
                raise CheckpointError(
                    f"{path}: checkpoint entry {entry}[{net_name!r}][{key!r}] holds NaN or "
                    "infinite weights (the file is damaged, or training diverged before saving)"
                )
        mismatched = [k for k in params.keys() & theirs.keys() if tuple(params[k].shape) != tuple(theirs[k].shape)]
        if missing or extra or mismatched:
            what = (
                f"parameter {net_name}.{mismatched[0]} has shape {tuple(theirs[mismatched[0]].shape)} in the "
                f"file and {tuple(params[mismatched[0]].shape)} in the agent"
                if mismatched
                else f"network {net_name!r} has layers {sorted(theirs)[:4]} in the file and {sorted(params)[:4]} "
                "in the agent"
            )
            raise CheckpointError(
                f"{path} was saved for {saved_for} and is being loaded into {loading_into}: {what}. "
                "Load it with the env and hidden_sizes it was saved with"
            )


def _check_optimizer_state(optimizer: torch.optim.Optimizer, saved: Any) -> None:
    """Load ``saved`` into a throw-away copy of ``optimizer`` and take one step with zero
    gradients: a state that the real optimizer would only choke on in ``train()`` fails here."""
    copies, groups = {}, []
    for group in optimizer.param_groups:
        params = []
        for p in group["params"]:
            copies[id(p)] = p.detach().clone().requires_grad_(True)
            params.append(copies[id(p)])
        groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": params})
    probe = type(optimizer)(groups, **optimizer.defaults)
    probe.load_state_dict(copy.deepcopy(saved))  # the probe's step must not touch the tensors loaded next
    for group in probe.param_groups:
        for p in group["params"]:
            p.grad = torch.zeros_like(p)
    probe.step()


class _entry:
    """Turn any failure while restoring one checkpoint entry into a CheckpointError naming it."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if exc is None or isinstance(exc, CheckpointError) or not isinstance(exc, Exception):
            return  # nothing to translate: the exception (if any) propagates as it is
        raise CheckpointError(
            f"{self.path}: checkpoint entry {self.name!r} is damaged or of the wrong type "
            f"({type(exc).__name__}: {_first_line(exc)})"
        ) from None


def _as_observation(obs: Any) -> np.ndarray:
    """``obs`` as a float32 array, or a TypeError naming ``obs`` (never numpy's own error)."""
    if hasattr(obs, "detach"):  # a torch tensor
        obs = obs.detach().cpu().numpy()
    try:
        with np.errstate(over="ignore"):  # beyond float32: becomes inf, refused by act() as non-finite
            arr = np.asarray(obs, dtype=np.float32)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(
            f"obs must be an array of numbers (an observation of the env); got {_short(obs)} "
            f"({type(obs).__name__}: {exc})"
        ) from None
    return arr


# ------------------------------------------------------------------ builders
def mlp(in_dim: int, hidden_sizes: Sequence[int], out_dim: int, activation: str = "tanh") -> nn.Sequential:
    """``in_dim -> hidden... -> out_dim`` multilayer perceptron (no activation on the output)."""
    layers: list[nn.Module] = []
    sizes = [in_dim, *hidden_sizes]
    n_params = sum((a + 1) * b for a, b in zip(sizes, [*sizes[1:], out_dim]))
    # Parameters, their gradients and two Adam moments: 4 float32 copies.
    check_memory(
        f"hidden_sizes = {tuple(hidden_sizes)} ({n_params:,} parameters per network)",
        n_params * 16,
        "use smaller layers, e.g. hidden_sizes=(64, 64)",
    )
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), ACTIVATIONS[activation]()]
    layers.append(nn.Linear(sizes[-1], out_dim))
    return nn.Sequential(*layers)


#: Upper bound of ``num_envs``: each copy is a Python object stepped in turn by one process.
MAX_NUM_ENVS = 1024


def make_vec_env(env: Any, num_envs: int) -> gym.vector.VectorEnv:
    """``num_envs`` copies of ``env`` stepping in lockstep, with SAME_STEP autoreset:
    when a sub-env's episode ends, ``step`` already returns the next episode's
    first observation and puts the last one in ``info["final_obs"]``.
    Call ``reset(seed=...)`` on it before stepping."""
    if num_envs > MAX_NUM_ENVS:
        raise ValueError(
            f"num_envs must be at most {MAX_NUM_ENVS} (copies of the env stepped in this process); got {num_envs}. "
            "Spread more environments over Dask workers with drlkit.distributed.train(..., n_workers=...)"
        )
    fns = [(lambda: make_env(env)) for _ in range(num_envs)]
    return gym.vector.SyncVectorEnv(fns, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples inside ``value`` to plain Python types."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
