"""Filter arguments to tenant terms: keyword lookups along the schema's tenant paths, Q objects, objects in
hand and keys read from them."""
from __future__ import annotations

import re
from collections import Counter
from functools import reduce

import libcst as cst

from tenantlint.adapters.flow import N, NONE_TERM, S, U, Term, t_and, t_not, t_or, worst
from tenantlint.adapters.values import DictKeys, Env, QTerm, QVal, Rows, StarArgs
from tenantlint.config import Config
from tenantlint.context.places import REQUEST_PARTS
from tenantlint.python_module import PythonModule, dotted_name, string_value
from tenantlint.types import ModelInfo, Schema, SiteKind
from tenantlint.adapters.django.vocabulary import _OPERATORS, _TENANT_KEYS, _ID_NAME
from tenantlint.adapters.syntax import _body, _code, _short, _is_none
from tenantlint.adapters.helpers import _memo
from tenantlint.index.project import ENQUEUE_SUFFIXES, call_arguments
from tenantlint.adapters.django.rows import _COPIES, _rows_iterated


class Lookups:
    def is_principal(self, node: cst.BaseExpression) -> bool:
        return _principal_of(self, node)

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

    def lookup_term(self, args, model: ModelInfo | None, env: Env, base: QVal | None) -> Term:
        """AND of the filter's arguments for each model the base may hold (they share one model)."""
        if model is None:
            if base is None or not base.states:
                return NONE_TERM
            model = base.states[0].origin.model
        term = Term(N)
        first = True
        keys = {a.keyword.value.split("__")[0] for a in args if a.keyword is not None}
        for a in args:
            if a.star == "**":
                v = self.value(a.value, env)
                if isinstance(v, DictKeys):
                    t = Term(N)
                    given = dict(v.values)
                    for k in sorted(v.keys):
                        t = t_and(t, self.kw_term(model, k, given.get(k) or cst.Name("value")))
                    if not v.complete and t.status != S:
                        t = Term(U, t.predicates, f"filter(**{_short(self.module, a.value)}) is built elsewhere", at=a.value)
                else:
                    self.expr(a.value, env)
                    t = Term(U, (), f"filter(**{_short(self.module, a.value)}) is built elsewhere", at=a.value)
            elif a.star == "*":
                spread = env.get(a.value.value) if isinstance(a.value, cst.Name) else None
                if isinstance(spread, StarArgs) and spread.values is not None:
                    # a helper's `*args`, bound to the caller's extra positional arguments (none at all: nothing added)
                    if not spread.values:
                        continue
                    t = reduce(t_and, (self.q_term(node, env, model) or Term(N) for node in spread.values))
                else:
                    self.expr(a.value, env)
                    t = Term(U, (), f"filter(*{_short(self.module, a.value)}) is built elsewhere", at=a.value)
            elif a.keyword is not None:
                nested = a.keyword.value.endswith("__in")
                sub = self.expr(a.value, env, assign=nested)
                value = self.held_keys(a.value, env)
                self.pinned_field(value, env)  # `pk=data["status_id"]` of a validator that checked it
                checked = env.get(f"__pinned_node__{id(value)}")  # an element's id of a checked list, in this walk
                t = self.rows_keys_term(a.keyword.value, value, env) or self.row_key_term(value, self.kw_term(model, a.keyword.value, value, checked), env)
                if t.status != S and model.generic_keys:
                    t = self.generic_key_term(model, a.keyword.value, value, keys) or t
                if t.status != S and a.keyword.value in ("id__in", "pk__in") and sub is None and isinstance(value, (cst.Name, cst.Call, cst.BinaryOperation)):
                    held = self.handed_keys(value, env)  # `id__in=checked + list(scoped_ids)`
                    if held:
                        t = Term(S, (f"{a.keyword.value}={_short(self.module, value)}",), held, null_only=True)
                scoped_sub = isinstance(sub, QVal) and bool(sub.states) and all(s.term.status == S for s in sub.states)
                if nested and isinstance(sub, QVal) and sub.states and (t.status != S or t.reason == VALUES_OF_ANOTHER_QUERY):
                    # `id__in=<a query>`: the subquery picks which of this query's rows come back and returns none of
                    # its own: it is judged with this query (restricted when the subquery is), not on its own
                    for st in sub.states:
                        st.origin.observe(st.origin.kind or SiteKind.READ, Term(S, (), SUBQUERY, null_only=True))
                    if scoped_sub:
                        t = _scoped_subquery(a.keyword.value)
                    else:  # as restricted as the subquery: not at all, or not readable
                        t = reduce(worst, (st.term for st in sub.states))
                        t = NONE_TERM if t.status == N else Term(t.status, (), t.reason, at=t.at)
                else:
                    if nested:
                        self.observe_value(sub)  # `organization__in=<a query>`: the tenant values it reads are judged there
                    if t.status == N and scoped_sub:
                        t = _scoped_subquery(a.keyword.value)
            else:
                t = self.q_term(a.value, env, model)
                if t is None:
                    self.expr(a.value, env)
                    t = Term(N)
            term = t if first else t_and(term, t)
            first = False
        return term

    def object_key_call(self, node: cst.BaseExpression) -> bool:
        """`make_key_from_model_object(obj)`: a project function handed only objects in hand whose text formats an
        object's type and primary key into one string (`"{0}:{1}".format(typename, obj.pk)`): the key names that one
        row, as a generic relation's content type and object id do."""
        if self.index is None or not isinstance(node, cst.Call) or not node.args:
            return False
        if any(a.keyword is not None or a.star != "" for a in node.args):
            return False
        passed = [self.subst_node(a.value) for a in node.args]
        if not all(_is_object_like(v) and not isinstance(v, cst.Call) for v in passed):
            return False
        name = dotted_name(node.func) or ""
        if not name or name.split(".", 1)[0] in ("self", "cls") or name.split(".", 1)[0] in self.frame.local_names:
            return False
        key = ("object key", self.frame.module, name)
        memo = _memo(self.schema)
        if key not in memo:
            r = self.index.resolve_call(self.frame.module, None, name)
            source = r.function.source if r is not None else None
            memo[key] = bool(source) and (bool(_TYPED_KEY_TYPE.search(source)) and bool(_TYPED_KEY_ID.search(source)) or bool(_LABELLED_KEY.search(source)))
        return memo[key]

    def generic_key_term(self, model: ModelInfo, key: str, value: cst.BaseExpression, keys: set[str]) -> Term | None:
        """`Watched.objects.filter(content_type=ct, object_id=obj.id)`: the rows a GenericForeignKey attaches to an object
        in hand belong to its tenant. The content type must be filtered too: an id alone matches rows of every model."""
        value = self.subst_node(value)
        for pair in model.generic_keys:
            ct, _, fk = pair.partition(":")
            if key in (fk, f"{fk}__exact") and (ct in keys or f"{ct}_id" in keys) and _is_loaded_object_id(value):
                return Term(S, (f"{key}={_short(self.module, value)}",), "rows a generic relation attaches to an object in hand", null_only=True)
        return None

    def validator_class(self, node: cst.Call) -> tuple[str, str] | None:
        """`UpdateOrderValidator(data=request.DATA)`: a project serializer or validator handed the request's data."""
        if self.index is None or not any(a.keyword is not None and a.keyword.value == "data" for a in node.args):
            return None
        name = dotted_name(node.func)
        return self.index.class_named(self.frame.module, name) if name else None

    def pinned_field(self, node: cst.BaseExpression, env: Env) -> bool:
        """`data["status_id"]` / `data.get("status_id")` of a validator's data, where the validator's
        `validate_status_id()` looks the row up with a tenant key given with it (`TaskStatus.objects.filter(
        project__id=attrs["project_id"], id=value)`) and raises when there is none: the id is that tenant's row."""
        if id(node) in self.pinned:
            return True
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            # `[e["us_id"] for e in bulk_data]` over a list a validator checked: the ids of its elements (the keys of
            # `{e["us_id"]: e["order"] for e in bulk_data}`)
            comp = node.for_in
            elt = node.key if isinstance(node, cst.DictComp) else node.elt
            if comp.inner_for_in is None and isinstance(comp.target, cst.Name) and isinstance(comp.iter, cst.Name) \
                    and isinstance(elt, (cst.Subscript, cst.Attribute)) and isinstance(elt.value, cst.Name) \
                    and elt.value.value == comp.target.value:
                checked = self.pinned.get(id(self.held_keys(comp.iter, env)))
                if checked:
                    env[f"__pinned_node__{id(node)}"] = checked  # this walk's: a helper's node is walked once per call
                    return True
            return False
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "keys" and not node.args:
            checked = self.checked_collection(node.func.value, env)  # `orders.keys()` of such a dict
            if checked:
                env[f"__pinned_node__{id(node)}"] = checked
            return bool(checked)
        if isinstance(node, cst.Name) and env.get(f"__pinned_elem__{node.value}"):
            env[f"__pinned_node__{id(node)}"] = env[f"__pinned_elem__{node.value}"]  # `for us_id in checked_ids:`
            return True
        if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name) and env.get(f"__pinned_elem__{node.value.value}"):
            env[f"__pinned_node__{id(node)}"] = env[f"__pinned_elem__{node.value.value}"]  # `us_data["us_id"]` of such an element
            return True
        found = self.validated_field(node, env)
        checked = self.validator_check(found[1], found[0]) if found is not None else None
        if checked is None:
            return False
        self.pinned[id(node)] = checked
        return True

    def undeclared_field(self, node: cst.BaseExpression, env: Env) -> bool:
        """`data.get("user_story_id")` / `data["user_story_id"]` of a validator's data (`data = validator.data`) whose
        class has no such field: the validated data never holds it, so the value is None (index.undeclared_field)."""
        if isinstance(node, cst.Call) and len(node.args) > 1 and not _is_none(node.args[1].value):
            return False  # `data.get("x_id", default)`: the default, not None
        found = self.validated_field(node, env)
        return found is not None and self.index.undeclared_field(found[1][0], found[1][1], found[0])

    def validated_field(self, node: cst.BaseExpression, env: Env) -> tuple[str, tuple[str, str]] | None:
        """`data["status_id"]` / `data.get("status_id")` of a validator's data (`data = validator.data`, the dict handed
        to it, `validator.data[...]`): (the field, the validator class)."""
        field, holder = None, None
        if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            field, holder = string_value(node.slice[0].slice.value), node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" and node.args:
            field, holder = string_value(node.args[0].value), node.func.value
        if not field or holder is None or self.index is None:
            return None
        cls = None
        if isinstance(holder, cst.Name):
            cls = env.get(f"__validated__{holder.value}")
        elif isinstance(holder, cst.Attribute) and holder.attr.value in ("data", "validated_data") and isinstance(holder.value, cst.Name):
            cls = env.get(f"__validator__{holder.value.value}")
        return (field, cls) if cls is not None else None

    def validator_check(self, cls: tuple[str, str], field: str) -> str | None:
        """"Validator.validate_<field>" when that method looks the row up with a tenant key given with it and raises
        when there is none; None otherwise."""
        found = self.index.method(cls[0], cls[1], f"validate_{field}")
        source = found.function.source if found is not None else None
        if not source or "raise" not in source or not self.looks_up_by_tenant(source):
            return None
        return f"{cls[1]}.validate_{field}"

    def checked_collection(self, node: cst.BaseExpression, env: Env) -> str | None:
        """The validator method that checked the ids a collection holds: a field of the caller's validated data, or
        the ids collected from one in this walk (held in a local)."""
        held = self.held_keys(node, env)
        if held is node and isinstance(node, cst.Name):
            held = env.get(f"__key__{node.value}", node)  # `orders = {e["us_id"]: ... for e in bulk_data}`
        return self.pinned.get(id(held)) or env.get(f"__pinned_node__{id(held)}")

    def checked_by_every_caller(self, function_id: str) -> dict[str, tuple[str, str]]:
        """Parameters of a module function that every call of it the project index resolves hands a tenant-bound
        value, as a helper judged at each call would see it: ("checked", method) for a value a validator checked
        (`update_in_bulk(project, data["bulk_stories"])` after `data = validator.data`, where the validator's
        `validate_bulk_stories()` looks the rows up by the tenant given with them and raises when one is missing);
        ("key", text) for the key of an object in hand (`send(notification.pk)`); or the caller's own parameter of
        either kind. Such a function is judged in its own body when it is too long to be judged at each call; its
        parameter then holds what every caller hands it."""
        key = ("checked by every caller", function_id)
        memo = _memo(self.schema)
        if key in memo:
            return memo[key]
        memo[key] = {}  # a recursive call sees no facts
        memo[key] = self._checked_by_every_caller(function_id) if self.index is not None else {}
        return memo[key]

    def _checked_by_every_caller(self, function_id: str) -> dict[str, tuple[str, str]]:
        found = self.index.function(function_id)
        if found is None or found[1].kind != "function" or not (found[1].params or found[1].kwonly):
            return {}
        callee = found[1]
        callers = self.index.outside_callers(function_id) + self.index.enqueuers(function_id)
        if not callers or len(callers) > 20:
            return {}
        facts: dict[str, tuple[str, str]] | None = None
        for caller in sorted(set(callers)):
            got = self.index.function(caller)
            if got is None or got[1].source is None:
                return {}
            site_facts = self._checked_in_caller(caller, got[0].module, got[1], function_id, callee)
            if site_facts is None:
                return {}
            facts = site_facts if facts is None else _same_kind(facts, site_facts)
            if not facts:
                return {}
        return facts or {}

    def _checked_in_caller(self, caller_id: str, module: str, fn, function_id: str, callee) -> dict[str, tuple[str, str]] | None:
        """What every call of `function_id` in the caller hands each parameter that a validator checked; None when
        the caller's text cannot be read."""
        import ast

        from tenantlint.index.summary import dedent_source, dotted

        try:
            tree = ast.parse(dedent_source(fn.source))
        except SyntaxError:
            return None
        validators: dict[str, tuple[str, str]] = {}
        validated: dict[str, tuple[str, str]] = {}
        assigned = Counter(t.id for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With, ast.NamedExpr))
                           for t in ast.walk(n) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store))
        for n in ast.walk(tree):
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and assigned[n.targets[0].id] == 1:
                # a name bound once: `data = request.data` on another path would make it anything
                v = n.value
                if isinstance(v, ast.Call) and any(k.arg == "data" for k in v.keywords) and dotted(v.func):
                    cls = self.index.class_named(module, dotted(v.func))
                    if cls is not None:
                        validators[n.targets[0].id] = cls
                        given = next(k.value for k in v.keywords if k.arg == "data")
                        changed = any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == getattr(given, "id", None)
                                      and t.lineno > n.lineno for a in ast.walk(tree) if isinstance(a, (ast.Assign, ast.AugAssign))
                                      for t in (a.targets if isinstance(a, ast.Assign) else [a.target]))
                        if isinstance(given, ast.Name) and assigned[given.id] <= 1 and not changed:
                            validated[given.id] = cls  # `data = request.DATA.copy(); V(data=data)`: the dict it checked
                elif isinstance(v, ast.Attribute) and v.attr in ("data", "validated_data") and isinstance(v.value, ast.Name) and v.value.id in validators:
                    validated[n.targets[0].id] = validators[v.value.id]
        own = self.checked_by_every_caller(caller_id)

        def checked(arg: ast.expr) -> tuple[str, str] | None:
            if isinstance(arg, ast.Name):
                return own.get(arg.id)  # the caller's own parameter, checked by every call of the caller
            if isinstance(arg, ast.Attribute):
                text = ast.unparse(arg)
                try:
                    node = cst.parse_expression(text)
                except cst.ParserSyntaxError:
                    return None
                return ("key", text) if _is_loaded_object_id(node) else None
            field, holder = None, None
            if isinstance(arg, ast.Subscript) and isinstance(arg.slice, ast.Constant) and isinstance(arg.slice.value, str):
                field, holder = arg.slice.value, arg.value
            elif isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "get" and arg.args \
                    and isinstance(arg.args[0], ast.Constant) and isinstance(arg.args[0].value, str):
                field, holder = arg.args[0].value, arg.func.value
            cls = None
            if isinstance(holder, ast.Name):
                cls = validated.get(holder.id)
            elif isinstance(holder, ast.Attribute) and holder.attr in ("data", "validated_data") and isinstance(holder.value, ast.Name):
                cls = validators.get(holder.value.id)
            check = self.validator_check(cls, field) if cls is not None and field is not None else None
            return ("checked", check) if check is not None else None

        facts: dict[str, str] | None = None
        cls_name = fn.qualname.rpartition(".")[0] or None
        names = (*callee.params, *callee.kwonly)
        for n in ast.walk(tree):
            if not isinstance(n, ast.Call) or not dotted(n.func):
                continue
            args, keywords, positional = n.args, n.keywords, callee.params
            r = self.index.resolve_call(module, cls_name, dotted(n.func))
            if r is None and dotted(n.func).endswith(ENQUEUE_SUFFIXES):
                # `task.delay(a, b=...)` hands its arguments as a call would; `task.apply_async(args=[a], kwargs={"b":
                # ...})` in its two lists
                r = self.index.resolve_call(module, cls_name, dotted(n.func).rpartition(".")[0])
                if r is not None and callee.params[:1] == ("self",):
                    positional = callee.params[1:]  # `@app.task(bind=True)`: the worker hands the task itself first
                if r is not None and not dotted(n.func).endswith(".delay"):
                    given = {k.arg: k.value for k in n.keywords}
                    listed, named = given.get("args"), given.get("kwargs")
                    if listed is not None and not isinstance(listed, (ast.List, ast.Tuple)) or named is not None and not (
                            isinstance(named, ast.Dict) and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in named.keys)):
                        return None  # arguments built elsewhere: which is which cannot be told
                    args = list(listed.elts) if listed is not None else []
                    keywords = [ast.keyword(arg=k.value, value=v) for k, v in zip(named.keys, named.values)] if named is not None else []
            if r is None or r.id != function_id:
                continue
            if any(isinstance(a, ast.Starred) for a in args) or any(k.arg is None for k in keywords):
                return None  # `helper(*args)`: which argument is which cannot be told
            bound = dict(zip(positional, args))
            bound.update({k.arg: k.value for k in keywords if k.arg in names})
            here = {p: c for p, a in bound.items() if (c := checked(a))}
            facts = here if facts is None else _same_kind(facts, here)
        return facts if facts is not None else None

    def looks_up_by_tenant(self, source: str) -> bool:
        """Whether the text queries by a tenant key: a keyword of a `.filter(` / `.get(` call
        (`filter(project__id=attrs["project_id"], id=value)`), or a key of a dict of lookups handed to one
        (`filters = {"project__id": ...}`, a suffixed key only: a bare `"message":` is an error text's key)."""
        key = ("tenant key text",)
        memo = _memo(self.schema)
        if key not in memo:
            words = {m.name.lower() for m in self.schema.models.values() if m.is_root}
            words |= {m.tenant.tenant_column for m in self.schema.models.values() if m.tenant is not None and m.tenant.tenant_column}
            # the first hop of a path to the tenant (`project` of a task owned through its project)
            words |= {p[0] for m in self.schema.models.values() if m.tenant is not None for p in m.tenant.tenant_paths if p}
            alt = "|".join(sorted(map(re.escape, words))) or "$^"
            # both fields of a generic relation of a tenant-owned model (`content_type__id=..., object_id=...`): the
            # rows attached to one object, whose tenant is judged where the object is used
            pairs = {tuple(g.split(":", 1)) for m in self.schema.models.values() if m.is_tenant_table for g in m.generic_keys if ":" in g}
            generic = [(re.compile(rf"\b{re.escape(ct)}(?:__id|__pk|_id)?\s*=(?!=)"), re.compile(rf"\b{re.escape(oid)}\s*=(?!=)"),
                        re.compile(rf"[\"']{re.escape(ct)}(?:__id|__pk|_id)?[\"']\s*:"), re.compile(rf"[\"']{re.escape(oid)}[\"']\s*:"))
                       for ct, oid in sorted(pairs)]
            memo[key] = (re.compile(rf"\b(?:{alt})(?:__\w+|_id)?\s*=(?!=)"), re.compile(rf"[\"'](?:{alt})(?:__id|__pk|_id)[\"']\s*:"), generic)
        keyword, dict_key, generic = memo[key]
        arguments = call_arguments(source, _QUERY_CALL)
        if any(keyword.search(a) for a in arguments) or bool(arguments) and bool(dict_key.search(source)):
            return True
        return any(any(ct.search(a) and oid.search(a) for a in arguments) or bool(arguments) and bool(ct_key.search(source)) and bool(oid_key.search(source))
                   for ct, oid, ct_key, oid_key in generic)

    @staticmethod
    def held_keys(node: cst.BaseExpression, env: Env) -> cst.BaseExpression:
        """The expression a local key was copied from (`stream_id = message.recipient.type_id`, `ids = {r.id for r in
        rows}`), also through `list(ids)` / `set(ids)`; the node itself otherwise."""
        name = node
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in _COPIES and len(node.args) == 1:
            name = node.args[0].value
        held = env.get(f"__key__{name.value}") if isinstance(name, cst.Name) else None
        if isinstance(held, (cst.Attribute, cst.Call, cst.Subscript, cst.Name)) and name is node:
            # a Call only when it builds a key from an object in hand or reads a checked field (walk.bind); a Name
            # only for a parameter every caller hands checked ids (walk.function_def)
            return held
        if isinstance(held, (cst.ListComp, cst.SetComp, cst.GeneratorExp)) and isinstance(_rows_iterated(held, env), (Rows, QVal)):
            return held  # keys of rows a query in this function read: judged by that query
        return node

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

    def kw_term(self, model: ModelInfo, key: str, value: cst.BaseExpression, checked: str | None = None) -> Term:
        """The term of one lookup; `checked` names the validator method that checked the value when only this walk
        knows it (an element of a checked list), ids of the caller's checked fields are in `self.pinned`."""
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
        if len(path) >= 2 and any(tuple(path[:-1]) == tp for tp in tenant.tenant_paths) and _public_flag(path[-1], value):
            # project__is_public=True, project__anon_permissions__contains=[...]: rows of tenants open to everyone
            return Term(S, (text,), "rows of tenants marked public", null_only=True)
        if len(path) >= 2 and op in ("exact", "in"):
            if self.is_principal(value) and any(path[0] == tp[0] for tp in tenant.tenant_paths):
                # organization__members=request.user: the tenants the requesting user belongs to
                return Term(S, (text,), "tenants of the requesting user", null_only=True)
            target = _follow(self.schema, model, path)
            if target is not None and (target.is_tenant_table or target.is_root) and _is_object_like(value):
                # review__submission=submission: rows linked to a tenant-owned object in hand
                return Term(S, (text,), f"linked to a tenant-owned {target.name}", null_only=True)
        keyish = path and (path[-1].endswith("_id") or len(path) > 1 or path[0] in columns or path[0] in ("key", "uuid", "external_id", "public_id"))
        if op == "exact" and keyish and isinstance(value, cst.Attribute) and value.attr.value == path[-1] and _is_loaded_object_id(value, any_attr=True):
            # recipient_id=stream.recipient_id: a key copied from an object in hand names rows of its tenant
            return Term(S, (text,), "a key read from an object in hand", null_only=True)
        if op in ("exact", "iexact", "in") and _settings_value(value) and path and path[-1] not in ("id", "pk"):
            # email__in=settings.CROSS_REALM_BOT_EMAILS: the rows the install's operator names in its settings (system
            # accounts shared by every tenant), not rows a request picks
            return Term(S, (text,), "rows the install's settings name", null_only=True)
        if op == "exact" and self.is_principal(value):
            return Term(S, (text,), "rows of the requesting user", null_only=True)
        checked = checked or self.pinned.get(id(value))
        if op in ("exact", "in") and checked:
            return Term(S, (text,), f"an id {checked}() checked to be a row of the tenant given with it", null_only=True)
        if op == "exact" and isinstance(value, cst.Call) and self.object_key_call(value):
            # key=make_key_from_model_object(obj): the rows keyed by one object in hand (its type and id)
            return Term(S, (text,), "a key built from an object in hand (its type and id)", null_only=True)
        if len(path) == 1 and path[0] in ("pk", "id") and op == "exact" and _is_loaded_object_id(value):
            return Term(S, (text,), "re-fetch of an object already loaded", null_only=True)
        if op == "in" and isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value in ("values_list", "values"):
            return Term(S, (text,), VALUES_OF_ANOTHER_QUERY, null_only=True)
        if len(path) == 1 and op in ("exact", "iexact") and any((c.attr or c.name) == path[0] and c.unique for c in model.columns):
            return Term(N, (), f"the row is selected by its unique {path[0]}")
        return NONE_TERM


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
        return not _ID_NAME.search(name) and name not in REQUEST_PARTS
    return False


_PUBLIC = re.compile(r"public|anon", re.IGNORECASE)
_PRIVATE = re.compile(r"private", re.IGNORECASE)


def _public_flag(field: str, value: cst.BaseExpression) -> bool:
    """A field of the tenant that says it is open to everyone (`is_public=True`, `public_permissions__contains=[...]`,
    `anon_permissions__contains=...`, `is_private=False`)."""
    falsy = isinstance(value, cst.Name) and value.value in ("False", "None") or isinstance(value, cst.Integer) and value.value == "0"
    if _PUBLIC.search(field):
        return not falsy
    return bool(_PRIVATE.search(field)) and isinstance(value, cst.Name) and value.value == "False"


def _principal_of(lookups, node: cst.BaseExpression) -> bool:
    """`request.user`, or a helper's parameter (`owner.id`) its caller bound to it."""
    if _is_requesting_user(node):
        return True
    base = node.value if isinstance(node, cst.Attribute) and node.attr.value in ("id", "pk") else node
    rep = lookups.subst_node(base) if isinstance(base, cst.Name) else base
    return rep is not base and _is_requesting_user(rep)


def _privileged_test(test: cst.BaseExpression) -> bool:
    """`request.user.is_superuser`, `request.user.is_authenticated and request.user.is_staff`: a test that holds only
    for an install-wide administrator (not for a tenant's own admins)."""
    if isinstance(test, cst.Attribute):
        return test.attr.value in ("is_superuser", "is_staff") and _is_requesting_user(test.value)
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _privileged_test(test.left) or _privileged_test(test.right)
    return False


VALUES_OF_ANOTHER_QUERY = "values of another query, judged where it starts"
SUBQUERY = "a subquery of another query's filter, judged with that query"
_QUERY_CALL = r"\.(?:filter|get|exists)(?=\()"  # a query call, for call_arguments(): the parenthesis right after the name
# a function that formats an object's type and primary key into one string (`"{0}:{1}".format(typename, obj.pk)`)
_TYPED_KEY_TYPE = re.compile(r"__class__|_meta\b|typename|content_type|get_for_model")
_TYPED_KEY_ID = re.compile(r"(?:\.format\(|f[\"']|%)[^\n]*\b\w+\.(?:pk|id)\b")
# a fixed word and the object's primary key: `"{0}:{1}".format("project", project.id)`, `"project:{}".format(p.id)`,
# `f"project:{project.id}"`, `"project:%s" % project.id`
_LABELLED_KEY = re.compile(
    r"""\.format\(\s*["'][A-Za-z_]\w*["']\s*,\s*\w+\.(?:pk|id)\s*\)"""
    r"""|["'][A-Za-z_]\w*[:./#-]\{\d*\}["']\s*\.format\(\s*\w+\.(?:pk|id)\s*\)"""
    r"""|\bf["'][A-Za-z_]\w*[:./#-]\{\w+\.(?:pk|id)\}["']"""
    r"""|["'][A-Za-z_]\w*[:./#-]%[sd]["']\s*%\s*\(?\s*\w+\.(?:pk|id)\b""")


def _scoped_subquery(key: str) -> Term:
    """`id__in=<a tenant-scoped subquery>`: the rows are linked to that tenant's rows."""
    return Term(S, (f"{key}=<scoped subquery>",), "values from a tenant-scoped subquery", null_only=True)


def _privileged_none_test(test: cst.BaseExpression, env: Env) -> bool:
    """`if project_ids is None:` where the value is None only for an install-wide administrator."""
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, cst.Is):
        left, right = test.left, test.comparisons[0].comparator
        name = left if isinstance(left, cst.Name) and _is_none(right) else right if isinstance(right, cst.Name) and _is_none(left) else None
        return name is not None and env.get(f"__privileged_none__{name.value}") is True
    return False


def _none_only_when_privileged(body: list) -> bool:
    """Every `return None` (or bare `return`) of a body sits under a privileged test, at least one does, and the body
    ends in a `return` of something else (no fall-through to an implicit None)."""
    found = False

    def visit(stmts: list, under: bool) -> bool:
        nonlocal found
        for stmt in stmts:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Return) and (small.value is None or _is_none(small.value)):
                        if not under:
                            return False
                        found = True
            elif isinstance(stmt, cst.If):
                inner = under or _privileged_test(stmt.test)
                if not visit(_body(stmt.body), inner):
                    return False
                orelse = stmt.orelse
                if orelse is not None and not visit([orelse] if isinstance(orelse, cst.If) else _body(orelse.body), under):
                    return False
            elif isinstance(stmt, (cst.For, cst.While, cst.With, cst.Try)):
                if not visit(_body(stmt.body), under):
                    return False
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                continue
        return True

    last = body[-1] if body else None
    ends = isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], cst.Return) and last.body[-1].value is not None and not _is_none(last.body[-1].value)
    return ends and visit(body, False) and found


def _settings_value(node) -> bool:
    """`settings.CROSS_REALM_BOT_EMAILS`: a constant of the project's settings."""
    name = dotted_name(node) or ""
    return name.startswith("settings.") and name.rsplit(".", 1)[-1].isupper()


def _is_requesting_user(node: cst.BaseExpression) -> bool:
    """`request.user`, `self.request.user.id`: the authenticated principal, narrower than a tenant."""
    text = dotted_name(node) or ""
    return text.removesuffix(".id").removesuffix(".pk").endswith("request.user")


def _same_kind(a: dict[str, tuple[str, str]], b: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """The parameters both calls hand a value of the same kind (the first call's text kept)."""
    return {p: f for p, f in a.items() if p in b and b[p][0] == f[0]}


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
