"""Conditions written in the rule-engine expression language, parsed and type-checked once at load time.

rule-engine is used rather than Python's eval because definitions come from administrators' files: the
language can only read the facts it is given, and its type resolver rejects names outside the catalogue
before any decision is made.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rule_engine

from divert.rules.compiler import Evaluator, compile_statement
from divert.rules.vocabulary import FACTS, FactType, FactValue

_RULE_ENGINE_TYPES = {
    FactType.NUMBER: rule_engine.DataType.FLOAT,
    FactType.STRING: rule_engine.DataType.STRING,
    FactType.BOOLEAN: rule_engine.DataType.BOOLEAN,
    # Untyped members: rule-engine rejects an empty set for a SET(STRING) symbol (it infers SET(UNDEFINED)).
    FactType.STRING_SET: rule_engine.DataType.SET,
}
_TYPE_MAP = {name: _RULE_ENGINE_TYPES[spec.type] for name, spec in FACTS.items()}


class ConditionError(ValueError):
    """A condition that cannot be used; the message says why in words an administrator can act on."""


@dataclass(frozen=True, slots=True, eq=False)
class Condition:
    text: str
    # Sorted, so when several needed facts are missing the reason names the same one every time.
    facts: tuple[str, ...]
    _rule: Any
    _fast: Evaluator | None

    def evaluate(self, values: Mapping[str, FactValue]) -> bool:
        if self._fast is not None:
            return bool(self._fast(values))
        return self.evaluate_with_rule_engine(values)

    def evaluate_with_rule_engine(self, values: Mapping[str, FactValue]) -> bool:
        # rule-engine maps ``set`` but not ``frozenset``.
        converted = {k: set(v) if isinstance(v, frozenset) else v for k, v in values.items()}
        return bool(self._rule.matches(converted))

    @property
    def compiled(self) -> bool:
        return self._fast is not None


def compile_condition(text: str, declared: Mapping[str, FactType] | None = None) -> Condition:
    """``declared``: the facts the definition declares for itself, which its conditions may name too."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("must be a non-empty expression")
    types = {**_TYPE_MAP, **{name: _RULE_ENGINE_TYPES[kind] for name, kind in (declared or {}).items()}}

    def resolve(name: str) -> Any:
        if name not in types:
            raise rule_engine.errors.SymbolResolutionError(name)
        return types[name]

    # A context per condition, because rule-engine records the symbols a rule uses on its context.
    context = rule_engine.Context(type_resolver=resolve)
    try:
        rule = rule_engine.Rule(text, context=context)
    except rule_engine.errors.SymbolResolutionError as error:
        raise ConditionError(f"names unknown fact '{error.symbol_name}'{_suggest(error, types)}") from None
    except rule_engine.errors.RuleSyntaxError as error:
        raise ConditionError(f"does not parse: {error.message} in {text!r}") from None
    except rule_engine.errors.EngineError as error:
        raise ConditionError(f"is not a valid expression: {error.message} in {text!r}") from None
    unknown = sorted(set(context.symbols) - types.keys())
    if unknown:
        # Built-ins such as $today would make a decision depend on when it was run.
        raise ConditionError(f"names unknown fact '{unknown[0]}'")
    return Condition(text, tuple(sorted(context.symbols)), rule, compile_statement(rule.statement))


def _suggest(error: Any, known: Mapping[str, Any]) -> str:
    suggestion = getattr(error, "suggestion", None)
    if suggestion is None:
        suggestion = _closest(error.symbol_name, known)
    return f" (did you mean '{suggestion}'?)" if suggestion else ""


def _closest(name: str, known: Mapping[str, Any]) -> str | None:
    matches = difflib.get_close_matches(name, known.keys(), n=1)
    return matches[0] if matches else None
