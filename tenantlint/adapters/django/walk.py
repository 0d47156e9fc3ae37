"""The statement walk: functions and class bodies statement by statement, branches walked apart and merged,
queries held in variables followed to where they run."""
from __future__ import annotations

import ast
import re
from typing import Iterator

import libcst as cst

from tenantlint.adapters.flow import D, N, ROW_KEY, S, U, Term, t_and, t_or
from tenantlint.adapters.values import _SEQ, DictKeys, Env, NewObject, Origin, QState, QTerm, QVal, Rows, merge_envs
from tenantlint.adapters.helpers import HelperCalls, _assigned_names, callee_name, _memo, _required_params, param_names, snippet
from tenantlint.config import Config
from tenantlint.index.project import ProjectIndex
from tenantlint.index.summary import parsed_def
from tenantlint.python_module import children, descendants, PythonModule, dotted_name, operator_entry, string_value
from tenantlint.types import ModelInfo, QuerySite, Restriction, Schema, Scope, SiteKind
from tenantlint.adapters.syntax import _body, _exits, _Suite, _subscript_key, _is_none
from tenantlint.adapters.django.lookups import _is_loaded_object_id, _is_requesting_user, _is_tenant_attr, _none_only_when_privileged, _privileged_none_test, _privileged_test, _settings_value
from tenantlint.adapters.django.rows import _key_comprehension
from tenantlint.adapters.django.guards import loop_gate
from tenantlint.context.entry import ADMIN_ONLY, AVAILABILITY_CHECK, INSTALL_WIDE_COUNT, MAINTENANCE, OPERATOR_KEY, ORM_HOOK, UNCALLED_JOB, UNCALLED_METHOD, UNQUEUED_TASK, UNREACHABLE_HOOK, VALIDATOR_CHECK, caller_entry, orm_hooks, staff_class, staff_decorator, staff_dependency
from tenantlint.context.permissions import view_admission


# what a helper's text must hold to answer None only to an install-wide administrator
_PRIVILEGED_WORDS = re.compile(r"\b(?:is_superuser|is_staff)\b")


class Walker(HelperCalls):
    def __init__(self, module: PythonModule, schema: Schema, config: Config, index: ProjectIndex | None = None):
        self.init_helpers(module, index)
        self.module = module
        self.schema = schema
        self.config = config
        self.origins: list[tuple[Origin, str]] = []  # (origin, function)
        self.local_models: dict = {}  # names bound in the function being walked to a model named by its app label
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
        self.function_entries: dict[str, str] = {}  # function -> what runs it when not a tenant's request (admin-only)
        # functions the ORM calls on its events: their reads are of rows a flush or load hands them
        self.orm_hooks = orm_hooks(module.tree, module.imports.qualify) if "listen" in module.source else frozenset()
        self.local_classes = {s.name.value: s for s in module.tree.body if isinstance(s, cst.ClassDef)}
        self._tenant_relations: tuple[str, ...] | None = None
        self.required_params: frozenset[str] = frozenset()  # parameters of the walked function without a default
        self.current_statement: cst.CSTNode | None = None  # the statement being walked (of this module, not a helper's)
        self.pinned: dict[int, str] = {}  # id() of `data["status_id"]` nodes a validator checked -> "Validator.validate_status_id"
        self.caller_pins: list[cst.Name] = []  # the nodes standing for parameters every caller hands checked ids

    def run(self) -> list[QuerySite]:
        self.block(self.module.tree.body, Env(), "<module>")
        return list(self.emit())

    def emit(self) -> Iterator[QuerySite]:
        for origin, function in self.origins:
            if origin.anchor is None or not origin.observed:
                continue
            if self.moved_to_callers(function) and not self.local_model(origin, function):
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
                if term.status == U and term.at is not None:
                    related += self.unreadable_part(term.at, function, origin.anchor)
                if scope is Scope.UNSCOPED and kind is SiteKind.READ and origin.guard:
                    scope = Scope.GUARDED
                entry = self.entry or self.function_entries.get(function, "")
                if not entry and scope is Scope.UNSCOPED and kind is SiteKind.READ and origin.counted and self.given_nothing(origin, function):
                    entry = INSTALL_WIDE_COUNT
                if not entry and scope is Scope.UNSCOPED and kind is SiteKind.READ and self.filter_only(origin.model) \
                        and self.given_nothing(origin, function, returns=False):
                    entry = MAINTENANCE  # what it reads goes back to no caller; its writes stay findings (any request may run them)
                if not entry and scope is Scope.UNSCOPED and kind is SiteKind.READ and function.partition(".")[0] in self.orm_hooks:
                    entry = ORM_HOOK
                if not entry and scope is Scope.UNSCOPED and kind is SiteKind.READ and (origin.counted or origin.tested) \
                        and (unique := _UNIQUE_VALUE.match(term.reason)) and unique.group(1) not in ("id", "pk", "uuid"):
                    entry = AVAILABILITY_CHECK
                if not entry and scope is Scope.UNSCOPED and kind is SiteKind.READ and origin.counted and origin.via is None \
                        and self.validator_check_query(function):
                    entry = VALIDATOR_CHECK
                yield QuerySite(kind, origin.model, Restriction(scope, term.predicates, term.reason), origin.api, origin.anchor, text, function,
                                related=related, entry=entry, guard=origin.guard, derived=term.status == N and term.reason.startswith(ROW_KEY),
                                statement=origin.statement)

    def local_model(self, origin: Origin, function: str) -> bool:
        """The query's model is one a local of the function picks at run time (`model = apps.get_model(...)`,
        `for model in MODELS:`; then `model.objects...`), not a parameter, `self` or `cls`: the walk of a call of the
        function sees no query there, so its body reports it."""
        if not origin.model.opaque:
            return False
        head = origin.model.name.split(".", 1)[0]
        found = self.index.function(f"{self.module_id}:{function}") if self.index is not None else None
        if found is None or head in ("self", "cls"):
            return False
        fn = found[1]
        return head not in {p for p in (*fn.params, *fn.kwonly, fn.vararg, fn.kwarg) if p}

    def validator_check_query(self, function: str) -> bool:
        """A serializer's `validate()` / `validate_<field>()` that looks rows up by the tenant key given with the data
        (`project__id=attrs["project_id"]`, or both fields of a generic relation) and raises on the answer: the query
        is the tenant check itself, and a number (`.exists()`, `.count()`) is all it reads."""
        cls, _, method = function.rpartition(".")
        if not cls or not method.startswith("validate") or self.index is None:
            return False
        found = self.index.function(f"{self.module_id}:{function}")
        source = found[1].source if found is not None else None
        return bool(source) and "raise" in source and self.looks_up_by_tenant(source)

    def builds_statement(self, call: cst.Call) -> bool:
        """A call of a project function whose return annotation is a statement it builds (`-> Select`, `-> Query`):
        it refines what it is handed and returns it, running nothing."""
        name = callee_name(call.func)
        if self.index is None or not name or name.startswith(("self.", "cls.", "super()")) or not any(isinstance(a.value, cst.Call) for a in call.args):
            return False  # (most call statements hand no statement built in place: decided without the index)
        r = self.index.resolve_call(self.module_id, None, name) or (
            self.index.resolve_typed_call(self.module_id, self.function, name) if "." in name else None)
        return r is not None and bool(_STATEMENT_TYPE.fullmatch((r.function.returns or "").strip()))

    def filter_only(self, model: ModelInfo) -> bool:
        """The table is judged by its tenant filter alone: in context mode a missing tenant context (TL201) is the
        finding, whoever runs the code."""
        listed = {t.lower() for t in self.config.context_tables}
        return self.config.mode == "filter" and model.table.lower() not in listed and model.name.lower() not in listed

    def given_nothing(self, origin: Origin, function: str, returns: bool = True) -> bool:
        """The function the query is written in takes no parameter but database handles (a classmethod's `cls`, an ORM
        session or connection: `session: Session = Depends(get_session)`) and reads no request: no value from a caller
        or a user can pick which rows it covers. `returns=False`: and it returns nothing (no `return <value>`, no
        `yield`), so nothing it reads goes back to a caller."""
        if origin.via is not None:
            fdef = origin.via.snippet.fdef
            params = fdef.params
            given = [(p.name.value, origin.via.snippet.module.code_for_node(p.annotation.annotation) if p.annotation else "",
                      origin.via.snippet.module.code_for_node(p.default) if p.default else "")
                     for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
            star = isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None
            source = origin.via.snippet.module.code_for_node(fdef)
        else:
            found = self.index.function(f"{self.module_id}:{function}") if self.index is not None else None
            if found is None or found[1].source is None:
                return False
            fn = found[1]
            notes, defaults = dict(fn.annotations), dict(fn.defaults)
            given = [(n, notes.get(n, ""), defaults.get(n, "")) for n in (*fn.params, *fn.kwonly)]
            star, source = bool(fn.vararg or fn.kwarg), fn.source
        if star or "request" in source or not all(n == "cls" or _database_handle(n, note, default) for n, note, default in given):
            return False
        return returns or not _returns_a_value(source)

    def unreadable_part(self, node, function: str, anchor) -> tuple:
        """A second location at the part of a query that cannot be read (`filter_by(**self._filters())`), when it is
        not on the line where the query starts: a query refined over several statements is reported where it starts."""
        summary = self.index.by_rel.get(self.module.path) if self.index is not None else None
        lines = summary.lines_of(function) if summary is not None else None
        if lines is None:
            return ()
        span = self.module.span_of(node, None, lines)
        start = self.module.span_of(anchor, None, lines)
        if span is None or start is None or not lines[0] <= span.start_line <= lines[1] or start.start_line == span.start_line:
            return ()  # not found in this function (a helper's text), or on the line the finding is on anyway
        return ((self.module.path, span, "the part that cannot be read"),)

    def new_origin(self, model: ModelInfo, api: str, insert: bool = False) -> Origin:
        o = Origin(model, api, insert=insert, statement=None if self.frame.inline else self.current_statement)
        self.origins.append((o, self.function))
        return o

    def block(self, body, env: Env | None, function: str) -> Env | None:
        saved = self.function
        self.function = function
        try:
            for i, stmt in enumerate(body):
                if env is None:
                    break
                seq = next(_SEQ)
                outer, self.current_statement = self.current_statement, stmt
                try:
                    env = self.statement(stmt, env)
                finally:
                    self.current_statement = outer
                # a check after the statement guards what it ran; nothing ran when no query was observed meanwhile
                # (every observation draws from _SEQ), and then the following statements need no reading
                ran = next(_SEQ) > seq + 1
                guard = self.guard_after(stmt, body[i + 1 :]) if ran else None
                if guard:
                    text, attr = guard
                    for origin, _ in self.origins:  # the queries this statement ran, wherever they started
                        if origin.seq > seq and (not attr or _is_tenant_attr(origin.model, attr)):
                            origin.guard = text
                elif ran and isinstance(stmt, cst.For) and (text := loop_gate(stmt)):
                    # each row of the loop checked before use: the query iterated, not those its body runs
                    inner = {id(n) for n in descendants(stmt.body)}
                    for origin, _ in self.origins:
                        if origin.seq > seq and origin.anchor is not None and id(origin.anchor) not in inner:
                            origin.guard = text
            return env
        finally:
            self.function = saved

    def static_truth(self, test: cst.BaseExpression, env: Env | None = None) -> bool | None:
        """True / False when a test only reads parameters the caller passed as literals (None, True, False), or tests
        for None a parameter the caller handed a key built from an object in hand (a string); else None."""
        if env is not None and isinstance(test, cst.Name) and env.get(f"__none__{test.value}"):
            return False
        if env is not None and isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name) \
                and _is_none(test.comparisons[0].comparator) and env.get(f"__none__{test.left.value}") \
                and isinstance(test.comparisons[0].operator, (cst.Is, cst.IsNot)):
            return isinstance(test.comparisons[0].operator, cst.Is)  # `if user_story_id is not None:` of a field never given
        if len(self.frames) < 2:
            return None
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self.static_truth(test.expression, env)
            return None if inner is None else not inner
        if env is not None and isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name) \
                and _is_none(test.comparisons[0].comparator) and isinstance(env.get(f"__key__{test.left.value}"), cst.Call):
            op = test.comparisons[0].operator
            if isinstance(op, (cst.Is, cst.IsNot)):
                return isinstance(op, cst.IsNot)
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
            tested = _tested_call(stmt.test)
            if tested is not None:  # `if helper(x):`, `if not helper(x):`, `if helper(x) is None:`: only its truth is read
                mark = len(self.origins)
                self.expr(tested, env)
                ran = [origin for origin, _ in self.origins[mark:]]
                if not any(o.insert or set(o.observed) - {SiteKind.READ} for o in ran):
                    # a call that only reads, whose answer goes no further than this test: the queries in the test
                    # itself or in the body of the function it calls (`if repo.get_by_username(name):`), not those of
                    # functions that one calls in turn to do its work
                    depth = len(self.inline_stack) + 1
                    for origin in ran:
                        if origin.api.count(" -> ") <= depth:
                            origin.tested = True
            else:
                self.expr(stmt.test, env)
            known = self.static_truth(stmt.test, env)
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
            if b is not None and (_privileged_test(stmt.test) or _privileged_none_test(stmt.test, env)):
                # `if request.user.is_superuser: qs = qs`: what an install-wide administrator may see is no tenant's
                # business; the values go on from the other paths (the branch's own queries are still judged)
                return b
            return merge_envs([a, b])
        if isinstance(stmt, (cst.For, cst.While)):
            if isinstance(stmt, cst.For):
                over = self.expr(stmt.iter, env)
                self.bind(stmt.target, None, env)
                if isinstance(stmt.target, cst.Name):
                    # `for pic in pictures:` over a query of one model: each `pic` is a row of that model, whatever its name
                    # (bind() above dropped what the name held before)
                    models = {id(st.origin.model): st.origin.model for st in over.states} if isinstance(over, (QVal, Rows)) else {}
                    if len(models) == 1:
                        env[f"__rowmodel__{stmt.target.value}"] = next(iter(models.values()))
                checked = self.checked_collection(stmt.iter, env)
                if checked and isinstance(stmt.target, cst.Name):
                    env[f"__pinned_elem__{stmt.target.value}"] = checked  # `for e in data["bulk_stories"]:` a validator checked
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
            if not disabled or env.get("__scopes_disabled__") is True:
                return self.block(_body(stmt.body), env, self.function)
            outer = env.get("__scopes_disabled__")  # a view's own "may be off" (see function_def) resumes after the block
            env["__scopes_disabled__"] = True  # django-scopes switched off: scoped managers filter nothing in here
            after = self.block(_body(stmt.body), env, self.function)
            if after is not None:
                after.pop("__scopes_disabled__", None)
                if outer:
                    after["__scopes_disabled__"] = outer
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
        for child in children(stmt):
            if isinstance(child, cst.BaseExpression):
                self.expr(child, env)
        return env

    def small(self, small: cst.CSTNode, env: Env) -> Env | None:
        if isinstance(small, cst.Assign):
            named = self.model_by_label(small.value)
            for t in small.targets:
                if isinstance(t.target, cst.Name):
                    if named is not None:
                        self.local_models[t.target.value] = named  # membership_model = apps.get_model("projects", "Membership")
                    else:
                        self.local_models.pop(t.target.value, None)
            mark = len(self.origins)
            value = self.expr(small.value, env, assign=True)
            row = self.unscoped_row(small.value, mark)
            for t in small.targets:
                self.bind(t.target, value, env, small.value)
                if isinstance(t.target, cst.Name):
                    principal = self.principal_value(small.value, env)
                    if principal is not None:  # `owner = self.request.user`: handed on, it is still the principal
                        env[f"__principal__{t.target.value}"] = principal
                    else:
                        env.pop(f"__principal__{t.target.value}", None)
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
            if isinstance(small.value, cst.Call) and self.builds_statement(small.value):
                # `builder.filter_query(select(Recipe), Recipe)` to check a filter's syntax: the project function hands
                # the statement back refined (`-> Select`), and the result is dropped: nothing runs
                for a in small.value.args:
                    self.expr(a.value, env, assign=True)
                return env
            self.expr(small.value, env, assign=True)
            return env
        if isinstance(small, (cst.Continue, cst.Break, cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal, cst.Pass)):
            return env  # `from app.reviews import x` names modules, not related managers
        for child in children(small):
            if isinstance(child, cst.BaseExpression):
                self.expr(child, env)
        return env

    def bind(self, target: cst.CSTNode, value, env: Env, node: cst.BaseExpression | None = None) -> None:
        if isinstance(target, cst.Name):
            ids, columns = self.held_ids(node, value, env), self.key_columns(node, env) if node is not None else None
            env.pop(f"__ids__{target.value}", None)
            env.pop(f"__columns__{target.value}", None)
            if ids is not None:  # `ids = checked + list(project.items.values_list("id", flat=True))`: judged before it is rebound
                env[f"__ids__{target.value}"] = ids
            if columns is not None:  # `rows = tuple(zip(ids, orders))`
                env[f"__columns__{target.value}"] = columns
            if value is None:
                env.pop(target.value, None)
            else:
                env[target.value] = value
            env.pop(f"__key__{target.value}", None)
            env.pop(f"__privileged_none__{target.value}", None)
            env.pop(f"__validator__{target.value}", None)
            env.pop(f"__validated__{target.value}", None)
            env.pop(f"__pinned_elem__{target.value}", None)
            env.pop(f"__none__{target.value}", None)
            env.pop(f"__rowmodel__{target.value}", None)
            if node is not None and self.undeclared_field(node, env):
                env[f"__none__{target.value}"] = True  # `x_id = data.get("x_id")` of a validator that has no such field
            if isinstance(node, cst.Call):
                built = self.validator_class(node)
                if built is not None:  # `validator = UpdateOrderValidator(data=request.DATA)`
                    env[f"__validator__{target.value}"] = built
                    given = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "data"), None)
                    if isinstance(given, cst.Name) and given.value != target.value:
                        env[f"__validated__{given.value}"] = built  # `data = request.DATA.copy(); V(data=data)`: what it checks
            if isinstance(node, cst.Attribute) and node.attr.value in ("data", "validated_data") and isinstance(node.value, cst.Name) \
                    and f"__validator__{node.value.value}" in env:
                env[f"__validated__{target.value}"] = env[f"__validator__{node.value.value}"]  # `data = validator.data`
            if node is not None and self.pinned_field(node, env):
                env[f"__key__{target.value}"] = node  # `status_id = data.get("status_id")`, checked by validate_status_id
            if isinstance(node, cst.Call) and self.none_only_when_privileged(node):
                # `project_ids = self.get_project_ids(request, view)`, None only for an install-wide administrator
                env[f"__privileged_none__{target.value}"] = True
            if isinstance(node, cst.Attribute) and _is_loaded_object_id(node) or _key_comprehension(node) or self.object_key_call(node):
                # `stream_id = message.recipient.type_id`: a key copied from an object in hand is still its key;
                # `ids = {row["user_id"] for row in rows}`: the keys of rows, as bound as the query that read them
                env[f"__key__{target.value}"] = node
        elif isinstance(target, cst.Attribute):
            obj = target.value
            if isinstance(obj, cst.Name) and isinstance(env.get(obj.value), NewObject):
                env[obj.value].keys.add(target.attr.value)
            if isinstance(value, QVal) and "__drf_base__" in env and target.attr.value == "queryset" and isinstance(obj, cst.Name) and obj.value == "self":
                # `self.queryset = self.queryset.filter(...)` in get_queryset(): refined, and judged where it is returned
                env["__drf_base__"] = value
                return
            self.observe_value(value)
        elif isinstance(target, cst.Subscript):
            base = target.value
            if isinstance(base, cst.Name):
                env.pop(f"__validated__{base.value}", None)  # `data["ids"] = other` after the validator checked `data`
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

    def principal_value(self, value: cst.BaseExpression, env: Env) -> cst.BaseExpression | None:
        """The requesting user a value stands for: `request.user` itself, a local or (in a helper) a parameter holding
        it, or the user re-fetched by its id (`get_user_model().objects.get(id=user_or_id)` handed the principal)."""
        if _is_requesting_user(value):
            return value
        if isinstance(value, cst.Name) and f"__principal__{value.value}" in env:
            return env[f"__principal__{value.value}"]
        held = self.subst_node(value)
        if held is not value and _is_requesting_user(held):
            return held
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "get" \
                and len(value.args) == 1 and value.args[0].keyword is not None and value.args[0].keyword.value in ("id", "pk"):
            manager = value.func.value
            model = manager.value if isinstance(manager, cst.Attribute) else None
            if isinstance(model, cst.Call):  # get_user_model().objects
                user_model = (dotted_name(model.func) or "").rsplit(".", 1)[-1] == "get_user_model"
            else:  # User.objects, auth.User.objects
                user_model = model is not None and (dotted_name(model) or "").rsplit(".", 1)[-1] == "User"
            key = self.subst_node(value.args[0].value)
            if isinstance(key, cst.Attribute) and key.attr.value in ("id", "pk"):
                key = key.value
            if user_model and _is_requesting_user(key):
                return key
        return None

    def none_only_when_privileged(self, call: cst.Call) -> bool:
        """Whether the project function called answers None only on a branch an install-wide administrator takes
        (`if request.user.is_superuser: return None`), and a value on every other path."""
        if self.index is None:
            return False
        name = dotted_name(call.func) or ""
        if name.startswith("self.") and name.count(".") == 1 and self.frame.self_class is not None:
            key = ("privileged none", self.frame.self_class, name)
        elif name and "." not in name and name not in self.frame.local_names:
            key = ("privileged none", self.frame.module, name)
        else:
            return False
        memo = _memo(self.schema)
        if key not in memo:
            r = self.index.method(*self.frame.self_class, name[5:]) if name.startswith("self.") else self.index.resolve_call(self.frame.module, None, name)
            source = r.function.source if r is not None else None
            snip = snippet(r) if source and _PRIVILEGED_WORDS.search(source) else None
            memo[key] = snip is not None and _none_only_when_privileged(_body(snip.fdef.body))
        return memo[key]

    def aug_assign(self, node: cst.AugAssign, env: Env) -> None:
        target = node.target
        if isinstance(target, cst.Name) and f"__ids__{target.value}" in env:
            # `ids += more`: still one tenant's ids only when what is added is
            more = self.handed_keys(node.value, env) if isinstance(node.operator, cst.AddAssign) else ""
            env[f"__ids__{target.value}"] = env[f"__ids__{target.value}"] and more and env[f"__ids__{target.value}"]
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
        elif not self.class_stack and not self.frame.inline and self.index is not None and _open_function_view(node):
            middleware = self.index.scopes_off_middleware()
            if middleware:  # the anonymous requests this view serves run with django-scopes off
                env["__scopes_disabled__"] = f"django-scopes may be off here: the view requires no login, and the middleware at {middleware} hands some requests on inside scopes_disabled()"
        elif not self.class_stack and not self.frame.inline and self.index is not None and _is_api_view(node) and self.index.scopes_off_middleware():
            admits = view_admission(self.index, self.module_id, None, _permission_decorator(node))
            if admits:
                env["__scopes_disabled__"] = _admitted_off(admits, self.index.scopes_off_middleware())
        elif len(self.class_stack) == 1 and not self.frame.inline and self.class_stack[0].get("scopes_off"):
            env["__scopes_disabled__"] = self.class_stack[0]["scopes_off"]
        saved_models, self.local_models = self.local_models, {}
        saved_kinds, self.param_kinds = self.param_kinds, _param_kinds(node)
        saved_defaults, self.required_params = self.required_params, _required_params(node)
        saved_locals = self.frame.local_names
        if not self.frame.inline:
            self.frame.local_names = frozenset(_assigned_names(node) | param_names(node))
        cls = self.class_stack[-1] if self.class_stack else None
        if not self.entry and not self.frame.inline and (
            cls is not None and cls.get("staff") or any(staff_decorator(d, self.module_id, self.index) for d in node.decorators)
            or staff_dependency(node, self.module_id, self.index)
        ):
            self.function_entries[name] = ADMIN_ONLY  # install-wide staff run it, across tenants on purpose
        elif not self.entry and not self.frame.inline and self.index is not None and (called := caller_entry(self.index, f"{self.module_id}:{name}")):
            self.function_entries[name] = called  # only the scheduler, install-wide staff or operators run it
        elif not self.entry and not self.frame.inline and _settings_key_gate(_body(node.body)):
            self.function_entries[name] = OPERATOR_KEY  # only the holder of the install's secret gets past its check
        elif not self.entry and not self.frame.inline and self.index is not None and cls is not None and node.name.value.startswith("validate_") \
                and self.index.unreachable_hook(self.module_id, self.class_qualname(), node.name.value):
            self.function_entries[name] = UNREACHABLE_HOOK  # a hook REST framework never calls: what it reads never runs
        elif not self.entry and not self.frame.inline and self.index is not None and not self.class_stack and not node.decorators \
                and not _required_params(node) and not isinstance(node.params.star_arg, cst.Param) and node.params.star_kwarg is None \
                and self.index.never_called(f"{self.module_id}:{name}"):
            self.function_entries[name] = UNCALLED_JOB  # run from a shell, cron or a worker, or never: no request's
        elif not self.entry and not self.frame.inline and self.index is not None and not self.class_stack \
                and self.index.unqueued_task(f"{self.module_id}:{name}"):
            self.function_entries[name] = UNQUEUED_TASK  # a task no code queues: dead, as far as the project shows
        elif not self.entry and not self.frame.inline and self.index is not None and len(self.class_stack) == 1 \
                and all(_plain_method_decorator(d) for d in node.decorators) \
                and not node.name.value.startswith("__") and self.index.uncalled_method(self.module_id, self.class_qualname(), node.name.value):
            self.function_entries[name] = UNCALLED_METHOD  # dead code, or called through getattr(): no request path the index sees
        if cls is not None and cls.get("queryset") is not None and node.name.value in ("get_queryset", "get_object"):
            env["__drf_base__"] = cls["queryset"]
        if not self.class_stack and not self.frame.inline:
            for param, (kind, text) in self.checked_by_every_caller(f"{self.module_id}:{name}").items():
                if kind == "key":  # `def send(notification_id)` whose every call hands it `notification.pk`
                    env[f"__key__{param}"] = cst.parse_expression(text)
                    continue
                # `def update_in_bulk(project, bulk_stories)` whose every call hands it a validator's checked list
                held = cst.Name(param)
                self.caller_pins.append(held)  # kept alive: the registry is keyed by the node's id
                self.pinned[id(held)] = text
                env[f"__key__{param}"] = held
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
            self.local_models = saved_models
            self.required_params = saved_defaults
            self.frame.local_names = saved_locals

    def new_env(self) -> Env:
        return Env()

    def model_by_label(self, node: cst.BaseExpression) -> ModelInfo | None:
        """`apps.get_model("projects", "Membership")`, `apps.get_model("projects.Membership")`: the model of that app."""
        if not (isinstance(node, cst.Call) and (dotted_name(node.func) or "").rsplit(".", 1)[-1] == "get_model"):
            return None
        args = [string_value(a.value) for a in node.args if a.keyword is None]
        if not args or any(a is None for a in args):
            return None
        label = ".".join(args) if len(args) == 2 else args[0]
        key = self.schema.by_app.get(label.lower())
        info = self.schema.models.get(key) if key is not None else None
        return info if info is not None and info.source in self.SOURCES else None

    def class_qualname(self) -> str:
        return ".".join(c["name"] for c in self.class_stack)

    def class_info(self, node: cst.ClassDef) -> dict:
        """What the walk keeps of a class while in its body; a class only install-wide staff reach (Django admin,
        DRF IsAdminUser) makes its own statements admin-only too."""
        staff = staff_class(node, self.module.imports.qualify) or (
            self.index is not None and not self.frame.inline and self.index.staff_view(self.module_id, ".".join([*(c["name"] for c in self.class_stack), node.name.value])))
        info = {"name": node.name.value, "queryset": None, "node": node, "staff": staff}
        if not self.class_stack and not self.frame.inline and self.DRF_VIEWS and self.index is not None and self.index.scopes_off_middleware():
            if _drf_view_class(self.index, self.module_id, node.name.value):
                admits = view_admission(self.index, self.module_id, node.name.value)
                if admits:  # the view's anonymous requests run with django-scopes off: its scoped managers filter nothing
                    info["scopes_off"] = _admitted_off(admits, self.index.scopes_off_middleware())
        if info["staff"] and not self.entry:
            self.function_entries[node.name.value] = ADMIN_ONLY  # the class's own `queryset = ...`
        return info

    def plain_class_def(self, node: cst.ClassDef) -> None:
        """A class body walked in order, methods as functions named after the class."""
        self.class_stack.append(self.class_info(node))
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


# the reason a lookup by a unique column gives (lookups.py, sqlalchemy.py)
_UNIQUE_VALUE = re.compile(r"the row is selected by its unique (\w+)")


def _plain_method_decorator(decorator: cst.Decorator) -> bool:
    """`@classmethod` / `@staticmethod`: they register the method nowhere, so what calls it is still only code."""
    return isinstance(decorator.decorator, cst.Name) and decorator.decorator.value in ("classmethod", "staticmethod")


def _tested_call(test: cst.BaseExpression) -> cst.Call | None:
    """The call whose answer alone an `if` reads: `if f(x):`, `if not f(x):`, `if f(x) is None:` / `is not None`."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test = test.expression
    elif isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, (cst.Is, cst.IsNot)) \
            and _is_none(test.comparisons[0].comparator):
        test = test.left
    return test if isinstance(test, cst.Call) else None


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


def _is_api_view(node: cst.FunctionDef) -> bool:
    """A REST framework function view: `@api_view([...])`."""
    return any((dotted_name(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) or "").rsplit(".", 1)[-1] == "api_view" for d in node.decorators)


def _permission_decorator(node: cst.FunctionDef) -> str | None:
    """The source of `@permission_classes(<this>)` on a function view, or None."""
    for d in node.decorators:
        call = d.decorator
        if isinstance(call, cst.Call) and (dotted_name(call.func) or "").rsplit(".", 1)[-1] == "permission_classes" and call.args:
            return cst.Module(body=[]).code_for_node(call.args[0].value)
    return None


def _drf_view_class(index: ProjectIndex, module: str, cls: str) -> bool:
    """A REST framework view: its class chain sets `permission_classes` or derives from one of the framework's views."""
    if index.class_attr(module, cls, "permission_classes") is not None:
        return True
    for _, c in index.class_chain(module, cls):
        for base in c.bases:
            if base.startswith("rest_framework.") and "View" in base.rsplit(".", 1)[-1]:
                return True
    return False


def _admitted_off(admits: str, middleware: str) -> str:
    return f"django-scopes may be off here: the view lets requests in without a login ({admits}), and the middleware at {middleware} hands some requests on inside scopes_disabled()"


def _open_function_view(node: cst.FunctionDef) -> bool:
    """A plain Django function view (`def view(request, ...)`) that asks for no login: no `*_required` decorator, no
    `user_passes_test`, and not a REST framework view (whose default permission classes come from settings)."""
    params = node.params.params
    if not params or params[0].name.value != "request":
        return False
    for d in node.decorators:
        name = (dotted_name(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) or "").rsplit(".", 1)[-1]
        if name.endswith("_required") or name in ("user_passes_test", "api_view", "permission_classes", "authentication_classes"):
            return False
    return True


def _settings_key_gate(body: list) -> bool:
    """Among a function's first statements, one that leaves unless a value equals a secret of the settings:
    `if key != settings.METRICS_KEY: return HttpResponseForbidden()`, `if not compare_digest(key, settings.X): raise`.
    Only simple statements (assignments, a docstring) and other tests that leave may come before it."""
    for stmt in body[:4]:
        if isinstance(stmt, cst.If) and stmt.orelse is None and _exits(_body(stmt.body)):
            test = stmt.test
            if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, (cst.NotEqual, cst.IsNot)):
                sides = (test.left, test.comparisons[0].comparator)
                if any(_settings_value(x) for x in sides) and not all(_settings_value(x) for x in sides):
                    return True
            if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not) and isinstance(test.expression, cst.Call) \
                    and (dotted_name(test.expression.func) or "").rsplit(".", 1)[-1] in ("compare_digest", "constant_time_compare") \
                    and any(_settings_value(a.value) for a in test.expression.args):
                return True
            continue
        if isinstance(stmt, cst.SimpleStatementLine) and all(isinstance(s, (cst.Assign, cst.AnnAssign, cst.Expr)) for s in stmt.body):
            continue
        return False
    return False


# a return annotation naming a statement the function builds: SQLAlchemy's Select / Query, Django's QuerySet
_STATEMENT_TYPE = re.compile(r"(?:(?:sa|sqlalchemy|sql|orm)\.)?(?:Select|Query|QuerySet)(?:\[[^\]]*\])?")


# an ORM session, connection or cursor handed to a function: it picks no rows (`session: Session = Depends(get_db)`)
_HANDLE_NAMES = frozenset({"session", "db", "db_session", "dbsession", "conn", "connection", "cursor", "engine"})
_HANDLE_TYPE = re.compile(r"\b(?:Async)?(?:Session|Connection|Engine|Cursor)\b")


def _database_handle(name: str, annotation: str, default: str) -> bool:
    if annotation:
        return bool(_HANDLE_TYPE.search(annotation))
    return name in _HANDLE_NAMES or bool(default and "session" in default.lower() and "Depends" in default)


def _returns_a_value(source: str) -> bool:
    """Whether a function's own body (not functions nested in it) returns something other than None, or yields."""
    fn = parsed_def(source)
    if fn is None:
        return True
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, ast.Return) and node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return False
