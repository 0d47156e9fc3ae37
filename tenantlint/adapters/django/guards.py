"""A fetch followed by a tenant check before the row is used (TL107 query-then-check): a mismatch exit, a
membership lookup, an object-permission gate, a check in a project helper."""
from __future__ import annotations

import libcst as cst

from tenantlint.context.entry import RAISING_PERMISSION_CHECKS
from tenantlint.python_module import dotted_name, names_in
from tenantlint.adapters.syntax import _body, _code, _is_none, _calls, _exits, _negated_equality
from tenantlint.adapters.django.lookups import _is_requesting_user, _privileged_test


class Guards:
    def guard_after(self, stmt, rest: list) -> tuple[str, str] | None:
        """`obj = <fetch>` followed by a tenant check before the object is used: `if obj.<tenant> != <value>:
        return/raise`, `assert obj.<tenant> == <value>`, or a membership lookup that raises unless the requesting user
        belongs to the row's tenant (`get_object_or_404(Member, project=obj.project, user=request.user)`), possibly
        after early returns for the requesting user (`if request.user.is_superuser: return obj`).
        (the text of the check, the attribute of obj it reads), else None."""
        name = _fetched_name(stmt) if rest else None
        if name is None:
            return None
        gate = _permission_gates(rest, name)
        if gate:
            return gate, ""
        for i, nxt in enumerate(rest[:6]):
            if isinstance(nxt, cst.Try) and _body(nxt.body):  # try: check(row, user) except NoPermission: raise ...
                nxt = _body(nxt.body)[0]
            found = (self._mismatch_exit(nxt, name) or _membership_check(nxt, name) or _permission_call(nxt, name)
                     or _permission_exit(nxt, name) or self.guard_in_helper(nxt, name)
                     or self.predicate_gate(nxt, rest[i + 1 :], name) or self.tenant_or_gate(nxt, rest[i + 1 :], name))
            if found is not None:
                return found
            if not any(n.value == name for n in names_in(nxt)):
                continue  # a statement that does not touch the row (`has_user_message = lambda: ...`)
            if not (_principal_shortcut(nxt, name) or _not_found_exit(nxt, name)):
                return None
        return None

    def _mismatch_exit(self, nxt, name: str) -> tuple[str, str] | None:
        test, exits = None, False
        if isinstance(nxt, cst.If) and nxt.orelse is None:
            test, exits = nxt.test, _exits(_body(nxt.body))
            # `if not obj.parent or obj.parent.project_id != project_id: return None`: the mismatch alone leaves too
            mismatches = [t for t in (_negated_equality(o) for o in _operands(test, cst.Or)) if t is not None]
            test = mismatches[0] if len(mismatches) == 1 else None
        elif isinstance(nxt, cst.SimpleStatementLine) and len(nxt.body) == 1 and isinstance(nxt.body[0], cst.Assert):
            test, exits = nxt.body[0].test, True
        if test is None or not exits or not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
            return None
        return _row_comparison(test, name)

    def tenant_or_gate(self, stmt, following: list, name: str) -> tuple[str, str] | None:
        """`if share_link_valid(recipe, token) or (is_guest(user) and recipe.space == request.space): return render(...)`
        and then leaving without the row: every way into the branch either compares the row's tenant with a value
        (`recipe.space == request.space`) or hands the row to a project function that checks it (a share link's
        token); at least one compares the tenant. A way in that does neither (`recipe.public`, `True`) is no gate."""
        if not isinstance(stmt, cst.If) or stmt.orelse is not None or not _exits(_body(stmt.body)):
            return None
        if not following or not _exits(following[:1]) or any(n.value == name for n in names_in(following[0])):
            return None  # the row must go nowhere after the branch
        ways = _operands(stmt.test, cst.Or)
        if len(ways) < 2:
            return None
        compared = None
        for way in ways:
            parts = _operands(way, cst.And)
            equality = next((e for e in (_tenant_equality(p, name) for p in parts) if e is not None), None)
            if equality is not None:
                compared = compared or equality
                continue
            if not any(isinstance(p, cst.Call) and self.index is not None and self.row_parameter(p, name) is not None for p in parts):
                return None
        if compared is None:
            return None
        return f"{compared[0]}, or a project check handed the row, on every way into the `if`", compared[1]


def _tenant_equality(test: cst.BaseExpression, name: str) -> tuple[str, str] | None:
    """`recipe.space == request.space` (either side): the row's attribute and a value that is not a literal, nor the row's."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, cst.Equal)):
        return None
    if _read_from(test.left, name) and _read_from(test.comparisons[0].comparator, name):
        return None
    return _row_comparison(test, name)


def _row_comparison(test: cst.Comparison, name: str) -> tuple[str, str] | None:
    """A comparison of one operator between an attribute of the row held in `name` and a value that is no literal:
    its text, and the attribute compared. That attribute names the tenant: the row's own (`obj.project_id`,
    `obj.project.id`), or the same key of the object it hangs on (`obj.content_object.project_id`)."""
    left, right = test.left, test.comparisons[0].comparator
    if not _read_from(left, name):
        left, right = right, left
    if not _read_from(left, name) or isinstance(right, (cst.SimpleString, cst.Integer)) or _is_none(right):
        return None
    attr = left.attr.value
    if attr in ("id", "pk") and isinstance(left.value, cst.Attribute):
        attr = left.value.attr.value
    return " ".join(_code(test).split()), attr


def _permission_exit(stmt, name: str) -> tuple[str, str] | None:
    """`if not permission.has_object_permission(request, view, obj): raise PermissionDenied()`, also inside a loop over
    a list of permission objects (`for permission in [RecipePermission()]:`), as DRF's check_object_permissions runs
    its permission classes: the row's object permission decides before the row is used."""
    if isinstance(stmt, cst.For) and isinstance(stmt.iter, (cst.List, cst.Tuple)) and stmt.orelse is None:
        inner = _body(stmt.body)
        if len(inner) != 1:
            return None
        stmt = inner[0]
    if not isinstance(stmt, cst.If) or stmt.orelse is not None or not _exits(_body(stmt.body)):
        return None
    test = stmt.test
    if not (isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not) and isinstance(test.expression, cst.Call)):
        return None
    call = test.expression
    if not _permission_on(call, name):
        return None
    return " ".join(_code(call).split()), ""


def _read_from(node: cst.BaseExpression, name: str) -> bool:
    """`obj.project_id`, `obj.content_object.project_id`: an attribute read from the row held in `name`."""
    if not isinstance(node, cst.Attribute):
        return False
    root = node.value
    while isinstance(root, cst.Attribute):
        root = root.value
    return isinstance(root, cst.Name) and root.value == name


def _operands(test: cst.BaseExpression, operator: type) -> list[cst.BaseExpression]:
    """The operands of a chain of `or` (operator cst.Or) or of `and` (cst.And); the test itself otherwise."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, operator):
        return _operands(test.left, operator) + _operands(test.right, operator)
    return [test]


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


_OBJECT_PERMISSIONS = {"has_perm", "has_object_permission", "check_object_permissions", "has_object_perm"}


def _permission_call(stmt, name: str) -> tuple[str, str] | None:
    """`self.check_object_permissions(request, obj)` (DRF) or `self.check_permissions(request, "update", obj)`: the
    view's permission classes judge the row and raise when the user may not act on it."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1 or not isinstance(stmt.body[0], cst.Expr):
        return None
    call = stmt.body[0].value
    if not isinstance(call, cst.Call) or (dotted_name(call.func) or "").rsplit(".", 1)[-1] not in RAISING_PERMISSION_CHECKS:
        return None
    if not any(a.keyword is None and isinstance(a.value, cst.Name) and a.value.value == name for a in call.args):
        return None
    return " ".join(_code(call).split()), ""


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
        calls = [c for c in _calls(stmt.test) if _permission_on(c, name)]
        if not calls or name in {n.value for n in names_in(stmt.test) if not any(n is a.value for c in calls for a in c.args)}:
            return ""
        first = first or " ".join(_code(calls[0]).split())
    return first


def loop_gate(stmt) -> str:
    """`for speaker in <query>:` whose every use of the row sits in an `if` that an object permission on the row
    (`request.user.has_perm("...", speaker)`, or on an object it holds: `speaker.user`) or a comparison with the requesting
    user (`speaker.user == request.user`) lets in, joined with `and` to no more than truth tests of the row's attributes:
    each row of the loop is checked before anything of it is used. The text of the first check, else ""."""
    if not isinstance(stmt, cst.For) or stmt.orelse is not None or not isinstance(stmt.target, cst.Name):
        return ""
    name = stmt.target.value
    first = ""
    for inner in _body(stmt.body):
        if name not in {n.value for n in names_in(inner)}:
            continue
        if not isinstance(inner, cst.If) or inner.orelse is not None:
            return ""
        gate = ""
        for part in _operands(inner.test, cst.And):
            check = _row_permission(part, name) or (" ".join(_code(part).split()) if _principal_shortcut_test(part, name) else "")
            if check:
                gate = gate or check
            elif name in {n.value for n in names_in(part)} and not (_read_from(part, name) or isinstance(part, cst.Name)):
                return ""  # the row read in the test beyond a truth test of its attributes
        if not gate:
            return ""
        first = first or gate
    return first


def _row_permission(test: cst.BaseExpression, name: str) -> str:
    """`user.has_perm("app.view_thing", row)` / `has_object_permission(request, view, row.owner)`: the call's text."""
    return " ".join(_code(test).split()) if isinstance(test, cst.Call) and _permission_on(test, name, held=True) else ""


def _permission_on(call: cst.Call, name: str, held: bool = False) -> bool:
    """An object-permission call (`has_perm`, `has_object_permission`, ...) handed the row held in `name` (`held`: or
    an object read from it, `row.owner`)."""
    if (dotted_name(call.func) or "").rsplit(".", 1)[-1] not in _OBJECT_PERMISSIONS:
        return False
    return any(isinstance(a.value, cst.Name) and a.value.value == name or held and _read_from(a.value, name) for a in call.args)


def _principal_shortcut_test(test: cst.BaseExpression, name: str) -> bool:
    """`row.user == request.user` (either side, `==` or `is`): the row is the requesting user's own."""
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, (cst.Equal, cst.Is)):
        sides = (test.left, test.comparisons[0].comparator)
        return any(_is_requesting_user(x) for x in sides) and any((dotted_name(x) or "").startswith(f"{name}.") for x in sides)
    return False


def _principal_shortcut(stmt, name: str) -> bool:
    """An early return for a privileged requesting user (`if request.user.is_superuser: return check`) or one that owns
    the row's tenant (`if request.user.id == check.project.owner_id: return check`). `is_authenticated` and the like
    admit anyone, so they are no such shortcut."""
    if not isinstance(stmt, cst.If) or stmt.orelse is not None or not _exits(_body(stmt.body)):
        return False
    test = stmt.test
    if isinstance(test, cst.Attribute) and _privileged_test(test):
        return True
    return _principal_shortcut_test(test, name)


def _fetched_name(stmt) -> str | None:
    """`obj = <fetch>`, also as the last statement of a `try:` whose handlers all leave (`except DoesNotExist:
    raise NotFound`): the name the row is held in."""
    if isinstance(stmt, cst.Try) and stmt.orelse is None and stmt.finalbody is None and stmt.handlers:
        body = _body(stmt.body)
        if not body or not all(_exits(_body(h.body)) for h in stmt.handlers):
            return None
        stmt = body[-1]
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    a = stmt.body[0]
    if not (isinstance(a, cst.Assign) and len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Name)):
        return None
    return a.targets[0].target.value
