"""Keys read from rows: a key of a row read without a tenant filter is no more tenant-bound than the row."""
from __future__ import annotations

import libcst as cst

from tenantlint.adapters.flow import N, ROW_KEY, S, Term
from tenantlint.adapters.values import Env, Origin, QVal, Rows
from tenantlint.python_module import dotted_name, string_value
from tenantlint.types import SiteKind
from tenantlint.adapters.django.vocabulary import _ONE_ROW


class RowKeys:
    def unscoped_row(self, node: cst.BaseExpression, mark: int) -> Origin | None:
        """The query behind `row = Model.objects.get(code=code)` when it read one row without a tenant filter: the
        keys read from that row (`row.channel_id`) are then no more tenant-bound than the row itself."""
        if isinstance(node, cst.Await):
            node = node.expression
        if not isinstance(node, cst.Call):
            return None
        last = (dotted_name(node.func) or "").rsplit(".", 1)[-1] if not isinstance(node.func, cst.Attribute) else node.func.attr.value
        if last not in _ONE_ROW:
            return None
        for origin, _ in self.origins[mark:]:
            term = origin.observed.get(SiteKind.READ)
            if term is not None and term.status == N and not origin.guard:
                return origin
        return None

    def row_key_term(self, value: cst.BaseExpression, term: Term, env: Env) -> Term:
        """A key judged tenant-bound because it is read from an object in hand, when that object is a row the
        function read without a tenant filter: not bound after all."""
        if term.status != S or not term.reason or term.reason == "correlated subquery":
            return term
        root = value
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            return term
        row = env.get(f"__row__{root.value}")
        if row is None or row.guard:
            return term
        read = row.observed.get(SiteKind.READ)
        if read is None or read.status != N:
            return term
        where = ""
        if row.via is None and row.anchor is not None:
            span = self.module.span_of(row.anchor)
            where = f" at line {span.start_line}" if span is not None else ""
        return Term(N, (), f"{ROW_KEY}{root.value}, a {row.model.name} row read without a tenant filter{where}")

    def rows_keys_term(self, key: str, value: cst.BaseExpression, env: Env) -> Term | None:
        """`pk__in=[s.pk for s in affected]` with `affected = list(<query>)`: the keys of rows that query read, as
        tenant-bound as it was. None for any other value."""
        if not key.endswith("__in") or not _key_comprehension(value):
            return None
        comp = value.for_in
        rows = _rows_iterated(value, env)
        if not isinstance(rows, (Rows, QVal)) or not rows.states:
            return None
        text = " ".join(self.module.tree.code_for_node(value).split())
        if all(st.term.status == S for st in rows.states):
            return Term(S, (f"{key}={text}",), "keys of rows a tenant-restricted query read", null_only=True)
        source = comp.iter.value if isinstance(comp.iter, cst.Name) else " ".join(self.module.tree.code_for_node(comp.iter).split())
        return Term(N, (), f"{ROW_KEY}{source}, rows read without a tenant filter")


def _rows_iterated(node, env: Env):
    """What the query a key comprehension iterates read: a local holding rows, or a query written in place."""
    iterated = node.for_in.iter
    return env.get(iterated.value) if isinstance(iterated, cst.Name) else env.get(f"__rows_of__{id(node)}")


def _key_comprehension(node) -> bool:
    """`[s.pk for s in rows]`, `{row["recipient_id"] for row in rows}`: the keys of the rows iterated (a field named
    `id`, `pk` or `<x>_id`), not other attributes of them; also the ids themselves, or a key labelled with each
    (`f"page:{id}"`, `"page:%s" % id`), over `<query>.values_list("id", flat=True)` written in place."""
    if not isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
        return False
    comp, elt = node.for_in, node.elt
    if comp.inner_for_in is not None or not isinstance(comp.target, cst.Name) or not isinstance(comp.iter, (cst.Name, cst.Call)):
        return False
    if isinstance(comp.iter, cst.Call) and _flat_ids(comp.iter):
        return _labelled(elt, comp.target.value)
    if isinstance(elt, cst.Subscript) and len(elt.slice) == 1 and isinstance(elt.slice[0].slice, cst.Index):
        field = string_value(elt.slice[0].slice.value) or ""  # {row["recipient__type_id"] for row in <values()>}
    elif isinstance(elt, cst.Attribute):
        field = elt.attr.value
    else:
        return False
    return isinstance(elt.value, cst.Name) and elt.value.value == comp.target.value and (field in ("pk", "id") or field.endswith("_id"))


def _flat_ids(call: cst.Call) -> bool:
    """`<query>.values_list("id", flat=True)` (or `"pk"`, `"<x>_id"`): the keys of the rows, one value each."""
    if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "values_list"):
        return False
    positional = [a for a in call.args if a.keyword is None]
    flat = any(a.keyword is not None and a.keyword.value == "flat" and isinstance(a.value, cst.Name) and a.value.value == "True" for a in call.args)
    field = string_value(positional[0].value) if len(positional) == 1 else None
    return flat and field is not None and (field in ("id", "pk") or field.endswith("_id"))


def _labelled(elt: cst.BaseExpression, name: str) -> bool:
    """The loop's value itself, or a fixed word joined to it: `id`, `f"page:{id}"`, `"page:%s" % id`,
    `"page:{}".format(id)`."""
    def is_name(n) -> bool:
        return isinstance(n, cst.Name) and n.value == name

    if is_name(elt):
        return True
    if isinstance(elt, cst.FormattedString):
        holes = [p for p in elt.parts if isinstance(p, cst.FormattedStringExpression)]
        text = "".join(p.value for p in elt.parts if isinstance(p, cst.FormattedStringText))
        return len(holes) == 1 and is_name(holes[0].expression) and bool(text)
    if isinstance(elt, cst.BinaryOperation) and isinstance(elt.operator, cst.Modulo) and is_name(elt.right):
        return isinstance(elt.left, cst.SimpleString) and (string_value(elt.left) or "").count("%") == 1
    if isinstance(elt, cst.Call) and isinstance(elt.func, cst.Attribute) and elt.func.attr.value == "format" \
            and isinstance(elt.func.value, cst.SimpleString) and len(elt.args) == 1 and is_name(elt.args[0].value):
        return (string_value(elt.func.value) or "").count("{") == 1
    return False
