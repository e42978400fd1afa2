"""Turning what a user passes as ``env`` into a gymnasium environment, with clear errors."""

from __future__ import annotations

import difflib
from typing import Any

import gymnasium as gym


def make_env(env: Any, **kwargs: Any) -> gym.Env:
    """Return a gymnasium env from an env id, a zero-argument callable, or an env.

    An unknown id raises ``ValueError`` naming the id and the closest registered ids
    (gymnasium's own error is a deep traceback that students find hard to read).
    """
    if isinstance(env, gym.Env):
        return env
    if isinstance(env, str):
        check_env_id(env)
        return gym.make(env, **kwargs)
    if callable(env):
        made = env()
        if not isinstance(made, gym.Env):
            raise TypeError(f"env callable must return a gymnasium.Env; it returned {type(made).__name__}")
        return made
    raise TypeError(
        f"env must be a gymnasium env id (str), a callable returning a gymnasium.Env, or an env; "
        f"got {type(env).__name__}"
    )


def check_env_id(env_id: str) -> str:
    """Raise ``ValueError`` if ``env_id`` is not registered with gymnasium."""
    if env_id in gym.registry:
        return env_id
    close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"env: unknown gymnasium environment id {env_id!r}{hint}")


def env_id_of(env: Any) -> str | None:
    """The registered id of ``env`` if it has one (used for labels and checkpoints)."""
    if isinstance(env, str):
        return env
    spec = getattr(env, "spec", None)
    return getattr(spec, "id", None)
