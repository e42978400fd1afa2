"""Notebook 11 (beyond one parameter server) runs headless with a small budget and shows what it claims."""

import re

import pytest

from notebook_tools import NOTEBOOKS, assert_displayed, assert_ran_clean, check_committed, executed_once, output_text

pytestmark = [pytest.mark.notebook, pytest.mark.cluster]

PATH = NOTEBOOKS / "11_beyond_parameter_server.ipynb"
SMALL = dict(
    N_WORKERS=2,
    SLOTS=4,
    TOTAL_STEPS=1280,
    LOCAL_STEPS=2,
    STRAGGLER_DELAY=0.05,
    SSP_BOUNDS=[0, None],
    FED_LOCAL_STEPS=[1, 4],
    GOSSIP_N=12,
)

executed = executed_once(PATH, **SMALL)


@pytest.fixture(scope="module")
def text(executed):
    return output_text(executed)


def test_committed_clean_with_parameters_and_exercises():
    # SMALL shrinks the budgets only: the parameters cell holds more names (SEED, TOPK, ...).
    exercises = {"metropolis": "metropolis", "gossip_step": "gossip_step", "ssp_admission": "may_start"}
    nb = check_committed(PATH, None, exercises)
    assert nb.cells[[c.cell_type for c in nb.cells].index("code")].metadata["tags"] == ["parameters"]


def test_runs_without_errors_and_the_checks_pass(executed):
    assert_ran_clean(executed, correct=3)
    # rates vs gap, averaging (3 panels in one figure), federated grids, per-task bars, compression
    assert_displayed(executed, images=5, widgets=1)


def test_consensus_rates_match_theory(text):
    # The table printed after the rates figure: measured ratio next to theory λ2² for every graph.
    for graph in ("ring", "random 3-regular", "torus"):
        line = next(line for line in text.splitlines() if line.startswith(graph + " "))
        gap, theory, measured = (float(v) for v in re.findall(r"\d+\.\d+", line)[:3])
        assert measured == pytest.approx(theory, rel=0.05), line


def test_tables_report_bytes_and_staleness(text):
    assert re.search(r"gossip, complete", text) and re.search(r"central server \(sync\)", text)
    assert "s = 0" in text and "s = ∞" in text
    assert "return per MB" in text and "top-0.1" in text and "8-bit" in text
