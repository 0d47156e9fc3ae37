"""One SQL statement (a sqlglot tree) -> a verdict for every reference to a tenant table in it.

The question asked of each reference is the one PostgreSQL's answer depends on: can a row of another tenant reach
the result, or be written? A reference is *restricted* when every row of it that survives the statement's
predicates belongs to one tenant:

* a conjunct `alias.tenant_col = <value>` in WHERE or in the ON clause of an inner join (`IN (...)` and
  `= ANY(...)` over values too; `current_setting('app.…')` is a value); a LEFT JOIN's ON clause restricts only its
  right side, a RIGHT JOIN's only its left, a FULL JOIN's neither;
* equalities propagate: columns joined by `=` form one class, and a class that holds a value holds one tenant;
* a table owned only through a parent (no tenant column of its own) is restricted when its foreign key to the
  parent equals the key of a restricted parent row. A table *with* its own tenant column needs that column: a
  careless import can leave a row of tenant B pointing at a parent of tenant A;
* a CTE or derived table carries its restriction outwards through the columns it projects, and a restriction
  of its output columns in the outer query is pushed back into it; a correlated subquery sees its outer rows;
* OR restricts only what every branch restricts; NOT restricts nothing; `col IS NULL` restricts a table whose NULL
  rows are shared by every tenant;
* a tenant column in a SET clause, the SELECT list or ORDER BY restricts nothing;
* INSERT must write the tenant column (or, for a table owned through a parent, the key of the parent).

Nothing here knows where the text came from: adapters and the .sql file pass hand in statements.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from sqlglot import exp

from tenantlint.types import ModelInfo, Restriction, Schema, Scope, SiteKind

_COUNTER = itertools.count()
_TENANT = ("T",)  # a tenant value known from outside (current_setting, a restricted output column)


def _rows(table: str) -> tuple:
    return ("R", table)


def _value() -> tuple:
    return ("v", next(_COUNTER))


@dataclass(frozen=True, slots=True)
class TableVerdict:
    """One reference to a tenant table: which table, by which name, read or written, and its restriction."""

    table: ModelInfo
    alias: str
    kind: SiteKind
    restriction: Restriction
    # for an unrestricted reference, the columns WHERE ties to values passed with the statement, each with the
    # parameter that holds them: ("id", ("at", 0)) for `id = %s` (the first positional parameter), ("id", ("named",
    # "ids")) for `id = ANY(%(ids)s)`, ("id", ("row", 0, 1)) for `id = tmp.id` of `(VALUES %s) AS tmp (x, id)` (column
    # 1 of the rows of the first parameter); the caller may know those values are one tenant's keys
    keys: tuple[tuple[str, tuple], ...] = ()
    # the reference is read only for the largest key a sequence is set to: `SELECT setval('t_id_seq', (SELECT MAX(id)
    # FROM t))`, `SELECT setval(..., max(id)) FROM t` (a restore or migration renumbering every tenant's rows)
    sequence: bool = False


class _UnionFind:
    __slots__ = ("parent",)

    def __init__(self, parent: dict | None = None):
        self.parent = dict(parent or {})

    def copy(self) -> "_UnionFind":
        return _UnionFind(self.parent)

    def find(self, x):
        p = self.parent
        root = x
        while p.get(root, root) != root:
            root = p[root]
        while p.get(x, x) != root:
            p[x], x = root, p[x]
        return root

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb

    def members(self, x) -> list:
        root = self.find(x)
        return [k for k in self.parent if self.find(k) == root] + [root]

    def facts(self, x) -> frozenset:
        """What the class of `x` is known to hold: "value" (one tenant) and ("R", table) (restricted keys)."""
        out = set()
        for m in self.members(x):
            if m[0] in ("v", "T"):
                out.add("value")
            elif m[0] == "R":
                out.add(m)
        return frozenset(out)


@dataclass
class _Source:
    alias: str
    info: ModelInfo | None = None  # a base table the schema knows
    outputs: dict[str, frozenset] | None = None  # a derived table or CTE: its output columns and their facts
    derived: exp.Expression | None = None  # the query behind a derived source (re-analysed with pushed facts)
    cte: str | None = None  # the CTE this source reads
    kind: SiteKind = SiteKind.READ
    side: str = "inner"  # how it is joined: inner, left (this side may be NULL-extended), right, full
    on: exp.Expression | None = None
    node: exp.Expression | None = None


@dataclass
class _Scope:
    parent: "_Scope | None"
    uf: _UnionFind
    sources: dict[str, _Source] = field(default_factory=dict)
    ctes: dict[str, "_Cte"] = field(default_factory=dict)
    key: int = field(default_factory=lambda: next(_COUNTER))
    values: dict[str, tuple[tuple[str, ...], exp.Values]] = field(default_factory=dict)  # `(VALUES %s) AS tmp (a, b)`

    def cte(self, name: str) -> "_Cte | None":
        s: _Scope | None = self
        while s is not None:
            if name in s.ctes:
                return s.ctes[name]
            s = s.parent
        return None


@dataclass
class _Cte:
    name: str
    query: exp.Expression
    outputs: dict[str, frozenset]
    uses: list[dict[str, frozenset]] = field(default_factory=list)  # facts pushed by each use
    columns: tuple[str, ...] = ()


class StatementAnalysis:
    """Judges one statement against the schema; `verdicts` lists every tenant-table reference once."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.verdicts: list[TableVerdict] = []
        self._pending_ctes: list = []  # (scope, CTEs) whose bodies are recorded once every use of them is known

    # -- the schema, as the SQL sees it

    def table_info(self, table: exp.Table) -> ModelInfo | None:
        return self.schema.table(table.name) if table.name else None

    def tenant_column(self, info: ModelInfo) -> str | None:
        if info.tenant is None:
            return None
        return info.tenant.tenant_column.lower() if info.tenant.tenant_column else None

    def parent_keys(self, info: ModelInfo) -> list[tuple[str, str]]:
        """(foreign-key column, parent table) for the first hop of each path to the tenant root."""
        out = []
        if info.tenant is None or self.tenant_column(info):
            return out
        for path in info.tenant.tenant_paths:
            rel = next((r for r in info.relations if r.field == path[0]), None)
            if rel is None:
                continue
            parent = self.schema.model(rel.target) or self.schema.table(rel.target)
            if parent is not None:
                out.append((rel.column.lower(), parent.table.lower()))
        return out

    @staticmethod
    def columns_of(info: ModelInfo) -> list[str]:
        cols = ["id"] + [c.name.lower() for c in info.columns] + [r.column.lower() for r in info.relations]
        if info.tenant is not None and info.tenant.tenant_column:
            cols.append(info.tenant.tenant_column.lower())
        return list(dict.fromkeys(cols))

    # -- entry

    def run(self, statement: exp.Expression) -> list[TableVerdict]:
        root = _Scope(None, _UnionFind())
        self.statement_tree = statement
        self._positions: dict[int, int] | None = None
        self.statement(statement, root)
        return self.verdicts

    def statement(self, node: exp.Expression, scope: _Scope) -> None:
        if isinstance(node, (exp.Select, exp.SetOperation, exp.Subquery)):
            self.query(node, scope, {}, record=True)
        elif isinstance(node, exp.Insert):
            self.insert(node, scope)
        elif isinstance(node, (exp.Update, exp.Delete)):
            self.update_delete(node, scope)
        elif isinstance(node, exp.Merge):
            self.merge(node, scope)
        # anything else (DDL, SET, commands) reads and writes no tenant rows the way a query does

    # -- queries

    def query(self, node: exp.Expression, parent: _Scope, pushed: dict[str, frozenset], record: bool) -> dict[str, frozenset]:
        """Analyse a query (SELECT, set operation, parenthesised); return its output columns and their facts."""
        while isinstance(node, exp.Subquery):
            node = node.this
        if isinstance(node, exp.SetOperation):
            # UNION / INTERSECT / EXCEPT: every branch's rows decide the result; columns match by position
            scope = self.with_ctes(node, parent, record)
            left = self.query(node.this, scope, pushed, record)
            names = list(left)
            right = self.query(node.expression, scope, _rename(pushed, names, self.output_names(node.expression)), record)
            rvals = list(right.values())
            if record:
                self.flush_ctes(scope)
            return {name: left[name] & (rvals[i] if i < len(rvals) else frozenset()) for i, name in enumerate(names)}
        if not isinstance(node, exp.Select):
            return {}
        scope = self.with_ctes(node, parent, record)
        return self.select(node, scope, pushed, record)

    def with_ctes(self, node: exp.Expression, parent: _Scope, record: bool) -> _Scope:
        scope = _Scope(parent, parent.uf.copy())
        with_ = node.args.get("with_") or node.args.get("with")
        if not with_:
            return scope
        recursive = bool(with_.args.get("recursive"))
        ctes = list(with_.expressions)
        for cte in ctes:
            name = cte.alias_or_name.lower()
            cols = tuple(c.name.lower() for c in (cte.args.get("alias").columns if cte.args.get("alias") else []) or [])
            body = cte.this
            entry = _Cte(name, body, {}, columns=cols)
            if recursive and isinstance(body, exp.SetOperation):
                # the anchor branch first, then the recursive branch with the anchor's facts, to a fixed point
                entry.outputs = _named(self.query(body.this, scope, {}, record=False), cols)
                scope.ctes[name] = entry
                for _ in range(3):
                    out = _named(self.query(body, scope, {}, record=False), cols)
                    if out == entry.outputs:
                        break
                    entry.outputs = out
            else:
                entry.outputs = _named(self.query(body, scope, {}, record=False), cols)
            scope.ctes[name] = entry
        if record:
            self._pending_ctes.append((scope, ctes))
        return scope

    def finish_ctes(self, scope: _Scope, ctes: list) -> None:
        """Record the references inside each CTE, with what every use of it restricts pushed in (later CTEs first:
        they may use earlier ones)."""
        for cte in reversed(ctes):
            entry = scope.ctes.get(cte.alias_or_name.lower())
            if entry is None:
                continue
            pushed: dict[str, frozenset] = {}
            if entry.uses:
                keys = set.intersection(*(set(k for k, v in u.items() if v) for u in entry.uses))
                pushed = {k: frozenset.intersection(*(u[k] for u in entry.uses)) for k in keys}
            if isinstance(entry.query, (exp.Insert, exp.Update, exp.Delete, exp.Merge)):
                self.statement(entry.query, scope)  # a data-modifying CTE: a write of its own
                continue
            pushed = _unnamed(pushed, entry.columns, self.output_names(entry.query))
            self.query(entry.query, scope, pushed, record=True)

    def select(self, node: exp.Select, scope: _Scope, pushed: dict[str, frozenset], record: bool) -> dict[str, frozenset]:
        self.add_sources(node, scope)
        where = node.args.get("where")
        preds = _conjuncts(where.this) if where is not None else []
        preds += self.grouped_having(node)
        self.seed_pushed(node, scope, pushed)
        restricted, uf = self.solve_scope(scope, preds)
        if record:
            self.record(node, scope, preds, restricted, uf)
        return self.outputs(node, scope, uf)

    def record(self, node: exp.Expression, scope: _Scope, preds: list, restricted: dict[str, bool], uf: _UnionFind) -> None:
        """Verdicts for this scope's tables, then for what it nests: subqueries, derived tables and CTEs with the
        restrictions this scope puts on their columns."""
        self.record_scope(scope, preds, restricted, uf, sequence=isinstance(node, exp.Select) and _sets_sequence(node))
        self.nested(node, scope, uf, skip=self.derived_nodes(scope))
        for alias, src in scope.sources.items():
            self.push_into(src, alias, uf, scope)
        self.flush_ctes(scope)

    @staticmethod
    def grouped_having(node: exp.Select) -> list[exp.Expression]:
        """HAVING conjuncts over grouped columns only: they keep or drop whole groups, as WHERE would."""
        having, group = node.args.get("having"), node.args.get("group")
        if having is None or group is None:
            return []
        grouped = {g.sql().lower() for g in group.expressions if isinstance(g, exp.Column)}
        out = []
        for c in _conjuncts(having.this):
            cols = list(c.find_all(exp.Column))
            if cols and not any(isinstance(x, exp.AggFunc) for x in c.walk()) and all(col.sql().lower() in grouped for col in cols):
                out.append(c)
        return out

    def flush_ctes(self, scope: _Scope) -> None:
        keep = []
        for s, ctes in self._pending_ctes:
            if s is scope:
                self.finish_ctes(s, ctes)
            else:
                keep.append((s, ctes))
        self._pending_ctes = keep

    def derived_nodes(self, scope: _Scope) -> set[int]:
        return {id(s.derived) for s in scope.sources.values() if s.derived is not None}

    def add_sources(self, node: exp.Expression, scope: _Scope) -> None:
        """FROM and JOIN sources (read), with the side each join keeps and its ON clause."""
        from_ = node.args.get("from_") or node.args.get("from")
        if from_ is not None:
            self.add_source(from_.this, scope, "inner", None, SiteKind.READ)
        for join in node.args.get("joins") or []:
            side = (join.args.get("side") or "").upper()
            kind_ = (join.args.get("kind") or "").upper()
            how = {"LEFT": "left", "RIGHT": "right", "FULL": "full"}.get(side, "inner")
            if kind_ == "CROSS":
                how = "inner"
            src = self.add_source(join.this, scope, how, join.args.get("on"), SiteKind.READ)
            using = join.args.get("using")
            if src is not None and using:
                for ident in using:
                    col = ident.name.lower()
                    for other in scope.sources.values():
                        if other is not src and col in self.source_columns(other):
                            scope.uf.union(self.term(scope, other.alias, col), self.term(scope, src.alias, col))

    def add_source(self, item: exp.Expression, scope: _Scope, side: str, on, kind: SiteKind) -> _Source | None:
        alias = item.alias_or_name.lower() if hasattr(item, "alias_or_name") else ""
        if isinstance(item, exp.Table):
            name = item.name.lower()
            cte = scope.cte(name) if not item.args.get("db") else None
            if cte is not None:
                src = _Source(alias or name, outputs=dict(cte.outputs), cte=name, side=side, on=on, node=item)
            else:
                src = _Source(alias or name, info=self.table_info(item), kind=kind, side=side, on=on, node=item)
        elif isinstance(item, (exp.Subquery, exp.Lateral)):
            query = item.this
            cols = tuple(c.name.lower() for c in (item.args.get("alias").columns if item.args.get("alias") else []) or [])
            outputs = _named(self.query(query, scope, {}, record=False), cols)
            src = _Source(alias, outputs=outputs, derived=query, side=side, on=on, node=item)
        else:
            if isinstance(item, exp.Values) and alias and item.args.get("alias") is not None:
                scope.values[alias] = (tuple(c.name.lower() for c in item.args["alias"].columns or []), item)
            return None  # a table function, VALUES list, ...: rows of no tenant table
        scope.sources[src.alias] = src
        if src.outputs:
            for col, facts in src.outputs.items():
                self.seed(scope.uf, self.term(scope, src.alias, col), facts)
        return src

    @staticmethod
    def seed(uf: _UnionFind, term, facts: frozenset) -> None:
        for f in facts:
            uf.union(term, _TENANT if f == "value" else f)

    def source_columns(self, src: _Source) -> list[str]:
        if src.info is not None:
            return self.columns_of(src.info)
        return list(src.outputs or {})

    @staticmethod
    def term(scope: _Scope, alias: str, col: str) -> tuple:
        return ("c", scope.key, alias, col)

    def resolve(self, col: exp.Column, scope: _Scope) -> tuple | None:
        """The term of a column reference: its source in this scope or an outer one (correlation)."""
        name = col.name.lower()
        qual = col.table.lower() if col.table else ""
        s: _Scope | None = scope
        while s is not None:
            if qual:
                if qual in s.sources:
                    return self.term(s, qual, name)
                match = [a for a, src in s.sources.items() if src.info is not None and src.info.table.lower() == qual]
                if len(match) == 1:
                    return self.term(s, match[0], name)
            else:
                having = [a for a, src in s.sources.items() if name in self.source_columns(src)]
                if len(having) == 1:
                    return self.term(s, having[0], name)
                if len(s.sources) == 1 and not having:
                    return self.term(s, next(iter(s.sources)), name)
                if having:
                    return None  # ambiguous
            s = s.parent
        return None

    # -- predicates

    def value_term(self, node: exp.Expression, scope: _Scope, uf: _UnionFind) -> tuple | None:
        while isinstance(node, (exp.Cast, exp.Paren, exp.TryCast)):
            node = node.this
        if isinstance(node, exp.Column):
            return self.resolve(node, scope)
        if isinstance(node, (exp.Placeholder, exp.Parameter)):
            return _value()
        if isinstance(node, exp.Literal):
            return _value()
        if isinstance(node, exp.Anonymous) and node.name.lower() == "current_setting":
            return _TENANT
        if isinstance(node, (exp.Subquery, exp.Select)):
            outs = self.query(node, scope, {}, record=False)
            if len(outs) >= 1:
                facts = next(iter(outs.values()))
                t = ("s", next(_COUNTER))
                self.seed(uf, t, facts)
                return t if facts else None
        return None

    def add_atom(self, pred: exp.Expression, scope: _Scope, uf: _UnionFind) -> None:
        if isinstance(pred, exp.EQ):
            left, right = pred.this, pred.expression
            if isinstance(right, exp.Any):
                right = right.this
                while isinstance(right, exp.Paren):
                    right = right.this
                if isinstance(right, (exp.Placeholder, exp.Parameter)):
                    lt = self.value_term(left, scope, uf)
                    if lt is not None:
                        uf.union(lt, _value())
                return
            a, b = self.value_term(left, scope, uf), self.value_term(right, scope, uf)
            if a is not None and b is not None:
                uf.union(a, b)
        elif isinstance(pred, exp.In):
            lt = self.value_term(pred.this, scope, uf)
            if lt is None:
                return
            query = pred.args.get("query")
            if query is not None:
                outs = self.query(query, scope, {}, record=False)
                if outs:
                    self.seed(uf, lt, next(iter(outs.values())))
                return
            items = pred.expressions
            if items and all(isinstance(_strip(i), (exp.Placeholder, exp.Parameter, exp.Literal)) for i in items):
                uf.union(lt, _value())

    def solve(self, scope: _Scope, preds: list, uf: _UnionFind) -> tuple[set[str], _UnionFind]:
        """Aliases of this scope restricted by the conjuncts `preds` (on top of what `uf` already knows)."""
        uf = uf.copy()
        ors = []
        for p in preds:
            p = _strip(p)
            if isinstance(p, exp.Or):
                ors.append(p)
            else:
                self.add_atom(p, scope, uf)
        forced: set[str] = self.null_shared(scope, preds)
        for o in ors:
            branches = _disjuncts(o)
            results = []
            for b in branches:
                sub, _ = self.solve(scope, _conjuncts(b), uf)
                results.append(sub)
            forced |= set.intersection(*results) if results else set()
        return self.close(scope, uf, forced), uf

    def null_shared(self, scope: _Scope, preds: list) -> set[str]:
        """Aliases whose tenant column is compared IS NULL in `preds`, on tables whose NULL rows every tenant shares."""
        out = set()
        for p in preds:
            p = _strip(p)
            if isinstance(p, exp.Is) and isinstance(p.expression, exp.Null) and not p.args.get("negate") and isinstance(p.this, exp.Column):
                t = self.resolve(p.this, scope)
                if t is None or t[1] != scope.key:
                    continue
                src = scope.sources.get(t[2])
                if src and src.info is not None and src.info.tenant is not None and src.info.tenant.shared_when_null and t[3] == self.tenant_column(src.info):
                    out.add(t[2])
        return out

    def close(self, scope: _Scope, uf: _UnionFind, forced: set[str]) -> set[str]:
        restricted = set(forced)
        changed = True
        while changed:
            changed = False
            for alias, src in scope.sources.items():
                if alias in restricted:
                    continue
                if self.is_restricted(src, alias, scope, uf):
                    restricted.add(alias)
                    changed = True
            for alias in restricted:
                src = scope.sources[alias]
                if src.info is not None:
                    key = self.term(scope, alias, "id")
                    if _rows(src.info.table.lower()) not in uf.members(key):
                        uf.union(key, _rows(src.info.table.lower()))
                    col = self.tenant_column(src.info)
                    if col and "value" not in uf.facts(self.term(scope, alias, col)):
                        uf.union(self.term(scope, alias, col), _TENANT)
        return restricted

    def is_restricted(self, src: _Source, alias: str, scope: _Scope, uf: _UnionFind) -> bool:
        info = src.info
        if info is None:
            return False
        if info.is_root:
            key = uf.facts(self.term(scope, alias, "id"))
            if "value" in key:
                return True
            for c in info.columns:
                if c.unique and "value" in uf.facts(self.term(scope, alias, c.name.lower())):
                    uf.union(self.term(scope, alias, "id"), _TENANT)
                    return True
            return False
        if _rows(info.table.lower()) in uf.facts(self.term(scope, alias, "id")):
            return True  # its key is the key of a restricted row of the same table: it is that row
        col = self.tenant_column(info)
        if col:
            return "value" in uf.facts(self.term(scope, alias, col))
        for fk, parent in self.parent_keys(info):
            if _rows(parent) in uf.facts(self.term(scope, alias, fk)):
                return True
        return False

    def solve_scope(self, scope: _Scope, preds: list) -> tuple[dict[str, bool], _UnionFind]:
        """Restriction of each source: WHERE and inner ON clauses for all; an outer join's ON for its own side."""
        common = list(preds)
        names = list(scope.sources)
        rejecting = self.null_rejected(scope, preds)
        for i, (alias, src) in enumerate(scope.sources.items()):
            # a WHERE conjunct that rejects NULL on the NULL-extended side turns the outer join into an inner one
            if src.side == "left" and alias in rejecting:
                src.side = "inner"
            elif src.side == "right" and any(a in rejecting for a in names[:i]):
                src.side = "inner"
            elif src.side == "full":
                left_kept, right_kept = any(a in rejecting for a in names[:i]), alias in rejecting
                src.side = "inner" if left_kept and right_kept else "left" if left_kept else "right" if right_kept else "full"
        for src in scope.sources.values():
            if src.on is not None and src.side == "inner":
                common.extend(_conjuncts(src.on))
        restricted, uf = self.solve(scope, common, scope.uf)
        out = {a: a in restricted for a in scope.sources}
        for i, (alias, src) in enumerate(scope.sources.items()):
            if src.on is None or src.side == "inner" or src.side == "full":
                continue
            extra, _ = self.solve(scope, common + _conjuncts(src.on), scope.uf)
            if src.side == "left" and alias in extra:
                out[alias] = True
            elif src.side == "right":
                for earlier in names[:i]:
                    if earlier in extra:
                        out[earlier] = True
        # a LEFT JOIN's preserved side is not restricted by the right side's ON clause, whatever the WHERE says
        return out, uf

    def null_rejected(self, scope: _Scope, preds: list) -> set[str]:
        """Aliases of this scope that a top-level WHERE comparison requires to be non-NULL."""
        out = set()
        for p in preds:
            p = _strip(p)
            if isinstance(p, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Like, exp.ILike)):
                for side in (p.this, p.args.get("expression")):
                    side = _strip(side) if side is not None else None
                    while isinstance(side, (exp.Cast, exp.TryCast)):
                        side = side.this
                    if isinstance(side, exp.Column):
                        t = self.resolve(side, scope)
                        if t is not None and t[1] == scope.key:
                            out.add(t[2])
        return out

    # -- recording

    def record_scope(self, scope: _Scope, preds: list, restricted: dict[str, bool], uf: _UnionFind, sequence: bool = False) -> None:
        for alias, src in scope.sources.items():
            if src.info is None or src.info.tenant is None:
                continue
            r = self.restriction(scope, alias, src, preds, restricted.get(alias, False))
            keys = self.parameter_keys(scope, alias, preds) if r.scope is Scope.UNSCOPED else ()
            self.verdicts.append(TableVerdict(src.info, alias, src.kind, r, keys, sequence=sequence and src.kind is SiteKind.READ))

    def parameter_keys(self, scope: _Scope, alias: str, preds: list) -> tuple[tuple[str, tuple], ...]:
        """The columns of `alias` that a conjunct ties to a parameter: `col = %s`, `col = ANY(%s)`, `col IN %s`,
        `col IN (%s)`, or `col = tmp.c` where `tmp` is `(VALUES %s) AS tmp (..., c, ...)`."""
        out = []
        for pred in preds:
            pairs = []
            if isinstance(pred, exp.EQ):
                pairs = [(pred.this, pred.expression), (pred.expression, pred.this)]
            elif isinstance(pred, exp.In) and not pred.args.get("query"):
                items = pred.expressions
                value = pred.args.get("field") or (items[0] if len(items) == 1 else None)
                pairs = [(pred.this, value)] if value is not None else []
            for col, value in pairs:
                col = _strip(col)
                if not isinstance(col, exp.Column) or self.resolve(col, scope) != self.term(scope, alias, col.name.lower()):
                    continue
                param = self.parameter(_strip(value.this if isinstance(value, exp.Any) else value), scope)
                if param is not None:
                    out.append((col.name.lower(), param))
        return tuple(out)

    @property
    def positions(self) -> dict[int, int]:
        """Positional parameters (`%s`, `?`) numbered in the order the text writes them: a tree walk does not visit
        clauses in that order (a CTE after the SET clause), so the generated SQL of a copy whose parameters carry
        their walk index says it. Computed when a reference first needs it."""
        if self._positions is None:
            anon = [p for p in self.statement_tree.find_all(exp.Placeholder, bfs=False) if not p.this]
            self._positions = {id(anon[0]): 0} if len(anon) == 1 else {}
            if len(anon) > 1:
                copy = self.statement_tree.copy()
                marked = [p for p in copy.find_all(exp.Placeholder, bfs=False) if not p.this]
                for i, p in enumerate(marked):
                    p.set("this", f"tlparam{i}")
                try:
                    order = [int(i) for i in re.findall(r"tlparam(\d+)", copy.sql(dialect="postgres"))]
                except Exception:  # a tree sqlglot cannot write back: no parameter is placed
                    order = []
                if sorted(order) == list(range(len(anon))):
                    self._positions = {id(anon[walk]): written for written, walk in enumerate(order)}
        return self._positions

    def parameter(self, node: exp.Expression | None, scope: _Scope) -> tuple | None:
        while isinstance(node, (exp.Cast, exp.Paren, exp.TryCast)):
            node = node.this
        if isinstance(node, exp.Placeholder):
            if node.this:
                return ("named", str(node.name))
            return ("at", self.positions[id(node)]) if id(node) in self.positions else None
        if isinstance(node, exp.Column) and node.table:
            s: _Scope | None = scope
            while s is not None:  # the VALUES list may be a source of an outer query
                if node.table.lower() in s.values and node.table.lower() not in s.sources:
                    cols, values = s.values[node.table.lower()]
                    rows = values.expressions
                    holes = rows[0].expressions if len(rows) == 1 and isinstance(rows[0], exp.Tuple) else []
                    if len(holes) == 1 and isinstance(holes[0], exp.Placeholder) and not holes[0].this \
                            and node.name.lower() in cols and id(holes[0]) in self.positions:
                        return ("row", self.positions[id(holes[0])], cols.index(node.name.lower()))
                    return None
                if node.table.lower() in s.sources:
                    return None
                s = s.parent
        return None

    def restriction(self, scope: _Scope, alias: str, src: _Source, preds: list, restricted: bool) -> Restriction:
        if restricted:
            return Restriction(Scope.SCOPED, (), "restricted in the SQL")
        col = self.tenant_column(src.info) or ""
        keys = {col} | {fk for fk, _ in self.parent_keys(src.info)}
        clauses = list(preds) + [s.on for s in scope.sources.values() if s.on is not None]
        for clause in clauses:
            for c in clause.find_all(exp.Column):
                if c.name.lower() not in keys or self.resolve(c, scope) != self.term(scope, alias, c.name.lower()):
                    continue
                p = c.parent
                while p is not None and p is not clause.parent:
                    if isinstance(p, exp.Or):
                        return Restriction(Scope.DEFEATED, (), "OR admits rows of other tenants")
                    if isinstance(p, exp.Not):
                        return Restriction(Scope.DEFEATED, (), "NOT inverts the tenant predicate")
                    if isinstance(p, exp.NEQ):
                        return Restriction(Scope.DEFEATED, (), "the tenant column is compared with <>")
                    p = p.parent
        return Restriction(Scope.UNSCOPED, (), "")

    def nested(self, node: exp.Expression, scope: _Scope, uf: _UnionFind, skip: set[int]) -> None:
        """Subqueries in predicates, the SELECT list, ORDER BY, ...: each is read with this scope as its outer rows."""
        for sub in _subqueries(node, skip):
            self.query(sub, _solved(scope, uf), {}, record=True)

    def push_into(self, src: _Source, alias: str, uf: _UnionFind, scope: _Scope) -> None:
        """What the outer query restricts of a derived table's or CTE's columns, pushed back into it."""
        if src.outputs is None:
            return
        pushed = {col: uf.facts(self.term(scope, alias, col)) for col in src.outputs}
        if src.cte is not None:
            cte = scope.cte(src.cte)
            if cte is not None:
                cte.uses.append(pushed)
            return
        if src.derived is not None:
            cols = tuple(c.name.lower() for c in (src.node.args.get("alias").columns if src.node.args.get("alias") else []) or [])
            self.query(src.derived, _solved(scope, uf), _unnamed(pushed, cols, self.output_names(src.derived)), record=True)

    def seed_pushed(self, node: exp.Select, scope: _Scope, pushed: dict[str, frozenset]) -> None:
        if not pushed:
            return
        for proj in node.expressions:
            if isinstance(proj, exp.Star) or (isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star)):
                for name, facts in pushed.items():
                    col = exp.column(name, table=proj.table if isinstance(proj, exp.Column) else None)
                    t = self.resolve(col, scope)
                    if t is not None:
                        self.seed(scope.uf, t, facts)
                continue
            name = proj.alias_or_name.lower()
            facts = pushed.get(name)
            target = proj.this if isinstance(proj, exp.Alias) else proj
            if facts and isinstance(_strip(target), exp.Column):
                t = self.resolve(_strip(target), scope)
                if t is not None:
                    self.seed(scope.uf, t, facts)

    def outputs(self, node: exp.Select, scope: _Scope, uf: _UnionFind) -> dict[str, frozenset]:
        out: dict[str, frozenset] = {}
        for proj in node.expressions:
            if isinstance(proj, exp.Star) or (isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star)):
                qual = proj.table.lower() if isinstance(proj, exp.Column) and proj.table else ""
                for alias, src in scope.sources.items():
                    if qual and alias != qual:
                        continue
                    for col in self.source_columns(src):
                        out.setdefault(col, uf.facts(self.term(scope, alias, col)))
                continue
            name = proj.alias_or_name.lower()
            target = _strip(proj.this if isinstance(proj, exp.Alias) else proj)
            facts = frozenset()
            if isinstance(target, exp.Column):
                t = self.resolve(target, scope)
                if t is not None:
                    facts = uf.facts(t)
            out[name] = facts
        return out

    @staticmethod
    def output_names(node: exp.Expression) -> list[str]:
        while isinstance(node, exp.Subquery):
            node = node.this
        if isinstance(node, exp.SetOperation):
            return StatementAnalysis.output_names(node.this)
        if isinstance(node, exp.Select):
            return [p.alias_or_name.lower() for p in node.expressions]
        return []

    # -- writes

    def update_delete(self, node: exp.Expression, parent: _Scope) -> None:
        scope = self.with_ctes(node, parent, True)
        kind = SiteKind.UPDATE if isinstance(node, exp.Update) else SiteKind.DELETE
        target = node.this
        if isinstance(target, exp.Table):
            self.add_source(target, scope, "inner", None, kind)
        if isinstance(node, exp.Update):
            self.add_sources(node, scope)
        for item in node.args.get("using") or []:
            self.add_source(item, scope, "inner", None, SiteKind.READ)
        where = node.args.get("where")
        preds = _conjuncts(where.this) if where is not None else []
        restricted, uf = self.solve_scope(scope, preds)
        self.record(node, scope, preds, restricted, uf)

    def insert(self, node: exp.Insert, parent: _Scope) -> None:
        scope = self.with_ctes(node, parent, True)
        target = node.this
        columns: list[str] | None = None
        opaque_columns = False
        if isinstance(target, exp.Schema):
            columns = [c.name.lower() for c in target.expressions]
            opaque_columns = any(not isinstance(c, (exp.Identifier, exp.Column)) for c in target.expressions)
            target = target.this
        if not isinstance(target, exp.Table):
            return
        info = self.table_info(target)
        alias = target.alias_or_name.lower()
        source = node.args.get("expression")
        written = self.insert_restriction(info, columns, source) if info is not None else None
        if opaque_columns and written is not None and written.scope is not Scope.SCOPED:
            written = Restriction(Scope.UNKNOWN, (), "the column list is built elsewhere: cannot tell whether it names the tenant column")
        if info is not None and info.tenant is not None:
            self.verdicts.append(TableVerdict(info, alias, SiteKind.INSERT, written))
        if source is not None and not isinstance(source, exp.Values):
            self.query(source, scope, {}, record=True)
        elif isinstance(source, exp.Values):
            for sub in _subqueries(source, set()):
                self.query(sub, scope, {}, record=True)
        conflict = node.args.get("conflict")
        if conflict is not None and info is not None and info.tenant is not None:
            keys = self.tenant_keys(info)
            conflict_cols = _conflict_columns(conflict)
            updates = "UPDATE" in str(conflict.args.get("action") or "").upper()
            if conflict_cols and not keys & conflict_cols and not updates:
                # whether the row is written depends on a row of any tenant with the same key: an existence probe,
                # not a read of another tenant's data, so a note (the key is usually the row's own id)
                why = f"ON CONFLICT ({', '.join(sorted(conflict_cols))}) DO NOTHING checks a key without the tenant column against every tenant's rows"
                self.verdicts.append(TableVerdict(info, alias, SiteKind.READ, Restriction(Scope.UNKNOWN, (), why)))
            if updates:  # the update verdict says it all: the conflicting row may be another tenant's
                self.verdicts.append(TableVerdict(info, alias, SiteKind.UPDATE, self.conflict_restriction(info, alias, columns, conflict, written, scope)))
        self.flush_ctes(scope)

    def tenant_keys(self, info: ModelInfo) -> set[str]:
        col = self.tenant_column(info)
        return {col} if col else {fk for fk, _ in self.parent_keys(info)}

    def insert_restriction(self, info: ModelInfo, columns: list[str] | None, source) -> Restriction:
        keys = self.tenant_keys(info)
        if columns is None:
            return Restriction(Scope.UNKNOWN, (), "INSERT without a column list: name the columns so the tenant column can be seen")
        hit = [i for i, c in enumerate(columns) if c in keys]
        if not hit:
            return Restriction(Scope.UNSCOPED, (), "")
        if isinstance(source, exp.Values):
            for row in source.expressions:
                vals = row.expressions if isinstance(row, exp.Tuple) else [row]
                if any(i < len(vals) and isinstance(_strip(vals[i]), exp.Null) for i in hit):
                    return Restriction(Scope.UNSCOPED, (), "the tenant column is written as NULL")
        return Restriction(Scope.SCOPED, (columns[hit[0]],), "the tenant column is written")

    def conflict_restriction(self, info, alias, columns, conflict, written: Restriction, parent: _Scope) -> Restriction:
        keys = self.tenant_keys(info)
        conflict_cols = _conflict_columns(conflict)
        if written.scope is Scope.SCOPED and keys & conflict_cols:
            return Restriction(Scope.SCOPED, (), "the conflict target includes the tenant column")
        where = conflict.args.get("where")
        if where is not None:
            scope = _Scope(parent, parent.uf.copy())
            scope.sources[alias] = _Source(alias, info=info, kind=SiteKind.UPDATE)
            excluded = _Source("excluded", outputs={c: (frozenset({"value"}) if written.scope is Scope.SCOPED and c in keys else frozenset()) for c in (columns or [])})
            scope.sources["excluded"] = excluded
            for c, f in excluded.outputs.items():
                self.seed(scope.uf, self.term(scope, "excluded", c), f)
            restricted, _ = self.solve(scope, _conjuncts(where.this), scope.uf)
            if alias in restricted:
                return Restriction(Scope.SCOPED, (), "ON CONFLICT ... WHERE restricts the updated row")
        if not conflict_cols:
            return Restriction(Scope.UNKNOWN, (), "ON CONFLICT on a named constraint: cannot tell whether it includes the tenant column")
        return Restriction(Scope.UNSCOPED, (), "ON CONFLICT DO UPDATE on a key without the tenant column can update another tenant's row")

    def merge(self, node: exp.Merge, parent: _Scope) -> None:
        scope = self.with_ctes(node, parent, True)
        target = node.this
        if not isinstance(target, exp.Table):
            return
        whens = node.args.get("whens")
        whens = list(whens.expressions) if whens is not None else []
        kinds = []
        for w in whens:
            then = w.args.get("then")
            if w.args.get("matched"):
                kinds.append(SiteKind.DELETE if isinstance(then, exp.Var) and then.name.upper() == "DELETE" else SiteKind.UPDATE)
        kind = kinds[0] if kinds else SiteKind.READ
        t = self.add_source(target, scope, "inner", None, kind)
        using = node.args.get("using")
        s = self.add_source(using, scope, "inner", None, SiteKind.READ) if using is not None else None
        preds = _conjuncts(node.args.get("on")) if node.args.get("on") is not None else []
        restricted, uf = self.solve(scope, preds, scope.uf)
        info = t.info if t is not None else None
        if info is not None and info.tenant is not None and kinds:
            for k in dict.fromkeys(kinds):
                r = Restriction(Scope.SCOPED, (), "the ON clause restricts the target") if t.alias in restricted else self.restriction(scope, t.alias, t, preds, False)
                self.verdicts.append(TableVerdict(info, t.alias, k, r))
        inserts_unmatched = any(not w.args.get("matched") for w in whens)
        if s is not None and s.info is not None and s.info.tenant is not None:
            ok = s.alias in restricted and not inserts_unmatched
            self.verdicts.append(TableVerdict(s.info, s.alias, SiteKind.READ, Restriction(Scope.SCOPED, (), "") if ok else self.restriction(scope, s.alias, s, [] if inserts_unmatched else preds, False)))
        if s is not None:
            self.push_into(s, s.alias, uf, scope)
        for w in whens:
            then = w.args.get("then")
            if not w.args.get("matched") and isinstance(then, exp.Insert) and info is not None and info.tenant is not None:
                cols = [c.name.lower() for c in then.this.expressions] if isinstance(then.this, exp.Tuple) else None
                vals = then.args.get("expression")
                source = exp.Values(expressions=[vals]) if isinstance(vals, exp.Tuple) else None
                self.verdicts.append(TableVerdict(info, t.alias, SiteKind.INSERT, self.insert_restriction(info, cols, source)))
        self.nested(node, scope, uf, skip=self.derived_nodes(scope))
        self.flush_ctes(scope)


# -- tree helpers


def _solved(scope: _Scope, uf: _UnionFind) -> _Scope:
    """The scope as its nested queries see it: its sources, with what its predicates established."""
    inner = _Scope(scope.parent, uf)
    inner.sources, inner.ctes, inner.key = scope.sources, scope.ctes, scope.key
    return inner


_SEQUENCE_SETTERS = {"setval"}


def _sets_sequence(select: exp.Select) -> bool:
    """The SELECT reads its tables only for an aggregate a sequence is set to: every projection is `setval(...)` over
    aggregates and constants (`SELECT setval('t_id_seq', max(id)) FROM t`), or every projection is an aggregate and the
    SELECT is an argument of `setval(...)` (`SELECT setval('t_id_seq', (SELECT MAX(id) FROM t))`). No GROUP BY: one
    number over every row."""
    if select.args.get("group") is not None or not select.expressions:
        return False

    def setter(node: exp.Expression) -> bool:
        return isinstance(node, exp.Anonymous) and str(node.this).lower() in _SEQUENCE_SETTERS

    def aggregate_only(node: exp.Expression) -> bool:
        return all(col.find_ancestor(exp.AggFunc) is not None for col in node.find_all(exp.Column))

    projections = [_strip(p.this if isinstance(p, exp.Alias) else p) for p in select.expressions]
    if all(setter(p) and aggregate_only(p) for p in projections):
        return True
    if not all(isinstance(p, exp.AggFunc) for p in projections):
        return False
    parent = select.parent
    while isinstance(parent, (exp.Subquery, exp.Paren, exp.Coalesce)):
        parent = parent.parent
    return parent is not None and setter(parent)


def _strip(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    if node is None:
        return []
    node = _strip(node)
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


def _disjuncts(node: exp.Expression) -> list[exp.Expression]:
    node = _strip(node)
    if isinstance(node, exp.Or):
        return _disjuncts(node.this) + _disjuncts(node.expression)
    return [node]


def _subqueries(node: exp.Expression, skip: set[int]) -> list[exp.Expression]:
    """Queries nested directly in `node` (not in its FROM sources, not inside other nested queries)."""
    out = []

    def walk(n: exp.Expression) -> None:
        for child in n.iter_expressions():
            if id(child) in skip or isinstance(child, (exp.With, exp.CTE)):
                continue
            if isinstance(child, (exp.Select, exp.SetOperation)):
                out.append(child)
                continue
            if isinstance(child, (exp.From, exp.Join)) and isinstance(child.this, exp.Table):
                continue
            if isinstance(child, (exp.Subquery, exp.Lateral)) and id(child.this) in skip:
                continue
            walk(child)

    walk(node)
    return out


def _conflict_columns(conflict: exp.OnConflict) -> set[str]:
    """The columns of `ON CONFLICT (a, b)`; empty for `ON CONFLICT ON CONSTRAINT name`."""
    return {_strip(k.this if isinstance(k, exp.Ordered) else k).name.lower() for k in conflict.args.get("conflict_keys") or []}


def _named(outputs: dict[str, frozenset], cols: tuple[str, ...]) -> dict[str, frozenset]:
    """Output columns renamed by a column list (`AS d(a, b)`, `WITH t(a, b) AS`)."""
    if not cols:
        return outputs
    vals = list(outputs.values())
    return {c: (vals[i] if i < len(vals) else frozenset()) for i, c in enumerate(cols)}


def _unnamed(pushed: dict[str, frozenset], cols: tuple[str, ...], inner_names: list[str]) -> dict[str, frozenset]:
    """Facts pushed on renamed columns, keyed by the inner query's own output names."""
    if not cols:
        return pushed
    return {inner_names[i]: pushed[c] for i, c in enumerate(cols) if i < len(inner_names) and c in pushed}


def _rename(pushed: dict[str, frozenset], names: list[str], other: list[str]) -> dict[str, frozenset]:
    return {other[i]: pushed[n] for i, n in enumerate(names) if i < len(other) and n in pushed}
