"""SQLAlchemy (1.x Query and 2.0 select), SQLModel and Flask-SQLAlchemy -> QuerySites.

Shares the Django adapter's statement walker (variables, branches, observation where a query runs or escapes)
and replaces what a query *is*:

* `session.query(M, ...)` chains with `filter`, `filter_by`, `where`, `join`, ... and `first`, `one`, `all`,
  `get`, `update`, `delete`; Flask-SQLAlchemy's `M.query...`;
* 2.0 statements `select(M)`, `update(M)`, `delete(M)`, `insert(M)` with `.where` / `.filter` / `.filter_by` /
  `.values`, which run where they are executed (`session.execute/scalars/scalar`, `connection.execute`), returned
  or passed on;
* `session.get(M, pk)`: a primary-key read, never tenant-filtered;
* `M(...)` added to a session (`add`, `add_all`, `merge`) without the tenant column, unless it is assigned first.

A tenant filter installed globally (`with_loader_criteria` in a `do_orm_execute` listener) is recognised in the
module that installs it; elsewhere a project names its tenant-scoped sessions in `scoped-sessions`.
"""
from __future__ import annotations

from typing import Iterable

import libcst as cst

from tenantlint.adapters.django import ModuleAnalysis
from tenantlint.adapters.django.lookups import _is_object_like, _kw_keys
from tenantlint.adapters.values import DictKeys, Env, NewObject, QState, QVal
from tenantlint.adapters.flow import D, N, NONE_TERM, S, U, Term, t_and, t_not, t_or
from tenantlint.config import Config
from tenantlint.python_module import PythonModule, dotted_name
from tenantlint.types import ModelInfo, QuerySite, Schema, SiteKind

_STATEMENTS = {"select": SiteKind.READ, "update": SiteKind.UPDATE, "delete": SiteKind.DELETE, "insert": SiteKind.INSERT}
_FILTERS = {"filter", "where", "filter_by", "having"}
_PASS = {
    "join", "outerjoin", "options", "order_by", "limit", "offset", "group_by", "distinct", "with_for_update",
    "execution_options", "select_from", "add_columns", "add_entity", "correlate", "params", "with_entities",
    "returning", "subquery", "cte", "alias", "scalar_subquery", "lateral", "union", "union_all", "label",
    "enable_eagerloads", "populate_existing", "yield_per", "autoflush", "with_only_columns", "join_from",
    "outerjoin_from", "prefix_with", "suffix_with", "exists", "ordered_values", "inline", "on_conflict_do_nothing",
    "on_conflict_do_update", "slice", "reset_joinpoint", "with_hint", "execution_options",
}
_TERMINAL = {
    "first", "one", "one_or_none", "all", "scalar", "count", "paginate", "first_or_404", "one_or_404",
    "get_or_404", "__iter__",
}
_USER_ROOTS = ("current_user", "g.user", "request.user", "flask_login.current_user")


def _root_name(node: cst.BaseExpression) -> str:
    text = dotted_name(node) or ""
    return text


class SQLAlchemyAdapter:
    name = "sqlalchemy"

    def wants(self, source: str) -> bool:
        return "sqlalchemy" in source or "sqlmodel" in source or ".query" in source or "session" in source or "select(" in source

    def applies(self, schema: Schema) -> bool:
        """Whether the project has any table this adapter can judge (a Django project needs no SQLAlchemy pass)."""
        return any(info.source in SQLAlchemyAnalysis.SOURCES for info in schema.models.values())

    def sites(self, module: PythonModule, schema: Schema, config: Config, index=None) -> Iterable[QuerySite]:
        return SQLAlchemyAnalysis(module, schema, config, index).run()


class SQLAlchemyAnalysis(ModuleAnalysis):
    SOURCES = frozenset({"sqlalchemy"})
    DRF_VIEWS = False
    def __init__(self, module: PythonModule, schema: Schema, config: Config, index=None):
        super().__init__(module, schema, config, index)
        self.scoped_sessions = set(config.scoped_sessions)
        self.global_criteria = "with_loader_criteria" in module.source
        self.accessors = {}  # no related managers in SQLAlchemy
        self.by_plain_name = {}
        for info in schema.models.values():
            if info.source in self.SOURCES:
                self.by_plain_name.setdefault(info.name.lower().replace("_", ""), info)
                self.by_plain_name.setdefault(info.table.lower().replace("_", ""), info)

    def implicit_parent(self, attr: str) -> ModelInfo | None:
        """`dataset_id` -> the tenant-owned Dataset, for schemas that declare no ForeignKey (ids in plain UUID columns)."""
        if not attr.endswith("_id") or len(attr) < 5:
            return None
        stem = attr[:-3].replace("_", "").lower()
        for key in (stem, stem + "s", stem + "es"):
            info = self.by_plain_name.get(key)
            if info is not None and (info.is_tenant_table or info.is_root):
                return info
        return None

    # -- what starts a query

    def entity(self, node: cst.BaseExpression) -> ModelInfo | None:
        """`M`, `M.id`, `aliased(M)` -> the model M; anything else -> None."""
        model = self.model_named(node)
        if model is not None:
            return model
        if isinstance(node, cst.Name):  # a Core Table held in a lower-case variable
            q = self.module.imports.qualify(node) or node.value
            info = self.schema.model_for(q)
            if info is not None and info.source in self.SOURCES:
                return info
        if isinstance(node, cst.Attribute):
            return self.model_named(node.value) if isinstance(node.value, (cst.Name, cst.Attribute)) else None
        if isinstance(node, cst.Call) and (dotted_name(node.func) or "").rsplit(".", 1)[-1] == "aliased" and node.args:
            return self.model_named(node.args[0].value)
        return None

    def start_term(self, session: cst.BaseExpression | None, env: Env) -> Term:
        if self.global_criteria:
            return Term(S, ("with_loader_criteria",), "a global tenant criteria is installed in this module", null_only=True)
        if session is not None:
            text = _root_name(session)
            if text and (text in self.scoped_sessions or text.rsplit(".", 1)[-1] in self.scoped_sessions or env.get(f"__scoped__{text}")):
                return Term(S, (text,), f"session {text} is declared tenant-scoped", null_only=True)
        return NONE_TERM

    def new_query(self, model: ModelInfo, api: str, kind: SiteKind, term: Term) -> QVal:
        origin = self.new_origin(model, api)
        origin.kind = kind
        return QVal((QState(origin, term),))

    def attribute(self, node: cst.Attribute, env: Env):
        if node.attr.value == "query":
            model = self.model_named(node.value)
            if model is not None:  # Flask-SQLAlchemy: Model.query
                return self.new_query(model, f"{model.name}.query", SiteKind.READ, self.start_term(None, env))
        return None

    def small(self, small: cst.CSTNode, env: Env) -> Env | None:
        if isinstance(small, cst.Assign) and isinstance(small.value, cst.Call):
            func = (dotted_name(small.value.func) or "").rsplit(".", 1)[-1]
            if func and (func in self.scoped_sessions) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                env[f"__scoped__{small.targets[0].target.value}"] = True
        return super().small(small, env)

    def statement(self, stmt: cst.CSTNode, env: Env) -> Env | None:
        if isinstance(stmt, cst.With):
            for item in stmt.items:
                if isinstance(item.item, cst.Call) and item.asname is not None and isinstance(item.asname.name, cst.Name):
                    func = (dotted_name(item.item.func) or "").rsplit(".", 1)[-1]
                    if func in self.scoped_sessions:
                        env[f"__scoped__{item.asname.name.value}"] = True
        return super().statement(stmt, env)

    def call(self, node: cst.Call, env: Env):
        func = node.func
        qualified = self.module.imports.qualify(func) or ""
        last = qualified.rsplit(".", 1)[-1]
        if last in _STATEMENTS and qualified.startswith(("sqlalchemy", "sqlmodel")) and node.args:
            model = self.entity(node.args[0].value)
            if model is None and _runtime_model_name(self.subst_node(node.args[0].value)):
                # select(relation_cls): a model picked at run time (mapper metadata, a parameter nobody passes a model)
                self._visit_args(node, env)
                model = self.unknown_model(self.subst_node(node.args[0].value))
                q = self.new_query(model, f"{last}({model.name})", _STATEMENTS[last], Term(U, (), "its model is picked at run time"))
                if _STATEMENTS[last] is SiteKind.INSERT:
                    q.states[0].origin.insert_keys = (set(), False)
                return q
            if model is None:
                self._visit_args(node, env)
                return None
            for a in node.args[1:]:
                self.expr(a.value, env)
            kind = _STATEMENTS[last]
            term = self.start_term(None, env) if kind is not SiteKind.INSERT else Term(N)
            q = self.new_query(model, f"{last}({model.name})", kind, term)
            if kind is SiteKind.INSERT:
                q.states[0].origin.insert_keys = (set(), True)
            return q
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method == "query" and node.args and node.args[0].keyword is None:
                model = self.entity(node.args[0].value)
                if model is not None:
                    self.expr(func.value, env)
                    for a in node.args[1:]:
                        self.expr(a.value, env)
                    return self.new_query(model, f"session.query({model.name})", SiteKind.READ, self.start_term(func.value, env))
            if method == "get" and len(node.args) >= 2 and node.args[0].keyword is None:
                model = self.entity(node.args[0].value)
                if model is not None:  # session.get(M, pk): a primary-key read
                    self.expr(func.value, env)
                    for a in node.args[1:]:
                        self.expr(a.value, env)
                    term = self.start_term(func.value, env)
                    pk = node.args[1].value
                    if term.status != S and _loaded_id(pk):
                        text = " ".join(self.module.tree.code_for_node(pk).split())
                        term = Term(S, (text,), "re-fetch by an id read from an object in hand", null_only=True)
                    q = self.new_query(model, f"session.get({model.name})", SiteKind.READ, term)
                    q.states[0].origin.observe(SiteKind.READ, term if term.status == S else Term(N, (), "session.get() reads by primary key only"))
                    return QVal(())
            if method in ("add", "add_all", "merge") and node.args:
                handled = self.add(node, env)
                if handled:
                    return QVal(())
            if method in ("execute", "exec") and len(node.args) >= 2 and node.args[0].keyword is None:
                # session.execute(insert(Event), rows): the rows carry the values
                stmt = self.expr(node.args[0].value, env, assign=True)
                if isinstance(stmt, QVal) and stmt.states and all(st.origin.kind is SiteKind.INSERT for st in stmt.states):
                    self.expr(func.value, env)
                    keys, complete = self.rows_keys(node.args[1].value, env)
                    for st in stmt.states:
                        had, had_complete = getattr(st.origin, "insert_keys", (set(), True))
                        st.origin.observe(SiteKind.INSERT, self.insert_term(st.origin.model, set(had) | keys, had_complete and complete))
                    for a in node.args[2:]:
                        self.expr(a.value, env)
                    return QVal(())
                self.observe_value(stmt)
                self.expr(func.value, env)
                for a in node.args[1:]:
                    self.expr(a.value, env)
                return QVal(())
            base = self.value(func.value, env)
            if isinstance(base, QVal):
                return self.apply(method, node, base, env)
            return None
        model = self.model_named(func)
        if model is not None and not model.is_root:
            self._visit_args(node, env)
            keys, complete = _kw_keys(node, env)
            origin = self.new_origin(model, f"{model.name}(...)")
            origin.kind = SiteKind.INSERT
            return NewObject(origin, set(keys) | ({"**"} if not complete else set()))
        return None

    def rows_keys(self, node: cst.BaseExpression, env: Env) -> tuple[set[str], bool]:
        """Keys every row dict has: a dict, a list of dicts, a comprehension building dicts, or one built here."""
        if isinstance(node, (cst.List, cst.Tuple)) and node.elements:
            rows = [self.rows_keys(e.value, env) for e in node.elements]
            return set.intersection(*(r[0] for r in rows)), all(r[1] for r in rows)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
            self.expr(node.for_in.iter, env)
            return self.rows_keys(node.elt, env)
        value = self.value(node, env) if isinstance(node, (cst.Dict, cst.Name)) else None
        if isinstance(value, DictKeys):
            return set(value.keys), value.complete
        self.expr(node, env)
        return set(), False

    def add(self, node: cst.Call, env: Env) -> bool:
        arg = node.args[0].value
        items = [e.value for e in arg.elements] if isinstance(arg, (cst.List, cst.Tuple)) else [arg]
        found = False
        for item in items:
            obj = None
            if isinstance(item, cst.Name):
                obj = env.get(item.value)
            elif isinstance(item, cst.Call):
                obj = self.expr(item, env, assign=True)
            if isinstance(obj, NewObject):
                found = True
                obj.origin.observe(SiteKind.INSERT, self.insert_term(obj.origin.model, obj.keys, "**" not in obj.keys))
        return found

    # -- what refines and runs it

    def apply(self, method: str, node: cst.Call, base: QVal, env: Env):
        self._extend_api(base, method)
        if method in _FILTERS:
            model = base.states[0].origin.model if base.states else None
            term = self.filter_by_term(node, model, env) if method == "filter_by" else self.conditions_term(node.args, model, env)
            return QVal(tuple(QState(s.origin, t_and(s.term, term), s.related) for s in base.states))
        if method == "values":
            self._visit_args(node, env)
            for s in base.states:
                if s.origin.kind is SiteKind.INSERT:
                    keys, complete = _kw_keys(node, env)
                    more, more_complete = self.dict_keys([a for a in node.args if a.keyword is None and a.star == ""], env)
                    keys, complete = keys | more, complete and more_complete
                    s.origin.insert_keys = (keys, complete)
            return QVal(tuple(
                QState(s.origin, self.insert_term(s.origin.model, s.origin.insert_keys[0], s.origin.insert_keys[1]) if s.origin.kind is SiteKind.INSERT else s.term, s.related)
                for s in base.states
            ))
        if method in _PASS:
            return self.passed(node, base, env)
        if method in _TERMINAL:
            return self.read_now(node, base, env)
        if method == "get":
            self._visit_args(node, env)
            for s in base.states:
                s.origin.observe(SiteKind.READ, s.term if s.term.status == S and s.term.null_only else Term(N, (), "Query.get() reads by primary key only"))
            return QVal(())
        if method in ("update", "delete") and base.states and base.states[0].origin.kind in (None, SiteKind.READ):
            self._visit_args(node, env)
            kind = SiteKind.UPDATE if method == "update" else SiteKind.DELETE
            for s in base.states:
                s.origin.observe(kind, s.term)
            return QVal(())
        return None

    # -- predicates

    def tenant_attrs(self, model: ModelInfo) -> set[str]:
        """Attribute names on `model` that hold or name the tenant: tenant_id, organization_id, organization."""
        out: set[str] = set()
        if model.tenant is None:
            return out
        for path in model.tenant.tenant_paths:
            if len(path) == 1:
                out.add(path[0])
                for c in model.columns:
                    if c.name == path[0] and c.attr:
                        out.add(c.attr)
                    if c.attr == path[0]:
                        out.add(c.name)
        if model.tenant.tenant_column:
            out.add(model.tenant.tenant_column)
            for c in model.columns:
                if c.name == model.tenant.tenant_column and c.attr:
                    out.add(c.attr)
        return out

    def parent_hops(self, model: ModelInfo) -> list[tuple[str, ModelInfo, str]]:
        """(fk attribute on model, parent model, tenant attribute on the parent) for ownership through a parent."""
        hops = []
        if model.tenant is None:
            return hops
        for path in model.tenant.tenant_paths:
            if len(path) >= 2:
                rel = next((r for r in model.relations if r.field == path[0]), None)
                parent = self.schema.model(rel.target) if rel else None
                if parent is not None:
                    hops.append((path[0], parent, path[1]))
        return hops

    def conditions_term(self, args, model: ModelInfo | None, env: Env) -> Term:
        term = Term(N)
        first = True
        for a in args:
            if a.star:
                self.expr(a.value, env)
                t = Term(U, (), f"filter(*{' '.join(self.module.tree.code_for_node(a.value).split())}) is built elsewhere", at=a.value)
            elif a.keyword is not None:
                self.expr(a.value, env)
                continue
            else:
                t = self.cond(a.value, model, env) if model is not None else Term(N)
                inner = self.expr(a.value, env, assign=True)
                if isinstance(inner, QVal):  # a subquery inside the condition
                    for st in inner.states:
                        if st.term.status == N and st.term.reason == _CORRELATED:
                            # select(Child.id).where(Child.parent_id == Parent.id).exists(): only the outer rows' children
                            st.origin.observe(st.origin.kind or SiteKind.READ, Term(S, st.term.predicates, "a subquery correlated with the outer query", null_only=True))
                        else:
                            st.origin.observe(st.origin.kind or SiteKind.READ, st.term)
            term = t if first else t_and(term, t)
            first = False
        return term

    def filter_by_term(self, node: cst.Call, model: ModelInfo | None, env: Env) -> Term:
        if model is None:
            return NONE_TERM
        attrs = self.tenant_attrs(model)
        hops = {h[0] for h in self.parent_hops(model)}
        term = Term(N)
        first = True
        for a in node.args:
            self.expr(a.value, env)
            if a.star == "**":
                v = self.value(a.value, env)
                keys = set(v.keys) if isinstance(v, DictKeys) else set()
                if keys & attrs:
                    t = Term(S, tuple(sorted(keys & attrs)))
                elif isinstance(v, DictKeys) and v.complete:
                    t = Term(N)
                else:
                    t = Term(U, (), f"filter_by(**{' '.join(self.module.tree.code_for_node(a.value).split())}) is built elsewhere", at=node)
            elif a.keyword is None:
                continue
            else:
                key = a.keyword.value
                text = f"{key}={' '.join(self.module.tree.code_for_node(a.value).split())}"
                if key in attrs:
                    t = Term(S, (text,)) if not _is_none(a.value) else self.null_term(model, text)
                elif (key in hops or self.implicit_parent(key) is not None) and _object_value(a.value):
                    t = Term(S, (text,), "through a tenant-owned parent", null_only=True)
                elif key in ("id",) and _loaded_id(a.value):
                    t = Term(S, (text,), "re-fetch of an object already loaded", null_only=True)
                elif _is_user(a.value):
                    t = Term(S, (text,), "rows of the requesting user", null_only=True)
                else:
                    t = Term(N)
            term = t if first else t_and(term, t)
            first = False
        return term

    def null_term(self, model: ModelInfo, text: str) -> Term:
        if model.tenant is not None and model.tenant.shared_when_null:
            return Term(S, (text,), "shared rows only", null_only=True)
        return Term(N)

    def column_of(self, node: cst.BaseExpression) -> tuple[ModelInfo, str] | None:
        """`Patient.tenant_id` -> (Patient, "tenant_id")."""
        if isinstance(node, cst.Attribute) and isinstance(node.value, (cst.Name, cst.Attribute)):
            model = self.model_named(node.value)
            if model is not None:
                return model, node.attr.value
        return None

    def cond(self, node: cst.BaseExpression, model: ModelInfo, env: Env) -> Term:
        if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
            target = node.comparisons[0]
            term = self.compare(node.left, target.operator, target.comparator, model)
            return self.row_key_term(target.comparator, term, env) if self.column_of(target.comparator) is None else term
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.BitAnd, cst.BitOr)):
            left, right = self.cond(node.left, model, env), self.cond(node.right, model, env)
            return t_and(left, right) if isinstance(node.operator, cst.BitAnd) else t_or(left, right)
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.BitInvert):
            return t_not(self.cond(node.expression, model, env))
        if isinstance(node, cst.Call):
            name = (self.module.imports.qualify(node.func) or "").rsplit(".", 1)[-1]
            if name in ("and_", "or_") and not (isinstance(node.func, cst.Attribute) and self.column_of(node.func.value) is not None):
                if any(a.star for a in node.args):
                    return Term(U, (), f"{name}(*...) is built elsewhere")
                terms = [self.cond(a.value, model, env) for a in node.args]
                if not terms:
                    return Term(N)
                out = terms[0]
                for t in terms[1:]:
                    out = t_and(out, t) if name == "and_" else t_or(out, t)
                return out
            if name == "not_" and node.args:
                return t_not(self.cond(node.args[0].value, model, env))
            if isinstance(node.func, cst.Attribute):
                method = node.func.attr.value
                col = self.column_of(node.func.value)
                if col is not None:
                    return self.method_cond(col, method, node, model, env)
        return Term(N)

    def method_cond(self, col: tuple[ModelInfo, str], method: str, node: cst.Call, model: ModelInfo, env: Env) -> Term:
        owner, attr = col
        text = " ".join(self.module.tree.code_for_node(node).split())
        is_tenant = self.is_tenant_column(owner, attr, model)
        if method in ("in_",) and is_tenant:
            return Term(S, (text,))
        if method in ("notin_", "not_in") and is_tenant:
            return Term(D, (text,), "not_in() on the tenant column selects the other tenants")
        if method == "is_" and is_tenant and node.args and _is_none(node.args[0].value):
            return self.null_term(model, text)
        if method in ("isnot", "is_not") and is_tenant:
            return Term(N)
        if method in ("has", "any") and owner is model and node.args:
            hop = next((h for h in self.parent_hops(model) if _rel_matches(h[0], attr)), None)
            if hop is not None:
                inner = self.cond(node.args[0].value, hop[1], env)
                if inner.status == S:
                    return Term(S, (text,), f"through {hop[1].name}", null_only=True)
        return Term(N)

    def is_tenant_column(self, owner: ModelInfo, attr: str, model: ModelInfo) -> bool:
        if owner.name == model.name:
            return attr in self.tenant_attrs(model)
        for fk, parent, parent_attr in self.parent_hops(model):
            if parent.name == owner.name and (attr == parent_attr or attr in self.tenant_attrs(parent)):
                return True
        return False

    def compare(self, left: cst.BaseExpression, op, right: cst.BaseExpression, model: ModelInfo) -> Term:
        col = self.column_of(left)
        other = right
        if col is None:
            col, other = self.column_of(right), left
        if col is None:
            return Term(N)
        owner, attr = col
        other = self.subst_node(_unwrap(self.subst_node(other)))
        text = " ".join(cst.Module(body=[]).code_for_node(left).split()) + " " + _op_text(op) + " " + " ".join(cst.Module(body=[]).code_for_node(right).split())
        other_col = self.column_of(other)
        if other_col is not None:
            # a join condition, or a correlation with the outer query when this statement is a subquery in one
            return Term(N, (), _CORRELATED if other_col[0].name != owner.name else "")
        eq = isinstance(op, (cst.Equal, cst.Is))
        ne = isinstance(op, (cst.NotEqual, cst.IsNot))
        inn = isinstance(op, cst.In)
        if self.is_tenant_column(owner, attr, model):
            if _is_none(other):
                return self.null_term(model, text) if eq else Term(N)
            if eq or inn:
                return Term(S, (text,))
            if ne or isinstance(op, cst.NotIn):
                return Term(D, (text,), "!= on the tenant column selects the other tenants")
            return Term(N)
        if owner.name != model.name or not eq:
            return Term(N)
        for fk, parent, _ in self.parent_hops(model):
            if _rel_matches(fk, attr) and _object_value(other):
                return Term(S, (text,), f"through the tenant-owned {parent.name}", null_only=True)
        parent = self.implicit_parent(attr)
        if parent is not None and _object_value(other) and not isinstance(other, cst.Name):
            return Term(S, (text,), f"through the tenant-owned {parent.name} in hand", null_only=True)
        if attr == "id" and _loaded_id(other):
            return Term(S, (text,), "re-fetch of an object already loaded", null_only=True)
        if _is_user(other):
            return Term(S, (text,), "rows of the requesting user", null_only=True)
        if eq and any((c.attr or c.name) == attr and c.unique for c in model.columns):
            return Term(N, (), f"the row is selected by its unique {attr}")
        return Term(N)


_CORRELATED = "compares with another table's column"


def _runtime_model_name(node: cst.BaseExpression) -> bool:
    """`relation_cls`, `self.model_class`, `entity_model`: a name that says it holds a model class."""
    name = node.value if isinstance(node, cst.Name) else node.attr.value if isinstance(node, cst.Attribute) else ""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value in ("self", "cls"):
        return False  # a class attribute or constructor argument: judged per concrete class
    return name[:1].islower() and (name in ("model", "model_class", "model_cls") or name.endswith(("_model", "_cls", "_class")))


def _unwrap(node: cst.BaseExpression) -> cst.BaseExpression:
    """`str(document.id)`, `UUID(x)`: a conversion keeps the value's origin."""
    while isinstance(node, cst.Call) and len(node.args) == 1 and (dotted_name(node.func) or "").rsplit(".", 1)[-1] in ("str", "int", "UUID", "uuid.UUID"):
        node = node.args[0].value
    return node


def _op_text(op) -> str:
    return {cst.Equal: "==", cst.NotEqual: "!=", cst.In: "in", cst.NotIn: "not in", cst.Is: "is", cst.IsNot: "is not"}.get(type(op), "?")


def _rel_matches(fk: str, attr: str) -> bool:
    return attr == fk or attr == fk.removesuffix("_id") or attr + "_id" == fk


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _is_user(node: cst.BaseExpression) -> bool:
    text = (dotted_name(node) or "").removesuffix(".id")
    return any(text == r or text.endswith("." + r) for r in _USER_ROOTS) or text in ("current_user", "current_account")


def _loaded_id(node: cst.BaseExpression) -> bool:
    if not (isinstance(node, cst.Attribute) and (node.attr.value in ("id", "pk") or node.attr.value.endswith("_id"))):
        return False
    root = node.value
    while isinstance(root, cst.Attribute):
        root = root.value
    if isinstance(root, cst.Name) and root.value in ("request", "args", "kwargs", "data", "payload", "params", "body"):
        return False
    return _is_object_like(node.value) or (isinstance(node.value, cst.Name) and node.value.value == "self")


def _object_value(node: cst.BaseExpression) -> bool:
    """`conversation.id`, `conversation`, `self.conversation_id`: a value read from an object in hand."""
    if isinstance(node, cst.Attribute):
        return _loaded_id(node) or _is_object_like(node)
    return isinstance(node, cst.Name) and _is_object_like(node)


ADAPTER = SQLAlchemyAdapter()
