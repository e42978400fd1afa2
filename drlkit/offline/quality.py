"""The datasets of the offline-RL literature at several qualities, in one call."""

from __future__ import annotations

from typing import Any, Sequence

from .._checks import check_number
from .dataset import QUALITIES, OfflineDataset, collect, collect_parallel, collect_replay
from .experts import behaviour_policy


def make_quality_datasets(
    env_id: str = "CartPole-v1",
    qualities: Sequence[str] = ("random", "medium", "expert"),
    *,
    steps: int = 10_000,
    seed: int = 0,
    client: Any = None,
    n_workers: int = 1,
    epsilon: float = 0.0,
) -> dict[str, OfflineDataset]:
    """``{quality: dataset}`` of ``steps`` transitions each on ``env_id``, with the shipped
    behaviour policies (:func:`drlkit.offline.behaviour_policy`): ``"random"`` (uniform actions),
    ``"medium"``, ``"expert"``, ``"medium-replay"`` (a DQN training run from scratch until ``steps``,
    CartPole-v1 only) and ``"medium-expert"`` (half medium, half expert).

    With ``n_workers > 1`` (and a Dask ``client``, or inside ``with drlkit.cluster():``) each dataset is
    collected in parallel, ``steps // n_workers`` transitions per worker with seeds
    ``seed, seed + 1, ...`` (see :func:`drlkit.offline.collect_parallel`).
    """
    steps = check_number("steps", steps, low=1, integer=True)
    n_workers = check_number("n_workers", n_workers, low=1, integer=True)
    known = QUALITIES + ("medium-expert",)
    for q in qualities:
        if q not in known:
            raise ValueError(f"qualities entries must be among {', '.join(map(repr, known))}; got {q!r}")
    out: dict[str, OfflineDataset] = {}
    for i, quality in enumerate(qualities):
        base = seed + 100 * i
        if quality == "medium-replay":
            from ..agents.dqn import DQN

            out[quality] = collect_replay(DQN(env_id, seed=base), steps)
            continue
        if quality == "medium-expert":
            half = [
                _one(env_id, level, steps // 2, base + j * 50, client, n_workers, epsilon, level)
                for j, level in enumerate(("medium", "expert"))
            ]
            from .dataset import concatenate

            out[quality] = concatenate(half, quality="medium-expert")
            continue
        policy = "random" if quality == "random" else quality
        out[quality] = _one(env_id, policy, steps, base, client, n_workers, epsilon, quality)
    return out


def _one(env_id, level, steps, seed, client, n_workers, epsilon, quality) -> OfflineDataset:
    policy = "random" if level == "random" else behaviour_policy(env_id, level)
    if n_workers == 1:
        return collect(env_id, policy, steps=steps, seed=seed, epsilon=epsilon, quality=quality)
    per = -(-steps // n_workers)
    return collect_parallel(
        env_id,
        policy,
        steps=per,
        seeds=[seed + k for k in range(n_workers)],
        epsilon=epsilon,
        quality=quality,
        client=client,
    )
