"""Checkpoints of a distributed training run, and resuming from one.

The driver (the notebook's kernel) holds the one authoritative copy of a run: the
parameters, the optimizer state, the version, the records and the random states.
With ``train(..., checkpoint="runs/cartpole")`` it writes them to disk every
``checkpoint_every`` seconds (after an applied update) and once more when the run
ends or stops with an error, so a kernel restart loses at most that many seconds:

>>> result = drlkit.distributed.train(agent, "sync", total_steps=50_000,
...                                   checkpoint="runs/cartpole")         # doctest: +SKIP
>>> # ... the kernel dies; in a new one:
>>> result = drlkit.distributed.resume("runs/cartpole")                   # doctest: +SKIP

A checkpoint is a directory::

    runs/cartpole/latest                the name of the newest complete checkpoint
    runs/cartpole/update-00000042/      one complete checkpoint (the newest two are kept)
        agent.pt                        Agent.save: networks, optimizers, History, agent RNGs
        driver_rng.pt                   the driver's global torch RNG state (a tensor)
        run.json                        mode, options, version, steps, records, numpy/random RNG states

Each checkpoint is written into a temporary directory, renamed into place, and only
then named in ``latest`` (itself replaced atomically): a crash while writing leaves
the previous checkpoint intact. Nothing is read with pickle: tensors through
``torch.load(weights_only=True)``, everything else as JSON.

What a resumed run continues: the version counter, the records (``rows``,
``episodes``, ``events``, wall time), the agent (parameters, optimizer, History,
RNGs, env steps) and the options, until the original ``total_steps``. What it
cannot continue is state that lives only on the workers: each slot's environments
(episodes in progress) and, in ``sync``/``async``, each slot's own optimizer state.
Workers rebuild their slot agents as at the start of a run, so work that was in
flight is done again (and recorded once, when it arrives).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import os
import random
import re
import shutil
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

#: Version of the run-checkpoint layout (``run.json``'s ``format``).
RUN_FORMAT = 1
#: Default seconds between checkpoints.
DEFAULT_EVERY = 60.0
#: Complete checkpoints kept in a checkpoint directory (older ones are removed).
KEEP = 2

_RESUMING: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("drlkit_resuming", default=None)


class ResumeError(ValueError):
    """A checkpoint that cannot resume this run; the message names the field and both values."""


# ------------------------------------------------------------------ writing
def check_checkpoint(checkpoint: Any, checkpoint_every: Any) -> Checkpointer | None:
    """Validate ``checkpoint`` / ``checkpoint_every`` and make sure the directory can be written."""
    from .._checks import check_number

    every = DEFAULT_EVERY if checkpoint_every is None else check_number("checkpoint_every", checkpoint_every, low=0)
    if checkpoint is None:
        return None
    path = _check_dir("checkpoint", checkpoint)
    # Probe the nearest existing directory (the checkpoint directory is made at the first save, so a
    # call that fails later, e.g. without a cluster, leaves nothing behind).
    existing = path.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(20, "not a directory", str(existing))
        probe = existing / f".drlkit-probe-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(
            f"checkpoint={str(checkpoint)!r} cannot be written ({type(exc).__name__}: {exc.strerror or exc}); "
            "give a directory this process may create and write, e.g. 'runs/cartpole'"
        ) from None
    return Checkpointer(path, float(every))


def _check_dir(name: str, value: Any) -> Path:
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a directory path (str or pathlib.Path), got {type(value).__name__}")
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"{name} must not be empty; give a directory such as 'runs/cartpole'")
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name}={str(value)!r} is a file; give a directory such as 'runs/cartpole'")
    return path


class Checkpointer:
    """Writes the run's state to ``path`` at most every ``every`` seconds after an applied update."""

    def __init__(self, path: Path, every: float) -> None:
        self.path = path
        self.every = every
        self.last: Path | None = None
        self.last_version = -1
        self.error: str | None = None
        self._last_time = time.monotonic()

    def after_update(self, run: Any) -> None:
        if time.monotonic() - self._last_time >= self.every:
            self._try_save(run)

    def final(self, run: Any) -> None:
        """At the end of a run (or when it stops with an error): save unless nothing changed."""
        if run.version != self.last_version:
            self._try_save(run)

    def _try_save(self, run: Any) -> None:
        """Save; a checkpoint that cannot be written (disk full, directory removed) warns and training
        goes on: the run itself is intact, and :meth:`note` names the last checkpoint that was written."""
        try:
            self.save(run)
        except (OSError, TypeError, ValueError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            warnings.warn(
                f"checkpoint: could not write to {self.path} ({self.error}); training goes on"
                + (f", the last checkpoint is {self.last}" if self.last else ""),
                RuntimeWarning,
                stacklevel=2,
            )

    def note(self) -> str:
        """Where the newest checkpoint is, for error messages."""
        if self.last is None:
            return f"; no checkpoint was written to {self.path}" + (f" ({self.error})" if self.error else "")
        return (
            f"; the last checkpoint (update {self.last_version}) is at {self.last}: continue with "
            f"drlkit.distributed.resume({str(self.path)!r})"
        )

    def save(self, run: Any) -> Path:
        self._last_time = time.monotonic()
        final = self.path / f"update-{run.version:08d}"
        tmp = self.path / f".tmp-{uuid.uuid4().hex[:12]}"
        try:
            tmp.mkdir(parents=True)
            run.agent.save(tmp / "agent.pt")
            torch.save({"torch": torch.get_rng_state()}, tmp / "driver_rng.pt")
            (tmp / "run.json").write_text(json.dumps(_run_state(run, self.every), default=_plain))
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
            latest = self.path / f".latest-{uuid.uuid4().hex[:8]}"
            latest.write_text(final.name)
            os.replace(latest, self.path / "latest")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.last, self.last_version = final, run.version
        for old in sorted(self.path.glob("update-*"))[:-KEEP]:
            shutil.rmtree(old, ignore_errors=True)
        return final


def _run_state(run: Any, every: float) -> dict[str, Any]:
    agent, result = run.agent, run.result
    nprng: Any = np.random.get_state()
    return {
        "format": RUN_FORMAT,
        "algorithm": type(agent).__name__,
        "env_id": agent.env_spec if isinstance(agent.env_spec, str) else None,
        "seed": agent.seed,
        "mode": result.mode,
        "n_workers": result.n_workers,
        "options": result.options,
        "checkpoint_every": every,
        "version": run.version,
        "steps_received": run.steps_received,
        "agent_total_steps": agent.total_steps,
        "wall_time": run.elapsed(),
        "setup_time": result.setup_time,
        "rows": result.rows,
        "episodes": result.episodes,
        "events": result.events,
        "numpy_random": [nprng[0], nprng[1].tolist(), *nprng[2:]],
        "python_random": random.getstate(),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")


# ------------------------------------------------------------------ reading
def read(path: Any, name: str = "resume") -> tuple[Path, dict[str, Any]]:
    """The newest complete checkpoint in directory ``path`` and its ``run.json``, validated."""
    path = _check_dir(name, path)
    latest = path / "latest"
    if not latest.is_file():
        raise FileNotFoundError(f"{name}={str(path)!r}: no checkpoint there (no 'latest' file)")
    name_in_latest = latest.read_text(errors="replace").strip()
    if not re.fullmatch(r"update-\d{8}", name_in_latest):
        got = name_in_latest[:60]
        raise ResumeError(f"{name}: {latest} must name a checkpoint like 'update-00000042'; got {got!r}")
    where = path / name_in_latest
    try:
        state = json.loads((where / "run.json").read_text())
    except (OSError, ValueError) as exc:
        raise ResumeError(f"{name}: {where / 'run.json'} cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or state.get("format") != RUN_FORMAT:
        got = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ResumeError(f"{name}: {where} has run format {got!r}; this drlkit reads format {RUN_FORMAT}")
    types: dict[str, type | tuple[type, ...]] = {
        "algorithm": str,
        "mode": str,
        "n_workers": int,
        "options": dict,
        "version": int,
        "steps_received": int,
        "agent_total_steps": int,
        "wall_time": (int, float),
        "rows": list,
        "episodes": list,
        "events": list,
    }
    for key, kind in types.items():
        if not isinstance(state.get(key), kind):
            raise ResumeError(f"{name}: {where / 'run.json'} field {key!r} must be {kind}; got {state.get(key)!r}")
    for key in ("rows", "episodes", "events"):
        if not all(isinstance(item, dict) for item in state[key]):
            raise ResumeError(f"{name}: {where / 'run.json'} field {key!r} must be a list of records (dicts)")
    if not isinstance(state["options"].get("total_steps"), int):
        raise ResumeError(f"{name}: {where / 'run.json'} field 'options' has no integer 'total_steps'")
    return where, state


#: Options a resumed run may set anew (they change how work reaches the workers, not the run).
RESUME_MAY_CHANGE = ("transport",)


def resume_arguments(arguments: dict[str, Any], parameters: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``train``'s keyword arguments for continuing the run checkpointed in ``arguments['resume']``,
    and the state to restore. ``parameters``: train's parameter names and defaults; an option left
    at its default takes the saved value, one given again must equal it."""
    where, state = read(arguments["resume"])
    agent, mode = arguments["agent"], arguments["mode"]
    saved_for = f"the checkpoint at {where}"
    if type(agent).__name__ != state["algorithm"]:
        raise ResumeError(
            f"resume: {saved_for} was written by a {state['algorithm']} agent; agent is a {type(agent).__name__}"
        )
    env_id = agent.env_spec if isinstance(agent.env_spec, str) else None
    if env_id != state.get("env_id"):
        raise ResumeError(f"resume: {saved_for} trained on env {state.get('env_id')!r}; agent's env is {env_id!r}")
    if mode != state["mode"]:
        raise ResumeError(f"resume: {saved_for} is of a mode={state['mode']!r} run; got mode={mode!r}")
    kwargs = {k: v for k, v in arguments.items() if k != "resume"}
    saved = dict(state["options"], n_workers=state["n_workers"])
    for key, value in saved.items():
        if key == "kill_worker_at":
            continue  # a one-off event of the first run, not carried over
        if key not in parameters:
            raise ResumeError(f"resume: {saved_for} has option {key!r}, which this drlkit's train() does not take")
        given = arguments.get(key)
        if key in RESUME_MAY_CHANGE and given is not None:
            continue  # how the work travels, not what the run computes: the caller's choice
        if given is None or _is_default(given, parameters[key]):
            kwargs[key] = {int(k): v for k, v in value.items()} if isinstance(value, dict) else value
        elif _same(given) != _same(value):
            raise ResumeError(
                f"resume: option {key}={given!r} differs from the checkpointed run's {key}={value!r}; "
                "a resumed run keeps its options (leave it out)"
            )
    if kwargs.get("checkpoint") is None:
        kwargs["checkpoint"] = arguments["resume"]
    every = state.get("checkpoint_every")
    if kwargs.get("checkpoint_every") is None and isinstance(every, (int, float)) and math.isfinite(every):
        kwargs["checkpoint_every"] = max(float(every), 0.0)
    return kwargs, dict(state, where=str(where))


def _is_default(given: Any, default: Any) -> bool:
    try:
        return given is default or (type(given) is type(default) and bool(given == default))
    except Exception:  # an object whose == is not a plain truth value
        return False


def _same(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, default=_plain))
    except (TypeError, ValueError):
        return repr(value)


@contextlib.contextmanager
def resuming(state: dict[str, Any]):
    token = _RESUMING.set(state)
    try:
        yield
    finally:
        _RESUMING.reset(token)


def restore_pending(run: Any) -> None:
    """If ``train`` was called to resume a run, load the checkpoint into ``run`` (agent and records)."""
    state = _RESUMING.get()
    if state is None:
        return
    _RESUMING.set(None)  # only the outermost train() call resumes
    from ..agents.base import load

    where = Path(state["where"])
    agent = run.agent
    loaded = load(where / "agent.pt", env=agent.env_spec)
    if loaded.spec().config != agent.spec().config or loaded.seed != agent.seed:
        raise ResumeError(
            f"resume: the checkpoint at {where} has a {type(agent).__name__} with seed {loaded.seed} and config "
            f"{loaded.spec().config}; agent has seed {agent.seed} and config {agent.spec().config}"
        )
    for name, net in agent.networks().items():
        net.load_state_dict(loaded.networks()[name].state_dict())
    for name, opt in agent.optimizers().items():
        opt.load_state_dict(loaded.optimizers()[name].state_dict())
    agent.total_steps = loaded.total_steps
    agent.wall_time = loaded.wall_time
    agent.history = loaded.history
    agent.torch_rng.set_state(loaded.torch_rng.get_state())
    agent.np_rng.bit_generator.state = loaded.np_rng.bit_generator.state
    agent._load_extra_state(loaded._extra_state())
    rng = torch.load(where / "driver_rng.pt", weights_only=True)
    torch.set_rng_state(rng["torch"])
    if isinstance(state.get("numpy_random"), list):
        name, keys, *rest = state["numpy_random"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    if isinstance(state.get("python_random"), list):
        version, internal, gauss = state["python_random"]
        random.setstate((version, tuple(internal), gauss))
    result = run.result
    result.rows[:] = state["rows"]
    result.episodes[:] = state["episodes"]
    result.events[:] = state["events"]
    result.env_steps = state["steps_received"]
    run.version = state["version"]
    run.steps_received = state["steps_received"]
    run.time_offset = float(state["wall_time"])
    run.until = agent.total_steps + run.settings.total_steps - run.steps_received
    if run.checkpointer is not None:
        run.checkpointer.last_version = run.version  # nothing new to write until the next update


def resume(
    path: Any,
    *,
    client: Any = None,
    env: Any = None,
    callbacks: Any = None,
    on_update: Callable[[Any], Any] | None = None,
    progress: bool | None = None,
    worker_timeout: float = 30.0,
    checkpoint: Any = None,
    checkpoint_every: float | None = None,
    transport: str | None = None,
) -> Any:
    """Continue the run checkpointed in directory ``path`` (``train(..., checkpoint=path)``) until its
    original ``total_steps``: a new agent is loaded from the checkpoint, the mode and options are the
    saved ones, versions and records continue. Returns the whole run's :class:`DistributedResult`.

    ``env`` is needed only when the agent was made with a callable env. The run keeps checkpointing
    to ``path`` (or ``checkpoint``) every ``checkpoint_every`` seconds (default: as before).
    ``transport`` may differ from the first run's (default: the same).
    """
    from ..agents.base import load
    from .training import train

    where, state = read(path)
    agent = load(where / "agent.pt", env=env)
    return train(
        agent,
        state["mode"],
        total_steps=state["options"]["total_steps"],
        client=client,
        callbacks=callbacks,
        on_update=on_update,
        progress=progress,
        worker_timeout=worker_timeout,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        transport=transport,
        resume=path,
    )
