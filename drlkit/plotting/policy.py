"""Plots of notebook 04 (policy gradients), and the measurements behind them.

The algorithms' own pieces come from the agents: advantages and returns from
:mod:`drlkit.agents.advantages`, the natural gradient from :meth:`drlkit.agents.trpo.TRPO.natural_gradient`.

=====================================  ==========================================================
:func:`clipped_surrogate`              PPO's per-sample objective :math:`\\min(\\rho A, \\mathrm{clip}(\\rho) A)`
:func:`plot_clipped_objective`         that objective against the probability ratio, for A > 0 and A < 0
:class:`ActionProbabilityRecorder`     training callback: :math:`\\pi(\\cdot|s)` on fixed states as training runs
:func:`plot_action_probabilities`      those probabilities at one point of training and over all of it
:func:`gradient_estimates`             per-episode policy-gradient estimates with three weightings
:func:`gradient_variance`              :math:`\\mathrm{tr}\\,\\mathrm{Cov}` of such estimates
:func:`plot_gradient_variance`         bars comparing the estimators' variance
:func:`returns_at_steps`               episode returns of several runs on a common step grid
:func:`plot_step_curves`               mean ± band over runs against environment steps
:func:`update_directions`              the policy gradient and TRPO's natural gradient on a rollout
:func:`trust_region_profile`           KL divergence and surrogate gain along a policy-update direction
:func:`plot_trust_region`              the same, with TRPO's KL limit and the step it allows
:func:`plot_gaussian_policy`           mean ± std of a 1-D Gaussian policy along one state variable
=====================================  ==========================================================

Every plotting function takes explicit arrays, draws on the Axes it is given
(or on a new figure) and returns the Axes.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .._checks import check_number
from ._recorder import PeriodicRecorder
from .curves import curve_summary


# --------------------------------------------------------------------- PPO
def clipped_surrogate(ratio: Any, advantage: Any, clip_range: float) -> np.ndarray:
    """:math:`\\min\\big(\\rho A,\\ \\mathrm{clip}(\\rho, 1-\\epsilon, 1+\\epsilon) A\\big)`, elementwise.

    ``ratio`` :math:`\\rho = \\pi_\\theta(a|s) / \\pi_{\\text{old}}(a|s)` and ``advantage``
    broadcast together; ``clip_range`` is :math:`\\epsilon`.
    """
    clip_range = check_number("clip_range", clip_range, low=0, high=1)
    ratio, advantage = np.asarray(ratio, dtype=float), np.asarray(advantage, dtype=float)
    return np.minimum(ratio * advantage, np.clip(ratio, 1 - clip_range, 1 + clip_range) * advantage)


def plot_clipped_objective(clip_range: float = 0.2, axes: Any = None, max_ratio: float = 2.0) -> Any:
    """PPO's clipped objective against the ratio :math:`\\rho`, for :math:`A = +1` and :math:`A = -1`.

    Each panel shows the unclipped surrogate :math:`\\rho A` (dashed), the
    clipped objective (solid), the trust interval :math:`[1-\\epsilon, 1+\\epsilon]`
    (shaded) and, in red, where the objective is flat: there the gradient is 0,
    so minibatch steps stop pushing the ratio further. ``axes``: two Axes, or a
    new figure. Returns the two Axes.
    """
    import matplotlib.pyplot as plt

    clip_range = check_number("clip_range", clip_range, low=0, high=1, low_open=True)
    max_ratio = check_number("max_ratio", max_ratio, low=1 + clip_range, low_open=True)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=False)
    ratio = np.linspace(0.0, max_ratio, 401)
    for ax, advantage in zip(axes, (1.0, -1.0)):
        objective = clipped_surrogate(ratio, advantage, clip_range)
        ax.axvspan(
            1 - clip_range,
            1 + clip_range,
            color="tab:green",
            alpha=0.12,
            label=rf"$[1-\epsilon, 1+\epsilon]$, $\epsilon$={clip_range:.2f}",
        )
        ax.plot(ratio, ratio * advantage, "--", color="0.5", label=r"unclipped $\rho A$")
        ax.plot(ratio, objective, color="tab:blue", linewidth=2.5, label=r"$\min(\rho A, \mathrm{clip}(\rho) A)$")
        flat = np.gradient(objective, ratio) == 0
        ax.plot(
            np.where(flat, ratio, np.nan),
            np.where(flat, objective, np.nan),
            color="tab:red",
            linewidth=2.5,
            label="flat: zero gradient",
        )
        ax.axvline(1.0, color="k", linewidth=0.8)
        sign = "> 0" if advantage > 0 else "< 0"
        ax.set_title(
            f"advantage A {sign}: "
            + ("make the action more likely" if advantage > 0 else "make the action less likely")
        )
        ax.set_xlabel(r"probability ratio $\rho = \pi_\theta(a|s)\,/\,\pi_{old}(a|s)$")
        ax.set_ylabel("objective")
        ax.set_xlim(0, max_ratio)
        ax.set_ylim(-max_ratio - 0.1, max_ratio + 0.1)
        ax.legend(loc="upper left" if advantage > 0 else "upper right", fontsize=8)
    return axes


# ------------------------------------------------- action probabilities
class ActionProbabilityRecorder(PeriodicRecorder):
    """Training callback that records :math:`\\pi(a|s)` of a discrete policy on fixed states.

    Every ``every`` environment steps (at the first update after each multiple)
    it evaluates ``agent.policy`` on ``states (S, obs_dim)`` and appends the
    probabilities; ``steps (K,)`` and ``probabilities (K, S, A)`` are the
    record. Call :meth:`record` yourself for the untrained policy::

        recorder = ActionProbabilityRecorder(states, every=2000)
        recorder.record(agent)                       # step 0
        agent.train(50_000, callbacks=[recorder])
    """

    def __init__(self, states: Any, every: int) -> None:
        self.states = np.asarray(states, dtype=np.float32)
        if self.states.ndim != 2:
            raise ValueError(f"states must have shape (n_states, obs_dim); got {self.states.shape}")
        super().__init__(every)
        self._probabilities: list[np.ndarray] = []

    def _snapshot(self, agent: Any) -> None:
        import torch

        if not hasattr(agent, "policy"):
            raise TypeError(f"{type(agent).__name__} has no stochastic policy network (agent.policy)")
        with torch.no_grad():
            distribution = agent.policy(torch.from_numpy(self.states))
        if not hasattr(distribution, "log_probs"):
            raise TypeError("ActionProbabilityRecorder needs a discrete (categorical) policy")
        self._probabilities.append(distribution.log_probs.exp().numpy().copy())

    @property
    def probabilities(self) -> np.ndarray:
        return np.array(self._probabilities)


def plot_action_probabilities(
    steps: Any,
    probabilities: Any,
    index: int = -1,
    state_labels: Sequence[str] | None = None,
    action_labels: Sequence[str] | None = None,
    axes: Any = None,
    action: int = -1,
) -> Any:
    """Action probabilities on fixed states: at one point of training, and over all of it.

    ``steps (K,)`` and ``probabilities (K, S, A)`` come e.g. from
    :class:`ActionProbabilityRecorder`. Left: grouped bars of
    :math:`\\pi(a|s)` for every state at record ``index``. Right: the
    probability of ``action`` (default: the last) for each state against the
    steps, with a marker at ``index``. Returns the two Axes.
    """
    import matplotlib.pyplot as plt

    steps = np.asarray(steps)
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.ndim != 3 or len(steps) != len(probabilities) or len(steps) == 0:
        raise ValueError(
            f"probabilities must have shape (records, states, actions) with one record per step; got "
            f"{probabilities.shape} for {len(steps)} steps"
        )
    n_records, n_states, n_actions = probabilities.shape
    index = check_number("index", index, low=-n_records, high=n_records - 1, integer=True) % n_records
    action = check_number("action", action, low=-n_actions, high=n_actions - 1, integer=True) % n_actions
    state_labels = list(state_labels) if state_labels is not None else [f"state {i}" for i in range(n_states)]
    action_labels = list(action_labels) if action_labels is not None else [f"action {a}" for a in range(n_actions)]
    if len(state_labels) != n_states or len(action_labels) != n_actions:
        raise ValueError(
            f"need {n_states} state labels and {n_actions} action labels; got "
            f"{len(state_labels)} and {len(action_labels)}"
        )
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1.1, 1]})
    bars_ax, lines_ax = axes
    width = 0.8 / n_actions
    x = np.arange(n_states)
    for a in range(n_actions):
        bars_ax.bar(x + (a - (n_actions - 1) / 2) * width, probabilities[index, :, a], width, label=action_labels[a])
    bars_ax.axhline(1.0 / n_actions, color="0.4", linestyle=":", linewidth=1)
    bars_ax.set_xticks(x, state_labels, fontsize=8)
    bars_ax.set_ylim(0, 1)
    bars_ax.set_ylabel(r"$\pi(a\,|\,s)$")
    bars_ax.set_title(f"policy after {int(steps[index]):,} steps")
    bars_ax.legend(fontsize=8, loc="upper right")
    for s in range(n_states):
        lines_ax.plot(steps, probabilities[:, s, action], marker=".", label=state_labels[s])
    lines_ax.axvline(steps[index], color="k", linewidth=1)
    lines_ax.axhline(1.0 / n_actions, color="0.4", linestyle=":", linewidth=1)
    lines_ax.set_ylim(0, 1)
    lines_ax.set_xlabel("environment steps")
    lines_ax.set_ylabel(rf"$\pi$({action_labels[action]} | s)")
    lines_ax.set_title(f"probability of '{action_labels[action]}' during training")
    lines_ax.legend(fontsize=8, loc="best")
    return axes


# ---------------------------------------------- gradient variance (REINFORCE)
ESTIMATORS = ("total return", "reward-to-go", "reward-to-go - baseline")


def gradient_estimates(
    policy: Any,
    env: Any,
    episodes: int,
    gamma: float = 0.99,
    seed: int = 0,
    baseline: Callable[[Any], Any] | None = None,
) -> dict[str, np.ndarray]:
    """One policy-gradient estimate per episode for each weighting in ``ESTIMATORS``.

    Runs ``episodes`` episodes of the stochastic ``policy`` (a module mapping
    ``obs (T, obs_dim)`` to a distribution with ``log_prob``) in ``env`` (an id
    or a callable making an env, reset with seeds ``seed + i``), and for each
    episode returns the flattened gradient of
    :math:`\\sum_t \\log\\pi(a_t|s_t)\\,\\Psi_t` with

    * ``"total return"``: :math:`\\Psi_t = G_0` (the original REINFORCE),
    * ``"reward-to-go"``: :math:`\\Psi_t = G_t` (rewards before t cannot depend on :math:`a_t`),
    * ``"reward-to-go - baseline"``: :math:`\\Psi_t = G_t - b(s_t)`.

    The baseline is ``baseline(obs (T, obs_dim)) -> (T,)`` (e.g. a trained
    critic); without one it is the average reward-to-go at the same time step in
    the *other* episodes (leave-one-out, so it does not depend on the episode's
    own actions and the estimate stays unbiased). All three have the same
    expectation, the policy gradient; only their variance differs. Returns
    ``{name: array (episodes, n_params)}``.
    """
    import torch

    from ..agents.advantages import discounted_returns
    from ..envs.make import make_env

    episodes = check_number("episodes", episodes, low=2, integer=True)
    gamma = check_number("gamma", gamma, low=0, high=1)
    env_ = make_env(env)
    generator = torch.Generator().manual_seed(int(seed))
    trajectories = []
    try:
        for i in range(episodes):
            obs, _ = env_.reset(seed=int(seed) + i)
            observations, actions, rewards = [], [], []
            done = False
            while not done:
                observations.append(np.asarray(obs, dtype=np.float32))
                with torch.no_grad():
                    action = policy(torch.from_numpy(observations[-1])).sample(generator)
                actions.append(action)
                obs, reward, terminated, truncated, _ = env_.step(action.numpy() if action.ndim else int(action))
                rewards.append(float(reward))
                done = terminated or truncated
            trajectories.append((np.stack(observations), torch.stack(actions), np.array(rewards)))
    finally:
        env_.close()

    to_go = [discounted_returns(rewards, gamma) for _, _, rewards in trajectories]
    horizon = max(len(g) for g in to_go)
    padded = np.zeros((episodes, horizon))
    alive = np.zeros((episodes, horizon))
    for i, g in enumerate(to_go):
        padded[i, : len(g)], alive[i, : len(g)] = g, 1.0
    sums, counts = padded.sum(0), alive.sum(0)

    params = [p for p in policy.parameters() if p.requires_grad]
    estimates: dict[str, list[np.ndarray]] = {name: [] for name in ESTIMATORS}
    for i, (episode_obs, episode_actions, _) in enumerate(trajectories):
        g = to_go[i]
        if baseline is None:
            others = counts[: len(g)] - 1
            b = np.where(others > 0, (sums[: len(g)] - g) / np.maximum(others, 1), 0.0)
        else:
            with torch.no_grad():
                b = np.asarray(baseline(torch.from_numpy(episode_obs)), dtype=float).reshape(-1)
        log_probs = policy(torch.from_numpy(episode_obs)).log_prob(episode_actions)
        for name, weights in zip(ESTIMATORS, (np.full(len(g), g[0]), g, g - b)):
            objective = (log_probs * torch.as_tensor(weights, dtype=log_probs.dtype)).sum()
            grads = torch.autograd.grad(objective, params, retain_graph=True)
            estimates[name].append(torch.cat([gr.reshape(-1) for gr in grads]).numpy().astype(float))
    return {name: np.stack(rows) for name, rows in estimates.items()}


def gradient_variance(samples: Any) -> float:
    """Total variance :math:`\\mathrm{tr}\\,\\mathrm{Cov}[g] = \\mathbb E\\|g - \\bar g\\|^2` of
    gradient estimates ``samples (n, n_params)`` (unbiased, ``n - 1`` in the denominator)."""
    samples = np.asarray(samples, dtype=float)
    if samples.ndim != 2 or len(samples) < 2:
        raise ValueError(f"samples must have shape (n >= 2, n_params); got {samples.shape}")
    return float(samples.var(axis=0, ddof=1).sum())


def plot_gradient_variance(estimates: Mapping[str, Any], ax: Any = None) -> Any:
    """Bars of :func:`gradient_variance` for each estimator (log scale), labelled with the
    ratio to the first one. ``estimates``: ``{name: samples (n, n_params)}``."""
    import matplotlib.pyplot as plt

    if not estimates:
        raise ValueError("estimates is empty; give at least one name -> samples")
    names = list(estimates)
    variances = np.array([gradient_variance(estimates[name]) for name in names])
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    bars = ax.bar(range(len(names)), variances, color=[f"C{i}" for i in range(len(names))])
    for bar, variance in zip(bars, variances):
        ax.annotate(
            f"x{variance / variances[0]:.2g}",
            (bar.get_x() + bar.get_width() / 2, variance),
            ha="center",
            va="bottom",
            fontsize=9,
        )
    ax.set_xticks(range(len(names)), names)
    ax.set_yscale("log")
    ax.set_ylim(variances.min() / 5, variances.max() * 3)
    ax.set_ylabel(r"variance $\mathrm{tr\,Cov}[\hat g]$ (log)")
    ax.set_title("variance of one-episode policy-gradient estimates")
    return ax


# ------------------------------------------------ learning curves in steps
def returns_at_steps(histories: Sequence[Any], steps: Any, window: int = 10) -> np.ndarray:
    """Smoothed episode return of each run at common step counts, shape ``(runs, len(steps))``.

    At step ``s`` a run's value is the mean return of its last ``window``
    episodes that ended at or before ``s`` (its first episode's return before
    any ended), so runs whose episodes end at different steps can be averaged.
    ``histories`` are :class:`~drlkit.agents.history.History` objects (or agents).
    """
    window = check_number("window", window, low=1, integer=True)
    steps = np.asarray(steps)
    rows = []
    for history in histories:
        history = getattr(history, "history", history)
        returns, ends = history.episode_returns, history.episode_steps
        if len(returns) == 0:
            raise ValueError("a run has no finished episode yet; train longer before plotting it")
        cumulative = np.concatenate([[0.0], np.cumsum(returns)])
        done = np.maximum(np.searchsorted(ends, steps, side="right"), 1)
        first = np.maximum(done - window, 0)
        rows.append((cumulative[done] - cumulative[first]) / (done - first))
    return np.array(rows)


def plot_step_curves(
    curves: Mapping[str, Any],
    steps: Any,
    ax: Any = None,
    band: str | None = "std",
    ylabel: str = "return",
    title: str | None = None,
    highlight: str | None = None,
) -> Any:
    """Mean ± band over runs (see :func:`drlkit.plotting.curves.curve_summary`) of each labelled
    ``(runs, len(steps))`` array against environment ``steps``. With ``highlight`` (one of the
    labels) that curve is drawn bold with its band and the others thin, without. Returns the Axes."""
    import matplotlib.pyplot as plt

    steps = np.asarray(steps)
    if not curves:
        raise ValueError("curves is empty; give at least one label -> array (runs, points)")
    if highlight is not None and highlight not in curves:
        raise ValueError(f"highlight must be one of the labels {list(curves)}, got {highlight!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for label, values in curves.items():
        values = np.atleast_2d(np.asarray(values, dtype=float))
        if values.shape[1] != len(steps):
            raise ValueError(f"curves[{label!r}] has {values.shape[1]} points; steps has {len(steps)}")
        _, mean, low, high = curve_summary(values, band=band)
        runs = values.shape[0]
        style = (
            {}
            if highlight is None
            else (dict(linewidth=2.5, zorder=3) if label == highlight else dict(linewidth=1.0, alpha=0.35, zorder=2))
        )
        (line,) = ax.plot(steps, mean, label=f"{label} ({runs} runs)" if runs > 1 else str(label), **style)
        if band is not None and runs > 1 and highlight in (None, label):
            ax.fill_between(steps, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=9)
    return ax


# ------------------------------------------------------ TRPO trust region
def update_directions(agent: Any, fragment: Any, cg_iters: int = 10, damping: float = 0.1) -> dict[str, Any]:
    """The plain and the natural policy gradient of ``agent``'s surrogate on ``fragment``.

    ``agent`` is an on-policy agent with a critic (A2C, PPO, TRPO) and
    ``fragment`` one of its rollouts (``agent.collect()``). With normalised GAE
    advantages :math:`\\hat A` (the agent's ``gamma`` and ``gae_lambda``),
    :math:`g = \\nabla_\\theta \\mathbb E[\\rho \\hat A]` at the current parameters
    and the natural gradient :math:`x \\approx F^{-1} g` by conjugate gradient,
    :math:`F` the Fisher matrix (Hessian of the mean KL), as in TRPO. Returns a
    dict with ``obs``, ``actions``, ``advantages`` (the samples),
    ``gradient`` and ``natural`` (one tensor per policy parameter, each scaled
    to unit norm overall) and ``curvature`` :math:`\\hat x^\\top F \\hat x` of the
    unit natural direction, so that :math:`\\mathrm{KL} \\approx \\tfrac12 \\alpha^2\\,\\hat x^\\top F \\hat x`.
    """
    import torch
    from torch.nn.utils import vector_to_parameters

    from ..agents.advantages import fragment_advantages
    from ..agents.on_policy import fragment_tensors
    from ..agents.trpo import TRPO

    gae_lambda = getattr(agent.config, "gae_lambda", 1.0)
    advantages, _ = fragment_advantages(fragment.data, agent.config.gamma, gae_lambda, normalize=True)
    obs, actions, old_log_probs = fragment_tensors(fragment, "obs", "actions", "log_probs")
    problem = TRPO.natural_gradient(agent.policy, obs, actions, old_log_probs, advantages, cg_iters, damping)
    params, g = problem.parameters, problem.gradient
    natural = problem.direction / problem.direction.norm()
    curvature = float(natural @ problem.fisher_product(natural)) - damping

    def split(vector: torch.Tensor) -> list[torch.Tensor]:
        pieces = [torch.empty_like(p) for p in params]
        vector_to_parameters(vector.detach(), pieces)
        return pieces

    return {
        "obs": obs,
        "actions": actions,
        "advantages": advantages,
        "gradient": split(g / g.norm()),
        "natural": split(natural),
        "curvature": curvature,
    }


def trust_region_profile(
    policy: Any, obs: Any, actions: Any, advantages: Any, direction: Sequence[Any], step_sizes: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Mean KL and surrogate gain of the policy moved by ``alpha * direction``, for each ``alpha``.

    ``policy`` maps ``obs (n, obs_dim)`` to a distribution (with ``log_prob``
    and ``kl``); ``actions (n, ...)`` and ``advantages (n,)`` are the samples
    the surrogate :math:`L(\\theta) = \\mathbb E[\\rho\\,A]` is measured on;
    ``direction`` holds one tensor per parameter of ``policy`` (e.g. from
    :func:`update_directions`). Returns ``(kl, gain)``, each of shape
    ``(len(step_sizes),)``: :math:`\\mathbb E_s[\\mathrm{KL}(\\pi_{old} \\| \\pi_{\\theta_{old} + \\alpha d})]`
    and :math:`L(\\theta_{old} + \\alpha d) - L(\\theta_{old})`. The policy is left unchanged.
    """
    import torch

    params = [p for p in policy.parameters() if p.requires_grad]
    if len(direction) != len(params):
        raise ValueError(f"direction has {len(direction)} tensors; the policy has {len(params)} parameters")
    obs = torch.as_tensor(np.asarray(obs, dtype=np.float32))
    actions = torch.as_tensor(np.asarray(actions))
    advantages = torch.as_tensor(np.asarray(advantages, dtype=np.float32))
    original = [p.detach().clone() for p in params]
    kls, gains = [], []
    try:
        with torch.no_grad():
            old = policy(obs).detach()
            old_log_probs = old.log_prob(actions)
            for alpha in np.asarray(step_sizes, dtype=float):
                for p, p0, d in zip(params, original, direction):
                    p.copy_(p0 + float(alpha) * torch.as_tensor(d, dtype=p.dtype))
                new = policy(obs)
                kls.append(float(old.kl(new).mean()))
                ratio = (new.log_prob(actions) - old_log_probs).exp()
                gains.append(float((ratio * advantages).mean() - advantages.mean()))
    finally:
        with torch.no_grad():
            for p, p0 in zip(params, original):
                p.copy_(p0)
    return np.array(kls), np.array(gains)


def plot_trust_region(
    step_sizes: Any,
    kl: Any,
    gain: Any,
    max_kl: float,
    ax: Any = None,
    label: str = "",
    kl_model: Any = None,
) -> Any:
    """KL divergence (left axis, log scale) and surrogate gain (right axis) against the step
    size, with the trust region :math:`\\mathrm{KL} \\le \\delta` (``max_kl``) shaded up to the
    largest step inside it. ``kl_model`` (optional, same shape) is a quadratic model of
    the KL, drawn dotted with the step where it reaches the limit. Returns the KL Axes."""
    import matplotlib.pyplot as plt

    max_kl = check_number("max_kl", max_kl, low=0, low_open=True)
    step_sizes, kl, gain = (np.asarray(a, dtype=float) for a in (step_sizes, kl, gain))
    if not (step_sizes.shape == kl.shape == gain.shape) or step_sizes.ndim != 1:
        raise ValueError(
            f"step_sizes, kl and gain must be 1-D of equal length; got shapes "
            f"{step_sizes.shape}, {kl.shape}, {gain.shape}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    ax.plot(step_sizes, kl, color="tab:blue", label="mean KL(old || new)")
    if kl_model is not None:
        kl_model = np.asarray(kl_model, dtype=float)
        if kl_model.shape != kl.shape:
            raise ValueError(f"kl_model has shape {kl_model.shape}; expected {kl.shape}")
        ax.plot(step_sizes, kl_model, ":", color="tab:blue", label=r"quadratic model $\frac{1}{2}\alpha^2 d^\top F d$")
        model_inside = kl_model <= max_kl
        if model_inside.any():
            ax.axvline(step_sizes[model_inside].max(), color="tab:blue", linestyle=":", linewidth=1)
    ax.axhline(max_kl, color="tab:red", linestyle="--", linewidth=1, label=rf"limit $\delta$ = {max_kl:.2g}")
    inside = kl <= max_kl
    allowed = step_sizes[inside].max() if inside.any() else step_sizes.min()
    ax.axvspan(step_sizes.min(), allowed, color="tab:green", alpha=0.12, label="trust region")
    ax.set_xlabel(r"step size $\alpha$ along the update direction" + (f" ({label})" if label else ""))
    ax.set_ylabel("mean KL", color="tab:blue")
    positive = kl[kl > 0]
    if positive.size:
        ax.set_yscale("log")
        ax.set_ylim(max(positive.min(), 1e-6), max(kl.max(), max_kl) * 2)
    gain_ax = ax.twinx()
    gain_ax.plot(step_sizes, gain, color="tab:orange", label=r"surrogate gain $L(\theta) - L(\theta_{old})$")
    gain_ax.axhline(0, color="tab:orange", linewidth=0.6, alpha=0.5)
    gain_ax.set_ylabel("surrogate gain", color="tab:orange")
    ax.set_title(f"largest step inside the trust region: alpha = {allowed:.3g}")
    handles = ax.get_legend_handles_labels()[0] + gain_ax.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="upper left")
    return ax


# --------------------------------------------------------- Gaussian policy
def plot_gaussian_policy(
    x: Any,
    mean: Any,
    std: Any,
    ax: Any = None,
    xlabel: str = "state",
    low: float | None = None,
    high: float | None = None,
) -> Any:
    """Mean action ± one and two standard deviations of a 1-D Gaussian policy along ``x``;
    ``low``/``high`` draw the action bounds the environment clips to. Returns the Axes."""
    import matplotlib.pyplot as plt

    x, mean, std = (np.asarray(a, dtype=float).reshape(-1) for a in (x, mean, std))
    std = np.broadcast_to(std, mean.shape) if std.size == 1 else std
    if not (x.shape == mean.shape == std.shape):
        raise ValueError(f"x, mean and std must have the same length; got {x.shape}, {mean.shape}, {std.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    ax.fill_between(x, mean - 2 * std, mean + 2 * std, color="tab:purple", alpha=0.12, label=r"mean $\pm 2\sigma$")
    ax.fill_between(x, mean - std, mean + std, color="tab:purple", alpha=0.25, label=r"mean $\pm \sigma$")
    ax.plot(x, mean, color="tab:purple", label=r"mean action $\mu(s)$")
    for bound in (low, high):
        if bound is not None:
            ax.axhline(bound, color="0.3", linestyle=":", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("action")
    ax.legend(fontsize=8)
    return ax
