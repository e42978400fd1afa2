import os
import sys
from pathlib import Path

# Tests import tests/notebook_tools.py and tests/browser_tools.py as plain modules.
sys.path.insert(0, str(Path(__file__).parent))

# One thread per process: tests and Dask workers share two cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

# Browser fixtures (lab, page) and the failure-screenshot hook, for every test.
from browser_tools import browser, lab, page, pytest_runtest_makereport  # noqa: E402,F401
