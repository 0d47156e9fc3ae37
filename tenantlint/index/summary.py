"""One Python file -> a FileSummary: what the project index needs to know of it, read with the standard `ast`.

`ast` parses several times faster than libcst and gives lines, columns and source segments, which is all the
index needs: top-level functions, classes with their bases, simple class attributes and methods, the module's
imports, and the calls each function makes. A function's source is kept so that a query helper can be judged
where it is called (its body is parsed with libcst only then, and only for the functions actually called).

Nothing here is a libcst type: summaries are pickled into the per-file cache and shipped to worker processes.
"""
from __future__ import annotations

import ast
import keyword
import re
import textwrap
import warnings
from dataclasses import dataclass, field

from tenantlint.context.places import REQUEST_PARTS, inline_marker

MAX_HELPER_LINES = 60  # a longer function is a view, a job or an action, not a helper worth judging per call


@dataclass(frozen=True, slots=True)
class FunctionSummary:
    qualname: str  # "get_stream" or "Stream.get_by_id"
    line: int  # line of `def`
    col: int  # 0-based column of `def` (the indent removed from `source`)
    end_line: int
    params: tuple[str, ...]  # positional-or-keyword parameters in order, `self` / `cls` included
    defaults: tuple[tuple[str, str], ...]  # (parameter, source of its default)
    vararg: str | None
    kwarg: str | None
    kwonly: tuple[str, ...]
    kind: str  # "function", "method", "classmethod", "staticmethod"
    decorators: tuple[str, ...]  # dotted names of the decorators
    annotations: tuple[tuple[str, str], ...]  # (parameter, annotation source)
    calls: tuple[str, ...]  # dotted names of the callees as written ("get_stream", "self.helper", "Model.get_by_id")
    source: str | None  # the `def` as written (decorators excluded; see dedent_source), None when too long to be a helper
    first_line: int = 0  # line of the first decorator, or of `def`
    called: frozenset = frozenset()  # every name written just before `(` in the body, methods after `)` included
    hints: frozenset = frozenset()  # "request", "fallback", "context", "scopes_off_response": what the body's text may hold
    cross_tenant: str | None = None  # the reason of a `# tenantlint: cross-tenant -- reason` on the `def` line
    # `__init__` only: `self.model = sql_model` (attribute, parameter) and the parameters it hands on to
    # `super().__init__(...)`: positional parameter names (None for anything else) and (keyword, parameter) pairs
    init_binds: tuple[tuple[str, str], ...] = ()
    super_init: tuple[tuple, tuple] | None = None
    # what it returns, as written: the return annotation (`-> RepositoryRecipes`), else the class every `return`
    # builds (`return AllRepositories(session)` -> "AllRepositories"); None when neither says
    returns: str | None = None


@dataclass(frozen=True, slots=True)
class ClassSummary:
    qualname: str
    line: int
    bases: tuple[str, ...]  # qualified through the module's imports
    attrs: tuple[tuple[str, str], ...]  # (name, source of the value) for `name = value` in the class body
    methods: tuple[str, ...]


# a Celery beat schedule: `beat_schedule = {"name": {"task": "app.tasks.purge", "schedule": ...}}` (also the settings'
# CELERY_BEAT_SCHEDULE / CELERYBEAT_SCHEDULE, and `app.conf.beat_schedule[...] = {...}`)
_BEAT = re.compile(r"beat_schedule|BEAT_SCHEDULE", re.IGNORECASE)
_BEAT_TASK = re.compile(r"[\"']task[\"']\s*:\s*[\"']([\w.]+)[\"']")


@dataclass(frozen=True, slots=True)
class FileSummary:
    rel: str
    module: str  # dotted module name from the path ("app.services" for app/services.py, "app" for app/__init__.py)
    imports: dict = field(default_factory=dict)  # local name -> qualified name; "*<n>" -> a module star-imported
    functions: dict = field(default_factory=dict)  # qualname -> FunctionSummary
    classes: dict = field(default_factory=dict)  # qualname -> ClassSummary
    constants: tuple[tuple[str, str], ...] = ()  # (name, source) of module-level `NAME = value`
    parse_error: bool = False
    constant_spans: tuple[tuple[str, int, int, int, int], ...] = ()  # (name, line, col, end line, end col) of each value, 1-based
    # dotted task names a Celery beat schedule in this file runs ("app.tasks.purge"), and its receivers of a periodic signal
    scheduled: tuple[str, ...] = ()
    # attribute names the file reads without calling them (`target=self._on_end`, `{"sender": self.by_sender}`) and
    # names it hands to a call (`start(refresh_recipe)`): a function used as a value may be called later by anyone
    attr_refs: frozenset = frozenset()

    def lines_of(self, qualname: str) -> tuple[int, int] | None:
        """(first line, last line) of a function of this file, decorators included; None for any other name."""
        fs = self.functions.get(qualname) if qualname else None
        return (fs.first_line, fs.end_line) if fs is not None else None

    def constant(self, name: str) -> tuple[str, tuple[int, int, int, int]] | None:
        """The source of a module-level constant and where its value is written (the last assignment wins)."""
        source = None
        for const, value in self.constants:
            if const == name:
                source = value
        span = next((sp[1:] for sp in reversed(self.constant_spans) if sp[0] == name), None)
        return (source, span) if source is not None and span is not None else None


def parsed_def(source: str | None) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The `def` a function summary's source holds, parsed with `ast`; None when there is none or it does not parse."""
    if not source:
        return None
    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    first = tree.body[0] if tree.body else None
    return first if isinstance(first, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def dedent_source(source: str) -> str:
    text = textwrap.dedent(source)
    return text if text.endswith("\n") else text + "\n"


def module_name(rel: str) -> str:
    name = rel[:-3] if rel.endswith(".py") else rel
    name = name.replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super":
        parts.append("super()")
        return ".".join(reversed(parts))
    return None


def _statements(body: list):
    """Every statement at any depth, without visiting expressions (imports sit in statement bodies)."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        for name in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, name, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], (ast.stmt, ast.excepthandler)):
                stack.extend(reversed(inner))
        if isinstance(node, ast.Match):
            for case in node.cases:
                stack.extend(reversed(case.body))


def _imports(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    package = module if is_package else module.rpartition(".")[0]
    out: dict[str, str] = {}
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    out[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    out[top] = top
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                if node.level > 1:
                    parts = parts[: len(parts) - (node.level - 1)] if node.level - 1 <= len(parts) else []
                base = ".".join(p for p in (".".join(parts), node.module or "") if p)
            else:
                base = node.module or ""
            for alias in node.names:
                if alias.name == "*":  # `from .base import *`: "*<n>" (no Python name) -> the module, for re-exports
                    if base:
                        out[f"*{len(out)}"] = base
                    continue
                out[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    return out


def _qualify(node: ast.AST, imports: dict[str, str]) -> str | None:
    name = dotted(node)
    if name is None:
        if isinstance(node, ast.Call):  # a base built by a call: `history_model_factory(...)`
            inner = dotted(node.func)
            return f"{_qualify_text(inner, imports)}()" if inner else None
        if isinstance(node, ast.Subscript):  # Generic[T], BaseRepo[Model]
            return _qualify(node.value, imports)
        return None
    return _qualify_text(name, imports)


def _qualify_text(name: str, imports: dict[str, str]) -> str:
    head, _, rest = name.partition(".")
    if head in imports:
        return f"{imports[head]}.{rest}" if rest else imports[head]
    return name


# `name(` / `a.b.c(` in a function's text: its calls, read without walking the tree (walking every node of every
# file with a visitor was a third of the project pass). Words in strings or comments may add a name that resolves to
# nothing; keywords followed by a parenthesis are not calls.
_CALL = re.compile(r"(?<![\w.])((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*|super\(\)(?:\.[A-Za-z_]\w*)+)\s*\(")
_NOT_CALLS = frozenset(keyword.kwlist) | {"def", "class", "print"}
_CALLED = re.compile(r"([A-Za-z_]\w*)\s*\(")
# what a function's text may hold that the tenant-context adapter judges (cheap regexes; the adapter decides)
_HINTS = (
    ("request", re.compile(r"request\.(?:" + "|".join(sorted(REQUEST_PARTS)) + r"|get_json)\b|\b(?:Header|Query|Cookie|Body|Form)\(|\b(?:validated|cleaned)_data\b")),
    ("fallback", re.compile(r"\bor\s+[\"'\dA-Z]|getattr\(|\.get(?:env)?\(\s*[^()]*,|\belse\s+[\"'\d]")),
    ("context", re.compile(r"row_security|set_config|search_path|service_role|scopes_disabled|SET\s+(?:LOCAL\s+|SESSION\s+)?(?:ROLE\b|[a-z_]+\.[a-z_])|create_client", re.IGNORECASE)),
    # a middleware that hands the request on with django-scopes off: `with scopes_disabled(): return self.get_response(r)`
    ("scopes_off_response", re.compile(r"with\s+scopes_disabled\(\)\s*:[^\n]*(?:\n[ \t]+[^\n]*?){0,4}?\bget_response\(")),
)


def _function(node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, lines: list[str], in_class: bool) -> FunctionSummary:
    decorators = tuple(d for d in (dotted(x.func if isinstance(x, ast.Call) else x) for x in node.decorator_list) if d)
    kind = "function"
    if in_class:
        kind = "method"
        if "classmethod" in decorators:
            kind = "classmethod"
        elif "staticmethod" in decorators:
            kind = "staticmethod"
    a = node.args
    positional = [p.arg for p in (*a.posonlyargs, *a.args)]
    defaults = []
    for p, d in zip(positional[len(positional) - len(a.defaults):], a.defaults):
        seg = _segment(lines, d)
        if seg is not None:
            defaults.append((p, seg))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        if d is not None:
            seg = _segment(lines, d)
            if seg is not None:
                defaults.append((p.arg, seg))
    annotations = []
    for p in (*a.posonlyargs, *a.args, *a.kwonlyargs):
        if p.annotation is not None:
            seg = _segment(lines, p.annotation)
            if seg is not None:
                annotations.append((p.arg, seg))
    end = node.end_lineno or node.lineno
    body_text = "".join(lines[node.body[0].lineno - 1 : end]) if node.body else ""
    calls = [c for c in _CALL.findall(body_text) if c.split(".", 1)[0] not in _NOT_CALLS]
    called = frozenset(_CALLED.findall(body_text))
    signature = "".join(lines[node.lineno - 1 : node.body[0].lineno - 1]) if node.body else ""
    hints = frozenset(h for h, pattern in _HINTS if pattern.search(body_text) or (h == "request" and pattern.search(signature)))
    init_binds, super_init = _init_binds(node, set(positional) | {p.arg for p in a.kwonlyargs}) if in_class and node.name == "__init__" else ((), None)
    source = None
    if end - node.lineno < MAX_HELPER_LINES:
        source = "".join(lines[node.lineno - 1 : end])  # as written: dedented only when it is parsed (dedent_source)
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    returns = _segment(lines, node.returns) if node.returns is not None else _built_class(node) if _RETURNS_BUILT.search(body_text) else None
    return FunctionSummary(
        qualname=qualname,
        line=node.lineno,
        col=node.col_offset,
        end_line=end,
        params=tuple(positional),
        defaults=tuple(defaults),
        vararg=a.vararg.arg if a.vararg else None,
        kwarg=a.kwarg.arg if a.kwarg else None,
        kwonly=tuple(p.arg for p in a.kwonlyargs),
        kind=kind,
        decorators=decorators,
        annotations=tuple(annotations),
        calls=tuple(dict.fromkeys(calls)),
        source=source,
        first_line=first,
        called=called,
        hints=hints,
        cross_tenant=inline_marker(lines[node.lineno - 1]) if "cross-tenant" in lines[node.lineno - 1] else None,
        init_binds=init_binds,
        super_init=super_init,
        returns=returns,
    )


_RETURNS_BUILT = re.compile(r"\breturn\s+(?:(?:[a-z_]\w*\.)*[A-Z]\w*\(|self\.\w+\s*$)", re.MULTILINE)


def _built_class(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """`X` when every `return` of the function (nested definitions aside) returns `X(...)` with X capitalised."""
    built: set[str] = set()
    lazily: dict[str, str] = {}  # self.<attr> -> the class the function builds it with
    for n in ast.walk(node):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.value, ast.Call):
            t = n.targets[0]
            callee = dotted(n.value.func)
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self" and callee:
                lazily[t.attr] = callee if t.attr not in lazily else ""
    stack = list(node.body)
    while stack:  # statements only: a `return` is never inside an expression
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(n, ast.Return):
            name = dotted(n.value.func) if isinstance(n.value, ast.Call) else None
            if name is None and isinstance(n.value, ast.Attribute) and isinstance(n.value.value, ast.Name) and n.value.value.id == "self":
                name = lazily.get(n.value.attr)  # `if not self._repos: self._repos = Repos(...)` then `return self._repos`
            if name is None or not name.rsplit(".", 1)[-1][:1].isupper():
                return None
            built.add(name)
            continue
        for part in ("body", "orelse", "finalbody", "handlers", "cases"):
            stack.extend(getattr(n, part, ()))
    return built.pop() if len(built) == 1 else None


def _init_binds(node: ast.FunctionDef | ast.AsyncFunctionDef, params: set[str]) -> tuple[tuple, tuple | None]:
    """What a constructor keeps of its parameters (`self.model = sql_model`) and hands to its base's constructor."""
    binds: list[tuple[str, str]] = []
    super_init = None
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            t = stmt.targets[0]
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self" and isinstance(stmt.value, ast.Name) and stmt.value.id in params:
                binds.append((t.attr, stmt.value.id))
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and dotted(stmt.value.func) == "super().__init__":
            call = stmt.value
            pos = tuple(a.id if isinstance(a, ast.Name) and a.id in params else None for a in call.args if not isinstance(a, ast.Starred))
            kws = tuple((k.arg, k.value.id) for k in call.keywords if k.arg and isinstance(k.value, ast.Name) and k.value.id in params)
            super_init = (pos, kws)
    return tuple(binds), super_init


def _segment(lines: list[str], node: ast.AST) -> str | None:
    if node.end_lineno is None or node.end_col_offset is None:
        return None
    if node.lineno == node.end_lineno:
        return lines[node.lineno - 1].encode("utf-8")[node.col_offset : node.end_col_offset].decode("utf-8", "replace")
    first = lines[node.lineno - 1].encode("utf-8")[node.col_offset :].decode("utf-8", "replace")
    middle = lines[node.lineno : node.end_lineno - 1]
    last = lines[node.end_lineno - 1].encode("utf-8")[: node.end_col_offset].decode("utf-8", "replace")
    return "".join([first, *middle, last])


_ATTR_REF = re.compile(r"\.([A-Za-z_]\w*)\b(?!\s*\()")
# a bare name handed to a call (`start(refresh_recipe, **job)`): a function passed on may be called, or queued, there
_ARG_REF = re.compile(r"[(,][ \t\n]*([A-Za-z_]\w*)[ \t\n]*(?=[,)])")
_IMPORT_LIST = re.compile(r"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]*\([^)]*\)", re.MULTILINE)  # `from m import (a, b)`
_PERIODIC_SIGNAL = re.compile(r"periodic|cron|hourly|daily|nightly|weekly", re.IGNORECASE)


def _periodic_receiver(decorator: ast.expr) -> bool:
    """`@receiver(periodic_task)` / `@receiver(signal=periodic_task)`: Django's signal receiver for a signal a scheduler
    sends (pretix-style `periodic_task`, `cron_hourly`)."""
    if not isinstance(decorator, ast.Call) or (dotted(decorator.func) or "").rsplit(".", 1)[-1] != "receiver":
        return False
    signals = decorator.args[:1] + [k.value for k in decorator.keywords if k.arg == "signal"]
    return any(_PERIODIC_SIGNAL.search((dotted(s) or "").rsplit(".", 1)[-1]) for s in signals)


def summarize(rel: str, text: str) -> FileSummary:
    """The summary of one file; a file that does not parse gets an empty one (the query pass reports it)."""
    module = module_name(rel)
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" and the like are the project's business
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return FileSummary(rel, module, parse_error=True)
    lines = text.splitlines(keepends=True)
    imports = _imports(tree, module, rel.endswith("__init__.py"))
    functions: dict[str, FunctionSummary] = {}
    classes: dict[str, ClassSummary] = {}
    constants: list[tuple[str, str]] = []
    constant_spans: list[tuple[str, int, int, int, int]] = []

    def visit_class(node: ast.ClassDef, prefix: str) -> None:
        qual = f"{prefix}{node.name}"
        bases = tuple(q for q in (_qualify(b, imports) for b in node.bases) if q)
        attrs: list[tuple[str, str]] = []
        methods: list[str] = []
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                methods.append(stmt.name)
                functions[f"{qual}.{stmt.name}"] = _function(stmt, f"{qual}.{stmt.name}", lines, True)
            elif isinstance(stmt, ast.ClassDef):
                visit_class(stmt, f"{qual}.")
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                seg = _segment(lines, stmt.value)
                if seg is not None:
                    attrs.append((stmt.targets[0].id, seg))
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                seg = _segment(lines, stmt.value)
                if seg is not None:
                    attrs.append((stmt.target.id, seg))
        classes[qual] = ClassSummary(qual, node.lineno, bases, tuple(attrs), tuple(methods))

    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[stmt.name] = _function(stmt, stmt.name, lines, False)
        elif isinstance(stmt, ast.ClassDef):
            visit_class(stmt, "")
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            seg = _segment(lines, stmt.value)
            if seg is not None and len(seg) < 20000:  # long enough for a report query
                constants.append((stmt.targets[0].id, seg))
                v = stmt.value
                constant_spans.append((stmt.targets[0].id, v.lineno, _column(lines, v.lineno, v.col_offset), v.end_lineno or v.lineno, _column(lines, v.end_lineno or v.lineno, v.end_col_offset or 0)))
    scheduled = list(dict.fromkeys(_BEAT_TASK.findall(text))) if _BEAT.search(text) else []
    for stmt in tree.body:  # a receiver of a periodic signal: `@receiver(periodic_task)`, `@receiver(signal=cron_hourly)`
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(_periodic_receiver(d) for d in stmt.decorator_list):
            scheduled.append(f"{module}.{stmt.name}")
    scheduled = tuple(scheduled)
    # a bare name counts when it is a function of this file or an import, not a local of the same name
    attr_refs = frozenset(_ATTR_REF.findall(text)) | frozenset(
        n for n in _ARG_REF.findall(_IMPORT_LIST.sub("", text) if "import (" in text else text) if n in imports or n in functions)
    return FileSummary(rel, module, imports, functions, classes, tuple(constants), constant_spans=tuple(constant_spans), scheduled=scheduled,
                       attr_refs=attr_refs)


def _column(lines: list[str], line: int, byte_offset: int) -> int:
    """1-based character column of `ast`'s UTF-8 byte offset on a line."""
    return len(lines[line - 1].encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1
