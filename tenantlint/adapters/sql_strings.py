"""SQL written as strings in Python -> QuerySites, one per tenant-table reference of the statement.

Where SQL is executed:
* DB-API and psycopg `cursor.execute / executemany / mogrify`, psycopg 3 `connection.execute`, asyncpg
  `execute / fetch / fetchrow / fetchval`, SQLAlchemy `exec_driver_sql` and `text(...)`, Django `Manager.raw`,
  `RawSQL`, pandas `read_sql / read_sql_query`, psycopg2 `execute_values`, `psycopg.sql.SQL(...)` compositions, and
  every function named in `sql-functions`;
* a SQL builder (`text()`, `RawSQL()`, `sql.SQL()`) whose value is not executed in the same function (returned,
  handed to the ORM) is a site of its own.

How the text is read: literals and implicit concatenation, `+` and `+=`, f-strings, `%` and `.format()` (a value
that is not a known string becomes a placeholder), names assigned in the function (each branch an alternative),
module constants and constants imported from another module of the project, `sep.join(list)` over a list built in
the function (an item appended under an `if` or in a loop may be missing, so it does not count), psycopg's
`sql.SQL / Identifier / Literal / Placeholder / Composed`. The verdicts come from `tenantlint.sql`; the worst
alternative wins. Text that cannot be read, or SQL that does not parse, is a TL002 note with the reason. A reference
whose rows WHERE picks by their id from the values handed with the call is as restricted as those values, when the
adapter that follows the function's objects in hand left a judge of them on the module (`PythonModule.key_judges`).
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass, field, replace
from typing import Iterable

import libcst as cst

from tenantlint.config import Config
from tenantlint.index.project import SQL_BUILDERS
from tenantlint.python_module import children, PythonModule, api_name as _api, dotted_name, operator_entry, short_code as _code, string_value
from tenantlint.sql import judge_text, looks_like_query
from tenantlint.context.entry import sequence_entry
from tenantlint.types import ModelInfo, QuerySite, Restriction, Schema, Scope, SiteKind, Span

MAX_ALTERNATIVES = 8
# methods that run the SQL of their first argument; `fetch*` only when that argument is SQL text
_RUN_METHODS = {"execute", "executemany", "mogrify", "fetch", "fetchrow", "fetchval", "exec_driver_sql", "executescript", "read_sql", "read_sql_query", "raw"}
_ALWAYS_SQL = {"raw", "exec_driver_sql", "read_sql", "read_sql_query", "RawSQL", "text", "execute_values"}  # the argument can be nothing but SQL
_CURSOR_NAME = re.compile(r"(^|_)(cursor|cur|curs|conn|connection|db|database|pool)$", re.IGNORECASE)
_WANTS = re.compile(r"\.(execute|executemany|mogrify|fetch|fetchrow|fetchval|exec_driver_sql|raw|read_sql|read_sql_query|executescript)\(|\b(text|RawSQL|SQL|execute_values|read_sql)\(")
_SQL_STRING = re.compile(r"""(?:^|[\s"'(f])(?:SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|WITH|MERGE\s+INTO)\s""")
_IMPORTED_CONSTANT = re.compile(r"^\s*from\s+\S+\s+import\s+[^\n]*\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNRESOLVED = "__tl_"  # placeholder name of an interpolated value tenantlint could not read
_SEVERITY = {Scope.DEFEATED: 4, Scope.UNSCOPED: 3, Scope.UNKNOWN: 2, Scope.GUARDED: 1, Scope.SCOPED: 0}


@dataclass(frozen=True)
class _Text:
    """One way the SQL text can read; `unresolved` names the Python expressions standing in as placeholders."""

    value: str
    origins: tuple[tuple[str, Span], ...] = ()  # where parts of it are written, outside the call
    unresolved: tuple[tuple[str, str], ...] = ()  # (placeholder name, Python source) of each value spliced in
    builders: frozenset = frozenset()  # ids of the builder calls (text(), sql.SQL()) the text came through


@dataclass
class _List:
    """A list of SQL fragments built in the function: (alternatives, may be missing)."""

    items: list[tuple[list[_Text], bool]] = field(default_factory=list)


Value = "list[_Text] | _List | None"


def _cat(a: list[_Text], b: list[_Text]) -> list[_Text]:
    out = [_Text(x.value + y.value, x.origins + y.origins, x.unresolved + y.unresolved, x.builders | y.builders) for x in a for y in b]
    return _cap(out)


def _cap(alts: list[_Text]) -> list[_Text]:
    seen: dict[str, _Text] = {}
    for t in alts:
        seen.setdefault(t.value, t)
    return list(seen.values())[:MAX_ALTERNATIVES]


class SqlStringsAdapter:
    name = "sql"

    @staticmethod
    def needs_names(source: str) -> bool:
        """SQL names its tables in strings, possibly imported from another module: a file with SQL text, or one that
        imports a constant, is read even when it names no model; any other file only when it does."""
        return not (_SQL_STRING.search(source) or _IMPORTED_CONSTANT.search(source))
    follows_helpers = False  # judges the file's own calls only: the helpers' text does not make it run

    def wants(self, source: str) -> bool:
        return bool(_WANTS.search(source))

    def applies(self, schema: Schema) -> bool:
        return any(info.is_tenant_table for info in schema.tables.values())

    def sites(self, module: PythonModule, schema: Schema, config: Config, index=None) -> Iterable[QuerySite]:
        return _Analysis(module, schema, config, index).run()


class _Analysis:
    def __init__(self, module: PythonModule, schema: Schema, config: Config, index):
        self.module = module
        self.schema = schema
        self.config = config
        self.index = index
        self.sites: list[QuerySite] = []
        self.function = "<module>"
        self.cls: cst.ClassDef | None = None
        self.constants: dict[str, cst.BaseExpression] = {}
        self.class_constants: dict[str, dict[str, cst.BaseExpression]] = {}
        self.consumed: set[int] = set()  # builder calls whose text reached an execution call
        self.excluded: set[int] = set()  # arguments of `.exclude(...)` calls: what they select only removes rows
        self.builders: list[tuple[cst.Call, str]] = []
        self.entry = operator_entry(module.path)
        self._resolving: set[str] = set()
        self._tenant_words: set[str] | None = None
        self.stats: dict[str, int] = {"sites": 0, "resolved": 0, "parsed": 0, "flagged": 0, "unverifiable": 0}  # scripts/sql_census.py
        self.extra_functions = tuple(f for f in config.sql_functions if not _is_method(f))
        self.extra_methods = {f.rsplit(".", 1)[-1] for f in config.sql_functions if _is_method(f)}
        self.summary = index.by_rel.get(module.path) if index is not None else None
        self.interesting = _RUN_METHODS | _ALWAYS_SQL | SQL_BUILDERS | self.extra_methods | {f.rsplit(".", 1)[-1] for f in self.extra_functions}

    # -- walking

    def run(self) -> list[QuerySite]:
        body = self.module.tree.body
        for stmt in body:
            self._collect_constant(stmt, self.constants)
        self.block(body, {})
        self.flush_builders()
        return self.sites

    def _collect_constant(self, stmt, into: dict) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                    into[small.targets[0].target.value] = small.value
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
                    into[small.target.value] = small.value

    def function_body(self, node: cst.FunctionDef) -> None:
        saved = self.function, self.builders, self.consumed
        prefix = f"{self.cls.name.value}." if self.cls is not None and saved[0] == "<module>" else (f"{saved[0]}." if saved[0] != "<module>" else "")
        self.function = prefix + node.name.value
        if not self.may_run_sql(self.function):
            self.function = saved[0]
            return
        self.builders, self.consumed = [], set()
        params = node.params
        env = {p.name.value: None for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                env[star.name.value] = None
        self.block(node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body], env)
        self.flush_builders()
        self.function, self.builders, self.consumed = saved

    def may_run_sql(self, qualname: str) -> bool:
        """Whether a function can hold an execution call or a builder, from the calls its text makes (the project
        index reads them with a regex): most functions of a file that runs SQL somewhere do not."""
        summary = self.summary.functions.get(qualname) if self.summary is not None else None
        if summary is None:
            return True
        return not self.interesting.isdisjoint(summary.called)

    def flush_builders(self) -> None:
        """Builders whose text no execution call here consumed: the SQL runs elsewhere, judge it here. A builder
        handed to `.exclude(...)` (here, or by every caller of the function that returns it) only removes rows from
        that query: its tables are judged scoped, as a deny-list."""
        deny_all = None
        for call, api, env in self.builders:
            if id(call) in self.consumed:
                continue  # a fragment (`SQL(", ")`) is no query: only SQL-looking text counts
            before = len(self.sites)
            self.judge(call, api, call, env, always=False)
            if len(self.sites) == before:
                continue
            if deny_all is None:
                fid = f"{self.summary.module}:{self.function}" if self.summary is not None else ""
                deny_all = bool(fid) and self.index is not None and self.index.deny_list_only(fid)
            if id(call) in self.excluded or deny_all:
                reason = "a deny-list: it only removes rows from the query it is excluded from"
                self.sites[before:] = [replace(s, restriction=Restriction(Scope.SCOPED, s.restriction.predicates, reason))
                                       if s.restriction.scope in (Scope.UNSCOPED, Scope.DEFEATED) else s for s in self.sites[before:]]
        self.builders = []

    def block(self, stmts, env: dict) -> dict:
        for stmt in stmts:
            env = self.statement(stmt, env)
        return env

    def statement(self, stmt, env: dict) -> dict:
        if isinstance(stmt, cst.FunctionDef):
            self.function_body(stmt)
            return env
        if isinstance(stmt, cst.ClassDef):
            saved = self.cls
            self.cls = stmt
            consts: dict = {}
            for s in stmt.body.body:
                self._collect_constant(s, consts)
            self.class_constants[stmt.name.value] = consts
            for s in stmt.body.body:
                if isinstance(s, cst.FunctionDef):
                    self.function_body(s)
            self.cls = saved
            return env
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                env = self.small(small, env)
            return env
        if isinstance(stmt, cst.If):
            self.calls_in(stmt.test, env)
            then = self.block(stmt.body.body, dict(env))
            other = self.statement(stmt.orelse, dict(env)) if isinstance(stmt.orelse, cst.If) else self.block(stmt.orelse.body.body, dict(env)) if stmt.orelse else dict(env)
            return _merge(env, then, other)
        if isinstance(stmt, (cst.For, cst.While)):
            self.calls_in(stmt.iter if isinstance(stmt, cst.For) else stmt.test, env)
            inside = self.block(stmt.body.body, dict(env))
            after = _merge(env, inside, env)
            if stmt.orelse:
                after = self.block(stmt.orelse.body.body, after)
            return after
        if isinstance(stmt, (cst.With,)):
            for item in stmt.items:
                self.calls_in(item.item, env)
            return self.block(stmt.body.body, env)
        if isinstance(stmt, cst.Try):
            body = self.block(stmt.body.body, dict(env))
            out = body
            for h in stmt.handlers:
                out = _merge(env, out, self.block(h.body.body, dict(env)))
            if stmt.orelse:
                out = self.block(stmt.orelse.body.body, out)
            if stmt.finalbody:
                out = self.block(stmt.finalbody.body.body, out)
            return out
        if isinstance(stmt, cst.Else):
            return self.block(stmt.body.body, env)
        body = getattr(stmt, "body", None)
        if isinstance(body, cst.IndentedBlock):
            return self.block(body.body, env)
        return env

    def small(self, small, env: dict) -> dict:
        if isinstance(small, cst.Assign):
            self.calls_in(small.value, env)
            value = self.value(small.value, env)
            for t in small.targets:
                if isinstance(t.target, cst.Name):
                    env = {**env, t.target.value: value}
            return env
        if isinstance(small, cst.AnnAssign) and small.value is not None:
            self.calls_in(small.value, env)
            if isinstance(small.target, cst.Name):
                env = {**env, small.target.value: self.value(small.value, env)}
            return env
        if isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name) and isinstance(small.operator, cst.AddAssign):
            self.calls_in(small.value, env)
            name = small.target.value
            cur = env.get(name)
            if isinstance(cur, _List):
                more = self.value(small.value, env)
                items = list(cur.items) + (list(more.items) if isinstance(more, _List) else [])
                return {**env, name: _List(items)}
            if isinstance(cur, list):
                add = self.text(small.value, env)
                return {**env, name: _cat(cur, add) if add else None}
            return env
        if isinstance(small, cst.Expr):
            call = small.value
            if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name):
                name, method = call.func.value.value, call.func.attr.value
                cur = env.get(name)
                if isinstance(cur, _List) and method in ("append", "extend") and call.args:
                    self.calls_in(call, env)
                    if method == "append":
                        add = self.text(call.args[0].value, env)
                        return {**env, name: _List(cur.items + [(add or [], False)])} if add else {**env, name: None}
                    more = self.value(call.args[0].value, env)
                    return {**env, name: _List(cur.items + list(more.items))} if isinstance(more, _List) else {**env, name: None}
            self.calls_in(small.value, env)
            return env
        if isinstance(small, cst.Return) and small.value is not None:
            self.calls_in(small.value, env)
        return env

    # -- finding execution calls

    def calls_in(self, node: cst.CSTNode | None, env: dict) -> None:
        if node is None:
            return
        stack = [node]
        found: list[cst.Call] = []
        while stack:
            n = stack.pop()
            if isinstance(n, (cst.FunctionDef, cst.ClassDef)):
                continue  # judged on their own; a lambda's body runs here, or is handed on from here
            if isinstance(n, cst.Call):
                found.append(n)
            stack.extend(reversed(children(n)))
        for call in found:
            self.call(call, env)

    def call(self, call: cst.Call, env: dict) -> None:
        func = call.func
        name = dotted_name(func) or ""
        last = name.rsplit(".", 1)[-1] if name else (func.attr.value if isinstance(func, cst.Attribute) else "")
        if self.configured(name):
            arg = _sql_arg(call, 0)
            self.judge(call, _api(name), arg, env, always=True)
            return
        if isinstance(func, cst.Attribute) and last in self.extra_methods:
            # `Class.method` in sql-functions: any `.method(...)` whose first argument reads as SQL
            self.judge(call, _api(name or last), _sql_arg(call, 0), env, always=False)
            return
        if isinstance(func, cst.Attribute) and last in _RUN_METHODS:
            arg = _sql_arg(call, 0)
            if arg is None:
                return
            receiver = dotted_name(func.value) or ""
            always = last in _ALWAYS_SQL or bool(_CURSOR_NAME.search(receiver.rsplit(".", 1)[-1] if receiver else ""))
            self.judge(call, _api(name or last), arg, env, always=always and last != "fetch")
            return
        if last == "execute_values":
            self.judge(call, _api(name), _sql_arg(call, 1), env, always=True)
            return
        if last == "exclude":
            self.excluded |= {id(a.value) for a in call.args}  # `qs.exclude(id__in=RawSQL(...))`
        if last in ("RawSQL", "text") or (last == "SQL" and self.psycopg_sql(name)):
            if call.args:
                self.builders.append((call, _api(name), env))
            return

    def configured(self, name: str) -> bool:
        """A call of a function named in `sql-functions` (`app.db.run_query`), through this module's imports."""
        if not self.extra_functions or not name:
            return False
        head, _, rest = name.partition(".")
        full = self.module.imports.names.get(head)
        qualified = (f"{full}.{rest}" if rest else full) if full else f"{self.module.module_name.rpartition('.')[0]}.{name}"
        return any(qualified == f or qualified.endswith("." + f) or name == f for f in self.extra_functions)

    # -- judging one call

    def judge(self, call: cst.Call, api: str, arg: cst.BaseExpression | None, env: dict, always: bool) -> None:
        if arg is None:
            return
        texts = self.text(arg, env)
        for t in texts or ():
            self.consumed |= t.builders
        sql_texts = [t for t in texts or () if looks_like_query(t.value)]
        if always or sql_texts:
            self.stats["sites"] += 1
            self.stats["resolved"] += bool(sql_texts)
        before = len(self.sites)
        self._judge_texts(call, api, arg, env, always, texts)
        new = self.sites[before:]
        self.stats["unverifiable"] += any(s.table.opaque or s.restriction.scope is Scope.UNKNOWN for s in new)
        self.stats["flagged"] += any(s.restriction.scope in (Scope.UNSCOPED, Scope.DEFEATED) for s in new)
        self.stats["parsed"] += bool(sql_texts) and self._all_parsed

    def _judge_texts(self, call: cst.Call, api: str, arg, env: dict, always: bool, texts) -> None:
        self._all_parsed = True
        if not texts:
            if always and self.stringish(arg, env):
                self.unverifiable(call, api, f"the SQL text is built from `{_code(arg)}`, which tenantlint cannot read")
            elif always and _looks_sql_call(call):
                self.unverifiable(call, api, f"the SQL text comes from `{_code(arg)}`, which tenantlint cannot read")
            return
        texts = [_fields_as_holes(t) for t in texts if looks_like_query(t.value)]
        if not texts:
            return
        worst: dict[tuple[str, str, SiteKind], tuple[QuerySite, int]] = {}
        for t in texts:
            judged, parsed = judge_text(t.value, self.schema, self.config.sql_dialect)
            self._all_parsed = self._all_parsed and not parsed.failed
            for _line, error, piece in parsed.failed:
                if not looks_like_query(piece) or not self.mentions_tenant(piece):
                    continue  # names no tenant table or column: not a tenant query as far as tenantlint can tell
                why = f"sqlglot cannot read the SQL: {error}"
                if t.unresolved:
                    why = f"the SQL is built from {_names(t.unresolved)}, which tenantlint cannot read, and does not parse: {error}"
                self.unverifiable(call, api, why, t)
            for j in judged:
                table_hole = self.table_hole(j.statement.tree, t)
                if table_hole and self.mentions_tenant(t.value):
                    self.unverifiable(call, api, table_hole, t)
                    continue
                for v in j.verdicts:
                    r = self.adjust(v.restriction, j.statement.tree, t)
                    if r.scope is Scope.UNSCOPED and v.keys:
                        r = self.keyed(call, v.keys, r)
                    site = QuerySite(
                        kind=v.kind,
                        table=v.table,
                        restriction=r,
                        api=api,
                        anchor=call,
                        text=_numbered_by_position(" ".join(t.value.split())) + f"\0{v.alias}\0{v.kind.value}",
                        function=self.function,
                        related=self.related(t),
                        entry=self.entry or sequence_entry(v.sequence, r.scope is Scope.UNSCOPED),
                        alias=v.alias,
                    )
                    key = (v.table.table, v.alias, v.kind)
                    sev = _SEVERITY[r.scope]
                    if key not in worst or sev > worst[key][1]:
                        worst[key] = (site, sev)
        self.sites.extend(s for s, _ in worst.values())

    def adjust(self, r: Restriction, tree, t: _Text) -> Restriction:
        """A restriction the text may hold where tenantlint could not read it: a condition or table name
        interpolated from an unknown value makes an unrestricted verdict unknown."""
        if r.scope not in (Scope.UNSCOPED, Scope.DEFEATED) or not t.unresolved:
            return r
        from sqlglot import exp

        for ph in tree.find_all(exp.Placeholder):
            name = str(ph.name or "")
            if not name.startswith(_UNRESOLVED):
                continue
            parent = ph.parent
            if isinstance(parent, (exp.Where, exp.And, exp.Or, exp.Join, exp.Table, exp.From)) or parent is None:
                what = _names(t.unresolved, name)
                return Restriction(Scope.UNKNOWN, (), f"part of the SQL comes from {what}, which tenantlint cannot read")
        return r

    def keyed(self, call: cst.Call, keys: tuple, r: Restriction) -> Restriction:
        """A reference whose rows WHERE picks by their id (`id = ANY(%s)`, `id = tmp.id` of `(VALUES %s) AS tmp`) is as
        restricted as the ids handed with the statement: one tenant's when the adapter that follows this function's
        objects in hand judged, every time it passed this call, the value handed for them to be keys of one tenant's
        rows (ids a tenant-filtered query read, ids a validator checked, the id of an object in hand)."""
        judges = self.module.key_judges.get(id(call))
        if not judges:
            return r
        for column, param in keys:
            if column not in ("id", "pk"):
                continue
            value, column_index = _parameter_value(call, param)
            if value is None:
                continue
            reasons = [judge(value, column_index) for judge in judges]
            if all(reasons):
                return Restriction(Scope.SCOPED, (f"{column}={_code(value)}",), f"rows picked by their ids: {reasons[0]}")
        return r

    def mentions_tenant(self, text: str) -> bool:
        """The SQL names a tenant table or a tenant column somewhere (a statement on a vector store's dynamic
        collection names neither)."""
        if self._tenant_words is None:
            words = {c.lower() for c in self.config.tenant_columns}
            for info in self.schema.tables.values():
                if info.is_tenant_table:
                    words.add(info.table.lower())
                    if info.tenant and info.tenant.tenant_column:
                        words.add(info.tenant.tenant_column.lower())
            self._tenant_words = words
        return any(w.lower() in self._tenant_words for w in _WORD.findall(text))

    @staticmethod
    def table_hole(tree, t: _Text) -> str:
        """Why the tables of a statement cannot be known: a table name spliced in from a value tenantlint cannot read."""
        if not t.unresolved:
            return ""
        from sqlglot import exp

        for table in tree.find_all(exp.Table):
            if isinstance(table.this, exp.Placeholder) or str(table.name).startswith(_UNRESOLVED):
                what = _names(t.unresolved, str(table.this.name if isinstance(table.this, exp.Placeholder) else table.name))
                return f"the table name comes from {what}, which tenantlint cannot read"
        return ""

    def related(self, t: _Text) -> tuple:
        out = []
        for rel, span in t.origins[:3]:
            out.append((rel, span, "the SQL text is written here"))
        return tuple(out)

    def unverifiable(self, call: cst.Call, api: str, why: str, t: _Text | None = None) -> None:
        opaque = ModelInfo(name="sql", table="its SQL", source="sql", path=self.module.path, line=0, columns=(), relations=(), tenant=None, opaque=True)
        self.sites.append(
            QuerySite(SiteKind.READ, opaque, Restriction(Scope.UNKNOWN, (), why), api, call, f"{_code(call)}\0unverifiable", self.function, related=self.related(t) if t else (), entry=self.entry)
        )

    def stringish(self, node: cst.BaseExpression, env: dict) -> bool:
        """Evidence that the value is SQL text assembled in Python (so an unreadable part is worth a note)."""
        if isinstance(node, (cst.FormattedString, cst.SimpleString, cst.ConcatenatedString)):
            return True
        if isinstance(node, cst.BinaryOperation):
            return self.stringish(node.left, env) or self.stringish(node.right, env)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("format", "join"):
            return True
        if isinstance(node, cst.Name):
            v = env.get(node.value)
            return isinstance(v, list) and bool(v) and any(t.unresolved for t in v)
        return False

    # -- evaluating Python expressions to SQL text

    def value(self, node: cst.BaseExpression, env: dict):
        if isinstance(node, (cst.List, cst.Tuple)):
            items = []
            for e in node.elements:
                if isinstance(e, cst.StarredElement):
                    return None
                t = self.text(e.value, env)
                if t is None:
                    return None
                items.append((t, False))
            return _List(items)
        if isinstance(node, cst.Name) and isinstance(env.get(node.value), _List):
            return _List(list(env[node.value].items))
        return self.text(node, env)

    def text(self, node: cst.BaseExpression, env: dict) -> list[_Text] | None:
        try:
            return self._text(node, env, 0)
        except RecursionError:
            return None

    def _text(self, node, env: dict, depth: int) -> list[_Text] | None:
        if depth > 30:
            return None
        rec = lambda n, e=env: self._text(n, e, depth + 1)  # noqa: E731
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            v = string_value(node)
            return [_Text(v)] if v is not None else None
        if isinstance(node, cst.FormattedString):
            return self.fstring(node, env, depth)
        if isinstance(node, cst.Name):
            return self.name(node.value, env, depth)
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value in ("self", "cls") and self.cls is not None:
            val = self.class_constants.get(self.cls.name.value, {}).get(node.attr.value)
            return rec(val, {}) if val is not None else None
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.operator, cst.Add):
                left, right = rec(node.left), rec(node.right)
                if left is None and right is None:
                    return None
                # one side is text: the other is a fragment tenantlint cannot read, standing as a placeholder
                return _cat(left if left is not None else [self.hole(node.left)], right if right is not None else [self.hole(node.right)])
            if isinstance(node.operator, cst.Modulo):
                left = rec(node.left)
                if left is None:
                    return None
                return self.percent(left, node.right, env, depth)
            return None
        if isinstance(node, cst.Call):
            return self.call_text(node, env, depth)
        if isinstance(node, cst.IfExp):
            a, b = rec(node.body), rec(node.orelse)
            if a is None or b is None:
                return a or b
            return _cap(a + b)
        return None

    def name(self, name: str, env: dict, depth: int) -> list[_Text] | None:
        if name in env:
            v = env[name]
            return v if isinstance(v, list) else None
        if name in self.constants and name not in self._resolving:
            self._resolving.add(name)
            try:
                got = self._text(self.constants[name], {}, depth + 1)
            finally:
                self._resolving.discard(name)
            if got is not None:
                span = self.module.span_of(self.constants[name])
                return [_Text(t.value, ((self.module.path, span),) + t.origins if span else t.origins, t.unresolved, t.builders) for t in got]
            return None
        return self.imported(name)

    def imported(self, name: str) -> list[_Text] | None:
        """A constant imported from another module of the project (read from the project index)."""
        if self.index is None:
            return None
        qualified = self.module.imports.names.get(name)
        if not qualified:
            return None
        found = self.index.split_qualified(qualified)
        if found is None:
            return None
        summary, parts = found
        if len(parts) != 1:
            return None
        const = summary.constant(parts[0])
        if const is None:
            return None
        source, (line, col, end_line, end_col) = const
        try:
            expr = cst.parse_expression(f"(\n{source}\n)")
        except Exception:
            return None
        got = self._text(expr, {}, 1) if not isinstance(expr, cst.Name) else None
        if not got or got[0].unresolved:
            return None
        return [_Text(got[0].value, ((summary.rel, Span(line, col, end_line, end_col)),))]

    def fstring(self, node: cst.FormattedString, env: dict, depth: int) -> list[_Text]:
        out = [_Text("")]
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                out = _cat(out, [_Text(part.value.replace("{{", "{").replace("}}", "}"))])
            elif isinstance(part, cst.FormattedStringExpression):
                got = self._text(part.expression, env, depth + 1) if part.format_spec is None else None
                out = _cat(out, got if got is not None else [self.hole(part.expression)])
        return out

    def hole(self, expr: cst.BaseExpression) -> _Text:
        """A Python value spliced into the SQL: a placeholder that names it."""
        ph = _placeholder()
        return _Text(ph, (), ((ph[1:], _code(expr)),))

    def percent(self, left: list[_Text], right: cst.BaseExpression, env: dict, depth: int) -> list[_Text]:
        """`"... %s ..." % value`: known strings are spliced in; anything else stays a placeholder."""
        if isinstance(right, cst.Tuple):
            args = [e.value for e in right.elements]
        elif isinstance(right, cst.Dict):
            args = {string_value(e.key): e.value for e in right.elements if isinstance(e, cst.DictElement)}
        else:
            args = [right]
        out = []
        for t in left:
            pieces, i, unresolved = [], 0, list(t.unresolved)

            def sub(m: re.Match) -> str:
                nonlocal i
                spec, key = m.group(0), m.group(1)
                if spec == "%%":
                    return "%"
                if key is not None:
                    value = args.get(key) if isinstance(args, dict) else None
                else:
                    value = args[i] if isinstance(args, list) and i < len(args) else None
                    i += 1
                got = self._text(value, env, depth + 1) if value is not None else None
                if got:
                    unresolved.extend(got[0].unresolved)
                    return got[0].value
                ph = _placeholder()
                unresolved.append((ph[1:], _code(value) if value is not None else "a value"))
                return ph

            value = re.sub(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGcaou%]", sub, t.value)
            pieces.append(value)
            out.append(_Text("".join(pieces), t.origins, tuple(unresolved), t.builders))
        return _cap(out)

    def call_text(self, node: cst.Call, env: dict, depth: int) -> list[_Text] | None:
        func = node.func
        name = dotted_name(func) or ""
        last = name.rsplit(".", 1)[-1] if name else (func.attr.value if isinstance(func, cst.Attribute) else "")
        rec = lambda n: self._text(n, env, depth + 1)  # noqa: E731
        if last in SQL_BUILDERS and node.args and (last != "SQL" or isinstance(func, cst.Attribute) or "SQL" in self.module.imports.names):
            got = rec(node.args[0].value)
            return [_Text(g.value, g.origins, g.unresolved, g.builders | {id(node)}) for g in got] if got else got
        if last in ("Identifier",) and node.args:
            got = rec(node.args[0].value)
            return [_Text('"' + g.value + '"', g.origins, g.unresolved, g.builders) for g in got] if got else [self.hole(node)]
        if last in ("Literal", "Placeholder") and self.psycopg_sql(name):
            return [_Text("%s")]
        if isinstance(func, cst.Attribute) and func.attr.value == "format":
            base = rec(func.value)
            if base is None:
                return None
            return self.format(base, node, env, depth)
        if isinstance(func, cst.Attribute) and func.attr.value == "join" and len(node.args) == 1:
            sep = rec(func.value)
            if sep is None:
                return None
            return self.join(sep, node.args[0].value, env, depth)
        if isinstance(func, cst.Attribute) and func.attr.value in ("strip", "lstrip", "rstrip", "lower", "upper") and not node.args:
            return rec(func.value)
        if last == "Composed" and node.args and isinstance(node.args[0].value, (cst.List, cst.Tuple)):
            out = [_Text("")]
            for e in node.args[0].value.elements:
                got = rec(e.value)
                out = _cat(out, got if got is not None else [self.hole(e.value)])
            return out
        if last == "dedent" and node.args:
            import textwrap

            got = rec(node.args[0].value)
            return [_Text(textwrap.dedent(g.value), g.origins, g.unresolved, g.builders) for g in got] if got else None
        return None

    def psycopg_sql(self, name: str) -> bool:
        """`sql.Literal`, `psycopg.sql.Literal`, or a bare `Literal` imported from psycopg's sql module."""
        head = name.split(".", 1)[0]
        qualified = self.module.imports.names.get(head, head) + name[len(head):]
        return qualified.rsplit(".", 1)[0].endswith("sql")

    def format(self, base: list[_Text], node: cst.Call, env: dict, depth: int) -> list[_Text]:
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        out = []
        for t in base:
            pieces, auto, unresolved = [], 0, list(t.unresolved)
            try:
                parsed = list(string.Formatter().parse(t.value))
            except ValueError:
                return [t]
            for literal, fieldname, _spec, _conv in parsed:
                pieces.append(literal)
                if fieldname is None:
                    continue
                if fieldname == "":
                    value = positional[auto] if auto < len(positional) else None
                    auto += 1
                elif fieldname.isdigit():
                    value = positional[int(fieldname)] if int(fieldname) < len(positional) else None
                else:
                    value = keywords.get(fieldname)
                got = self._text(value, env, depth + 1) if value is not None else None
                if got:
                    pieces.append(got[0].value)
                    unresolved.extend(got[0].unresolved)
                else:
                    ph = _placeholder()
                    unresolved.append((ph[1:], _code(value) if value is not None else fieldname))
                    pieces.append(ph)
            out.append(_Text("".join(pieces), t.origins, tuple(unresolved), t.builders))
        return _cap(out)

    def join(self, sep: list[_Text], arg: cst.BaseExpression, env: dict, depth: int) -> list[_Text] | None:
        items = self.value(arg, env)
        if isinstance(arg, (cst.ListComp, cst.GeneratorExp)):
            return None
        if not isinstance(items, _List):
            return None
        kept = [alts for alts, maybe in items.items if not maybe]
        if not kept:
            return [_Text("TRUE")]  # every condition may be missing: as if none were there
        out = kept[0]
        for alts in kept[1:]:
            out = _cat(_cat(out, sep[:1]), alts)
        return out


def _merge(before: dict, a: dict, b: dict) -> dict:
    """Two branches join: a string may read either way; a list item added in only one branch may be missing."""
    out = {}
    for name in set(a) | set(b):
        x, y = a.get(name, before.get(name)), b.get(name, before.get(name))
        if x is y:
            out[name] = x
        elif isinstance(x, list) and isinstance(y, list):
            out[name] = _cap(x + y)
        elif isinstance(x, _List) and isinstance(y, _List):
            common = 0
            while common < min(len(x.items), len(y.items)) and x.items[common] is y.items[common]:
                common += 1
            out[name] = _List(x.items[:common] + [(alts, True) for alts, _ in x.items[common:]] + [(alts, True) for alts, _ in y.items[common:]])
        else:
            out[name] = None
    return out


_HOLES = iter(range(1 << 62))


def _placeholder() -> str:
    """A name unique in the process, so that two texts joined never share one; `_numbered_by_position` makes
    the text a fingerprint is taken of independent of what was read before."""
    return f":{_UNRESOLVED}{next(_HOLES)}"


_HOLE_NAME = re.compile(re.escape(_UNRESOLVED) + r"\d+")


def _numbered_by_position(text: str) -> str:
    """Placeholders renamed by their order in this text (`__tl_1`, `__tl_2`, ...)."""
    names: dict[str, str] = {}
    return _HOLE_NAME.sub(lambda m: names.setdefault(m.group(0), f"{_UNRESOLVED}{len(names) + 1}"), text)


_FIELD = re.compile(r"\{(\w*)\}")


def _fields_as_holes(t: _Text) -> _Text:
    """A template whose `{fields}` are filled in elsewhere (`SQL("... {clause} ...")` formatted by its caller):
    each field is a value tenantlint cannot read."""
    if "{" not in t.value:
        return t
    unresolved = list(t.unresolved)

    def sub(m: re.Match) -> str:
        ph = _placeholder()
        unresolved.append((ph[1:], "{" + m.group(1) + "}"))
        return ph

    return _Text(_FIELD.sub(sub, t.value), t.origins, tuple(unresolved), t.builders)


def _names(unresolved: tuple[tuple[str, str], ...], placeholder: str = "") -> str:
    """The Python sources behind placeholders, for a message: the one named, else the first three."""
    chosen = [code for ph, code in unresolved if ph == placeholder] or [code for _, code in unresolved[:3]]
    return ", ".join(f"`{c}`" for c in chosen)


def _is_method(name: str) -> bool:
    """`PgClient.query` names a method (its class is capitalised); `app.db.run_query` a function."""
    parts = name.split(".")
    return len(parts) >= 2 and parts[-2][:1].isupper()


def _sql_arg(call: cst.Call, index: int) -> cst.BaseExpression | None:
    for a in call.args:
        if a.keyword is not None and a.keyword.value in ("sql", "query", "operation", "statement", "raw_query", "stmt"):
            return a.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[index].value if index < len(positional) else None


def _parameter_value(call: cst.Call, param: tuple) -> tuple[cst.BaseExpression | None, int | None]:
    """The Python value a statement's parameter takes at this call, and the column of its rows when it is a list of
    rows: `execute_values(cur, sql, rows)` fills `VALUES %s` with `rows`; `cursor.execute(sql, [a, b])` fills the
    second `%s` with `b`, `cursor.execute(sql, {"ids": ids})` fills `%(ids)s` with `ids`."""
    name = dotted_name(call.func) or (call.func.attr.value if isinstance(call.func, cst.Attribute) else "")
    last = name.rsplit(".", 1)[-1]
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    if last == "execute_values":
        rows = keywords.get("argslist", positional[2] if len(positional) > 2 else None)
        return (rows, param[2]) if param[0] == "row" else (None, None)
    if last not in ("execute", "fetch", "fetchrow", "fetchval"):
        return None, None
    given = next((keywords[k] for k in ("params", "parameters", "vars", "args") if k in keywords), positional[1] if len(positional) > 1 else None)
    if param[0] == "at" and isinstance(given, (cst.List, cst.Tuple)) and not any(isinstance(e, cst.StarredElement) for e in given.elements):
        return (given.elements[param[1]].value, None) if param[1] < len(given.elements) else (None, None)
    if param[0] == "named" and isinstance(given, cst.Dict):
        for e in given.elements:
            if isinstance(e, cst.DictElement) and string_value(e.key) == param[1]:
                return e.value, None
    return None, None


def _looks_sql_call(call: cst.Call) -> bool:
    name = dotted_name(call.func) or ""
    return name.rsplit(".", 1)[-1] in _ALWAYS_SQL


ADAPTER = SqlStringsAdapter()
