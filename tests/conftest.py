import os
import sys
from collections import Counter
from pathlib import Path

# Tests import tests/notebook_tools.py and tests/browser_tools.py as plain modules.
sys.path.insert(0, str(Path(__file__).parent))

# One thread per process: tests and Dask workers share two cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

# Browser fixtures (lab, page) and the failure-screenshot hook, for every test.
from browser_tools import browser, lab, page, pytest_runtest_makereport  # noqa: E402,F401


def pytest_collection_modifyitems(config, items):
    """Files with notebook or browser tests first, then files with slow tests, each group by how many such tests
    a file holds (a file's tests stay together, in their order): under `pytest -n 2 --dist loadfile` (make test)
    the longest files start first instead of ending the run alone."""
    heavy: Counter = Counter()
    slow: Counter = Counter()
    for item in items:
        heavy[item.path] += bool(item.get_closest_marker("notebook") or item.get_closest_marker("browser"))
        slow[item.path] += bool(item.get_closest_marker("slow"))
    items.sort(key=lambda item: (heavy[item.path] == 0, slow[item.path] == 0, -heavy[item.path], -slow[item.path]))
