"""Which functions run inside a tenant context, from the project index alone (no parsing).

A function is inside when it enters a context itself (a parameter that depends on a binder, a binder decorator, a
`with binder(...)` block in its text), when a binding middleware runs before every request (Django
`settings.MIDDLEWARE`), or when every call site of it in the project is inside. A binder is a function whose text
runs `set_config('app.…', …, true)` or `SET LOCAL app.… = …`, django-scopes' `scope`, or a name in `tenant-contexts`.
What starts a context-less path is named: a task, a management command, a route, a function nobody calls.
"""
from __future__ import annotations

import ast
import re

from tenantlint.python_module import operator_entry

_BINDS = re.compile(r"set_config\s*\(\s*'[^']*'\s*,[^)]*?,\s*true\s*\)|\bset\s+local\s+[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", re.IGNORECASE)
_TASK_DECORATORS = ("task", "shared_task", "periodic_task", "cron", "job", "actor")
_ROUTE_VERBS = frozenset({"get", "post", "put", "patch", "delete", "api_route", "route", "websocket"})


def is_route(decorator: str) -> bool:
    """`app.get`, `router.post`, `bp.route`: a decorator (dotted name) that makes a function a web route."""
    return "." in decorator and decorator.rsplit(".", 1)[-1] in _ROUTE_VERBS


def project_binders(index) -> dict[str, str]:
    """The tenant-context binders the project's code shows, a name as called -> what it is: functions whose text binds
    a setting for the transaction, and django-scopes' `scope` under the names the project imports it as."""
    if "binders" not in index.memo:
        found: dict[str, str] = {}
        for s in index.files.values():
            for fn in s.functions.values():
                src = fn.source
                # (the substrings first: the case-blind pattern over every function of a large project is a tenth of a second)
                if src and ("set_config" in src or "local" in src or "LOCAL" in src or "Local" in src) and _BINDS.search(src):
                    found[fn.qualname.rsplit(".", 1)[-1]] = f"{s.module}.{fn.qualname}"
            for local, qualified in s.imports.items():
                if qualified in ("django_scopes.scope", "django_scopes.scopes.scope"):
                    found[local] = "django-scopes scope()"
        index.memo["binders"] = found
    return index.memo["binders"]


def binders(index, config) -> dict[str, str]:
    """project_binders() and the names configuration lists in `tenant-contexts`."""
    found = dict(project_binders(index))
    for declared in config.tenant_contexts:
        found[declared.lstrip("@").rsplit(".", 1)[-1]] = declared
    return found


class ContextIndex:
    def __init__(self, index, config):
        self.index = index
        self.config = config
        self.binders: dict[str, str] = binders(index, config)  # a name as called -> what it is
        self.middleware = self._binding_middleware()
        self.request_hook = self._binding_hook()
        self._with = re.compile(r"\bwith\b[^\n:]*?\b(?:[\w.]+\.)?(" + "|".join(map(re.escape, self.binders)) + r")\s*\(") if self.binders else None
        self._memo: dict[str, tuple[bool, str]] = {}

    # -- what a function does itself

    def entry(self, s, fn, blocks: bool = True) -> str:
        """How the function enters a tenant context itself, or "". `blocks`: a `with binder(...)` anywhere in its
        text counts (for a caller: the call is taken to be inside the block; a query's own function is checked
        lexically instead)."""
        for _param, default in fn.defaults:
            name = _depends_on(default)
            if name and name in self.binders:
                return f"depends on {name}"
        aliases = dict(s.constants)  # `TenantDB = Annotated[Session, Depends(get_tenant_session)]`
        for _param, ann in fn.annotations:
            name = _depends_on(aliases.get(ann.strip(), ann))
            if name and name in self.binders:
                return f"depends on {name}"
        for d in fn.decorators:
            if d.rsplit(".", 1)[-1] in self.binders:
                return f"decorated with @{d}"
        if blocks and self._with is not None and fn.source and self._with.search(fn.source):
            return "opens a tenant context"
        return ""

    def job(self, s, fn) -> str:
        """What runs the function when no request does: a task, a management command; "" otherwise."""
        if operator_entry(s.rel):
            return f"the operator command manage.py {s.rel.rsplit('/', 1)[-1].removesuffix('.py')}"
        for d in fn.decorators:
            if d.rsplit(".", 1)[-1] in _TASK_DECORATORS:
                return f"a task (@{d})"
            if d.rsplit(".", 1)[-1] == "command" and ("cli" in d or "click" in d or "typer" in d or d == "command"):
                return f"a command-line command (@{d})"
        return ""

    def route(self, fn) -> str:
        for d in fn.decorators:
            if is_route(d):
                plain = [default for _p, default in fn.defaults if _depends_on(default)]
                return f"the route {fn.qualname}" + (f", whose {_depends_on(plain[0])} binds no tenant" if plain else "")
        return ""

    # -- reachability

    def inside(self, function_id: str) -> tuple[bool, str]:
        """(inside, why) for code of the function outside any `with binder(...)` block of its own: how it is inside
        a context, or from where a context-less path starts."""
        found = self.index.function(function_id)
        if found is not None and not self.entry(*found, blocks=False) and self.entry(*found):
            # it opens a context somewhere, but this code is not in that block: judge it by its callers only
            return self._by_callers(function_id, *found, ())
        return self._inside(function_id, ())

    def _inside(self, fid: str, stack: tuple) -> tuple[bool, str]:
        if fid in self._memo:
            return self._memo[fid]
        found = self.index.function(fid)
        if found is None:
            return False, f"{fid.partition(':')[2]} (not found in the project index)"
        s, fn = found
        how = self.entry(s, fn)
        if how:
            return self._keep(fid, True, how)
        ok, why = self._by_callers(fid, s, fn, stack)
        return self._keep(fid, ok, why)

    def _by_callers(self, fid: str, s, fn, stack: tuple) -> tuple[bool, str]:
        job = self.job(s, fn)
        if self.middleware and not job:
            return True, f"every request passes {self.middleware}"
        if self.request_hook and not job and self.route(fn):
            return True, f"every request runs {self.request_hook} first"
        callers = [c for c in self.index.callers(fid) if f"{self.index.by_rel[c[0]].module}:{c[1]}" not in stack]
        if not callers:
            return False, job or self.route(fn) or f"{fn.qualname}, which nothing in the project calls inside a tenant context"
        for rel, caller, _via_self in callers:
            ok, why = self._inside(f"{self.index.by_rel[rel].module}:{caller}", stack + (fid,))
            if not ok:
                return False, why
        return True, "every caller runs inside a tenant context"

    def _keep(self, fid: str, ok: bool, why: str) -> tuple[bool, str]:
        self._memo[fid] = (ok, why)
        return ok, why

    def _binding_middleware(self) -> str:
        """A middleware in settings.MIDDLEWARE whose methods bind a tenant context (every view is then inside)."""
        for s in sorted(self.index.files.values(), key=lambda s: s.rel):
            if "settings" not in s.module:
                continue
            for name, value in s.constants:
                if name != "MIDDLEWARE":
                    continue
                try:
                    entries = ast.literal_eval(value)
                except (ValueError, SyntaxError):
                    continue
                for entry in entries if isinstance(entries, (list, tuple)) else ():
                    found = self.index.split_qualified(entry) if isinstance(entry, str) else None
                    if found is None:
                        continue
                    target, parts = found
                    cls = ".".join(parts)
                    if parts and parts[0] not in target.classes:  # re-exported by a package: follow the import
                        defined = self.index.lookup(target.module, cls)
                        if defined is None or not defined[1]:
                            continue
                        target, cls = defined
                    for qual, fn in target.functions.items():
                        if (qual == cls or qual.startswith(cls + ".")) and fn.source and (_BINDS.search(fn.source) or (self._scope_call(target, fn.source))):
                            return entry
        return ""

    def _binding_hook(self) -> str:
        """A Flask `before_request` hook that binds a tenant context (every route is then inside)."""
        for s in sorted(self.index.files.values(), key=lambda s: s.rel):
            for qual, fn in s.functions.items():
                if any(d.rsplit(".", 1)[-1] == "before_request" for d in fn.decorators) and fn.source:
                    calls_binder = any(c.rsplit(".", 1)[-1] in self.binders for c in fn.calls)
                    if _BINDS.search(fn.source) or calls_binder:
                        return f"{s.module}.{qual}"
        return ""

    @staticmethod
    def _scope_call(s, source: str) -> bool:
        names = [local for local, q in s.imports.items() if q in ("django_scopes.scope", "django_scopes.scopes.scope")]
        return any(re.search(rf"\b{re.escape(n)}\s*\(", source) for n in names)

    def digest(self, rel: str) -> str:
        """What a file's context verdicts depend on elsewhere: the verdict of each of its functions."""
        s = self.index.by_rel.get(rel)
        if s is None:
            return ""
        return repr(sorted((q, self.inside(f"{s.module}:{q}")) for q in s.functions))


def _depends_on(source: str) -> str:
    """`Depends(get_tenant_session)` -> "get_tenant_session" (also inside `Annotated[...]`)."""
    m = re.search(r"\bDepends\(\s*([\w.]+)", source)
    return m.group(1).rsplit(".", 1)[-1] if m else ""
