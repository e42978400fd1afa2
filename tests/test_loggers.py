"""Experiment logging callbacks: the files written while training runs hold exactly the agent's History."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import drlkit
from drlkit.loggers import CSVLogger, TensorBoardLogger


def _assert_csv_is_history(path, agent):
    csv = pd.read_csv(path)
    frame = agent.history.to_frame()
    assert list(csv.columns) == list(frame.columns)
    assert len(csv) == len(frame)
    assert (csv.event == frame.event).all() and (csv.step == frame.step).all()
    for column in frame.columns[3:]:
        np.testing.assert_allclose(csv[column].to_numpy(float), frame[column].to_numpy(float), equal_nan=True)


def test_csv_logger_writes_the_history_while_training(tmp_path):
    path = tmp_path / "run" / "history.csv"
    logger = CSVLogger(path, flush_every=0)
    seen = []

    def watch(agent):  # runs after the logger: the file already holds every row so far
        seen.append((len(pd.read_csv(path)), len(agent.history)))

    agent = drlkit.A2C("CartPole-v1", seed=0)
    agent.train(600, callbacks=[logger, watch])
    agent.train(300, callbacks=[logger, watch])  # a continued run appends to the same file
    logger.close()
    assert len(seen) > 5 and all(rows == total for rows, total in seen)
    assert seen[0][0] < seen[-1][0]
    _assert_csv_is_history(path, agent)


def test_csv_logger_rejects_a_bad_path():
    with pytest.raises(TypeError, match="path must be a file path"):
        CSVLogger(3)
    with pytest.raises(ValueError, match="flush_every"):
        CSVLogger("x.csv", flush_every=-1)


@pytest.mark.cluster
def test_csv_logger_in_distributed_training(tmp_path):
    agent = drlkit.PPO("CartPole-v1", seed=0)
    with drlkit.cluster(n_workers=2, quiet=True) as client:
        with CSVLogger(tmp_path / "history.csv", flush_every=0) as logger:
            result = drlkit.distributed.train(agent, mode="async", total_steps=3000, client=client, callbacks=logger)
    _assert_csv_is_history(tmp_path / "history.csv", agent)
    csv = pd.read_csv(tmp_path / "history.csv")
    assert (csv.event == "update").sum() == result.counts()["applied"] > 1


def test_tensorboard_logger_scalars_match_the_history(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    agent = drlkit.PPO("CartPole-v1", seed=0, n_steps=128, num_envs=2)
    with TensorBoardLogger(tmp_path / "tb") as logger:
        agent.train(1000, callbacks=logger)
    reader = event_accumulator.EventAccumulator(str(tmp_path / "tb"), size_guidance={"scalars": 0})
    reader.Reload()
    tags = set(reader.Tags()["scalars"])
    assert {"episode_return", "episode_length", *agent.LOG_KEYS} <= tags
    returns = reader.Scalars("episode_return")
    np.testing.assert_allclose([e.value for e in returns], agent.history.episode_returns, rtol=1e-6)
    assert [e.step for e in returns] == list(agent.history.episode_steps)
    losses = reader.Scalars("policy_loss")
    np.testing.assert_allclose([e.value for e in losses], agent.history.updates("policy_loss"), rtol=1e-5)
