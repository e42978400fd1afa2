r"""``"rollouts"`` -- data-parallel rollouts with a central learner.

Workers only act: each one collects a fragment of ``fragment_steps`` environment
steps with the parameters it was sent and returns the experience itself. The
driver learns from every fragment as it arrives (``agent.learn_from``), which
bumps the parameter version, and sends that worker the new parameters for its
next fragment. Acting -- usually most of the time in RL -- runs in parallel;
learning runs in one place, with one optimizer, exactly as in single-process
training.

With N workers a fragment is typically collected by parameters one or a few
updates old (staleness τ, recorded per row). Off-policy learners (DQN) do not
mind; on-policy ones (A2C, PPO) learn from slightly off-policy data, which
PPO's clipped ratio tolerates; ``max_staleness`` drops fragments that are too
old. The learner is the bottleneck once it takes longer per fragment than a
worker takes to collect one divided by N.

Determinism: fragments are learned in arrival order, so only a single-worker
run is reproducible.
"""

from __future__ import annotations

from typing import Any

from .engine import Run, Ticket, serve
from .worker import collect_fragment


def run_rollouts(run: Run, n_workers: int, max_staleness: int | None, max_batch: int = 1) -> None:
    """Central learner until the step budget is used (see module docstring)."""

    def apply(ticket: Ticket, fragment: Any, staleness: int) -> tuple[float, dict[str, float]]:
        return 1.0, run.agent.learn_from(fragment)

    serve(run, n_workers, collect_fragment, 1, max_staleness, apply, max_batch)
