"""The widgets of notebooks 07 and 08 redraw for their sliders (the figures come from tested plotting functions)."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from drlkit.agents.history import History  # noqa: E402
from drlkit.envs.gridworld import gridworld  # noqa: E402
from drlkit.widgets.offline import explore_dataset_quality  # noqa: E402
from drlkit.widgets.shaping import explore_teacher  # noqa: E402


def _history(value):
    h = History(("loss",))
    h.log_episode(10, 0.0, value, 0)
    return h


def test_dataset_slider_switches_between_qualities():
    w = explore_dataset_quality({"random": {"BC": _history(1.0)}, "expert": {"BC": _history(9.0)}})
    assert list(w.quality.options) == ["random", "expert"]
    assert w.shown == "random"
    w.quality.value = "expert"
    assert w.shown == "expert"
    with pytest.raises(TypeError, match="quality"):
        explore_dataset_quality({})


def test_teacher_sliders_rerun_policy_shaping():
    w = explore_teacher(gridworld(["S..", "..G"]), episodes=3, runs=5, max_steps=20)
    assert w.baseline.shape == (5, 3)
    assert w.result.feedback.sum() > 0
    w.likelihood.value = 0.0
    assert w.result.feedback.sum() == 0
    with pytest.raises(ValueError, match="episodes"):
        explore_teacher(gridworld(["S.G"]), episodes=0)
