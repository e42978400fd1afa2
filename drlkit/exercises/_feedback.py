"""How the exercise checks report to the student: one printed line, and True or False."""
from __future__ import annotations

from typing import Any

import numpy as np


def fail(message: str) -> bool:
    """Print ``Not yet: message`` (what is wrong, specifically) and return False."""
    print(f"Not yet: {message}")
    return False


def succeed(message: str) -> bool:
    """Print ``Correct! message`` and return True."""
    print(f"Correct! {message}")
    return True


def as_float_array(name: str, result: Any) -> tuple[np.ndarray | None, str | None]:
    """``(array, None)`` with the student's result (a torch tensor too) as floats, or ``(None, why not)``."""
    if hasattr(result, "detach"):  # a torch tensor
        result = result.detach().cpu().numpy()
    try:
        return np.asarray(result, dtype=float), None
    except (TypeError, ValueError):
        return None, f"{name} must return an array of numbers; it returned {type(result).__name__}"
