import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from drlkit.plotting.offline import plot_normalized_scores, plot_q_overestimation  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_score_bars_show_every_algorithm_and_quality():
    scores = pd.DataFrame({"random": [1.0, 5.0], "medium": [20.0, 21.0], "expert": [100.0, 60.0]}, index=["BC", "CQL"])
    ax = plot_normalized_scores(scores)
    heights = [p.get_height() for p in ax.patches]
    assert heights == [1.0, 20.0, 100.0, 5.0, 21.0, 60.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["random", "medium", "expert"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["BC", "CQL"]
    with pytest.raises(TypeError, match="DataFrame"):
        plot_normalized_scores({"BC": [1]})


def test_overestimation_bars_pair_prediction_and_truth():
    results = {
        "naive DQN": {"q_predicted": 1000.0, "true_return": 5.0},
        "CQL": {"q_predicted": 20.0, "true_return": 40.0},
    }
    ax = plot_q_overestimation(results)
    assert [p.get_height() for p in ax.patches] == [1000.0, 20.0, 5.0, 40.0]
    assert ax.get_yscale() == "symlog"  # a 200x overestimate needs a log scale to show the truth
    with pytest.raises(TypeError, match="non-empty dict"):
        plot_q_overestimation({})


def test_evaluation_curves_average_the_episodes_of_each_evaluation():
    from drlkit.agents.history import History
    from drlkit.plotting.offline import plot_evaluation_curves

    h = History(("loss",))
    for step, returns in ((10, [1.0, 3.0]), (20, [5.0, 7.0])):
        for r in returns:
            h.log_episode(step, 0.0, r, 0)
        h.log_update(step, 0.0, loss=0.5)
    ax = plot_evaluation_curves({"BC": h}, reference={"expert": 10.0})
    x, y = ax.lines[0].get_data()
    assert list(x) == [10, 20] and list(y) == [2.0, 6.0]
    assert ax.lines[1].get_ydata()[0] == 10.0
    with pytest.raises(ValueError, match="eval_interval"):
        plot_evaluation_curves({"empty": History(("loss",))})
