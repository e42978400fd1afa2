"""Populations of learners trained in parallel on a Dask cluster.

* :func:`train_population` -- population-based training (exploit/explore, lineage) or, with
  ``exploit=False``, random search at equal compute (:mod:`drlkit.population.pbt`).
* :func:`train_dqn_population` -- DQN learners with different exploration rates, sharing one
  replay of everyone's experience or each keeping its own (:mod:`drlkit.population.shared_replay`).
"""

from .pbt import LogUniform, PopulationResult, Uniform, explore, select_parents, train_population

__all__ = ["LogUniform", "PopulationResult", "Uniform", "explore", "select_parents", "train_population"]
