r"""Model parallelism, honestly sized: one network split into two stages on two workers (a pipeline).

An MLP :math:`f = g \circ h` is cut in two: stage 0 (:math:`h`, the first layers)
lives in one worker process, stage 1 (:math:`g`, the rest and the loss) in another.
A training step on a batch of B examples split into M *micro-batches*
(GPipe, Huang et al. 2019):

* forward: stage 0 computes the activations :math:`a_m = h(x_m)` of micro-batch m
  and sends them, worker to worker, to stage 1, which computes the loss
  :math:`\ell_m = \frac{|m|}{B}\,\mathrm{MSE}(g(a_m), y_m)` and back-propagates it;
* backward: stage 1 sends :math:`\partial \ell_m / \partial a_m` back, stage 0
  back-propagates it into :math:`h`'s parameters;
* each stage sums its gradients over the micro-batches -- exactly the gradient of
  the full-batch loss :math:`\sum_m \ell_m` -- and takes one Adam step.

While stage 1 works on micro-batch m, stage 0 can already compute m + 1: that is
the overlap micro-batches buy. Every step records the stages' compute time and
the wall time; the rest (``wall - critical-path compute``) is communication
and scheduling.

:func:`step_time_model` turns measured figures (a worker's FLOP/s, the link's
bandwidth and per-message latency) into the time of one step on one worker and
split over two, for any width of the network; :func:`crossover_width` is the
width from which the split is faster. For the small MLPs of RL on a laptop the
split is always slower: compute per step is microseconds, a message costs
milliseconds.

The task: regress the discounted return-to-go of CartPole states under a random
policy (:func:`cartpole_returns`), a real value-prediction problem.

The stage state lives in the worker processes (:data:`_STAGES`); a worker that
dies takes its stage with it and the step fails with a clear error -- model
parallelism has no copy to fall back on, unlike the engine's data-parallel modes.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .._checks import check_number
from .cluster import resolve_client
from .engine import PinnedCall, Ref, release_on_workers, run_pinned

_STAGES: dict[tuple[str, int], _Stage] = {}
_LOCK = threading.Lock()


@dataclass
class _Stage:
    module: nn.Module
    optimizer: torch.optim.Optimizer
    cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    #: One task at a time per stage, even on a worker with several threads.
    lock: threading.Lock = field(default_factory=threading.Lock)


def build_mlp(in_dim: int, width: int, depth: int, out_dim: int = 1, seed: int = 0) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` tanh units: ``x (B, in_dim) -> (B, out_dim)``."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        layers: list[nn.Module] = []
        d = in_dim
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.Tanh()]
            d = width
        layers.append(nn.Linear(d, out_dim))
        return nn.Sequential(*layers)


def split_model(model: nn.Sequential, cut: int | None = None) -> tuple[nn.Sequential, nn.Sequential]:
    """The two stages: layers ``[:cut]`` and ``[cut:]`` (default: half the hidden layers each)."""
    if cut is None:
        n_hidden = (len(model) - 1) // 2
        cut = 2 * max(1, n_hidden // 2)
    return nn.Sequential(*list(model)[:cut]), nn.Sequential(*list(model)[cut:])


def cartpole_returns(n: int, gamma: float = 0.95, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(states (n, 4), returns (n, 1))``: CartPole-v1 states visited by a random policy and their
    discounted return-to-go (reward 1 per step until the pole falls)."""
    import gymnasium as gym

    rng = np.random.default_rng(seed)
    env = gym.make("CartPole-v1")
    states: list[np.ndarray] = []
    targets: list[float] = []
    episode = 0
    while len(states) < n:
        obs, _ = env.reset(seed=seed * 100_000 + episode)
        episode += 1
        visited = []
        done = False
        while not done:
            visited.append(obs)
            obs, _, terminated, truncated, _ = env.step(int(rng.integers(2)))
            done = terminated or truncated
        g = 0.0
        returns = []
        for _ in visited:
            g = 1.0 + gamma * g
            returns.append(g)
        states += visited
        targets += returns[::-1]
    env.close()
    return np.asarray(states[:n], dtype=np.float32), np.asarray(targets[:n], dtype=np.float32)[:, None]


# ---------------------------------------------------------------- worker-side tasks
def stage_init(token: str, index: int, module: nn.Module, learning_rate: float) -> float:
    """Put stage ``index`` (a module sent once) with its Adam optimizer in this worker process."""
    start = time.perf_counter()
    torch.set_num_threads(1)
    with _LOCK:
        _STAGES[(token, index)] = _Stage(module, torch.optim.Adam(module.parameters(), lr=learning_rate))
    return time.perf_counter() - start


def _stage(token: str, index: int) -> _Stage:
    with _LOCK:
        stage = _STAGES.get((token, index))
    if stage is None:
        raise RuntimeError(f"pipeline stage {index} is not in this worker (it was lost with its worker?)")
    return stage


def stage0_forward(token: str, micro: int, x: np.ndarray) -> tuple[np.ndarray, float]:
    """Stage 0: activations ``a (b, width)`` of micro-batch ``micro``; keeps the graph for backward."""
    start = time.perf_counter()
    stage = _stage(token, 0)
    with stage.lock:
        out = stage.module(torch.as_tensor(x))
        stage.cache[micro] = (out, out)
    return out.detach().numpy(), time.perf_counter() - start


def stage1_forward_backward(
    token: str, activation: tuple[np.ndarray, float], y: np.ndarray, scale: float
) -> tuple[np.ndarray, float, float]:
    """Stage 1: loss ``scale * MSE(g(a), y)``, backward into its parameters; returns ``(dℓ/da, loss, seconds)``."""
    start = time.perf_counter()
    stage = _stage(token, 1)
    a = torch.as_tensor(activation[0]).requires_grad_(True)
    with stage.lock:
        loss = scale * nn.functional.mse_loss(stage.module(a), torch.as_tensor(y))
        loss.backward()
    assert a.grad is not None
    return a.grad.numpy(), float(loss.detach()), time.perf_counter() - start


def stage0_backward(token: str, micro: int, grad: tuple[np.ndarray, float, float]) -> float:
    """Stage 0: back-propagate ``dℓ/da`` of micro-batch ``micro`` into its parameters."""
    start = time.perf_counter()
    stage = _stage(token, 0)
    with stage.lock:
        out, _ = stage.cache.pop(micro)
        out.backward(torch.as_tensor(grad[0]))
    return time.perf_counter() - start


def stage_gradients(token: str, index: int, *after: Any) -> dict[str, np.ndarray]:
    """The stage's summed gradients (``after``: calls this must follow)."""
    stage = _stage(token, index)
    return {k: p.grad.numpy().copy() for k, p in stage.module.named_parameters() if p.grad is not None}


def stage_step(token: str, index: int, *after: Any) -> float:
    """One Adam step with the summed gradients, then zero them (``after``: calls this must follow)."""
    start = time.perf_counter()
    stage = _stage(token, index)
    with stage.lock:
        stage.optimizer.step()
        stage.optimizer.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def stage_parameters(token: str, index: int) -> dict[str, np.ndarray]:
    stage = _stage(token, index)
    return {k: v.detach().numpy().copy() for k, v in stage.module.state_dict().items()}


def stage_drop(token: str) -> int:
    with _LOCK:
        keys = [k for k in _STAGES if k[0] == token]
        for key in keys:
            del _STAGES[key]
    return len(keys)


# -------------------------------------------------------------------- driver side
@dataclass
class StepTiming:
    """One training step: ``wall`` seconds on the driver, ``compute`` per stage (seconds, summed
    over micro-batches), the loss, and ``bytes`` of activations plus gradients sent between stages."""

    wall: float
    compute: tuple[float, float]
    loss: float
    bytes: int

    @property
    def other(self) -> float:
        """Wall time that is not compute on the busier stage: communication and scheduling."""
        return max(self.wall - max(self.compute), 0.0)


class TwoStagePipeline:
    """``model`` split over two Dask workers (see module docstring).

    >>> import drlkit
    >>> from drlkit.distributed.pipeline import TwoStagePipeline, build_mlp, cartpole_returns
    >>> x, y = cartpole_returns(512)
    >>> with drlkit.cluster(n_workers=2) as client:                           # doctest: +SKIP
    ...     pipe = TwoStagePipeline(build_mlp(4, 64, 4), client=client)
    ...     timings = [pipe.train_step(x, y, micro_batches=4) for _ in range(20)]
    """

    def __init__(
        self,
        model: nn.Sequential,
        *,
        client: Any = None,
        learning_rate: float = 1e-3,
        cut: int | None = None,
        timeout: float = 60.0,
    ) -> None:
        if not isinstance(model, nn.Sequential):
            raise TypeError(
                f"model must be a torch.nn.Sequential (it is cut between layers); got {type(model).__name__}"
            )
        learning_rate = check_number("learning_rate", learning_rate, low=0, high=1, low_open=True)
        self.timeout = check_number("timeout", timeout, low=0, low_open=True)
        self.client = resolve_client(client)
        try:
            self.client.wait_for_workers(2, timeout=self.timeout)
        except TimeoutError:
            raise RuntimeError("a two-stage pipeline needs two Dask workers; fewer joined the cluster") from None
        self.addresses = sorted(self.client.nthreads())[:2]
        self.stages = split_model(model, cut)
        self.token = uuid.uuid4().hex[:12]
        calls = [
            PinnedCall(stage_init, (self.token, i, stage, learning_rate), address)
            for i, (stage, address) in enumerate(zip(self.stages, self.addresses))
        ]
        run_pinned(self.client, calls, timeout=self.timeout)

    def _graph(self, x: np.ndarray, y: np.ndarray, micro_batches: int) -> tuple[list[PinnedCall], list[int], list[int]]:
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.float32).reshape(len(x), -1)
        micro_batches = check_number("micro_batches", micro_batches, low=1, high=len(x), integer=True)
        a0, a1 = self.addresses
        calls: list[PinnedCall] = []
        fwd, last, bwd = [], [], []
        for m, rows in enumerate(np.array_split(np.arange(len(x)), micro_batches)):
            calls.append(PinnedCall(stage0_forward, (self.token, m, x[rows]), a0))
            fwd.append(len(calls) - 1)
            calls.append(
                PinnedCall(stage1_forward_backward, (self.token, Ref(fwd[-1]), y[rows], len(rows) / len(x)), a1)
            )
            last.append(len(calls) - 1)
            calls.append(PinnedCall(stage0_backward, (self.token, m, Ref(last[-1])), a0))
            bwd.append(len(calls) - 1)
        return calls, fwd, last + bwd

    def gradients(self, x: np.ndarray, y: np.ndarray, micro_batches: int = 1) -> dict[str, np.ndarray]:
        """Gradients of the full-batch loss, keyed ``"<stage>.<param>"`` (no step is taken; they are zeroed)."""
        calls, _, done = self._graph(x, y, micro_batches)
        n = len(calls)
        calls.append(PinnedCall(stage_gradients, (self.token, 0, *[Ref(i) for i in done]), self.addresses[0]))
        calls.append(PinnedCall(stage_gradients, (self.token, 1, *[Ref(i) for i in done]), self.addresses[1]))
        g0, g1 = run_pinned(self.client, calls, timeout=self.timeout, fetch=[n, n + 1])
        for i, address in enumerate(self.addresses):  # leave no gradient behind
            run_pinned(self.client, [PinnedCall(_zero, (self.token, i), address)], timeout=self.timeout)
        return {**{f"0.{k}": v for k, v in g0.items()}, **{f"1.{k}": v for k, v in g1.items()}}

    def train_step(self, x: np.ndarray, y: np.ndarray, micro_batches: int = 4) -> StepTiming:
        """One Adam step on the batch ``x (B, in_dim)``, ``y (B, out_dim)`` split into ``micro_batches``."""
        calls, fwd, done = self._graph(x, y, micro_batches)
        n = len(calls)
        calls.append(PinnedCall(stage_step, (self.token, 0, *[Ref(i) for i in done]), self.addresses[0]))
        calls.append(PinnedCall(stage_step, (self.token, 1, *[Ref(i) for i in done]), self.addresses[1]))
        start = time.perf_counter()
        results = run_pinned(self.client, calls, timeout=self.timeout)
        wall = time.perf_counter() - start
        stage0 = sum(results[i][1] for i in fwd) + sum(results[i] for i in done[len(fwd) :]) + results[n]
        stage1 = sum(results[i][2] for i in done[: len(fwd)]) + results[n + 1]
        loss = sum(results[i][1] for i in done[: len(fwd)])
        nbytes = sum(results[i][0].nbytes for i in fwd) + sum(results[i][0].nbytes for i in done[: len(fwd)])
        return StepTiming(wall, (stage0, stage1), float(loss), int(nbytes))

    def parameters(self) -> dict[str, np.ndarray]:
        """Both stages' parameters, keyed ``"<stage>.<param>"``."""
        calls = [PinnedCall(stage_parameters, (self.token, i), a) for i, a in enumerate(self.addresses)]
        p0, p1 = run_pinned(self.client, calls, timeout=self.timeout)
        return {**{f"0.{k}": v for k, v in p0.items()}, **{f"1.{k}": v for k, v in p1.items()}}

    def close(self) -> None:
        """Free the stages on the workers."""
        release_on_workers(self.client, stage_drop, self.token, workers=self.addresses)


def _zero(token: str, index: int) -> None:
    _stage(token, index).optimizer.zero_grad(set_to_none=True)


# ----------------------------------------------------------------- the cost model
def mlp_flops(width: int, depth: int, batch: int, in_dim: int = 4) -> float:
    """FLOPs of one forward + backward of :func:`build_mlp` on a batch: about 6 per weight and example."""
    weights = in_dim * width + (depth - 1) * width * width + width
    return 6.0 * weights * batch


def step_time_model(
    width: Any, depth: int, batch: int, *, flops: float, bandwidth: float, latency: float, micro_batches: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    r"""Seconds per training step ``(one worker, two-stage pipeline)`` for widths ``width`` (array).

    One worker: :math:`C = \text{FLOPs}/F`. Two stages: each holds half the layers,
    :math:`C/2` per stage, plus the pipeline's fill and drain (one micro-batch of
    the other stage, :math:`C/(2M)`), plus the messages: M activations forward and M
    gradients back, each :math:`4 B w / M` bytes, costing latency + size / bandwidth,
    plus two for the optimizer steps.
    """
    w = np.asarray(width, dtype=float)
    compute = np.array([mlp_flops(int(v), depth, batch) for v in w.reshape(-1)]).reshape(w.shape) / flops
    messages = 2 * micro_batches + 2
    comm = messages * latency + 2 * 4.0 * batch * w / bandwidth
    split = compute / 2 + compute / (2 * micro_batches) + comm
    return compute, split


def crossover_width(
    depth: int, batch: int, *, flops: float, bandwidth: float, latency: float, micro_batches: int = 4
) -> float:
    """The smallest width at which the two-stage pipeline is faster than one worker (inf if none below 10⁶)."""
    widths = np.unique(np.geomspace(1, 1e6, 2000).astype(int))
    single, split = step_time_model(
        widths, depth, batch, flops=flops, bandwidth=bandwidth, latency=latency, micro_batches=micro_batches
    )
    faster = np.flatnonzero(split < single)
    return float(widths[faster[0]]) if len(faster) else math.inf


def measure_flops(width: int = 256, depth: int = 4, batch: int = 256, repeats: int = 20) -> float:
    """FLOP/s of this process on :func:`build_mlp` forward + backward (one torch thread)."""
    model = build_mlp(4, width, depth)
    x = torch.randn(batch, 4)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model(x).sum().backward()
        start = time.perf_counter()
        for _ in range(repeats):
            model(x).sum().backward()
        seconds = (time.perf_counter() - start) / repeats
    finally:
        torch.set_num_threads(threads)
    return mlp_flops(width, depth, batch) / seconds
