"""Store and load offline datasets as Minari datasets (local storage only; nothing is downloaded).

Minari is the offline-RL field's standard format (the successor of D4RL): a
dataset is a directory ``<root>/<dataset_id>/`` with the episodes in HDF5 and
a metadata file. ``root`` is ``MINARI_DATASETS_PATH`` (default
``~/.minari/datasets``), or the ``root=`` you pass here. Each episode stores
``observations (T+1, obs_dim)`` -- the T states acted in plus the last next
state -- and ``actions, rewards, terminations, truncations (T, ...)``.

>>> data = collect("CartPole-v1", "random", steps=1_000, seed=0)      # doctest: +SKIP
>>> save_dataset(data, "drlkit/cartpole/random-v0", root="datasets")   # doctest: +SKIP
>>> load_dataset("drlkit/cartpole/random-v0", root="datasets")         # doctest: +SKIP

drlkit's own metadata (env id, policy, seed, steps, quality) is kept in the
dataset's ``description`` as JSON after the marker line, so any Minari reader
still sees a valid dataset. The round trip is exact (float32 observations).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import warnings
from pathlib import Path
from typing import Any, Iterator

import gymnasium as gym
import numpy as np

from .dataset import DatasetError, OfflineDataset

_MARKER = "drlkit-metadata:"
_ENV_LOCK = threading.Lock()


@contextlib.contextmanager
def _root(root: str | os.PathLike | None) -> Iterator[Path]:
    """Use ``root`` as MINARI_DATASETS_PATH for the duration of the block (thread-safe)."""
    with _ENV_LOCK:
        old = os.environ.get("MINARI_DATASETS_PATH")
        if root is not None:
            os.environ["MINARI_DATASETS_PATH"] = str(Path(root).resolve())
        try:
            path = Path(os.environ.get("MINARI_DATASETS_PATH", Path.home() / ".minari" / "datasets"))
            yield path
        finally:
            if root is not None:
                if old is None:
                    os.environ.pop("MINARI_DATASETS_PATH", None)
                else:
                    os.environ["MINARI_DATASETS_PATH"] = old


def save_dataset(
    data: OfflineDataset,
    dataset_id: str,
    *,
    root: str | os.PathLike | None = None,
    ref_min_score: float | None = None,
    ref_max_score: float | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``data`` as the Minari dataset ``dataset_id`` (``namespace/env/name-vN``); returns its directory.

    ``ref_min_score``/``ref_max_score`` (random and expert returns) are stored for
    normalised scores (:func:`drlkit.offline.normalized_score`); give both or neither.
    """
    import minari
    from minari.data_collector import EpisodeBuffer

    if not isinstance(data, OfflineDataset):
        raise TypeError(f"data must be an OfflineDataset, got {type(data).__name__}")
    if not isinstance(dataset_id, str) or "-v" not in dataset_id:
        raise ValueError(
            f"dataset_id must look like 'namespace/env/name-v0' (Minari ids end in -v<version>); got {dataset_id!r}"
        )
    if (ref_min_score is None) != (ref_max_score is None):
        raise ValueError("give both ref_min_score and ref_max_score (random and expert returns) or neither")
    buffers = []
    for i, episode in enumerate(data.episodes()):
        obs, nxt = data.observations[episode], data.next_observations[episode]
        if not np.array_equal(obs[1:], nxt[:-1]):
            raise DatasetError(
                f"episode {i}: next_observations[t] != observations[t+1] inside the episode; Minari "
                "stores one observation sequence per episode, so such data cannot be stored"
            )
        buffers.append(
            EpisodeBuffer(
                id=i,
                seed=None,
                observations=np.concatenate([obs, nxt[-1:]]),
                actions=data.actions[episode],
                rewards=data.rewards[episode],
                terminations=data.terminations[episode],
                truncations=data.truncations[episode],
                infos={},
            )
        )
    meta = {k: v for k, v in data.metadata.items()}
    description = f"Offline RL dataset made with drlkit.\n{_MARKER}{json.dumps(meta, default=_json_default)}"
    with _root(root) as base:
        target = base / dataset_id
        if target.exists():
            if not overwrite:
                raise FileExistsError(
                    f"a dataset {dataset_id!r} already exists in {base}; pass overwrite=True to replace it"
                )
            import shutil

            shutil.rmtree(target)
        scores = {}
        if ref_min_score is not None and ref_max_score is not None:
            scores = {"ref_min_score": float(ref_min_score), "ref_max_score": float(ref_max_score)}
        env_id = meta.get("env_id")
        with warnings.catch_warnings():  # Minari asks for author/e-mail/code links, which a local dataset lacks
            warnings.simplefilter("ignore", UserWarning)
            minari.create_dataset_from_buffers(
                dataset_id,
                buffers,
                env=env_id if env_id in gym.registry else None,
                observation_space=data.observation_space,
                action_space=data.action_space,
                algorithm_name=str(meta.get("policy", "unknown")),
                author="drlkit",
                description=description,
                **scores,
            )
    return target


def load_dataset(dataset_id: str, *, root: str | os.PathLike | None = None) -> OfflineDataset:
    """Read the Minari dataset ``dataset_id`` from local storage into an :class:`OfflineDataset`."""
    from minari.dataset.minari_dataset import MinariDataset

    with _root(root) as base:
        path = base / dataset_id / "data"
    if not path.exists():
        raise FileNotFoundError(
            f"no Minari dataset {dataset_id!r} in {base} (nothing is downloaded); "
            f"save one with drlkit.offline.save_dataset"
        )
    return from_minari(MinariDataset(str(path)))


def from_minari(dataset: Any) -> OfflineDataset:
    """Convert a loaded ``minari.MinariDataset`` (any Minari dataset with flat spaces)."""
    obs, nxt, acts, rews, terms, truncs = [], [], [], [], [], []
    for episode in dataset.iterate_episodes():
        o = np.asarray(episode.observations, dtype=np.float32)
        if len(o) != len(episode.rewards) + 1:
            raise DatasetError(
                f"episode {episode.id} has {len(o)} observations for {len(episode.rewards)} steps; "
                "Minari episodes hold T+1 observations"
            )
        obs.append(o[:-1])
        nxt.append(o[1:])
        acts.append(np.asarray(episode.actions))
        rews.append(np.asarray(episode.rewards))
        terms.append(np.asarray(episode.terminations))
        truncs.append(np.asarray(episode.truncations))
    if not obs:
        raise DatasetError(f"Minari dataset {dataset.spec.dataset_id!r} has no episodes")
    metadata = _read_metadata(dataset)
    return OfflineDataset(
        np.concatenate(obs),
        np.concatenate(acts),
        np.concatenate(rews),
        np.concatenate(nxt),
        np.concatenate(terms),
        np.concatenate(truncs),
        dataset.observation_space,
        dataset.action_space,
        metadata,
    )


def _read_metadata(dataset: Any) -> dict[str, Any]:
    stored = dataset.storage.metadata
    text = stored.get("description") or ""
    metadata: dict[str, Any] = {}
    if _MARKER in text:
        metadata = json.loads(text.split(_MARKER, 1)[1])
    for key in ("ref_min_score", "ref_max_score"):
        if stored.get(key) is not None:
            metadata[key] = float(stored[key])
    metadata["dataset_id"] = stored.get("dataset_id")
    return metadata


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
