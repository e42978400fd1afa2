"""Notebook 04 (policy gradients) runs headless on a small budget and shows what it claims."""

import math
import re

import pytest

from notebook_tools import (
    NOTEBOOKS,
    assert_ran_clean,
    check_committed,
    count_images,
    executed_once,
    output_text,
    widget_count,
)

pytestmark = pytest.mark.notebook

PATH = NOTEBOOKS / "04_policy_gradients.ipynb"
SMALL = dict(
    TRAIN_STEPS=3000,
    SEEDS=2,
    GRADIENT_EPISODES=12,
    PPO_STEPS=3000,
    RECORD_EVERY=1000,
    LEARNING_RATES=[1e-3, 3e-3],
    LR_STEPS=1536,
    TRPO_STEPS=2048,
    PENDULUM_STEPS=4096,
    LIVE_EVERY=0.5,
)

executed = executed_once(PATH, **SMALL)


def test_committed_notebook_is_clean_and_every_budget_is_a_parameter():
    check_committed(PATH, SMALL, {name: name for name in ("returns_to_go", "gae", "clipped_surrogate")})


def test_exercise_checks_pass_with_the_reference_solutions(executed):
    assert_ran_clean(executed, correct=3)


def test_injected_budgets_are_used(executed):
    text = output_text(executed)
    from drlkit.agents.ppo import PPO

    rollout = PPO.Config().n_steps * PPO.Config().num_envs  # training stops at a whole number of rollouts
    ppo_steps = math.ceil(SMALL["PPO_STEPS"] / rollout) * rollout
    assert f"PPO after {ppo_steps:,} steps" in text
    assert f"after {SMALL['PENDULUM_STEPS']:,} steps" in text
    for lr in SMALL["LEARNING_RATES"]:
        assert f"learning rate {lr:g}:" in text


def test_baseline_reduces_the_measured_gradient_variance(executed):
    text = output_text(executed)
    variances = {
        name: float(value)
        for name, value in re.findall(
            r"^\s*(total return|reward-to-go|reward-to-go - baseline): variance\s+([0-9.e+-]+)", text, flags=re.M
        )
    }
    assert set(variances) == {"total return", "reward-to-go", "reward-to-go - baseline"}
    assert variances["reward-to-go - baseline"] < variances["total return"]


def test_trust_region_steps_are_reported_for_both_directions(executed):
    text = output_text(executed)
    pattern = r"(gradient|natural) direction: largest step with KL <= [0-9.e-]+: alpha = ([0-9.]+)"
    steps = dict(re.findall(pattern, text))
    assert set(steps) == {"gradient", "natural"}
    assert all(float(alpha) > 0 for alpha in steps.values())


def test_plots_live_curves_and_widgets_are_displayed(executed):
    # 5 live curves, gradient variance, 2 comparisons, the Gaussian policy.
    assert count_images(executed) >= 9
    assert widget_count(executed) == 4  # clip range, checkpoints, learning rates, trust region


def test_the_one_screen_ppo_loop_is_shown_and_matches_the_agent(executed):
    text = output_text(executed)
    assert "def train_ppo(" in text and "clip_range" in text  # the source is printed
    assert re.search(r"train_ppo and PPO\(seed=0\), [0-9,]+ steps each: \d+ History rows, identical: True", text)
