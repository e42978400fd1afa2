r"""Federated training across heterogeneous clients: FedAvg and FedProx.

McMahan et al., "Communication-efficient learning of deep networks from decentralized
data" (FedAvg, AISTATS 2017); Li et al., "Federated optimization in heterogeneous
networks" (FedProx, MLSys 2020).

Every worker slot is a *client* with its own environment: ``env_kwargs`` gives one
dict per slot, e.g. CartPole with different pole lengths or gravity
(:func:`drlkit.envs.variants.make_variant`). A round of ``"federated"``:

1. the driver samples ``max(1, round(client_fraction * N))`` clients (seeded, without
   replacement; all of them with ``client_fraction=1``);
2. each makes ``local_steps`` = K updates from the global θ on its own environment;
   with FedProx (``prox_mu`` = μ > 0) every local update is followed by the proximal
   step of :math:`\frac{\mu}{2}\lVert w - \theta\rVert^2` (unit step),
   :math:`w \leftarrow (w + \mu\theta)/(1+\mu)`, which pulls the client back towards θ;
3. the driver averages the clients' parameters: :math:`\theta \leftarrow \frac1m\sum_{i} \theta_i`
   (equal weights: every client collects the same number of steps).

More local steps K send fewer bytes per environment step (one round trip per K
updates) but, when clients differ, each drifts towards its own optimum (*client
drift*) and their mean can be worse than either; μ limits the drift. With identical
clients, K = 1, every client sampled and μ = 0 a round is exactly a ``"sync"`` round;
μ = 0 is exactly FedAvg.
"""

from __future__ import annotations

import time

import numpy as np

from .compression import expand
from .engine import Run
from .sync import average_deltas
from .worker import local_updates


def sample_clients(rng: np.random.Generator, n_workers: int, client_fraction: float) -> list[int]:
    """The clients of one round: ``max(1, round(client_fraction * n_workers))`` distinct slots, sorted."""
    m = max(1, int(round(client_fraction * n_workers)))
    if m >= n_workers:
        return list(range(n_workers))
    return sorted(int(s) for s in rng.choice(n_workers, size=m, replace=False))


def run_federated(run: Run, n_workers: int, local_steps: int, client_fraction: float, seed: int) -> None:
    """Federated rounds until the step budget is used (see module docstring)."""
    rng = np.random.default_rng(seed)
    round_index = 0
    while run.wants_more():
        slots = sample_clients(rng, n_workers, client_fraction)
        tickets = run.submit_many(slots, local_updates, local_steps, round_index)
        arrived = run.wait_all(tickets)
        results = run.fetch(arrived)
        started = time.perf_counter()
        theta = run.agent.get_parameters()
        outputs = [expand(output, theta) for output, _ in results]
        run.agent.set_parameters(average_deltas(theta, outputs))
        run.version += 1
        run.record(
            arrived,
            [report for _, report in results],
            "applied",
            staleness=[0] * len(arrived),
            weights=[1.0 / len(arrived)] * len(arrived),
            apply_time=time.perf_counter() - started,
        )
        round_index += 1
