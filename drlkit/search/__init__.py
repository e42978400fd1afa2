"""Tree search on two-player board games: exact solver, plain UCT."""
from .solver import Solver
from .uct import UCT, UCTNode, ucb1

__all__ = ["Solver", "UCT", "UCTNode", "ucb1"]
