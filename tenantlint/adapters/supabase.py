"""supabase-py / postgrest-py -> QuerySites.

A query starts at `<client>.table("name")` or `<client>.from_("name")` (any client expression: `supabase`,
`self.client`, `get_client()`, `sb.schema("public")`), takes its verb from `select` / `insert` / `upsert` /
`update` / `delete`, its filters from `eq`, `match`, `filter`, `in_`, `is_`, `neq`, `not_`, `or_`, and runs at
`execute()` (or where it escapes: returned, passed on). Builders may sit in variables and be refined later;
branches are followed as in the Django adapter. `.rpc("fn", ...)` runs a stored procedure whose queries cannot be
seen: it is listed as unverifiable.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import libcst as cst

from tenantlint.adapters.flow import D, N, S, U, Term, restriction, t_and, worst
from tenantlint.config import Config
from tenantlint.python_module import PythonModule, dotted_name
from tenantlint.types import ModelInfo, QuerySite, Schema, SiteKind

_VERBS = {"select": SiteKind.READ, "insert": SiteKind.INSERT, "upsert": SiteKind.INSERT, "update": SiteKind.UPDATE, "delete": SiteKind.DELETE}
_PASS = {
    "order", "limit", "range", "single", "maybe_single", "csv", "text_search", "fts", "plfts", "phfts", "wfts",
    "gt", "gte", "lt", "lte", "like", "ilike", "like_all_of", "like_any_of", "ilike_all_of", "ilike_any_of",
    "contains", "contained_by", "ov", "overlaps", "sl", "sr", "nxl", "nxr", "adj", "range_gt", "range_gte",
    "range_lt", "range_lte", "range_adjacent", "explain", "returns", "count", "options", "on_conflict",
}
_RUN = {"execute"}


@dataclass(eq=False)
class Origin:
    table: ModelInfo
    api: str
    anchor: cst.CSTNode | None = None
    function: str = "<module>"
    observed: dict = field(default_factory=dict)

    def observe(self, kind: SiteKind, term: Term) -> None:
        prev = self.observed.get(kind)
        self.observed[kind] = term if prev is None else worst(prev, term)


@dataclass(frozen=True)
class State:
    origin: Origin
    verb: SiteKind | None
    term: Term  # the filter; for inserts, whether the rows carry the tenant


@dataclass(frozen=True)
class Builder:
    states: tuple[State, ...]


@dataclass(frozen=True)
class Rows:
    """A dict literal (or list of them) held in a variable: the keys every row has."""

    keys: frozenset
    complete: bool


class _Suite:
    def __init__(self, suite: cst.SimpleStatementSuite):
        self.body = suite.body


def _body(block) -> list:
    if isinstance(block, cst.IndentedBlock):
        return list(block.body)
    if isinstance(block, cst.SimpleStatementSuite):
        return [_Suite(block)]
    return []


def _merge(envs: list[dict | None]) -> dict | None:
    live = [e for e in envs if e is not None]
    if not live:
        return None
    out: dict = {}
    for k in set().union(*live):
        vals = [e.get(k) for e in live]
        builders = [v for v in vals if isinstance(v, Builder)]
        if builders:
            states: list[State] = []
            for b in builders:
                states.extend(s for s in b.states if s not in states)
            out[k] = Builder(tuple(states))
        elif all(isinstance(v, Rows) for v in vals):
            out[k] = Rows(frozenset.intersection(*(v.keys for v in vals)), all(v.complete for v in vals))
    return out


def _string(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            v = node.evaluated_value
        except Exception:
            return None
        return v if isinstance(v, str) else None
    return None


class SupabaseAdapter:
    name = "supabase"

    def wants(self, source: str) -> bool:
        return ".table(" in source or ".from_(" in source or ".rpc(" in source

    def sites(self, module: PythonModule, schema: Schema, config: Config) -> Iterable[QuerySite]:
        return _Analysis(module, schema, config).run()


class _Analysis:
    def __init__(self, module: PythonModule, schema: Schema, config: Config):
        self.module = module
        self.schema = schema
        self.config = config
        self.origins: list[Origin] = []
        self.rpc_sites: list[QuerySite] = []
        self.function = "<module>"
        self.constants = {}
        for stmt in module.tree.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                        v = _string(small.value)
                        if v is not None:
                            self.constants[small.targets[0].target.value] = v

    def run(self) -> list[QuerySite]:
        self.block(self.module.tree.body, {}, "<module>")
        return list(self.emit()) + self.rpc_sites

    def emit(self) -> Iterator[QuerySite]:
        for o in self.origins:
            if o.anchor is None or not o.observed:
                continue
            text = " ".join(self.module.tree.code_for_node(o.anchor).split())
            writes = [k for k in o.observed if k is not SiteKind.READ]
            for kind in writes or [SiteKind.READ]:
                yield QuerySite(kind, o.table, restriction(o.observed[kind]), o.api, o.anchor, text, o.function)

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

    # -- statements

    def block(self, body, env: dict | None, function: str) -> dict | None:
        saved, self.function = self.function, function
        try:
            for stmt in body:
                if env is None:
                    break
                env = self.statement(stmt, env)
            return env
        finally:
            self.function = saved

    def statement(self, stmt, env: dict) -> dict | None:
        if isinstance(stmt, (cst.SimpleStatementLine, _Suite)):
            for small in stmt.body:
                env = self.small(small, env)
                if env is None:
                    return None
            return env
        if isinstance(stmt, cst.FunctionDef):
            name = stmt.name.value if self.function == "<module>" else f"{self.function}.{stmt.name.value}"
            end = self.block(_body(stmt.body), {}, name)
            if end is not None:
                self.escape_all(end)
            return env
        if isinstance(stmt, cst.ClassDef):
            name = stmt.name.value if self.function == "<module>" else f"{self.function}.{stmt.name.value}"
            self.block(_body(stmt.body), {}, name)
            return env
        if isinstance(stmt, cst.If):
            self.expr(stmt.test, env)
            a = self.block(_body(stmt.body), dict(env), self.function)
            if stmt.orelse is None:
                b = env
            elif isinstance(stmt.orelse, cst.If):
                b = self.statement(stmt.orelse, dict(env))
            else:
                b = self.block(_body(stmt.orelse.body), dict(env), self.function)
            return _merge([a, b])
        if isinstance(stmt, (cst.For, cst.While)):
            self.expr(stmt.iter if isinstance(stmt, cst.For) else stmt.test, env)
            once = self.block(_body(stmt.body), dict(env), self.function)
            after = _merge([env, once]) or env
            if stmt.orelse is not None:
                after = self.block(_body(stmt.orelse.body), after, self.function) or after
            return after
        if isinstance(stmt, cst.With):
            for item in stmt.items:
                self.expr(item.item, env)
            return self.block(_body(stmt.body), env, self.function)
        if isinstance(stmt, cst.Try) or type(stmt).__name__ == "TryStar":
            after = self.block(_body(stmt.body), dict(env), self.function)
            if stmt.orelse is not None and after is not None:
                after = self.block(_body(stmt.orelse.body), after, self.function)
            start = _merge([env, after]) or env
            ends = [after] + [self.block(_body(h.body), dict(start), self.function) for h in stmt.handlers]
            merged = _merge(ends)
            if stmt.finalbody is not None:
                merged = self.block(_body(stmt.finalbody.body), merged if merged is not None else dict(start), self.function) if merged is not None else None
            return merged
        for child in stmt.children:
            if isinstance(child, cst.BaseExpression):
                self.expr(child, env)
            elif isinstance(child, (cst.IndentedBlock, cst.SimpleStatementSuite)):
                self.block(_body(child), dict(env), self.function)
            elif type(child).__name__ == "MatchCase":
                self.block(_body(child.body), dict(env), self.function)
        return env

    def small(self, small, env: dict) -> dict | None:
        if isinstance(small, (cst.Assign, cst.AnnAssign)):
            if small.value is None:
                return env
            value = self.expr(small.value, env, keep=True)
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            for t in targets:
                if isinstance(t, cst.Name):
                    if isinstance(value, (Builder, Rows)):
                        env[t.value] = value
                    else:
                        env.pop(t.value, None)
                else:
                    self.escape(value)
                    if isinstance(t, cst.Subscript) and isinstance(t.value, cst.Name) and isinstance(env.get(t.value.value), Rows):
                        key = _string(t.slice[0].slice.value) if len(t.slice) == 1 and isinstance(t.slice[0].slice, cst.Index) else None
                        rows = env[t.value.value]
                        env[t.value.value] = Rows(rows.keys | {key} if key else rows.keys, rows.complete and key is not None)
            return env
        if isinstance(small, cst.AugAssign):
            self.expr(small.value, env)
            return env
        if isinstance(small, cst.Return):
            if small.value is not None:
                self.expr(small.value, env)
            self.escape_all(env)
            return None
        if isinstance(small, cst.Raise):
            return None
        for child in small.children:
            if isinstance(child, cst.BaseExpression):
                self.expr(child, env)
        return env

    def escape(self, value) -> None:
        if isinstance(value, Builder):
            for s in value.states:
                s.origin.observe(s.verb or SiteKind.READ, s.term)

    def escape_all(self, env: dict) -> None:
        for v in env.values():
            if isinstance(v, Builder):
                for s in v.states:
                    if not s.origin.observed:
                        s.origin.observe(s.verb or SiteKind.READ, s.term)

    # -- expressions

    def expr(self, node: cst.BaseExpression, env: dict, keep: bool = False):
        mark = len(self.origins)
        value = self.value(node, env)
        for o in self.origins[mark:]:
            if o.anchor is None:
                o.anchor = node
        if value is not None:
            if not keep:
                self.escape(value)
            return value
        if isinstance(node, cst.Lambda):
            return None
        for child in _children(node):
            self.expr(child, env)
        return None

    def value(self, node: cst.BaseExpression, env: dict):
        if isinstance(node, cst.Name):
            v = env.get(node.value)
            return v if isinstance(v, (Builder, Rows)) else None
        if isinstance(node, cst.Await):
            return self.value(node.expression, env)
        if isinstance(node, cst.Dict):
            return self.rows_of(node, env)
        if isinstance(node, (cst.List, cst.Tuple)) and node.elements and all(isinstance(e.value, cst.Dict) for e in node.elements):
            rows = [self.rows_of(e.value, env) for e in node.elements]
            return Rows(frozenset.intersection(*(r.keys for r in rows)), all(r.complete for r in rows))
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            return self.call(node, env)
        return None

    def rows_of(self, node: cst.Dict, env: dict) -> Rows:
        keys: set[str] = set()
        complete = True
        for el in node.elements:
            if isinstance(el, cst.DictElement):
                k = _string(el.key)
                if k is None:
                    complete = False
                else:
                    keys.add(k)
                self.expr(el.value, env)
            else:
                complete = False
                self.expr(el.value, env)
        return Rows(frozenset(keys), complete)

    def call(self, node: cst.Call, env: dict):
        func = node.func
        method = func.attr.value
        if method in ("table", "from_") and len(node.args) >= 1 and node.args[0].keyword is None:
            name = self.table_name(node.args[0].value)
            if name is None:
                return None
            table = self.schema.table(name.rsplit(".", 1)[-1])
            if table is None:
                return None
            self.expr(func.value, env)
            origin = Origin(table, f'{method}("{name}")', function=self.function)
            self.origins.append(origin)
            return Builder((State(origin, None, Term(N)),))
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
            return Builder(())
        base_node = func.value
        negated = False
        if isinstance(base_node, cst.Attribute) and base_node.attr.value == "not_":
            base_node, negated = base_node.value, True
        base = self.value(base_node, env)
        if not isinstance(base, Builder):
            return None
        return self.apply(method, node, base, env, negated)

    def table_name(self, node: cst.BaseExpression) -> str | None:
        s = _string(node)
        if s is not None:
            return s
        if isinstance(node, cst.Name):
            return self.constants.get(node.value)
        return None

    def apply(self, method: str, node: cst.Call, base: Builder, env: dict, negated: bool):
        args = node.args
        if method in _VERBS:
            verb = _VERBS[method]
            for s in base.states:
                if s.verb is None:
                    s.origin.api = f"{s.origin.api}.{method}"
            term_for_rows = None
            if verb is SiteKind.INSERT:
                term_for_rows = self.insert_term(base, args, env)
            else:
                for a in args:
                    self.expr(a.value, env)
            states = []
            for s in base.states:
                if verb is SiteKind.INSERT:
                    states.append(State(s.origin, verb, term_for_rows.get(id(s.origin), Term(U, (), "no rows given"))))
                else:
                    states.append(State(s.origin, verb if s.verb in (None, SiteKind.READ) else s.verb, s.term))
            return Builder(tuple(states))
        if method in _RUN:
            for s in base.states:
                s.origin.observe(s.verb or SiteKind.READ, s.term)
            return Builder(())
        if method in _PASS:
            for a in args:
                self.expr(a.value, env)
            return base
        terms = {}
        for s in base.states:
            terms[id(s.origin)] = self.filter_term(method, args, s.origin.table, env, negated)
        for a in args:
            self.expr(a.value, env)
        return Builder(tuple(State(s.origin, s.verb, s.term if s.verb is SiteKind.INSERT else t_and(s.term, terms[id(s.origin)])) for s in base.states))

    def insert_term(self, base: Builder, args, env: dict) -> dict:
        out = {}
        rows_value = None
        if args and args[0].keyword is None:
            rows_value = self.expr(args[0].value, env, keep=True)
        for a in args[1:]:
            self.expr(a.value, env)
        for s in base.states:
            cols = self.tenant_columns(s.origin.table)
            if isinstance(rows_value, Rows):
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

    def filter_term(self, method: str, args, table: ModelInfo, env: dict, negated: bool) -> Term:
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
            if isinstance(v, Rows):
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


def _children(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    for child in node.children:
        if isinstance(child, cst.BaseExpression):
            yield child
        elif isinstance(child, cst.CSTNode) and not isinstance(child, (cst.BaseSuite, cst.BaseStatement)):
            yield from _children(child)


def _code(node: cst.CSTNode) -> str:
    text = " ".join(cst.Module(body=[]).code_for_node(node).split())
    return text if len(text) <= 50 else text[:47] + "..."


ADAPTER = SupabaseAdapter()
