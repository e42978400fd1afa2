import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from drlkit.plotting import curve_summary, plot_learning_curves, smooth_curves  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def band_edges(collection):
    """Lower and upper y of a fill_between band, sorted by x."""
    vertices = collection.get_paths()[0].vertices
    xs = np.unique(vertices[:, 0])
    low = np.array([vertices[vertices[:, 0] == x, 1].min() for x in xs])
    high = np.array([vertices[vertices[:, 0] == x, 1].max() for x in xs])
    return xs, low, high


def test_smoothing_is_a_trailing_mean_that_keeps_the_length():
    curve = np.array([[0.0, 2.0, 4.0, 6.0, 8.0]])
    np.testing.assert_allclose(smooth_curves(curve, 2), [[0.0, 1.0, 3.0, 5.0, 7.0]])
    np.testing.assert_allclose(smooth_curves(curve, 3), [[0.0, 1.0, 2.0, 4.0, 6.0]])
    np.testing.assert_array_equal(smooth_curves(curve, 1), curve)


@pytest.mark.parametrize(
    "band, spread",
    [
        ("std", lambda c: c.std(axis=0, ddof=1)),
        ("sem", lambda c: c.std(axis=0, ddof=1) / np.sqrt(len(c))),
        ("ci95", lambda c: 1.96 * c.std(axis=0, ddof=1) / np.sqrt(len(c))),
    ],
)
def test_summary_is_mean_plus_minus_the_chosen_spread(band, spread):
    curves = np.random.default_rng(0).normal(size=(7, 20))
    x, mean, low, high = curve_summary(curves, band=band)
    np.testing.assert_array_equal(x, np.arange(20))
    np.testing.assert_allclose(mean, curves.mean(axis=0))
    np.testing.assert_allclose(high - mean, spread(curves))
    np.testing.assert_allclose(mean - low, spread(curves))


def test_minmax_band_and_smoothing_before_summarising():
    curves = np.array([[0.0, 0.0, 6.0], [2.0, 4.0, 0.0]])
    _, mean, low, high = curve_summary(curves, smooth=2, band="minmax")
    smoothed = np.array([[0.0, 0.0, 3.0], [2.0, 3.0, 2.0]])
    np.testing.assert_allclose(mean, smoothed.mean(axis=0))
    np.testing.assert_allclose(low, smoothed.min(axis=0))
    np.testing.assert_allclose(high, smoothed.max(axis=0))


def test_plot_draws_the_mean_line_and_band_of_each_curve():
    rng = np.random.default_rng(1)
    q = rng.normal(-50, 10, size=(30, 40))
    s = rng.normal(-25, 5, size=(30, 40))
    ax = plot_learning_curves({"Q-learning": q, "SARSA": s}, band="sem", smooth=5)
    assert [line.get_label() for line in ax.get_lines()] == ["Q-learning (30 runs)", "SARSA (30 runs)"]
    assert len(ax.collections) == 2
    for line, band, data in zip(ax.get_lines(), ax.collections, (q, s)):
        x, mean, low, high = curve_summary(data, smooth=5, band="sem")
        np.testing.assert_allclose(line.get_ydata(), mean)
        band_x, band_low, band_high = band_edges(band)
        np.testing.assert_allclose(band_x, x)
        np.testing.assert_allclose(band_low, low)
        np.testing.assert_allclose(band_high, high)
        assert band.get_facecolor()[0][:3] == pytest.approx(matplotlib.colors.to_rgb(line.get_color()))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Q-learning (30 runs)", "SARSA (30 runs)"]
    assert ax.get_xlabel() == "episode" and ax.get_ylabel() == "return"


def test_a_single_run_is_a_line_without_band():
    fig, ax = plt.subplots()
    returned = plot_learning_curves(np.arange(10.0), ax=ax, band="std")
    assert returned is ax
    assert len(ax.get_lines()) == 1 and len(ax.collections) == 0
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), np.arange(10.0))
    assert ax.get_legend() is None


def test_band_none_draws_only_lines_and_colors_are_used():
    ax = plot_learning_curves({"a": np.ones((3, 5))}, band=None, colors={"a": "red"})
    assert len(ax.collections) == 0
    assert matplotlib.colors.to_rgb(ax.get_lines()[0].get_color()) == (1.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "kwargs, error, field",
    [
        (dict(band="iqr"), ValueError, "band must be one of"),
        (dict(smooth=0), ValueError, "smooth"),
        (dict(smooth=1.5), TypeError, "smooth"),
    ],
)
def test_bad_options_name_the_field(kwargs, error, field):
    with pytest.raises(error, match=field):
        plot_learning_curves({"a": np.ones((2, 4))}, **kwargs)


def test_bad_curves_name_the_label():
    with pytest.raises(ValueError, match=r"curves\['broken'\].*shape"):
        plot_learning_curves({"ok": np.ones((2, 4)), "broken": np.ones((2, 3, 4))})
    with pytest.raises(ValueError, match=r"curves\['nan'\].*NaN"):
        plot_learning_curves({"nan": [1.0, np.nan]})
    with pytest.raises(ValueError, match="empty"):
        plot_learning_curves({})


# ------------------------------------------------------------- greedy paths on the grid
def test_plot_paths_draws_each_path_through_cell_centres():
    from drlkit.envs import cliff_walking
    from drlkit.plotting import plot_paths

    mdp = cliff_walking()
    along_the_edge = [36, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 47]
    ax = plot_paths(mdp, {"edge": along_the_edge, "stay": [36]})
    edge, stay = ax.get_lines()
    assert edge.get_label() == "edge (13 steps)" and stay.get_label() == "stay (0 steps)"
    rows, cols = np.divmod(np.array(along_the_edge), 12)
    offset = edge.get_xdata()[0] - cols[0]  # paths are shifted apart by a fraction of a cell
    assert abs(offset) < 0.5
    np.testing.assert_allclose(edge.get_xdata(), cols + offset)
    np.testing.assert_allclose(edge.get_ydata(), rows + offset)
    with pytest.raises(ValueError, match=r"paths\['bad'\]"):
        plot_paths(mdp, {"bad": [0, 99]})
