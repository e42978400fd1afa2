r"""Asynchronous modes: the driver applies each worker's result as soon as it arrives.

Nobody waits for the slowest worker: a worker gets new work (with the newest
parameters) right after its result has been applied. The price is *staleness*:
while worker i computed from version v, other results moved the parameters on
to version v + τ. Every result is stamped with the version it started from,
and τ is recorded.

``"async"`` -- asynchronous parameter server. Worker i loads θ_v, makes
``local_steps`` updates on its own experience and returns θ_i; the driver mixes
it into the *current* parameters:

.. math:: \theta \leftarrow \theta + \eta\,(\theta_i - \theta),
          \qquad \eta \in (0, 1] \;(\text{default } 1/N).

With ``staleness_aware=True`` the step is :math:`\eta / \max(\tau, 1)`: a
result computed from old parameters moves them less. Results with τ above
``max_staleness`` are dropped (and recorded as dropped rows). With one worker
and η = 1 this is exactly sequential training: θ_i becomes the new θ and the
worker continues from it.

``"a3c"`` -- asynchronous gradients (as in A3C, Mnih et al. 2016). Worker i
returns the gradient of its fragment's loss at θ_v; the driver takes an
optimizer step with it at once, although θ has meanwhile moved to θ_{v+τ}.
``max_staleness`` drops gradients that are too old.

Determinism: which result arrives first depends on timing (the machine's
load, the network), so asynchronous runs are not reproducible, even with fixed
seeds -- except with a single worker.
"""

from __future__ import annotations

import numpy as np

from .engine import Run, Ticket, serve  # noqa: F401  (serve lives in the engine; this import path still works)
from .worker import fragment_gradients, local_updates


def mix(theta: dict[str, np.ndarray], theta_i: dict[str, np.ndarray], weight: float) -> dict[str, np.ndarray]:
    r""":math:`\theta + w\,(\theta_i - \theta)` for every floating-point array (float64 arithmetic,
    cast back); ``weight = 1`` returns θ_i exactly. Other arrays keep the value of ``theta``."""
    merged = {}
    for key, value in theta.items():
        if not np.issubdtype(value.dtype, np.floating):
            merged[key] = value.copy()
        elif weight == 1.0:
            merged[key] = np.array(theta_i[key], dtype=value.dtype)
        else:
            base = value.astype(np.float64)
            merged[key] = (base + weight * (np.asarray(theta_i[key], dtype=np.float64) - base)).astype(value.dtype)
    return merged


def merge_weight(eta: float, staleness: int, staleness_aware: bool) -> float:
    """η, or η / max(τ, 1) when staleness-aware."""
    return eta / max(staleness, 1) if staleness_aware else eta


def run_async(
    run: Run,
    n_workers: int,
    local_steps: int,
    eta: float,
    staleness_aware: bool,
    max_staleness: int | None,
    max_batch: int = 1,
) -> None:
    """Asynchronous parameter server until the step budget is used (see module docstring)."""

    # The results of one batch are mixed in one after another, in arrival order, into θ held as
    # numpy arrays; the agent's networks are loaded once per batch.
    theta: dict[str, dict[str, np.ndarray]] = {}

    def apply(ticket: Ticket, theta_i: dict[str, np.ndarray], staleness: int) -> tuple[float, None]:
        weight = merge_weight(eta, staleness, staleness_aware)
        theta["now"] = mix(theta.get("now") or run.agent.get_parameters(), theta_i, weight)
        return weight, None  # the metrics are the worker's own

    def load() -> None:
        if "now" in theta:
            run.agent.set_parameters(theta.pop("now"))

    serve(run, n_workers, local_updates, local_steps, max_staleness, apply, max_batch, after_batch=load)


def run_a3c(run: Run, n_workers: int, max_staleness: int | None, max_batch: int = 1) -> None:
    """Asynchronous gradients until the step budget is used (see module docstring)."""

    def apply(ticket: Ticket, gradients: dict[str, np.ndarray], staleness: int) -> tuple[float, None]:
        run.agent.apply_gradients(gradients)
        return 1.0, None

    serve(run, n_workers, fragment_gradients, 1, max_staleness, apply, max_batch)
