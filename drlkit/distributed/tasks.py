"""Independent tasks on the cluster: one function applied to many inputs, results in order.

Training modes (``drlkit.distributed.train``) keep parameters on the driver and
merge what workers return. Some work needs none of that: collecting a dataset
with one seed per worker, running independent searches from the same position,
evaluating a population. :func:`map_tasks` is the engine's door for such work:
one graph submission, a bounded wait, Dask's retries when a worker dies, and a
clear error naming the input whose task failed.

``fn`` must be importable on the workers (a module-level function of an
installed package, not one defined in a notebook), like every task drlkit sends.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .._checks import check_number
from .cluster import resolve_client
from .engine import TaskError, run_tasks, wait_for_workers

__all__ = ["TaskError", "map_tasks"]


def map_tasks(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    client: Any = None,
    timeout: float = 600.0,
    retries: int = 2,
    name: str | None = None,
) -> list[Any]:
    """``[fn(item) for item in items]``, each call a Dask task, results in the order of ``items``.

    Parameters
    ----------
    fn : callable
        A module-level function (workers import it by name).
    items : sequence
        One task per item; an item is sent with its task (keep items small, e.g. seeds and options).
    client : distributed.Client, optional
        Default: the current client (e.g. inside ``with drlkit.cluster():``).
    timeout : float > 0
        Seconds to wait for all results before raising :class:`TimeoutError`.
    retries : int >= 0
        Extra attempts of a task whose worker died (Dask re-runs it elsewhere).
    name : str, optional
        Shown in the dashboard's task stream (default: ``fn``'s name).
    """
    if not callable(fn):
        raise TypeError(f"fn must be a module-level function, got {type(fn).__name__}")
    if getattr(fn, "__module__", None) == "__main__":
        raise TypeError(
            f"fn {getattr(fn, '__name__', fn)!r} is defined in __main__ (a notebook or script); Dask "
            "workers can only import functions from an installed module"
        )
    if isinstance(items, (str, bytes)) or not hasattr(items, "__len__"):
        raise TypeError(f"items must be a list or tuple of task inputs, got {type(items).__name__}")
    timeout = check_number("timeout", timeout, low=0, low_open=True)
    retries = check_number("retries", retries, low=0, integer=True)
    items = list(items)
    if not items:
        return []
    client = resolve_client(client)
    wait_for_workers(client, timeout)
    label = str(name or getattr(fn, "__name__", "task")).replace("_", "-")
    # One graph for all tasks: a single message to the scheduler, however many items.
    return run_tasks(
        client,
        fn,
        [(item,) for item in items],
        timeout=timeout,
        name=label,
        labels=[f"item {index} ({item!r:.80})" for index, item in enumerate(items)],
        retries=retries,
    )
