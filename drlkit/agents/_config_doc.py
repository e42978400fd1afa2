"""Turn the ``#:`` comments above each hyperparameter of a config dataclass into documentation.

Each field of an algorithm's ``Config`` is documented where it is declared, by a ``#:``
comment on the lines just above it (the convention Sphinx reads too)::

    #: Clip range ε of the probability ratio, in (0, 1].
    clip_range: float = 0.2

:func:`hyperparameter_docs` collects those comments (a field redeclared in a subclass only to
change its default keeps the comment of the class that explained it) and
:func:`hyperparameter_section` renders them as the "Hyperparameters" section that
``Agent.__init_subclass__`` appends to each algorithm's docstring, so ``help(drlkit.PPO)``
lists every knob with its type, default, meaning and range.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import textwrap
from functools import cache
from typing import Any

_FIELD = re.compile(r"^\s+(\w+)\s*:")


@cache
def _comments_of(cls: type) -> dict[str, str]:
    """``#:`` comments directly above the annotated names in ``cls``'s own body."""
    try:
        lines, _ = inspect.getsourcelines(cls)
    except (OSError, TypeError):  # no source (e.g. defined interactively)
        return {}
    docs: dict[str, str] = {}
    pending: list[str] = []
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
            continue
        match = _FIELD.match(line)
        if match and pending:
            docs[match.group(1)] = " ".join(pending)
        pending = []
    return docs


def hyperparameter_docs(config_cls: type) -> dict[str, str]:
    """``{field name: its documentation}`` for every field of the dataclass ``config_cls``
    ('' for an undocumented one), from the nearest class in the MRO that documents it."""
    docs = {}
    for f in dataclasses.fields(config_cls):
        docs[f.name] = next(
            (
                _comments_of(c)[f.name]
                for c in config_cls.__mro__
                if dataclasses.is_dataclass(c) and f.name in _comments_of(c)
            ),
            "",
        )
    return docs


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def hyperparameter_section(owner: str, config_cls: type) -> str:
    """The numpy-style "Hyperparameters" section of ``owner``'s docstring."""
    docs = hyperparameter_docs(config_cls)
    lines = [f"Hyperparameters (keyword arguments of ``{owner}(env, seed=0, **hyperparameters)``)", "-" * 79]
    for f in dataclasses.fields(config_cls):
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        lines.append(f"{f.name} : {kind} = {_default(f)!r}")
        lines += textwrap.wrap(docs[f.name] or "(undocumented)", 96, initial_indent="    ", subsequent_indent="    ")
    return "\n".join(lines)
