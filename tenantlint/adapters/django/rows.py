"""Keys read from rows: a key of a row read without a tenant filter is no more tenant-bound than the row."""
from __future__ import annotations

import libcst as cst

from tenantlint.adapters.flow import N, ROW_KEY, S, Term
from tenantlint.adapters.values import Env, Origin, QVal, Rows
from tenantlint.python_module import dotted_name, short_code, string_value
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

    # -- keys handed to raw SQL (the SQL adapter asks, through PythonModule.key_judges)

    def publish_key_judge(self, call: cst.Call, env: Env) -> None:
        """At a call that runs raw SQL (`execute_values(cur, sql, rows)`, `cursor.execute(sql, [ids])`), leave the SQL
        adapter a judge of the values handed with it, as this walk knows them here. A helper's body replayed at a
        call site binds its parameters to the caller's values, which this judge would not see: only a function's own
        walk leaves one."""
        if self.frame.inline:
            return
        snapshot = dict(env)
        self.module.key_judges.setdefault(id(call), []).append(lambda value, column: self.handed_keys(value, snapshot, column))

    def held_ids(self, node: cst.BaseExpression | None, value, env: Env) -> str | None:
        """What a name bound to `node` holds, as handed_keys judges it, for a list of ids built here: ids a query read
        (`list(qs.values_list("id", flat=True))`, `qs.values_list("pk", flat=True)`), or a list joined or copied from
        others; None for any other value (judged through the name's other facts)."""
        inner = node.args[0].value if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in _COPIES and len(node.args) == 1 else node
        if isinstance(inner, cst.Call) and _flat_ids(inner, keys_only=True) and isinstance(value, (QVal, Rows)) and value.states:
            return "ids a tenant-restricted query read" if all(st.term.status == S for st in value.states) else ""
        if isinstance(node, (cst.BinaryOperation, cst.List, cst.Tuple)) or node is not inner:
            if isinstance(node, cst.BinaryOperation) and not isinstance(node.operator, cst.Add):
                return None
            return self.handed_keys(node, env)
        return None

    def handed_keys(self, node: cst.BaseExpression, env: Env, column: int | None = None, depth: int = 0) -> str:
        """Why the values of `node` (column `column` of its rows, when it holds rows) are ids of one tenant's rows,
        or "": ids a tenant-restricted query read (`list(project.items.values_list("id", flat=True))`), ids a
        validator checked (`data["bulk_ids"]`, also through every caller of this function), the id of an object in
        hand, or lists joined from those (`checked + list(scoped_ids)`)."""
        if depth > 8:
            return ""
        if column is not None:
            columns = self.key_columns(node, env, depth)
            return columns[column] if columns is not None and column < len(columns) else ""
        if isinstance(node, cst.Name):
            if f"__ids__{node.value}" in env:
                return env[f"__ids__{node.value}"]
            held = env.get(f"__key__{node.value}")
            if isinstance(held, cst.CSTNode) and held is not node:
                return self.handed_keys(held, env, None, depth + 1)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in _COPIES and len(node.args) == 1:
            return self.handed_keys(node.args[0].value, env, None, depth + 1)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            left = self.handed_keys(node.left, env, None, depth + 1)
            return left and self.handed_keys(node.right, env, None, depth + 1) and left
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)) and node.elements:
            reasons = [self.handed_keys(e.value, env, None, depth + 1) if not isinstance(e, cst.StarredElement) else "" for e in node.elements]
            return reasons[0] if all(reasons) else ""
        from tenantlint.adapters.django.lookups import _is_loaded_object_id

        if isinstance(node, cst.Attribute) and node.attr.value in ("id", "pk") and _is_loaded_object_id(node):
            return f"the id of `{short_code(node.value)}`, an object in hand"
        if self.pinned_field(node, env):
            checked = self.pinned.get(id(node)) or env.get(f"__pinned_node__{id(node)}")
            return f"ids {checked}() checked to be rows of the tenant given with them" if checked else ""
        term = self.rows_keys_term("id__in", node, env)
        if term is not None and term.status == S:
            return "keys of rows a tenant-restricted query read"
        return ""

    def key_columns(self, node: cst.BaseExpression, env: Env, depth: int = 0) -> tuple[str, ...] | None:
        """Per column, why the rows of `node` hold one tenant's ids there (see handed_keys): `zip(ids, orders)`,
        `tuple(zip(...))`, `[(id, n) for n, id in enumerate(ids)]`. None when the rows are not written here."""
        if isinstance(node, cst.Name):
            return env.get(f"__columns__{node.value}")
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in _COPIES and len(node.args) == 1:
            return self.key_columns(node.args[0].value, env, depth + 1)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "zip" and node.args \
                and all(a.keyword is None and not a.star for a in node.args):
            return tuple(self.handed_keys(a.value, env, None, depth + 1) for a in node.args)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)) and isinstance(node.elt, cst.Tuple) and node.for_in.inner_for_in is None:
            comp = node.for_in
            iterated, element = comp.iter, comp.target
            if isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Name) and iterated.func.value == "enumerate" \
                    and len(iterated.args) == 1 and isinstance(element, cst.Tuple) and len(element.elements) == 2:
                iterated, element = iterated.args[0].value, element.elements[1].value  # `for n, id in enumerate(ids)`
            if not isinstance(element, cst.Name):
                return None
            whole = None
            out = []
            for e in node.elt.elements:
                if isinstance(e.value, cst.Name) and e.value.value == element.value:
                    if whole is None:
                        whole = self.handed_keys(iterated, env, None, depth + 1)
                    out.append(whole)
                else:
                    out.append("")
            return tuple(out)
        return None


_COPIES = ("list", "tuple", "set", "frozenset", "sorted")


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


def _flat_ids(call: cst.Call, keys_only: bool = False) -> bool:
    """`<query>.values_list("id", flat=True)` (or `"pk"`, `"<x>_id"` unless `keys_only`): the keys of the rows, one
    value each."""
    if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "values_list"):
        return False
    positional = [a for a in call.args if a.keyword is None]
    flat = any(a.keyword is not None and a.keyword.value == "flat" and isinstance(a.value, cst.Name) and a.value.value == "True" for a in call.args)
    field = string_value(positional[0].value) if len(positional) == 1 else None
    return flat and field is not None and (field in ("id", "pk") or not keys_only and field.endswith("_id"))


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
