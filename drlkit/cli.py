"""The ``drlkit`` command line: train, evaluate, plot, sweep, tutorials, student-edition.

::

    drlkit train PPO CartPole-v1 --steps 50000 --seed 0 --out runs/ppo-0
    drlkit train PPO CartPole-v1 --steps 50000 --mode async --workers 4           # a local Dask cluster
    drlkit train DQN CartPole-v1 --steps 50000 --address tcp://10.0.0.5:8786      # an existing cluster
    drlkit evaluate runs/ppo-0
    drlkit sweep PPO CartPole-v1 --steps 50000 --seeds 0 1 2 --grid learning_rate=1e-3,3e-4 --out runs/sweep
    drlkit plot runs/sweep --out curves.png
    drlkit tutorials

A *run folder* (``train`` and each run of ``sweep`` write one) holds

============================  ========================================================================
``config.json``               algorithm, env, seed, hyperparameters, steps, mode, command
``history.csv``               the agent's History (written while training runs)
``history.parquet``           the same, when pyarrow is installed (the ``parquet`` extra; else a note says so)
``agent.pt``                  the checkpoint (``drlkit.load``; ``weights_only=True``)
``distributed.csv``           distributed runs: one row per task result (``DistributedResult.to_frame``)
``distributed_episodes.csv``  distributed runs: one row per episode, with its worker
``summary.json``              steps, wall time, final return (and the distributed summary)
``evaluation.json``           written by ``drlkit evaluate``
============================  ========================================================================

Bad input (an unknown algorithm, env id, hyperparameter or value) prints one line
``drlkit: error: ...`` on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import itertools
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn, Sequence

from ._checks import int_argument

USAGE_ERROR = 2


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump, no traceback)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ---------------------------------------------------------------- parsing
def _algorithms() -> dict[str, type]:
    import drlkit  # noqa: F401  (registers the built-in algorithms)
    from drlkit.agents.base import ALGORITHMS

    return ALGORITHMS


def resolve_algorithm(name: str) -> type:
    """The registered Agent class called ``name`` (case-insensitive)."""
    algorithms = _algorithms()
    by_lower = {k.lower(): v for k, v in algorithms.items()}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    raise UsageError(f"unknown algorithm {name!r}; choose one of {', '.join(sorted(algorithms))}")


def parse_value(text: str) -> Any:
    """A ``--set`` value: a Python literal (``3e-4``, ``64,64``, ``None``, ``'relu'``), ``true``/``false``,
    or else the text itself (``relu``)."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_settings(pairs: Sequence[str], option: str = "--set") -> dict[str, Any]:
    """``["key=value", ...]`` -> ``{key: parsed value}``."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise UsageError(f"{option} takes key=value (e.g. {option} learning_rate=1e-3), got {pair!r}")
        settings[key] = parse_value(value)
    return settings


def parse_grid(pairs: Sequence[str]) -> list[dict[str, Any]]:
    """``["lr=1e-3,3e-4", "gamma=0.99"]`` -> every combination as a dict (one empty dict without pairs)."""
    axes: dict[str, list[Any]] = {}
    for pair in pairs:
        key, sep, values = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier() or not values.strip():
            raise UsageError(f"--grid takes key=v1,v2,... (e.g. --grid learning_rate=1e-3,3e-4), got {pair!r}")
        axes[key] = [parse_value(v) for v in values.split(";" if ";" in values else ",")]
    return [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]


def build_agent(algorithm: str, env: str, seed: int, settings: dict[str, Any], progress: bool = False) -> Any:
    """Make the agent, turning every validation error into a :class:`UsageError`."""
    cls = resolve_algorithm(algorithm)
    from drlkit.envs.make import check_env_id

    if not isinstance(env, str):
        raise UsageError(f"env must be a gymnasium env id, got {env!r}")
    try:
        check_env_id(env)
        return cls(env, seed=seed, progress=progress, **settings)
    except (ValueError, TypeError, KeyError) as exc:
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        raise UsageError(message.splitlines()[0] if message else type(exc).__name__) from None


def preset_settings(algorithm: str, env: str, use_preset: bool, settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` on top of the algorithm's preset for ``env`` when ``--preset`` is given
    (an env without a preset is a :class:`UsageError` that lists the ones that exist)."""
    if not use_preset:
        return settings
    cls: Any = resolve_algorithm(algorithm)  # an Agent subclass
    try:
        values = cls.preset(env)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--preset: {exc}; `drlkit presets` lists them all") from None
    return {**values, **settings}


_seed = int_argument("a seed", 0)


# --------------------------------------------------------------- run folders
def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and callable(value.item):
        return _jsonable(value.item())
    return value


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(_jsonable(data), indent=2) + "\n")


PARQUET_HINT = (
    "history.parquet not written: pyarrow is not installed "
    '(pip install -c constraints.txt -e ".[parquet]", or pip install pyarrow)'
)


def write_history(folder: Path, history: Any) -> list[str]:
    """History as CSV (and Parquet when pyarrow is installed); returns the files written."""
    frame = history.to_frame()
    frame.to_csv(folder / "history.csv", index=False)
    written = ["history.csv"]
    if not parquet_available():
        return written
    frame.to_parquet(folder / "history.parquet", index=False)
    return written + ["history.parquet"]


def parquet_available() -> bool:
    """Whether pandas can write Parquet here (pyarrow, from the ``parquet`` extra)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _note_missing_parquet() -> None:
    if not parquet_available():
        print(f"note: {PARQUET_HINT}", file=sys.stderr)


def final_return(history: Any, window: int = 20) -> float:
    returns = history.episode_returns
    return float(returns[-window:].mean()) if len(returns) else math.nan


def write_run(folder: Path, agent: Any, config: dict[str, Any], result: Any = None) -> None:
    """Everything of a finished run: config, History, checkpoint, distributed records, summary."""
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "config.json", config)
    write_history(folder, agent.history)
    agent.save(folder / "agent.pt")
    summary: dict[str, Any] = {
        "total_steps": agent.total_steps,
        "wall_time": agent.wall_time,
        "episodes": len(agent.history.episode_returns),
        "final_return": final_return(agent.history),
    }
    if result is not None:
        result.to_frame().to_csv(folder / "distributed.csv", index=False)
        result.episode_frame().to_csv(folder / "distributed_episodes.csv", index=False)
        summary["distributed"] = result.summary()
    write_json(folder / "summary.json", summary)


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise UsageError(f"{folder} is not a drlkit run folder (no config.json)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not valid JSON ({exc})") from None


def find_runs(paths: Sequence[str]) -> list[Path]:
    """Run folders among ``paths`` and below them (a sweep folder holds one per run)."""
    runs: list[Path] = []
    for text in paths:
        path = Path(text)
        if not path.exists():
            raise UsageError(f"no such folder: {text}")
        if (path / "config.json").is_file():
            runs.append(path)
        else:
            found = sorted(p.parent for p in path.rglob("config.json"))
            if not found:
                raise UsageError(f"{text} holds no drlkit run (no config.json in it or below it)")
            runs += found
    return runs


def _default_out(algorithm: str, env: str, seed: int) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{algorithm}-{env}-seed{seed}-{stamp}"


# ------------------------------------------------------------------ commands
MODE_OPTION_NAMES = (
    "fragment_steps",
    "local_steps",
    "eta",
    "staleness_aware",
    "max_staleness",
    "backup_workers",
    "round_timeout",
    "reduce",
    "tree_fanin",
    "worker_timeout",
    "transport",
)


def cmd_train(args: argparse.Namespace) -> int:
    from drlkit.distributed import MODES

    mode = args.mode or ("sync" if (args.workers or args.address) else "local")
    if mode != "local" and mode not in MODES:
        raise UsageError(f"--mode must be one of local, {', '.join(MODES)}; got {mode!r}")
    if mode == "local" and (args.workers or args.address):
        raise UsageError("--workers/--address need a distributed --mode (one of " + ", ".join(MODES) + ")")
    options = parse_settings(args.option, "--option")
    for key in options:
        if key not in MODE_OPTION_NAMES:
            raise UsageError(
                f"--option {key!r} is not an option of distributed training; valid: {', '.join(MODE_OPTION_NAMES)}"
            )
    if options and mode == "local":
        raise UsageError("--option applies to distributed modes only (give --mode)")
    if mode != "local":
        from drlkit.distributed.training import MODE_OPTIONS

        for key in options:
            users = [m for m, names in MODE_OPTIONS.items() if key in names]
            if users and mode not in users:
                raise UsageError(
                    f"--option {key!r} does not apply to mode {mode!r} (it is for {', '.join(map(repr, users))})"
                )
    settings = preset_settings(args.algorithm, args.env, args.preset, parse_settings(args.set))
    agent = build_agent(args.algorithm, args.env, args.seed, settings, progress=not args.quiet)
    name = type(agent).__name__
    out = Path(args.out) if args.out else _default_out(name, args.env, args.seed)
    if (out / "config.json").exists() and not args.overwrite:
        raise UsageError(f"{out} already holds a run; choose another --out or pass --overwrite")
    created = not out.exists()
    try:
        return _train_into(args, agent, mode, settings, options, out)
    except UsageError:
        if created:  # a value only the engine could check: leave nothing behind
            shutil.rmtree(out, ignore_errors=True)
        raise


def _train_into(
    args: argparse.Namespace, agent: Any, mode: str, settings: dict[str, Any], options: dict[str, Any], out: Path
) -> int:
    from drlkit.loggers import CSVLogger

    name = type(agent).__name__
    out.mkdir(parents=True, exist_ok=True)
    config = {
        "algorithm": name,
        "env": args.env,
        "seed": args.seed,
        "steps": args.steps,
        "mode": mode,
        "workers": args.workers,
        "address": args.address,
        "settings": settings,
        "preset": bool(args.preset),
        "options": options,
        "config": dict(agent.spec().config),
        "command": shlex.join(["drlkit", *sys.argv[1:]]),
    }
    write_json(out / "config.json", config)
    callbacks: list[Any] = [CSVLogger(out / "history.csv")]
    if args.tensorboard:
        from drlkit.loggers import TensorBoardLogger

        callbacks.append(TensorBoardLogger(out / "tensorboard"))
    result = None
    try:
        if mode == "local":
            agent.train(args.steps, callbacks=callbacks)
        else:
            import drlkit

            result = _train_distributed(drlkit, agent, mode, args, options, callbacks)
    finally:
        for cb in callbacks:
            cb.close()
    write_run(out, agent, config, result)
    _note_missing_parquet()
    ret = final_return(agent.history)
    print(
        f"{name} on {args.env}: {agent.total_steps} steps in {agent.wall_time:.1f} s, "
        f"mean return of the last 20 episodes {ret:.1f}; run folder {out}"
    )
    return 0


def _train_distributed(
    drlkit: Any, agent: Any, mode: str, args: argparse.Namespace, options: dict[str, Any], callbacks: list[Any]
) -> Any:
    from drlkit.distributed import DistributedTrainingError

    with drlkit.cluster(n_workers=args.workers or 2, address=args.address, quiet=args.quiet) as client:
        try:
            return drlkit.distributed.train(
                agent,
                mode=mode,
                total_steps=args.steps,
                n_workers=args.workers,
                client=client,
                callbacks=callbacks,
                progress=not args.quiet,
                **options,
            )
        except (ValueError, TypeError) as exc:
            raise UsageError(str(exc).splitlines()[0]) from None
        except DistributedTrainingError as exc:
            raise RuntimeError(f"distributed training failed: {exc}") from None


def cmd_evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    import drlkit

    folder = Path(args.run)
    checkpoint = folder / "agent.pt" if folder.is_dir() else folder
    if not checkpoint.is_file():
        raise UsageError(f"no checkpoint at {checkpoint} (give a run folder written by drlkit train)")
    try:
        agent = drlkit.load(checkpoint)
    except (ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from None
    returns = agent.evaluate(episodes=args.episodes, seed=args.seed, deterministic=not args.stochastic)
    report = {
        "episodes": args.episodes,
        "seed": args.seed,
        "deterministic": not args.stochastic,
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "returns": [float(r) for r in returns],
    }
    if folder.is_dir():
        write_json(folder / "evaluation.json", report)
    print(
        f"{type(agent).__name__} on {agent.env_spec} after {agent.total_steps} steps: "
        f"return {report['mean_return']:.1f} ± {report['std_return']:.1f} over {args.episodes} episodes"
    )
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from drlkit.plotting.runs import plot_runs

    runs = find_runs(args.runs)
    groups: dict[str, list[Any]] = {}
    for folder in runs:
        config = read_config(folder)
        label = run_label(config, args.label_by)
        csv_path = folder / "history.csv"
        if not csv_path.is_file():
            raise UsageError(f"{folder} has no history.csv")
        groups.setdefault(label, []).append(pd.read_csv(csv_path))
    try:
        ax = plot_runs(groups, x=args.x, points=args.points, smooth=args.smooth, band=args.band)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(out, dpi=args.dpi, bbox_inches="tight")
    plt.close(ax.figure)
    print(f"{len(runs)} runs in {len(groups)} curves -> {out}")
    return 0


def run_label(config: dict[str, Any], label_by: Sequence[str] | None = None) -> str:
    """Runs that differ only by seed share a label: algorithm, env, mode and their settings."""
    settings = config.get("settings") or {}
    if label_by:
        parts = [f"{k}={settings.get(k, config.get(k, (config.get('config') or {}).get(k)))}" for k in label_by]
        return " ".join(parts)
    label = f"{config.get('algorithm')} {config.get('env')}"
    if config.get("mode") not in (None, "local"):
        label += f" {config['mode']}"
    if settings:
        label += " " + " ".join(f"{k}={v}" for k, v in sorted(settings.items()))
    return label


def sweep_task(item: dict[str, Any]) -> dict[str, Any]:
    """One run of a sweep, on a Dask worker: train, evaluate, return the records (the driver writes them)."""
    import torch

    from drlkit.agents.base import ALGORITHMS

    torch.set_num_threads(1)
    cls = ALGORITHMS[item["algorithm"]]
    agent = cls(item["env"], seed=item["seed"], **item["settings"])
    agent.train(item["steps"])
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = agent.save(Path(tmp) / "agent.pt").read_bytes()
    returns: Any = agent.evaluate(episodes=item["eval_episodes"]) if item["eval_episodes"] else []
    return {
        "history": agent.history.state_dict(),
        "checkpoint": checkpoint,
        "total_steps": agent.total_steps,
        "wall_time": agent.wall_time,
        "evaluation": [float(r) for r in returns],
    }


def cmd_sweep(args: argparse.Namespace) -> int:
    import drlkit
    from drlkit.agents.history import History
    from drlkit.distributed import TaskError, map_tasks

    combos = parse_grid(args.grid)
    fixed = preset_settings(args.algorithm, args.env, args.preset, parse_settings(args.set))
    seeds = list(dict.fromkeys(args.seeds))
    items = []
    for combo in combos:
        settings = {**fixed, **combo}
        for seed in seeds:
            # Checked here, before anything is sent: a bad value fails fast with one line.
            agent = build_agent(args.algorithm, args.env, seed, settings)
            items.append(
                {
                    "algorithm": type(agent).__name__,
                    "env": args.env,
                    "seed": seed,
                    "settings": settings,
                    "steps": args.steps,
                    "eval_episodes": args.eval_episodes,
                }
            )
            del agent
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"sweep: {len(combos)} setting(s) x {len(seeds)} seed(s) = {len(items)} runs", flush=True)
    with drlkit.cluster(n_workers=args.workers or 2, address=args.address, quiet=args.quiet) as client:
        try:
            results = map_tasks(sweep_task, items, client=client, timeout=args.timeout, name="drlkit-sweep")
        except TaskError as exc:
            raise RuntimeError(str(exc)) from None
    rows = []
    for item, res in zip(items, results):
        tag = "-".join(f"{k}={v}" for k, v in sorted(item["settings"].items() - fixed.items())) or "default"
        folder = out / _safe(f"{tag}-seed{item['seed']}")
        folder.mkdir(parents=True, exist_ok=True)
        config = {
            "algorithm": item["algorithm"],
            "env": item["env"],
            "seed": item["seed"],
            "steps": item["steps"],
            "mode": "local",
            "settings": item["settings"],
            "sweep": str(out),
            "command": shlex.join(["drlkit", *sys.argv[1:]]),
        }
        write_json(folder / "config.json", config)
        history = History.from_state_dict(res["history"])
        write_history(folder, history)
        (folder / "agent.pt").write_bytes(res["checkpoint"])
        evaluation = res["evaluation"]
        summary = {
            "total_steps": res["total_steps"],
            "wall_time": res["wall_time"],
            "episodes": len(history.episode_returns),
            "final_return": final_return(history),
        }
        if evaluation:
            summary["evaluation_mean"] = sum(evaluation) / len(evaluation)
        write_json(folder / "summary.json", summary)
        rows.append(
            {
                **item["settings"],
                "seed": item["seed"],
                "final_return": summary["final_return"],
                "evaluation_mean": summary.get("evaluation_mean", math.nan),
                "folder": folder.name,
            }
        )
    import pandas as pd

    table = pd.DataFrame(rows)
    table.to_csv(out / "sweep.csv", index=False)
    _note_missing_parquet()
    print(table.drop(columns="folder").to_string(index=False))
    print(f"sweep results in {out}")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    classes: list[Any]  # Agent subclasses
    if args.algorithm is None:
        registered: list[Any] = [algo for _, algo in sorted(_algorithms().items())]
        classes = [algo for algo in registered if algo.presets()]
    else:
        classes = [resolve_algorithm(args.algorithm)]
    if args.env is not None:
        cls = classes[0]
        settings = preset_settings(cls.__name__, args.env, True, {})
        print(f"{cls.__name__} {args.env}: {cls.presets()[args.env]}")
        if not settings:
            print("  (the defaults)")
        for key, value in settings.items():
            print(f"  --set {key}={','.join(map(str, value)) if isinstance(value, tuple) else value}")
        return 0
    for cls in classes:
        table = cls.presets()
        if not table:
            print(f"{cls.__name__}: no presets")
            continue
        print(f"{cls.__name__}:")
        for env, note in table.items():
            print(f"  {env:26s} {note}")
    return 0


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.=" else "_" for c in name)


def notebooks_dir() -> Path:
    """The tutorial notebooks of this installation (the repository checkout's notebooks/)."""
    here = Path(__file__).resolve().parent.parent / "notebooks"
    if here.is_dir():
        return here
    raise UsageError(
        "the tutorial notebooks are not installed with this copy of drlkit; "
        "clone the repository and run drlkit tutorials from it, or pass --dir"
    )


def cmd_tutorials(args: argparse.Namespace) -> int:
    source = Path(args.dir) if args.dir else notebooks_dir()
    if not source.is_dir():
        raise UsageError(f"--dir {args.dir} is not a folder")
    root = source
    if args.copy_to:
        root = Path(args.copy_to)
        root.mkdir(parents=True, exist_ok=True)
        for notebook in sorted(source.glob("*.ipynb")):
            if not (root / notebook.name).exists():  # never overwrite a student's work
                shutil.copy2(notebook, root / notebook.name)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ip=127.0.0.1",
        f"--port={args.port}",
        f"--ServerApp.root_dir={root}",
    ]
    if args.no_browser:
        command.append("--no-browser")
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    command += args.jupyter_args
    if args.print_command:
        print(shlex.join(command))
        return 0
    print(f"JupyterLab on http://127.0.0.1:{args.port} with the notebooks in {root} (Ctrl-C stops it)", flush=True)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


def cmd_student_edition(args: argparse.Namespace) -> int:
    from drlkit.student_edition import write_student_editions

    source = Path(args.dir) if args.dir else notebooks_dir()
    try:
        written = write_student_editions(source, Path(args.out), overwrite=args.overwrite)
    except (ValueError, FileExistsError) as exc:
        raise UsageError(str(exc)) from None
    for path, replaced in written:
        print(f"{path}: {replaced} solution cell(s) replaced by their exercise stub")
    return 0


# ------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    from drlkit.plotting.curves import BANDS

    algos = ", ".join(sorted(_algorithms()))
    parser = _Parser(
        prog="drlkit",
        description="Reinforcement learning and distributed RL on Dask.",
        epilog="Run `drlkit COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    train = commands.add_parser(
        "train",
        help="train an agent locally or on a Dask cluster; writes a run folder",
        description="Train ALGO on ENV for --steps environment steps and write a run "
        "folder (config.json, history.csv, agent.pt, distributed records).",
    )
    train.add_argument("algorithm", metavar="ALGO", help=f"algorithm: {algos} (case-insensitive)")
    train.add_argument("env", metavar="ENV", help="gymnasium environment id, e.g. CartPole-v1")
    train.add_argument(
        "--steps", type=int_argument("--steps", 1), required=True, help="environment steps to train for (>= 1)"
    )
    from drlkit.distributed import MODES

    train.add_argument(
        "--mode",
        default=None,
        metavar="MODE",
        help=f"local (this process) or a distributed mode: {', '.join(MODES)} "
        "(default: local; sync when --workers or --address is given)",
    )
    train.add_argument(
        "--workers",
        type=int_argument("--workers", 1),
        default=None,
        help="worker slots; with no --address, a local Dask cluster of this many processes on 127.0.0.1 (default 2)",
    )
    train.add_argument("--address", default=None, help="scheduler of an existing Dask cluster, e.g. tcp://host:8786")
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a hyperparameter, e.g. --set learning_rate=1e-3 --set hidden_sizes=64,64 (repeatable)",
    )
    train.add_argument(
        "--preset",
        action="store_true",
        help="start from the algorithm's hyperparameters for ENV (`drlkit presets` lists them); --set overrides",
    )
    train.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"an option of distributed training: {', '.join(MODE_OPTION_NAMES)} (repeatable)",
    )
    train.add_argument("--seed", type=_seed, default=0, help="seed of the agent (default 0)")
    train.add_argument("--out", default=None, help="run folder (default runs/ALGO-ENV-seedS-TIME)")
    train.add_argument("--overwrite", action="store_true", help="replace a run already in --out")
    train.add_argument(
        "--tensorboard", action="store_true", help="also write TensorBoard event files to OUT/tensorboard"
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar or dashboard link")
    train.set_defaults(func=cmd_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate the trained agent of a run folder",
        description="Load RUN/agent.pt, play fresh episodes, print the mean return and write RUN/evaluation.json.",
    )
    evaluate.add_argument("run", metavar="RUN", help="run folder written by drlkit train (or a checkpoint file)")
    evaluate.add_argument(
        "--episodes", type=int_argument("--episodes", 1), default=20, help="episodes to play (default 20)"
    )
    evaluate.add_argument(
        "--seed", type=_seed, default=None, help="seed of the first episode (default: agent seed + 10000)"
    )
    evaluate.add_argument("--stochastic", action="store_true", help="sample actions instead of the greedy/mean one")
    evaluate.set_defaults(func=cmd_evaluate)

    plot = commands.add_parser(
        "plot",
        help="learning curves of runs (mean ± band over seeds) to a PNG",
        description="Draw the episode returns of the runs in RUN... (run folders, or "
        "folders holding them such as a sweep) against environment steps; "
        "runs that differ only by seed form one curve, mean ± band.",
    )
    plot.add_argument("runs", nargs="+", metavar="RUN", help="run folders or folders that contain run folders")
    plot.add_argument("--out", default="curves.png", help="image file to write (default curves.png)")
    plot.add_argument("--x", choices=("step", "wall_time"), default="step", help="horizontal axis (default step)")
    plot.add_argument(
        "--band",
        choices=[b for b in BANDS if b is not None] + ["none"],
        default="std",
        help="what the shaded band shows over seeds (default std)",
    )
    plot.add_argument(
        "--smooth",
        type=int_argument("--smooth", 1),
        default=1,
        help="moving-average window over the resampled curve (default 1)",
    )
    plot.add_argument(
        "--points",
        type=int_argument("--points", 2, 100_000),
        default=100,
        help="points each curve is resampled to, 2 to 100000 (default 100)",
    )
    plot.add_argument(
        "--label-by",
        nargs="+",
        default=None,
        metavar="KEY",
        help="label curves by these settings only (default: algorithm, env, mode, settings)",
    )
    plot.add_argument(
        "--dpi",
        type=int_argument("--dpi", 10, 1200),
        default=120,
        help="resolution of the PNG in dots per inch, 10 to 1200 (default 120)",
    )
    plot.set_defaults(func=cmd_plot)

    sweep = commands.add_parser(
        "sweep",
        help="seeds x settings as parallel tasks on a Dask cluster",
        description="Train ALGO on ENV once per seed and grid combination, each run a "
        "task on the cluster; writes one run folder per run and sweep.csv.",
    )
    sweep.add_argument("algorithm", metavar="ALGO", help=f"algorithm: {algos}")
    sweep.add_argument("env", metavar="ENV", help="gymnasium environment id")
    sweep.add_argument("--steps", type=int_argument("--steps", 1), required=True, help="environment steps per run")
    sweep.add_argument("--seeds", type=_seed, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2)")
    sweep.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a hyperparameter and its values, e.g. --grid learning_rate=1e-3,3e-4 (repeatable; "
        "separate values with ';' when a value contains commas, e.g. hidden_sizes=64,64;32)",
    )
    sweep.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a hyperparameter fixed for every run (repeatable)",
    )
    sweep.add_argument(
        "--preset",
        action="store_true",
        help="start every run from the algorithm's hyperparameters for ENV (`drlkit presets`)",
    )
    sweep.add_argument(
        "--eval-episodes", type=int, default=10, help="evaluation episodes after training (default 10; 0: none)"
    )
    sweep.add_argument(
        "--workers",
        type=int_argument("--workers", 1),
        default=None,
        help="processes of the local Dask cluster on 127.0.0.1 (default 2; ignored with --address)",
    )
    sweep.add_argument("--address", default=None, help="scheduler of an existing Dask cluster")
    sweep.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for all runs (default 3600)")
    sweep.add_argument("--out", required=True, help="folder for the runs and sweep.csv")
    sweep.add_argument("--quiet", action="store_true", help="do not print the dashboard link")
    sweep.set_defaults(func=cmd_sweep)

    presets = commands.add_parser(
        "presets",
        help="list the per-environment hyperparameter presets",
        description="List, per algorithm, the environments with a preset (use it with "
        "`drlkit train ALGO ENV --preset`) and where its values come from; with ALGO and ENV, "
        "print that preset's hyperparameters.",
    )
    presets.add_argument("algorithm", metavar="ALGO", nargs="?", default=None, help=f"only this algorithm: {algos}")
    presets.add_argument("env", metavar="ENV", nargs="?", default=None, help="print the hyperparameters of this preset")
    presets.set_defaults(func=cmd_presets)

    tutorials = commands.add_parser(
        "tutorials",
        help="open the tutorial notebooks in JupyterLab (127.0.0.1)",
        description="Start JupyterLab on 127.0.0.1 in the folder of the tutorial notebooks (or a copy of them).",
    )
    tutorials.add_argument("--port", type=int_argument("--port", 1), default=8888, help="port (default 8888)")
    tutorials.add_argument("--dir", default=None, help="notebook folder (default: this installation's notebooks/)")
    tutorials.add_argument(
        "--copy-to", default=None, help="copy the notebooks here first (existing files are kept) and open the copies"
    )
    tutorials.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    tutorials.add_argument("--print-command", action="store_true", help="print the JupyterLab command and exit")
    tutorials.add_argument(
        "jupyter_args", nargs="*", metavar="-- JUPYTER_ARG", help="further arguments for jupyter lab, after --"
    )
    tutorials.set_defaults(func=cmd_tutorials)

    student = commands.add_parser(
        "student-edition",
        help="write student editions of the notebooks",
        description="Copy the notebooks with every cell tagged 'solution' removed, so "
        "the stub cell tagged 'exercise' is what students fill in.",
    )
    student.add_argument("--dir", default=None, help="teacher notebooks (default: this installation's notebooks/)")
    student.add_argument("--out", required=True, help="folder for the student editions")
    student.add_argument("--overwrite", action="store_true", help="replace existing files in --out")
    student.set_defaults(func=cmd_student_edition)
    return parser


def _version() -> str:
    from drlkit import __version__

    return f"drlkit {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``drlkit`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "band", None) == "none":
        args.band = None
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"drlkit {args.command}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"drlkit {args.command}: interrupted", file=sys.stderr)
        return 130
    except (RuntimeError, TimeoutError, ConnectionError, OSError) as exc:
        print(f"drlkit {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
