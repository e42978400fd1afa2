"""drlkit's plain UCT against OpenSpiel's Python MCTSBot on Connect Four (bench extra).

Both searches use the same number of simulations, one random rollout per leaf
and the same exploration constant; measured in the same run:

* simulations per second of each, from the empty board and from mid-game positions;
* their head-to-head result (colours alternate), which should be ~50 % for equal strength;
* AlphaZero self-play games/s on Connect Four: in this process, and through
  ``drlkit.distributed.train(mode="rollouts")`` with 1 and 2 workers of a local cluster
  (workers play, the driver learns; the ratio 2 workers / 1 worker is the speed-up).

    .venv/bin/python benchmarks/mcts.py --simulations 400 --games 10
    .venv/bin/python benchmarks/mcts.py --self-play-only --az-simulations 50 --az-games 192
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

# This folder holds a distributed.py of its own: keep it from shadowing Dask's package.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--simulations", type=int, default=400)
    ap.add_argument("--games", type=int, default=10)
    ap.add_argument("--uct-c", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--az-simulations", type=int, default=50, help="AlphaZero simulations per move")
    ap.add_argument("--az-games", type=int, default=192, help="self-play games per measurement")
    ap.add_argument("--self-play-only", action="store_true", help="skip the OpenSpiel comparison")
    args = ap.parse_args()
    if args.self_play_only:
        self_play(args)
        return
    try:
        import pyspiel
        from open_spiel.python.algorithms import mcts
    except ImportError as exc:  # pragma: no cover - optional extra
        raise SystemExit("needs the bench extra: pip install -c constraints.txt open_spiel") from exc

    from drlkit.envs.games import ConnectFour
    from drlkit.search import UCT

    game = ConnectFour()
    spiel_game = pyspiel.load_game("connect_four")
    rng = np.random.RandomState(args.seed)

    def spiel_bot(seed):
        ev = mcts.RandomRolloutEvaluator(n_rollouts=1, random_state=np.random.RandomState(seed))
        return mcts.MCTSBot(
            spiel_game, args.uct_c, args.simulations, ev, solve=False, random_state=np.random.RandomState(seed)
        )

    # simulations per second over the moves of a few random openings
    ours_t = theirs_t = 0.0
    n_pos = 5
    for k in range(n_pos):
        s, ss = game.initial_state(), spiel_game.new_initial_state()
        for _ in range(2 * k):
            a = int(rng.choice(game.legal_actions(s)))
            s = game.next_state(s, a)
            ss.apply_action(a)
        uct = UCT(game, args.simulations, c=args.uct_c, seed=k)
        t = time.perf_counter()
        uct.search(s)
        ours_t += time.perf_counter() - t
        bot = spiel_bot(k)
        t = time.perf_counter()
        bot.step(ss)
        theirs_t += time.perf_counter() - t
    ours_sps = n_pos * args.simulations / ours_t
    theirs_sps = n_pos * args.simulations / theirs_t

    # head to head, colours alternating
    score = 0.0
    for g in range(args.games):
        ours = UCT(game, args.simulations, c=args.uct_c, seed=100 + g)
        theirs = spiel_bot(100 + g)
        ours_side = 1 if g % 2 == 0 else -1
        s, ss = game.initial_state(), spiel_game.new_initial_state()
        while game.winner(s) is None:
            a = ours.act(s) if s.player == ours_side else int(theirs.step(ss))
            s = game.next_state(s, a)
            ss.apply_action(a)
        w = game.winner(s)
        score += 1.0 if w == ours_side else 0.5 if w == 0 else 0.0

    print(f"Connect Four, {args.simulations} simulations/move, uct_c={args.uct_c}, random rollouts")
    print(f"drlkit UCT          : {ours_sps:9.0f} simulations/s")
    print(f"OpenSpiel MCTSBot   : {theirs_sps:9.0f} simulations/s")
    print(f"speed ratio         : {ours_sps / theirs_sps:9.2f}x  (target >= 2x)")
    print(f"drlkit score vs OpenSpiel over {args.games} games: {100 * score / args.games:.0f} % (draw = 1/2)")

    self_play(args)


def self_play(args: argparse.Namespace) -> None:
    """Self-play games/s of AlphaZero on Connect Four: local, then 1 and 2 Dask workers."""
    import torch

    import drlkit
    from drlkit.search import AlphaZero, AlphaZeroConfig

    torch.set_num_threads(1)  # as each Dask worker: one thread per process on a small shared machine
    per_batch = 16
    config = AlphaZeroConfig(simulations=args.az_simulations, games_per_iteration=per_batch, eval_interval=0)
    az = AlphaZero("connect4", config, seed=args.seed)
    t = time.perf_counter()
    while az.games < args.az_games:
        az.learn_from(az.collect(1))
    local = az.games / (time.perf_counter() - t)
    rates = {}
    with drlkit.cluster(n_workers=2) as client:
        for n in (1, 2):
            az = AlphaZero("connect4", config, seed=args.seed)
            # about 20 moves per game early in training; the run stops after the fragment that passes the budget
            result = drlkit.distributed.train(
                az, mode="rollouts", n_workers=n, client=client, total_steps=20 * args.az_games
            )
            rates[n] = az.games / result.wall_time
    print(f"AlphaZero self-play, Connect Four, {args.az_simulations} simulations/move, {per_batch} games per batch")
    print(f"in this process     : {local:6.2f} games/s (self-play + learning)")
    print(f"rollouts, 1 worker  : {rates[1]:6.2f} games/s")
    print(f"rollouts, 2 workers : {rates[2]:6.2f} games/s  ({rates[2] / rates[1]:.2f}x of 1 worker)")


if __name__ == "__main__":
    main()
