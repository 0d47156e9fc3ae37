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
from typing import Iterable

import libcst as cst

from tenantlint.adapters.django import ModuleAnalysis
from tenantlint.adapters.values import DictKeys, Env, QState, QVal
from tenantlint.adapters.flow import D, N, S, U, Term, restriction, t_and, t_not, t_or
from tenantlint.config import Config
from tenantlint.python_module import PythonModule, short_code, string_value as _string
from tenantlint.types import ModelInfo, QuerySite, Schema, SiteKind

_VERBS = {"select": SiteKind.READ, "insert": SiteKind.INSERT, "upsert": SiteKind.INSERT, "update": SiteKind.UPDATE, "delete": SiteKind.DELETE}
_PASS = {
    "order", "limit", "range", "single", "maybe_single", "csv", "text_search", "fts", "plfts", "phfts", "wfts",
    "gt", "gte", "lt", "lte", "like", "ilike", "like_all_of", "like_any_of", "ilike_all_of", "ilike_any_of",
    "contains", "contained_by", "ov", "overlaps", "sl", "sr", "nxl", "nxr", "adj", "range_gt", "range_gte",
    "range_lt", "range_lte", "range_adjacent", "explain", "returns", "count", "options", "on_conflict",
}
_RUN = {"execute"}
# `<client>.storage.from_("bucket")` names a storage bucket, not a table; these are its methods.
_STORAGE = {
    "upload", "download", "remove", "list", "move", "copy", "get_public_url", "create_signed_url",
    "create_signed_urls", "create_signed_upload_url", "upload_to_signed_url",
}




class _Bucket:
    """The value of a storage bucket expression: not a query, and nothing to look into."""


_BUCKET = _Bucket()


class SupabaseAdapter:
    name = "supabase"

    def wants(self, source: str) -> bool:
        return ".table(" in source or ".from_(" in source or ".rpc(" in source

    def applies(self, schema: Schema) -> bool:
        """Whether the project has any table this adapter can judge (a Django project needs no SQLAlchemy pass)."""
        return any(info.source in _Analysis.SOURCES for info in schema.models.values())

    def sites(self, module: PythonModule, schema: Schema, config: Config, index=None) -> Iterable[QuerySite]:
        return _Analysis(module, schema, config, index).run()


class _Analysis(ModuleAnalysis):
    """The Django adapter's statement walker; queries start at `.table()` / `.from_()` instead of managers."""

    SOURCES = frozenset({"ddl", "ddl-alter"})
    DRF_VIEWS = False

    def __init__(self, module: PythonModule, schema: Schema, config: Config, index=None):
        super().__init__(module, schema, config, index)
        self.accessors = {}
        self.rpc_sites: list[QuerySite] = []
        self.inner_embeds: dict[int, dict[str, str]] = {}  # id(origin) -> its select's `!inner` embeds
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
        """Rows too: dict literals (constant keys), lists of them, comprehensions, dict(k=v), `a | b`."""
        if isinstance(node, cst.Dict):
            return self.dict_keys(node, env)
        if (
            isinstance(node, (cst.List, cst.Tuple))
            and node.elements
            and all(isinstance(e, cst.Element) and isinstance(e.value, (cst.Dict, cst.Name)) for e in node.elements)
        ):  # only side-effect-free elements: when this is no row list, the walker visits them again
            rows = [self.value(e.value, env) for e in node.elements]
            if all(isinstance(r, DictKeys) for r in rows):
                return DictKeys(frozenset.intersection(*(r.keys for r in rows)), (), all(r.complete for r in rows))
            if any(isinstance(r, DictKeys) for r in rows):
                return DictKeys(frozenset(), (), False)
            return None
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)) and isinstance(node.elt, cst.Dict):
            self.expr(node.for_in.iter, env)
            return self.dict_keys(node.elt, env)
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value == "dict"
            and "dict" not in env
            and all(a.keyword is not None or a.star == "**" for a in node.args)
        ):
            for a in node.args:
                self.expr(a.value, env)
            keys = frozenset(a.keyword.value for a in node.args if a.keyword is not None)
            return DictKeys(keys, (), all(a.keyword is not None for a in node.args))
        if (
            isinstance(node, cst.BinaryOperation)
            and isinstance(node.operator, cst.BitOr)
            and isinstance(node.left, (cst.Dict, cst.Name))
            and isinstance(node.right, (cst.Dict, cst.Name))
        ):
            left, right = self.value(node.left, env), self.value(node.right, env)
            if isinstance(left, DictKeys) and isinstance(right, DictKeys):
                return DictKeys(left.keys | right.keys, (), left.complete and right.complete)
            if isinstance(left, DictKeys) or isinstance(right, DictKeys):
                found = left if isinstance(left, DictKeys) else right
                return DictKeys(found.keys, (), False)
            return None
        return super().value(node, env)

    def dict_keys(self, node: cst.Dict, env: Env) -> DictKeys:
        keys, values, complete = set(), [], True
        for el in node.elements:
            if isinstance(el, cst.DictElement):
                k = self.table_name(el.key)
                if k is None:
                    complete = False
                else:
                    keys.add(k)
                    values.append((k, el.value))
            else:
                complete = False
            self.expr(el.value, env)
        return DictKeys(frozenset(keys), tuple(values), complete)

    def call(self, node: cst.Call, env: Env):
        func = node.func
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        if method in ("table", "from_") and len(node.args) >= 1 and node.args[0].keyword is None:
            if isinstance(func.value, cst.Attribute) and func.value.attr.value == "storage":
                self.expr(func.value, env)
                return _BUCKET
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

    def embedded_tenant_columns(self, embeds: dict[str, str]) -> set[str]:
        """`conversations.workspace` for `select("*, conversations!inner(workspace)")`: an inner join keeps only the
        rows whose parent passes the filter, so the parent's tenant column (or a root's id) scopes them."""
        out = set()
        for alias, name in embeds.items():
            target = self.schema.table(name)
            if target is None:
                continue
            names = {"id"} if target.is_root else self.tenant_columns(target) if target.tenant is not None else set()
            out |= {f"{alias}.{c}".lower() for c in names}
        return out

    def table_name(self, node: cst.BaseExpression) -> str | None:
        """A string literal, or a module-level constant holding one (table and column names alike)."""
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
            if method == "select" and args and args[0].keyword is None:
                columns = _string(args[0].value)
                if columns and "!inner" in columns:
                    for st in base.states:
                        self.inner_embeds[id(st.origin)] = _inner_embeds(columns)
            states = []
            for s in base.states:
                if s.origin.kind is None:
                    s.origin.api = f"{s.origin.api}.{method}"
                    s.origin.kind = verb
                states.append(QState(s.origin, rows[id(s.origin)] if rows is not None else s.term))
            return QVal(tuple(states))
        if method in _STORAGE and all(s.origin.kind is None for s in base.states):
            for a in args:
                self.expr(a.value, env)
            return _BUCKET  # a storage bucket that shares its name with a table
        if method in _RUN:
            self.observe_value(base)
            return QVal(())
        if method in _PASS:
            for a in args:
                self.expr(a.value, env)
            return base
        terms = {
            id(s.origin): self.filter_term(method, args, s.origin.model, env, negated, self.inner_embeds.get(id(s.origin), {}))
            for s in base.states
        }
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

    def filter_term(self, method: str, args, table: ModelInfo, env: Env, negated: bool, embeds: dict[str, str]) -> Term:
        cols = self.tenant_columns(table) | self.embedded_tenant_columns(embeds)
        shared = table.tenant is not None and table.tenant.shared_when_null
        positional = [a.value for a in args if a.keyword is None]
        keyword = {a.keyword.value: a.value for a in args if a.keyword is not None}
        column = self.table_name(positional[0]) if positional else (self.table_name(keyword["column"]) if "column" in keyword else None)
        text = " ".join(_code(a.value) for a in args)
        if method == "match":
            d = positional[0] if positional else keyword.get("query")
            if isinstance(d, cst.Dict):
                keys = {self.table_name(el.key) for el in d.elements if isinstance(el, cst.DictElement)}
                if any(k and k.lower() in cols for k in keys):
                    return Term(D if negated else S, (f"match({text})",), "the tenant predicate is negated" if negated else "")
                return Term(N)
            v = self.value(d, env) if d is not None else None
            if isinstance(v, DictKeys):
                return Term(S, (f"match({text})",)) if any(k.lower() in cols for k in v.keys) else Term(N)
            return Term(U, (), f"match({text}) is built elsewhere")
        if method == "or_":
            node = positional[0] if positional else keyword.get("filters")
            spec = self.table_name(node) if node is not None else None
            if spec is None and isinstance(node, cst.FormattedString):
                spec = _template(node)  # f"org_id.eq.{org},status.eq.public": the shape is all we need
            if spec is None:
                return Term(U, (), "or_() filter string is built elsewhere")
            return self.or_term(spec, cols, shared)
        if method == "filter":
            op = self.table_name(positional[1]) if len(positional) > 1 else _string(keyword.get("operator"))
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
        """A postgrest `or` string: its branches OR-ed, `and(...)` / `or(...)` / `not.` groups followed."""
        no_share = []
        term = _or_all(spec, cols, shared, no_share)
        if term.status == N and not term.predicates:
            return Term(N)
        pred = (f'or_("{spec}")',)
        if term.status == D and no_share:
            return Term(D, pred, "an or_() branch with a NULL tenant on a table that shares no rows")
        reason = term.reason.replace("an OR branch", "an or_() branch")
        return Term(term.status, pred, reason, term.null_only)


def _or_all(spec: str, cols: set[str], shared: bool, no_share: list) -> Term:
    branches = [_condition(c.strip(), cols, shared, no_share) for c in _split_top(spec)]
    if not branches:
        return Term(N)
    term = branches[0]
    for b in branches[1:]:
        null_only = term.null_only and b.null_only
        term = t_or(term, b)
        if null_only:
            term = Term(term.status, term.predicates, term.reason, True)
    return term


def _condition(c: str, cols: set[str], shared: bool, no_share: list) -> Term:
    """One postgrest condition: `col.op.value`, `col.not.op.value`, `and(...)`, `or(...)`, `not.and(...)`."""
    low = c.lower()
    negated = low.startswith("not.")
    if negated:
        c, low = c[4:], low[4:]
    for word, combine in (("and(", t_and), ("or(", None)):
        if low.startswith(word) and c.endswith(")"):
            inner = c[len(word) : -1]
            if combine is None:
                term = _or_all(inner, cols, shared, no_share)
            else:
                parts = [_condition(p.strip(), cols, shared, no_share) for p in _split_top(inner)]
                term = Term(N)
                for p in parts:
                    term = t_and(term, p)
            return t_not(term) if negated else term
    parts = c.split(".", 2)
    if len(parts) < 2 or parts[0].lower() not in cols:
        return Term(N)
    op, rest = parts[1].lower(), parts[2] if len(parts) > 2 else ""
    if op == "not":
        negated = not negated
        op, _, rest = rest.partition(".")
        op = op.lower()
    if op in ("eq", "in"):
        term = Term(S, (c,))
    elif op == "is" and rest.lower() == "null":
        if not shared:
            no_share.append(c)
            return Term(N, (c,))  # rows of no tenant, on a table that shares none: never the caller's
        term = Term(S, (c,), "shared rows only", null_only=True)
    else:
        term = Term(D, (c,), f"the tenant predicate uses {op}") if op in ("neq",) else Term(N, (c,))
    return t_not(term) if negated else term


_INNER = re.compile(r"(?:(\w+)\s*:\s*)?(\w+)(?:!\w+)*?!inner\s*\(")


def _inner_embeds(columns: str) -> dict[str, str]:
    """{name used in filters: table} for the top-level `!inner` embeds of a select string."""
    out: dict[str, str] = {}
    depth = 0
    i = 0
    while i < len(columns):
        ch = columns[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and (i == 0 or not (columns[i - 1].isalnum() or columns[i - 1] in "_:!")):
            m = _INNER.match(columns, i)
            if m:
                alias, table = m.group(1), m.group(2)
                out[alias or table] = table
                i = m.end() - 1
                continue
        i += 1
    return out


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
    return short_code(node, 50)


ADAPTER = SupabaseAdapter()
