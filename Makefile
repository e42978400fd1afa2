# drlkit: the two commands are `make tutorials` and `make test`.
# Every install goes through constraints.txt (it pins torch==2.13.0, the CPU build).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --constraint constraints.txt
PORT   ?= 8888
# JupyterLab refuses to run as root unless told it may.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
PYTEST_ARGS ?=
# Two test processes (the machines have two cores; tests pin torch to one thread): a file's tests stay on one
# process, so its module fixtures (clusters, executed notebooks) run once. PYTEST_XDIST= runs them serially.
PYTEST_XDIST ?= -n 2 --dist loadfile
# What ruff lints and formats; mypy checks drlkit/ (files = ["drlkit"] in pyproject.toml).
LINT_PATHS := drlkit tests benchmarks scripts

.PHONY: setup system-deps tutorials demo test test-fast lint format fuzz student-editions bench clean docs

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(PIP) -e ".[notebooks,test,multiagent,offline]"
	mkdir -p $(VENV)/share/jupyter/lab/settings && cp binder/overrides.json $(VENV)/share/jupyter/lab/settings/
	touch $@

# Debian packages the browser tests need (chromium); uses sudo when not root.
system-deps:
	bash scripts/install-system-deps.sh

# Main job: the tutorials in JupyterLab, on the embedded LocalCluster defaults.
# Dask dashboard links go through JupyterLab's own proxy (jupyter-server-proxy), so the
# notebooks can embed the task stream wherever the lab itself is reachable.
tutorials: setup
	DASK_DISTRIBUTED__DASHBOARD__LINK='/proxy/{port}/status' \
	$(BIN)/jupyter lab --no-browser $(ROOT_FLAG) --ip=127.0.0.1 --port=$(PORT) \
		--ServerApp.root_dir=notebooks

# A short end-to-end run in the terminal: a distributed training demo on a LocalCluster.
demo: setup
	$(BIN)/python -m drlkit.demo

# Everything CI runs: lint and types first (a finding fails the run), then unit, learning (slow),
# notebook and browser tests, then the documentation site. The tests also cover the optional
# Parquet output (pyarrow), which the tutorials do not need.
test: setup system-deps lint $(VENV)/.docs-installed $(VENV)/.parquet-installed
	$(BIN)/python -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)
	$(MAKE) --no-print-directory docs

# Quick local loop: skips slow learning tests and the browser.
test-fast: setup
	$(BIN)/python -m pytest $(PYTEST_XDIST) -m "not slow and not browser" $(PYTEST_ARGS)

# Lint (ruff), format check (ruff format) and types (mypy); configuration in pyproject.toml.
lint: setup
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

# Rewrite the code into the layout that `ruff format --check` expects.
format: setup
	$(BIN)/ruff format $(LINT_PATHS)

# The long fuzz run: the same Hypothesis properties as CI's tests/test_fuzz_*.py with 50x the examples
# (derandomized, so a failure reproduces with the same command).
fuzz: setup
	DRLKIT_FUZZ=long $(BIN)/python -m pytest tests/test_fuzz_models.py tests/test_fuzz_agents.py -p no:cacheprovider $(PYTEST_ARGS)

# Student editions of the notebooks (solutions taken out, exercise stubs left in) in build/student/.
student-editions: setup
	$(BIN)/drlkit student-edition --out build/student --overwrite

# The documentation site in build/docs (open build/docs/index.html): Sphinx + MyST, offline, warnings are
# errors. Notebooks are rendered as the test suite last ran them (build/executed/); one without such a
# copy is run first through its test file, with the tests' small parameters.
docs: $(VENV)/.docs-installed
	$(BIN)/python scripts/docs_notebooks.py
	$(BIN)/python -m sphinx -b html -W --keep-going -q -d build/doctrees docs build/docs
	@echo "docs: open build/docs/index.html"

$(VENV)/.parquet-installed: $(VENV)/.installed pyproject.toml constraints.txt
	$(PIP) -e ".[parquet]"
	touch $@

$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml constraints.txt
	$(PIP) -e ".[docs]"
	touch $@

bench: setup
	$(BIN)/python benchmarks/tabular.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
