"""Train the CartPole-v1 behaviour policies shipped with drlkit.offline (medium and expert DQN).

    .venv/bin/python scripts/make_offline_experts.py

Writes ``drlkit/offline/experts/cartpole_dqn_{medium,expert}.pt`` (drlkit checkpoints without
their replay buffer, a few tens of kB each). Medium: the first checkpoint whose greedy return over
20 episodes lies in [100, 250]; expert: the first whose return is 500 (the maximum).
"""

from __future__ import annotations

from pathlib import Path

import drlkit
from drlkit.agents.replay import ReplayBuffer

OUT = Path(__file__).resolve().parents[1] / "drlkit" / "offline" / "experts"


def save_light(agent: drlkit.DQN, path: Path) -> None:
    replay = agent.replay
    agent.replay = ReplayBuffer(agent.config.buffer_size, replay.obs_dim)  # empty: the file stays small
    agent.save(path)
    agent.replay = replay


def main() -> None:
    agent = drlkit.DQN("CartPole-v1", seed=0)
    medium_saved = False
    while agent.total_steps < 60_000:
        agent.train(1_000)
        score = agent.evaluate(20, seed=123).mean()
        print(agent.total_steps, score, flush=True)
        if not medium_saved and 100 <= score <= 250:
            save_light(agent, OUT / "cartpole_dqn_medium.pt")
            medium_saved = True
        if medium_saved and score >= 500:
            save_light(agent, OUT / "cartpole_dqn_expert.pt")
            return
    raise SystemExit("no expert within 60k steps")


if __name__ == "__main__":
    main()
