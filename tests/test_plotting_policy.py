"""Plots and computations of notebook 04 (drlkit.plotting.policy) and their widgets."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import gymnasium as gym  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from drlkit.agents.history import History  # noqa: E402
from drlkit.agents.policies import CategoricalPolicy  # noqa: E402
from drlkit.plotting.policy import (  # noqa: E402
    ESTIMATORS,
    ActionProbabilityRecorder,
    clipped_surrogate,
    gradient_estimates,
    gradient_variance,
    plot_action_probabilities,
    plot_clipped_objective,
    plot_gaussian_policy,
    plot_gradient_variance,
    plot_step_curves,
    plot_trust_region,
    returns_at_steps,
    trust_region_profile,
    update_directions,
)

from agent_tools import one_thread  # noqa: E402,F401  (autouse fixture)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def small_policy(seed: int = 0) -> CategoricalPolicy:
    torch.manual_seed(seed)
    policy = CategoricalPolicy(4, 2, (16,), "tanh")
    with torch.no_grad():  # a visibly non-uniform policy, so the gradients are not all tiny
        policy.logits[-1].weight.normal_(0, 0.5)
    return policy


# ---------------------------------------------------------------- PPO clip
def test_clipped_surrogate_matches_case_analysis():
    ratio = np.linspace(0, 2, 41)
    for advantage in (1.5, -0.7):
        expected = advantage * (np.minimum(ratio, 1.2) if advantage > 0 else np.maximum(ratio, 0.8))
        np.testing.assert_allclose(clipped_surrogate(ratio, advantage, 0.2), expected)
    with pytest.raises(ValueError, match="clip_range"):
        clipped_surrogate(ratio, 1.0, 1.5)


def test_clipped_objective_plot_marks_the_flat_parts():
    axes = plot_clipped_objective(0.3)
    for ax, advantage in zip(axes, (1.0, -1.0)):
        objective = next(line for line in ax.get_lines() if "min" in line.get_label())
        x, y = objective.get_data()
        np.testing.assert_allclose(y, clipped_surrogate(x, advantage, 0.3))
        flat = next(line for line in ax.get_lines() if "flat" in line.get_label())
        fx = flat.get_xdata()[np.isfinite(flat.get_ydata())]
        if advantage > 0:  # no gain from pushing the ratio above 1 + eps
            assert fx.min() == pytest.approx(1.3, abs=0.01) and fx.max() == pytest.approx(2.0)
        else:  # no gain from pushing it below 1 - eps
            assert fx.min() == pytest.approx(0.0) and fx.max() == pytest.approx(0.7, abs=0.01)
    with pytest.raises(ValueError, match="clip_range"):
        plot_clipped_objective(0.0)


# ---------------------------------------------------- action probabilities
def test_recorder_records_softmax_of_the_policy_every_n_steps():
    from drlkit.agents.ppo import PPO

    agent = PPO("CartPole-v1", seed=0)
    rollout = agent.config.n_steps * agent.config.num_envs
    states = np.array([[0, 0, 0, 0], [0, 0, 0.1, 0], [0, 0, -0.1, 0]], dtype=np.float32)
    recorder = ActionProbabilityRecorder(states, every=2 * rollout)
    recorder.record(agent)
    agent.train(6 * rollout, callbacks=[recorder])
    assert recorder.steps.tolist() == [0, 2 * rollout, 4 * rollout, 6 * rollout]
    probabilities = recorder.probabilities
    assert probabilities.shape == (4, 3, 2)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-6)
    with torch.no_grad():  # the last record is the current policy's softmax
        logits = agent.policy.logits(torch.from_numpy(states))
    np.testing.assert_allclose(probabilities[-1], torch.softmax(logits, -1).numpy(), atol=1e-6)
    assert not np.allclose(probabilities[0], probabilities[-1])  # training changed the policy


def test_recorder_rejects_agents_without_a_categorical_policy():
    from drlkit.agents.ppo import PPO

    with pytest.raises(ValueError, match="states"):
        ActionProbabilityRecorder(np.zeros(4), every=10)
    with pytest.raises(ValueError, match="every"):
        ActionProbabilityRecorder(np.zeros((1, 3)), every=0)
    pendulum = PPO("Pendulum-v1", seed=0)
    with pytest.raises(TypeError, match="discrete"):
        ActionProbabilityRecorder(np.zeros((1, 3)), every=10).record(pendulum)
    with pytest.raises(TypeError, match="policy"):
        ActionProbabilityRecorder(np.zeros((1, 4)), every=10).record(object())


def test_action_probability_plot_shows_the_chosen_record():
    steps = np.array([0, 100, 200])
    probabilities = np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.3, 0.7], [0.6, 0.4]], [[0.1, 0.9], [0.8, 0.2]]])
    bars_ax, lines_ax = plot_action_probabilities(
        steps, probabilities, index=1, state_labels=["a", "b"], action_labels=["left", "right"]
    )
    heights = [patch.get_height() for patch in bars_ax.patches]
    assert heights == [0.3, 0.6, 0.7, 0.4]  # action 0 for both states, then action 1
    assert "100" in bars_ax.get_title()
    lines = [line for line in lines_ax.get_lines() if line.get_label() in ("a", "b")]
    np.testing.assert_allclose(lines[0].get_ydata(), [0.5, 0.7, 0.9])
    marker = [line for line in lines_ax.get_lines() if np.all(np.asarray(line.get_xdata()) == 100)]
    assert marker  # the vertical line at the chosen record
    with pytest.raises(ValueError, match="index"):
        plot_action_probabilities(steps, probabilities, index=3)
    with pytest.raises(ValueError, match="labels"):
        plot_action_probabilities(steps, probabilities, state_labels=["only one"])
    with pytest.raises(ValueError, match="records, states, actions"):
        plot_action_probabilities(steps, probabilities[0])


# ---------------------------------------------------------- gradient variance
def test_gradient_estimates_agree_where_the_weights_coincide():
    policy = small_policy()
    n_params = sum(p.numel() for p in policy.parameters())
    # gamma = 0: G_t = r_t = 1 = G_0 on CartPole, so "total return" and "reward-to-go" are the same estimate.
    estimates = gradient_estimates(policy, "CartPole-v1", episodes=5, gamma=0.0, seed=3)
    assert list(estimates) == list(ESTIMATORS)
    assert estimates["total return"].shape == (5, n_params)
    np.testing.assert_allclose(estimates["total return"], estimates["reward-to-go"], rtol=1e-6, atol=1e-6)
    # A constant baseline c scales every weight 1 -> 1 - c.
    scaled = gradient_estimates(
        policy, "CartPole-v1", episodes=5, gamma=0.0, seed=3, baseline=lambda obs: np.full(len(obs), 0.25)
    )
    np.testing.assert_allclose(
        scaled["reward-to-go - baseline"], 0.75 * estimates["reward-to-go"], rtol=1e-5, atol=1e-5
    )  # float32 gradients


def test_gradient_estimate_of_one_episode_matches_a_direct_computation():
    policy = small_policy(1)
    estimates = gradient_estimates(policy, "CartPole-v1", episodes=2, gamma=0.9, seed=11)
    # Replay episode 0 with the same generator and recompute sum_t G_t grad log pi(a_t|s_t) step by step.
    generator = torch.Generator().manual_seed(11)
    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=11)
    log_probs, rewards, done = [], [], False
    while not done:
        dist = policy(torch.as_tensor(obs, dtype=torch.float32))
        with torch.no_grad():
            action = dist.sample(generator)
        log_probs.append(dist.log_prob(action))
        obs, reward, terminated, truncated, _ = env.step(int(action))
        rewards.append(reward)
        done = terminated or truncated
    returns = [sum(0.9 ** (k - t) * rewards[k] for k in range(t, len(rewards))) for t in range(len(rewards))]
    policy.zero_grad()
    sum(g * lp for g, lp in zip(returns, log_probs)).backward()
    direct = torch.cat([p.grad.reshape(-1) for p in policy.parameters()]).numpy()
    np.testing.assert_allclose(estimates["reward-to-go"][0], direct, rtol=1e-4, atol=1e-5)


def test_reward_to_go_and_baseline_reduce_the_variance():
    estimates = gradient_estimates(small_policy(2), "CartPole-v1", episodes=80, gamma=0.99, seed=0)
    variances = [gradient_variance(estimates[name]) for name in ESTIMATORS]
    assert variances[0] > variances[1] > variances[2]


def test_gradient_variance_is_the_trace_of_the_covariance():
    samples = np.random.default_rng(0).normal(size=(30, 5)) * [1, 2, 3, 4, 5]
    assert gradient_variance(samples) == pytest.approx(np.trace(np.cov(samples, rowvar=False)))
    with pytest.raises(ValueError, match="samples"):
        gradient_variance(samples[:1])
    ax = plot_gradient_variance({"a": samples, "b": samples / 2})
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == pytest.approx([gradient_variance(samples), gradient_variance(samples) / 4])
    assert [t.get_text() for t in ax.texts] == ["x1", "x0.25"]


# ---------------------------------------------------------- step curves
def test_returns_at_steps_averages_the_last_window_episodes():
    history = History(())
    for step, ret in [(10, 1.0), (30, 2.0), (60, 3.0)]:
        history.log_episode(step, 0.0, ret, 1)
    curve = returns_at_steps([history], [0, 10, 29, 30, 100], window=2)
    # Before any episode ends: the first return; then the mean of the last two ended so far.
    np.testing.assert_allclose(curve, [[1.0, 1.0, 1.0, 1.5, 2.5]])
    with pytest.raises(ValueError, match="no finished episode"):
        returns_at_steps([History(())], [0])


def test_step_curves_plot_the_mean_over_runs_against_steps():
    steps = np.array([0, 50, 100])
    ax = plot_step_curves({"x": np.array([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]])}, steps)
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), steps)
    np.testing.assert_allclose(line.get_ydata(), [2.0, 3.0, 4.0])
    assert line.get_label() == "x (2 runs)"
    with pytest.raises(ValueError, match="points"):
        plot_step_curves({"x": np.ones((2, 4))}, steps)


# ------------------------------------------------------------ trust region
@pytest.fixture(scope="module")
def trpo_directions():
    from drlkit.agents.trpo import TRPO

    torch.set_num_threads(1)
    agent = TRPO("CartPole-v1", seed=0, n_steps=32)
    agent.train(512)
    fragment = agent.collect()
    return agent, update_directions(agent, fragment)


def test_trust_region_profile_starts_flat_and_follows_first_order(trpo_directions):
    agent, d = trpo_directions
    before = [p.detach().clone() for p in agent.policy.parameters()]
    alphas = np.array([0.0, 1e-3, 2e-3, 0.05, 0.1, 0.2])
    kl, gain = trust_region_profile(agent.policy, d["obs"], d["actions"], d["advantages"], d["gradient"], alphas)
    assert kl[0] == pytest.approx(0.0, abs=1e-7) and gain[0] == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.diff(kl[1:]) > 0)  # moving further changes the policy more
    # The direction is the unit gradient g/|g|: the surrogate's slope along it is |g|.
    obs, actions, adv = d["obs"], d["actions"], d["advantages"]
    params = list(agent.policy.parameters())
    with torch.no_grad():
        old_log_probs = agent.policy(obs).log_prob(actions)
    surrogate = (torch.exp(agent.policy(obs).log_prob(actions) - old_log_probs) * adv).mean()
    grad_norm = torch.cat([g.reshape(-1) for g in torch.autograd.grad(surrogate, params)]).norm().item()
    assert gain[1] / alphas[1] == pytest.approx(grad_norm, rel=0.05)
    for p, p0 in zip(agent.policy.parameters(), before):  # the policy is left as it was
        assert torch.equal(p, p0)


def test_natural_direction_kl_matches_its_quadratic_model(trpo_directions):
    agent, d = trpo_directions
    alphas = np.array([0.01, 0.02, 0.04])
    kl, _ = trust_region_profile(agent.policy, d["obs"], d["actions"], d["advantages"], d["natural"], alphas)
    np.testing.assert_allclose(kl, 0.5 * alphas**2 * d["curvature"], rtol=0.1)
    with pytest.raises(ValueError, match="direction"):
        trust_region_profile(agent.policy, d["obs"], d["actions"], d["advantages"], d["natural"][:1], alphas)


def test_trust_region_plot_shades_up_to_the_largest_allowed_step():
    alphas = np.linspace(0, 1, 11)
    kl = 0.1 * alphas**2
    ax = plot_trust_region(alphas, kl, alphas, max_kl=0.025, kl_model=kl)
    assert "0.5" in ax.get_title()  # 0.1 * 0.5^2 = 0.025 is the largest step inside
    with pytest.raises(ValueError, match="max_kl"):
        plot_trust_region(alphas, kl, alphas, max_kl=0.0)
    with pytest.raises(ValueError, match="equal length"):
        plot_trust_region(alphas, kl[:-1], alphas, max_kl=0.1)


def test_gaussian_policy_plot_and_its_checks():
    x = np.linspace(-np.pi, np.pi, 9)
    ax = plot_gaussian_policy(x, np.sin(x), 0.5, low=-2, high=2)
    mean_line = next(line for line in ax.get_lines() if "mean action" in line.get_label())
    np.testing.assert_allclose(mean_line.get_ydata(), np.sin(x))
    with pytest.raises(ValueError, match="same length"):
        plot_gaussian_policy(x, np.sin(x)[:-1], 0.5)


# ---------------------------------------------------------------- widgets
def drawn(fig):
    """What a figure shows: the y data of every line and every title."""
    lines = [np.asarray(line.get_ydata(), dtype=float).tolist() for ax in fig.axes for line in ax.get_lines()]
    return lines, [ax.get_title() for ax in fig.axes]


def test_widget_figures_follow_their_slider():
    from drlkit.widgets.policy_gradients import (
        explore_action_probabilities,
        explore_clip_range,
        explore_learning_rates,
        explore_trust_region,
    )

    steps = np.array([0, 100, 200])
    probabilities = np.array([[[0.5, 0.5]], [[0.3, 0.7]], [[0.1, 0.9]]])
    widgets = [
        (explore_clip_range(0.2), 0.4),
        (explore_action_probabilities((steps, probabilities), ["s"], ["l", "r"]), 2),
        (explore_trust_region(np.linspace(0, 1, 5), np.linspace(0, 0.1, 5), np.linspace(0, 1, 5)), 0.1),
        (explore_learning_rates({1e-3: np.ones((2, 3)), 3e-3: np.zeros((1, 3))}, steps), "0.003"),
    ]
    for widget, new_value in widgets:
        # Outside a kernel the Output widget shows nothing; compare the figures the widget draws.
        before = drawn(widget._draw())
        widget.slider.value = new_value
        assert drawn(widget._draw()) != before, type(widget).__name__
        plt.close("all")


def test_widget_inputs_are_checked():
    from drlkit.widgets.policy_gradients import (
        explore_action_probabilities,
        explore_clip_range,
        explore_learning_rates,
        explore_trust_region,
    )

    with pytest.raises(ValueError, match="clip_range"):
        explore_clip_range(2.0)
    with pytest.raises(ValueError, match="no records"):
        explore_action_probabilities(ActionProbabilityRecorder(np.zeros((1, 4)), every=5))
    with pytest.raises(ValueError, match="max_kl"):
        explore_trust_region([0, 1], [0, 1], [0, 1], max_kl=5.0)
    with pytest.raises(ValueError, match="kl_model"):
        explore_trust_region([0, 1], [0, 1], [0, 1], kl_model=[0, 1, 2])
    with pytest.raises(ValueError, match="expected"):
        explore_learning_rates({1e-3: np.ones((2, 4))}, [0, 1, 2])


def test_plot_step_curves_highlights_one_run_with_its_band():
    steps = np.array([0.0, 1.0, 2.0])
    curves = {"a": np.array([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]]), "b": np.array([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]])}
    ax = plot_step_curves(curves, steps, highlight="b")
    a_line, b_line = ax.get_lines()
    assert b_line.get_linewidth() > a_line.get_linewidth() and a_line.get_alpha() < 1
    assert len(ax.collections) == 1  # only the highlighted run's band
    top = ax.collections[0].get_paths()[0].vertices[:, 1].max()
    np.testing.assert_allclose(top, 1.0 + np.std([0.0, 2.0], ddof=1))  # mean + sample std of run b
    with pytest.raises(ValueError, match="highlight"):
        plot_step_curves(curves, steps, highlight="c")
