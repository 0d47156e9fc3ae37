"""The project index: every module's summary, names resolved across modules, and who calls what.

Built once per run from the per-file summaries (which are cached with the other per-file results). It answers:

* `resolve_call(module, cls, "name.attr")`: the definition a call names, through the module's own functions and
  classes, its imports of other project modules, `self.` / `cls.` methods along the class's bases, and
  `Model.classmethod`; anything else is None (counted in `unresolved`, never guessed);
* `class_chain(module, cls)`: a class and its project bases, nearest first (Python's MRO for single chains);
* `callers(function_id)`: the resolved call sites of a function, from every module of the project;
* `dependency_digest(rel)`: a digest of what a file's analysis reads from other files (the helpers it calls,
  whether its own functions are called elsewhere), which keys its cached findings.

A function id is `module:qualname`. Nothing here is a libcst type: the tenant-context work builds on the same
index (is every call site of a function inside a tenant context?).
"""
from __future__ import annotations

import ast
import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from tenantlint.context.reachability import is_route, project_binders
from tenantlint.index.summary import ClassSummary, FileSummary, FunctionSummary, dotted, parsed_def
from tenantlint.python_module import operator_entry

MAX_BASES_DEPTH = 8
INLINE_DEPTH = 2  # calls followed from a function analysed on its own: a view calls a service that calls a classmethod
# a query on a model the function does not name: `cls.objects`, `self.model.query`, a wrapper of get_object_or_404,
# a supabase table chain
SYMBOLIC_QUERY = re.compile(r"\b(?:cls|self\.\w+)\.(?:objects|query|_default_manager|select)\b|(?:select|query|update|delete|insert)\((?:cls|self\.\w+)\b|_or_404\(|\.table\(|\.from_\(")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# a name used as a model: `select(model.id)`, `session.query(model)`, `model.objects`, `get_object_or_404(model, ...)`
_AS_MODEL = re.compile(r"(?:(?<![\w.])(?:update|delete|insert)|\b(?:select|aliased)|\.query|_or_404)\(\s*([A-Za-z_]\w*)|\b([A-Za-z_]\w*)\.(?:objects|_default_manager|_base_manager|query\b(?!\s*\())")

# `path("admin/", admin.site.urls)`, `re_path(r"^admin/", admin.site.urls)`, `path(f"{prefix}admin/", admin.site.urls)`
_ADMIN_MOUNT = re.compile(r"""(?:re_)?path\(\s*[rf]?["'](?:\{[^}]*\})?([^"'{}]*)["']\s*,\s*admin\.site\.urls""")

# request data handed to a serializer: `X(data=request.data)`, `X(instance, request.data)`
_INPUT_ARGUMENT = re.compile(r"\bdata\s*=(?!=)|request\.(?:data|DATA|POST)\b")
# a view whose serializer takes input: DRF's create and update views and viewsets
_WRITING_VIEW = re.compile(r"Create|Update|ModelViewSet|Crud|Writ")
# the calls that build SQL to run elsewhere (`RawSQL(...)`, SQLAlchemy `text(...)`, psycopg `sql.SQL(...)`)
SQL_BUILDERS = frozenset({"RawSQL", "text", "SQL"})
# how a view builds the classes it holds: `self.get_serializer(...)`, `self.get_validator(...)`, `self.serializer_class(...)`
_VIEW_BUILDER = re.compile(r"\bself\.(?:get_([a-z]+)(?:_class\(\))?|([a-z]+)_class)\s*\(")


def call_arguments(source: str, callee: str) -> list[str]:
    """The argument text of every call in `source` whose callee matches the pattern `callee` (parentheses balanced,
    strings not parsed)."""
    out = []
    for m in re.finditer(rf"{callee}\s*\(", source):
        depth, i = 1, m.end()
        while i < len(source) and depth:
            depth += {"(": 1, ")": -1}.get(source[i], 0)
            i += 1
        out.append(source[m.end() : i - 1])
    return out


_NEWLINE = re.compile(r"\r\n|\r|\n")
_LINE_STARTS: dict = {}  # source -> offset of each line (ast.get_source_segment splits the source on every call)


def _segment(source: str, node) -> str | None:
    """ast.get_source_segment(source, node), for many nodes of one source."""
    first, last = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    if first is None or last is None or first != last:
        return ast.get_source_segment(source, node)
    starts = _LINE_STARTS.get(source)
    if starts is None:
        if len(_LINE_STARTS) > 256:
            _LINE_STARTS.clear()
        starts = [0] + [m.end() for m in _NEWLINE.finditer(source)]  # as the parser counts lines (no form feeds)
        _LINE_STARTS[source] = starts
    line = source[starts[first - 1] : starts[first]] if first < len(starts) else source[starts[first - 1] :]
    return line.encode("utf-8")[node.col_offset : node.end_col_offset].decode("utf-8", "replace")


# `target: Note = make_note(`, `self.repo = Repo(`: an assignment from a call, at the start of a line
_ASSIGNED_CALL = re.compile(r"^[ \t]*([\w.]+)[ \t]*(?::[ \t]*([^=\n]+?))?[ \t]*=[ \t]*([\w.]+)\(", re.MULTILINE)
# `self.repos = repos` (a bare name, then nothing but a comment), and any assignment to a dotted or plain name
_ASSIGNED_NAME = re.compile(r"^[ \t]*([\w.]+)[ \t]*(?::[^=\n]+)?=[ \t]*(\w+)[ \t]*(?:#.*)?$", re.MULTILINE)
_ASSIGNED_ANY = re.compile(r"^[ \t]*([\w.]+)[ \t]*(?::[^=\n]+)?=(?!=)", re.MULTILINE)
_ASSIGNMENTS: dict[str, dict] = {}


def _assignments(source: str) -> dict:
    """A function's assignments, read once per source: name -> [(annotation, callee)] of those from a call ("call"),
    name -> [value] of those from a bare name ("name"), and name -> how many assignments of any kind ("any")."""
    found = _ASSIGNMENTS.get(source)
    if found is None:
        if len(_ASSIGNMENTS) > 4096:
            _ASSIGNMENTS.clear()
        found = {"call": {}, "name": {}, "any": {}}
        for name, annotation, callee in _ASSIGNED_CALL.findall(source):
            found["call"].setdefault(name, []).append((annotation or "", callee))
        for name, value in _ASSIGNED_NAME.findall(source):
            found["name"].setdefault(name, []).append(value)
        for name in _ASSIGNED_ANY.findall(source):
            found["any"][name] = found["any"].get(name, 0) + 1
        _ASSIGNMENTS[source] = found
    return found


def _built_once(source: str | None, target: str) -> tuple[str, str] | None:
    """(annotation, callee) when `source` assigns `target` exactly once from a call (`target: Note = make_note()`,
    `self.repo = Repo(session)`); None when it never does or does more than once."""
    if not source or target not in source:
        return None
    built = _assignments(source)["call"].get(target, ())
    return built[0] if len(built) == 1 else None


def _given_once(source: str | None, target: str) -> str | None:
    """The name `source` assigns to `target` when it does so exactly once, from a bare name (`self.repos = repos`)."""
    if not source or target not in source:
        return None
    found = _assignments(source)
    assigned = found["name"].get(target, ())
    return assigned[0] if len(assigned) == 1 and found["any"].get(target, 0) == 1 else None


def returns_staff_flag(source: str | None, flags: frozenset) -> bool:
    """Whether a function's last statement returns a staff flag of a user (`return self.request.user.is_staff`,
    `return getattr(user, "is_administrator", False)`, or such a flag `and` more conditions)."""
    fn = parsed_def(source)
    last = fn.body[-1] if fn is not None and fn.body else None
    return isinstance(last, ast.Return) and last.value is not None and _staff_test(last.value, flags)


def _staff_test(node: ast.AST, flags: frozenset) -> bool:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return any(_staff_test(v, flags) for v in node.values)
    if isinstance(node, ast.Attribute):
        owner = dotted(node.value) or ""
        return node.attr in flags and owner.rsplit(".", 1)[-1].endswith("user")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 2:
        name = node.args[1]
        owner = dotted(node.args[0]) or ""
        return isinstance(name, ast.Constant) and name.value in flags and owner.rsplit(".", 1)[-1].endswith("user")
    return False


@dataclass(frozen=True, slots=True)
class Resolved:
    """A call resolved to a definition; `bound` is the class named at the call (`Model` in `Model.get_by_id()`),
    or the concrete class whose `self` runs the method."""

    function: FunctionSummary
    file: FileSummary
    bound: tuple[str, str] | None = None  # (module, class qualname)

    @property
    def id(self) -> str:
        return f"{self.file.module}:{self.function.qualname}"


_SELF_GETATTR = re.compile(r"\bgetattr\(\s*(?:self|cls|type\(self\)|self\.__class__)\s*,")  # a method picked by name at run time
_NEUTRAL_BASES = frozenset({"object", "Generic", "ABC", "Protocol"})  # bases that call no method of their own accord
ENQUEUE_SUFFIXES = (".delay", ".apply_async", ".apply")  # Celery's ways to run a task with arguments


@dataclass
class ProjectIndex:
    files: dict[str, FileSummary] = field(default_factory=dict)  # by module name
    by_rel: dict[str, FileSummary] = field(default_factory=dict)
    context: object = None  # tenantlint.context.reachability.ContextIndex, in context mode
    _suffixes: dict[str, str | None] = field(default_factory=dict)  # dotted suffix -> module (None: ambiguous)
    _callers: dict[str, list[tuple[str, str, bool]]] = field(default_factory=lambda: defaultdict(list))  # id -> [(rel, caller qualname, through self/cls)]
    # id of a task -> ids of the functions that queue it (`task.delay(...)`, `task.apply_async(args=..., kwargs=...)`):
    # what they hand it, not calls judged where they are made (the task runs later, in a worker)
    _enqueuers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _callees: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # rel -> ids it calls
    unresolved: int = 0
    resolved: int = 0
    _callees_of_function: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    query_functions: set[str] = field(default_factory=set)
    model_param_functions: set[str] = field(default_factory=set)  # functions that query a model passed as an argument
    _levels: dict[str, int] = field(default_factory=dict)
    # function id -> the names it calls in a way the index does not resolve (`repo.get_one(pk)` on an unknown object)
    _unresolved_names: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # (module, function, call) of calls of a method on the requesting user (`request.user.get_events()`), resolved
    # once the schema names the user model (resolve_principal_calls)
    _principal_calls: list = field(default_factory=list)
    _unresolved_receivers: set = field(default_factory=set)  # last names of the objects unresolved calls are made on
    _qs_methods: dict | None = None  # ids of functions that run queries, themselves or through callees
    _class_calls: dict | None = None  # (module, class) -> [(file, function)] that call the class by name
    _subclasses: dict | None = None  # (module, class) -> [(module, class)] of its direct project subclasses
    _scopes_off: str | None = None  # scopes_off_middleware()
    _held_classes: dict | None = None  # (module, class) -> [(module, holder class, attribute)]: `form_class = X`
    _trees: dict = field(default_factory=dict)  # (file, function) -> (dedented source, ast) for constructor_bindings()
    _constructed: dict = field(default_factory=dict)  # (module, class) -> constructor_bindings() answer
    memo: dict = field(default_factory=dict)  # answers of passes that read the index (context.permissions), per run
    # the user's attributes that only install-wide staff have (context.entry.staff_flags): is_staff, is_superuser, and
    # an administrator flag of a user model that belongs to no tenant
    staff_flags: frozenset = frozenset({"is_staff", "is_superuser"})
    user_class: tuple[str, str] | None = None  # (module, class) of the project's user model, when the schema names one

    @classmethod
    def build(cls, summaries: list[FileSummary]) -> "ProjectIndex":
        index = cls()
        for s in sorted(summaries, key=lambda s: s.rel):
            index.files[s.module] = s
            index.by_rel[s.rel] = s
            parts = s.module.split(".")
            for i in range(len(parts)):
                suffix = ".".join(parts[i:])
                if suffix in index._suffixes and index._suffixes[suffix] != s.module:
                    index._suffixes[suffix] = None  # two modules end the same way: resolve neither by suffix
                else:
                    index._suffixes[suffix] = s.module
        for s in index.files.values():
            for fn in s.functions.values():
                cls_name = fn.qualname.rpartition(".")[0] if fn.kind != "function" else None
                for call in fn.calls:
                    r = index.resolve_call(s.module, cls_name, call)
                    if r is None and "." in call and not call.startswith(("self.", "cls.", "super()")) and call[:1].islower():
                        # `service = UserService(repos); service.reset()`, `db: Repos`: a local of a known project class
                        r = index.resolve_typed_call(s.module, fn.qualname, call)
                    if r is None and call.endswith(ENQUEUE_SUFFIXES):
                        task = index.resolve_call(s.module, cls_name, call.rpartition(".")[0])
                        if task is not None and task.function.kind == "function":
                            index._enqueuers[task.id].append(f"{s.module}:{fn.qualname}")
                            index.resolved += 1
                            continue
                    if r is None:
                        index.unresolved += 1
                        index._unresolved_names[f"{s.module}:{fn.qualname}"][call.rpartition(".")[2]] += 1
                        if "." in call:  # `sync.delay(...)`, `sync.s(...)` on a name the index does not resolve
                            index._unresolved_receivers.add(call.rpartition(".")[0].rpartition(".")[2])
                        if f".{call}".rpartition(".")[0].endswith(".request.user"):
                            index._principal_calls.append((s.module, fn.qualname, call))
                        continue
                    # through self/cls: `self.method()` (judged in the method's own body), not `self.repos.notes.get()`
                    index._record_call(r.id, s, fn.qualname, call.split(".", 1)[0] in ("self", "cls") and call.count(".") == 1)
        return index

    def _record_call(self, target: str, caller: FileSummary, qual: str, via_self: bool) -> None:
        """A call of `target` from `qual` of the file `caller`, resolved."""
        self.resolved += 1
        self._callers[target].append((caller.rel, qual, via_self))
        self._callees[caller.rel].add(target)
        self._callees_of_function[f"{caller.module}:{qual}"].add(target)

    def resolve_principal_calls(self, user_class: tuple[str, str] | None) -> None:
        """`request.user.get_events_for_permission()`: a method of the project's user model (`user_class`, from the
        schema's AUTH_USER_MODEL), called on the requesting user. Call before mark_query_functions()."""
        self.user_class = user_class
        if user_class is None:
            return
        for module, qual, call in self._principal_calls:
            r = self.method(user_class[0], user_class[1], call.rpartition(".")[2])
            if r is None:
                continue
            self._record_call(r.id, self.files[module], qual, False)
            self._unresolved_names[f"{module}:{qual}"][call.rpartition(".")[2]] -= 1
            self.unresolved -= 1
        self.memo.pop("name_calls", None)

    def mark_query_functions(self, identifiers: frozenset[str]) -> None:
        """Functions that run queries: their source names a model, table or accessor the schema knows, or queries a
        model it does not name (`cls.objects`); and every function that calls one of those (two-level helpers)."""
        self.query_functions = set()
        self.model_param_functions = set()
        self._levels = {}
        for s in self.files.values():
            for fn in s.functions.values():
                src = fn.source
                if not src:
                    continue
                fid = f"{s.module}:{fn.qualname}"
                params = {*fn.params, *fn.kwonly} - {"self", "cls"}
                if params and any((a or b) in params for a, b in _AS_MODEL.findall(src)):
                    self.model_param_functions.add(fid)
                    self.query_functions.add(fid)
                elif SYMBOLIC_QUERY.search(src) or not identifiers.isdisjoint(_WORD.findall(src)):
                    self.query_functions.add(fid)
        changed = True
        while changed:  # a service that calls a query helper runs queries too
            changed = False
            for fid, callees in self._callees_of_function.items():
                if fid not in self.query_functions and callees & self.query_functions:
                    self.query_functions.add(fid)
                    changed = True

    # -- modules and names

    def module(self, qualified: str) -> str | None:
        m = self._suffixes.get(qualified)
        return m if m and m in self.files else None

    def split_qualified(self, qualified: str) -> tuple[FileSummary, list[str]] | None:
        """`pkg.mod.Class.method` -> (summary of pkg.mod, ["Class", "method"]): the longest module prefix."""
        parts = qualified.split(".")
        for i in range(len(parts) - 1, 0, -1):
            m = self.module(".".join(parts[:i]))
            if m is not None:
                return self.files[m], parts[i:]
        return None

    def lookup(self, module: str, name: str, hops: int = 0) -> tuple[FileSummary, str] | None:
        """A name used in `module` -> (file, qualname of a function or class defined there), through imports, and
        through a package's re-exports (`from app.serializers import X`, where `app/serializers/__init__.py`
        imports X from `.issue`)."""
        s = self.files.get(module)
        if s is None:
            return None
        head, _, rest = name.partition(".")
        if head in s.functions or head in s.classes:
            return s, name
        q = s.imports.get(head)
        if q is None:
            if hops < 4:  # `from .base_controllers import *`: a name the module re-exports
                for star in (v for k, v in s.imports.items() if k.startswith("*")):
                    m = self.module(star)
                    found = self.lookup(m, name, hops + 1) if m is not None and m != module else None
                    if found is not None and found[1]:
                        return found
            return None
        full = f"{q}.{rest}" if rest else q
        found = self.split_qualified(full)
        if found is None:
            m = self.module(full)  # `import app.services as services`: the whole name is a module
            return None if m is None else (self.files[m], "")
        target, parts = found
        if parts and hops < 4 and parts[0] not in target.functions and parts[0] not in target.classes \
                and (parts[0] in target.imports or any(k.startswith("*") for k in target.imports)):
            return self.lookup(target.module, ".".join(parts), hops + 1) or (target, ".".join(parts))
        return target, ".".join(parts)

    def class_def(self, module: str, qualname: str) -> ClassSummary | None:
        s = self.files.get(module)
        return s.classes.get(qualname) if s else None

    def class_chain(self, module: str, qualname: str) -> list[tuple[FileSummary, ClassSummary]]:
        """The class and its project bases, depth first in declaration order (the MRO of single chains)."""
        out: list[tuple[FileSummary, ClassSummary]] = []
        seen: set[tuple[str, str]] = set()

        def visit(mod: str, qual: str, depth: int) -> None:
            if depth > MAX_BASES_DEPTH or (mod, qual) in seen:
                return
            s = self.files.get(mod)
            c = s.classes.get(qual) if s else None
            if c is None:
                return
            seen.add((mod, qual))
            out.append((s, c))
            for base in c.bases:
                found = self._class_named(mod, base)
                if found is not None:
                    visit(found[0], found[1], depth + 1)

        visit(module, qualname, 0)
        return out

    def _class_named(self, module: str, qualified: str) -> tuple[str, str] | None:
        s = self.files.get(module)
        if s is None:
            return None
        if qualified in s.classes:
            return module, qualified
        found = self.split_qualified(qualified)
        if found is not None:
            target, parts = found
            q = ".".join(parts)
            if q in target.classes:
                return target.module, q
            hop = self.lookup(target.module, q)  # a package that re-exports the class
            if hop is not None and hop[1] in hop[0].classes:
                return hop[0].module, hop[1]
        return None

    def method(self, module: str, cls: str, name: str, bases_only: bool = False) -> Resolved | None:
        """`name` of the class or its nearest project base defining it; with `bases_only`, of a base (`super().name`)."""
        for s, c in self.class_chain(module, cls)[1 if bases_only else 0 :]:
            if name in c.methods:
                return Resolved(s.functions[f"{c.qualname}.{name}"], s, (module, cls))
        return None

    def class_attr(self, module: str, cls: str, name: str) -> tuple[FileSummary, ClassSummary, str] | None:
        """The nearest `name = value` along the class chain: (file, class, value source)."""
        for s, c in self.class_chain(module, cls):
            for attr, value in c.attrs:
                if attr == name:
                    return s, c, value
        return None

    # -- objects built with a model: `Repository(session, ShoppingItem)` keeps it in `self.model`

    def holds_constructor_binds(self, module: str, cls: str) -> bool:
        """Whether a constructor of the class or of one of its subclasses keeps a parameter (`self.model = model`)."""
        return any(self.constructor_attrs(m, q) for m, q in self._family(module, cls))

    def constructor_attrs(self, module: str, cls: str) -> set[str]:
        out: set[str] = set()
        for s, c in self.class_chain(module, cls):
            fn = s.functions.get(f"{c.qualname}.__init__")
            if fn is not None:
                out.update(a for a, _ in fn.init_binds)
        return out

    def constructor_bindings(self, module: str, cls: str) -> list[tuple[str, dict[str, str], str, int]]:
        """Every place the project builds this class or a subclass: (calling module, {attribute: argument source}
        for each parameter a constructor along the chain keeps in `self.<attribute>`, file, line)."""
        key = (module, cls)
        if key in self._constructed:
            return self._constructed[key]
        import ast

        from tenantlint.index.summary import dedent_source, dotted

        out: list[tuple[str, dict[str, str], str, int]] = []
        calls = self._calls_of_classes()
        for kmod, kqual in self._family(module, cls):
            for s, fn in calls.get((kmod, kqual), ()):
                parsed = self._trees.get((s.rel, fn.qualname))
                if parsed is None:  # a caller of several classes is parsed once
                    source = dedent_source(fn.source or "")
                    try:
                        parsed = (source, ast.parse(source))
                    except (SyntaxError, ValueError, RecursionError):
                        parsed = (source, None)
                    self._trees[(s.rel, fn.qualname)] = parsed
                source, tree = parsed
                if tree is None:
                    continue
                for node in ast.walk(tree):
                    if not isinstance(node, ast.Call) or node.func is None:
                        continue
                    name = dotted(node.func)
                    if name is None or self.class_named(s.module, name) != (kmod, kqual):
                        continue
                    pos = [_segment(source, a) for a in node.args if not isinstance(a, ast.Starred)]
                    kws = [(k.arg, _segment(source, k.value)) for k in node.keywords if k.arg]
                    binds = self._bind_chain(kmod, kqual, pos, kws, 0)
                    if binds:
                        out.append((s.module, binds, s.rel, fn.line + node.lineno - 1))
        self._constructed[key] = out
        return out

    def _family(self, module: str, cls: str) -> list[tuple[str, str]]:
        """The class and every project class derived from it."""
        if self._subclasses is None:
            self._subclasses = defaultdict(list)
            for s in self.files.values():
                for qual, c in s.classes.items():
                    for base in c.bases:
                        found = self._class_named(s.module, base)
                        if found is not None:
                            self._subclasses[found].append((s.module, qual))
        out, todo = [], [(module, cls)]
        while todo and len(out) < 200:
            k = todo.pop()
            if k in out:
                continue
            out.append(k)
            todo.extend(self._subclasses.get(k, ()))
        return out

    def leaf_subclasses(self, module: str, cls: str) -> list[tuple[str, str]]:
        """The project classes derived from the class, directly or not, that no project class derives from."""
        family = self._family(module, cls)
        return [k for k in family[1:] if not self._subclasses.get(k)]

    def unreachable_hook(self, module: str, cls: str, method: str) -> bool:
        """Whether `validate_<field>()` of a serializer or validator class never runs: REST framework (and the forks
        that follow it) call such a hook only for a declared field, and no class built on this one declares one of
        that name (`epic_id = serializers.IntegerField()`), nor could (a `Meta` naming a model, an `__init__` or
        `get_fields()` that may add fields); nor does any code call it by name."""
        field = method[len("validate_"):]
        if not method.startswith("validate_") or not field or self._callers.get(f"{module}:{cls}.{method}"):
            return False
        classes = [fc for k in self._family(module, cls) for fc in self.class_chain(*k)]
        return self._serializer_without(classes, field, {"__init__", "get_fields"}, quoted=False)

    def undeclared_field(self, module: str, cls: str, field: str) -> bool:
        """Whether a serializer or validator class holds no field `field` in its validated data: no class of its chain
        declares one (`user_story_id = serializers.IntegerField()`), none could add one (a `Meta` naming a model, an
        `__init__`, `get_fields()` or `to_internal_value()`), no method names it in quotes (`attrs["user_story_id"] =
        ...`). As for unreachable_hook(), REST framework and the forks that follow it keep only declared fields."""
        return self._serializer_without(self.class_chain(module, cls), field, {"__init__", "get_fields", "to_internal_value"}, quoted=True)

    @staticmethod
    def _serializer_without(classes, field: str, adders: set[str], quoted: bool) -> bool:
        """Whether these (file, class) pairs are a serializer's or validator's, none declares `field`, none could add
        fields (a `Meta`, or a method in `adders`), and, with `quoted`, no method names the field in quotes."""
        serializer = False
        for f, c in classes:
            if f.classes.get(f"{c.qualname}.Meta") is not None or adders & set(c.methods):
                return False
            if any(name == field for name, _ in c.attrs):
                return False
            if quoted:
                for m in c.methods:
                    fn = f.functions.get(f"{c.qualname}.{m}")
                    if fn is None or fn.source is None or f'"{field}"' in fn.source or f"'{field}'" in fn.source:
                        return False
            serializer = serializer or any(b.rsplit(".", 1)[-1].endswith(("Serializer", "Validator")) for b in (*c.bases, c.qualname))
        return serializer

    def _calls_of_classes(self) -> dict:
        """(module, class) -> [(file, function)] for every function with source that calls a project class by name."""
        if self._class_calls is None:
            self._class_calls = defaultdict(list)
            for s in self.files.values():
                for fn in s.functions.values():
                    if not fn.source:
                        continue
                    for call in fn.calls:
                        if not call.rsplit(".", 1)[-1][:1].isupper():
                            continue
                        found = self.class_named(s.module, call)
                        if found is not None and (s, fn) not in self._class_calls[found]:
                            self._class_calls[found].append((s, fn))
        return self._class_calls

    def scopes_off_middleware(self) -> str:
        """`with scopes_disabled(): return self.get_response(request)` in a middleware: django-scopes is off for the
        requests that take that path (typically the anonymous ones), whatever the views' managers say. Where it is
        ("path:line"), or ""."""
        if self._scopes_off is None:
            self._scopes_off = ""
            for s in sorted(self.files.values(), key=lambda f: f.rel):
                for fn in s.functions.values():
                    if "scopes_off_response" in fn.hints:
                        self._scopes_off = f"{s.rel}:{fn.line} ({fn.qualname})"
                        return self._scopes_off
        return self._scopes_off

    def scheduled_tasks(self) -> frozenset[str]:
        """Ids of the functions a scheduler runs on its own: the tasks a Celery beat schedule names, and functions
        decorated as periodic tasks (Celery's `periodic_task`, Huey's `periodic_task` / `db_periodic_task`)."""
        if "scheduled" not in self.memo:
            ids = set()
            for s in self.files.values():
                for name in s.scheduled:
                    split = self.split_qualified(name)
                    if split is not None and ".".join(split[1]) in split[0].functions:
                        ids.add(f"{split[0].module}:{'.'.join(split[1])}")
                for fn in s.functions.values():
                    if any(d.rsplit(".", 1)[-1] in ("periodic_task", "db_periodic_task") for d in fn.decorators):
                        ids.add(f"{s.module}:{fn.qualname}")
            self.memo["scheduled"] = frozenset(ids)
        return self.memo["scheduled"]

    def scheduled_only(self, function_id: str) -> bool:
        """Whether only the scheduler runs this function: it is a scheduled task, or every call of its name in the
        project resolves to it from a function that only the scheduler runs. A call the index cannot resolve keeps
        the function a request's, as does a function nobody calls."""
        key = ("scheduled_only", function_id)  # asked by the digest and by two adapters for each function
        if key not in self.memo:
            tasks = self.scheduled_tasks()
            self.memo[key] = bool(tasks) and self._only_from(function_id, tasks.__contains__, 0)
        return self.memo[key]

    def operator_commands(self) -> frozenset[str]:
        """Ids of the functions an operator runs from a shell: command-line commands (`@click.command(...)`,
        `@app.cli.command(...)`, `@group.command()` in a module that imports click, typer's `@app.command()`), and the
        methods of a Django management command (`management/commands/<name>.py`)."""
        if "commands" not in self.memo:
            ids = set()
            for s in self.files.values():
                clis = any(q.split(".", 1)[0] in ("click", "typer", "flask") for q in s.imports.values())
                management = bool(operator_entry(s.rel))
                for fn in s.functions.values():
                    if management or clis and any(d.rsplit(".", 1)[-1] == "command" for d in fn.decorators):
                        ids.add(f"{s.module}:{fn.qualname}")
            self.memo["commands"] = frozenset(ids)
        return self.memo["commands"]

    def unattended_only(self, function_id: str) -> bool:
        """Whether only operator commands and the scheduler run this function: every call of its name resolves to it
        from such code (a command that builds a service and calls it, a scheduled task that calls the same service).
        A call the index cannot resolve keeps the function a request's, as does a function nobody calls."""
        key = ("unattended_only", function_id)
        if key not in self.memo:
            roots = self.operator_commands() | self.scheduled_tasks()
            found = self.function(function_id)
            management = found is not None and bool(operator_entry(found[0].rel))  # the path says so already
            self.memo[key] = bool(roots) and not management and self._only_from(function_id, roots.__contains__, 0)
        return self.memo[key]

    def staff_only(self, function_id: str) -> bool:
        """Whether only install-wide staff run this function: it is a method of a view only they pass
        (`staff_view()`), or every call of its name in the project resolves to it from such a function."""
        def root(fid: str) -> bool:
            module, _, qual = fid.partition(":")
            owner = qual.rpartition(".")[0]
            return bool(owner) and "." not in owner and self.staff_view(module, owner)

        key = ("staff_only", function_id)
        if key not in self.memo:
            self.memo[key] = self._only_from(function_id, root, 0)
        return self.memo[key]

    def _only_from(self, function_id: str, root, depth: int) -> bool:
        if depth > INLINE_DEPTH + 2:
            return False
        if root(function_id):
            return True
        callers = {(rel, q) for rel, q, _ in self._callers.get(function_id, ())}
        if not callers or self.called_unresolved(function_id):
            return False
        return all(f"{self.by_rel[rel].module}:{q}" != function_id and self._only_from(f"{self.by_rel[rel].module}:{q}", root, depth + 1)
                   for rel, q in callers)

    def staff_view(self, module: str, cls: str) -> bool:
        """A view class only install-wide staff pass: the first `has_permission()` / `test_func()` of its chain returns
        a staff flag of the requesting user (`return self.request.user.is_administrator`), or, when it has none, its
        `permission_required` names a django-rules permission whose predicate does (`rules_permissions =
        {"administrator": is_administrator}` in a model's Meta, `is_administrator` returning `user.is_administrator`)."""
        key = ("staff_view", module, cls)
        if key not in self.memo:
            self.memo[key] = False
            for f, c in self.class_chain(module, cls):
                method = next((m for m in ("has_permission", "test_func") if m in c.methods), None)
                if method is not None:
                    fn = f.functions.get(f"{c.qualname}.{method}")
                    self.memo[key] = fn is not None and returns_staff_flag(fn.source, self.staff_flags)
                    break
                required = dict(c.attrs).get("permission_required")
                if required is not None:
                    self.memo[key] = self._staff_permission(required)
                    break
        return self.memo[key]

    def _staff_permission(self, source: str) -> bool:
        """`permission_required = "app.perm"` (or a tuple of them, all required): whether one is a staff rule."""
        try:
            value = ast.literal_eval(source)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return False
        perms = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] if isinstance(value, (tuple, list)) else []
        rules = self._rules_permissions()
        return any(rules.get(p, False) for p in perms)

    def _rules_permissions(self) -> dict[str, bool]:
        """django-rules permissions a model's `Meta.rules_permissions` declares ("app.<key>_<model>"), each with whether
        its predicate returns a staff flag of the user."""
        if "rules_permissions" not in self.memo:
            found: dict[str, bool] = {}
            for s in self.files.values():
                for qual, c in s.classes.items():
                    if not qual.endswith(".Meta"):
                        continue
                    declared = dict(c.attrs).get("rules_permissions")
                    try:
                        tree = ast.parse(declared, mode="eval").body if declared else None
                    except SyntaxError:
                        tree = None
                    if not isinstance(tree, ast.Dict):
                        continue
                    model = qual[: -len(".Meta")].rsplit(".", 1)[-1].lower()
                    parts = s.module.split(".")
                    app = parts[parts.index("models") - 1] if "models" in parts[1:] else parts[-2] if len(parts) > 1 else parts[0]
                    for k, v in zip(tree.keys, tree.values):
                        if not (isinstance(k, ast.Constant) and isinstance(k.value, str) and isinstance(v, ast.Name)):
                            continue
                        hit = self.lookup(s.module, v.id)
                        fn = hit[0].functions.get(hit[1]) if hit is not None else None
                        found[f"{app}.{k.value}_{model}"] = fn is not None and returns_staff_flag(fn.source, self.staff_flags)
            self.memo["rules_permissions"] = found
        return self.memo["rules_permissions"]

    def called_unresolved(self, function_id: str) -> bool:
        """Whether some function of the project calls this one's name in a way the index does not resolve
        (`repo.get_one(pk)` on an object of unknown class), or resolves to a method a project subclass overrides."""
        name = function_id.rpartition(":")[2].rpartition(".")[2]
        return self._name_calls().get(name, 0) > 0

    def unqueued_task(self, function_id: str) -> bool:
        """A Celery task (`@shared_task`, `@app.task`) that nothing in the project queues, schedules, calls or reads
        as a value: no `task.delay()` / `task.apply_async()` / `task.s()` the index resolves to it or cannot resolve
        on an object of its name, no beat schedule entry, no call. A worker never runs it, as far as the project shows."""
        found = self.function(function_id)
        if found is None:
            return False
        fn = found[1]
        name = fn.qualname.rpartition(".")[2]
        if fn.kind != "function" or not any(d.rsplit(".", 1)[-1] in ("shared_task", "task") for d in fn.decorators):
            return False
        if function_id in self.scheduled_tasks() or self._callers.get(function_id) or self._enqueuers.get(function_id):
            return False
        return not (name in self._unresolved_receivers or self._name_calls().get(name, 0) or name in self._attr_refs())

    def never_called(self, function_id: str) -> bool:
        """Whether no function of the project calls this one, nor any function of its name (a call the index cannot
        resolve counts as one of it)."""
        name = function_id.rpartition(":")[2].rpartition(".")[2]
        return not self._callers.get(function_id) and not self._name_calls().get(name, 0)

    def _name_calls(self) -> dict[str, int]:
        """How many functions of the project call each name without the index resolving that call: a call of the
        name it resolves to another function (`Recipe.get_by_id` for `Note.get_by_id`) is no call of this one. A name
        the body's text calls that no recorded call ends with (`make()(...)`, `super().x()`) counts as unresolved."""
        if "name_calls" not in self.memo:
            counts: dict[str, int] = defaultdict(int)
            for s in self.files.values():
                for fn in s.functions.values():
                    fid = f"{s.module}:{fn.qualname}"
                    recorded = {c.rpartition(".")[2] for c in fn.calls}
                    for n in (fn.called - recorded) | {k for k, v in self._unresolved_names.get(fid, {}).items() if v > 0}:
                        counts[n] += 1
            # a call resolved to a method that a project subclass overrides may run the override (`repo.get()` on a
            # protocol or base class, the implementation's method at run time): it counts for every method of the name
            for target, callers in self._callers.items():
                module, _, qual = target.partition(":")
                owner, _, name = qual.rpartition(".")
                if owner and any(f"{qual_k}.{name}" in self.files[mod_k].functions
                                 for mod_k, qual_k in self._family(module, owner)[1:] if mod_k in self.files):
                    counts[name] += len({(rel, q) for rel, q, _ in callers})
            self.memo["name_calls"] = counts
        return self.memo["name_calls"]

    def admin_prefixes(self) -> frozenset[str]:
        """Where the project's URLconf mounts the Django admin site: "admin/" for `path("admin/", admin.site.urls)`."""
        if "admin_prefixes" not in self.memo:
            found = set()
            for s in self.files.values():
                for name, value in s.constants:
                    if name == "urlpatterns" and "admin.site.urls" in value:
                        found.update(p.lstrip("^") for p in _ADMIN_MOUNT.findall(value))
            self.memo["admin_prefixes"] = frozenset(p for p in found if p)
        return self.memo["admin_prefixes"]

    def permission_digest(self) -> str:
        """The project's permission classes as far as context.permissions reads them (bases, `has_permission`), and
        the settings' default ones: once per run."""
        if "permission_digest" not in self.memo:
            h = hashlib.sha256(repr(self.setting_entry("REST_FRAMEWORK", "DEFAULT_PERMISSION_CLASSES")).encode())
            for s in sorted(self.files.values(), key=lambda f: f.rel):
                for qual, c in s.classes.items():
                    fn = s.functions.get(f"{qual}.has_permission")
                    if fn is not None or "has_object_permission" in c.methods or any(b.endswith("Permission") for b in c.bases):
                        h.update(repr((s.rel, qual, c.bases, fn.source if fn is not None else None)).encode("utf-8", "surrogatepass"))
            self.memo["permission_digest"] = h.hexdigest()
        return self.memo["permission_digest"]

    def _holders(self) -> dict:
        """(module, class) -> [(module, holder class, attribute)] for every `*_class = X` of a project class."""
        if self._held_classes is None:
            self._held_classes = defaultdict(list)
            for s in self.files.values():
                for qual, c in s.classes.items():
                    for attr, value in c.attrs:
                        if attr.endswith("_class") and value[:1].isalpha():
                            found = self.class_named(s.module, value.strip())
                            if found is not None:
                                self._held_classes[found].append((s.module, qual, attr))
        return self._held_classes

    def method_sources(self, module: str, cls: str, bases_only: bool = False) -> list[str]:
        """The source of every method of the class and of its project bases (of the bases alone with `bases_only`)."""
        return [fn.source or "" for f, c in self.class_chain(module, cls)[1 if bases_only else 0 :]
                for qn, fn in f.functions.items() if qn.rpartition(".")[0] == c.qualname]

    def holder_sources(self, module: str, cls: str) -> list[str]:
        """The method sources of every view that names this class in a `*_class` attribute, bases included: where a
        view checks what the serializer it uses was given (`if obj.status.project != obj.project: raise`)."""
        return [src for m, q in self._family(module, cls) for hm, hq, _ in self._holders().get((m, q), ()) for src in self.method_sources(hm, hq)]

    def holders(self, module: str, cls: str) -> list[tuple[str, str]]:
        """(module, qualname) of every project class that names this class or a subclass in a `*_class` attribute,
        and of every class derived from such a holder (it inherits the attribute)."""
        out: list[tuple[str, str]] = []
        for m, q in self._family(module, cls):
            for hm, hq, _ in self._holders().get((m, q), ()):
                out += [k for k in self._family(hm, hq) if k not in out]
        return out

    def built_by_name(self, module: str, cls: str) -> bool:
        """Whether a project function builds this class or a subclass by name (`X(data=request.data)`)."""
        return any(self._calls_of_classes().get(k) for k in self._family(module, cls))

    def user_sources(self, module: str, cls: str) -> list[str]:
        """holder_sources() and the source of every function that builds the class or a subclass by name."""
        out = self.holder_sources(module, cls)
        for m, q in self._family(module, cls):
            out += [fn.source or "" for _, fn in self._calls_of_classes().get((m, q), ())]
        return out

    def takes_input(self, module: str, cls: str) -> bool:
        """Whether the project hands request data to this serializer class or a subclass: a call with `data=`
        (`IssueSerializer(data=request.data)`), or a view attribute that names it and takes input (`form_class`,
        `validator_class`, or a `serializer_class` of a view that creates or updates). Only rendered (`X(obj).data`),
        a serializer's relation fields never receive an id."""
        for m, q in self._family(module, cls):
            name = q.rsplit(".", 1)[-1]
            for _, fn in self._calls_of_classes().get((m, q), ()):
                if any(_INPUT_ARGUMENT.search(args) for args in call_arguments(fn.source or "", rf"\b{re.escape(name)}")):
                    return True
            for hm, hq, attr in self._holders().get((m, q), ()):
                if attr != "serializer_class":
                    return True
                # a create or update view of a library (REST framework's): its own code hands the request to the
                # serializer; a project's base view is read instead, below (it may write through another class)
                if any(_WRITING_VIEW.search(b) and not self.project_class(f.module, b) for f, c in self.class_chain(hm, hq) for b in c.bases):
                    return True
                for name in self._input_builders(hm, hq):
                    if name == "serializer":
                        return True  # `self.get_serializer(data=request.data)`, `self.serializer_class(data=...)`
                    held = self.class_attr(hm, hq, f"{name}_class")
                    if held is None or held[2].strip() == "None":
                        return True  # `self.get_validator(data=...)` with no validator_class: it may fall back to the serializer
        return False

    def _input_builders(self, module: str, cls: str) -> set[str]:
        """What the view's methods hand request data to: "serializer" for `self.get_serializer(data=...)` or
        `self.serializer_class(data=...)`, "validator" for `self.get_validator(data=...)` / `self.validator_class(...)`."""
        out: set[str] = set()
        for src in self.method_sources(module, cls):
            for name in set(_VIEW_BUILDER.findall(src)):
                n = name[0] or name[1]
                if n not in out and any(_INPUT_ARGUMENT.search(a) for a in call_arguments(src, rf"\bself\.(?:get_{n}(?:_class\(\))?|{n}_class)")):
                    out.add(n)
        return out

    def _bind_chain(self, module: str, cls: str, pos: list, kws: list, depth: int) -> dict[str, str]:
        """{attribute: argument source} a constructor call binds, through `super().__init__(...)` hand-ons."""
        r = self.method(module, cls, "__init__")
        if r is None or depth > 4:
            return {}
        fn = r.function
        params = list(fn.params[1:])
        bound = {p: v for p, v in zip(params, pos) if v is not None}
        bound.update({k: v for k, v in kws if (k in params or k in fn.kwonly) and v is not None})
        out = {attr: bound[param] for attr, param in fn.init_binds if param in bound}
        if fn.super_init is not None:
            spos, skws = fn.super_init
            owner = fn.qualname.rpartition(".")[0]
            chain = self.class_chain(r.file.module, owner)
            if len(chain) > 1:
                npos = [bound.get(p) if p else None for p in spos]
                nkws = [(k, bound[p]) for k, p in skws if p in bound]
                for attr, v in self._bind_chain(chain[1][0].module, chain[1][1].qualname, npos, nkws, depth + 1).items():
                    out.setdefault(attr, v)
        return out

    def qualify(self, module: str, text: str) -> str:
        """A dotted name written in `module`, qualified through that module's imports."""
        s = self.files.get(module)
        head, _, rest = text.partition(".")
        if s is None or head not in s.imports:
            return text
        return f"{s.imports[head]}.{rest}" if rest else s.imports[head]

    # -- calls

    def resolve_call(self, module: str, cls: str | None, callee: str) -> Resolved | None:
        """What `callee(...)` written in `module` (inside class `cls`) runs, when it is project code."""
        head, _, rest = callee.partition(".")
        if head in ("self", "cls") and cls is not None and rest and "." not in rest:
            return self.method(module, cls, rest)
        if head == "self" and cls is not None and "." in rest:
            # `self.exporter.dump()` (an attribute __init__ builds), `self.repos.recipes.get_one()` (properties that
            # build or are annotated with a project class): the method of the class the chain ends at
            *attrs, meth = rest.split(".")
            owner: tuple[str, str] | None = (module, cls)
            for i, attr in enumerate(attrs):
                found = self.attribute_type(owner, attr)
                if found is None and i == 0:
                    found = self.self_attribute_class(owner[0], owner[1], attr)
                owner = found
                if owner is None:
                    return None
            r = self.method(owner[0], owner[1], meth)
            return Resolved(r.function, r.file, owner) if r is not None else None
        if head == "super()" or not head:
            return None
        found = self.lookup(module, callee)
        if found is not None:
            target, qual = found
            if qual in target.functions:
                fn = target.functions[qual]
                bound = None
                if fn.kind != "function":
                    bound = (target.module, qual.rpartition(".")[0])
                return Resolved(fn, target, bound)
            owner, _, meth = qual.rpartition(".")
            if owner and owner in target.classes:  # Model.get_by_id where get_by_id is inherited
                return self.method(target.module, owner, meth)
        return None

    def self_attribute_class(self, module: str, cls: str, attr: str) -> tuple[str, str] | None:
        """The project class of `self.<attr>` when the class's `__init__` (or a base's) builds it once:
        `self.db_exporter = AlchemyExporter(url)` or `self.repo: Repo = make_repo()` annotated. None otherwise."""
        key = ("self_attr", module, cls, attr)
        if key not in self.memo:
            self.memo[key] = None
            for f, c in self.class_chain(module, cls):
                fn = f.functions.get(f"{c.qualname}.__init__")
                if fn is None or not fn.source:
                    continue
                built = _built_once(fn.source, f"self.{attr}")
                if built is not None:
                    annotation, callee = built
                    self.memo[key] = self.annotated_class(f.module, annotation) if annotation else self.class_named(f.module, callee)
                else:
                    # `def __init__(self, repos: AllRepositories): self.repos = repos`: the class the parameter is annotated with
                    given = _given_once(fn.source, f"self.{attr}")
                    annotation = dict(fn.annotations).get(given) if given else None
                    self.memo[key] = self.annotated_class(f.module, annotation) if annotation else None
                break
        return self.memo[key]

    def returned_class(self, module: str, fn: FunctionSummary) -> tuple[str, str] | None:
        """The project class a function returns (its return annotation, or the class every `return` builds), written
        in `module`: (module, qualname), or None."""
        return self.annotated_class(module, fn.returns or "")

    def annotated_class(self, module: str, annotation: str) -> tuple[str, str] | None:
        """The one project class an annotation written in `module` names (`X`, `"X"`, `X | None`, `Optional[X]`)."""
        text = annotation.strip().strip("\"'")
        for wrapper in ("Optional[", "typing.Optional["):
            if text.startswith(wrapper) and text.endswith("]"):
                text = text[len(wrapper):-1]
        parts = [p.strip().strip("\"'") for p in text.split("|") if p.strip() not in ("None", "")]
        if len(parts) != 1 or not re.fullmatch(r"[A-Za-z_][\w.]*", parts[0]):
            return None
        return self.class_named(module, parts[0])

    def local_type(self, module: str, function: str, name: str) -> tuple[str, str] | None:
        """The project class of a local of `function`: a parameter annotated with it, or a name assigned once from a
        call that builds it (`db = get_repositories(session)` where get_repositories returns AllRepositories)."""
        key = ("local_type", module, function, name)
        if key not in self.memo:
            self.memo[key] = self._local_type(module, function, name)
        return self.memo[key]

    def _local_type(self, module: str, function: str, name: str) -> tuple[str, str] | None:
        s = self.files.get(module)
        fn = s.functions.get(function) if s is not None else None
        if fn is None:
            return None
        for param, annotation in fn.annotations:
            if param == name:
                return self.annotated_class(module, annotation)
        assigned = _built_once(fn.source, name)
        if assigned is None:
            return None  # never, or more than once: not one type
        annotation, callee = assigned
        if annotation:
            return self.annotated_class(module, annotation)
        cls = self.class_named(module, callee)
        if cls is not None:
            return cls
        owner = function.rpartition(".")[0] if fn.kind != "function" else None
        r = self.resolve_call(module, owner, callee)
        return self.returned_class(r.file.module, r.function) if r is not None else None

    def attribute_type(self, owner: tuple[str, str], attr: str) -> tuple[str, str] | None:
        """The project class of `obj.attr` for an object of class `owner`: a property (`@property`, `@cached_property`)
        whose return annotation, or the class it builds, names one."""
        r = self.method(owner[0], owner[1], attr)
        if r is None or not any(d.rsplit(".", 1)[-1] in ("property", "cached_property") for d in r.function.decorators):
            return None
        return self.returned_class(r.file.module, r.function)

    def resolve_typed_call(self, module: str, function: str, callee: str) -> Resolved | None:
        """`db.recipes.get_by_slug` called in `function`, where `db` is a local of a known project class and each
        attribute a property of one: the method that runs. None when any step is not known (counted, not guessed)."""
        parts = callee.split(".")
        if len(parts) < 2 or parts[0] in ("self", "cls", "super()"):
            return None
        owner = self.local_type(module, function, parts[0])
        for attr in parts[1:-1]:
            if owner is None:
                return None
            owner = self.attribute_type(owner, attr)
        if owner is None:
            return None
        r = self.method(owner[0], owner[1], parts[-1])
        return Resolved(r.function, r.file, owner) if r is not None else None

    def setting(self, name: str) -> str | None:
        """A string constant of the project's settings (`AUTH_USER_MODEL = "accounts.User"`), from a module whose
        name says it holds settings; None when no such module sets it."""
        import ast

        for s in sorted(self.files.values(), key=lambda s: s.rel):
            if "settings" not in s.module:
                continue
            for const, value in s.constants:
                if const == name:
                    try:
                        v = ast.literal_eval(value)
                    except (ValueError, SyntaxError):
                        continue
                    if isinstance(v, str):
                        return v
        return None

    def setting_entry(self, name: str, key: str) -> list[str]:
        """The strings listed under `key` of a settings dict (`REST_FRAMEWORK = {"DEFAULT_FILTER_BACKENDS": [...]}`)."""
        import ast

        for s in sorted(self.files.values(), key=lambda s: s.rel):
            if "settings" not in s.module:
                continue
            for const, value in s.constants:
                if const != name:
                    continue
                try:
                    tree = ast.parse(value, mode="eval").body
                except SyntaxError:
                    continue
                if not isinstance(tree, ast.Dict):
                    continue
                for k, v in zip(tree.keys, tree.values):
                    if isinstance(k, ast.Constant) and k.value == key and isinstance(v, (ast.List, ast.Tuple)):
                        return [e.value for e in v.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        return []

    def class_named(self, module: str, name: str) -> tuple[str, str] | None:
        """A class named in `module` (through its imports), or a dotted path from settings: (module, qualname)."""
        found = self.lookup(module, name) if module else None
        if found is None:
            split = self.split_qualified(name)
            if split is None:
                return None
            target, parts = split
            found = (target, ".".join(parts))
        target, qual = found
        return (target.module, qual) if qual in target.classes else None

    def queryset_methods(self, name: str) -> list[Resolved]:
        """Methods called `name` on the project's QuerySet and Manager classes (`Patient.objects.for_org(org)`)."""
        if self._qs_methods is None:
            self._qs_methods = defaultdict(list)
            for s in self.files.values():
                for qual, c in s.classes.items():
                    chain = self.class_chain(s.module, qual)
                    bases = [b for _, k in chain for b in k.bases]
                    if not any(b.rsplit(".", 1)[-1].endswith(("QuerySet", "Manager")) for b in bases):
                        continue
                    for m in c.methods:
                        fn = s.functions.get(f"{qual}.{m}")
                        if fn is not None:
                            self._qs_methods[m].append(Resolved(fn, s, (s.module, qual)))
        return self._qs_methods.get(name, [])

    def calls_query_function(self, function_id: str) -> bool:
        """Whether the function calls a project function that runs queries."""
        return bool(self._callees_of_function.get(function_id, set()) & self.query_functions)

    def calls_query_functions(self, rel: str) -> bool:
        return bool(self._callees.get(rel, set()) & self.query_functions)

    def reachable(self, rel: str, only: set[str] | None = None):
        """(id, file, function) of every function a file may reach through calls, transitively (within `only`)."""
        todo = sorted(self._callees.get(rel, set()) if only is None else self._callees.get(rel, set()) & only)
        seen: set[str] = set()
        while todo:
            fid = todo.pop()
            if fid in seen:
                continue
            seen.add(fid)
            found = self.function(fid)
            if found is None:
                continue
            yield fid, found[0], found[1]
            todo.extend(sorted(self._callees_of_function.get(fid, ())))

    def helper_sources(self, rel: str) -> str:
        """The source of every query function a file may reach through calls (to choose the adapters that judge it)."""
        return "\n".join(fn.source or "" for _, _, fn in self.reachable(rel, self.query_functions))

    def enqueuers(self, function_id: str) -> list[str]:
        """Ids of the functions that queue this task (`task.delay(...)`, `task.apply_async(...)`)."""
        return list(self._enqueuers.get(function_id, ()))

    def outside_callers(self, function_id: str) -> list[str]:
        """Ids of the functions that call this one by name (not `self.` / `cls.`, not from its own class)."""
        own_class = function_id.partition(":")[2].rpartition(".")[0]
        out = []
        for rel, caller, via_self in self._callers.get(function_id, ()):
            if via_self or (own_class and caller.startswith(own_class + ".")):
                continue
            s = self.by_rel.get(rel)
            if s is not None:
                out.append(f"{s.module}:{caller}")
        return out

    def inlinable(self, function_id: str) -> bool:
        found = self.function(function_id)
        return found is not None and found[1].source is not None and function_id in self.query_functions

    def moved_to_callers(self, function_id: str, max_depth: int = INLINE_DEPTH) -> bool:
        """Every call of this function is judged where it is made: it is called, can be inlined, and no chain of
        inlinable callers above it is deeper than the analysis follows (else its body keeps its findings)."""
        if not self.inlinable(function_id) or not self.outside_callers(function_id):
            return False
        if self.called_unresolved(function_id):
            return False  # that caller is not judged, so the body is
        if any(via_self for _, _, via_self in self._callers.get(function_id, ())):
            return False  # `self.get_locked()`: the walk of the caller does not follow it, that path is judged here
        return self._level(function_id, max_depth, ()) <= max_depth

    def _level(self, fid: str, cap: int, stack: tuple) -> int:
        """Calls between the farthest entry point (a function nobody inlines) and this function."""
        if fid in stack:
            return cap + 1  # recursion: never moved
        if fid in self._levels:
            return self._levels[fid]
        callers = self.outside_callers(fid)
        if not callers or not self.inlinable(fid):
            level = 0
        else:
            level = 1 + max(self._level(c, cap, stack + (fid,)) for c in callers)
            level = min(level, cap + 1)
        self._levels[fid] = level
        return level

    def uncalled_method(self, module: str, cls: str, method: str) -> bool:
        """A method of a plain class (`plain_class`) that no code of the project calls by name, reads as a value
        (`target=self._on_end`), or could reach through `getattr(self, ...)` in its class: dead, as far as the project
        shows."""
        if not self.never_called(f"{module}:{cls}.{method}"):
            return False
        family = self._family(module, cls)  # a mixin of a framework class gets its hooks called through it
        if len(family) >= 200 or not all(self.plain_class(*k) for k in family):
            return False
        if method in self._attr_refs():
            return False
        for k in family:
            for f, c in self.class_chain(*k):
                for m in c.methods:
                    fn = f.functions.get(f"{c.qualname}.{m}")
                    if fn is None:
                        return False
                    dynamic = bool(_SELF_GETATTR.search(fn.source)) if fn.source else "getattr" in fn.called
                    if dynamic:
                        return False  # a method name chosen at run time
        return True

    def _attr_refs(self) -> frozenset[str]:
        """Every attribute name the project reads as a value rather than calling it (`target=self.on_done`)."""
        if "attr_refs" not in self.memo:
            self.memo["attr_refs"] = frozenset().union(*(s.attr_refs for s in self.files.values()))
        return self.memo["attr_refs"]

    def plain_class(self, module: str, cls: str) -> bool:
        """A class built on project classes only (and `object`, `Generic[...]`, `ABC`, `Protocol`): no framework base
        calls its methods by convention (a view's `get()`, a serializer's `validate()`), so only project code can."""
        key = ("plain_class", module, cls)
        if key not in self.memo:
            chain = self.class_chain(module, cls)
            self.memo[key] = bool(chain) and all(base.rsplit(".", 1)[-1] in _NEUTRAL_BASES or self._class_named(f.module, base) is not None
                                                 for f, c in chain for base in c.bases)
        return self.memo[key]

    def project_class(self, module: str, qualified: str) -> bool:
        """Whether a base named in `module` (qualified through its imports) is a class of the project."""
        return self._class_named(module, qualified) is not None

    def deny_list_only(self, function_id: str) -> bool:
        """Whether every call of the function the index resolves hands its result to `.exclude(...)` of another query
        (`qs.exclude(id__in=not_allowed_ids(user))`): what it selects only removes rows, whatever it reads."""
        found = self.function(function_id)
        callers = self.outside_callers(function_id)
        if found is None or not callers:
            return False
        name = re.escape(found[1].qualname.rsplit(".", 1)[-1])
        use = re.compile(rf"(?<![\w.])(?:[\w.]+\.)?{name}\s*\(")
        inside = re.compile(rf"\.exclude\(\s*(?:\w+\s*=\s*)?(?:[\w.]+\.)?{name}\s*\(")
        for caller in callers:
            got = self.function(caller)
            source = got[1].source if got is not None else None
            if not source or len(use.findall(source)) != len(inside.findall(source)):
                return False
        return True

    def callers(self, function_id: str) -> list[tuple[str, str, bool]]:
        return self._callers.get(function_id, [])

    def function(self, function_id: str) -> tuple[FileSummary, FunctionSummary] | None:
        module, _, qual = function_id.partition(":")
        s = self.files.get(module)
        if s is None or qual not in s.functions:
            return None
        return s, s.functions[qual]

    def _validators_text(self, module: str, fn: FunctionSummary) -> str:
        """The `validate_<field>()` methods of the project classes a function builds with request data."""
        if "data" not in (fn.source or ""):
            return ""
        out = []
        for c in fn.calls:
            found = self.class_named(module, c) if c.rpartition(".")[2][:1].isupper() else None
            for f, cls in self.class_chain(*found) if found is not None else ():
                for m in cls.methods:
                    if m.startswith("validate_"):
                        out.append(f"validates {c} {m}\0{f.functions[f'{cls.qualname}.{m}'].source}\n")
        return "".join(out)

    def dependency_digest(self, rel: str) -> str:
        """What a file's findings depend on in other files: the source of every helper it may inline (transitively)
        and which of its own functions have callers."""
        h = hashlib.sha256()
        s = self.by_rel.get(rel)
        if s is None:
            return ""
        for fid, target, fn in self.reachable(rel):
            h.update(f"{fid}\0{fn.line}\0{fn.source}\n".encode("utf-8", "surrogatepass"))
            for c, attrs in ((c.qualname, c.attrs) for c in target.classes.values()):
                if fid.partition(":")[2].startswith(c + "."):
                    h.update(repr((c, attrs, target.classes[c].bases)).encode("utf-8", "surrogatepass"))
        for qual in sorted(s.functions):  # whether its own functions' findings move to their callers
            if self.moved_to_callers(f"{s.module}:{qual}"):
                h.update(f"moved {qual}\n".encode())
        for qual in sorted(s.classes):  # the models its objects are built with, wherever they are built
            if self.holds_constructor_binds(s.module, qual):
                h.update(repr(self.constructor_bindings(s.module, qual)).encode("utf-8", "surrogatepass"))
        for qual in sorted(s.classes):  # whether a serializer takes request data, and what the views using it check
            if self.takes_input(s.module, qual):
                h.update(f"input {qual}\n".encode())
                h.update("\0".join(self.user_sources(s.module, qual)).encode("utf-8", "surrogatepass"))
        h.update(f"scopes off {self.scopes_off_middleware()} admin at {sorted(self.admin_prefixes())}\n".encode("utf-8", "surrogatepass"))
        h.update(f"binders {sorted(project_binders(self).items())}\n".encode("utf-8", "surrogatepass"))
        for qual, fn in sorted(s.functions.items()):  # methods called on locals of a known class (tenant-context pass)
            if fn.hints or any(is_route(d) for d in fn.decorators):
                for c in fn.calls:
                    r = self.resolve_typed_call(s.module, qual, c) if "." in c and c.partition(".")[0] not in s.imports else None
                    if r is not None:
                        h.update(f"typed {qual} {c} {r.id}\0{r.function.source}\n".encode("utf-8", "surrogatepass"))
        for qual, fn in sorted(s.functions.items()):  # what the serializers it hands request data check (validate_<field>)
            h.update(self._validators_text(s.module, fn).encode("utf-8", "surrogatepass"))
        for qual, fn in sorted(s.functions.items()):  # what every caller of a module function hands it, and checked how
            fid = f"{s.module}:{qual}"
            callers = self.outside_callers(fid) + self.enqueuers(fid) if fn.kind == "function" and (fn.params or fn.kwonly) else []
            if len(callers) <= 20:
                for caller in sorted(set(callers)):
                    got = self.function(caller)
                    if got is not None:
                        h.update(f"called by {caller}\0{got[1].source}\0{self._validators_text(got[0].module, got[1])}\n".encode("utf-8", "surrogatepass"))
        for qual, fn in sorted(s.functions.items()):  # whether a builder's SQL only removes rows where it is used
            if not SQL_BUILDERS.isdisjoint(fn.called) and self.deny_list_only(f"{s.module}:{qual}"):
                h.update(f"deny-list {qual}\n".encode())
        for qual in sorted(s.functions):  # whether only the scheduler, or only install-wide staff, run its functions
            if self.scheduled_only(f"{s.module}:{qual}"):
                h.update(f"scheduled {qual}\n".encode())
            if self.staff_only(f"{s.module}:{qual}"):
                h.update(f"staff {qual}\n".encode())
            if self.unattended_only(f"{s.module}:{qual}"):
                h.update(f"unattended {qual}\n".encode())
            if self.unqueued_task(f"{s.module}:{qual}"):
                h.update(f"unqueued {qual}\n".encode())
        for qual in sorted(s.classes):  # whether a view's permission admits only install-wide staff
            if self.staff_view(s.module, qual):
                h.update(f"staff view {qual}\n".encode())
        for qual, fn in sorted(s.functions.items()):  # whether anything calls its functions that take nothing, and its methods
            if fn.kind == "function" and self.never_called(f"{s.module}:{qual}"):
                h.update(f"never called {qual}\n".encode())
            owner, _, name = qual.rpartition(".")
            if fn.kind != "function" and owner in s.classes and self.uncalled_method(s.module, owner, name):
                h.update(f"uncalled method {qual}\n".encode())
        if self.scopes_off_middleware():  # whether a view lets requests in without a login (context.permissions)
            h.update(self.permission_digest().encode())
        for qual, c in sorted(s.classes.items()):  # whether a validate_<field>() hook runs: the fields of the classes built on it
            if any(m.startswith("validate_") for m in c.methods):
                for k in self._family(s.module, qual)[1:]:
                    h.update(repr([(f.rel, k2.attrs, k2.methods, f.classes.get(f"{k2.qualname}.Meta") is not None) for f, k2 in self.class_chain(*k)]).encode("utf-8", "surrogatepass"))
        for qual, c in sorted(s.classes.items()):  # inherited methods and attributes come from the bases' files
            for base_file, base in self.class_chain(s.module, qual)[1:]:
                h.update(repr((base_file.rel, base)).encode("utf-8", "surrogatepass"))
                for m in base.methods:
                    fn = base_file.functions.get(f"{base.qualname}.{m}")
                    if fn is not None:
                        h.update((fn.source or "").encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:16]
