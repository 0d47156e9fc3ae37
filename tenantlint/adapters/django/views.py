"""Class-based views and DRF viewsets: `queryset = ...`, get_queryset()/get_object() of the class or a base
(in this module or, through the project index, another), and the view's filter backends."""
from __future__ import annotations

import re

import libcst as cst

from tenantlint.adapters.flow import N, S, U, Term, t_and
from tenantlint.adapters.values import Env, Origin, QVal
from tenantlint.python_module import dotted_name
from tenantlint.types import SiteKind
from tenantlint.adapters.syntax import _body, _calls
from tenantlint.context.entry import RAISING_PERMISSION_CHECKS
from tenantlint.index.summary import dedent_source


class ClassBasedViews:
    DRF_VIEWS = True  # judge `queryset = ...` class attributes with get_queryset()

    def class_def(self, node: cst.ClassDef) -> None:
        if not self.DRF_VIEWS:
            self.plain_class_def(node)
            return
        info = self.class_info(node)
        self.class_stack.append(info)
        try:
            env = Env()
            if info.get("scopes_off"):
                env["__scopes_disabled__"] = info["scopes_off"]
            body = _body(node.body)
            methods = {s.name.value for s in body if isinstance(s, cst.FunctionDef)}
            for stmt in body:
                if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign):
                    a = stmt.body[0]
                    if len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Name) and a.targets[0].target.value == "queryset":
                        value = self.expr(a.value, env, assign=True, function=node.name.value)
                        if value is None and isinstance(a.value, cst.Attribute) and self.model_named(a.value.value) is not None:
                            value = self.view_manager(a.value, env)  # `queryset = Recipe.objects`: DRF calls .all() on it
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
            walked: dict[str, list[Origin]] = {}
            for stmt in body:
                if isinstance(stmt, cst.FunctionDef):
                    mark = len(self.origins)
                    self.function_def(stmt)
                    walked[stmt.name.value] = [o for o, _ in self.origins[mark:]]
                    if stmt.name.value == "get_queryset":
                        view_origins.extend(o for o, _ in self.origins[mark:])
            qs = info["queryset"]
            if qs is not None and "get_queryset" in methods:
                for s in qs.states:
                    if not s.origin.observed:  # get_queryset never returned it: it does not scope it
                        s.origin.observe(SiteKind.READ, s.term)
            if view_origins:
                self.apply_filter_backends(view_origins)
            for name, origins in self.judge_inherited_methods(node, self.class_qualname()).items():
                walked.setdefault(name, origins)
            self.checked_parent(self.class_qualname(), walked)
            self.checked_detail(self.class_qualname(), view_origins + walked.get("get_queryset", []))
            self.judge_constructor_models(node, self.class_qualname())
        finally:
            self.class_stack.pop()

    def checked_parent(self, qualname: str, walked: dict[str, list[Origin]]) -> None:
        """A nested view's get_queryset() / get_object() that re-reads the parent row named by the URL
        (`self.resource_model.objects.get(pk=self.kwargs["resource_id"])`) runs only after the view's actions fetched
        that row by the same URL argument and checked it (`self.check_permissions(request, "list", resource)`): the
        read is the row already checked, a query-then-check (TL107) as the actions' own fetch is. Only when every
        action the view exposes that reaches the queryset does so; an action of a base that the project does not
        define, or a route that reaches the queryset unchecked, keeps the read a finding."""
        if self.index is None or self.frame.inline:
            return
        targets = [(name, o) for name in ("get_queryset", "get_object") for o in walked.get(name, ())
                   if not o.guard and (t := o.observed.get(SiteKind.READ)) is not None and t.status == N]
        if not targets:
            return
        actions = _exposed_actions(self.index, self.module_id, qualname)
        if not actions:
            return
        for name, o in targets:
            source = self.index.method(self.module_id, qualname, name)
            wanted = set(_URL_KWARG.findall(source.function.source or "")) if source is not None else set()
            if not wanted:
                continue  # not a row named by the URL
            checks = []
            for action, fn in actions.items():
                if not _reaches_queryset(self.index, self.module_id, qualname, fn):
                    continue
                guard = next((g.guard for g in walked.get(action, ()) if g.guard and g.model == o.model), "")
                if not guard or not wanted <= set(_URL_KWARG.findall(fn.source or "")):
                    break
                checks.append((action, guard))
            else:
                if checks:
                    names = ", ".join(f"{a}()" for a, _ in checks)
                    o.guard = f"first in {names}: {checks[0][1]}"

    def checked_detail(self, qualname: str, origins: list[Origin]) -> None:
        """A view whose every action that reads its queryset fetches one row and checks it before the row reaches a
        response or a write (`self.object = self.get_object_or_none()` then `self.check_permissions(request,
        "retrieve", self.object)`): no action lists the rows, so the queryset's read is a query-then-check (TL107),
        as a fetch in a function is. Only when the project defines every action the view exposes: REST framework's
        own are not read."""
        if self.index is None or self.frame.inline:
            return
        targets = [o for o in origins if not o.guard and (t := o.observed.get(SiteKind.READ)) is not None and t.status == N]
        if not targets:
            return
        actions = _exposed_actions(self.index, self.module_id, qualname)
        if not actions:
            return
        checks, refetches = [], []
        for action, fn in actions.items():
            if not _reaches_queryset(self.index, self.module_id, qualname, fn):
                continue
            check = _fetch_then_check(self.index, self.module_id, qualname, fn)
            if check:
                checks.append((action, check))
            elif _refetches_saved(self.index, self.module_id, qualname, fn):
                refetches.append(action)  # `self.object = serializer.save()` then `self.get_queryset().get(id=self.object.id)`
            else:
                return
        if checks:
            names = ", ".join(f"{a}()" for a, _ in checks)
            for o in targets:
                o.guard = f"in {names}: {checks[0][1]}"
        elif refetches:
            names = ", ".join(f"{a}()" for a in refetches)
            for o in targets:
                o.observed[SiteKind.READ] = Term(S, (f"{names}: id=self.object.id",), f"re-fetch of the row {names} just saved", null_only=True)

    def view_manager(self, node: cst.Attribute, env: Env) -> QVal | None:
        mark = len(self.origins)
        value = self._manager_or_query(node, env)
        for origin, _ in self.origins[mark:]:
            if origin.anchor is None:
                origin.anchor = node
                origin.api = f"{origin.api} (the view's queryset)"  # named as written, not after a method applied later
        return value

    def apply_filter_backends(self, origins: list[Origin]) -> None:
        """The view's queryset and get_queryset() reads pass through its filter backends (DRF's filter_queryset)."""
        backend = self.filter_backend_term(self.class_qualname(), origins[0].model)
        if backend is None or not backend[0]:
            backend = self.subclass_backends(origins[0].model) or backend
        if backend is None:
            return
        scoped, text = backend
        extra = Term(S, (text,), f"restricted by the filter backend {text}", null_only=True) if scoped else Term(U, (), text)
        for o in origins:
            term = o.observed.get(SiteKind.READ)
            if term is not None and term.status == N:
                o.observed[SiteKind.READ] = t_and(term, extra)

    def subclass_backends(self, model) -> tuple | None:
        """A base view the project's views derive from (`model = Attachment` on it, `filter_backends` on each
        subclass): its reads are served through those subclasses, restricted when each one's backends restrict."""
        if self.index is None:
            return None
        leaves = self.index.leaf_subclasses(self.module_id, self.class_qualname())
        if not leaves:
            return None
        names = []
        for module, qualname in leaves:
            backend = self.filter_backend_term(qualname, model, module)
            if backend is None or not backend[0]:
                return None
            names.append(backend[1])
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        return True, f"{names[0]}{more} (set on every subclass)"

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


# the actions and handlers a view exposes; the ones REST framework's own classes define, by class name
_ACTIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy", "get", "post", "put", "patch", "delete")
_RETRIEVE, _UPDATE, _DESTROY = ("retrieve",), ("update", "partial_update"), ("destroy",)
_LIBRARY_ACTIONS = {
    "ListModelMixin": ("list",), "RetrieveModelMixin": _RETRIEVE, "CreateModelMixin": ("create",),
    "UpdateModelMixin": _UPDATE, "DestroyModelMixin": _DESTROY,
    "ModelViewSet": ("list", "create") + _RETRIEVE + _UPDATE + _DESTROY, "ReadOnlyModelViewSet": ("list",) + _RETRIEVE,
    "GenericViewSet": (), "ViewSet": (), "ViewSetMixin": (), "GenericAPIView": (), "APIView": (), "View": (),
    "ListAPIView": ("list",), "RetrieveAPIView": _RETRIEVE, "CreateAPIView": ("create",), "UpdateAPIView": _UPDATE,
    "DestroyAPIView": _DESTROY, "ListCreateAPIView": ("list", "create"), "RetrieveUpdateAPIView": _RETRIEVE + _UPDATE,
    "RetrieveDestroyAPIView": _RETRIEVE + _DESTROY, "RetrieveUpdateDestroyAPIView": _RETRIEVE + _UPDATE + _DESTROY,
}
_ROUTE_DECORATORS = ("action", "detail_route", "list_route")
_URL_KWARG = re.compile(r"kwargs(?:\.get\(\s*|\[\s*)[\"'](\w+)[\"']")
_REACHES = ("get_queryset", "get_object", "filter_queryset", "self.queryset", "super(")


def _exposed_actions(index, module: str, qualname: str) -> dict | None:
    """Action name -> the project function that serves it, for every action the view exposes; None when a base the
    project does not define may expose one the project does not (an unknown library class, or one of REST
    framework's whose action no project class overrides)."""
    chain = index.class_chain(module, qualname)
    library: set[str] = set()
    for f, c in chain:
        for base in c.bases:
            if index.project_class(f.module, base):
                continue
            last = base.rsplit(".", 1)[-1]
            if last == "object" or base.startswith("typing."):
                continue
            if not base.startswith(("rest_framework.", "django.views.")) or last not in _LIBRARY_ACTIONS:
                return None
            library.update(_LIBRARY_ACTIONS[last])
    out: dict = {}
    for name in _ACTIONS:
        found = index.method(module, qualname, name)
        if found is not None:
            out[name] = found.function
        elif name in library:
            return None  # served by REST framework's own code, which reads the queryset unchecked
    for f, c in chain:
        for m in c.methods:
            fn = f.functions.get(f"{c.qualname}.{m}")
            if fn is not None and m not in out and any(d.rsplit(".", 1)[-1] in _ROUTE_DECORATORS for d in fn.decorators):
                found = index.method(module, qualname, m)
                out[m] = found.function if found is not None else fn
    return out


def _reaches_queryset(index, module: str, qualname: str, fn) -> bool:
    """Whether an action may read the view's queryset: its text, or that of a method of the view it calls."""
    if fn.source is None:
        return True
    if any(r in fn.source for r in _REACHES):
        return True
    for call in fn.calls:
        if call.startswith("self."):
            found = index.method(module, qualname, call[5:])
            if found is not None and (found.function.source is None or any(r in found.function.source for r in _REACHES)):
                return True
    return False


_FETCHES_ONE = ("get_object", "get_object_or_none", "get_object_or_404")
_WRITES_TO = ("save", "delete", "update", "create", "bulk_create", "bulk_update", "send", "delay", "apply_async")


def _fetch_then_check(index, module: str, qualname: str, fn, fetched: str | None = None, depth: int = 0) -> str:
    """The permission check of an action that fetches one row into a name (`self.object = self.get_object_or_none()`,
    also inside an `if`) and checks it (`self.check_permissions(request, "update", self.object)`) before anything
    returns, raises, writes or sends: statements between may only compute from it (`self._old = [w.id for w in
    obj.get_watchers()]`). The first statement that reaches the view's queryset must be that fetch. An action that
    hands on to another (`return super().update(request, ...)`, `return self.update(...)`) goes on there, where a
    fetch into the same name again (`if not getattr(self, "object", None): self.object = ...`) is the row in hand.
    "" when the action does otherwise."""
    parsed = _parsed_action(fn) if depth <= 2 else None
    if parsed is None:
        return ""
    tree, statements = parsed
    for stmt in statements:
        text = tree.code_for_node(stmt)
        check = _permission_check(stmt, tree)
        if check is not None:
            return " ".join(tree.code_for_node(check[0]).split()) if fetched is not None and check[1] == fetched else ""
        handed = _handed_on(stmt)
        if handed is not None:
            target = _action_named(index, module, qualname, fn, *handed)
            return _fetch_then_check(index, module, qualname, target, fetched, depth + 1)
        into = _fetched_into(stmt, tree)
        if into is not None:
            if fetched is not None and into != fetched:
                return ""
            fetched = into
            continue
        if fetched is None:
            if any(r in text for r in _REACHES):
                return ""  # the queryset is read before, or other than, one row's fetch
            continue
        if not _computes_only(stmt):
            return ""
    return ""


def checked_by_action(index, module: str, function: str, stmt, following: list) -> str:
    """`page = <lookup>` then `return self.retrieve(request, pk=page.pk)` in a view's method: the row's key is handed
    to an action of the view that fetches that row itself and checks the user's permission on it before using it
    (_fetch_then_check). What the lookup was given only picks which row that check is asked about: the text of the
    check, else ""."""
    qualname = function.rpartition(".")[0]
    if not following or not qualname or not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
                                             and isinstance(stmt.body[0], cst.Assign) and len(stmt.body[0].targets) == 1
                                             and isinstance(stmt.body[0].targets[0].target, cst.Name)):
        return ""
    name = stmt.body[0].targets[0].target.value
    handed = _handed_on(following[0])
    if handed is None or handed[1] or handed[0] not in _ACTIONS:
        return ""
    call = following[0].body[0].value
    keys = [a.value for a in call.args if a.keyword is not None and a.keyword.value in ("pk", "id")]
    if len(keys) != 1 or not (isinstance(keys[0], cst.Attribute) and keys[0].attr.value in ("pk", "id")
                              and isinstance(keys[0].value, cst.Name) and keys[0].value.value == name):
        return ""
    found = index.method(module, qualname, handed[0])
    return _fetch_then_check(index, module, qualname, found.function) if found is not None else ""


def creates_only(index, module: str, qualname: str) -> bool:
    """A view whose only action that takes input creates a row, and checks the user's permission on the new row
    before saving it (`self.check_permissions(request, "create", validator.object)`, also in the base it hands on
    to): no action updates a row, so no row moves to another tenant through it."""
    actions = _exposed_actions(index, module, qualname)
    if not actions or "create" not in actions or any(a in actions for a in ("update", "partial_update", "put", "patch")):
        return False
    return _checks_before_saving(index, module, qualname, actions["create"])


def _checks_before_saving(index, module: str, qualname: str, fn, depth: int = 0) -> bool:
    parsed = _parsed_action(fn) if depth <= 2 else None
    if parsed is None:
        return False
    tree, statements = parsed
    for stmt in statements:
        if _permission_check(stmt, tree) is not None:
            return True
        handed = _action_handed_on(stmt, fn)
        if handed is not None:
            return _checks_before_saving(index, module, qualname, _action_named(index, module, qualname, fn, *handed), depth + 1)
        if ".save(" in tree.code_for_node(stmt):
            return False
    return False


def _parsed_action(fn) -> tuple[cst.Module, list] | None:
    """An action's source parsed on its own: (the module, its statements as _flat lists them)."""
    if fn is None or fn.source is None:
        return None
    try:
        tree = cst.parse_module(dedent_source(fn.source))
    except cst.ParserSyntaxError:
        return None
    defs = [st for st in tree.body if isinstance(st, cst.FunctionDef)]
    return (tree, list(_flat(_body(defs[0].body)))) if defs else None


def _action_handed_on(stmt, fn) -> tuple[str, bool] | None:
    """The action a statement hands on to (`return self.update(...)`, `response = super().create(...)`): another action
    of the view or the same one of a base, not a helper method (`self.get_validator(...)`)."""
    handed = _handed_on(stmt) or _handed_on_into(stmt)
    return handed if handed is not None and (handed[0] in _ACTIONS or handed[0] == fn.qualname.rpartition(".")[2]) else None


_SAVED_INTO = re.compile(r"^\s*(self\.\w+)\s*=\s*[\w.]+\.save\(", re.MULTILINE)


def _refetches_saved(index, module: str, qualname: str, fn, depth: int = 0) -> bool:
    """An action (or the one it hands on to) that reads the view's queryset only to re-fetch the row it has just
    saved: `self.object = serializer.save()` then `self.get_queryset().get(id=self.object.id)`."""
    parsed = _parsed_action(fn) if depth <= 2 else None
    if parsed is None:
        return False
    tree, statements = parsed
    saved = None
    for stmt in statements:
        text = tree.code_for_node(stmt)
        handed = _action_handed_on(stmt, fn)
        if handed is not None and saved is None:
            return _refetches_saved(index, module, qualname, _action_named(index, module, qualname, fn, *handed), depth + 1)
        found = _SAVED_INTO.search(text)
        if found is not None:
            saved = found.group(1)
            continue
        if any(r in text for r in _REACHES if r != "super("):
            again = re.search(r"(?:self\.get_queryset\(\)|self\.queryset)\.get\(\s*(?:id|pk)\s*=\s*([\w.]+)\.(?:id|pk)\s*\)", text)
            if saved is None or again is None or again.group(1) != saved or text.count("get_queryset") + text.count("self.queryset") != 1:
                return False
    return saved is not None


def _flat(statements):
    """The statements in order, with the bodies of `if`s without `else` and of `with`s in place."""
    for stmt in statements:
        if isinstance(stmt, cst.If) and stmt.orelse is None or isinstance(stmt, cst.With):
            yield from _flat(_body(stmt.body))
        else:
            yield stmt


def _computes_only(stmt) -> bool:
    """An assignment, `for` or `if` (no `else`) with no return, raise, or call that writes or sends."""
    if isinstance(stmt, (cst.For, cst.If)):
        if stmt.orelse is not None:
            return False
        return all(_computes_only(s) for s in _body(stmt.body))
    if isinstance(stmt, cst.SimpleStatementLine):
        for small in stmt.body:
            if isinstance(small, cst.Continue):
                continue
            if not isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
                return False
            if any((dotted_name(c.func) or "").rsplit(".", 1)[-1] in _WRITES_TO for c in _calls(small)):
                return False
        return True
    return False


def _permission_check(stmt, tree: cst.Module):
    """`self.check_permissions(request, "update", self.object)`: (the call, the text of the row it is handed)."""
    call = stmt.body[0].value if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr) else None
    if not isinstance(call, cst.Call) or (dotted_name(call.func) or "").rsplit(".", 1)[-1] not in RAISING_PERMISSION_CHECKS:
        return None
    rows = [a for a in call.args if a.keyword is None]
    return (call, tree.code_for_node(rows[-1].value)) if rows else None


def _handed_on(stmt) -> tuple[str, bool] | None:
    """`return self.update(request, *args, **kwargs)` / `return super().retrieve(...)`: (method, through super)."""
    value = stmt.body[0].value if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], (cst.Return, cst.Expr)) else None
    if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
        return None
    owner = value.func.value
    if isinstance(owner, cst.Name) and owner.value == "self":
        return value.func.attr.value, False
    if isinstance(owner, cst.Call) and isinstance(owner.func, cst.Name) and owner.func.value == "super":
        return value.func.attr.value, True
    return None


def _handed_on_into(stmt) -> tuple[str, bool] | None:
    """`response = super().create(request, ...)`: the action handed on to the base, its answer kept (not
    `validator = self.get_validator(...)`, a helper of the action)."""
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign):
        handed = _handed_on(cst.SimpleStatementLine([cst.Expr(stmt.body[0].value)]))
        return handed if handed is not None and handed[1] else None
    return None


def _action_named(index, module: str, qualname: str, fn, name: str, via_super: bool):
    """The project function `self.<name>` or, from fn, `super().<name>` resolves to on the view."""
    if not via_super:
        found = index.method(module, qualname, name)
        return found.function if found is not None and found.function is not fn else None
    chain = index.class_chain(module, qualname)
    for i, (s, c) in enumerate(chain):
        if s.functions.get(f"{c.qualname}.{fn.qualname.rpartition('.')[2]}") is fn:
            for s2, c2 in chain[i + 1:]:
                if name in c2.methods:
                    return s2.functions.get(f"{c2.qualname}.{name}")
            return None
    return None


def _fetched_into(stmt, tree: cst.Module) -> str | None:
    """`obj = self.get_object()` / `self.object = get_object_or_404(self.get_queryset(), **kwargs)`: the target's text."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)):
        return None
    a = stmt.body[0]
    if len(a.targets) != 1 or not isinstance(a.targets[0].target, (cst.Name, cst.Attribute)) or not isinstance(a.value, cst.Call):
        return None
    if (dotted_name(a.value.func) or "").rsplit(".", 1)[-1] not in _FETCHES_ONE:
        return None
    return tree.code_for_node(a.targets[0].target)
