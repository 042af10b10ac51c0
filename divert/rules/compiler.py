"""Turns a parsed, type-checked rule-engine expression into plain Python closures.

Measured on the shipped programmes, rule-engine's own evaluator spent about three quarters of each decision
re-checking types it had already checked at parse time (see bench/bench_rules.py). The closures keep the
language's meaning for the subset definitions use; anything else returns ``None`` and the caller falls back to
rule-engine itself, so no expression is ever refused for speed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from rule_engine import ast

Evaluator = Callable[[Mapping[str, Any]], Any]

_ORDER = {"ge": operator.ge, "gt": operator.gt, "le": operator.le, "lt": operator.lt}
_SET_OPS = {"bwand": operator.and_, "bwor": operator.or_, "bwxor": operator.xor}


class _Unsupported(Exception):
    pass


def compile_statement(statement: Any) -> Evaluator | None:
    try:
        return _compile(statement.expression)
    except _Unsupported:
        return None


def _compile(node: Any) -> Evaluator:
    kind = type(node)
    if kind is ast.SymbolExpression:
        return _symbol(node)
    if kind in (ast.BooleanExpression, ast.StringExpression, ast.NullExpression, ast.FloatExpression):
        return _constant(node.value)
    if kind in (ast.ArrayExpression, ast.SetExpression):
        return _collection(node, frozenset if kind is ast.SetExpression else tuple)
    if kind is ast.LogicExpression:
        return _logic(node)
    if kind is ast.UnaryExpression and node.type == "not":
        right = _compile(node.right)
        return lambda values: not right(values)
    if kind is ast.ComparisonExpression:
        return _equality(node)
    if kind is ast.ArithmeticComparisonExpression and node.type in _ORDER:
        return _binary(node, _ORDER[node.type])
    if kind is ast.ContainsExpression:
        container, member = _compile(node.container), _compile(node.member)
        return lambda values: member(values) in container(values)
    if kind is ast.BitwiseExpression and node.type in _SET_OPS and _is_set(node):
        return _binary(node, _SET_OPS[node.type])
    if kind is ast.GetAttributeExpression and node.name == "length" and not node.safe:
        target = _compile(node.object)
        return lambda values: len(target(values))
    if kind is ast.TernaryExpression:
        return _ternary(node)
    raise _Unsupported(kind.__name__)


def _symbol(node: Any) -> Evaluator:
    if node.scope is not None:
        raise _Unsupported("scoped symbol")
    name = node.name
    return lambda values: values[name]


def _constant(value: Any) -> Evaluator:
    return lambda _values: value


def _collection(node: Any, build: Callable[[Any], Any]) -> Evaluator:
    members = [_compile(member) for member in node.value]
    if all(type(member) in _LITERALS for member in node.value):
        fixed = build(member.value for member in node.value)
        return lambda _values: fixed
    return lambda values: build(member(values) for member in members)


_LITERALS = (ast.BooleanExpression, ast.StringExpression, ast.NullExpression, ast.FloatExpression)


def _logic(node: Any) -> Evaluator:
    left, right = _compile(node.left), _compile(node.right)
    if node.type == "and":
        return lambda values: bool(left(values) and right(values))
    if node.type == "or":
        return lambda values: bool(left(values) or right(values))
    raise _Unsupported(node.type)


def _equality(node: Any) -> Evaluator:
    left, right = _compile(node.left), _compile(node.right)
    if node.type == "eq":
        return lambda values: _equal(left(values), right(values))
    if node.type == "ne":
        return lambda values: not _equal(left(values), right(values))
    raise _Unsupported(node.type)


def _equal(a: Any, b: Any) -> bool:
    # rule-engine never equates values of different types (true is not 1), so neither may we.
    return _kind(a) is _kind(b) and bool(a == b)


def _kind(value: Any) -> type:
    if isinstance(value, bool):
        return bool
    if isinstance(value, int | float | Decimal):
        return Decimal
    if isinstance(value, set | frozenset):
        return frozenset
    return type(value)


def _binary(node: Any, op: Callable[[Any, Any], Any]) -> Evaluator:
    left, right = _compile(node.left), _compile(node.right)
    return lambda values: op(left(values), right(values))


def _is_set(node: Any) -> bool:
    return isinstance(node.result_type, type(ast.DataType.SET))


def _ternary(node: Any) -> Evaluator:
    condition, when_true, when_false = (
        _compile(n) for n in (node.condition, node.case_true, node.case_false)
    )
    return lambda values: when_true(values) if condition(values) else when_false(values)
