"""Reason sentences with ``{fact}`` placeholders: officers read "Aged 17 at the encounter", not "age: pass".

str.format is not used on administrator-written text because its ``{x.attr}`` syntax can reach into objects;
only bare catalogue names are allowed and substituted here.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping

from divert.rules.codes import words
from divert.rules.vocabulary import FACTS, FactValue

_FORMATTER = string.Formatter()


def placeholder_problem(text: str, declared: Collection[str] = ()) -> str | None:
    """What is wrong with the placeholders in ``text``, or ``None`` when they are all usable
    (``declared``: the facts the definition declares for itself)."""
    try:
        parts = list(_FORMATTER.parse(text))
    except ValueError as error:
        return f"has a broken placeholder ({error})"
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FACTS and name not in declared:
            return f"uses placeholder '{{{name}}}', which is not a known fact"
        if spec or conversion:
            return f"placeholder '{{{name}}}' must be a bare fact name, without formatting"
    return None


def render(text: str, values: Mapping[str, FactValue]) -> str:
    out: list[str] = []
    for literal, name, _spec, _conversion in _FORMATTER.parse(text):
        out.append(literal)
        if name is not None:
            out.append(_display(values.get(name)))
    return "".join(out)


def _display(value: FactValue) -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, frozenset):
        return ", ".join(sorted(value)) if value else "none"
    return words(str(value))
