"""How the exercise checks report to the student: one printed line, and True or False."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> bool:
    """Print ``Not yet: message`` (what is wrong, specifically) and return False."""
    print(f"Not yet: {message}")
    return False


def succeed(message: str) -> bool:
    """Print ``Correct! message`` and return True."""
    print(f"Correct! {message}")
    return True


def as_float_array(name: str, result: Any) -> tuple[Any, str | None]:
    """``(array, None)`` with the student's result (a torch tensor too) as floats, or ``(None, why not)``."""
    if hasattr(result, "detach"):  # a torch tensor
        result = result.detach().cpu().numpy()
    try:
        return np.asarray(result, dtype=float), None
    except (TypeError, ValueError):
        return None, f"{name} must return an array of numbers; it returned {type(result).__name__}"


def call_student(fn: Any, name: str, *args: Any, zero_division: str | None = None) -> tuple[Any, str | None]:
    """Run the student's function ``fn`` on copies of ``args`` (so it cannot change the checker's data).

    Returns ``(result as a float array, None)``, or ``(None, what went wrong)`` in words a student
    can act on: not a function, the stub still in place, an exception of their code (with
    ``zero_division`` as the hint for a ZeroDivisionError, if given), a missing ``return``, or a
    result that is not numbers.
    """
    if not callable(fn):
        return None, f"pass your function itself, e.g. check_{name}({name}); got {type(fn).__name__}"
    try:
        with np.errstate(all="ignore"):  # a division by zero is reported with its cause, not as a warning
            out = fn(*(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args))
    except NotImplementedError:
        return None, f"{name} still raises NotImplementedError: replace the stub's `raise` line with your code."
    except ZeroDivisionError as exc:
        hint = f": {zero_division}" if zero_division else ""
        return None, f"{name} raised ZeroDivisionError ({exc}){hint}"
    except Exception as exc:  # the student's code failed: say how, without a long traceback from here
        return None, f"{name} raised {type(exc).__name__}: {exc}"
    if out is None:
        return None, f"{name} returned None: did you forget the `return`?"
    return as_float_array(name, out)


def function_name(function: Any, default: str = "your function") -> str:
    """A printable name for the student's callable: a plain function, a lambda or a ``functools.partial``."""
    while isinstance(function, functools.partial):
        function = function.func
    name = getattr(function, "__name__", None)
    return default if not isinstance(name, str) or name == "<lambda>" else name


def student_check(argument: str) -> Callable[[F], F]:
    """Decorate a ``check_*`` function so that it always reports and never crashes.

    * a first argument that is not callable (``None``, a number, the *result* of the
      function instead of the function) is answered with what to pass instead;
    * a failure inside the check caused by an unexpected answer (an object numpy cannot
      compare, say) is printed as ``Not yet: ...`` with the type the function returned,
      instead of a traceback from drlkit.
    """

    def decorate(check: F) -> F:
        @functools.wraps(check)
        def wrapper(function: Any = None, *args: Any, **kwargs: Any) -> bool:
            if not callable(function):
                what = "None" if function is None else f"a {type(function).__name__} ({_short(function)})"
                extra = (
                    " (did you run the cell that defines it?)"
                    if function is None
                    else " -- pass the function, without calling it"
                )
                return fail(f"pass your function itself, e.g. {check.__name__}({argument}); you passed {what}{extra}")
            try:
                return bool(check(function, *args, **kwargs))
            except Exception as error:  # an answer the comparisons could not handle
                return fail(
                    f"{function_name(function, argument)} returned something the check could not compare "
                    f"({type(error).__name__}: {str(error)[:120]}); read the expected return type in "
                    f"help({check.__name__})"
                )

        return wrapper  # type: ignore[return-value]

    return decorate


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a student's object with a broken __repr__
        text = object.__repr__(value)
    return text if len(text) <= 40 else text[:37] + "..."
