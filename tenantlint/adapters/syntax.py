"""Small libcst helpers of the statement walks: statement bodies, expression children, exits and negations."""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from tenantlint.python_module import children, PythonModule, descendants, dotted_name, short_code, string_value


def _body(block) -> list:
    if isinstance(block, cst.IndentedBlock):
        return list(block.body)
    if isinstance(block, cst.SimpleStatementSuite):
        return [_Suite(block)]
    return []


class _Suite:
    """A one-line suite (`if x: return y`) seen as a statement line."""

    def __init__(self, suite: cst.SimpleStatementSuite):
        self.body = suite.body


def _expr_children(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    for child in children(node):
        if isinstance(child, cst.BaseExpression):
            yield child
        elif isinstance(child, (cst.Arg, cst.Element, cst.DictElement, cst.StarredDictElement, cst.StarredElement, cst.CompFor, cst.CompIf, cst.Index, cst.Slice, cst.SubscriptElement, cst.FormattedStringExpression, cst.Comparison, cst.ComparisonTarget, cst.Parameters, cst.Param)):
            yield from _expr_children_wrap(child)


def _expr_children_wrap(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    for child in children(node):
        if isinstance(child, cst.BaseExpression):
            yield child
        elif isinstance(child, cst.CSTNode):
            yield from _expr_children_wrap(child)


def _is_self_or_super(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name):
        return node.value == "self"
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "super"


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _short(module: PythonModule, node: cst.CSTNode) -> str:
    return short_code(node)


def _subscript_key(node: cst.Subscript) -> str | None:
    if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return string_value(node.slice[0].slice.value)
    return None


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _calls(node: cst.CSTNode):
    return (n for n in descendants(node) if isinstance(n, cst.Call))


def _exits(body: list) -> bool:
    """The block leaves the function: it ends in `return` or `raise` (abort(403) and friends raise)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, (cst.SimpleStatementLine, _Suite)) and last.body:
        small = last.body[-1]
        if isinstance(small, (cst.Return, cst.Raise)):
            return True
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            return (dotted_name(small.value.func) or "").rsplit(".", 1)[-1] in ("abort", "deny", "forbid")
    return False


def _negated_equality(test: cst.BaseExpression) -> cst.BaseExpression | None:
    """`a != b`, `a is not b`, `not a == b`, `a not in b` -> the comparison that must hold; None for other tests."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not) and isinstance(test.expression, cst.Comparison):
        inner = test.expression
        if len(inner.comparisons) == 1 and isinstance(inner.comparisons[0].operator, (cst.Equal, cst.Is, cst.In)):
            return inner
        return None
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, (cst.NotEqual, cst.IsNot, cst.NotIn)):
        return test
    return None
