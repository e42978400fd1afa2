r"""A population of DQN learners with different exploration rates: one shared replay, or one each.

Policy parallelism with shared experience. N DQN learners differ only in their
final exploration rate :math:`\varepsilon_i` (the schedule falls from
``exploration_initial_eps`` to :math:`\varepsilon_i`). Each round, every
learner's actor (one worker slot each) collects ``fragment_steps`` environment
steps with that learner's newest network and its own ε; the driver then lets
every learner learn from its fragment with :meth:`DQN.learn_from`, which adds
the fragment to the learner's replay and takes the gradient steps due.

* ``shared=False``: each learner's replay holds only its own experience;
* ``shared=True``: all learners hold the *same* replay object, so learner i
  also replays what learners j != i saw (a greedy learner learns from an
  explorer's visits, an explorer from the greedy one's long episodes). Its
  capacity is ``n_members * buffer_size``: the same memory as the private
  buffers together.

Both variants collect the same experience and take ``gradient_steps`` per
``train_freq`` of a learner's *own* steps (every fragment enters a replay once
and counts towards its own learner), so they cost the same compute; they differ
in which transitions a minibatch may contain, and in that a shared replay holds
``learning_starts`` transitions sooner, so learning starts earlier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .._checks import check_number
from ..agents.dqn import DQN
from ..agents.replay import ReplayBuffer
from ..distributed.population import MemberJob, MemberState, collect_member, open_run, parameters_nbytes, run_round
from ..distributed.worker import slot_seed


@dataclass
class ReplayPopulationResult:
    """What :func:`train_dqn_population` returns: the learners (on the driver), one record per learner
    and round (``round, member, step, exploration_rate, mean_return, n_episodes, loss``), every
    finished episode (``member, step, episode_return``) and the bytes sent each way."""

    learners: list[DQN]
    shared: bool
    records: list[dict[str, Any]] = field(default_factory=list)
    episodes: list[dict[str, Any]] = field(default_factory=list)
    bytes_to_workers: int = 0
    bytes_from_workers: int = 0

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.records)

    def episodes_frame(self):
        import pandas as pd

        return pd.DataFrame(self.episodes, columns=["member", "step", "episode_return"])


def train_dqn_population(
    agent: DQN,
    exploration_rates: Sequence[float],
    *,
    shared: bool,
    total_steps: int,
    fragment_steps: int | None = None,
    seed: int | None = None,
    client: Any = None,
    worker_timeout: float = 30.0,
) -> ReplayPopulationResult:
    """Train one DQN learner per entry of ``exploration_rates`` (see module docstring).

    Parameters
    ----------
    agent : DQN
        The template (algorithm, env, hyperparameters); learner i is built from it with seed
        ``slot_seed(seed, i)`` and ``exploration_final_eps = exploration_rates[i]``.
    exploration_rates : sequence of floats in [0, 1]
        One per learner (at least one).
    shared : bool
        One replay for everyone (True) or one per learner (False).
    total_steps : int >= 1
        Environment steps over all learners.
    fragment_steps : int >= 1, optional
        Steps each actor collects per round (default: the template's ``train_freq``).
    """
    if not isinstance(agent, DQN):
        raise TypeError(f"agent must be a drlkit DQN (the template), got {type(agent).__name__}")
    if isinstance(exploration_rates, (str, bytes)) or not hasattr(exploration_rates, "__len__"):
        raise TypeError(f"exploration_rates must be a list of numbers in [0, 1]; got {exploration_rates!r}")
    rates = [check_number("exploration_rates entries", e, low=0, high=1) for e in exploration_rates]
    if not rates:
        raise ValueError("exploration_rates must hold at least one rate (one per learner)")
    if not isinstance(shared, bool):
        raise TypeError(f"shared must be True or False, got {shared!r}")
    total_steps = check_number("total_steps", total_steps, low=1, integer=True)
    fragment_steps = (
        agent.config.train_freq
        if fragment_steps is None
        else check_number("fragment_steps", fragment_steps, low=1, integer=True)
    )
    seed = agent.seed if seed is None else check_number("seed", seed, low=0, integer=True)
    n = len(rates)
    learners = []
    for i, rate in enumerate(rates):
        learner = agent.spec().build(seed=slot_seed(seed, i))
        assert isinstance(learner, DQN)
        learner.config.exploration_final_eps = rate
        learners.append(learner)
    if shared:
        replay = ReplayBuffer(n * agent.config.buffer_size, learners[0].replay.obs_dim)
        for learner in learners:
            learner.replay = replay
    n_rounds = math.ceil(total_steps / (n * fragment_steps))
    result = ReplayPopulationResult(learners, shared)
    run = open_run(
        agent,
        n,
        n_rounds * n * fragment_steps,
        fragment_steps,
        mode="dqn_population",
        client=client,
        seed=seed,
        worker_timeout=worker_timeout,
    )
    try:
        for round_index in range(n_rounds):
            jobs = []
            for learner, rate in zip(learners, rates):
                state = MemberState(learner.get_parameters(), {}, {"exploration_final_eps": rate}, learner.total_steps)
                result.bytes_to_workers += parameters_nbytes(state.params)
                jobs.append(MemberJob(state, state.hparams, fragment_steps, "collect"))
            outcomes = run_round(run, collect_member, jobs, round_index)
            for i, ((outcome, _), learner) in enumerate(zip(outcomes, learners)):
                fragment = outcome.fragment
                result.bytes_from_workers += parameters_nbytes(fragment.data)
                learner.total_steps += fragment.n_steps
                for ret in fragment.episode_returns:
                    result.episodes.append({"member": i, "step": learner.total_steps, "episode_return": float(ret)})
                metrics = learner.learn_from(fragment)
                result.records.append(
                    {
                        "round": round_index,
                        "member": i,
                        "step": learner.total_steps,
                        "exploration_rate": learner.exploration_rate(),
                        "mean_return": float(np.mean(fragment.episode_returns))
                        if fragment.episode_returns
                        else math.nan,
                        "n_episodes": len(fragment.episode_returns),
                        "loss": metrics.get("loss", math.nan),
                    }
                )
    finally:
        run.finish()
    return result
