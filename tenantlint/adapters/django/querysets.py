"""Expressions to query values: managers, related managers, get_object_or_404, queryset methods, inserts."""
from __future__ import annotations

import ast

import libcst as cst

from tenantlint.adapters.flow import D, N, NONE_TERM, S, SCOPED_TERM, U, Term, t_and, t_not, worst
from tenantlint.adapters.values import DictKeys, Env, NewObject, QState, QTerm, QVal, Rows
from tenantlint.python_module import dotted_name, keyword_arg, short_code, string_value
from tenantlint.types import ModelInfo, Scope, SiteKind, TenantTable
from tenantlint.adapters.django.vocabulary import _PASS, _TERMINAL_READ, _WRITES, _CREATES, _QS_METHODS, _NOT_MANAGERS, _SHORTCUTS, _DEFAULT_MANAGERS
from tenantlint.adapters.syntax import _expr_children, _is_self_or_super
from tenantlint.adapters.django.lookups import SUBQUERY, _is_field, _is_requesting_user, _mentions_tenant, _kw_keys


class Querysets:
    def expr(self, node: cst.BaseExpression, env: Env, assign: bool = False, function: str | None = None):
        """Visit an expression; queries it observes are recorded. Returns its value when `assign`."""
        if function is not None:
            saved, self.function = self.function, function
            try:
                return self.expr(node, env, assign)
            finally:
                self.function = saved
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)) and node.for_in.inner_for_in is None and isinstance(node.for_in.iter, cst.Call):
            # `[f"page:{id}" for id in project.pages.values_list("id", flat=True)]`: the query runs as it is iterated;
            # what it read is kept for the keys the comprehension builds from its rows (rows.rows_keys_term)
            rows = self.expr(node.for_in.iter, env, assign=True)
            if isinstance(rows, (QVal, Rows)) and rows.states:
                self.observe_value(rows)
                env[f"__rows_of__{id(node)}"] = rows
            for child in (node.elt, *(i.test for i in node.for_in.ifs)):
                self.expr(child, env)
            return None
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
                    k = string_value(el.key) or self.constant_string(el.key)
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
            if isinstance(node.func, (cst.Attribute, cst.Name)):
                last = node.func.attr.value if isinstance(node.func, cst.Attribute) else node.func.value
                if last in _RAW_SQL_RUNS:
                    self.publish_key_judge(node, env)
                elif last in _MUTATORS and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name):
                    # `ids.extend(more)`: still one tenant's ids only when what is added is (`ids.add(milestone.id)`)
                    held = node.func.value.value
                    env.pop(f"__columns__{held}", None)
                    if env.get(f"__ids__{held}"):
                        added = node.args[0].value if last in ("append", "extend", "add", "update") and len(node.args) == 1 else None
                        if added is None or not self.handed_keys(cst.List([cst.Element(added)]) if last in ("append", "add") else added, env):
                            env[f"__ids__{held}"] = ""
            passed = self.pass_through(node, env)
            if passed is not None:
                return passed
            found = self.call(node, env)
            if found is not None:
                return found
            followed = self.helper_call(node, env)
            if followed is not None:
                self.module.judged_calls.add(id(node))
            return followed
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
                if isinstance(node.value, (cst.Call, cst.Await)):
                    self.expr(node.value, env)  # `Project.objects.get(pk=pk).task_set.all()`: the fetch runs first
                base_text = dotted_name(node.value) or "obj"
                origin = self.new_origin(model, f"{base_text}.{attr}")
                held = isinstance(node.value, cst.Name) and f"__principal__{node.value.value}" in env  # `user = user_or_id`
                if held or _is_requesting_user(node.value) or _is_requesting_user(self.subst_node(node.value)):  # also a helper's `user`
                    return QVal((QState(origin, Term(S, (f"{base_text}.{attr}",), "rows of the requesting user", null_only=True)),))
                if base_text == "self" and self.schema.user_model and self.enclosing_class() == self.schema.user_model:
                    # a method of the project's user model: the rows of the user it is called on, as `request.user.x`
                    return QVal((QState(origin, Term(S, (f"self.{attr}",), "rows of the user the method is called on", null_only=True)),))
                typed = env.get(f"__rowmodel__{node.value.value}") if isinstance(node.value, cst.Name) else None
                bound = self.tenant_bound_owner(attr, base_text, typed)
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

    def enclosing_class(self) -> str | None:
        """The class name `self` is an instance of here: the class a helper was inlined for, or the one walked."""
        if self.frame.self_class is not None:
            return self.frame.self_class[1].rsplit(".", 1)[-1]
        stack = getattr(self, "class_stack", None)
        return stack[-1]["name"] if stack else None

    def tenant_bound_owner(self, accessor: str, base_text: str, typed: ModelInfo | None = None) -> bool | None:
        """Whether `base.accessor` hangs off a row of one tenant. The base's model is known when the walk saw it read
        (`typed`: `for pic in pictures:` over a query of one model) or its name names one (`user.assigned_reviews`,
        `submission.reviews`, `self` in a model's method); then a many-to-many field of that name counts too, and a
        model with no such relation means the name is something else (None). Otherwise any tenant-bound owner of the
        accessor will do."""
        owners = [self.schema.model(o) for o in self.accessor_owners.get(accessor, ())]
        owners = [o for o in owners if o is not None]
        stem = base_text.rsplit(".", 1)[-1].replace("_", "").lower()
        if base_text == "self" and self.frame.self_class is not None:
            stem = self.frame.self_class[1].rsplit(".", 1)[-1].lower()
        if typed is None:
            typed = self.models_by_lower_name().get(stem)
        if typed is not None:
            if typed in owners or any((c.attr or c.name) == accessor and c.many for c in typed.columns):
                return typed.is_tenant_table or typed.is_root
            return None  # no relation of that name: a plain field (a JSON list), a property
        if any(o.is_tenant_table or o.is_root for o in owners):
            return True
        # an object of unknown type: a many-to-many field of that name on a tenant-owned model says it may well be one
        return any(any((c.attr or c.name) == accessor and c.many for c in m.columns) and (m.is_tenant_table or m.is_root)
                   for m in self.models_by_lower_name().values())

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
            if name in self.local_models:
                return self.local_models[name]
        elif isinstance(node, cst.Attribute):
            name = node.attr.value
        else:
            return None
        if not name[:1].isupper():
            return None
        q = self.module.imports.qualify(node) or name
        info = self.schema.model_for(q)
        return info if info is not None and info.source in self.SOURCES else None

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
        if isinstance(func, cst.Attribute) and func.attr.value == "get_object_for_this_type":
            # content_type.get_object_for_this_type(pk=...): a get() on the model the content type names at run time
            model = self.unknown_model(func.value)
            origin = self.new_origin(model, f"{short_code(func.value)}.get_object_for_this_type")
            origin.observe(SiteKind.READ, self.lookup_term(node.args, model, env, None))
            return QVal(())
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
                return self.unknown_receiver_subqueries(method, node, env)
            return self.apply(method, node, base, env)
        # Model(...) constructor: an insert when saved in this function
        model = self.model_named(func)
        if model is not None and not model.is_root:
            self._visit_args(node, env)
            keys, complete = _kw_keys(node, env)
            origin = self.new_origin(model, f"{model.name}(...).save")
            return NewObject(origin, set(keys) | ({"**"} if not complete else set()))
        return None

    def unknown_receiver_subqueries(self, method: str, node: cst.Call, env: Env) -> QVal | None:
        """`queryset.filter(id__in=watched_ids)` on a queryset this function was handed (a filter backend's): the
        subquery only picks which of those rows come back, and their restriction is judged where they were built.
        A subquery of tenant values (`organization__in=...`) is judged on its own. None when no subquery is passed."""
        if method not in ("filter", "exclude", "get", "aget"):
            return None
        tenant_keys = self.tenant_key_names()
        picks = [a for a in node.args if a.keyword is not None and a.keyword.value.endswith("__in")
                 and a.keyword.value.split("__")[0] not in tenant_keys
                 and (isinstance(a.value, cst.Call) or isinstance(a.value, cst.Name) and isinstance(env.get(a.value.value), QVal))]
        if not picks:
            return None
        for a in node.args:
            sub = self.expr(a.value, env, assign=a in picks)
            if a in picks and isinstance(sub, QVal):
                for st in sub.states:
                    st.origin.observe(st.origin.kind or SiteKind.READ, Term(S, (), SUBQUERY, null_only=True))
        return QVal(())  # the receiver's rows: not known here

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
            if manager in _DEFAULT_MANAGERS and self.unknown_model_expr(node.value):
                model = self.unknown_model(node.value)
                origin = self.new_origin(model, f"{model.name}.{manager}")
                return QVal((QState(origin, Term(U, (), "its model is picked at run time")),))
        self.as_manager = True  # a queryset method is applied to this value
        try:
            v = self.value(node, env)
        finally:
            self.as_manager = False
        return v if isinstance(v, QVal) else None

    def constant_string(self, node: cst.BaseExpression) -> str | None:
        """`f"{self.project_query_param}_id__in"` where the class (or a base) sets `project_query_param = "project"`:
        the text, when every part is a literal or a string constant of the class; None otherwise."""
        if not isinstance(node, cst.FormattedString) or self.index is None or self.frame.self_class is None:
            return None
        out = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                out.append(part.value)
                continue
            e = part.expression if isinstance(part, cst.FormattedStringExpression) and part.format_spec is None and part.conversion is None else None
            if not (isinstance(e, cst.Attribute) and isinstance(e.value, cst.Name) and e.value.value in ("self", "cls")):
                return None
            found = self.index.class_attr(*self.frame.self_class, e.attr.value)
            try:
                value = ast.literal_eval(found[2]) if found is not None else None
            except (ValueError, SyntaxError):
                return None
            if not isinstance(value, str):
                return None
            out.append(value)
        return "".join(out)

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

    def tenant_relation_names(self) -> tuple[str, ...]:
        """The names that say whose a row is, across this schema: tenant columns (`space_id`) and relations
        straight to the tenant (`space`)."""
        if self._tenant_relations is None:
            self._tenant_relations = tenant_relation_names(self.schema, self.SOURCES, self.config.tenant_columns)
        return self._tenant_relations

    def tenant_key_names(self) -> frozenset[str]:
        """tenant_relation_names() with the column of each relation (`realm` and `realm_id`)."""
        names = self.tenant_relation_names()
        return frozenset(names) | {f"{n}_id" for n in names if not n.endswith("_id")}

    def unknown_model(self, node: cst.BaseExpression) -> ModelInfo:
        """A stand-in for a model picked at run time: filtered by a tenant relation of this schema (`space=...`) it is
        restricted; otherwise what it reads cannot be verified."""
        text = short_code(node)
        tenant = TenantTable(text, None, tuple((n,) for n in self.tenant_relation_names()), None, False, "django", self.module.path, 0, "a model picked at run time")
        return ModelInfo(text, text, next(iter(self.SOURCES)), self.module.path, 0, (), (), tenant, opaque=True)

    def manager_term(self, model: ModelInfo, manager: str, env: Env) -> Term:
        """What a query started on `Model.<manager>` is restricted by before any filter."""
        if manager in self.scoped_managers or f"{model.name}.{manager}" in self.scoped_managers:
            return Term(S, (manager,), f"manager {manager} is declared tenant-scoped")
        if manager in model.scoped_managers:
            off = env.get("__scopes_disabled__")
            if not off:
                return Term(S, (manager,), f"manager {manager} filters by the active scope (django-scopes)")
            if isinstance(off, str):  # why no scope is active here
                return Term(N, (), off)
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
        if method == "prefetch_related":
            self.prefetch_across_tenants(node, base)
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

    def prefetch_across_tenants(self, node: cst.Call, base: QVal) -> None:
        """`User.objects.filter(profiles__event__in=events).prefetch_related("profiles")`: rows of a model no tenant
        owns, selected through a relation by that relation's tenant, then that relation prefetched with no filter of
        its own: the filter picks the users, and the prefetch reads every one of their profiles, in every tenant.
        (A `Prefetch("profiles", queryset=...)` with the same filter is what keeps it to the tenant.)"""
        picked = _filter_keys(node.func.value) if isinstance(node.func, cst.Attribute) else []
        if not picked:
            return
        for st in base.states:
            model = st.origin.model
            if model.is_tenant_table or model.is_root or model.opaque:
                continue
            reverse = self.schema.reverse.get(model.name, {})
            seen: set[str] = set()
            for a in node.args:
                path = string_value(a.value) if a.keyword is None else None
                rel = path.split("__")[0] if path else None
                if rel in seen:
                    continue  # `"profiles", "profiles__event"`: one prefetch of the relation
                seen.add(rel)
                target = self.schema.model(reverse[rel]) if rel in reverse else None
                if target is None or not target.is_tenant_table or target.tenant is None:
                    continue
                hops = {tp[0] for tp in target.tenant.tenant_paths if tp}
                by_tenant = [k for k in picked if k.split("__")[:1] == [rel] and len(k.split("__")) > 1 and k.split("__")[1] in hops | {f"{h}_id" for h in hops}]
                if not by_tenant:
                    continue
                origin = self.new_origin(target, f"{model.name}.prefetch_related({path!r})")
                origin.anchor = a.value
                origin.observe(SiteKind.READ, Term(N, (), f"the filter {by_tenant[0]} picks the {model.name.lower()} rows, not the {rel} it prefetches: use Prefetch({rel!r}, queryset=...) with that filter"))

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
        count = isinstance(node.func, cst.Attribute) and node.func.attr.value in _COUNTS
        for s in base.states:
            s.origin.observe(SiteKind.READ, s.term, count=count)
        return QVal(())

    def _visit_args(self, node: cst.Call, env: Env) -> None:
        for a in node.args:
            self.expr(a.value, env)


def tenant_relation_names(schema, sources, tenant_columns=()) -> tuple[str, ...]:
    """The names that say whose a row is, across a schema's models of `sources`: tenant columns (`space_id`, and the
    configured ones) and relations straight to the tenant (`space`)."""
    names = {c.lower() for c in tenant_columns}
    for info in schema.models.values():
        t = info.tenant
        if t is not None and info.source in sources:
            names.update(p[0] for p in t.tenant_paths if len(p) == 1)
            if t.tenant_column:
                names.add(t.tenant_column)
    return tuple(sorted(names))


def _filter_keys(node: cst.BaseExpression) -> list[str]:
    """The keyword keys of every `.filter(...)` / `.exclude(...)` along a written chain of queryset calls."""
    keys: list[str] = []
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        if node.func.attr.value in ("filter", "exclude"):
            keys.extend(a.keyword.value for a in node.args if a.keyword is not None)
        node = node.func.value
    return keys


_COUNTS = frozenset({"count", "acount", "aggregate", "aaggregate", "exists", "aexists"})
_RAW_SQL_RUNS = frozenset({"execute", "executemany", "execute_values", "fetch", "fetchrow", "fetchval"})
_MUTATORS = frozenset({"append", "extend", "insert", "add", "update", "__setitem__"})
