"""Django ORM -> QuerySites.

A query *starts* where a model's manager, a related manager or `get_object_or_404` appears and is
*observed* where it runs or escapes (a terminal method, iteration, `return`, an argument). Between
the two it may be held in a local variable and refined in later statements; each function body is
walked once, statement by statement, with an environment that maps names to the possible states of
the queries they hold. Branches are walked separately and merged, so a filter applied on only one
path does not scope the query. A query is reported once, on the expression where it starts, with the
worst state it was observed in.

Tenant predicates are judged against the schema's tenant paths: `organization=org`,
`organization_id=...`, `patient__organization=org`, and a parent object that is itself tenant-owned
(`patient=patient`). `Q` objects combine with `&`, `|`, `~`; `exclude()` negates.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator

import libcst as cst

from tenantlint.adapters.flow import D, N, NONE_TERM, ROW_KEY, S, SCOPED_TERM, U, Term, t_and, t_not, t_or, worst
from tenantlint.adapters.values import _SEQ, DictKeys, Env, NewObject, Origin, QState, QTerm, QVal, Rows, merge_envs  # noqa: F401 (re-exported)
from tenantlint.adapters.helpers import HelperCalls, _assigned_names, _required_params, param_names
from tenantlint.config import Config
from tenantlint.index.project import ProjectIndex
from tenantlint.python_module import PythonModule, descendants, dotted_name, names_in, keyword_arg, operator_entry, short_code, string_value
from tenantlint.types import ModelInfo, QuerySite, Restriction, Schema, Scope, SiteKind, TenantTable

# --- Django vocabulary --------------------------------------------------------------------------

_OPERATORS = {
    "exact", "iexact", "in", "isnull", "contains", "icontains", "gt", "gte", "lt", "lte", "startswith",
    "istartswith", "endswith", "iendswith", "range", "regex", "iregex", "date", "year", "month", "day",
}
_PASS = {
    "all", "order_by", "select_related", "prefetch_related", "values", "values_list", "only", "defer", "distinct",
    "annotate", "alias", "using", "select_for_update", "reverse", "extra", "dates", "datetimes", "none",
    "filter_by_pk", "iterator", "union", "intersection", "difference",
}
_TERMINAL_READ = {
    "get", "first", "last", "count", "exists", "aggregate", "latest", "earliest", "in_bulk", "iterator",
    "explain", "contains", "afirst", "alast", "aget", "acount", "aexists", "aaggregate", "alatest", "aearliest",
    "ain_bulk", "aiterator", "acontains",
}
_FILTERS = {"filter", "get", "aget", "exclude"}
_WRITES = {"update": SiteKind.UPDATE, "aupdate": SiteKind.UPDATE, "delete": SiteKind.DELETE, "adelete": SiteKind.DELETE}
_CREATES = {"create", "acreate", "bulk_create", "abulk_create", "get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"}
_QS_METHODS = _PASS | _TERMINAL_READ | _FILTERS | set(_WRITES) | _CREATES | {"bulk_update", "abulk_update", "raw"}
_NOT_MANAGERS = {"DoesNotExist", "MultipleObjectsReturned", "_meta", "pk", "objects_raw"}
# a manager of a model picked at run time: `self.fields[f].Meta.model.objects`, `queryset.model._default_manager`
_RUNTIME_MODEL = re.compile(r"\b(?:model|model_class|model_cls|\w+_model)\.(?:objects|_default_manager|_base_manager)\b")
# calls that read one row: the object they return is a row in hand
_ONE_ROW = {"get", "aget", "first", "afirst", "last", "alast", "earliest", "latest", "one", "one_or_none", "scalar_one",
            "scalar_one_or_none", "scalar", "get_object_or_404", "aget_object_or_404", "first_or_404", "one_or_404", "get_or_404"}
_SHORTCUTS = {"get_object_or_404", "get_list_or_404", "aget_object_or_404", "aget_list_or_404"}
_TENANT_KEYS = {"id", "pk", "uuid", "slug", "string_id", "subdomain", "domain", "key", "public_id", "external_id"}
_ID_NAME = re.compile(r"(^|_)(id|ids|pk|pks|uuid|slug)$")


# --- the adapter --------------------------------------------------------------------------------


class DjangoAdapter:
    name = "django"

    def wants(self, source: str) -> bool:
        return any(
            s in source
            for s in (".objects", "_or_404", "queryset", ".filter(", ".all()", ".create(", ".exclude(", ".update(", ".delete(", "_set.", "_manager", ".get(")
        )

    @staticmethod
    def needs_names(source: str) -> bool:
        """A file that names no model of the schema is still judged when it queries a model picked at run time."""
        return not _RUNTIME_MODEL.search(source)

    def applies(self, schema: Schema) -> bool:
        """Whether the project has any table this adapter can judge (a Django project needs no SQLAlchemy pass)."""
        return any(info.source in ModuleAnalysis.SOURCES for info in schema.models.values())

    def sites(self, module: PythonModule, schema: Schema, config: Config, index=None) -> Iterable[QuerySite]:
        return ModuleAnalysis(module, schema, config, index).run()


class ModuleAnalysis(HelperCalls):
    SOURCES = frozenset({"django"})  # schema sources whose models this analysis understands

    def __init__(self, module: PythonModule, schema: Schema, config: Config, index: ProjectIndex | None = None):
        self.init_helpers(module, index)
        self.module = module
        self.schema = schema
        self.config = config
        self.origins: list[tuple[Origin, str]] = []  # (origin, function)
        self.function = "<module>"
        self.class_stack: list[dict] = []
        self.accessors: dict[str, set[str]] = {}
        self.accessor_owners: dict[str, set[str]] = {}  # accessor -> models it is an attribute of
        for target, accs in schema.reverse.items():
            for acc, src in accs.items():
                self.accessors.setdefault(acc, set()).add(src)
                self.accessor_owners.setdefault(acc, set()).add(target)
        self.scoped_managers = set(config.scoped_managers)
        self.param_kinds: dict[str, set[str]] = {}  # parameter -> the kinds its annotation admits (`User | Organization`)
        self.kind_chain: list[cst.If] = []  # the `if` / `elif` tests above the branch being walked
        # Django management commands run by an operator across tenants on purpose
        self.entry = operator_entry(module.path)
        self.local_classes = {s.name.value: s for s in module.tree.body if isinstance(s, cst.ClassDef)}
        self._tenant_relations: tuple[str, ...] | None = None
        self.required_params: frozenset[str] = frozenset()  # parameters of the walked function without a default
        self.current_statement: cst.CSTNode | None = None  # the statement being walked (of this module, not a helper's)

    # -- driver

    def run(self) -> list[QuerySite]:
        self.block(self.module.tree.body, Env(), "<module>")
        return list(self.emit())

    def emit(self) -> Iterator[QuerySite]:
        for origin, function in self.origins:
            if origin.anchor is None or not origin.observed:
                continue
            if self.moved_to_callers(function):
                continue  # a helper's query: judged at each of its call sites instead
            kinds = origin.observed
            writes = [k for k in kinds if k in (SiteKind.UPDATE, SiteKind.DELETE, SiteKind.INSERT)]
            chosen = writes or [SiteKind.READ]
            text = " ".join(self.module.tree.code_for_node(origin.anchor).split())
            for kind in chosen:
                term = kinds.get(kind) or kinds[SiteKind.READ]
                if origin.model.opaque and term.status in (N, D):
                    term = Term(U, term.predicates, "its model is picked at run time")  # not known to be a tenant table
                scope = {S: Scope.SCOPED, N: Scope.UNSCOPED, D: Scope.DEFEATED, U: Scope.UNKNOWN}[term.status]
                related = self.related_of(origin) if term.status != S else ()
                if scope is Scope.UNSCOPED and kind is SiteKind.READ and origin.guard:
                    scope = Scope.GUARDED
                yield QuerySite(kind, origin.model, Restriction(scope, term.predicates, term.reason), origin.api, origin.anchor, text, function,
                                related=related, entry=self.entry, guard=origin.guard, derived=term.status == N and term.reason.startswith(ROW_KEY),
                                statement=origin.statement)

    def new_origin(self, model: ModelInfo, api: str, insert: bool = False) -> Origin:
        o = Origin(model, api, insert=insert, statement=None if self.frame.inline else self.current_statement)
        self.origins.append((o, self.function))
        return o

    # -- statements

    def block(self, body, env: Env | None, function: str) -> Env | None:
        saved = self.function
        self.function = function
        try:
            for i, stmt in enumerate(body):
                if env is None:
                    break
                guard = self.guard_after(stmt, body[i + 1 :])
                seq = next(_SEQ) if guard else 0
                outer, self.current_statement = self.current_statement, stmt
                try:
                    env = self.statement(stmt, env)
                finally:
                    self.current_statement = outer
                if guard:
                    text, attr = guard
                    for origin, _ in self.origins:  # the queries this statement ran, wherever they started
                        if origin.seq > seq and (not attr or _is_tenant_attr(origin.model, attr)):
                            origin.guard = text
            return env
        finally:
            self.function = saved

    def static_truth(self, test: cst.BaseExpression) -> bool | None:
        """True / False when a test only reads parameters the caller passed as literals (None, True, False); else None."""
        if len(self.frames) < 2:
            return None
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self.static_truth(test.expression)
            return None if inner is None else not inner
        if isinstance(test, cst.Name):
            value = self.subst_node(test)
            if value is not test and isinstance(value, cst.Name) and value.value in ("None", "True", "False"):
                return value.value == "True"
            return None
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name):
            op, right = test.comparisons[0].operator, test.comparisons[0].comparator
            left = self.subst_node(test.left)
            if left is test.left or not _is_none(right) or not isinstance(op, (cst.Is, cst.IsNot)):
                return None
            if not isinstance(left, (cst.Name, cst.SimpleString, cst.Integer)) or isinstance(left, cst.Name) and left.value not in ("None", "True", "False"):
                return None
            is_none = _is_none(left)
            return is_none if isinstance(op, cst.Is) else not is_none
        return None

    def covers_every_kind(self, last: cst.If) -> bool:
        """`if is_user(subject): ... elif is_organization(subject): ...` with no `else`, where the parameter's annotation
        admits only those kinds (`subject: AuthSubject[User | Organization]`): no path falls through."""
        chain = [*self.kind_chain, last]
        tested: dict[str, set[str]] = {}
        for branch in chain:
            found = _kind_test(branch.test)
            if found is None:
                return False
            name, kind = found
            tested.setdefault(name, set()).add(kind)
        if len(tested) != 1:
            return False
        name, kinds = next(iter(tested.items()))
        admitted = self.param_kinds.get(name)
        return bool(admitted) and admitted <= kinds

    def guard_after(self, stmt, rest: list) -> tuple[str, str] | None:
        """`obj = <fetch>` followed by a tenant check before the object is used: `if obj.<tenant> != <value>:
        return/raise`, `assert obj.<tenant> == <value>`, or a membership lookup that raises unless the requesting user
        belongs to the row's tenant (`get_object_or_404(Member, project=obj.project, user=request.user)`), possibly
        after early returns for the requesting user (`if request.user.is_superuser: return obj`).
        (the text of the check, the attribute of obj it reads), else None."""
        if not rest or not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            return None
        a = stmt.body[0]
        if not (isinstance(a, cst.Assign) and len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Name)):
            return None
        name = a.targets[0].target.value
        gate = _permission_gates(rest, name)
        if gate:
            return gate, ""
        for nxt in rest[:6]:
            if isinstance(nxt, cst.Try) and _body(nxt.body):  # try: check(row, user) except NoPermission: raise ...
                nxt = _body(nxt.body)[0]
            found = self._mismatch_exit(nxt, name) or _membership_check(nxt, name) or self.guard_in_helper(nxt, name)
            if found is not None:
                return found
            if not (_principal_shortcut(nxt, name) or _not_found_exit(nxt, name)):
                return None
        return None

    def _mismatch_exit(self, nxt, name: str) -> tuple[str, str] | None:
        test, exits = None, False
        if isinstance(nxt, cst.If) and nxt.orelse is None:
            test, exits = nxt.test, _exits(_body(nxt.body))
            test = _negated_equality(test)
        elif isinstance(nxt, cst.SimpleStatementLine) and len(nxt.body) == 1 and isinstance(nxt.body[0], cst.Assert):
            test, exits = nxt.body[0].test, True
        if test is None or not exits or not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
            return None
        left, right = test.left, test.comparisons[0].comparator
        if not (isinstance(left, cst.Attribute) and isinstance(left.value, cst.Name) and left.value.value == name):
            left, right = right, left
        if not (isinstance(left, cst.Attribute) and isinstance(left.value, cst.Name) and left.value.value == name):
            return None
        if isinstance(right, (cst.SimpleString, cst.Integer)) or _is_none(right):
            return None
        return " ".join(_code(test).split()), left.attr.value

    def statement(self, stmt: cst.CSTNode, env: Env) -> Env | None:
        if isinstance(stmt, (cst.SimpleStatementLine, _Suite)):
            for small in stmt.body:
                env = self.small(small, env)
                if env is None:
                    return None
            return env
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            if not self.frame.inline:  # a helper's nested definitions are judged in its own module
                self.function_def(stmt) if isinstance(stmt, cst.FunctionDef) else self.class_def(stmt)
            return env
        if isinstance(stmt, cst.If):
            self.expr(stmt.test, env)
            known = self.static_truth(stmt.test)
            if known is not None:  # a helper's branch on an argument the caller fixed (`if realm is not None:` given None)
                if known:
                    return self.block(_body(stmt.body), env, self.function)
                if stmt.orelse is None:
                    return env
                if isinstance(stmt.orelse, cst.If):
                    return self.statement(stmt.orelse, env)
                return self.block(_body(stmt.orelse.body), env, self.function)
            a = self.block(_body(stmt.body), env.copy(), self.function)
            if stmt.orelse is None:
                b = None if self.covers_every_kind(stmt) else env
                subject = _truth_subject(stmt.test)
                if subject and a is not None and b is not None and (subject.startswith("self.") or subject in self.required_params):
                    # the object's own tenant, or one every caller must pass; not a local value (read from the request,
                    # it may be left out by the caller) nor a parameter with a default (leaving it out is the default)
                    b = _optional_filter(a, b, subject)
            elif isinstance(stmt.orelse, cst.If):
                self.kind_chain.append(stmt)
                try:
                    b = self.statement(stmt.orelse, env.copy())
                finally:
                    self.kind_chain.pop()
            else:
                b = self.block(_body(stmt.orelse.body), env.copy(), self.function)
            return merge_envs([a, b])
        if isinstance(stmt, (cst.For, cst.While)):
            if isinstance(stmt, cst.For):
                self.expr(stmt.iter, env)
                self.bind(stmt.target, None, env)
            else:
                self.expr(stmt.test, env)
            once = self.block(_body(stmt.body), env.copy(), self.function)
            after = merge_envs([env, once])
            if stmt.orelse is not None and after is not None:
                after = self.block(_body(stmt.orelse.body), after, self.function)
            return after if after is not None else env
        if isinstance(stmt, cst.With):
            disabled = False
            for item in stmt.items:
                self.expr(item.item, env)
                if item.asname is not None:
                    self.bind(item.asname.name, None, env)
                if isinstance(item.item, cst.Call) and (dotted_name(item.item.func) or "").rsplit(".", 1)[-1] == "scopes_disabled":
                    disabled = True
            if not disabled or env.get("__scopes_disabled__"):
                return self.block(_body(stmt.body), env, self.function)
            env["__scopes_disabled__"] = True  # django-scopes switched off: scoped managers filter nothing in here
            after = self.block(_body(stmt.body), env, self.function)
            if after is not None:
                after.pop("__scopes_disabled__", None)
            return after
        if isinstance(stmt, cst.Try) or type(stmt).__name__ == "TryStar":
            after_body = self.block(_body(stmt.body), env.copy(), self.function)
            ends = []
            if stmt.orelse is not None and after_body is not None:
                after_body = self.block(_body(stmt.orelse.body), after_body, self.function)
            ends.append(after_body)
            start = merge_envs([env, after_body]) or env
            for h in stmt.handlers:
                ends.append(self.block(_body(h.body), start.copy(), self.function))
            merged = merge_envs(ends)
            if stmt.finalbody is not None:
                if merged is not None:
                    merged = self.block(_body(stmt.finalbody.body), merged, self.function)
                else:
                    self.block(_body(stmt.finalbody.body), start.copy(), self.function)
            return merged
        if type(stmt).__name__ == "Match":
            self.expr(stmt.subject, env)
            ends = [self.block(_body(case.body), env.copy(), self.function) for case in stmt.cases]
            ends.append(env)
            return merge_envs(ends)
        # anything else: visit its expressions
        for child in stmt.children:
            if isinstance(child, cst.BaseExpression):
                self.expr(child, env)
        return env

    def small(self, small: cst.CSTNode, env: Env) -> Env | None:
        if isinstance(small, cst.Assign):
            mark = len(self.origins)
            value = self.expr(small.value, env, assign=True)
            row = self.unscoped_row(small.value, mark)
            for t in small.targets:
                self.bind(t.target, value, env, small.value)
                if isinstance(t.target, cst.Name):
                    if row is not None:
                        env[f"__row__{t.target.value}"] = row
                    else:
                        env.pop(f"__row__{t.target.value}", None)
            return env
        if isinstance(small, cst.AnnAssign):
            if small.value is not None:
                value = self.expr(small.value, env, assign=True)
                self.bind(small.target, value, env, small.value)
            return env
        if isinstance(small, cst.AugAssign):
            self.aug_assign(small, env)
            return env
        if isinstance(small, cst.Return):
            if small.value is not None:
                if self.frame.returns is not None:  # a helper judged at its call: the caller gets the value
                    value = self.expr(small.value, env, assign=True)
                    self.frame.returns.append(value)
                    if isinstance(value, QVal):
                        self.frame.returned.update(id(s.origin) for s in value.states)
                else:
                    self.expr(small.value, env)
            self.function_end(env)
            return None
        if isinstance(small, cst.Raise):
            if small.exc is not None:
                self.expr(small.exc, env)
            return None
        if isinstance(small, cst.Expr):
            # a query the statement only builds and drops never runs (`delete(Model)` alone, a lazy queryset);
            # whatever the expression runs on its way (`.update()`, `session.execute(...)`) is observed where it runs
            self.expr(small.value, env, assign=True)
            return env
        if isinstance(small, (cst.Continue, cst.Break, cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal, cst.Pass)):
            return env  # `from app.reviews import x` names modules, not related managers
        for child in small.children:
            if isinstance(child, cst.BaseExpression):
                self.expr(child, env)
        return env

    def bind(self, target: cst.CSTNode, value, env: Env, node: cst.BaseExpression | None = None) -> None:
        if isinstance(target, cst.Name):
            if value is None:
                env.pop(target.value, None)
            else:
                env[target.value] = value
        elif isinstance(target, cst.Attribute):
            obj = target.value
            if isinstance(obj, cst.Name) and isinstance(env.get(obj.value), NewObject):
                env[obj.value].keys.add(target.attr.value)
            self.observe_value(value)
        elif isinstance(target, cst.Subscript):
            base = target.value
            if isinstance(base, cst.Name) and isinstance(env.get(base.value), DictKeys):
                key = _subscript_key(target)
                d = env[base.value]
                env[base.value] = DictKeys(d.keys | {key} if key else d.keys, d.values, d.complete and key is not None)
            self.observe_value(value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self.bind(el.value, None, env)
            self.observe_value(value)
        else:
            self.observe_value(value)

    def aug_assign(self, node: cst.AugAssign, env: Env) -> None:
        target = node.target
        if isinstance(target, cst.Name):
            current = env.get(target.value)
            if isinstance(current, QTerm) and isinstance(node.operator, (cst.BitAndAssign, cst.BitOrAssign)):
                snapshot, value, combine = env.copy(), node.value, t_and if isinstance(node.operator, cst.BitAndAssign) else t_or
                env[target.value] = QTerm(lambda m: combine(current.build(m), self.q_term(value, snapshot, m) or Term(U, (), "Q object built elsewhere")))
                return
            if isinstance(current, QVal):
                other = self.expr(node.value, env, assign=True)
                if isinstance(other, QVal):
                    env[target.value] = QVal(current.states + other.states)
                    return
                if isinstance(node.operator, cst.BitAndAssign) and other is None:
                    return
                return
        self.expr(node.value, env)

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
        if not key.endswith("__in") or not isinstance(value, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            return None
        comp = value.for_in
        elt = value.elt
        if comp.inner_for_in is not None or not isinstance(comp.target, cst.Name):
            return None
        if not (isinstance(elt, cst.Attribute) and isinstance(elt.value, cst.Name) and elt.value.value == comp.target.value
                and (elt.attr.value in ("pk", "id") or elt.attr.value.endswith("_id"))):
            return None
        rows = env.get(comp.iter.value) if isinstance(comp.iter, cst.Name) else None
        if not isinstance(rows, (Rows, QVal)) or not rows.states:
            return None
        text = " ".join(self.module.tree.code_for_node(value).split())
        if all(st.term.status == S for st in rows.states):
            return Term(S, (f"{key}={text}",), "keys of rows a tenant-restricted query read", null_only=True)
        return Term(N, (), f"{ROW_KEY}{comp.iter.value}, rows read without a tenant filter")

    def observe_value(self, value, kind: SiteKind = SiteKind.READ) -> None:
        if isinstance(value, QVal):
            for s in value.states:
                s.origin.observe(s.origin.kind or kind, s.term)

    def function_end(self, env: Env) -> None:
        """Queries held in variables that never ran: judged by their last state (lazy querysets escape)."""
        for v in env.values():
            if isinstance(v, QVal):
                for s in v.states:
                    if not s.origin.observed and id(s.origin) not in self.frame.returned:
                        s.origin.observe(s.origin.kind or SiteKind.READ, s.term)

    def function_def(self, node: cst.FunctionDef) -> None:
        prefix = ".".join(c["name"] for c in self.class_stack) or (self.function if self.function != "<module>" else "")
        name = f"{prefix}.{node.name.value}" if prefix else node.name.value
        env = Env()
        if any((dotted_name(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) or "").rsplit(".", 1)[-1] == "scopes_disabled" for d in node.decorators):
            env["__scopes_disabled__"] = True  # @scopes_disabled(): django-scopes is off in the whole function
        saved_kinds, self.param_kinds = self.param_kinds, _param_kinds(node)
        saved_defaults, self.required_params = self.required_params, _required_params(node)
        saved_locals = self.frame.local_names
        if not self.frame.inline:
            self.frame.local_names = frozenset(_assigned_names(node) | param_names(node))
        cls = self.class_stack[-1] if self.class_stack else None
        if cls is not None and cls.get("queryset") is not None and node.name.value in ("get_queryset", "get_object"):
            env["__drf_base__"] = cls["queryset"]
        saved = self.class_stack
        saved_class = self.frame.self_class
        if self.class_stack and not self.frame.inline:
            self.frame.self_class = (self.module_id, ".".join(c["name"] for c in self.class_stack))
        self.class_stack = []  # nested classes inside a function are named from the function
        try:
            end = self.block(_body(node.body), env, name)
            if end is not None:
                self.function_end(end)
        finally:
            self.class_stack = saved
            self.frame.self_class = saved_class
            self.param_kinds = saved_kinds
            self.required_params = saved_defaults
            self.frame.local_names = saved_locals

    DRF_VIEWS = True  # judge `queryset = ...` class attributes with get_queryset()

    def new_env(self) -> Env:
        return Env()

    def class_qualname(self) -> str:
        return ".".join(c["name"] for c in self.class_stack)

    def plain_class_def(self, node: cst.ClassDef) -> None:
        """A class body walked in order, methods as functions named after the class."""
        self.class_stack.append({"name": node.name.value, "queryset": None, "node": node})
        try:
            env = Env()
            for stmt in _body(node.body):
                if isinstance(stmt, cst.FunctionDef):
                    self.function_def(stmt)
                else:
                    self.statement(stmt, env)
            self.judge_inherited_methods(node, self.class_qualname())
            self.judge_constructor_models(node, self.class_qualname())
        finally:
            self.class_stack.pop()

    def class_def(self, node: cst.ClassDef) -> None:
        if not self.DRF_VIEWS:
            self.plain_class_def(node)
            return
        info = {"name": node.name.value, "queryset": None, "node": node}
        self.class_stack.append(info)
        try:
            env = Env()
            body = _body(node.body)
            methods = {s.name.value for s in body if isinstance(s, cst.FunctionDef)}
            for stmt in body:
                if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign):
                    a = stmt.body[0]
                    if len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Name) and a.targets[0].target.value == "queryset":
                        value = self.expr(a.value, env, assign=True, function=node.name.value)
                        if isinstance(value, QVal):
                            info["queryset"] = value
                            inherited = self.walk_base_method(node, "get_queryset") if "get_queryset" not in methods else None
                            if "get_queryset" not in methods:
                                foreign = self.foreign_get_queryset(node) if inherited is None else None
                                for s in value.states:
                                    if s.origin.observed:
                                        continue
                                    term = s.term
                                    if foreign and term.status != S:
                                        term = Term(U, term.predicates, f"get_queryset() may be inherited from {foreign}")
                                    s.origin.observe(SiteKind.READ, term)
                        continue
                if isinstance(stmt, cst.FunctionDef):
                    continue
                self.statement(stmt, env)
            if info["queryset"] is not None and "get_object" not in methods and not self.has_get_queryset(node, methods):
                # a get_object() of a base view reads this class's queryset (self.get_queryset(), self.queryset);
                # with a get_queryset() of its own, that is what get_object() reads, judged there
                self.walk_base_method(node, "get_object")
            view_origins = [s.origin for s in info["queryset"].states] if info["queryset"] is not None else []
            for stmt in body:
                if isinstance(stmt, cst.FunctionDef):
                    mark = len(self.origins)
                    self.function_def(stmt)
                    if stmt.name.value == "get_queryset":
                        view_origins.extend(o for o, _ in self.origins[mark:])
            qs = info["queryset"]
            if qs is not None and "get_queryset" in methods:
                for s in qs.states:
                    if not s.origin.observed:  # get_queryset never returned it: it does not scope it
                        s.origin.observe(SiteKind.READ, s.term)
            if view_origins:
                self.apply_filter_backends(view_origins)
            self.judge_inherited_methods(node, self.class_qualname())
            self.judge_constructor_models(node, self.class_qualname())
        finally:
            self.class_stack.pop()

    def apply_filter_backends(self, origins: list[Origin]) -> None:
        """The view's queryset and get_queryset() reads pass through its filter backends (DRF's filter_queryset)."""
        backend = self.filter_backend_term(self.class_qualname(), origins[0].model)
        if backend is None:
            return
        scoped, text = backend
        extra = Term(S, (text,), f"restricted by the filter backend {text}", null_only=True) if scoped else Term(U, (), text)
        for o in origins:
            term = o.observed.get(SiteKind.READ)
            if term is not None and term.status == N:
                o.observed[SiteKind.READ] = t_and(term, extra)

    def walk_base_method(self, node: cst.ClassDef, name: str) -> cst.FunctionDef | None:
        """Judge a base class's `name` (get_queryset, get_object) with this class's queryset: a base declared in this
        module, else one in another module of the project (through the index). Its own queries were reported where the
        base is declared, so only its effect on this class's values is kept. Returns the definition walked."""
        local = self.local_get_queryset(node, name=name)
        if local is None:
            return self.inherited_method_walk(self.class_qualname(), name)
        saved_origins, self.origins = self.origins, []
        try:
            self.function_def(local)
        finally:
            self.origins = saved_origins
        return local

    def has_get_queryset(self, node: cst.ClassDef, methods: set[str]) -> bool:
        if "get_queryset" in methods or self.local_get_queryset(node) is not None:
            return True
        found = self.index.method(self.module_id, self.class_qualname(), "get_queryset") if self.index is not None else None
        return found is not None

    def local_get_queryset(self, node: cst.ClassDef, depth: int = 0, name: str = "get_queryset") -> cst.FunctionDef | None:
        """get_queryset() (or `name`) of a base class declared in this module."""
        for arg in node.bases:
            local = self.local_classes.get(dotted_name(arg.value) or "")
            if local is None or local is node or depth > 5:
                continue
            for s in _body(local.body):
                if isinstance(s, cst.FunctionDef) and s.name.value == name:
                    return s
            found = self.local_get_queryset(local, depth + 1, name)
            if found is not None:
                return found
        return None

    def foreign_get_queryset(self, node: cst.ClassDef) -> str | None:
        """A base class that may define get_queryset() where this module cannot see it."""
        for arg in node.bases:
            q = self.module.imports.qualify(arg.value) or ""
            last = q.rsplit(".", 1)[-1]
            if q.startswith(("rest_framework.", "django.", "ninja", "object")) or last in ("object", "Generic"):
                continue
            local = self.local_classes.get(last)
            if local is not None:
                if any(isinstance(s, cst.FunctionDef) and s.name.value == "get_queryset" for s in _body(local.body)):
                    return last
                continue
            return last
        return None

    # -- expressions

    def expr(self, node: cst.BaseExpression, env: Env, assign: bool = False, function: str | None = None):
        """Visit an expression; queries it observes are recorded. Returns its value when `assign`."""
        if function is not None:
            saved, self.function = self.function, function
            try:
                return self.expr(node, env, assign)
            finally:
                self.function = saved
        mark = len(self.origins)
        value = self.value(node, env)
        for origin, _ in self.origins[mark:]:
            if origin.anchor is None:
                origin.anchor = node  # the whole expression in which the query starts
        if value is not None:
            if isinstance(value, QVal):
                if not assign:
                    self.observe_value(value)
            elif isinstance(value, NewObject) and value.origin.anchor is None:
                value.origin.anchor = node
            return value
        if isinstance(node, (cst.Lambda,)):
            return None
        for child in _expr_children(node):
            self.expr(child, env)
        return None

    def value(self, node: cst.BaseExpression, env: Env):
        """The query value of `node`, or None when it is not a query. Nested queries in arguments are visited."""
        if isinstance(node, cst.Name):
            v = env.get(node.value)
            return v if isinstance(v, (QVal, QTerm, DictKeys, NewObject)) else None
        if isinstance(node, cst.Await):
            return self.value(node.expression, env)
        if isinstance(node, cst.Subscript):
            base = self.value(node.value, env)
            if isinstance(base, QVal):
                for el in node.slice:
                    if isinstance(el.slice, cst.Index):
                        self.expr(el.slice.value, env)
                    # a slice of a queryset is still a queryset (LIMIT/OFFSET); an index runs it
                    if isinstance(el.slice, cst.Index):
                        self.observe_value(base)
                        return QVal(())
                return base
            return None
        if isinstance(node, cst.Dict):
            keys = set()
            values = []
            complete = True
            for el in node.elements:
                if isinstance(el, cst.DictElement):
                    k = string_value(el.key)
                    if k is None:
                        complete = False
                    else:
                        keys.add(k)
                        values.append((k, el.value))
                    self.expr(el.value, env)
                else:
                    complete = False
                    self.expr(el.value, env)
            return DictKeys(frozenset(keys), tuple(values), complete)
        if isinstance(node, cst.Call):
            found = self.call(node, env)
            return found if found is not None else self.helper_call(node, env)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.BitOr, cst.BitAnd)):
            if self._is_q_expr(node, env):
                return self.q_value(node, env)
            left = self.value(node.left, env)
            right = self.value(node.right, env)
            if isinstance(left, QVal) and isinstance(right, QVal):
                return QVal(left.states + right.states)
            if isinstance(left, QVal) or isinstance(right, QVal):
                self.observe_value(left)
                self.observe_value(right)
            return None
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.BitInvert) and self._is_q_expr(node, env):
            return self.q_value(node, env)
        if isinstance(node, cst.Attribute):
            return self.attribute(node, env)
        return None

    as_manager = False
    _by_lower_name: dict | None = None

    def attribute(self, node: cst.Attribute, env: Env):
        """`obj.orders` (a related manager) or `self.queryset` inside get_queryset(). A related manager that may span
        tenants is a query only where a queryset method is applied to it (`as_manager`), not wherever the name appears."""
        attr = node.attr.value
        if attr == "queryset" and isinstance(node.value, cst.Name) and node.value.value == "self" and "__drf_base__" in env:
            return env["__drf_base__"]
        models = self.accessors.get(attr)
        if models and len(models) == 1 and not self._is_model_class(node.value):
            model = self.schema.model(next(iter(models)))
            if model is not None:
                base_text = dotted_name(node.value) or "obj"
                origin = self.new_origin(model, f"{base_text}.{attr}")
                if _is_requesting_user(node.value):
                    return QVal((QState(origin, Term(S, (f"{base_text}.{attr}",), "rows of the requesting user", null_only=True)),))
                bound = self.tenant_bound_owner(attr, base_text)
                if bound is None:
                    self.origins.pop()  # `event.speakers` where Event has no such relation: a property, not this accessor
                    return None
                if bound:
                    return QVal((QState(origin, Term(S, (f"{base_text}.{attr}",), "related manager of a tenant-bound object"), related=True),))
                if not self.as_manager:
                    self.origins.pop()  # a name like an accessor, not used as a queryset here
                    return None
                # the rows of an object that is not one tenant's (a user of several workspaces): no tenant filter
                return QVal((QState(origin, NONE_TERM),))
        return None

    def tenant_bound_owner(self, accessor: str, base_text: str) -> bool | None:
        """Whether `base.accessor` hangs off a row of one tenant. The base's name says which model it is when it names
        one (`user.assigned_reviews`, `submission.reviews`, `self` in a model's method); then a many-to-many field of
        that name counts too, and a model with no such relation means the name is something else (None). Otherwise
        any tenant-bound owner of the accessor will do."""
        owners = [self.schema.model(o) for o in self.accessor_owners.get(accessor, ())]
        owners = [o for o in owners if o is not None]
        stem = base_text.rsplit(".", 1)[-1].replace("_", "").lower()
        if base_text == "self" and self.frame.self_class is not None:
            stem = self.frame.self_class[1].rsplit(".", 1)[-1].lower()
        typed = self.models_by_lower_name().get(stem)
        if typed is not None:
            if typed in owners or _is_field(typed, accessor):
                return typed.is_tenant_table or typed.is_root
            return None
        if any(o.is_tenant_table or o.is_root for o in owners):
            return True
        # an object of unknown type: a many-to-many field of that name on a tenant-owned model says it may well be one
        return any(_is_field(m, accessor) and (m.is_tenant_table or m.is_root) for m in self.models_by_lower_name().values())

    def models_by_lower_name(self) -> dict[str, ModelInfo]:
        if self._by_lower_name is None:
            self._by_lower_name = {m.name.lower(): m for m in self.schema.models.values() if m.source in self.SOURCES}
        return self._by_lower_name

    def _is_model_class(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and self.model_named(node) is not None

    def model_named(self, node: cst.BaseExpression) -> ModelInfo | None:
        node = self.subst_node(node)
        bound = self.bound_model(node)
        if bound is not None:
            return bound if bound.source in self.SOURCES else None
        if isinstance(node, cst.Attribute) and node.attr.value == "through" and isinstance(node.value, cst.Attribute):
            owner = self.model_named(node.value.value)  # Recipe.keywords.through: the many-to-many table
            through = self.schema.model(f"{owner.name}_{node.value.attr.value}") if owner is not None else None
            return through if through is not None and through.source in self.SOURCES else None
        if isinstance(node, cst.Name):
            name = node.value
        elif isinstance(node, cst.Attribute):
            name = node.attr.value
        else:
            return None
        if not name[:1].isupper():
            return None
        q = self.module.imports.qualify(node) or name
        info = self.schema.model_for(q)
        return info if info is not None and info.source in self.SOURCES else None

    def _is_q_expr(self, node: cst.BaseExpression, env: Env) -> bool:
        if isinstance(node, cst.Call):
            q = self.module.imports.qualify(node.func) or ""
            return q == "Q" or q.endswith(".Q")
        if isinstance(node, cst.BinaryOperation):
            return self._is_q_expr(node.left, env) or self._is_q_expr(node.right, env)
        if isinstance(node, cst.UnaryOperation):
            return self._is_q_expr(node.expression, env)
        if isinstance(node, cst.Name):
            return isinstance(env.get(node.value), QTerm)
        return False

    def q_value(self, node: cst.BaseExpression, env: Env) -> QTerm:
        snapshot = env.copy()
        return QTerm(lambda m: self.q_term(node, snapshot, m) or Term(U, (), "Q object built elsewhere"))

    def call(self, node: cst.Call, env: Env):
        func = node.func
        # get_object_or_404(Model | queryset, ...)
        qualified = self.module.imports.qualify(func) or ""
        last = qualified.rsplit(".", 1)[-1]
        if last in _SHORTCUTS and node.args and node.args[0].keyword is None:
            first = node.args[0].value
            model = self.model_named(first)
            if model is not None:
                origin = self.new_origin(model, f"{last}({model.name})")
                term = SCOPED_TERM if model.name in self.scoped_managers else self.manager_term(model, "objects", env)
                base = QVal((QState(origin, term),))
            else:
                base = self.value(first, env)
                if not isinstance(base, QVal):
                    self._visit_args(node, env)
                    return None
            term = self.lookup_term(node.args[1:], None, env, base)
            for s in base.states:
                s.origin.observe(SiteKind.READ, t_and(s.term, term))
            return QVal(())
        if last == "Prefetch":
            # Prefetch("issues", queryset=Issue.objects.only(...)): Django restricts it to the parents' related rows
            for a in node.args:
                v = self.expr(a.value, env, assign=True)
                if isinstance(v, QVal):
                    for st in v.states:
                        st.origin.observe(SiteKind.READ, Term(S, ("Prefetch",), "prefetch of the related rows of tenant rows", null_only=True))
            return QVal(())
        if isinstance(func, cst.Name) and func.value in ("list", "tuple", "sorted", "set") and len(node.args) == 1 and node.args[0].keyword is None:
            mark = len(self.origins)
            v = self.expr(node.args[0].value, env, assign=True)
            if isinstance(v, QVal) and v.states:
                self.observe_value(v)  # evaluating the queryset runs it
                return Rows(v.states)
            if v is not None:
                self.observe_value(v)
            # the argument is judged: visiting it again would start its queries twice
            return QVal(()) if len(self.origins) > mark else None
        if last == "Q" and (qualified == "Q" or qualified.endswith(".Q")):
            for a in node.args:
                self.expr(a.value, env)
            return self.q_value(node, env)
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            target = None
            if method == "save":
                target = env.get(func.value.value) if isinstance(func.value, cst.Name) else self.value(func.value, env) if isinstance(func.value, cst.Call) else None
            if isinstance(target, NewObject):
                obj = target
                if obj.origin.anchor is None:
                    obj.origin.anchor = func.value
                obj.origin.observe(SiteKind.INSERT, self.insert_term(obj.origin.model, obj.keys, True))
                self._visit_args(node, env)
                return QVal(())
            if method == "get_queryset" and "__drf_base__" in env and _is_self_or_super(func.value):
                return env["__drf_base__"]
            if method not in _QS_METHODS:
                # a custom manager / queryset method: Model.objects.for_org(org)
                base = self._manager_or_query(func.value, env)
                if base is None:
                    return None
                self._extend_api(base, method)
                walked = self.queryset_method_call(node, method, base, env)
                if walked is not None:
                    return walked
                self._visit_args(node, env)
                term = NONE_TERM
                if method in self.scoped_managers or _mentions_tenant(node, self.config):
                    term = Term(S, (self.module.tree.code_for_node(node.args[0].value) if node.args else method,), f"custom method {method}() given the tenant")
                return QVal(tuple(QState(s.origin, t_and(s.term, term), s.related) for s in base.states))
            base = self._manager_or_query(func.value, env)
            if base is None:
                return None
            return self.apply(method, node, base, env)
        # Model(...) constructor: an insert when saved in this function
        model = self.model_named(func)
        if model is not None and not model.is_root:
            self._visit_args(node, env)
            keys, complete = _kw_keys(node, env)
            origin = self.new_origin(model, f"{model.name}(...).save")
            return NewObject(origin, set(keys) | ({"**"} if not complete else set()))
        return None

    def extra_where_term(self, node: cst.Call, model: ModelInfo) -> Term:
        """`extra(where=["org_id = %s"], params=[...])`: the SQL conditions, judged as the WHERE of a query on the
        model's table."""
        where = keyword_arg(node, "where")
        conds = [string_value(e.value) for e in where.elements] if isinstance(where, (cst.List, cst.Tuple)) else [None]
        if not conds or any(c is None for c in conds):
            return Term(U, (), "extra(where=...) is built elsewhere")
        from tenantlint.sql import judge_text

        sql = f"SELECT * FROM {model.table} WHERE " + " AND ".join(f"({c})" for c in conds)
        judged, _ = judge_text(sql, self.schema, self.config.sql_dialect)
        verdicts = [v for j in judged for v in j.verdicts if v.table.table == model.table]
        if verdicts and all(v.restriction.scope is Scope.SCOPED for v in verdicts):
            return Term(S, tuple(conds), "extra(where=...) restricts by the tenant")
        defeated = next((v for v in verdicts if v.restriction.scope is Scope.DEFEATED), None)
        if defeated is not None:
            return Term(D, tuple(conds), f"in extra(where=...): {defeated.restriction.reason}")
        return NONE_TERM

    def _manager_or_query(self, node: cst.BaseExpression, env: Env) -> QVal | None:
        """`Model.objects` (a new query) or any expression holding a query."""
        if isinstance(node, cst.Attribute):
            manager = node.attr.value
            model = self.model_named(node.value)
            if model is not None:
                if manager in _NOT_MANAGERS or manager[:1].isupper() or manager.startswith("__") or _is_field(model, manager):
                    return None  # `Recipe.keywords.through(...)`: a field, not a manager
                origin = self.new_origin(model, f"{model.name}.{manager}")
                return QVal((QState(origin, self.manager_term(model, manager, env)),))
            if manager in ("objects", "_default_manager", "_base_manager") and self.unknown_model_expr(node.value):
                model = self.unknown_model(node.value)
                origin = self.new_origin(model, f"{model.name}.{manager}")
                return QVal((QState(origin, Term(U, (), "its model is picked at run time")),))
        self.as_manager = True  # a queryset method is applied to this value
        try:
            v = self.value(node, env)
        finally:
            self.as_manager = False
        return v if isinstance(v, QVal) else None

    def unknown_model_expr(self, node: cst.BaseExpression) -> bool:
        """`self.fields[f].Meta.model`, `queryset.model`, `model_cls`: a model the code picks at run time. Not a class
        attribute or constructor argument the concrete classes set (judged per class), nor a name bound here."""
        if isinstance(node, cst.Name):
            return node.value[:1].islower() and node.value not in ("self", "cls") and self.subst_node(node) is node and not self.frame.inline
        if not isinstance(node, cst.Attribute):
            return False
        attr = node.attr.value
        if not (attr in ("model", "model_class", "model_cls") or attr.endswith("_model")):
            return False
        if isinstance(node.value, cst.Name) and node.value.value in ("self", "cls") and self.frame.self_class is not None and self.index is not None:
            mod, qual = self.frame.self_class
            if self.index.class_attr(mod, qual, attr) is not None or attr in self.index.constructor_attrs(mod, qual) or self.frame.inline:
                return False
        return True

    def unknown_model(self, node: cst.BaseExpression) -> ModelInfo:
        """A stand-in for a model picked at run time: filtered by a tenant relation of this schema (`space=...`) it is
        restricted; otherwise what it reads cannot be verified."""
        if self._tenant_relations is None:
            names = {c.lower() for c in self.config.tenant_columns}
            for info in self.schema.models.values():
                t = info.tenant
                if t is not None and info.source in self.SOURCES:
                    names.update(p[0] for p in t.tenant_paths if len(p) == 1)
                    if t.tenant_column:
                        names.add(t.tenant_column)
            self._tenant_relations = tuple(sorted(names))
        text = short_code(node)
        tenant = TenantTable(text, None, tuple((n,) for n in self._tenant_relations), None, False, "django", self.module.path, 0, "a model picked at run time")
        return ModelInfo(text, text, next(iter(self.SOURCES)), self.module.path, 0, (), (), tenant, opaque=True)

    def manager_term(self, model: ModelInfo, manager: str, env: Env) -> Term:
        """What a query started on `Model.<manager>` is restricted by before any filter."""
        if manager in self.scoped_managers or f"{model.name}.{manager}" in self.scoped_managers:
            return Term(S, (manager,), f"manager {manager} is declared tenant-scoped")
        if manager in model.scoped_managers and not env.get("__scopes_disabled__"):
            return Term(S, (manager,), f"manager {manager} filters by the active scope (django-scopes)")
        return NONE_TERM

    @staticmethod
    def _extend_api(base: QVal, method: str) -> None:
        """`Patient.objects` -> `Patient.objects.filter`: name the first method applied."""
        for s in base.states:
            if not s.origin.api.endswith(")") and s.origin.api.count(".") < 2 + s.origin.model.name.count(".") and not s.related:
                s.origin.api = f"{s.origin.api}.{method}"

    def apply(self, method: str, node: cst.Call, base: QVal, env: Env):
        self._extend_api(base, method)
        if method == "extra" and keyword_arg(node, "where") is not None:
            self._visit_args(node, env)
            return QVal(tuple(QState(s.origin, t_and(s.term, self.extra_where_term(node, s.origin.model)), s.related) for s in base.states))
        if method in ("filter", "get", "aget", "exclude"):
            term = self.lookup_term(node.args, None, env, base)
            if method == "exclude":
                term = t_not(term)
            states = tuple(QState(s.origin, t_and(s.term, term), s.related) for s in base.states)
            if method in ("get", "aget"):
                for s in states:
                    s.origin.observe(SiteKind.READ, s.term)
                return QVal(())
            return QVal(states)
        if method == "none":
            self._visit_args(node, env)
            return QVal(tuple(QState(s.origin, Term(S, ("none()",), "none() returns no rows"), s.related) for s in base.states))
        if method in ("union", "intersection", "difference"):
            others: list[QState] = []
            for a in node.args:
                v = self.value(a.value, env)
                if isinstance(v, QVal):
                    others.extend(v.states)
                else:
                    self.expr(a.value, env)
            if method == "union":
                return QVal(base.states + tuple(others))
            for o in others:
                o.origin.observe(SiteKind.READ, o.term)
            return base
        if method == "raw":
            self._visit_args(node, env)
            return QVal(())  # the SQL names its own tables: judged by the SQL adapter
        if method in _PASS:
            return self.passed(node, base, env)
        if method in _TERMINAL_READ:
            return self.read_now(node, base, env)
        if method in _WRITES:
            self._visit_args(node, env)
            for s in base.states:
                s.origin.observe(_WRITES[method], s.term)
            return QVal(())
        if method in ("bulk_update", "abulk_update"):
            self._visit_args(node, env)
            return QVal(())
        if method in _CREATES:
            return self.create(method, node, base, env)
        return None

    def create(self, method: str, node: cst.Call, base: QVal, env: Env):
        self._visit_args(node, env)
        for s in base.states:
            model = s.origin.model
            if s.related:
                s.origin.observe(SiteKind.INSERT, Term(S, s.term.predicates, "created through a related manager"))
                continue
            if method in ("bulk_create", "abulk_create"):
                s.origin.observe(SiteKind.INSERT, self.bulk_term(model, node, env))
                continue
            keys, complete = _kw_keys(node, env, skip=("defaults", "create_defaults"))
            if method in ("create", "acreate"):
                s.origin.observe(SiteKind.INSERT, self.insert_term(model, keys, complete))
                continue
            # get_or_create / update_or_create: the lookups find a row, defaults fill a new one
            lookups = self.lookup_term([a for a in node.args if not (a.keyword and a.keyword.value in ("defaults", "create_defaults"))], model, env, None)
            lookups = t_and(s.term, lookups)
            if lookups.status == S:
                s.origin.observe(SiteKind.INSERT, lookups)
                continue
            dkeys, dcomplete = self.dict_keys([a for a in node.args if a.keyword is not None and a.keyword.value in ("defaults", "create_defaults")], env)
            written = self.insert_term(model, set(keys) | dkeys, complete and dcomplete)
            kind = SiteKind.UPDATE if method.endswith("update_or_create") else SiteKind.READ
            if lookups.status in (D, U):
                s.origin.observe(kind, lookups)
            elif written.status == S:
                s.origin.observe(kind, Term(N, (), "the lookup can match another tenant's row"))
            else:
                s.origin.observe(SiteKind.INSERT, written if written.status != S else lookups)
        return QVal(())

    def bulk_term(self, model: ModelInfo, node: cst.Call, env: Env) -> Term:
        if not node.args:
            return Term(U, (), "no objects given")
        arg = node.args[0].value
        elements: list[cst.BaseExpression] = []
        if isinstance(arg, (cst.List, cst.Tuple)):
            elements = [e.value for e in arg.elements]
        elif isinstance(arg, (cst.ListComp, cst.GeneratorExp)):
            elements = [arg.elt]
        else:
            return Term(U, (), "objects built elsewhere")
        term = SCOPED_TERM
        for el in elements:
            if isinstance(el, cst.Call) and self.model_named(el.func) is not None:
                keys, complete = _kw_keys(el, env)
                term = worst(term, self.insert_term(model, keys, complete))
            else:
                term = worst(term, Term(U, (), "objects built elsewhere"))
        return term

    def insert_term(self, model: ModelInfo, keys: set[str] | frozenset, complete: bool) -> Term:
        if model.tenant is None:
            return SCOPED_TERM
        heads = set()
        for path in model.tenant.tenant_paths:
            if len(path) == 1 or model.tenant.tenant_column is None:
                heads.add(path[0])  # the tenant itself, or the parent that alone says whose the row is
        for rel in model.relations:
            if rel.field in heads:
                heads.add(rel.column)
        if model.tenant.tenant_column:
            heads.add(model.tenant.tenant_column)
        found = sorted(k for k in keys if k in heads or f"{k}_id" in heads)  # `member=member` sets member_id
        filled = sorted(h for h in heads if h in model.derived or h.removesuffix("_id") in model.derived)
        if not found and filled:
            return Term(S, (), f"{model.name}.save() sets {filled[0]}")
        if found:
            return Term(S, tuple(found), "tenant value written")
        if not complete or "**" in keys:
            return Term(U, (), "the values are built elsewhere (**kwargs)")
        return Term(N)

    # -- lookups and Q objects

    def lookup_term(self, args, model: ModelInfo | None, env: Env, base: QVal | None) -> Term:
        """AND of the filter's arguments for each model the base may hold (they share one model)."""
        if model is None:
            if base is None or not base.states:
                return NONE_TERM
            model = base.states[0].origin.model
        term = Term(N)
        first = True
        for a in args:
            if a.star == "**":
                v = self.value(a.value, env)
                if isinstance(v, DictKeys):
                    t = Term(N)
                    given = dict(v.values)
                    for k in sorted(v.keys):
                        t = t_and(t, self.kw_term(model, k, given.get(k) or cst.Name("value")))
                    if not v.complete and t.status != S:
                        t = Term(U, t.predicates, f"filter(**{_short(self.module, a.value)}) is built elsewhere")
                else:
                    self.expr(a.value, env)
                    t = Term(U, (), f"filter(**{_short(self.module, a.value)}) is built elsewhere")
            elif a.star == "*":
                self.expr(a.value, env)
                t = Term(U, (), f"filter(*{_short(self.module, a.value)}) is built elsewhere")
            elif a.keyword is not None:
                sub = self.expr(a.value, env)
                t = self.rows_keys_term(a.keyword.value, a.value, env) or self.row_key_term(a.value, self.kw_term(model, a.keyword.value, a.value), env)
                if t.status == N and isinstance(sub, QVal) and sub.states and all(s.term.status == S for s in sub.states):
                    # id__in=<a tenant-scoped subquery>: the rows are linked to that tenant's rows
                    t = Term(S, (f"{a.keyword.value}=<scoped subquery>",), "values from a tenant-scoped subquery", null_only=True)
            else:
                t = self.q_term(a.value, env, model)
                if t is None:
                    self.expr(a.value, env)
                    t = Term(N)
            term = t if first else t_and(term, t)
            first = False
        return term

    def q_term(self, node: cst.BaseExpression, env: Env, model: ModelInfo | None) -> Term | None:
        if isinstance(node, cst.Call):
            q = self.module.imports.qualify(node.func) or ""
            if q == "Q" or q.endswith(".Q"):
                if model is None:
                    return Term(U, (), "Q object")
                return self.lookup_term(node.args, model, env, None)
            return None
        if isinstance(node, cst.BinaryOperation):
            left = self.q_term(node.left, env, model)
            right = self.q_term(node.right, env, model)
            if left is None or right is None:
                return None
            if isinstance(node.operator, cst.BitAnd):
                return t_and(left, right)
            if isinstance(node.operator, cst.BitOr):
                return t_or(left, right)
            return None
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.BitInvert):
            inner = self.q_term(node.expression, env, model)
            return t_not(inner) if inner is not None else None
        if isinstance(node, cst.Name):
            v = env.get(node.value)
            if isinstance(v, QTerm):
                return v.build(model) if model is not None else Term(U)
            return Term(U, (), f"Q object {node.value} is built elsewhere") if model is not None and node.value[:1].islower() else None
        return None

    def kw_term(self, model: ModelInfo, key: str, value: cst.BaseExpression) -> Term:
        value = self.subst_node(value)
        tenant = model.tenant
        if tenant is None:
            return NONE_TERM
        parts = key.split("__")
        op = parts[-1] if len(parts) > 1 and parts[-1] in _OPERATORS else "exact"
        path = parts[:-1] if op != "exact" or parts[-1] == "exact" else parts
        if parts[-1] == "exact":
            path = parts[:-1]
        text = f"{key}={_short(self.module, value)}"
        columns = {r.field: r.column for r in model.relations}
        for tp in tenant.tenant_paths:
            if _path_matches(path, tp, columns, self.schema, model):
                if op == "isnull" or _is_none(value):
                    is_true = _is_none(value) or (isinstance(value, cst.Name) and value.value == "True")
                    if is_true and tenant.shared_when_null:
                        return Term(S, (text,), "shared rows only", null_only=True)
                    return Term(N, (), "")
                return Term(S, (text,))
        if _contains_outer_ref(value, self.module):
            return Term(S, (text,), "correlated subquery")
        # a tenant-owned parent object: Order.objects.filter(patient=patient)
        if len(path) == 1 and op in ("exact", "in"):
            for tp in tenant.tenant_paths:
                if len(tp) < 2:
                    continue
                if path[0] == tp[0] and (_is_object_like(value) or _is_loaded_object_id(value)):
                    return Term(S, (text,), f"through the tenant-owned {tp[0]}", null_only=True)
                if path[0] == columns.get(tp[0]) and isinstance(value, cst.Attribute) and value.attr.value in ("id", "pk", path[0]) and _is_object_like(value.value):
                    return Term(S, (text,), f"through the tenant-owned {tp[0]}", null_only=True)
        if len(path) == 1 and op in ("exact", "in"):
            rel = next((r for r in model.relations if r.field == path[0]), None)
            by_column = rel is None
            if by_column:  # author_id=user.id
                rel = next((r for r in model.relations if r.column == path[0]), None)
            target = self.schema.model(rel.target) if rel is not None else None
            linked = _is_loaded_object_id(value) if by_column else _is_object_like(value)
            if target is not None and (target.is_tenant_table or target.is_root) and linked:
                # rows linked to a tenant-owned object (bot_owner=user_profile) belong to its tenant
                return Term(S, (text,), f"linked to a tenant-owned {target.name}", null_only=True)
        if len(path) >= 2 and op in ("exact", "in"):
            if _is_requesting_user(value) and any(path[0] == tp[0] for tp in tenant.tenant_paths):
                # organization__members=request.user: the tenants the requesting user belongs to
                return Term(S, (text,), "tenants of the requesting user", null_only=True)
            target = _follow(self.schema, model, path)
            if target is not None and (target.is_tenant_table or target.is_root) and _is_object_like(value):
                # review__submission=submission: rows linked to a tenant-owned object in hand
                return Term(S, (text,), f"linked to a tenant-owned {target.name}", null_only=True)
        keyish = path and (path[-1].endswith("_id") or len(path) > 1 or path[0] in columns)
        if op == "exact" and keyish and isinstance(value, cst.Attribute) and value.attr.value == path[-1] and _is_loaded_object_id(value, any_attr=True):
            # recipient_id=stream.recipient_id: a key copied from an object in hand names rows of its tenant
            return Term(S, (text,), "a key read from an object in hand", null_only=True)
        if op == "exact" and _is_requesting_user(value):
            return Term(S, (text,), "rows of the requesting user", null_only=True)
        if len(path) == 1 and path[0] in ("pk", "id") and op == "exact" and _is_loaded_object_id(value):
            return Term(S, (text,), "re-fetch of an object already loaded", null_only=True)
        if op == "in" and isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value in ("values_list", "values"):
            return Term(S, (text,), "values of another query, judged where it starts", null_only=True)
        if len(path) == 1 and op == "exact" and any((c.attr or c.name) == path[0] and c.unique for c in model.columns):
            return Term(N, (), f"the row is selected by its unique {path[0]}")
        return NONE_TERM

    def dict_keys(self, args, env: Env) -> tuple[set[str], bool]:
        """Keys of the dicts passed as `args` (literals or dicts built in this function); False if any is unknown."""
        keys: set[str] = set()
        complete = True
        for a in args:
            d = self.value(a.value, env)
            if isinstance(d, DictKeys):
                keys |= set(d.keys)
                complete = complete and d.complete
            else:
                complete = False
        return keys, complete

    def passed(self, node: cst.Call, base: QVal, env: Env) -> QVal:
        """A method that leaves the rows alone (order_by, join, ...): the query goes on."""
        self._visit_args(node, env)
        return base

    def read_now(self, node: cst.Call, base: QVal, env: Env) -> QVal:
        """A method that runs the query and returns rows or a number (first, count, ...)."""
        self._visit_args(node, env)
        for s in base.states:
            s.origin.observe(SiteKind.READ, s.term)
        return QVal(())

    def _visit_args(self, node: cst.Call, env: Env) -> None:
        for a in node.args:
            self.expr(a.value, env)


# --- helpers ------------------------------------------------------------------------------------


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
    for child in node.children:
        if isinstance(child, cst.BaseExpression):
            yield child
        elif isinstance(child, (cst.Arg, cst.Element, cst.DictElement, cst.StarredDictElement, cst.StarredElement, cst.CompFor, cst.CompIf, cst.Index, cst.Slice, cst.SubscriptElement, cst.FormattedStringExpression, cst.Comparison, cst.ComparisonTarget, cst.Parameters, cst.Param)):
            yield from _expr_children_wrap(child)


def _expr_children_wrap(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    for child in node.children:
        if isinstance(child, cst.BaseExpression):
            yield child
        elif isinstance(child, cst.CSTNode):
            yield from _expr_children_wrap(child)


def _is_self_or_super(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name):
        return node.value == "self"
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "super"


def _path_matches(path: list[str], tenant_path: tuple[str, ...], columns: dict[str, str], schema: Schema, model: ModelInfo) -> bool:
    """`organization`, `organization_id`, `organization__id`, `patient__organization`, `patient__organization_id`."""
    n = len(tenant_path)
    if len(path) < n:
        return False
    if path[: n - 1] != list(tenant_path[: n - 1]):
        return False
    last = path[n - 1]
    if last != tenant_path[-1]:
        # the column of the last hop: organization_id
        owner = model
        for hop in tenant_path[:-1]:
            rel = next((r for r in owner.relations if r.field == hop), None)
            nxt = schema.model(rel.target) if rel else None
            if nxt is None:
                return last == tenant_path[-1] + "_id" and len(path) == n
            owner = nxt
        cols = {r.field: r.column for r in owner.relations}
        return len(path) == n and last == cols.get(tenant_path[-1], tenant_path[-1] + "_id")
    rest = path[n:]
    # organization__id / organization__slug and any unique field of the root name the tenant; organization__plan does not
    if not rest or rest[0] in _TENANT_KEYS:
        return True
    owner = model
    for hop in tenant_path:
        rel = next((r for r in owner.relations if r.field == hop), None)
        owner = schema.model(rel.target) if rel else None
        if owner is None:
            return False
    unique = any((c.attr or c.name) == rest[0] and c.unique for c in owner.columns)
    return unique and (len(rest) == 1 or rest[1:] == ["exact"])


def _param_kinds(fdef: cst.FunctionDef) -> dict[str, set[str]]:
    """{parameter: lower-case kinds} for parameters annotated with a union of classes (`User | Organization`,
    `Union[User, Organization]`, `AuthSubject[User | Organization]`: the kinds inside the subscript)."""
    out: dict[str, set[str]] = {}
    for p in (*fdef.params.params, *fdef.params.kwonly_params, *fdef.params.posonly_params):
        if p.annotation is None:
            continue
        ann = p.annotation.annotation
        if isinstance(ann, cst.Subscript):
            ann = ann.slice[0].slice.value if len(ann.slice) == 1 and isinstance(ann.slice[0].slice, cst.Index) else ann
        names: list[str] = []
        stack = [ann]
        while stack:
            n = stack.pop()
            if isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.BitOr):
                stack.extend((n.left, n.right))
            elif isinstance(n, (cst.Name, cst.Attribute)):
                names.append((dotted_name(n) or "").rsplit(".", 1)[-1])
            elif isinstance(n, cst.Subscript) and (dotted_name(n.value) or "").endswith("Union"):
                stack.extend(e.slice.value for e in n.slice if isinstance(e.slice, cst.Index))
            else:
                names = []
                break
        if len(names) >= 2:
            out[p.name.value] = {n.lower() for n in names}
    return out


def _kind_test(test: cst.BaseExpression) -> tuple[str, str] | None:
    """`isinstance(x, User)` / `is_user(x)` -> ("x", "user")."""
    if not isinstance(test, cst.Call) or not test.args or not isinstance(test.args[0].value, cst.Name):
        return None
    func = (dotted_name(test.func) or "").rsplit(".", 1)[-1]
    name = test.args[0].value.value
    if func == "isinstance" and len(test.args) == 2:
        kind = (dotted_name(test.args[1].value) or "").rsplit(".", 1)[-1]
        return (name, kind.lower()) if kind else None
    if func.startswith("is_") and len(test.args) == 1:
        return name, func[3:].replace("_", "")
    return None


def _membership_check(stmt, name: str) -> tuple[str, str] | None:
    """A lookup in `stmt` that raises unless a row links the requesting user to `name`'s tenant:
    `get_object_or_404(Member, project=check.project, user=request.user)`."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    call = small.value if isinstance(small, (cst.Assign, cst.Expr)) else None
    if not isinstance(call, cst.Call):
        return None
    func = (dotted_name(call.func) or "").rsplit(".", 1)[-1]
    if func not in ("get_object_or_404", "get", "aget", "aget_object_or_404"):
        return None
    attr = None
    user = False
    for arg in call.args:
        v = arg.value
        if arg.keyword is None:
            continue
        if isinstance(v, cst.Attribute) and isinstance(v.value, cst.Name) and v.value.value == name:
            attr = v.attr.value
        elif _is_requesting_user(v):
            user = True
    if attr is None or not user:
        return None
    return " ".join(_code(call).split()), attr


def _not_found_exit(stmt, name: str) -> bool:
    """`if dataset is None: raise NotFound()` / `if not dataset: abort(404)`: the row is not used yet."""
    if not isinstance(stmt, cst.If) or stmt.orelse is not None or not _exits(_body(stmt.body)):
        return False
    test = stmt.test
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return isinstance(test.expression, cst.Name) and test.expression.value == name
    return (
        isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, cst.Is)
        and isinstance(test.left, cst.Name) and test.left.value == name and _is_none(test.comparisons[0].comparator)
    )


def _truth_subject(test: cst.BaseExpression) -> str:
    """`self.group_id` in `if self.group_id:` / `if self.group_id is not None:`; "" for any other test."""
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, cst.IsNot) and _is_none(test.comparisons[0].comparator):
        test = test.left
    return dotted_name(test) or "" if isinstance(test, (cst.Name, cst.Attribute)) else ""


def _optional_filter(body_env: Env, skipped: Env, subject: str) -> Env:
    """`if self.group_id: stmt = stmt.filter(Model.group_id == self.group_id)`: the query is filtered by that value
    whenever it is set; the path that skips the filter runs only without a tenant value (an install-wide caller)."""
    out = skipped.copy()
    for key, value in skipped.items():
        filtered = body_env.get(key)
        if not isinstance(value, QVal) or not isinstance(filtered, QVal):
            continue
        states = []
        for st in value.states:
            match = next((f for f in filtered.states if f.origin is st.origin and f.term.status == S
                          and any(subject in p for p in f.term.predicates)), None)
            if match is not None and st.term.status != S:
                st = QState(st.origin, Term(S, match.term.predicates, f"filtered whenever {subject} is set", null_only=True), st.related)
            states.append(st)
        out[key] = QVal(tuple(states))
    return out


_OBJECT_PERMISSIONS = {"has_perm", "has_object_permission", "check_object_permissions", "has_object_perm"}


def _permission_gates(rest: list, name: str) -> str:
    """`obj = <fetch>` whose every later use sits in `if user.has_perm("...", obj): ...`: an object permission decides
    before anything of the row is used (django-rules, guardian, DRF object permissions). The text of the first check."""
    if not rest or not isinstance(rest[0], cst.If) or not _OBJECT_PERMISSIONS.intersection(n.value for n in names_in(rest[0].test)):
        return ""  # (the common case, decided without reading the rest of the block)
    first = ""
    for stmt in rest:
        if name not in {n.value for n in names_in(stmt)}:
            continue
        if not isinstance(stmt, cst.If) or stmt.orelse is not None:
            return ""
        calls = [c for c in _calls(stmt.test) if (dotted_name(c.func) or "").rsplit(".", 1)[-1] in _OBJECT_PERMISSIONS
                 and any(isinstance(a.value, cst.Name) and a.value.value == name for a in c.args)]
        if not calls or name in {n.value for n in names_in(stmt.test) if not any(n is a.value for c in calls for a in c.args)}:
            return ""
        first = first or " ".join(_code(calls[0]).split())
    return first


def _calls(node: cst.CSTNode):
    return (n for n in descendants(node) if isinstance(n, cst.Call))


def _principal_shortcut(stmt, name: str) -> bool:
    """An early return for a privileged requesting user (`if request.user.is_superuser: return check`) or one that owns
    the row's tenant (`if request.user.id == check.project.owner_id: return check`). `is_authenticated` and the like
    admit anyone, so they are no such shortcut."""
    if not isinstance(stmt, cst.If) or stmt.orelse is not None or not _exits(_body(stmt.body)):
        return False
    test = stmt.test
    if isinstance(test, cst.Attribute) and _is_requesting_user(test.value) and test.attr.value in ("is_superuser", "is_staff"):
        return True
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, (cst.Equal, cst.Is)):
        sides = (test.left, test.comparisons[0].comparator)
        principal = any(_is_requesting_user(x) for x in sides)
        row = any((dotted_name(x) or "").startswith(f"{name}.") for x in sides)
        return principal and row
    return False


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


def _follow(schema: Schema, model: ModelInfo, path: list[str]) -> ModelInfo | None:
    """The model a lookup path ends on when every hop is a relation (forward or reverse); None otherwise."""
    owner = model
    for hop in path:
        rel = next((r for r in owner.relations if r.field == hop), None)
        if rel is not None:
            owner = schema.model(rel.target)
        else:
            source = schema.reverse.get(owner.name, {}).get(hop)
            owner = schema.model(source) if source else None
        if owner is None:
            return None
    return owner


def _is_tenant_attr(model: ModelInfo, attr: str) -> bool:
    """`project` / `project_id` on a row owned through `project`: the attribute that says whose the row is."""
    tenant = model.tenant
    if tenant is None:
        return False
    heads = {p[0] for p in tenant.tenant_paths}
    heads |= {r.column for r in model.relations if r.field in heads}
    if tenant.tenant_column:
        heads.add(tenant.tenant_column)
    return attr in heads


def _is_field(model: ModelInfo, name: str) -> bool:
    return any((c.attr or c.name) == name for c in model.columns) or any(r.field == name for r in model.relations)


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _is_object_like(node: cst.BaseExpression) -> bool:
    """`patient`, `self.patient`, `request.user`, `get_patient()`: an object, not a raw id from outside."""
    if isinstance(node, cst.Name):
        return not _ID_NAME.search(node.value) and node.value not in ("None", "True", "False")
    if isinstance(node, cst.Attribute):
        if node.attr.value in ("id", "pk"):
            return _is_object_like(node.value)
        return not _ID_NAME.search(node.attr.value)
    if isinstance(node, cst.Call):
        return True
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return bool(node.elements) and all(_is_object_like(e.value) for e in node.elements)
    if isinstance(node, cst.Subscript) and isinstance(node.value, (cst.Name, cst.Attribute)):
        # user_profiles[0]: an element of a list of objects (request.GET["x"] is no object)
        root = node.value
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(root, cst.Name) and root.value in ("request", "kwargs", "data", "params", "payload", "args", "body"):
            return False
        name = node.value.attr.value if isinstance(node.value, cst.Attribute) else node.value.value
        return not _ID_NAME.search(name) and name not in ("GET", "POST", "data", "query_params", "headers", "json", "form", "args")
    return False


def _is_requesting_user(node: cst.BaseExpression) -> bool:
    """`request.user`, `self.request.user.id`: the authenticated principal, narrower than a tenant."""
    text = dotted_name(node) or ""
    return text.removesuffix(".id").removesuffix(".pk").endswith("request.user")


def _is_loaded_object_id(node: cst.BaseExpression, any_attr: bool = False) -> bool:
    """`serializer.instance.id`, `obj.pk`: the id of an object in hand, not an id from the request."""
    if not (isinstance(node, cst.Attribute) and (any_attr or node.attr.value in ("id", "pk") or node.attr.value.endswith("_id"))):
        return False
    root = node.value
    while isinstance(root, cst.Attribute):
        root = root.value
    if isinstance(root, cst.Name) and root.value in ("request", "kwargs", "data", "params", "payload"):
        return False
    return _is_object_like(node.value) or (isinstance(node.value, cst.Name) and node.value.value == "self")


def _contains_outer_ref(node: cst.BaseExpression, module: PythonModule) -> bool:
    if isinstance(node, cst.Call):
        name = dotted_name(node.func) or ""
        return name.rsplit(".", 1)[-1] == "OuterRef"
    return False


def _mentions_tenant(node: cst.Call, config: Config) -> bool:
    words = {r.lower() for r in config.tenant_roots} | {c.lower().removesuffix("_id") for c in config.tenant_columns} | {"org", "tenant"}
    for a in node.args:
        for name in re.findall(r"[A-Za-z_]+", _code(a.value)):
            low = name.lower()
            if low in words or any(low.endswith("_" + w) or low.startswith(w + "_") for w in words):
                return True
    return False


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _short(module: PythonModule, node: cst.CSTNode) -> str:
    return short_code(node)




def _subscript_key(node: cst.Subscript) -> str | None:
    if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return string_value(node.slice[0].slice.value)
    return None


def _kw_keys(node: cst.Call, env: Env, skip: tuple[str, ...] = ()) -> tuple[set[str], bool]:
    keys: set[str] = set()
    complete = True
    for a in node.args:
        if a.keyword is not None:
            if a.keyword.value not in skip:
                keys.add(a.keyword.value)
        elif a.star == "**":
            v = env.get(a.value.value) if isinstance(a.value, cst.Name) else None
            if isinstance(a.value, cst.Dict):
                for el in a.value.elements:
                    k = string_value(el.key) if isinstance(el, cst.DictElement) else None
                    if k is None:
                        complete = False
                    else:
                        keys.add(k)
            elif isinstance(v, DictKeys):
                keys |= v.keys
                complete = complete and v.complete
            else:
                complete = False
    return keys, complete


ADAPTER = DjangoAdapter()
