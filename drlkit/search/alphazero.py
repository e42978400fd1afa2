r"""AlphaZero-style self-play: a policy-value network trained on the games PUCT plays against itself.

Silver et al. (2017), "Mastering the game of Go without human knowledge" (AlphaGo Zero);
Silver et al. (2018), "A general reinforcement learning algorithm that masters chess, shogi
and Go through self-play" (AlphaZero).

One network ``f_θ(s) = (p, v)`` reads the canonical board ``s`` (``(2, rows, cols)``: the
mover's stones, the opponent's) and returns move probabilities ``p (n_actions,)`` and a value
``v`` in [-1, 1] for the player to move. Training alternates two steps:

1. **Self-play.** Every move of a game is chosen by a PUCT search
   (:mod:`drlkit.search.puct`) guided by ``f_θ``: ``simulations`` descents maximising
   ``Q(s, a) + c_puct P(s, a) sqrt(Σ_b N(s, b)) / (1 + N(s, a))``, with Dirichlet noise
   ``P <- (1 - ε) P + ε Dir(α)`` on the root's priors. The visit counts give the search
   policy ``π(a) = N(root, a) / Σ_b N(root, b)``; the move is sampled from ``π`` for the
   first ``temperature_moves`` moves (temperature 1, for variety), then the most visited one.
   Each position is stored as ``(s_t, π_t, z_t)`` with ``z_t = γ^(T-1-t) · (+1 win, 0 draw,
   -1 loss)`` for the player who moved at ``t`` in a game of ``T`` moves (``γ = 1``: AlphaZero).

2. **Learning.** On minibatches from a replay of the most recent ``replay_games`` games (with
   the board's symmetries: Connect Four's left-right mirror, tic-tac-toe's eight),

   .. math:: \ell(θ) = \underbrace{-π^\top \log p}_{\text{policy loss}}
                     + \underbrace{(z - v)^2}_{\text{value loss}} + c\,\lVert θ \rVert^2 .

A better ``f_θ`` makes a stronger search, whose visit counts are better targets for ``p``:
policy iteration with search as the improvement operator.

Batching: the ``games_per_iteration`` games of an iteration are played in lockstep; each
simulation step descends every game's tree to a leaf and evaluates all those leaves in one
forward pass ``(B, 2, rows, cols) -> (B, n_actions), (B,)``, so the network is called once
per simulation for all games instead of once per game. The trees themselves are exactly the
sequential PUCT trees of each game.

Distributed (``drlkit.distributed.train(az, mode="rollouts", ...)``): :meth:`AlphaZero.collect`
is the self-play step (it runs on Dask workers with the newest parameters, sent once per
version), :meth:`AlphaZero.learn_from` the learning step (on the driver, which holds the
replay). An env step is one move; a fragment is a batch of finished games.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from .._checks import check_choice, check_number
from ..agents.base import ACTIVATIONS, Agent, AgentConfig, Fragment, Timer
from ..agents.history import History
from ..envs.games import Game, GameState, make_game
from .puct import visit_policy
from .solver import Solver
from .uct import UCT

__all__ = ["AlphaZero", "AlphaZeroConfig", "PolicyValueNet", "SearchStats"]

OPPONENTS = ("random", "uct", "solver")


@dataclass
class AlphaZeroConfig(AgentConfig):
    """Hyperparameters of :class:`AlphaZero` (validated when made)."""

    #: Adam step size, in (0, 1].
    learning_rate: float = 2e-3
    #: Discount γ of the outcome per move, in [0, 1]: the target is γ^(moves left - 1) · z (1: AlphaZero).
    gamma: float = 1.0
    #: Widths of the network's hidden layers, each >= 1 (shared trunk of the policy and value heads).
    hidden_sizes: tuple[int, ...] = (128, 128)
    #: Activation of the trunk: ``"tanh"``, ``"relu"`` or ``"elu"``.
    activation: str = "relu"
    #: Gradients are rescaled to global L2 norm at most this (> 0); ``None``: no clipping.
    max_grad_norm: float | None = 5.0
    #: PUCT simulations per move in self-play and in act / evaluate, >= 1.
    simulations: int = 50
    #: Self-play games per iteration (one learner update), played in lockstep, >= 1.
    games_per_iteration: int = 16
    #: Exploration weight c_puct of PUCT, >= 0.
    c_puct: float = 1.5
    #: Concentration α of the Dirichlet noise on the root's priors in self-play, > 0.
    dirichlet_alpha: float = 1.0
    #: Weight ε of that noise, in [0, 1] (0: no noise).
    dirichlet_eps: float = 0.25
    #: Moves at the start of a self-play game sampled with temperature 1 (then greedy), >= 0.
    temperature_moves: int = 8
    #: Most recent games kept in the replay on the learner, >= 1.
    replay_games: int = 400
    #: Positions per minibatch, >= 1.
    batch_size: int = 128
    #: Minibatch gradient steps per update (per batch of games), >= 1.
    gradient_steps: int = 8
    #: L2 weight c of the parameters in the loss, >= 0.
    l2: float = 1e-4
    #: Updates between evaluations against random and UCT (win-rate columns), >= 0 (0: never).
    eval_interval: int = 10
    #: Games per evaluation (colours alternate), >= 1.
    eval_games: int = 10
    #: Simulations of the plain UCT opponent in those evaluations, >= 1.
    eval_simulations: int = 50

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        super().validate()
        for name in (
            "simulations",
            "games_per_iteration",
            "replay_games",
            "batch_size",
            "gradient_steps",
            "eval_games",
            "eval_simulations",
        ):
            setattr(self, name, check_number(name, getattr(self, name), low=1, integer=True))
        for name in ("temperature_moves", "eval_interval"):
            setattr(self, name, check_number(name, getattr(self, name), low=0, integer=True))
        self.c_puct = check_number("c_puct", self.c_puct, low=0)
        self.dirichlet_alpha = check_number("dirichlet_alpha", self.dirichlet_alpha, low=0, low_open=True)
        self.dirichlet_eps = check_number("dirichlet_eps", self.dirichlet_eps, low=0, high=1)
        self.l2 = check_number("l2", self.l2, low=0)


class PolicyValueNet(nn.Module):
    """``(B, 2, rows, cols)`` boards -> move logits ``(B, n_actions)`` and values ``(B,)`` in [-1, 1]."""

    def __init__(self, board_shape: tuple[int, int], n_actions: int, hidden_sizes: Sequence[int], activation: str):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = 2 * board_shape[0] * board_shape[1]
        for h in hidden_sizes:
            layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            width = h
        self.trunk = nn.Sequential(*layers)
        self.policy = nn.Linear(width, n_actions)
        self.value = nn.Linear(width, 1)

    def forward(self, boards: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(boards)
        return self.policy(h), torch.tanh(self.value(h)).squeeze(-1)


class Node:
    """One expanded position: the edge statistics ``P, N, W`` of :class:`~drlkit.search.puct.PUCTNode`
    (length ``n_actions``) in Python lists, which select several times faster than numpy at this size."""

    __slots__ = ("state", "P", "N", "W", "legal", "children", "terminal")

    def __init__(self, state: GameState, priors: list[float], legal: list[bool], terminal: float | None) -> None:
        self.state, self.P, self.legal, self.terminal = state, priors, legal, terminal
        self.N, self.W = [0] * len(priors), [0.0] * len(priors)
        self.children: dict[int, Node] = {}

    def select(self, c_puct: float) -> int:
        """The legal ``argmax_a Q + c_puct P sqrt(sum N) / (1 + N)`` (ties: lowest index), computed in
        the order of :func:`~drlkit.search.puct.puct_scores`, so both searches pick the same edges."""
        sq = math.sqrt(sum(self.N))
        best, best_score = -1, -math.inf
        for a, ok in enumerate(self.legal):
            if ok:
                n = self.N[a]
                score = (self.W[a] / n if n else 0.0) + c_puct * self.P[a] * sq / (1.0 + n)
                if score > best_score:
                    best, best_score = a, score
        return best


class SearchStats(NamedTuple):
    """Root statistics of one search: visit ``counts`` ``(n_actions,)`` and mean values ``Q``
    ``(n_actions,)`` for the player to move (``nan`` where unvisited), as ``UCT.root_values``."""

    counts: np.ndarray
    values: np.ndarray


class AlphaZero(Agent):
    """AlphaZero-style self-play on a drlkit game (see module docstring).

    ``AlphaZero("connect4", AlphaZeroConfig(simulations=50), seed=0)``; keyword hyperparameters
    (``AlphaZero("tictactoe", simulations=25)``) override the config. ``train(n)`` plays
    self-play games for ``n`` more moves (env steps); one update per ``games_per_iteration`` games.
    """

    Config: ClassVar[type[AgentConfig]] = AlphaZeroConfig
    #: Update columns: games learned from so far, the mean losses of the update's gradient steps, and at
    #: evaluation updates the fraction of ``eval_games`` won (draws are not wins) against each opponent, else NaN.
    LOG_KEYS = ("games", "policy_loss", "value_loss", "win_rate_vs_random", "win_rate_vs_uct")
    config: AlphaZeroConfig

    def __init__(
        self,
        game: Any = "connect_four",
        config: AlphaZeroConfig | dict | None = None,
        seed: int = 0,
        *,
        progress: bool = False,
        **overrides: Any,
    ) -> None:
        if isinstance(config, AlphaZeroConfig):
            overrides = {**dataclasses.asdict(config), **overrides}
        elif isinstance(config, dict):
            overrides = {**config, **overrides}
        elif config is not None:
            raise TypeError(f"config must be an AlphaZeroConfig (or a dict of its fields), got {type(config).__name__}")
        self.game: Game = make_game(game)
        self.env_spec = self.game.name
        self.seed = check_number("seed", seed, low=0, high=2**63 - 1, integer=True)
        self.config = AlphaZeroConfig.from_kwargs("AlphaZero", **overrides)
        self.progress = bool(progress)
        g = self.game
        self.observation_space = gym.spaces.Box(0.0, 1.0, (2, g.rows, g.cols), np.float32)
        self.action_space = gym.spaces.Discrete(g.n_actions)
        self.np_rng = np.random.default_rng(self.seed)
        self.torch_rng = torch.Generator().manual_seed(self.seed)
        self.history = History(self.LOG_KEYS)
        self.total_steps, self.wall_time = 0, 0.0
        self.games, self.updates = 0, 0  # games learned from, learner updates made
        self.replay: deque[tuple[np.ndarray, np.ndarray, np.ndarray]] = deque(maxlen=self.config.replay_games)
        self.root: Node | None = None
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            self.net = PolicyValueNet((g.rows, g.cols), g.n_actions, self.config.hidden_sizes, self.config.activation)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=self.config.learning_rate)

    @property
    def DEFAULT_FRAGMENT_STEPS(self) -> int:  # noqa: N802 - read by drlkit.distributed
        """A distributed fragment is one batch of ``games_per_iteration`` games (>= that many moves)."""
        return self.config.games_per_iteration

    def networks(self) -> dict[str, nn.Module]:
        return {"net": self.net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optimizer": self.optimizer}

    # ------------------------------------------------------------------ search
    @torch.no_grad()
    def _expand(self, states: list[GameState]) -> list[tuple[Node, float]]:
        """New tree nodes for non-terminal ``states``, all evaluated in one forward pass."""
        g = self.game
        boards = np.stack([s.board for s in states]) * np.array([s.player for s in states], np.int8)[:, None, None]
        x = torch.as_tensor(np.stack([boards == 1, boards == -1], 1), dtype=torch.float32)  # game.canonical
        legal = boards[:, 0] == 0 if g.gravity else boards.reshape(len(states), -1) == 0  # game.legal_mask
        logits, values = self.net(x)
        p = np.where(legal, torch.softmax(logits, 1).double().numpy(), 0.0)
        total = p.sum(1, keepdims=True)
        p = np.where(total > 0, p / np.where(total > 0, total, 1), legal / legal.sum(1, keepdims=True))
        return [(Node(s, pr, lg, None), v) for s, pr, lg, v in zip(states, p.tolist(), legal.tolist(), values.tolist())]

    def _search(self, states: list[GameState], n_simulations: int, noise: bool) -> list[Node]:
        """PUCT from each of ``states`` (not over) in lockstep; returns the root nodes."""
        game, c = self.game, self.config.c_puct
        roots = [node for node, _ in self._expand(states)]
        if noise and self.config.dirichlet_eps > 0:
            eps = self.config.dirichlet_eps
            for root in roots:
                legal = [a for a, ok in enumerate(root.legal) if ok]
                for a, eta in zip(legal, self.np_rng.dirichlet([self.config.dirichlet_alpha] * len(legal))):
                    root.P[a] = (1 - eps) * root.P[a] + eps * float(eta)
        for _ in range(n_simulations):
            pending: list[tuple[list[tuple[Node, int]], GameState]] = []
            for root in roots:
                node, path = root, []
                while True:
                    a = node.select(c)
                    path.append((node, a))
                    child = node.children.get(a)
                    if child is None:
                        state, winner = game.play(node.state, a)
                        if winner is None:  # a new position: evaluated below with the others
                            pending.append((path, state))
                            break
                        child = node.children[a] = Node(state, [], [], float(winner * state.player))
                    if child.terminal is not None:
                        _backup(path, child.terminal)
                        break
                    node = child
            if pending:
                for (path, _), (child, v) in zip(pending, self._expand([s for _, s in pending])):
                    parent, a = path[-1]
                    parent.children[a] = child
                    _backup(path, v)
        return roots

    def _check_state(self, state: Any) -> GameState:
        if not isinstance(state, GameState):
            state = self.game.from_board(state)  # a board: validated, mover implied
        if state.board.shape != (self.game.rows, self.game.cols):
            raise ValueError(
                f"state board has shape {state.board.shape}; {self.game.name} needs "
                f"({self.game.rows}, {self.game.cols})"
            )
        if self.game.winner(state) is not None:
            raise ValueError("the game is over in this state: there is no move to search")
        return state

    def search(self, state: Any, simulations: int | None = None) -> SearchStats:
        """One PUCT search (no noise) from ``state`` (a GameState or a board); root counts and values."""
        state = self._check_state(state)
        n = (
            self.config.simulations
            if simulations is None
            else check_number("simulations", simulations, low=1, integer=True)
        )
        root = self.root = self._search([state], n, noise=False)[0]
        counts, w = np.array(root.N, dtype=np.int64), np.array(root.W)
        return SearchStats(counts, np.divide(w, counts, out=np.full(len(w), np.nan), where=counts > 0))

    def act(self, state: Any, deterministic: bool = True) -> int:
        """The most visited move of a search (``deterministic=False``: sampled from the visit counts)."""
        if not isinstance(deterministic, (bool, np.bool_)):
            raise TypeError(f"deterministic must be True or False; got {deterministic!r}")
        counts = self.search(state).counts
        if deterministic:
            return int(np.argmax(counts))
        return int(self.np_rng.choice(len(counts), p=visit_policy(counts, 1.0)))

    # --------------------------------------------------------------- self-play
    def collect(self, n_steps: int) -> Fragment:
        """Self-play batches of ``games_per_iteration`` games until at least ``n_steps`` moves; no learning.

        ``data``: ``boards`` int8 ``(M, 2, rows, cols)``, ``policies`` ``(M, n_actions)`` (visit
        distributions), ``values`` ``(M,)`` (targets z), ``game_lengths`` ``(G,)``; M = moves.
        ``episode_returns`` are the winners (+1 first player, -1 second, 0 draw).
        """
        n_steps = check_number("n_steps", n_steps, low=1, integer=True)
        parts: list[Fragment] = []
        while sum(p.n_steps for p in parts) < n_steps:
            parts.append(self._self_play(self.config.games_per_iteration))
        data = {k: np.concatenate([p.data[k] for p in parts]) for k in parts[0].data}
        fragment = Fragment(
            data,
            sum(p.n_steps for p in parts),
            [r for p in parts for r in p.episode_returns],
            [n for p in parts for n in p.episode_lengths],
        )
        self.total_steps += fragment.n_steps
        return fragment

    def _self_play(self, n_games: int) -> Fragment:
        cfg, game = self.config, self.game
        states = [game.initial_state()] * n_games
        records: list[list[tuple[np.ndarray, np.ndarray, int]]] = [[] for _ in range(n_games)]
        winners, active, move = [0] * n_games, list(range(n_games)), 0
        while active:
            roots = self._search([states[i] for i in active], cfg.simulations, noise=True)
            still = []
            for i, root in zip(active, roots):
                counts = np.array(root.N, dtype=float)
                pi = counts / counts.sum()
                policy = visit_policy(counts, 1.0 if move < cfg.temperature_moves else 0.0)
                a = int(self.np_rng.choice(len(policy), p=policy))
                records[i].append((game.canonical(states[i]).astype(np.int8), pi.astype(np.float32), states[i].player))
                states[i], winner = game.play(states[i], a)
                if winner is None:
                    still.append(i)
                else:
                    winners[i] = winner
            active, move = still, move + 1
        boards, policies, values, lengths = [], [], [], []
        for rec, w in zip(records, winners):
            n = len(rec)
            boards += [b for b, _, _ in rec]
            policies += [p for _, p, _ in rec]
            values += [w * player * cfg.gamma ** (n - 1 - t) for t, (_, _, player) in enumerate(rec)]
            lengths.append(n)
        data = {
            "boards": np.stack(boards),
            "policies": np.stack(policies),
            "values": np.asarray(values, np.float32),
            "game_lengths": np.asarray(lengths, np.int64),
        }
        return Fragment(data, len(values), [float(w) for w in winners], lengths)

    # ---------------------------------------------------------------- learning
    def learn_from(self, fragment: Fragment) -> dict[str, float]:
        """Add the fragment's games to the replay, take ``gradient_steps`` minibatch steps on the
        loss of the module docstring; evaluate every ``eval_interval`` updates (else NaN win rates)."""
        d = fragment.data
        starts = np.concatenate([[0], np.cumsum(d["game_lengths"])])
        for a, b in zip(starts[:-1], starts[1:]):
            self.replay.append((d["boards"][a:b], d["policies"][a:b], d["values"][a:b]))
        self.games += len(d["game_lengths"])
        boards, policies, values = (np.concatenate([g[i] for g in self.replay]) for i in range(3))
        losses = []
        for _ in range(self.config.gradient_steps):
            idx = self.np_rng.integers(len(values), size=min(self.config.batch_size, len(values)))
            x, pi = self._symmetry(boards[idx], policies[idx])
            losses.append(
                self._step(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(pi), torch.as_tensor(values[idx]))
            )
        self.updates += 1
        metrics = {
            "games": float(self.games),
            "policy_loss": float(np.mean([p for p, _ in losses])),
            "value_loss": float(np.mean([v for _, v in losses])),
            "win_rate_vs_random": float("nan"),
            "win_rate_vs_uct": float("nan"),
        }
        if self.config.eval_interval and self.updates % self.config.eval_interval == 0:
            seed = self.seed + 20_000 + self.updates
            for opponent in ("random", "uct"):
                metrics[f"win_rate_vs_{opponent}"] = self.evaluate(opponent, n_games=self.config.eval_games, seed=seed)[
                    "win"
                ]
        return metrics

    def loss(self, boards: torch.Tensor, policies: torch.Tensor, values: torch.Tensor) -> dict[str, torch.Tensor]:
        """Policy cross-entropy, value MSE and L2 term on a batch ``(B, 2, rows, cols)``, ``(B, A)``, ``(B,)``."""
        logits, v = self.net(boards)
        policy_loss = -(policies * torch.log_softmax(logits, 1)).sum(1).mean()
        value_loss = ((values - v) ** 2).mean()
        l2 = self.config.l2 * sum((p**2).sum() for p in self.net.parameters())
        return {"policy_loss": policy_loss, "value_loss": value_loss, "l2": l2, "total": policy_loss + value_loss + l2}

    def _step(self, boards: torch.Tensor, policies: torch.Tensor, values: torch.Tensor) -> tuple[float, float]:
        terms = self.loss(boards, policies, values)
        self.optimizer.zero_grad()
        terms["total"].backward()
        if self.config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        return terms["policy_loss"].item(), terms["value_loss"].item()

    def _symmetry(self, boards: np.ndarray, policies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A random symmetry of the board per position: mirror (gravity games) or one of 8 (square boards)."""
        b, p = boards.copy(), policies.copy()
        g = self.game
        if g.gravity:  # left-right mirror: the columns (= actions) reversed
            flip = self.np_rng.random(len(b)) < 0.5
            b[flip], p[flip] = b[flip][..., ::-1], p[flip][:, ::-1]
            return b, p
        kinds = self.np_rng.integers(8, size=len(b)) if g.rows == g.cols else np.zeros(len(b), int)
        cells = p.reshape(len(p), g.rows, g.cols)
        for k in range(1, 8):
            m = kinds == k
            if m.any():
                rb, rc = np.rot90(b[m], k % 4, axes=(2, 3)), np.rot90(cells[m], k % 4, axes=(1, 2))
                if k >= 4:
                    rb, rc = rb[..., ::-1], rc[..., ::-1]
                b[m], cells[m] = rb, rc
        return b, cells.reshape(len(p), -1)

    def _train(self, until_step: int, timer: Timer, callbacks: Sequence[Any]) -> None:
        while self.total_steps < until_step:
            fragment = self.collect(1)  # one batch of games_per_iteration games
            for ret, length in zip(fragment.episode_returns, fragment.episode_lengths):
                self._record_episode(ret, length, timer)
            if not self._record_update(timer, callbacks, **self.learn_from(fragment)):
                return

    # -------------------------------------------------------------- evaluation
    def evaluate(  # type: ignore[override]
        self,
        opponent: str = "uct",
        simulations: int | None = None,
        n_games: int = 20,
        seed: int | None = None,
    ) -> dict[str, float]:
        """Greedy-search games against ``"random"``, ``"uct"`` (plain UCT with ``simulations``,
        default ``eval_simulations``) or ``"solver"`` (exact, tic-tac-toe); colours alternate.

        Returns ``{"win", "draw", "loss"}`` rates for this agent and ``"n_games"``. All games are
        played at once (this agent's searches batched); the training RNGs are not touched.
        """
        check_choice("opponent", opponent, OPPONENTS)
        n_games = check_number("n_games", n_games, low=1, integer=True)
        sims = (
            self.config.eval_simulations
            if simulations is None
            else check_number("simulations", simulations, low=1, integer=True)
        )
        seed = self.seed + 10_000 if seed is None else check_number("seed", seed, low=0, integer=True)
        game, rng = self.game, np.random.default_rng(seed)
        solver = Solver(game) if opponent == "solver" else None
        uct = [UCT(game, sims, seed=seed + i) for i in range(n_games)] if opponent == "uct" else []
        sides = [1 if i % 2 == 0 else -1 for i in range(n_games)]
        states, results = [game.initial_state()] * n_games, [0] * n_games
        active = list(range(n_games))
        while active:
            ours = [i for i in active if states[i].player == sides[i]]
            roots = self._search([states[i] for i in ours], self.config.simulations, False) if ours else []
            moves = {i: int(np.argmax(root.N)) for i, root in zip(ours, roots)}
            for i in active:
                if i not in moves:
                    s = states[i]
                    moves[i] = (
                        uct[i].act(s)
                        if uct
                        else solver.act(s, rng)
                        if solver is not None
                        else int(rng.choice(game.legal_actions(s)))
                    )
            still = []
            for i in active:
                states[i], winner = game.play(states[i], moves[i])
                if winner is None:
                    still.append(i)
                else:
                    results[i] = winner * sides[i]
            active = still
        r = np.asarray(results)
        return {
            "win": float((r == 1).mean()),
            "draw": float((r == 0).mean()),
            "loss": float((r == -1).mean()),
            "n_games": n_games,
        }

    # ---------------------------------------------------------- checkpoints
    def _extra_state(self) -> dict[str, Any]:
        cat = lambda i, dt: torch.as_tensor(
            np.concatenate([g[i] for g in self.replay]) if self.replay else np.zeros(0, dt)
        )
        return {
            "games": self.games,
            "updates": self.updates,
            "boards": cat(0, np.int8),
            "policies": cat(1, np.float32),
            "values": cat(2, np.float32),
            "lengths": torch.as_tensor([len(g[2]) for g in self.replay], dtype=torch.int64),
        }

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self.games, self.updates = int(state["games"]), int(state["updates"])
        starts = np.concatenate([[0], np.cumsum(state["lengths"].numpy())])
        boards, policies, values = (state[k].numpy() for k in ("boards", "policies", "values"))
        self.replay.clear()
        for a, b in zip(starts[:-1], starts[1:]):
            self.replay.append((boards[a:b], policies[a:b], values[a:b]))

    def __repr__(self) -> str:
        return f"AlphaZero({self.game.name!r}, seed={self.seed}, steps={self.total_steps}, games={self.games})"


def _backup(path: list[tuple[Node, int]], v: float) -> None:
    """``v`` is the value for the mover at the leaf; each edge above belongs to the other player."""
    for parent, a in reversed(path):
        v = -v
        parent.N[a] += 1
        parent.W[a] += v
