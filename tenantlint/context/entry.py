"""Code that install-wide staff run, not a tenant's users: admin-only views.

Queries there reach every tenant on purpose, like a management command's; they are reported at note level, with
"(in an admin-only view)" in the message. A view is admin-only when
- a decorator lets only staff or superusers through: Django admin's `staff_member_required` and `@admin.action` (an
  action of the admin site), `user_passes_test(lambda u: u.is_superuser)`, or a project decorator whose text leaves
  unless the user `is_staff` / `is_superuser` (`if not request.user.is_staff: return redirect(...)`);
- its class is a Django admin class (`admin.ModelAdmin`, inlines, `AdminSite`, `@admin.register(...)`, `UserAdmin`),
  or a DRF view whose `permission_classes` are `IsAdminUser` alone;
- its class's `has_permission()` / `test_func()` returns a staff flag of the requesting user, or, when it defines
  neither, its `permission_required` names a django-rules permission whose predicate does (`ProjectIndex.staff_view`).
  A staff flag is `is_staff`, `is_superuser`, or a field of the project's user model named as an administrator flag
  (`is_administrator`, `is_site_admin`) when that model belongs to no tenant (`staff_flags`);
- it is a middleware branch taken only for the admin site's path (tenant_context's `_admin_path_test`).
A tenant's own administrators (`is_realm_admin`, `is_owner`, a role) are no such staff: their views stay requests.
A function whose every call in the project comes from such views is "(in an admin-only function ...)".

Code only a scheduler runs is the same kind of entry ("(in an unattended scheduled task)"): a task a Celery beat
schedule names, a function decorated as a periodic task, and a function whose every call in the project comes from
such code (`ProjectIndex.scheduled_only`). A task that requests queue with arguments (`task.delay(org_id)`) is not one.

A read in an ORM event hook (SQLAlchemy's `@event.listens_for(...)`, `event.listen(..., fn)`) is a note too: the ORM
calls it with the rows of a flush or load, not a request. Its writes stay findings.

In a queued task, the row it loads by the id it was given and then takes its tenant context from (`row =
Model.objects.get(pk=row_id)`, then `with scope(event=row.event):`) is a note as well (`task_tenant_rows`): the task
has no tenant before that row gives it one; the code that queues it chooses the id.
"""
from __future__ import annotations

import re

import libcst as cst

from tenantlint.python_module import OPERATOR_COMMAND, descendants, dotted_name

ADMIN_ONLY = "admin-only view"
ADMIN_CALLED = "admin-only function: only admin-only views call it"
# code only a scheduler runs (a Celery beat task, a periodic task, and what only they call): across tenants on purpose
SCHEDULED = "unattended scheduled task"
# code that only operator commands (a CLI command, a Django management command) and scheduled tasks call: an operator or
# the scheduler runs it across tenants on purpose, with values they choose
OPERATOR_CALLED = "operator-only function: only command-line commands and scheduled tasks call it"
# a command-line command itself (`@click.command(...)`) is an OPERATOR_COMMAND, as a Django management command is by its path
# a number over every tenant's rows (`.count()`, `.aggregate()`), in a function given nothing that could pick them
INSTALL_WIDE_COUNT = "install-wide count: the function is given nothing that could pick the rows"
# reads and writes over every tenant's rows in a function given nothing but a database handle that returns nothing:
# a repair or clean-up run over the whole install (`def fix_dangling_refs(session): for user in session.query(User)...`)
MAINTENANCE = "install-wide maintenance function: it is given only a database handle and returns nothing"
# a read in a function the ORM calls on its events (`@event.listens_for(Session, "after_flush")`, `event.listen(Model,
# "after_insert", fn)`): it runs inside the flush or load of rows some code already wrote or read, with the session and
# those rows as its arguments; no request hands it a value. Its writes stay findings, like any code's
ORM_HOOK = "ORM event hook: the ORM calls it with the session and the rows it flushes or loads, and no request hands it a value"
# SQL that reads a table only for the largest key, to set a sequence (`SELECT setval('t_id_seq', (SELECT MAX(id) FROM t))`):
# one number over every tenant's rows, which goes into the sequence, not to a caller
SEQUENCE_RESET = "sequence reset: the statement reads only the largest key of every tenant's rows, to set a sequence to it"
# a lookup by a value of a column unique across the install (not the key) whose answer is only a yes or no
# (`.exists()`, `if repo.get_by_username(name): raise Conflict()`): whether a username, e-mail or slug is taken, which
# the unique constraint tells anyone who tries to use it anyway
AVAILABILITY_CHECK = "availability check: it only asks whether a value of a column unique across the install is taken, which the unique constraint answers to anyone who tries it"
# an endpoint that leaves unless the request carries an install-wide secret from the settings
# (`if request.headers.get("X-Metrics-Key") != settings.METRICS_KEY: return HttpResponseForbidden()`)
OPERATOR_KEY = "operator endpoint: only a caller holding the install's secret from the settings gets past its first check"
# a module function with no parameter a caller must pass and no decorator, that no code of the project calls by name:
# no request hands it anything, and no request path the index sees runs it (a job started from a shell, cron or a worker, or dead code)
UNCALLED_JOB = "uncalled job: nothing in the project calls it or must hand it a value"
# a Celery task nothing in the project queues, schedules or calls: no worker runs it, as far as the project shows
UNQUEUED_TASK = "unqueued task: nothing in the project queues, schedules or calls it"
# a method of a class built on project classes only (no framework base calls it by convention) that nothing calls by name
UNCALLED_METHOD = "uncalled method: nothing in the project calls it by name, and its class has no framework base that could"
# a serializer's `validate_<field>()` asking whether rows belong to the tenant (or object) given with the data
VALIDATOR_CHECK = "existence check of a validator: it asks whether the rows belong to the tenant given with the data, and its answer only accepts or rejects them"
# a serializer's `validate_<field>()` that REST framework never calls: no class built on it declares the field
UNREACHABLE_HOOK = "unreachable validate_ hook: no serializer built on it declares the field"
# a row a queued task loads by the id it was given, then takes its tenant context from
# (`template = MailTemplate.objects.get(pk=template_id)` then `with scope(event=template.event):`): the task has no tenant
# until that row gives it one, so no tenant filter could be written; whether the id was the requester's is decided
# where the task is queued
TASK_TENANT_ROW = "queued task's tenant lookup: the task takes its tenant context from this row, and the code that queues the task chooses the id"
# what makes a function a queued task (`@shared_task`, `@app.task(...)`, dramatiq's `@actor`)
_QUEUED_TASK = {"task", "shared_task", "actor"}

# `if not request.user.is_staff:` / `if not user.is_superuser:` followed by leaving, in a decorator's text
_STAFF_TEST = re.compile(r"\bif\s+not\s+[\w.]*\b(?:is_staff|is_superuser)\s*:")
_STAFF_DECORATORS = {"staff_member_required", "superuser_required"}
_STAFF_ATTR = re.compile(r"\.(?:is_staff|is_superuser)\b")
# an administrator flag on a user model that belongs to no tenant: only install-wide staff can hold it
_ADMIN_FLAG = re.compile(r"(?:is_)?(?:super_?user|staff|(?:site_|system_|global_|instance_|server_|platform_)?admin(?:istrator)?)")
_ADMIN_BASES = {"ModelAdmin", "TabularInline", "StackedInline", "InlineModelAdmin", "AdminSite"}
# a view's permission check handed an object, raising unless the user may act on it (DRF, and projects that follow it)
RAISING_PERMISSION_CHECKS = frozenset({"check_object_permissions", "check_permissions", "check_object_permission"})


def orm_hooks(tree: cst.Module, qualify) -> frozenset[str]:
    """Names of the module's functions SQLAlchemy calls on its events: decorated `@event.listens_for(target, "name")`
    (or `@listens_for`), or handed to `event.listen(target, "name", fn)` at module level."""
    def is_sqlalchemy(func: cst.BaseExpression, last: str) -> bool:
        name = dotted_name(func) or ""
        if name.rsplit(".", 1)[-1] != last:
            return False
        q = qualify(func) or ""
        return q.startswith("sqlalchemy.") or name in (f"event.{last}", f"sa.event.{last}", f"sqlalchemy.event.{last}")

    found = set()
    for stmt in tree.body:
        if isinstance(stmt, cst.FunctionDef) and any(
                isinstance(d.decorator, cst.Call) and is_sqlalchemy(d.decorator.func, "listens_for") for d in stmt.decorators):
            found.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                call = small.value if isinstance(small, cst.Expr) else None
                if isinstance(call, cst.Call) and is_sqlalchemy(call.func, "listen") and len(call.args) >= 3 \
                        and isinstance(call.args[2].value, cst.Name):
                    found.add(call.args[2].value.value)
    return frozenset(found)


def sequence_entry(sequence: bool, unscoped: bool) -> str:
    """SEQUENCE_RESET for an unrestricted read of a table that SQL reads only for the key it sets a sequence to
    (`TableVerdict.sequence`); "" otherwise."""
    return SEQUENCE_RESET if sequence and unscoped else ""


def caller_entry(index, function_id: str) -> str:
    """What runs a function that no request reaches through its callers: only the scheduler (SCHEDULED), only views
    install-wide staff pass (ADMIN_CALLED), or only command-line commands, management commands and the scheduler
    (OPERATOR_COMMAND for such a command itself, OPERATOR_CALLED for what they call); "" otherwise."""
    if index.scheduled_only(function_id):
        return SCHEDULED
    if index.staff_only(function_id):
        return ADMIN_CALLED
    if index.unattended_only(function_id):
        return OPERATOR_COMMAND if function_id in index.operator_commands() else OPERATOR_CALLED
    return ""


def staff_flags(schema) -> frozenset[str]:
    """The user's attributes only install-wide staff have: Django's `is_staff` and `is_superuser`, and a field of the
    project's user model named as an administrator flag (`is_administrator`, `is_site_admin`, `superuser`) when that
    model belongs to no tenant; on a tenant's own users such a flag may be the tenant's administrator, so it is not one."""
    flags = {"is_staff", "is_superuser"}
    info = schema.models.get(schema.user_model) if schema.user_model else None
    if info is not None and info.tenant is None and not info.is_root:
        flags.update(c.attr or c.name for c in info.columns if _ADMIN_FLAG.fullmatch(c.attr or c.name))
    return frozenset(flags)


def staff_decorator(decorator: cst.Decorator, module_id: str, index) -> bool:
    """Whether `decorator` admits only install-wide staff (see the module docstring)."""
    node = decorator.decorator
    func = node.func if isinstance(node, cst.Call) else node
    name = dotted_name(func) or ""
    last = name.rsplit(".", 1)[-1]
    if last in _STAFF_DECORATORS:
        return True
    if last == "action" and (name == "admin.action" or (index is not None and index.qualify(module_id, name) == "django.contrib.admin.action")):
        return True  # a Django admin action: only the admin site's staff run it
    if last == "user_passes_test" and isinstance(node, cst.Call) and node.args:
        test = node.args[0].value
        if isinstance(test, cst.Lambda):
            text = cst.Module(body=[]).code_for_node(test.body)
            return bool(_STAFF_ATTR.search(text)) and " or " not in f" {text} "
        return False
    if not name or index is None:
        return False
    r = index.resolve_call(module_id, None, name)
    source = r.function.source if r is not None else None
    return bool(source) and bool(_STAFF_TEST.search(source))


def staff_dependency(node: cst.FunctionDef, module_id: str, index) -> bool:
    """A FastAPI route that depends on a project function letting only staff or superusers through: a parameter
    `user = Depends(get_current_active_superuser)` (also inside `Annotated[...]`) or `dependencies=[Depends(...)]` on its
    route decorator, where the dependency's text leaves unless the user `is_superuser` / `is_staff`."""
    if index is None:
        return False
    found = []
    for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
        for part in (p.default, p.annotation.annotation if p.annotation is not None else None):
            if part is not None:
                found.extend(_depends(part))
    for d in node.decorators:
        if isinstance(d.decorator, cst.Call):
            for a in d.decorator.args:
                if a.keyword is not None and a.keyword.value == "dependencies":
                    found.extend(_depends(a.value))
    for name in found:
        r = index.resolve_call(module_id, None, name)
        source = r.function.source if r is not None else None
        if source and _STAFF_TEST.search(source):
            return True
    return False


def _depends(node: cst.CSTNode) -> list[str]:
    """The functions named in `Depends(f)` calls inside `node`."""
    return [name for n in descendants(node)
            if isinstance(n, cst.Call) and (dotted_name(n.func) or "").rsplit(".", 1)[-1] == "Depends" and n.args
            and (name := dotted_name(n.args[0].value))]


def staff_class(node: cst.ClassDef, qualify) -> bool:
    """A Django admin class (registered with `@admin.register(...)`, or derived from an admin class of Django's:
    `ModelAdmin`, inlines, `UserAdmin` of django.contrib.auth.admin), or a DRF view whose permission classes are
    `IsAdminUser` alone."""
    for d in node.decorators:
        target = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
        if (qualify(target) or dotted_name(target) or "") in ("django.contrib.admin.register", "admin.register"):
            return True
    for base in node.bases:
        q = qualify(base.value) or dotted_name(base.value) or ""
        if q.rsplit(".", 1)[-1] in _ADMIN_BASES and ("admin" in q.split(".")[:-1] or q.startswith("django.contrib.admin")):
            return True
        if q.startswith("django.contrib.") and ".admin." in f"{q}." and q.rsplit(".", 1)[-1].endswith("Admin"):
            return True  # django.contrib.auth.admin.UserAdmin, GroupAdmin
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for stmt in body:
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)):
            continue
        a = stmt.body[0]
        if not any(isinstance(t.target, cst.Name) and t.target.value == "permission_classes" for t in a.targets):
            continue
        if isinstance(a.value, (cst.List, cst.Tuple)) and len(a.value.elements) == 1:
            return (dotted_name(a.value.elements[0].value) or "").rsplit(".", 1)[-1] == "IsAdminUser"
    return False


def task_tenant_rows(tree: cst.Module, binders) -> list[cst.Call]:
    """The expression of each `row = <query>` in a queued task whose row then opens the task's tenant
    context: `with scope(event=row.event):`, `with tenant_context(row.organization):`, `set_tenant(row.org)` (a
    binder of the project's, django-scopes' `scope`, or one named in `tenant-contexts`). The query is the expression
    assigned; a site anchored inside it is that row's read."""
    if not binders:
        return []
    out: list[cst.Call] = []
    for node in descendants(tree):
        if not isinstance(node, cst.FunctionDef) or not any(
                (dotted_name(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) or "").rsplit(".", 1)[-1] in _QUEUED_TASK
                for d in node.decorators):
            continue
        bound: set[str] = set()  # names whose row (or an attribute of it) a binder is given
        assigned: dict[str, list[cst.BaseExpression]] = {}
        for n in descendants(node.body):
            if isinstance(n, cst.Call) and (dotted_name(n.func) or "").rsplit(".", 1)[-1] in binders:
                for a in n.args:  # `scope(event=template.event)`, `tenant_context(organization)`
                    head = (dotted_name(a.value) or "").partition(".")[0]
                    if head:
                        bound.add(head)
            elif isinstance(n, cst.Assign) and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name):
                assigned.setdefault(n.targets[0].target.value, []).append(n.value)
        for name in bound:
            values = assigned.get(name, [])
            if len(values) == 1 and isinstance(values[0], cst.Call):
                out.append(values[0])
    return out
