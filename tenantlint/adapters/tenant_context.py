"""Tenant values and tenant contexts in Python code -> QuerySites of kinds TENANT_VALUE, BYPASS and SETTING.

* TENANT_VALUE: the value that scopes a query (`filter(org_id=...)`, `Model.org_id == ...`, `.eq("org_id", ...)`),
  is written as the tenant (`Model(org=...)`, `.create(org_id=...)`, an insert dict) or binds a tenant context
  (`set_config('app.org', %s, true)`), when it is read from request input (Django `request.GET / POST / data /
  query_params / headers / COOKIES / META`, Flask `request.args / form / json / values / headers / cookies /
  get_json()`, FastAPI `Header() / Query() / Cookie() / Body() / Form()` parameters and path parameters named like
  the tenant) or has a fallback (`x or DEFAULT_ORG`, `.get("org_id", 1)`, `getattr(u, "org_id", 1)`, `a if c else 1`).
  A local name checked before its use (`if org_id is None: abort(403)`, a comparison that leaves the function) is
  not reported.
* BYPASS: `SET row_security = off`, `SET ROLE` to a role in `rls-bypass-roles`, a supabase client built with a
  service-role key, django-scopes `scopes_disabled()`, a manager named in `unscoped-managers`.
* REFERENCE: a write that sets a key of a tenant-owned row (`ShoppingEntry(food_id=...)`, `.create(patient_id=...)`,
  `qs.update(category_id=...)`) to an id read from request input, serializer `validated_data` included (and loop
  variables over it), that nothing checks first: the row may point at another tenant's row.
* SETTING: `SET app.x = ...` without LOCAL, `SET search_path`, `set_config(..., false)` or with a third argument
  that is not a literal `true`: on a pooled connection the next request inherits the tenant.

Functions declared `cross-tenant` (configuration or `# tenantlint: cross-tenant -- reason` on the `def` line)
carry that on their sites; the rules decide what it exempts.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace
from typing import Iterable

import libcst as cst

from tenantlint.config import Config
from tenantlint.adapters.collision import is_collision_check, parents_of
from tenantlint.adapters.django.vocabulary import _DEFAULT_MANAGERS, _QS_METHODS
from tenantlint.context.entry import ADMIN_ONLY, RAISING_PERMISSION_CHECKS, TASK_TENANT_ROW, task_tenant_rows, caller_entry, staff_class, staff_decorator, staff_dependency
from tenantlint.context.places import REQUEST_PARTS, configured
from tenantlint.context.reachability import binders, is_route
from tenantlint.index.summary import parsed_def
from tenantlint.python_module import children, PythonModule, api_name, descendants, dotted_name, names_in, operator_entry, short_code as _code, string_value
from tenantlint.types import QuerySite, Restriction, Schema, Scope, SiteKind, Span

_QUERY_METHODS = {
    "filter", "get", "aget", "exclude", "create", "acreate", "get_or_create", "aget_or_create", "update_or_create",
    "aupdate_or_create", "filter_by", "update", "get_object_or_404", "get_list_or_404", "eq", "match", "insert",
    "upsert", "where", "count", "exists", "first", "one", "select",
}
_REQUEST_ROOTS = ("request", "self.request", "flask.request", "req")
_FASTAPI_PARAMS = {"Header", "Query", "Cookie", "Body", "Form"}
# writes whose keyword arguments become the row's values
_WRITES = {"create", "acreate", "get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create", "update", "aupdate"}
# input a serializer has validated for types, not for tenants: `validated_data["food_id"]` is still the caller's id
_INPUT_ROOTS = ("validated_data", "cleaned_data")
_CONTEXT_CALLS = {"set_config", "execute", "executemany", "exec_driver_sql", "raw", "fetch", "fetchrow", "fetchval", "mogrify", "create_client", "acreate_client", "create_async_client", "scopes_disabled"}
_EXITS = {"abort", "abort_with", "PermissionDenied", "Http404", "HTTPException", "HttpResponseForbidden"}
_ROW_SECURITY = re.compile(r"\bset\s+(?:local\s+|session\s+)?row_security\s*(?:=|to)\s*'?(off|false|0)\b", re.IGNORECASE)
_SET_ROLE = re.compile(r"\bset\s+(?:local\s+|session\s+)?role\s+\"?(\w+)", re.IGNORECASE)
_SET_SETTING = re.compile(r"\bset\s+(local\s+|session\s+)?(search_path|[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\s*(?:=|\bto\b)", re.IGNORECASE)
# a setting that carries the tenant (`app.current_org`, `myapp.tenant_id`), not an extension's parameter
_TENANT_SETTING = re.compile(r"^(app|application)\.|tenant|org|workspace|realm|account|team|company|customer|current|user|project|space|group", re.IGNORECASE)
_SET_CONFIG = re.compile(r"set_config\s*\(\s*'([^']*)'\s*,\s*[^,]+?,\s*([^)\s]+)\s*\)", re.IGNORECASE)
# (SQL keywords in capitals: "set role" and "set foo.bar" are common English and Python in comments)
_SETTINGS_OR_BYPASS = re.compile(r"(?i:row_security|set_config|search_path|service_role|scopes_disabled)|\bSET\s+(?:LOCAL\s+|SESSION\s+)?(?:ROLE\b|[a-z_]+\.[a-z_]+\s*(?:=|TO\b))")
_WANTS = re.compile(
    r"@\w+\.(?:get|post|put|patch|delete|route|api_route)\(|request\.|Header\(|Query\(|Cookie\(|Body\(|Form\(|\bor\s+[\"'\dA-Z]|getattr\(|\.get\(\s*[\"'][^\"']*[\"']\s*,|\bif\b.+\belse\s+[\"'\d]"
    r"|row_security|set_config|search_path|service_role|scopes_disabled|SET\s+(?:LOCAL\s+|SESSION\s+)?(?:ROLE\b|[a-z_]+\.[a-z_])"
    r"|validated_data|cleaned_data",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Value:
    source: str  # "request" or "fallback"
    node: cst.CSTNode  # where it is read, or where the fallback is written
    text: str
    guarded: bool = False
    statement: cst.CSTNode | None = None  # the statement that reads it, to place it when its text repeats
    root: bool = False  # the tenant row itself, picked by a request value (chosen_root)


class TenantContextAdapter:
    name = "context"
    follows_helpers = False

    _tenant_word: re.Pattern | None = None  # set by applies(): the tenant columns and relations of this schema

    _unscoped_word: re.Pattern | None = None  # set by configure(): the managers declared unscoped

    def configure(self, config: Config) -> None:
        names = sorted(config.unscoped_managers)
        self._unscoped_word = re.compile(r"\.(?:" + "|".join(map(re.escape, names)) + r")\b") if names else None

    def wants(self, source: str) -> bool:
        if _SETTINGS_OR_BYPASS.search(source) or (self._unscoped_word is not None and self._unscoped_word.search(source)):
            return True
        # a tenant value needs a tenant column or relation named in the file, and a request read or a fallback
        return bool(self._tenant_word is not None and self._tenant_word.search(source) and _WANTS.search(source))

    @staticmethod
    def needs_names(source: str) -> bool:
        """A tenant value matters only where the file names a model or table the schema knows; a bypass or a
        session setting matters anywhere."""
        return not _SETTINGS_OR_BYPASS.search(source)

    def applies(self, schema: Schema) -> bool:
        keys = _tenant_keys(schema, ())
        self._tenant_word = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, keys))) + r")\b", re.IGNORECASE) if keys else None
        return True

    def sites(self, module: PythonModule, schema: Schema, config: Config, index=None) -> Iterable[QuerySite]:
        return _Analysis(module, schema, config, index).run()


class _Analysis:
    def __init__(self, module: PythonModule, schema: Schema, config: Config, index):
        self.module = module
        self.schema = schema
        self.config = config
        self.index = index
        self.summary = index.by_rel.get(module.path) if index is not None else None
        self.sites: list[QuerySite] = []
        self.function = "<module>"
        self.cross = ""
        self.entry = ""  # "admin-only view" inside a Django admin class or an admin action
        self.keys = _tenant_keys(schema, config.tenant_columns)
        self.roots = {name.rsplit(".", 1)[-1] for name, info in schema.models.items() if info.is_root}
        self.key_words = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, self.keys | self.roots))) + r")\b|\w_id\s*=", re.IGNORECASE)
        self.lines = module.source.splitlines(keepends=True)
        self.models = {name for name, info in schema.models.items() if info.is_tenant_table}
        self.roles = {r.lower() for r in config.rls_bypass_roles}
        self.unscoped = set(config.unscoped_managers)
        self.handled: set[int] = set()
        scoped = [info for info in schema.models.values() if info.scoped_managers]
        names = {info.name for info in scoped}
        self.scoped_words = names | {acc for accessors in schema.reverse.values() for acc, src in accessors.items() if src in names}
        self.interesting = _QUERY_METHODS | _CONTEXT_CALLS | self.models | {n.split(".")[-1] for n in schema.models}

    # -- walking

    def run(self) -> list[QuerySite]:
        self.block(self.module.tree.body, {}, None)
        return self.sites

    def block(self, stmts, env: dict, func: cst.FunctionDef | None) -> dict:
        for i, stmt in enumerate(stmts):
            mark = len(self.sites)
            env = self.statement(stmt, env, func)
            if len(self.sites) > mark and func is not None and self.checked_by_action(stmt, stmts[i + 1 :]):
                # `page = get_object_or_404(Page, slug=slug, project_id=<request>)` then `return self.retrieve(request,
                # pk=page.pk)`: the action checks the user's permission on the row; the request only picked which
                self.sites[mark:] = [s for s in self.sites[mark:] if not (s.kind is SiteKind.TENANT_VALUE and s.value_source == "request")]
        return env

    def checked_by_action(self, stmt, following: list) -> str:
        if self.index is None or self.summary is None:
            return ""
        from tenantlint.adapters.django.views import checked_by_action

        return checked_by_action(self.index, self.summary.module, self.function, stmt, following)

    def statement(self, stmt, env: dict, func) -> dict:
        if isinstance(stmt, cst.FunctionDef):
            self.function_def(stmt)
            return env
        if isinstance(stmt, cst.ClassDef):
            saved, saved_entry = self.function, self.entry
            self.function = stmt.name.value if saved == "<module>" else f"{saved}.{stmt.name.value}"
            if staff_class(stmt, self.module.imports.qualify) or (
                    self.index is not None and self.summary is not None and self.index.staff_view(self.summary.module, self.function.removeprefix("<module>."))):
                self.entry = ADMIN_ONLY  # a Django admin class, a DRF view for IsAdminUser alone, a view for staff flags
            for s in stmt.body.body:
                self.statement(s, {}, None)
            self.function, self.entry = saved, saved_entry
            return env
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                env = self.small(small, env, func)
                for name, v in env.items():  # where a value read here is read, for its related location
                    if isinstance(v, _Value) and v.statement is None:
                        env[name] = replace(v, statement=stmt)
            return env
        if isinstance(stmt, cst.If):
            self.expr(stmt.test, env, func)
            if _exits(stmt.body):
                env = _guard(env, stmt.test, checks_only=True)
            saved_entry = self.entry
            if self.index is not None and _admin_path_test(stmt.test, self.index.admin_prefixes()):
                self.entry = ADMIN_ONLY  # `if request.path.startswith("/admin/"):` in a middleware: the admin site's requests
            self.block(stmt.body.body, dict(env), func)
            self.entry = saved_entry
            if stmt.orelse is not None:
                self.statement(stmt.orelse, dict(env), func) if isinstance(stmt.orelse, cst.If) else self.block(stmt.orelse.body.body, dict(env), func)
            return env
        if isinstance(stmt, cst.With):
            for item in stmt.items:
                if _is_scopes_disabled(item.item):
                    self.scopes_disabled(item.item, stmt.body)
                self.expr(item.item, env, func)
            return self.block(stmt.body.body, env, func)
        for attr in ("test", "iter"):
            node = getattr(stmt, attr, None)
            if isinstance(node, cst.BaseExpression):
                self.expr(node, env, func)
        if isinstance(stmt, cst.For) and isinstance(stmt.target, cst.Name):
            item = self.classify_input(stmt.iter, env)  # for entry in serializer.validated_data["entries"]
            env = {**env, stmt.target.value: item} if item is not None else {k: v for k, v in env.items() if k != stmt.target.value}
        body = getattr(stmt, "body", None)
        if isinstance(body, cst.IndentedBlock):
            env = self.block(body.body, env, func)
        for extra in ("handlers",):
            for h in getattr(stmt, extra, ()) or ():
                self.block(h.body.body, dict(env), func)
        for extra in ("orelse", "finalbody"):
            node = getattr(stmt, extra, None)
            if node is not None and isinstance(getattr(node, "body", None), cst.IndentedBlock):
                env = self.block(node.body.body, env, func)
        return env

    def may_use_tenant(self, qualname: str) -> bool:
        """Whether a function calls anything that queries, writes, binds or bypasses (from the names its text calls,
        kept by the project index): most functions of a file that reads the request do none of it."""
        fs = self.summary.functions.get(qualname) if self.summary is not None else None
        if fs is None or self.unscoped:
            return True
        route = any(is_route(d) for d in fs.decorators)
        if not (fs.hints or route or "scopes_disabled" in fs.decorators):
            return False
        if self.interesting.isdisjoint(fs.called) and not self.index.calls_query_function(f"{self.summary.module}:{qualname}") and not any(
                r is not None and r.id in self.index.query_functions
                for r in (self.index.resolve_typed_call(self.summary.module, qualname, c) for c in fs.calls if "." in c)):
            return False
        # its text names a tenant column or relation, writes a `<relation>_id`, or binds or bypasses a context
        text = "".join(self.lines[fs.first_line - 1 : fs.end_line])
        return bool(self.key_words.search(text) or _SETTINGS_OR_BYPASS.search(text))

    def function_def(self, node: cst.FunctionDef) -> None:
        saved, saved_cross = self.function, self.cross
        self.function = node.name.value if saved == "<module>" else f"{saved}.{node.name.value}"
        if not self.may_use_tenant(self.function):
            self.function = saved
            return
        self.cross = _declared_cross_tenant(self.config, self.module.path, self.function, self.summary) or saved_cross
        saved_entry = self.entry
        module_id = self.summary.module if self.summary is not None else ""
        if any(staff_decorator(d, module_id, self.index) for d in node.decorators) or staff_dependency(node, module_id, self.index):
            self.entry = ADMIN_ONLY
        elif not self.entry and self.index is not None and self.summary is not None:
            self.entry = caller_entry(self.index, f"{self.summary.module}:{self.function}")
        env: dict = {}
        params = node.params
        route = any(_is_route(d.decorator) for d in node.decorators)
        for p in (*params.posonly_params, *params.params, *params.kwonly_params):
            value = self.param_value(p, route)
            if value is not None:
                env[p.name.value] = value
        for d in node.decorators:
            if _is_scopes_disabled(d.decorator):
                self.scopes_disabled(d.decorator, node.body)
            self.expr(d.decorator, {}, None)
        self.block(node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body], env, node)
        self.function, self.cross, self.entry = saved, saved_cross, saved_entry

    def param_value(self, p: cst.Param, route: bool) -> _Value | None:
        default = p.default
        if isinstance(default, cst.Call) and (dotted_name(default.func) or "").rsplit(".", 1)[-1] in _FASTAPI_PARAMS:
            return _Value("request", p, f"the request parameter `{p.name.value}`")
        ann = p.annotation.annotation if p.annotation is not None else None
        if isinstance(ann, cst.Subscript) and dotted_name(ann.value) in ("Annotated", "typing.Annotated"):
            for el in ann.slice[1:]:
                v = el.slice.value if isinstance(el.slice, cst.Index) else None
                if isinstance(v, cst.Call) and (dotted_name(v.func) or "").rsplit(".", 1)[-1] in _FASTAPI_PARAMS:
                    return _Value("request", p, f"the request parameter `{p.name.value}`")
        if route and p.name.value.lower() in self.keys and default is None:
            return _Value("request", p, f"the path parameter `{p.name.value}`")
        return None

    def small(self, small, env: dict, func) -> dict:
        if isinstance(small, cst.Assign):
            self.expr(small.value, env, func)
            value = self.classify(small.value, env) or self.classify_input(small.value, env) or self.chosen_root(small.value, env)
            own = self.principal_rows(small.value, env)
            for t in small.targets:
                if isinstance(t.target, cst.Name):
                    env = {**env, t.target.value: value} if value is not None else {k: v for k, v in env.items() if k != t.target.value}
                    mark = _PRINCIPAL_ROWS + t.target.value
                    env = {**env, mark: True} if own else {k: v for k, v in env.items() if k != mark}
            return env
        if isinstance(small, cst.AnnAssign) and small.value is not None:
            self.expr(small.value, env, func)
            if isinstance(small.target, cst.Name):
                value = self.classify(small.value, env)
                env = {**env, small.target.value: value} if value is not None else {k: v for k, v in env.items() if k != small.target.value}
            return env
        if isinstance(small, cst.Assert):
            self.expr(small.test, env, func)
            return _guard(env, small.test)
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and \
                (dotted_name(small.value.func) or "").rsplit(".", 1)[-1] in RAISING_PERMISSION_CHECKS:
            self.expr(small.value, env, func)
            return _guard(env, small.value)  # `self.check_permissions(request, "update", project)` raises unless allowed
        for attr in ("value", "test"):
            node = getattr(small, attr, None)
            if isinstance(node, cst.BaseExpression):
                self.expr(node, env, func)
        return env

    # -- expressions: find uses of tenant values and bypasses

    def expr(self, node: cst.CSTNode, env: dict, func) -> None:
        stack: list[tuple[cst.CSTNode, cst.Call | None]] = [(node, None)]
        while stack:
            n, call = stack.pop()
            if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                continue
            if isinstance(n, cst.Call):
                self.call(n, env)
                call = n
            elif isinstance(n, cst.Comparison):
                self.comparison(n, call or n, env)
            elif isinstance(n, cst.Attribute) and n.attr.value in self.unscoped and self.unscoped:
                self.bypass(n, f"the manager {n.attr.value} is declared unscoped (unscoped-managers)")
            stack.extend((c, call) for c in children(n))

    def call(self, call: cst.Call, env: dict) -> None:
        name = dotted_name(call.func) or ""
        last = name.rsplit(".", 1)[-1] if name else (call.func.attr.value if isinstance(call.func, cst.Attribute) else "")
        if last == "scopes_disabled":
            if id(call) not in self.handled:  # not a block or decorator (judged with their body): report it
                self.bypass(call, "django-scopes' tenant scope is off inside it")
            return
        if last in ("create_client", "acreate_client", "create_async_client") and any("service_role" in _code(a.value).lower() for a in call.args):
            self.bypass(call, "a supabase client with the service-role key bypasses row-level security")
            return
        if last == "set_config" and len(call.args) >= 3:
            third = call.args[2].value
            setting = string_value(call.args[0].value)
            if not (isinstance(third, cst.Name) and third.value == "True") and (setting is None or _TENANT_SETTING.search(setting)):
                self.setting(call, f"set_config(..., {_code(third)}): only a literal true as the third argument ends the setting with the transaction")
            self.value_use(call, call.args[1].value, env, "the query binds the tenant context")
            return
        sql = _literal_text(call.args[0].value) if call.args else None
        if sql is not None and last in ("execute", "executemany", "exec_driver_sql", "raw", "fetch", "fetchrow", "fetchval", "mogrify"):
            self.sql_text(call, sql, env)
            return
        if self.index is not None:
            if name:
                self.root_to_helper(call, name, env)
            self.value_to_helper(call, name, env)
        if last in _WRITES or last in self.models:
            self.references(call, name, last, env)
        if last in _QUERY_METHODS or last in self.models or (name in self.models):
            if last in ("eq",) and len(call.args) >= 2:
                col = string_value(call.args[0].value)
                if col is not None and col.lower() in self.keys:
                    self.value_use(call, call.args[1].value, env, f"the query filters by {col}")
                return
            for a in call.args:
                if a.keyword is not None and a.keyword.value.lower() in self.keys:
                    self.value_use(call, a.value, env, f"the query uses it as {a.keyword.value}")
                elif a.keyword is None and isinstance(a.value, cst.Dict) and last in ("insert", "upsert", "match"):
                    for el in a.value.elements:
                        k = string_value(el.key) if isinstance(el, cst.DictElement) else None
                        if k is not None and k.lower() in self.keys:
                            self.value_use(call, el.value, env, f"the query writes it as {k}")

    def root_to_helper(self, call: cst.Call, name: str, env: dict) -> None:
        """`project = get_object_or_404(Project, pk=request.GET["project"])`, then `services.summary(project)`: the
        tenant picked by the caller, unchecked, handed to a project function that runs queries. The function scopes
        them by what it is given, so the caller's pick is the tenant (TL105, as a filter by it in place would be)."""
        picked = [a.value for a in call.args if isinstance(a.value, cst.Name) and getattr(env.get(a.value.value), "root", False)]
        if not picked or self.summary is None or any(_is_principal(a.value) for a in call.args):
            return  # `is_project_admin(request.user, project)`: the check of the pick, not a use of it
        resolved = self.resolve(name, typed=False)
        if resolved is None or resolved.id not in self.index.query_functions:
            return
        for value in picked:
            self.value_use(call, value, env, f"it is handed to {name}(), a project function that runs queries")

    def resolve(self, name: str, call: cst.Call | None = None, typed: bool = True):
        """The project function a call runs: by its name, and with `typed` also through the class of the local it is
        called on, or a method of an object built in place (`Repository(session).get_by_slug(...)`)."""
        if self.summary is None:
            return None
        func = call.func if call is not None else None
        if typed and not name and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
            cls = self.index.class_named(self.summary.module, dotted_name(func.value.func) or "")
            return self.index.method(cls[0], cls[1], func.attr.value) if cls is not None else None
        if not name:
            return None
        owner = self.function.rpartition(".")[0]
        resolved = self.index.resolve_call(self.summary.module, owner if owner in self.summary.classes else None, name)
        if resolved is None and typed and "." in name:
            resolved = self.index.resolve_typed_call(self.summary.module, self.function, name)
        return resolved

    def value_to_helper(self, call: cst.Call, name: str, env: dict) -> None:
        """`repo.get_by_slug(group_id, slug)` where `group_id` is a path parameter and the method filters its rows by
        that parameter (`Recipe.group_id == group_id`): the caller's request value is the tenant of the helper's
        query (TL105, as a filter by it in place would be)."""
        candidates = [a for a in call.args if a.star == "" and (v := self.classify(a.value, env)) is not None and not v.root]  # roots: root_to_helper
        if not candidates or any(_is_principal(a.value) for a in call.args):
            return
        resolved = self.resolve(name, call)
        if resolved is None or resolved.id not in self.index.query_functions or not resolved.function.source:
            return
        fn = resolved.function
        params = list(fn.params)
        if fn.kind in ("method", "classmethod") and isinstance(call.func, cst.Attribute):
            params = params[1:]  # bound: `self` / `cls` is the object called on
        used = _tenant_parameters(fn.source, params + list(fn.kwonly), self.keys)
        position = 0
        for a in call.args:
            param = a.keyword.value if a.keyword is not None else (params[position] if position < len(params) else None)
            if a.keyword is None:
                position += 1
            if a in candidates and param in used:
                key, offset, length = used[param]
                line = fn.line + fn.source.count("\n", 0, offset)
                col = offset - (fn.source.rfind("\n", 0, offset) + 1) + 1
                where = (resolved.file.rel, Span(line, col, line, col + length), f"the filter in {fn.qualname}()")
                self.value_use(call, a.value, env, f"it is handed to {fn.qualname}(), which filters by it as {key}", (where,))

    def comparison(self, node: cst.Comparison, call: cst.CSTNode, env: dict) -> None:
        """`Model.org_id == value` inside a query call: reported on that call."""
        left = node.left
        if not (isinstance(left, cst.Attribute) and left.attr.value.lower() in self.keys):
            return
        for target in node.comparisons:
            if isinstance(target.operator, cst.Equal):
                self.value_use(call, target.comparator, env, f"the query compares {_code(left)} with it")

    def sql_text(self, call: cst.Call, sql: str, env: dict) -> None:
        m = _ROW_SECURITY.search(sql)
        if m:
            self.bypass(call, f"{_snippet(m.group(0))} switches row-level security off")
        m = _SET_ROLE.search(sql)
        if m and m.group(1).lower() in self.roles:
            self.bypass(call, f"{_snippet(m.group(0))}: the role {m.group(1)} bypasses row-level security (rls-bypass-roles)")
        interpolated = isinstance(call.args[0].value, cst.FormattedString) or "?" in sql
        for m in _SET_SETTING.finditer(sql):
            if m.group(1) and m.group(1).strip().lower() != "session":
                continue
            name = m.group(2)
            if name.lower() == "search_path" and not interpolated:
                continue  # a fixed search_path is configuration, not a tenant
            if name.lower() != "search_path" and not _TENANT_SETTING.search(name):
                continue  # an extension's parameter (pg_trgm.similarity_threshold), not a tenant
            self.setting(call, f"SET {name} without LOCAL keeps it on the pooled connection after the transaction")
        for m in _SET_CONFIG.finditer(sql):
            if m.group(2).lower() != "true" and _TENANT_SETTING.search(m.group(1)):
                self.setting(call, f"set_config('{m.group(1)}', ..., {m.group(2)}) keeps the setting on the pooled connection after the transaction")
        if ("set_config" in sql.lower() or re.search(r"\bset\s+local\b", sql, re.IGNORECASE)) and len(call.args) >= 2:
            params = call.args[1].value
            items = [e.value for e in params.elements] if isinstance(params, (cst.List, cst.Tuple)) else [params]
            for item in items:
                self.value_use(call, item, env, "the query binds the tenant context")

    def references(self, call: cst.Call, name: str, last: str, env: dict) -> None:
        """Keys of tenant-owned rows written from request input: `Entry(food_id=e["food_id"])`."""
        model = None
        if last in self.models:
            model = self.schema.model(last)
        elif ".objects." in f"{name}." and name.split(".", 1)[0] in self.models:
            model = self.schema.model(name.split(".", 1)[0])
        for a in call.args:
            key = a.keyword.value if a.keyword is not None else ""
            if not key.endswith("_id") or key.lower() in self.keys:
                continue
            target = self.reference_target(model, key)
            if target is None:
                continue
            v = self.classify(a.value, env) or self.classify_input(a.value, env)
            if v is None or v.source not in ("request", "input"):
                continue
            reason = f"{key} is an id from the request ({v.text}): nothing checks that the {target.name} belongs to this tenant"
            self.sites.append(QuerySite(SiteKind.REFERENCE, target, Restriction(Scope.UNSCOPED, (v.text,), reason), _api(call), call,
                                        f"{_code(call)}\0{key}", self.function, value_source="request", cross_tenant=self.cross,
                                        entry=self.entry or operator_entry(self.module.path)))

    def reference_target(self, model, key: str):
        """The tenant-owned model a `<relation>_id` key points at: through the written model's relation, or, when
        the model is not named (`qs.update(...)`), through every tenant-owned model's relation of that name."""
        field = key[:-3]
        if model is not None:
            rels = [r for r in model.relations if r.field == field or r.column == key]
        else:
            rels = [r for m in self.schema.models.values() if m.is_tenant_table for r in m.relations if r.field == field or r.column == key]
        targets = [self.schema.model(r.target) for r in rels]
        if not targets or any(t is None or not t.is_tenant_table for t in targets):
            return None
        return targets[0]

    # -- values

    def classify_input(self, node: cst.BaseExpression, env: dict) -> _Value | None:
        """Request input as a whole, or validated for types only: `serializer.validated_data["entries"]`,
        `validated_data.pop("properties")`, `request.data`, and names bound from them (kept apart from tenant values:
        a serializer sets `validated_data["space"]` from the request's tenant)."""
        inner = _unwrap(node)
        if isinstance(inner, cst.Name):
            v = env.get(inner.value)
            if isinstance(v, _Value) and not v.guarded and v.source in ("request", "input"):
                return _Value("input", node, v.text if inner is node else f"`{_code(node)}`")
            if inner.value in _INPUT_ROOTS:
                return _Value("input", node, f"`{_code(node)}`")
            return None
        text = dotted_name(inner) or ""
        if text.rsplit(".", 1)[-1] in _INPUT_ROOTS:
            return _Value("input", node, f"`{_code(node)}`")
        v = self.classify(node, env)
        return _Value("input", node, v.text) if v is not None and v.source == "request" else None

    def chosen_root(self, node: cst.BaseExpression, env: dict) -> _Value | None:
        """`project = Project.objects.get(id=request.data["project_id"])`, `get_object_or_404(Project, pk=...)`: the
        tenant itself, picked by a value from the request. Using it as the tenant of a query is TL105, as using the
        id would be, unless the principal's access to it is checked first."""
        call = node.expression if isinstance(node, cst.Await) else node
        if not isinstance(call, cst.Call) or not self.roots:
            return None
        calls = []
        n = call
        while isinstance(n, cst.Call):  # Project.objects.filter(id=x).first(): every call of the chain
            calls.append(n)
            n = n.func.value if isinstance(n.func, cst.Attribute) else None
            while isinstance(n, cst.Attribute):
                n = n.value
        # the model: named in the chain (`models.Project.objects.get`), or the first argument of a shortcut or a
        # wrapper taking the model (`get_object_or_404(Project, pk=...)`)
        named = {part for c in calls for part in (dotted_name(c.func) or "").split(".")}
        first = next((a.value for a in calls[-1].args if a.keyword is None), None)
        if first is not None:
            named.add((dotted_name(first) or "").rsplit(".", 1)[-1])
        root = next(iter(sorted(named & self.roots)), None)
        if root is None:
            return None
        for c in calls:
            for a in c.args:
                if a.keyword is None:
                    continue
                v = self.classify(a.value, env)
                if v is not None and v.source == "request":
                    return _Value("request", v.node, f"the {root} picked by {v.text}", False, v.statement, root=True)
        return None

    def classify(self, node: cst.BaseExpression, env: dict) -> _Value | None:
        if isinstance(node, cst.Name):
            v = env.get(node.value)
            return v if isinstance(v, _Value) and not v.guarded and v.source != "input" else None
        inner = _unwrap(node)
        if isinstance(inner, cst.Name) and inner is not node:  # int(org) with org read before
            v = env.get(inner.value)
            return v if isinstance(v, _Value) and not v.guarded and v.source != "input" else None
        text = dotted_name(inner) or ""
        if isinstance(inner, cst.Call):  # request.get_json()
            text = dotted_name(inner.func) or ""
        for root in _REQUEST_ROOTS:
            if text.startswith(root + "."):
                part = text[len(root) + 1 :].split(".", 1)[0]
                if part in REQUEST_PARTS or part == "get_json":
                    return _Value("request", node, f"`{_code(node)}`")
        if isinstance(node, cst.BooleanOperation) and isinstance(node.operator, cst.Or) and _is_default(node.right):
            return _Value("fallback", node, _code(node))
        if isinstance(node, cst.IfExp) and (_is_default(node.body) or _is_default(node.orelse)):
            return _Value("fallback", node, _code(node))
        if isinstance(node, cst.Call):
            name = dotted_name(node.func) or ""
            last = name.rsplit(".", 1)[-1]
            positional = [a for a in node.args if a.keyword is None]
            if last in ("get", "getenv") and len(positional) >= 2 and not _is_none(positional[1].value):
                return _Value("fallback", node, _code(node))
            if last == "getattr" and len(positional) >= 3 and not _is_none(positional[2].value):
                return _Value("fallback", node, _code(node))
        return None

    def principal_rows(self, node: cst.BaseExpression, env: dict) -> bool:
        """A query of the requesting user's own rows: `Settings.objects.filter(user=request.user)`, a refinement of
        one held in a local (`qs.filter(...)`), or the view's `self.get_queryset()` when every row it returns is
        filtered so (`return Settings.objects.filter(user=self.request.user)`; `.none()` returns no row)."""
        if not isinstance(node, cst.Call):
            return False
        if _of_the_principal(node):
            return True
        n = node.func
        while isinstance(n, (cst.Attribute, cst.Call)):
            n = n.func if isinstance(n, cst.Call) else n.value
        if isinstance(n, cst.Name) and env.get(_PRINCIPAL_ROWS + n.value):
            return True
        if dotted_name(node.func) != "self.get_queryset" or self.index is None or self.summary is None or "." not in self.function:
            return False
        found = self.index.method(self.summary.module, self.function.rsplit(".", 1)[0], "get_queryset")
        return found is not None and _returns_principal_rows(found.function.source)

    def value_use(self, anchor: cst.CSTNode, value: cst.BaseExpression, env: dict, how: str, also: tuple = ()) -> None:
        v = self.classify(value, env)
        if v is None or v.guarded or self.principal_rows(anchor, env):
            return  # the requesting user's own rows: a request value only narrows them
        span = self.module.span_of(v.node, v.statement, self.summary.lines_of(self.function) if self.summary is not None else None)
        where = "the request is read here" if v.source == "request" else "the fallback is written here"
        if v.source == "request":
            reason = f"the tenant value comes from {v.text}, not from the authenticated principal ({how})"
        else:
            reason = f"the tenant value `{v.text}` falls back to a fixed tenant when the tenant is missing ({how})"
        self.sites.append(
            QuerySite(
                SiteKind.TENANT_VALUE,
                None,
                Restriction(Scope.SCOPED, (v.text,), reason),
                _api(anchor),
                anchor,
                f"{_code(anchor)}\0{v.source}",
                self.function,
                related=(((self.module.path, span, where),) if span is not None and span != self.module.span_of(anchor) else ()) + also,
                value_source=v.source,
                cross_tenant=self.cross,
            )
        )

    def scopes_disabled(self, node: cst.BaseExpression, body: cst.CSTNode) -> None:
        """`with scopes_disabled():` / `@scopes_disabled()`: a bypass when its body names a model that django-scopes
        scopes (a model with a ScopedManager); a block over tokens, users or events turns nothing off."""
        self.handled.add(id(node))
        if self.scoped_words:
            # the code that runs inside: not the bodies of functions defined there (they run later, in whatever scope
            # is then active), nor `class Meta` declarations; Model.objects.none() runs no query
            code = _EMPTY_QUERY.sub("", _executed_code(self.module.tree, body))
            if "get_response(" in code:  # a middleware: every view it hands the request to runs unscoped
                self.bypass(node, "django-scopes' tenant scope is off for every view the request is handed to here")
                return
            if self.scoped_words.isdisjoint(_WORD.findall(code)) and not _DYNAMIC_MODEL.search(code):
                return
        self.bypass(node, "django-scopes' tenant scope is off inside it")

    def bypass(self, anchor: cst.CSTNode, reason: str) -> None:
        api = f"{_api(anchor)}()" if isinstance(anchor, cst.Call) and not anchor.args else _api(anchor)
        self.sites.append(QuerySite(SiteKind.BYPASS, None, Restriction(Scope.UNSCOPED, (), reason), api, anchor, f"{_code(anchor)}\0bypass", self.function,
                                    cross_tenant=self.cross, entry=self.entry or operator_entry(self.module.path)))

    def setting(self, anchor: cst.CSTNode, reason: str) -> None:
        self.sites.append(QuerySite(SiteKind.SETTING, None, Restriction(Scope.UNSCOPED, (), reason), _api(anchor), anchor, f"{_code(anchor)}\0{reason}", self.function, cross_tenant=self.cross))


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EMPTY_QUERY = re.compile(r"\b\w+\.objects\.none\(\)")
# a model chosen at run time (`self.__class__.objects`, `type(obj).objects`, `self.model.objects`): it may be scoped
_DYNAMIC_MODEL = re.compile(r"(__class__|\)|\bmodel|\bcls)\.(objects|_default_manager)\b")


# a string literal: `prefetch_related("submissions")` names the children of the rows read, not a query of its own
_STRING = re.compile(r"""[rRbBuU]{0,2}(?:"{3}[\s\S]*?"{3}|'{3}[\s\S]*?'{3}|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')""")


def _executed_code(tree: cst.Module, body: cst.CSTNode) -> str:
    """The text of a block without nested function bodies, `class Meta` bodies (a class body runs, its methods do
    not) and the contents of string literals."""
    if isinstance(body, cst.FunctionDef):
        body = body.body
    stmts = body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else [body]
    parts = []
    for stmt in stmts:
        if isinstance(stmt, cst.FunctionDef):
            continue
        if isinstance(stmt, cst.ClassDef):
            if stmt.name.value != "Meta":
                parts.append(" ".join(_WORD.findall(" ".join(tree.code_for_node(b) for b in stmt.bases))))
                parts.append(_executed_code(tree, stmt.body))
            continue
        parts.append(_STRING.sub('""', tree.code_for_node(stmt)))
    return "\n".join(parts)


def _is_scopes_disabled(node: cst.BaseExpression) -> bool:
    target = node.func if isinstance(node, cst.Call) else node
    return (dotted_name(target) or "").rsplit(".", 1)[-1] == "scopes_disabled"


def _admin_path_test(test: cst.BaseExpression, prefixes: frozenset[str]) -> bool:
    """`request.path.startswith(prefix + "/admin/")` where the URLconf mounts the admin site at "admin/"."""
    if not prefixes or not (isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute) and test.func.attr.value == "startswith"):
        return False
    if (dotted_name(test.func.value) or "").rsplit(".", 1)[-1] not in ("path", "path_info") or not test.args:
        return False
    texts = [n.value for n in descendants(test.args[0].value) if isinstance(n, cst.FormattedStringText)]
    texts += [v for v in (string_value(n) for n in descendants(test.args[0].value) if isinstance(n, cst.SimpleString)) if v]
    return any(f"/{p}" in f"/{t.lstrip('/')}" and t.rstrip("/").endswith(p.rstrip("/")) for t in texts for p in prefixes)


def _tenant_parameters(source: str, params: list[str], keys: set[str]) -> dict[str, tuple[str, int, int]]:
    """{parameter: (tenant key, offset, length of the match)} for the parameters a function's text compares with a
    tenant key or passes as one (`Recipe.group_id == group_id`, `filter(group_id=group_id)`, `group_id == Recipe.group_id`)."""
    out: dict[str, tuple[str, int, int]] = {}
    if not keys:
        return out
    key = "|".join(sorted(map(re.escape, keys)))
    for p in params:
        q = re.escape(p)
        m = re.search(rf"(?<![\w])(?:\w+\.)?({key})\s*(?:==|=(?!=))\s*{q}\b|\b{q}\s*==\s*\w+\.({key})\b", source, re.IGNORECASE)
        if m:
            out[p] = (m.group(1) or m.group(2), m.start(), m.end() - m.start())
    return out


def _tenant_keys(schema: Schema, tenant_columns) -> set[str]:
    """Names a tenant value goes by: the tenant columns, and each tenant table's column or relation to the root."""
    keys = {c.lower() for c in tenant_columns} | {"org_id", "organization_id", "tenant_id"}
    for info in schema.models.values():
        t = info.tenant
        if t is None:
            continue
        if t.tenant_column:
            keys.add(t.tenant_column.lower())
        for path in t.tenant_paths:
            if len(path) == 1:
                keys.add(path[0].lower())
                keys.add(path[0].lower() + "_id")
    return keys


def _literal_text(node: cst.BaseExpression) -> str | None:
    """The text of a string literal, an f-string (its expressions as `?`), or `text("...")` around one."""
    if isinstance(node, cst.Call) and (dotted_name(node.func) or "").rsplit(".", 1)[-1] in ("text", "SQL") and node.args:
        node = node.args[0].value
    if isinstance(node, cst.FormattedString):
        return "".join(p.value if isinstance(p, cst.FormattedStringText) else "?" for p in node.parts)
    return string_value(node)


def _unwrap(node: cst.BaseExpression) -> cst.BaseExpression:
    """`int(request.GET["org"])`, `request.GET.get("org")`, `request.json["org_id"]` -> the request attribute."""
    while True:
        if isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("get", "getlist", "pop"):
            node = node.func.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("int", "str", "UUID", "uuid") and len(node.args) == 1:
            node = node.args[0].value
        else:
            return node


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _is_default(node: cst.BaseExpression) -> bool:
    """A fixed tenant: a literal, or a constant named in capitals (`DEFAULT_ORG`, `settings.DEFAULT_TENANT_ID`).
    An empty string names no tenant: a query with it finds nothing rather than another tenant's rows."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return bool(string_value(node))
    if isinstance(node, cst.Integer):
        return True
    name = dotted_name(node)
    if name:
        last = name.rsplit(".", 1)[-1]
        return last.isupper() and any(c.isalpha() for c in last)
    return False


def _exits(body: cst.BaseSuite) -> bool:
    """The block leaves the function: return, raise, or a call of abort() / an HTTP error."""
    stmts = body.body if isinstance(body, cst.IndentedBlock) else []
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, cst.SimpleStatementLine):
        for small in last.body:
            if isinstance(small, (cst.Return, cst.Raise)):
                return True
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and (dotted_name(small.value.func) or "").rsplit(".", 1)[-1] in _EXITS:
                return True
    return False


def _of_the_principal(anchor: cst.CSTNode) -> bool:
    """`request.user.memberships.filter(organization=org)`, `Membership.objects.filter(user=request.user,
    organization=org)`: a query of the requesting user's own rows, the check of a tenant value, not a use of it."""
    if not isinstance(anchor, cst.Call):
        return False
    n = anchor.func
    while isinstance(n, (cst.Attribute, cst.Call)):
        if isinstance(n, cst.Call):
            if any(a.keyword is not None and _is_principal(a.value) for a in n.args):
                return True
            n = n.func
            continue
        if _is_principal(n):
            return True
        n = n.value
    return any(a.keyword is not None and _is_principal(a.value) for a in anchor.args)


_PRINCIPAL_ROWS = "\0principal rows\0"  # env mark: the local holds a query of the requesting user's own rows


def _returns_principal_rows(source: str | None) -> bool:
    """Every `return` of the function hands back a query filtered by the requesting user, or `.none()`."""
    tree = parsed_def(source)
    if tree is None:
        return False
    returns = [n.value for n in ast.walk(tree) if isinstance(n, ast.Return)]
    if not returns or any(r is None for r in returns):
        return False
    for r in returns:
        text = ast.unparse(r)
        if text.endswith(".none()"):
            continue
        if not _PRINCIPAL_FILTER.search(text):
            return False
    return True


_PRINCIPAL_FILTER = re.compile(r"\(\s*(?:[^()]*,\s*)?\w+=(?:self\.)?request\.user\b")


def _is_principal(node: cst.BaseExpression) -> bool:
    text = dotted_name(node) or ""
    return text.removesuffix(".id").removesuffix(".pk") in ("request.user", "self.request.user")


def _guard(env: dict, test: cst.BaseExpression, checks_only: bool = False) -> dict:
    """Names the test checks are guarded from here on. With `checks_only` (an `if` that leaves), a name counts only
    where the test compares it (`org != str(user.org_id)`) or hands it to a check (`not can_access(user, org)`), not
    where it only reads the row (`if project.statuses.all(): raise`)."""
    if checks_only:
        checked = [n for n in descendants(test) if isinstance(n, cst.Comparison)]
        checked += [a.value for n in descendants(test) if isinstance(n, cst.Call) for a in n.args]
        names = {n.value for c in checked for n in names_in(c)}
    else:
        names = {n.value for n in names_in(test)}
    return {k: (replace(v, guarded=True) if k in names and isinstance(v, _Value) else v) for k, v in env.items()}


def _is_route(decorator: cst.BaseExpression) -> bool:
    target = decorator.func if isinstance(decorator, cst.Call) else decorator
    name = dotted_name(target) or ""
    return is_route(name)


def _api(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Call):
        name = dotted_name(node.func)
        if name:
            return f"{name}(...)" if "." not in name and name[:1].isupper() else api_name(name)  # Model(...): a row
    return _code(node)


def _snippet(sql: str) -> str:
    return " ".join(sql.split())


ADAPTER = TenantContextAdapter()


_TABLE_KINDS = (SiteKind.READ, SiteKind.UPDATE, SiteKind.DELETE, SiteKind.INSERT)


def annotate_context(module: PythonModule, sites: list[QuerySite], config: Config, index, schema: Schema | None = None) -> list[QuerySite]:
    """Every adapter's sites of one file, told what their table's mode asks (a tenant filter, a tenant context) and,
    in context mode, whether a context surrounds them: lexically (`with binder(...)`) or through the project index
    (the function enters one, or every caller is inside one). Cross-tenant places are marked on every site."""
    sites = _task_tenant_rows(module, sites, config, index)
    sites = _drop_idle_bypasses(module, sites, index, schema)
    context_tables = {t.lower() for t in config.context_tables}
    marked_inline = "cross-tenant" in module.source
    if config.mode == "filter" and not context_tables and not config.cross_tenant and not marked_inline:
        return sites
    from dataclasses import replace

    summary = index.by_rel.get(module.path) if index is not None else None
    contexts = getattr(index, "context", None) if index is not None else None
    lexical: set[int] | None = None
    out = []
    for site in sites:
        changes: dict = {}
        if not site.cross_tenant:
            cross = _declared_cross_tenant(config, module.path, site.function, summary)
            if cross:
                changes["cross_tenant"] = cross
        if site.table is not None and site.kind in _TABLE_KINDS:
            listed = site.table.table.lower() in context_tables or site.table.name.lower() in context_tables
            context_required = config.mode in ("context", "both") or listed
            changes["context_required"] = context_required
            changes["filter_required"] = config.mode in ("filter", "both") and not (listed and config.mode == "filter")
            if context_required:
                if lexical is None:
                    # inside a binder's block, or inside scopes_disabled(): TL202 reports that bypass, in one place
                    lexical = _inside_binder_blocks(module.tree, (set(contexts.binders) if contexts is not None else set()) | {"scopes_disabled"})
                if id(site.anchor) not in lexical:
                    changes["context_gap"] = _gap(site.function, summary, contexts)
        out.append(replace(site, **changes) if changes else site)
    return out


_TASK_TEXT = re.compile(r"@[\w.]*(?:task|actor)\b")


def _task_tenant_rows(module: PythonModule, sites: list[QuerySite], config: Config, index) -> list[QuerySite]:
    """The read of the row a queued task takes its tenant context from (`context/entry.py`, TASK_TENANT_ROW) is a note:
    the task has no tenant before that row gives it one."""
    if index is None or not _TASK_TEXT.search(module.source) or not any(q.kind is SiteKind.READ and not q.entry for q in sites):
        return sites
    rows = task_tenant_rows(module.tree, binders(index, config))
    if not rows:
        return sites
    within = {id(n) for r in rows for n in descendants(r)}
    return [replace(q, entry=TASK_TENANT_ROW) if q.kind is SiteKind.READ and not q.entry and id(q.anchor) in within
            and q.restriction.scope not in (Scope.SCOPED, Scope.GUARDED) else q for q in sites]


def _drop_idle_bypasses(module: PythonModule, sites: list[QuerySite], index=None, schema: Schema | None = None) -> list[QuerySite]:
    """A `scopes_disabled()` block (or `@scopes_disabled()` function) that turns nothing off unseen:
    - one statement whose every query on a tenant table is restricted anyway (shared rows, a tenant filter):
      `with scopes_disabled(): return get_object_or_404(Log, pk=pk, event__isnull=True)`;
    - longer blocks whose every query on a tenant table or a scoped model is judged in place and restricted (a tenant
      filter, a key read from a row in hand, a check of the fetched row), and which call no project function that runs
      queries without that call being judged here too (`event.copy_data_from(source)` unfollowed keeps the block);
    - blocks whose every query is a collision check (`_collision_checks_only`), or whose one statement reads only the
      row a queued task takes its tenant from (TASK_TENANT_ROW).
    Queries tenantlint cannot see there (a model chosen at run time, an unfollowed helper) keep the block a finding."""
    bypasses = [s for s in sites if s.kind is SiteKind.BYPASS and s.api == "scopes_disabled()"]
    if not bypasses:
        return sites
    blocks = {}  # the anchor of each bypass -> (its block, the function holding it)
    stack: list[tuple[cst.CSTNode, cst.FunctionDef | None]] = [(module.tree, None)]
    while stack:
        node, func = stack.pop()
        if isinstance(node, cst.With):
            for item in node.items:
                if _is_scopes_disabled(item.item):
                    blocks[id(item.item)] = (node.body, func)
        elif isinstance(node, cst.FunctionDef):
            func = node
            for d in node.decorators:
                if _is_scopes_disabled(d.decorator):
                    blocks[id(d.decorator)] = (node.body, func)
        stack.extend((c, func) for c in children(node))
    models = _model_classes(index, schema)
    idle = set()
    for site in bypasses:
        body, func = blocks.get(id(site.anchor), (None, None))
        if body is None or not isinstance(body, cst.IndentedBlock):
            continue
        inside = {id(n) for n in descendants(body)}
        queries = [q for q in sites if q.kind in _TABLE_KINDS and q.table is not None and id(q.anchor) in inside]
        if func is not None and _collision_checks_only(body, func, queries, sites, inside, index, module.judged_calls, models):
            idle.add(id(site))
            continue

        def unseen() -> bool:  # a call of a project function that runs queries, not judged here
            return index is not None and _unjudged_query_calls(body, sites, inside, index, module.judged_calls, models)

        if len(body.body) == 1:
            # restricted, or the row a task takes its tenant from: nothing turned off there reads another tenant's rows
            if queries and all(q.restriction.scope is Scope.SCOPED or q.entry == TASK_TENANT_ROW for q in queries) and not unseen():
                idle.add(id(site))
            continue
        relevant = [q for q in queries if q.table.tenant is not None or q.table.scoped_managers]
        if not relevant or any(q.restriction.scope not in (Scope.SCOPED, Scope.GUARDED) for q in relevant) or unseen():
            continue
        if _DYNAMIC_MODEL.search(_executed_code(module.tree, body)):
            continue
        idle.add(id(site))
    return [s for s in sites if id(s) not in idle] if idle else sites


def _collision_checks_only(body, func, queries, sites, inside, index, followed, models) -> bool:
    """A block whose every query is a collision check (`adapters/collision.py`): it asks only whether a value the
    function drew is taken, whatever model the query names (`self.__class__.objects.filter(**key).exists()` in the
    retry loop of a random code). Queries judged there and restricted may sit beside them; any other query, or a call
    of a project function that runs queries unseen, keeps the block a finding."""
    found = []
    for n in descendants(body):
        if isinstance(n, cst.Attribute) and n.attr.value in _DEFAULT_MANAGERS:
            found.append(n)
    if not found:
        return False
    parents = parents_of(func)
    checks = []
    for manager in found:
        top = manager
        while True:  # up the chain: `<manager>.filter(...)`, `<...>.exists()`, `<...>[:1]`
            up = parents.get(id(top))
            if isinstance(up, cst.Attribute) and up.value is top or isinstance(up, cst.Call) and up.func is top \
                    or isinstance(up, cst.Subscript) and up.value is top:
                top = up
                continue
            break
        if not is_collision_check(func, top, parents):
            return False
        checks.append(top)
    within = {id(n) for c in checks for n in descendants(c)}
    if any(q.restriction.scope not in (Scope.SCOPED, Scope.GUARDED) and id(q.anchor) not in within for q in queries):
        return False
    return index is None or not _unjudged_query_calls(body, sites, inside, index, followed | within, models)


def _unjudged_query_calls(body: cst.CSTNode, sites: list[QuerySite], inside: set[int], index, followed=frozenset(),
                          models: frozenset | None = None) -> bool:
    """Whether the block calls, by a name some project function that runs queries has, something no site inside it
    was judged through (`helper() -> Model.objects...`) and the walk did not follow (`followed`: calls it inlined, or
    found restricted whatever their arguments): what that call runs is not seen here. A method every project function
    of whose name is a method that touches only its own row (`mail.mark_sent()`: `self.save()`, `self.event`) runs
    nothing beyond the row it is called on. Called on a row the block read (`for track in source.tracks.all():
    track.save()`, `event.cfp.save()` beside `event.tracks`), only the methods of that name on model classes and
    their project bases count (`models`: (module, class) of each): a form's `save()` is not what a row runs."""
    if "query_names" not in index.memo:
        index.memo["query_names"] = frozenset(fid.rpartition(":")[2].rpartition(".")[2] for fid in index.query_functions)
    names = index.memo["query_names"]
    # the helpers the block's sites were judged through: `a() -> b() -> Model.objects.filter` names a and b
    judged = {hop.partition("(")[0].rpartition(".")[2] for q in sites if id(q.anchor) in inside for hop in q.api.split(" -> ")[:-1]}
    # the calls of the queries judged here (`Model.objects.filter(...).count()`) are those queries, whatever their names
    anchors = {id(q.anchor) for q in sites if id(q.anchor) in inside}
    covered = {id(n) for q in sites if id(q.anchor) in anchors and isinstance(q.anchor, cst.CSTNode) for n in descendants(q.anchor)}
    rows = _row_names(body, sites, inside) if models is not None else {}
    for n in descendants(body):
        if isinstance(n, cst.Call) and id(n) not in covered and not _on_query(n, anchors):
            callee = (dotted_name(n.func) or "").rsplit(".", 1)[-1]
            if isinstance(n.func, cst.Attribute) and callee in _QS_METHODS:
                continue  # `queryset.count()` on a query built in a variable: Django's own method, not a project helper
            if id(n) in followed or isinstance(n.func, cst.Attribute) and _row_method(index, callee):
                continue
            held = (dotted_name(n.func.value) or "").partition(".")[0] if isinstance(n.func, cst.Attribute) else ""
            if held in rows and _row_method(index, callee, models, rows[held] if isinstance(n.func.value, cst.Name) else None):
                continue  # `track.save()` on a row the block read: the model's own save, or an override of a model's
            if callee in names and callee not in judged and not callee[:1].isupper():
                return True
    return False


# text of a query that does not go through the object the method is called on
_OWN_QUERY = re.compile(r"\.objects\b|_default_manager|_base_manager|\b(?:select|query|execute|raw)\(|\.extra\(")


# a method's read of its own row by its key (`self.__class__.objects.get(pk=self.pk)`: the stored copy, to compare)
_OWN_ROW = re.compile(r"\b(?:self\.__class__|type\(self\))\.(?:objects|_default_manager|_base_manager)\.get\(\s*(?:pk|id)\s*=\s*self\.(?:pk|id)\s*\)")


def _row_method(index, name: str, models: frozenset | None = None, model=None) -> bool:
    """Every project function named `name` is a method whose queries go through its own object only (`self.save()`,
    `self.event.x`, `self.items.all()`, its own stored row by `pk=self.pk`): no other manager, statement or SQL of its
    own, and no call of another project function that runs queries. With `models`, only the methods of those classes
    count, and none means the framework's own method; with the row's `model` too, only the method that model's class
    chain resolves `name` to."""
    key = ("row_method", name, models is not None, model.path if model is not None else "", model.name if model is not None else "")
    if key not in index.memo:
        owner = index.by_rel.get(model.path) if model is not None else None
        if owner is not None and model.name in owner.classes:
            hit = index.method(owner.module, model.name, name)
            found = [hit.function] if hit is not None and hit.function is not None else []
        else:
            found = [fn for s in index.files.values() for fn in s.functions.values() if fn.qualname.rpartition(".")[2] == name
                     and (models is None or (s.module, fn.qualname.rpartition(".")[0]) in models)]
        names = index.memo["query_names"]
        index.memo[key] = (bool(found) or models is not None) and all(
            fn.kind == "method" and fn.source is not None and not _OWN_QUERY.search(_OWN_ROW.sub("", fn.source))
            and not any(c.rpartition(".")[2] in names and not c.startswith("self.") and not _on_collection(fn, c) for c in fn.calls)
            for fn in found)
    return index.memo[key]


def _on_collection(fn, call: str) -> bool:
    """`kwargs.get(...)`, `fields.union(...)`: a call on the function's `**kwargs` or on a local it builds as a dict,
    set or list literal, which is no project function whatever its method's name."""
    receiver, _, _ = call.rpartition(".")
    if not receiver.isidentifier():
        return False
    if receiver == fn.kwarg:
        return True
    return re.search(rf"(?m)^\s*{re.escape(receiver)}\s*=\s*(?:[{{\[]|(?:dict|set|list)\()", fn.source or "") is not None


def _row_names(body: cst.CSTNode, sites: list[QuerySite], inside: set[int]) -> dict:
    """Names that hold rows in the block, with their model when it is known: the object a relation judged there starts
    from (`source` of `source.tracks.all()`, model unknown), and the target of a loop over a judged query (`for track
    in source.tracks.all():`, a row of its table) or over a query method (`for s in source.settings.all():`)."""
    tables = {id(q.anchor): q.table for q in sites if id(q.anchor) in inside}
    rows: dict = {}
    for q in sites:
        if id(q.anchor) in inside and isinstance(q.anchor, cst.CSTNode):
            node = q.anchor
            while True:  # down `source.tracks.all()` to `source`; a helper's call (`initialise_event(event)`) holds no row
                if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                    node = node.func.value
                elif isinstance(node, (cst.Attribute, cst.Subscript)):
                    node = node.value
                else:
                    break
            # (`self` is the object of the method the block is in, a form's as well as a model's: not read here)
            if isinstance(node, cst.Name) and node is not q.anchor and node.value[:1].islower() and node.value not in ("self", "cls"):
                rows.setdefault(node.value, None)
    # `scores = list(category.scores.all())`: a name holding what a judged query read
    held: dict = {}
    for n in descendants(body):
        if isinstance(n, cst.Assign) and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name):
            read = {id(t): t for x in descendants(n.value) if (t := tables.get(id(x))) is not None}
            if read:
                held[n.targets[0].target.value] = next(iter(read.values())) if len(read) == 1 else None
    for n in descendants(body):
        if isinstance(n, cst.For) and isinstance(n.target, cst.Name):
            it = n.iter
            read = {id(t): t for x in descendants(it) if (t := tables.get(id(x))) is not None}
            if read:
                rows[n.target.value] = next(iter(read.values())) if len(read) == 1 else None
            elif isinstance(it, cst.Name) and it.value in held:
                rows[n.target.value] = held[it.value]
            elif isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and it.func.attr.value in _QS_METHODS:
                rows[n.target.value] = None
    return rows


def _model_classes(index, schema) -> frozenset | None:
    """(module, class) of every model the schema knows and of each project base of one: what a row's method runs."""
    if index is None or schema is None:
        return None
    if "model_classes" not in index.memo:
        out = set()
        for m in schema.models.values():
            s = index.by_rel.get(m.path)
            if s is not None and m.name in s.classes:
                out.update((f.module, c.qualname) for f, c in index.class_chain(s.module, m.name))
        index.memo["model_classes"] = frozenset(out)
    return index.memo["model_classes"]


def _on_query(call: cst.Call, anchors: set[int]) -> bool:
    """`<query>.count()`, `<query>.values("pk")[:1]`: a method called on a query judged as a site."""
    node = call.func.value if isinstance(call.func, cst.Attribute) else None
    while node is not None:
        if id(node) in anchors:
            return True
        node = node.func if isinstance(node, cst.Call) else node.value if isinstance(node, (cst.Attribute, cst.Subscript)) else None
    return False


def _declared_cross_tenant(config: Config, rel: str, function: str, summary) -> str:
    """How `function` of `rel` is declared cross-tenant (configuration, or the marker on its `def` line or on the
    `def` of the function it is nested in, read into the project index); "" when it is not."""
    found = configured(config.cross_tenant, rel, function)
    if found or summary is None:
        return found
    parts = function.split(".")
    for i in range(len(parts), 0, -1):
        fs = summary.functions.get(".".join(parts[:i]))
        if fs is not None and fs.cross_tenant is not None:
            return fs.cross_tenant or "marked cross-tenant"
    return ""


def _gap(function: str, summary, contexts) -> str:
    """Where the context-less path to a function starts; "" when it is inside a tenant context."""
    if summary is None or contexts is None:
        return "code tenantlint cannot place in the project index"
    parts = function.split(".")
    for i in range(len(parts), 0, -1):
        qual = ".".join(parts[:i])
        fs = summary.functions.get(qual)
        if fs is not None:
            if any(d.rsplit(".", 1)[-1] == "scopes_disabled" for d in fs.decorators):
                return ""  # the bypass is TL202's
            inside, why = contexts.inside(f"{summary.module}:{qual}")
            return "" if inside else why
    # module or class level (a view's `queryset = ...` runs when a request uses it), or a function the index
    # does not list: request code, inside when a middleware binds every request
    if contexts.middleware and not operator_entry(summary.rel):
        return ""
    return "module-level code" if function == "<module>" else f"{function} (not a function the project index lists)"


def _inside_binder_blocks(tree: cst.Module, binders: set[str]) -> set[int]:
    """Ids of every node inside a `with <binder>(...)` block (or `async with`)."""
    inside: set[int] = set()
    if not binders:
        return inside
    stack: list[cst.CSTNode] = [tree]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.With) and any(
            isinstance(item.item, cst.Call) and (dotted_name(item.item.func) or "").rsplit(".", 1)[-1] in binders for item in n.items
        ):
            body = [n.body]
            while body:
                b = body.pop()
                inside.add(id(b))
                body.extend(children(b))
            continue
        stack.extend(children(n))
    return inside
