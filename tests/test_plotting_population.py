"""The population and replay figures draw what they are given and refuse malformed input by name."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from drlkit.distributed.pipeline import step_time_model  # noqa: E402
from drlkit.plotting.population import (  # noqa: E402
    plot_best_score,
    plot_bytes_moved,
    plot_crossover,
    plot_lineage,
    plot_pipeline_split,
    plot_returns_per_step,
    plot_schedules,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


RECORDS = pd.DataFrame(
    {
        "round": [0, 0, 0, 1, 1, 1],
        "member": [0, 1, 2, 0, 1, 2],
        "step": [100] * 3 + [200] * 3,
        "score": [1.0, 5.0, 3.0, 2.0, 6.0, 7.0],
        "learning_rate": [1e-3, 2e-3, 3e-3, 2.4e-3, 2e-3, 3e-3],
    }
)
LINEAGE = [{"round": 0, "member": 0, "parent": 1}]


def test_best_score_is_the_maximum_per_round_against_population_steps():
    ax = plot_best_score({"PBT": RECORDS, "random search": RECORDS.assign(score=RECORDS.score - 1)})
    x, y = ax.lines[0].get_data()
    assert list(x) == [300, 600] and list(y) == [5.0, 7.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["PBT", "random search"]
    with pytest.raises(ValueError, match="score"):
        plot_best_score({"x": RECORDS.drop(columns="score")})


def test_lineage_draws_one_arrow_per_copy_and_lines_for_the_rest():
    ax = plot_lineage(RECORDS, LINEAGE)
    arrows = [c for c in ax.get_children() if isinstance(c, matplotlib.text.Annotation)]
    assert len(arrows) == 1 and arrows[0].xy == (1, 0) and arrows[0].xyann == (0, 1)
    assert len(ax.lines) == 2  # members 1 and 2 continue their own lines
    assert "1 copies" in ax.get_title()
    with pytest.raises(ValueError, match="parent"):
        plot_lineage(RECORDS, [{"round": 0, "member": 1}])


def test_schedules_one_step_line_per_member():
    ax = plot_schedules(RECORDS, "learning_rate", log=True)
    assert len(ax.lines) == 3 and ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1e-3, 2.4e-3])
    with pytest.raises(ValueError, match="ent_coef"):
        plot_schedules(RECORDS, "ent_coef")


def test_returns_per_step_are_smoothed_moving_means():
    ax = plot_returns_per_step({"shared": ([3, 1, 2, 4], [30.0, 10.0, 20.0, 40.0])}, window=2)
    x, y = ax.lines[0].get_data()
    assert list(x) == [2, 3, 4] and list(y) == [15.0, 25.0, 35.0]
    with pytest.raises(ValueError, match="one length"):
        plot_returns_per_step({"a": ([1, 2], [1.0])})


def test_bytes_moved_stacks_the_kinds():
    ax = plot_bytes_moved({"central": {"experience": 2e6, "parameters": 1e6}, "distributed": {"samples": 5e5}})
    heights = sorted(round(p.get_height(), 3) for p in ax.patches)
    assert heights == [0.0, 0.0, 0.0, 0.5, 1.0, 2.0]  # 3 kinds x 2 runs
    with pytest.raises(ValueError, match=">= 0"):
        plot_bytes_moved({"a": {"x": -1}})


def test_pipeline_split_and_crossover():
    ax = plot_pipeline_split(["1", "4"], [0.002, 0.001], [0.01, 0.02])
    assert [round(p.get_height(), 6) for p in ax.patches] == [2.0, 1.0, 10.0, 20.0]
    with pytest.raises(ValueError, match="one value per label"):
        plot_pipeline_split(["1"], [1.0, 2.0], [1.0])
    widths = np.geomspace(8, 1e5, 50)
    single, split = step_time_model(widths, 4, 256, flops=1e10, bandwidth=1e9, latency=1e-3)
    ax = plot_crossover(widths, single, {"1 GB/s, 1 ms": split})
    assert len(ax.lines) == 3  # one worker, the split, the crossover marker
    crossover = ax.lines[2].get_xdata()[0]
    assert split[widths == crossover][0] < single[widths == crossover][0]
    with pytest.raises(ValueError, match="shape of widths"):
        plot_crossover(widths, single, {"bad": split[:3]})
