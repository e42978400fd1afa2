"""Tree search on two-player board games: exact solver, plain UCT, PUCT with a policy-value function,
AlphaZero-style self-play."""

from .alphazero import AlphaZero, AlphaZeroConfig, PolicyValueNet, SearchStats
from .puct import PUCT, PUCTNode, puct_scores, uniform_evaluator, visit_policy
from .root_parallel import root_parallel_search, root_parallel_searches, uct_visit_counts
from .solver import Solver
from .uct import UCT, UCTNode, ucb1

__all__ = ["Solver", "UCT", "UCTNode", "ucb1"]
__all__ += ["PUCT", "PUCTNode", "puct_scores", "visit_policy", "uniform_evaluator"]
__all__ += ["root_parallel_search", "root_parallel_searches", "uct_visit_counts"]
__all__ += ["AlphaZero", "AlphaZeroConfig", "PolicyValueNet", "SearchStats"]
