"""AlphaZero-style self-play: config errors, targets and loss against hand computations, search against
drlkit's PUCT, distributed self-play that survives a killed worker, and learning: it beats plain UCT with the same
simulations at Connect Four and never loses to the exact tic-tac-toe solver."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import torch

import drlkit
from drlkit.distributed import DistributedResult, train
from drlkit.envs.games import ConnectFour, TicTacToe
from drlkit.search import PUCT, AlphaZero, AlphaZeroConfig, Solver

from agent_tools import one_thread  # noqa: F401  (autouse fixture)
from dask_processes import cluster_with_client

TINY = dict(simulations=8, games_per_iteration=4, batch_size=16, gradient_steps=2, eval_interval=0, hidden_sizes=(32,))


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(simulations=0), "simulations"),
        (dict(games_per_iteration=-1), "games_per_iteration"),
        (dict(c_puct=-1.0), "c_puct"),
        (dict(dirichlet_alpha=0.0), "dirichlet_alpha"),
        (dict(dirichlet_eps=1.5), "dirichlet_eps"),
        (dict(temperature_moves=-2), "temperature_moves"),
        (dict(replay_games=0), "replay_games"),
        (dict(batch_size=2.5), "batch_size"),
        (dict(gradient_steps=0), "gradient_steps"),
        (dict(l2=-1e-4), "l2"),
        (dict(eval_interval=-1), "eval_interval"),
        (dict(eval_games=0), "eval_games"),
        (dict(eval_simulations=0), "eval_simulations"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(gamma=1.2), "gamma"),
        (dict(hidden_sizes=()), "hidden_sizes"),
    ],
)
def test_config_errors_name_the_field(kwargs, field):
    with pytest.raises((ValueError, TypeError), match=field):
        AlphaZeroConfig(**kwargs)
    with pytest.raises((ValueError, TypeError), match=field):
        AlphaZero("tictactoe", **kwargs)


def test_bad_game_config_and_arguments_are_named():
    with pytest.raises(ValueError, match="game must be one of 'tictactoe', 'connect_four'"):
        AlphaZero("chess")
    with pytest.raises(TypeError, match="config must be an AlphaZeroConfig"):
        AlphaZero("tictactoe", config=3)
    with pytest.raises(TypeError, match="did you mean 'simulations'"):
        AlphaZero("tictactoe", simulation=10)
    az = AlphaZero("connect4", AlphaZeroConfig(**TINY), seed=0)  # the alias of connect_four
    assert az.game.name == "connect_four" and az.config.simulations == 8
    with pytest.raises(ValueError, match="opponent must be one of"):
        az.evaluate("minimax")
    with pytest.raises(ValueError, match="n_games"):
        az.evaluate("random", n_games=0)
    with pytest.raises(ValueError, match="the game is over"):
        AlphaZero("tictactoe", **TINY).act(TicTacToe().from_board([[1, 1, 1], [-1, -1, 0], [0, 0, 0]]))
    with pytest.raises(ValueError, match="floats"):
        az.act(np.vstack([np.zeros((4, 7)), [[1, 0, 0, 0, 0, 0, 0]], np.zeros((1, 7))]))
    with pytest.raises(ValueError, match="n_steps"):
        az.collect(0)


def test_self_play_targets_are_the_discounted_outcome_and_visit_distributions():
    gamma = 0.9
    az = AlphaZero("tictactoe", seed=1, **{**TINY, "gamma": gamma})
    fragment = az.collect(1)
    d = fragment.data
    assert d["game_lengths"].sum() == fragment.n_steps == len(d["values"]) == len(d["boards"])
    assert fragment.episode_lengths == d["game_lengths"].tolist()
    start = 0
    for length, winner in zip(d["game_lengths"], fragment.episode_returns):
        for t in range(length):
            board, pi, z = d["boards"][start + t], d["policies"][start + t], d["values"][start + t]
            player = 1 if t % 2 == 0 else -1  # X moves first
            assert z == pytest.approx(winner * player * gamma ** (length - 1 - t))
            # canonical: plane 0 the mover's stones, plane 1 the opponent's; X has as many stones as O or one more
            assert board[0].sum() == board[1].sum() - (t % 2) and board.sum() == t
            occupied = board.sum(0).reshape(-1) > 0
            assert pi.sum() == pytest.approx(1.0) and (pi[occupied] == 0).all()
            np.testing.assert_allclose(pi * TINY["simulations"], np.round(pi * TINY["simulations"]), atol=1e-5)
        # a draw only on a full board
        assert winner != 0 or length == 9
        start += length


def test_loss_matches_a_hand_computation_and_decreases_on_fixed_games():
    az = AlphaZero(
        "tictactoe",
        seed=0,
        **{**TINY, "l2": 1e-3, "learning_rate": 1e-2, "gradient_steps": 8, "hidden_sizes": (64,), "batch_size": 64},
    )
    boards = torch.zeros(2, 2, 3, 3)
    boards[0, 0, 1, 1] = 1  # X in the centre, O to move: its stones are plane 1
    policies = torch.tensor([[0.5, 0, 0.5, 0, 0, 0, 0, 0, 0], [1.0, 0, 0, 0, 0, 0, 0, 0, 0]])
    values = torch.tensor([-1.0, 0.5])
    with torch.no_grad():
        terms = az.loss(boards, policies, values)
        logits, v = az.net(boards)
        log_p = logits.numpy() - np.log(np.exp(logits.numpy()).sum(1, keepdims=True))
    expected_policy = -(policies.numpy() * log_p).sum(1).mean()
    expected_value = ((values.numpy() - v.numpy()) ** 2).mean()
    expected_l2 = 1e-3 * sum(float((p.detach().numpy().astype(np.float64) ** 2).sum()) for p in az.net.parameters())
    assert float(terms["policy_loss"]) == pytest.approx(expected_policy, rel=1e-5)
    assert float(terms["value_loss"]) == pytest.approx(expected_value, rel=1e-5)
    assert float(terms["l2"]) == pytest.approx(expected_l2, rel=1e-4)
    assert float(terms["total"]) == pytest.approx(expected_policy + expected_value + expected_l2, rel=1e-5)

    # Learning from the same games again and again: the value loss falls and the policy's cross-entropy
    # approaches its floor, the entropy of the visit distributions (which no network can go below).
    fragment = AlphaZero("tictactoe", seed=5, **TINY).collect(60)
    data = [torch.as_tensor(fragment.data[k], dtype=torch.float32) for k in ("boards", "policies", "values")]
    entropy = float(-(data[1] * torch.log(data[1].clamp_min(1e-12))).sum(1).mean())
    with torch.no_grad():
        before = az.loss(*data)
    for _ in range(40):
        last = az.learn_from(fragment)
    with torch.no_grad():
        after = az.loss(*data)
    assert float(after["value_loss"]) < 0.75 * float(before["value_loss"])
    assert float(after["policy_loss"]) - entropy < 0.5 * (float(before["policy_loss"]) - entropy)
    assert last["games"] == 40 * len(fragment.episode_lengths)
    assert np.isnan(last["win_rate_vs_uct"])  # eval_interval=0: never evaluated


@pytest.mark.parametrize("game", [TicTacToe(), ConnectFour()])
def test_symmetries_move_the_policy_with_the_board(game):
    az = AlphaZero(game, seed=0, **TINY)
    rng = np.random.default_rng(0)
    n = 64
    actions = rng.integers(game.n_actions, size=n)
    boards = np.zeros((n, 2, game.rows, game.cols), np.int8)
    for i, a in enumerate(actions):  # a marker stone where the policy's mass is (bottom row for Connect Four)
        r, c = (game.rows - 1, a) if game.gravity else divmod(a, game.cols)
        boards[i, 0, r, c] = 1
    policies = np.eye(game.n_actions, dtype=np.float32)[actions]
    b, p = az._symmetry(boards, policies)
    moved = 0
    for i in range(n):
        r, c = np.argwhere(b[i, 0])[0]
        assert np.argmax(p[i]) == (c if game.gravity else r * game.cols + c)
        assert b[i].sum() == 1 and p[i].sum() == 1
        moved += np.argmax(p[i]) != actions[i]
    assert moved > n // 4  # the symmetries are applied, not only the identity


@pytest.mark.parametrize("game", ["tictactoe", "connect_four"])
def test_batched_search_visits_exactly_as_drlkit_puct_with_the_same_network(game):
    az = AlphaZero(game, seed=3, **TINY)
    az.train(60)  # some training, so priors and values are not uniform

    def evaluate(boards):
        with torch.no_grad():
            logits, v = az.net(torch.as_tensor(boards))
        return torch.softmax(logits, 1).double().numpy(), v.numpy()

    puct = PUCT(game, evaluate=evaluate, n_simulations=60, c_puct=az.config.c_puct)
    state = az.game.initial_state()
    for a in [0, 4] if game == "tictactoe" else [3, 3, 2]:
        state = az.game.next_state(state, a)
    stats = az.search(state, simulations=60)
    np.testing.assert_array_equal(stats.counts, puct.search(state))
    w = puct.root.W
    np.testing.assert_allclose(stats.values, np.where(puct.root.N > 0, w / np.maximum(puct.root.N, 1), np.nan))


def test_act_finds_an_immediate_win_and_a_forced_block_untrained():
    az = AlphaZero("tictactoe", seed=0, **{**TINY, "simulations": 200})
    solver = Solver()
    win = az.game.from_board([[1, 1, 0], [-1, -1, 0], [0, 0, 0]])
    assert az.act(win) == 2
    block = az.game.from_board([[1, 1, 0], [0, -1, 0], [0, 0, 0]])
    assert az.act(block) in solver.optimal_actions(block) == [2]


def test_evaluate_reports_rates_and_does_not_touch_training_rngs():
    az = AlphaZero("tictactoe", seed=0, **TINY)
    state = az.np_rng.bit_generator.state
    result = az.evaluate("random", n_games=6)
    assert set(result) == {"win", "draw", "loss", "n_games"} and result["n_games"] == 6
    assert result["win"] + result["draw"] + result["loss"] == pytest.approx(1.0)
    assert az.np_rng.bit_generator.state == state
    assert az.evaluate("random", n_games=6) == result  # same seed, same games


# ------------------------------------------------------------------ distributed self-play
@pytest.mark.cluster
@pytest.mark.slow
def test_distributed_self_play_survives_a_killed_worker_and_loses_no_update(tmp_path):
    config = dict(TINY, games_per_iteration=8, simulations=16)
    with cluster_with_client(tmp_path, n_workers=2, nanny=True) as (cl, client):
        client.wait_for_workers(2, timeout=60)
        az = AlphaZero("tictactoe", seed=0, **config)
        killed = {}

        def kill_the_other_worker(result: DistributedResult):
            if result.updates == 3 and not killed:  # the worker that just reported is idle, the other busy
                pids = client.run(os.getpid)
                victim = next(address for address in pids if address != result.rows[-1]["address"])
                os.kill(pids[victim], signal.SIGKILL)
                killed["address"] = victim

        result = train(
            az, "rollouts", n_workers=2, total_steps=8 * 8 * 7, client=client, on_update=kill_the_other_worker
        )
    frame = result.to_frame()
    counts = result.counts()
    assert killed and counts["submitted"] == len(frame) == sum(
        counts[k] for k in ("applied", "dropped", "cancelled", "lost")
    )
    assert (frame.moved | (frame.status == "lost")).sum() >= 1  # the killed task was run again
    applied = frame[frame.status == "applied"]
    # every applied fragment is one update, in order, and its games are all in the learner's count
    assert applied.updates.tolist() == list(range(1, result.updates + 1)) and az.updates == result.updates
    assert az.games == applied.n_episodes.sum() == 8 * result.updates
    assert az.total_steps == frame.env_steps.sum() == result.env_steps >= 8 * 8 * 7
    history = az.history.to_frame()
    assert (history.event == "update").sum() == result.updates
    assert history[history.event == "update"].games.tolist() == [8.0 * k for k in range(1, result.updates + 1)]
    assert len(az.replay) == min(8 * result.updates, az.config.replay_games)


# ------------------------------------------------------------------ learning
@pytest.mark.slow
def test_self_play_beats_plain_uct_with_the_same_simulations_at_connect_four():
    """About 500 self-play games (about 30 s on two idle cores, several times that on a loaded machine)."""
    sims = 50
    config = AlphaZeroConfig(
        simulations=sims, games_per_iteration=32, gradient_steps=16, learning_rate=3e-3, eval_interval=0
    )
    az = AlphaZero("connect4", config, seed=0)
    untrained = az.evaluate("uct", simulations=sims, n_games=20, seed=1)
    az.train(C4_STEPS)
    result = az.evaluate("uct", simulations=sims, n_games=20, seed=1)
    assert result["win"] >= 0.8, (untrained, result, az.games)


@pytest.mark.slow
def test_self_play_never_loses_to_the_exact_tictactoe_solver():
    az = AlphaZero("tictactoe", AlphaZeroConfig(simulations=25, eval_interval=0), seed=0)
    az.train(TTT_STEPS)
    result = az.evaluate("solver", n_games=20, seed=1)
    assert result["loss"] == 0.0, result
    assert az.evaluate("random", n_games=20, seed=1)["loss"] == 0.0


def test_saved_agent_loads_with_weights_only_and_plays_alike(tmp_path):
    az = AlphaZero("tictactoe", seed=0, **TINY)
    az.train(40)
    loaded = drlkit.load(az.save(tmp_path / "az.pt"))
    assert isinstance(loaded, AlphaZero) and loaded.games == az.games and len(loaded.replay) == len(az.replay)
    state = az.game.initial_state()
    np.testing.assert_array_equal(loaded.search(state).counts, az.search(state).counts)


TTT_STEPS = 8_000
C4_STEPS = 9_000
