"""The multi-agent learners on Dask through the one engine: drlkit.distributed.train, sync and async."""

from __future__ import annotations

import numpy as np
import pytest

import drlkit
from drlkit.multiagent import MAPPO

from agent_tools import one_thread  # noqa: F401  (autouse fixture)

pytestmark = pytest.mark.cluster

SMALL = dict(
    env_kwargs=dict(n_agents=2, size=4, max_steps=10), num_envs=2, n_steps=10, batch_size=20, hidden_sizes=(16,)
)


@pytest.fixture(scope="module")
def client():
    with drlkit.cluster(n_workers=2, quiet=True) as dask_client:
        yield dask_client


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_mappo_trains_on_workers_unchanged(client, mode):
    """Workers rebuild MAPPO from its spec, collect multi-agent fragments; the shared parameters move."""
    team = MAPPO("coop_grid", seed=0, **SMALL)
    before = team.get_parameters()
    result = drlkit.distributed.train(team, mode, total_steps=400, client=client)
    assert result.agent is team and team.total_steps >= 400
    assert len(result.episodes) >= 10 and {e["worker"] for e in result.episodes} and result.rows
    returns = np.array([e["episode_return"] for e in result.episodes])
    assert np.isfinite(returns).all()
    # The workers' reports carry each episode's per-agent returns into the History; they add up to the team's.
    episodes = team.history.to_frame().query("event == 'episode'")
    per_agent = episodes[["return_agent_0", "return_agent_1"]].to_numpy()
    assert len(episodes) == len(result.episodes) and np.isfinite(per_agent).all()
    np.testing.assert_allclose(per_agent.sum(1), episodes.episode_return.to_numpy())
    moved = [k for k, v in team.get_parameters().items() if not np.array_equal(v, before[k])]
    assert any(k.startswith("policy.") for k in moved) and any(k.startswith("value.") for k in moved)
    # The trained team still acts on the env's own observations.
    obs, _ = drlkit.multiagent.make_parallel_env("coop_grid", SMALL["env_kwargs"]).reset(seed=1)
    assert set(team.act(obs)) == {"agent_0", "agent_1"}
