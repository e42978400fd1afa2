"""Measure the committed default run of tutorial notebooks: wall time and peak memory.

The classroom budget is 60 s on 2 cores and 2 GB for the notebook's kernel together with
the Dask scheduler and workers it starts. This runs each notebook as committed (no
parameter overrides) in a fresh kernel, samples the resident memory of the whole process
tree (this process, the kernel, the workers and their nannies) every 0.1 s, and prints
the wall time, the peak memory and the slowest cells.

    python scripts/measure_notebooks.py                    # every notebook
    python scripts/measure_notebooks.py 05_sync_vs_async   # some of them
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from notebook_tools import NOTEBOOKS, execute_notebook  # noqa: E402


class TreeMemory:
    """Peak of the summed RSS of this process and all its descendants, sampled in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def cell_seconds(nb) -> list[tuple[float, str]]:
    """(seconds, first line) of every executed code cell, from nbclient's timing metadata."""
    out = []
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if cell.cell_type == "code" and start and end:
            seconds = (
                datetime.fromisoformat(end.replace("Z", "+00:00"))
                - datetime.fromisoformat(start.replace("Z", "+00:00"))
            ).total_seconds()
            out.append((seconds, cell.source.splitlines()[0] if cell.source else ""))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="notebook names (without .ipynb); default: all")
    parser.add_argument("--slowest", type=int, default=5, help="how many of the slowest cells to list")
    args = parser.parse_args()
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.names:
        paths = [p for p in paths if p.stem in args.names or p.name in args.names]
    print(f"{'notebook':<28} {'wall s':>7} {'peak MB':>8}   load average at start: {psutil.getloadavg()[0]:.2f}")
    for path in paths:
        start = time.perf_counter()
        with TreeMemory() as memory:
            nb = execute_notebook(path, timeout=900)
        wall = time.perf_counter() - start
        print(f"{path.stem:<28} {wall:7.1f} {memory.peak / 2**20:8.0f}")
        for seconds, line in sorted(cell_seconds(nb), reverse=True)[: args.slowest]:
            print(f"    {seconds:6.1f} s  {line[:70]}")


if __name__ == "__main__":
    main()
