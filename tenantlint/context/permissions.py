"""Whether a REST framework view lets a request in without a login, read from its permission classes.

This matters where a middleware hands anonymous requests on inside django-scopes' `scopes_disabled()`: a view that
admits such requests runs them with every scoped manager unfiltered, whatever its own code says.

A view's permission classes are its `permission_classes` (the class's or a base's; `@permission_classes([...])` on a
function view), else the settings' `REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]`. A list admits a request when every
entry does; `A & B` when both do, `A | B` when either does. A class admits one without a login when
- it is REST framework's `AllowAny`, `IsAuthenticatedOrReadOnly` or `DjangoModelPermissionsOrAnonReadOnly`;
- it is a project class whose `has_permission` has a `return` reached without testing the user whose value, or one
  of its `or` parts, names no user (`return share and request.method in SAFE_METHODS`, `return True`);
- it is a project class that leaves `has_permission` to `BasePermission`, which admits every request.
Anything else (`IsAuthenticated`, a class of an installed package, `super().has_permission(...)`, `~A`) is taken to
require a login: the answer errs toward the view being protected, so that it never adds a finding on a guess.
"""
from __future__ import annotations

import ast

from tenantlint.index.summary import dedent_source

# REST framework's own classes: whether each admits a request without a login
_KNOWN = {
    "AllowAny": True,
    "IsAuthenticatedOrReadOnly": True,
    "DjangoModelPermissionsOrAnonReadOnly": True,
    "BasePermission": True,
    "IsAuthenticated": False,
    "IsAdminUser": False,
    "DjangoModelPermissions": False,
    "DjangoObjectPermissions": False,
}
_USER_WORDS = ("user", "is_authenticated", "is_anonymous", "is_staff", "is_superuser")


def view_admission(index, module: str, cls: str | None, decorator_source: str | None = None) -> str | None:
    """Why the view (a class `cls` of `module`, or a function view whose `@permission_classes(...)` argument is
    `decorator_source`) admits a request without a login, or None when it requires one or cannot be told."""
    memo = index.memo.setdefault("view_admission", {})
    key = (module, cls, decorator_source)
    if key not in memo:
        memo[key] = _view_admission(index, module, cls, decorator_source)
    return memo[key]


def _view_admission(index, module: str, cls: str | None, decorator_source: str | None) -> str | None:
    source, where = decorator_source, module
    if source is None and cls is not None:
        found = index.class_attr(module, cls, "permission_classes")
        if found is not None:
            source, where = found[2], found[0].module
    if source is not None:
        try:
            tree = ast.parse(source.strip(), mode="eval").body
        except SyntaxError:
            return None
        return _expression(index, where, tree)
    defaults = index.setting_entry("REST_FRAMEWORK", "DEFAULT_PERMISSION_CLASSES")
    if not defaults:
        return None  # DRF's own default is AllowAny, but settings the index cannot read are no evidence of it
    reasons = [_class(index, "", name) for name in defaults]
    if all(reasons):
        return f"{reasons[0]} (the settings' DEFAULT_PERMISSION_CLASSES)"
    return None


def _expression(index, module: str, node: ast.expr) -> str | None:
    if isinstance(node, (ast.List, ast.Tuple)):
        reasons = [_expression(index, module, e) for e in node.elts]
        return next((r for r in reasons if "has_permission" in r), reasons[0]) if reasons and all(reasons) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd):
        left, right = _expression(index, module, node.left), _expression(index, module, node.right)
        return (left if "has_permission" in left else right) if left and right else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _expression(index, module, node.left) or _expression(index, module, node.right)
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = ast.unparse(node)
        return _class(index, module, name)
    return None


def _class(index, module: str, name: str) -> str | None:
    """Why the permission class `name` (written in `module`, or dotted from settings) admits a request without login."""
    memo = index.memo.setdefault("permission_class", {})
    key = (module, name)
    if key not in memo:
        memo[key] = None  # a class chain that comes back to itself admits nothing
        memo[key] = _class_uncached(index, module, name)
    return memo[key]


def _class_uncached(index, module: str, name: str) -> str | None:
    found = index.class_named(module, name)
    if found is None:
        last = index.qualify(module, name).rsplit(".", 1)[-1] if module else name.rsplit(".", 1)[-1]
        return f"{last} lets anyone in" if _KNOWN.get(last) else None
    target, qual = found
    r = index.method(target, qual, "has_permission")
    if r is None:
        for _, c in index.class_chain(target, qual):
            for base in c.bases:
                last = base.rsplit(".", 1)[-1]
                if index.class_named(target, base) is None and last in _KNOWN:
                    return f"{qual} keeps {last}.has_permission(), which lets anyone in" if _KNOWN[last] else None
        return None
    source = r.function.source
    if not source:
        return None
    try:
        fdef = ast.parse(dedent_source(source)).body[0]
    except (SyntaxError, IndexError):
        return None
    line = _open_return(fdef.body, False)
    if line is None:
        return None
    return f"{r.function.qualname}() at {r.file.rel}:{r.function.line + line - 1} returns true without testing the user"


def _open_return(body: list, tested: bool) -> int | None:
    """The line (relative to the `def`) of a `return` that may admit a request no user test has passed, or None."""
    for stmt in body:
        if isinstance(stmt, ast.Return):
            if not tested and stmt.value is not None and _admits(stmt.value):
                return stmt.lineno
            return None
        if isinstance(stmt, ast.If):
            branch_tested = tested or _names_user(stmt.test)
            found = _open_return(stmt.body, branch_tested)
            if found is None:
                found = _open_return(stmt.orelse, branch_tested)
            if found is not None:
                return found
            if _names_user(stmt.test):
                tested = True  # what follows a test of the user is reached by the users it let through
        elif isinstance(stmt, ast.Try):
            for part in (stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody):
                found = _open_return(part, tested)
                if found is not None:
                    return found
        elif isinstance(stmt, ast.Raise):
            return None
    return None


def _admits(value: ast.expr) -> bool:
    """Whether a returned value, or one of its `or` parts, may be true whoever (or nobody) is signed in."""
    parts = value.values if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or) else [value]
    for part in parts:
        if isinstance(part, ast.Constant):
            if part.value:
                return True
            continue
        if _names_user(part) or any(isinstance(n, ast.Call) and ast.unparse(n.func).startswith("super()") for n in ast.walk(part)):
            continue
        return True
    return False


def _names_user(node: ast.AST) -> bool:
    for n in ast.walk(node):
        word = n.id if isinstance(n, ast.Name) else n.attr if isinstance(n, ast.Attribute) else None
        if word is not None and any(w in word.lower() for w in _USER_WORDS):
            return True
    return False
