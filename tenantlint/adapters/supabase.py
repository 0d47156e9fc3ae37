"""supabase-py / postgrest-py -> QuerySites.

A query starts at `<client>.table("name")` or `<client>.from_("name")` (any client expression: `supabase`,
`self.client`, `get_client()`, `sb.schema("public")`), takes its verb from `select` / `insert` / `upsert` /
`update` / `delete`, its filters from `eq`, `match`, `filter`, `in_`, `is_`, `neq`, `not_`, `or_`, and runs at
`execute()` (or where it escapes: returned, passed on). Builders may sit in variables and be refined later;
branches are followed as in the Django adapter. `.rpc("fn", ...)` runs a stored procedure whose queries cannot be
seen: it is listed as unverifiable.
"""
from __future__ import annotations

from typing import Iterable

import libcst as cst

from tenantlint.adapters.django import DictKeys, Env, ModuleAnalysis, QState, QVal
from tenantlint.adapters.flow import D, N, S, U, Term, restriction, t_and
from tenantlint.config import Config
from tenantlint.python_module import PythonModule, string_value as _string
from tenantlint.types import ModelInfo, QuerySite, Schema, SiteKind

_VERBS = {"select": SiteKind.READ, "insert": SiteKind.INSERT, "upsert": SiteKind.INSERT, "update": SiteKind.UPDATE, "delete": SiteKind.DELETE}
_PASS = {
    "order", "limit", "range", "single", "maybe_single", "csv", "text_search", "fts", "plfts", "phfts", "wfts",
    "gt", "gte", "lt", "lte", "like", "ilike", "like_all_of", "like_any_of", "ilike_all_of", "ilike_any_of",
    "contains", "contained_by", "ov", "overlaps", "sl", "sr", "nxl", "nxr", "adj", "range_gt", "range_gte",
    "range_lt", "range_lte", "range_adjacent", "explain", "returns", "count", "options", "on_conflict",
}
_RUN = {"execute"}




class SupabaseAdapter:
    name = "supabase"

    def wants(self, source: str) -> bool:
        return ".table(" in source or ".from_(" in source or ".rpc(" in source

    def sites(self, module: PythonModule, schema: Schema, config: Config) -> Iterable[QuerySite]:
        return _Analysis(module, schema, config).run()


class _Analysis(ModuleAnalysis):
    """The Django adapter's statement walker; queries start at `.table()` / `.from_()` instead of managers."""

    SOURCES = frozenset({"ddl", "ddl-alter"})
    DRF_VIEWS = False

    def __init__(self, module: PythonModule, schema: Schema, config: Config):
        super().__init__(module, schema, config)
        self.accessors = {}
        self.rpc_sites: list[QuerySite] = []
        self.constants = {}
        for stmt in module.tree.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                        v = _string(small.value)
                        if v is not None:
                            self.constants[small.targets[0].target.value] = v

    def run(self) -> list[QuerySite]:
        return super().run() + self.rpc_sites

    def model_named(self, node: cst.BaseExpression) -> ModelInfo | None:
        return None  # no model classes: tables are named by strings

    def attribute(self, node: cst.Attribute, env: Env):
        return None

    # -- tenant columns of a table

    def tenant_columns(self, table: ModelInfo) -> set[str]:
        cols = {c.lower() for c in self.config.tenant_columns}
        if table.tenant is not None:
            if table.tenant.tenant_column:
                cols.add(table.tenant.tenant_column.lower())
            for path in table.tenant.tenant_paths:
                if len(path) == 1:
                    cols.add(path[0].lower())
                    rel = next((r for r in table.relations if r.field == path[0]), None)
                    if rel is not None:
                        cols.add(rel.column.lower())
        return cols

    # -- expressions

    def value(self, node: cst.BaseExpression, env: Env):
        if isinstance(node, (cst.List, cst.Tuple)) and node.elements and all(isinstance(e.value, cst.Dict) for e in node.elements):
            rows = [super(_Analysis, self).value(e.value, env) for e in node.elements]
            return DictKeys(frozenset.intersection(*(r.keys for r in rows)), (), all(r.complete for r in rows))
        return super().value(node, env)

    def call(self, node: cst.Call, env: Env):
        func = node.func
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        if method in ("table", "from_") and len(node.args) >= 1 and node.args[0].keyword is None:
            name = self.table_name(node.args[0].value)
            if name is None:
                return None
            table = self.schema.table(name.rsplit(".", 1)[-1])
            if table is None:
                return None
            self.expr(func.value, env)
            origin = self.new_origin(table, f'{method}("{name}")')
            return QVal((QState(origin, Term(N)),))
        if method == "rpc" and node.args:
            fn = _string(node.args[0].value)
            if fn is None:
                return None
            for a in node.args:
                self.expr(a.value, env)
            opaque = ModelInfo(name=f"rpc:{fn}", table=fn, source="supabase", path=self.module.path, line=0, columns=(), relations=(), tenant=None, opaque=True)
            text = " ".join(self.module.tree.code_for_node(node).split())
            self.rpc_sites.append(
                QuerySite(SiteKind.READ, opaque, restriction(Term(U, (), "a stored procedure; its queries cannot be seen")), f'rpc("{fn}")', node, text, self.function)
            )
            return QVal(())
        base_node = func.value
        negated = False
        if isinstance(base_node, cst.Attribute) and base_node.attr.value == "not_":
            base_node, negated = base_node.value, True
        base = self.value(base_node, env)
        if not isinstance(base, QVal):
            return None
        return self.chain(method, node, base, env, negated)

    def table_name(self, node: cst.BaseExpression) -> str | None:
        s = _string(node)
        if s is not None:
            return s
        if isinstance(node, cst.Name):
            return self.constants.get(node.value)
        return None

    def chain(self, method: str, node: cst.Call, base: QVal, env: Env, negated: bool):
        args = node.args
        if method in _VERBS:
            verb = _VERBS[method]
            rows = self.rows_term(base, args, env) if verb is SiteKind.INSERT else None
            if rows is None:
                for a in args:
                    self.expr(a.value, env)
            states = []
            for s in base.states:
                if s.origin.kind is None:
                    s.origin.api = f"{s.origin.api}.{method}"
                    s.origin.kind = verb
                states.append(QState(s.origin, rows[id(s.origin)] if rows is not None else s.term))
            return QVal(tuple(states))
        if method in _RUN:
            self.observe_value(base)
            return QVal(())
        if method in _PASS:
            for a in args:
                self.expr(a.value, env)
            return base
        terms = {id(s.origin): self.filter_term(method, args, s.origin.model, env, negated) for s in base.states}
        for a in args:
            self.expr(a.value, env)
        return QVal(tuple(QState(s.origin, s.term if s.origin.kind is SiteKind.INSERT else t_and(s.term, terms[id(s.origin)])) for s in base.states))

    def rows_term(self, base: QVal, args, env: Env) -> dict:
        """For insert/upsert: whether every row written carries the tenant column, per origin."""
        out = {}
        rows_value = None
        if args and args[0].keyword is None:
            rows_value = self.expr(args[0].value, env, assign=True)
        for a in args[1:]:
            self.expr(a.value, env)
        for s in base.states:
            cols = self.tenant_columns(s.origin.model)
            if isinstance(rows_value, DictKeys):
                found = sorted(k for k in rows_value.keys if k.lower() in cols)
                if found:
                    out[id(s.origin)] = Term(S, tuple(found), "tenant value written")
                elif not rows_value.complete:
                    out[id(s.origin)] = Term(U, (), "the row is built with ** or computed keys")
                else:
                    out[id(s.origin)] = Term(N)
            else:
                out[id(s.origin)] = Term(U, (), "the rows are built elsewhere")
        return out

    def filter_term(self, method: str, args, table: ModelInfo, env: Env, negated: bool) -> Term:
        cols = self.tenant_columns(table)
        shared = table.tenant is not None and table.tenant.shared_when_null
        positional = [a.value for a in args if a.keyword is None]
        keyword = {a.keyword.value: a.value for a in args if a.keyword is not None}
        column = _string(positional[0]) if positional else _string(keyword.get("column"))
        text = " ".join(_code(a.value) for a in args)
        if method == "match":
            d = positional[0] if positional else keyword.get("query")
            if isinstance(d, cst.Dict):
                keys = {_string(el.key) for el in d.elements if isinstance(el, cst.DictElement)}
                if any(k and k.lower() in cols for k in keys):
                    return Term(D if negated else S, (f"match({text})",), "the tenant predicate is negated" if negated else "")
                return Term(N)
            v = self.value(d, env) if d is not None else None
            if isinstance(v, DictKeys):
                return Term(S, (f"match({text})",)) if any(k.lower() in cols for k in v.keys) else Term(N)
            return Term(U, (), f"match({text}) is built elsewhere")
        if method == "or_":
            node = positional[0] if positional else keyword.get("filters")
            spec = _string(node) if node is not None else None
            if spec is None and isinstance(node, cst.FormattedString):
                spec = _template(node)  # f"org_id.eq.{org},status.eq.public": the shape is all we need
            if spec is None:
                return Term(U, (), "or_() filter string is built elsewhere")
            return self.or_term(spec, cols, shared)
        if method == "filter":
            op = _string(positional[1]) if len(positional) > 1 else _string(keyword.get("operator"))
            if column and column.lower() in cols:
                if op in ("eq", "in"):
                    return Term(D if negated else S, (f"filter({text})",), "the tenant predicate is negated" if negated else "")
                if op == "is":
                    return Term(S, (f"filter({text})",), "shared rows only", null_only=True) if shared and not negated else Term(N)
                if op in ("neq", "not.eq", "not.in"):
                    return Term(D, (f"filter({text})",), f"the tenant predicate uses {op}")
            return Term(N)
        if column is None or column.lower() not in cols:
            return Term(N)
        if method in ("eq", "in_"):
            if negated:
                return Term(D, (f"not_.{method}({text})",), "the tenant predicate is negated")
            return Term(S, (f"{method}({text})",))
        if method == "is_":
            if shared and not negated:
                return Term(S, (f"is_({text})",), "shared rows only", null_only=True)
            return Term(N)
        if method == "neq":
            return Term(D, (f"neq({text})",), "neq() on the tenant column selects the other tenants")
        return Term(N)

    def or_term(self, spec: str, cols: set[str], shared: bool) -> Term:
        conditions = _split_top(spec)
        tenant_eq = tenant_null = other = 0
        for c in conditions:
            parts = c.strip().split(".", 2)
            if len(parts) < 2:
                other += 1
                continue
            col, op = parts[0].lower(), parts[1].lower()
            if col in cols and op in ("eq", "in"):
                tenant_eq += 1
            elif col in cols and op == "is" and len(parts) > 2 and parts[2].lower() == "null":
                tenant_null += 1
            else:
                other += 1
        if not tenant_eq and not tenant_null:
            return Term(N)
        if other:
            return Term(D, (f'or_("{spec}")',), "an or_() branch without the tenant predicate")
        if tenant_null and not shared:
            return Term(D, (f'or_("{spec}")',), "an or_() branch with a NULL tenant on a table that shares no rows")
        if tenant_null and not tenant_eq:
            return Term(S, (f'or_("{spec}")',), "shared rows only", null_only=True)
        return Term(S, (f'or_("{spec}")',))


def _template(node: cst.FormattedString) -> str:
    parts = []
    for p in node.parts:
        parts.append(p.value if isinstance(p, cst.FormattedStringText) else "{}")
    return "".join(parts)


def _split_top(spec: str) -> list[str]:
    """Split a postgrest `or` string on commas outside parentheses: `a.eq.1,and(b.eq.2,c.eq.3)`."""
    out, depth, cur = [], 0, []
    for ch in spec:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return [p for p in out if p.strip()]


def _code(node: cst.CSTNode) -> str:
    text = " ".join(cst.Module(body=[]).code_for_node(node).split())
    return text if len(text) <= 50 else text[:47] + "..."


ADAPTER = SupabaseAdapter()
