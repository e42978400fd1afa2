"""Finite Markov decision processes as arrays.

An :class:`MDP` holds the full model of a small environment:

* ``P[s, a, s']`` -- probability of moving to ``s'`` after action ``a`` in ``s``
  (shape ``(S, A, S)``, every row ``P[s, a, :]`` sums to 1);
* ``R[s, a]`` -- expected immediate reward ``r(s, a) = sum_s' P[s, a, s'] R3[s, a, s']``
  (shape ``(S, A)``); when built from an ``(S, A, S)`` reward, the full array is
  kept as ``R3`` so that sampled rewards are exact, not only their mean;
* ``terminal[s]`` -- episodes end on entering ``s``; its value is 0 by definition;
* ``start[s]`` -- the distribution of the first state of an episode.

Planning (``drlkit.planning``) reads ``P``/``R`` directly; learning
(``drlkit.tabular``) only samples from them through :meth:`MDP.step` or the
batched :meth:`MDP.step_batch`, exactly like an agent interacting with a
gymnasium environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .._checks import check_number

_ROW_TOL = 1e-6


@dataclass(eq=False)
class MDP:
    """A finite MDP ``(P, R, terminal, start)``; see the module docstring for shapes.

    Parameters
    ----------
    P : array (S, A, S)
        Transition probabilities; each ``P[s, a]`` must sum to 1.
    R : array (S, A) or (S, A, S)
        Rewards, either expected per (state, action) or per transition.
    terminal : array-like of bool (S,) or of state indices, optional
        States that end an episode. Default: none.
    start : int, array-like (S,) of probabilities, optional
        Start state or start distribution. Default: uniform over non-terminal states.
    state_names, action_names : optional labels used by plots and ``describe``.
    layout : optional ``(rows, cols)`` grid shape when states are grid cells
        numbered row by row (set by :mod:`drlkit.envs.gridworld`).
    """

    P: np.ndarray
    R: np.ndarray
    terminal: Any = None
    start: Any = None
    state_names: Sequence[str] | None = None
    action_names: Sequence[str] | None = None
    layout: tuple[int, int] | None = None
    grid: Sequence[str] | None = field(default=None, repr=False)
    R3: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        P = _as_float_array("P", self.P)
        if P.ndim != 3 or P.shape[0] != P.shape[2]:
            raise ValueError(f"P must have shape (S, A, S) with the same S twice; got shape {P.shape}")
        S, A, _ = P.shape
        if S == 0 or A == 0:
            raise ValueError(f"P must have at least one state and one action; got shape {P.shape}")
        if (P < 0).any():
            s, a, s2 = np.argwhere(P < 0)[0]
            raise ValueError(f"P must be non-negative; P[{s}, {a}, {s2}] = {P[s, a, s2]:g}")
        sums = P.sum(axis=2)
        bad = np.abs(sums - 1.0) > _ROW_TOL
        if bad.any():
            s, a = np.argwhere(bad)[0]
            raise ValueError(
                f"P rows must sum to 1 over next states; P[{s}, {a}, :] sums to {sums[s, a]:.6g} "
                f"({int(bad.sum())} row(s) off)"
            )
        P = P / sums[:, :, None]  # remove rounding error so sampling is exact

        R = _as_float_array("R", self.R)
        if R.shape == (S, A, S):
            R3 = R
            R = np.einsum("ijk,ijk->ij", P, R3)
        elif R.shape == (S, A):
            R3 = None
        else:
            raise ValueError(f"R must have shape (S, A) = {(S, A)} or (S, A, S) = {(S, A, S)}; got {R.shape}")

        terminal = _terminal_mask(self.terminal, S)
        start = _start_distribution(self.start, terminal, S)

        self.P, self.R, self.R3 = P, R, R3
        self.terminal, self.start = terminal, start
        for label, names, n in (("state_names", self.state_names, S), ("action_names", self.action_names, A)):
            if names is None:
                continue
            if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
                raise TypeError(f"{label} must be a list of {n} strings; got {type(names).__name__}")
            if len(names) != n:
                raise ValueError(f"{label} must have {n} entries; got {len(names)}")
        if self.layout is not None:
            if (
                not isinstance(self.layout, (tuple, list))
                or len(self.layout) != 2
                or not all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in self.layout)
            ):
                raise TypeError(f"layout must be a pair of integers (rows, cols); got {self.layout!r}")
            if self.layout[0] * self.layout[1] != S:
                raise ValueError(
                    f"layout {tuple(self.layout)} has {self.layout[0] * self.layout[1]} cells; "
                    f"the MDP has S = {S} states"
                )
        if self.grid is not None and (isinstance(self.grid, str) or not isinstance(self.grid, Sequence)):
            raise TypeError(f"grid must be a list of map rows (strings); got {type(self.grid).__name__}")
        # Cumulative rows let step/step_batch sample with one searchsorted.
        self._cdf = np.cumsum(P, axis=2)
        self._cdf[:, :, -1] = 1.0

    # ------------------------------------------------------------------ sizes
    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    # --------------------------------------------------------------- sampling
    def reset(self, rng: np.random.Generator) -> int:
        """Sample a start state."""
        return int(rng.choice(self.n_states, p=self.start))

    def step(self, state: int, action: int, rng: np.random.Generator) -> tuple[int, float, bool]:
        """Sample one transition: ``(next_state, reward, terminated)``."""
        next_state = int(np.searchsorted(self._cdf[state, action], rng.random(), side="right"))
        next_state = min(next_state, self.n_states - 1)
        reward = self.R3[state, action, next_state] if self.R3 is not None else self.R[state, action]
        return next_state, float(reward), bool(self.terminal[next_state])

    def reset_batch(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Sample ``n`` start states, shape ``(n,)``."""
        return rng.choice(self.n_states, size=n, p=self.start)

    def step_batch(
        self, states: np.ndarray, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sample ``n`` transitions at once (``states``/``actions`` of shape ``(n,)``).

        Returns ``next_states (n,) int``, ``rewards (n,) float``, ``terminated (n,) bool``.
        """
        cdf = self._cdf[states, actions]  # (n, S)
        u = rng.random(len(states))[:, None]
        next_states = np.minimum((cdf <= u).sum(axis=1), self.n_states - 1)
        if self.R3 is not None:
            rewards = self.R3[states, actions, next_states]
        else:
            rewards = self.R[states, actions]
        return next_states, rewards, self.terminal[next_states]

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_gymnasium(cls, env: Any) -> MDP:
        """Build the MDP of a gymnasium toy-text environment (FrozenLake, CliffWalking, Taxi...).

        ``env`` is an env id such as ``"FrozenLake-v1"`` or an env made with
        ``gymnasium.make``. It must expose its model as ``env.unwrapped.P``
        (``P[s][a] = [(prob, next_state, reward, terminated), ...]``).
        A state is terminal when a transition into it ends the episode.
        """
        import gymnasium as gym

        from .make import make_env

        if isinstance(env, str):
            env = make_env(env)
        model = getattr(getattr(env, "unwrapped", env), "P", None)
        if not isinstance(model, dict):
            raise TypeError(
                f"{_env_name(env)} has no tabular model (env.unwrapped.P); from_gymnasium supports "
                "toy-text environments such as FrozenLake-v1, CliffWalking-v1 and Taxi-v4"
            )
        if not isinstance(env.observation_space, gym.spaces.Discrete) or not isinstance(
            env.action_space, gym.spaces.Discrete
        ):
            raise TypeError(f"{_env_name(env)} must have Discrete observation and action spaces")
        S, A = int(env.observation_space.n), int(env.action_space.n)
        P = np.zeros((S, A, S))
        R3 = np.zeros((S, A, S))
        terminal = np.zeros(S, dtype=bool)
        for s in range(S):
            for a in range(A):
                for prob, s2, reward, done in model[s][a]:
                    P[s, a, s2] += prob
                    R3[s, a, s2] += prob * reward
                    terminal[s2] |= bool(done)
        with np.errstate(invalid="ignore", divide="ignore"):
            R3 = np.where(P > 0, R3 / np.where(P > 0, P, 1.0), 0.0)
        start = getattr(env.unwrapped, "initial_state_distrib", None)
        if start is None:
            obs, _ = env.reset(seed=0)
            start = int(obs)
        desc = getattr(env.unwrapped, "desc", None)
        layout = grid = None
        if desc is not None:
            grid = ["".join(c.decode() if isinstance(c, bytes) else c for c in row) for row in desc]
            layout = (len(grid), len(grid[0]))
            if layout[0] * layout[1] != S:
                layout = grid = None
        elif len(getattr(env.unwrapped, "shape", ())) == 2 and int(np.prod(env.unwrapped.shape)) == S:
            rows, cols = env.unwrapped.shape
            layout = (int(rows), int(cols))
        return cls(P=P, R=R3, terminal=terminal, start=start, layout=layout, grid=grid)

    def describe(self) -> str:
        """One line summary, for notebooks."""
        return f"MDP with {self.n_states} states ({int(self.terminal.sum())} terminal), {self.n_actions} actions"


def _as_float_array(name: str, value: Any) -> np.ndarray:
    if np.iscomplexobj(value) or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers; got {type(value).__name__} {value!r:.40}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers; could not convert it ({exc})") from None
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must contain only finite numbers")
    return arr


def _terminal_mask(terminal: Any, S: int) -> np.ndarray:
    """``terminal`` as a boolean mask ``(S,)``: either a boolean mask or a list of state indices.

    An integer list of length ``S`` holding only 0s and 1s is ambiguous (a 0/1 mask or the
    indices 0 and 1?): with a repeated index it can only be a mask, and is refused with the
    fix; otherwise it is read as indices with a warning that says how to be explicit.
    """
    if terminal is None:
        return np.zeros(S, dtype=bool)
    if isinstance(terminal, (str, bytes, dict, set)):
        raise TypeError(
            f"terminal must be a boolean mask of shape ({S},) or a list of state indices; got {type(terminal).__name__}"
        )
    try:
        arr = np.asarray(terminal)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"terminal must be a boolean mask of shape ({S},) or state indices ({exc})") from None
    if arr.dtype == bool:
        if arr.shape != (S,):
            raise ValueError(f"terminal as a mask must have shape ({S},); got {arr.shape}")
        return arr.copy()
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(
            f"terminal must be a boolean mask of shape ({S},) or integer state indices; got dtype {arr.dtype}"
        )
    arr = arr.reshape(-1)
    if arr.size and np.issubdtype(arr.dtype, np.floating):
        if np.isfinite(arr).all() and (arr == np.round(arr)).all():
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"terminal state indices must be integers in [0, {S - 1}]; got {arr.tolist()[:8]}")
    if arr.size and (arr.min() < 0 or arr.max() >= S):
        bad = int(arr[(arr < 0) | (arr >= S)][0])
        raise ValueError(
            f"terminal must be a boolean mask of shape ({S},) or state indices in [0, {S - 1}]; got index {bad}"
        )
    if S >= 2 and arr.shape == (S,) and set(np.unique(arr).tolist()) <= {0, 1}:
        as_mask = np.flatnonzero(arr).tolist()
        explicit = (
            f"pass a boolean mask (terminal=np.array({arr.tolist()}, dtype=bool), i.e. states {as_mask}) "
            f"or the indices themselves"
        )
        if len(np.unique(arr)) < arr.size:
            raise ValueError(
                f"terminal={arr.tolist()} looks like a 0/1 mask but is read as state indices (it repeats an "
                f"index); {explicit}"
            )
        import warnings

        from .._checks import DrlkitWarning

        warnings.warn(
            f"terminal={arr.tolist()} is read as the state indices {sorted(arr.tolist())}, not as a 0/1 mask; "
            f"{explicit} to silence this warning",
            DrlkitWarning,
            stacklevel=4,
        )
    mask = np.zeros(S, dtype=bool)
    mask[arr.astype(int)] = True
    return mask


def _start_distribution(start: Any, terminal: np.ndarray, S: int) -> np.ndarray:
    if start is None:
        if terminal.all():
            raise ValueError("every state is terminal; give start explicitly")
        dist = (~terminal).astype(float)
        return dist / dist.sum()
    if np.isscalar(start) or np.ndim(start) == 0:
        s = check_number("start", start, low=0, high=S - 1, integer=True)
        dist = np.zeros(S)
        dist[int(s)] = 1.0
        return dist
    dist = _as_float_array("start", start)
    if dist.shape != (S,):
        raise ValueError(f"start must be a state index or a distribution of shape ({S},); got shape {dist.shape}")
    if (dist < 0).any() or abs(dist.sum() - 1.0) > _ROW_TOL:
        raise ValueError(f"start must be non-negative and sum to 1; it sums to {dist.sum():.6g}")
    return dist / dist.sum()


def _env_name(env: Any) -> str:
    spec = getattr(env, "spec", None)
    return getattr(spec, "id", None) or type(env).__name__
