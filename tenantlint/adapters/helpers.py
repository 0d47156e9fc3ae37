"""Query helpers judged where they are called.

A call that the project index resolves to a project function (`get_stream_by_id(stream_id)`,
`Query.get_by_id(query_id)`, `services.find(org, pk)`, `get_object_or_error(Milestone, user, pk=...)`) is judged by
walking the callee's body in the caller's analysis, with each parameter standing for the caller's argument:

* a parameter's *value* (a queryset, a dict of lookups) is bound in the callee's environment;
* a parameter's *expression* stands for the argument wherever a judge looks at the shape of a value
  (`stream_id` in the helper is `message.stream_id` at this call: an id read from an object in hand);
* `cls` is the class named at the call, and `self.<attr>` the value the concrete class gives that attribute
  (`resource_model = Epic`), so a helper on an abstract base or a mixin is judged per concrete model.

The queries found are reported at the call, with a related location at the helper's query. The helper's own tree
is never rewritten, so that location is exact. A helper called from elsewhere in the project is not reported in its
own body a second time (its queries moved to the call sites); one nobody calls is reported there as before.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from tenantlint.index.project import INLINE_DEPTH, SYMBOLIC_QUERY, ProjectIndex, Resolved
from tenantlint.index.summary import dedent_source, module_name
from tenantlint.adapters.syntax import _body, _exits
from tenantlint.python_module import children, ImportTable, TextSpans, descendants, dotted_name
from tenantlint.types import SiteKind, Span

MAX_DEPTH = INLINE_DEPTH


@dataclass(frozen=True)
class Via:
    """The helper query an origin was found in: file, snippet node, and the function it belongs to."""

    rel: str
    function: str
    node: cst.CSTNode
    snippet: "Snippet"


class Snippet:
    """One function's source parsed on its own; positions are mapped back to its file."""

    __slots__ = ("fdef", "module", "line", "indent", "_positions", "_spans", "assigned", "local_names")

    def __init__(self, module: cst.Module, line: int, indent: int):
        self.module = module
        self.fdef = module.body[0]
        self.line = line
        self.indent = indent
        self._positions = None
        self._spans: TextSpans | None = None
        self.assigned = _assigned_names(self.fdef)
        self.local_names = frozenset(self.assigned | param_names(self.fdef))

    def span(self, node: cst.CSTNode) -> Span | None:
        """Where `node` is in its file: found by its text when that occurs once in the function (most helper queries),
        else through libcst's positions of the function, resolved once."""
        found = self._text_span(node)
        if found is not None:
            return found
        if self._positions is None:
            self._positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        rng = self._positions.get(node)
        if rng is None:
            return None
        return Span(
            rng.start.line + self.line - 1,
            rng.start.column + 1 + (self.indent if rng.start.line >= 1 else 0),
            rng.end.line + self.line - 1,
            rng.end.column + 1 + self.indent,
        )

    def _text_span(self, node: cst.CSTNode) -> Span | None:
        if self._spans is None:
            self._spans = TextSpans(self.module.code, self.module)
        found = self._spans.of(node)
        if found is None:
            return None
        return Span(found.start_line + self.line - 1, found.start_col + self.indent, found.end_line + self.line - 1, found.end_col + self.indent)


_SNIPPETS: dict[str, Snippet | None] = {}  # per process: a helper is parsed once per run and worker


def snippet(r: Resolved) -> Snippet | None:
    key = f"{r.id}\0{r.function.line}\0{hash(r.function.source)}"
    if key in _SNIPPETS:
        return _SNIPPETS[key]
    found = None
    if r.function.source:
        try:
            module = cst.parse_module(dedent_source(r.function.source))
            if module.body and isinstance(module.body[0], cst.FunctionDef):
                found = Snippet(module, r.function.line, r.function.col)
        except (cst.ParserSyntaxError, RecursionError):
            found = None
    _SNIPPETS[key] = found
    return found


@dataclass
class Frame:
    """One level of inlining: how names in the callee's body stand for the caller's expressions."""

    module: str  # module whose imports resolve plain names
    self_class: tuple[str, str] | None  # (module, class qualname) that `self` / `cls` are
    subst: dict  # parameter -> caller expression node
    returns: list | None  # values returned by the callee to the caller (None: a return lets the value escape)
    returned: set  # ids of origins returned to the caller: not judged at the callee's end
    function_id: str = ""
    inline: bool = False  # walking another function's body for a call or a subclass
    local_names: frozenset = frozenset()  # names the walked function binds itself (parameters, assignments)
    attr_models: dict | None = None  # `self.<attribute>` -> the model an object of the class was built with


# the last word of a call that builds or refines a statement or queryset: `select(...)`, `X.objects.filter(...)`
_STATEMENT_WORDS = frozenset({"select", "query", "filter", "filter_by", "where", "all", "exclude", "options", "order_by",
                              "join", "outerjoin", "select_related", "prefetch_related", "annotate", "values", "distinct"})


def _call_word(call: cst.Call) -> str:
    func = call.func
    return func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""


# `return query`, `return query.options(...)`: a function handing back (a refinement of) a name
_RETURNS_NAME = re.compile(r"\breturn\s+\(?\s*([A-Za-z_]\w*)\b")


def _handed_back(fn, params: set[str]) -> set[str]:
    """Which of `params` the function's text returns, or returns refined (`return query.options(...)`)."""
    return {m.group(1) for m in _RETURNS_NAME.finditer(fn.source or "")} & params


def _super_call(node: cst.Call) -> bool:
    """`super().method(...)` (no arguments to super: the class the method is defined in)."""
    f = node.func
    return isinstance(f, cst.Attribute) and isinstance(f.value, cst.Call) and not f.value.args and isinstance(f.value.func, cst.Name) and f.value.func.value == "super"


def simple_argument(node: cst.BaseExpression) -> bool:
    return isinstance(node, (cst.Name, cst.Attribute, cst.Subscript, cst.SimpleString, cst.Integer, cst.ConcatenatedString))


def callee_name(func: cst.BaseExpression) -> str | None:
    return dotted_name(func)


def bind_arguments(fn, call: cst.Call, implicit_first: bool) -> tuple[dict, dict, dict, list]:
    """{parameter: argument node}, {**kwargs parameter: ([(key, node)], **argument)}, {*args parameter: [extra
    positional argument nodes], None when the call spreads a sequence}, [default parameters to parse]."""
    params = list(fn.params[1:] if implicit_first and fn.params else fn.params)
    bound: dict[str, cst.BaseExpression] = {}
    extra_kw: list[tuple[str, cst.BaseExpression]] = []
    extra_pos: list[cst.BaseExpression] | None = []
    star_kw: cst.BaseExpression | None = None
    i = 0
    for a in call.args:
        if a.star == "*":
            i = len(params)  # the rest of the positional parameters are unknown
            extra_pos = None
            continue
        if a.star == "**":
            star_kw = a.value
            continue
        if a.keyword is None:
            if i < len(params):
                bound[params[i]] = a.value
            elif extra_pos is not None:
                extra_pos.append(a.value)
            i += 1
        elif a.keyword.value in params or a.keyword.value in fn.kwonly:
            bound[a.keyword.value] = a.value
        else:
            extra_kw.append((a.keyword.value, a.value))
    kwargs = {fn.kwarg: (extra_kw, star_kw)} if fn.kwarg else {}
    varargs = {fn.vararg: extra_pos} if fn.vararg else {}
    defaults = [p for p, _ in fn.defaults if p not in bound]
    return bound, kwargs, varargs, defaults


def related_message(function: str) -> str:
    return f"the query in {function}()"


class HelperCalls:
    """The part of the statement walker that judges calls of project helpers (mixed into ModuleAnalysis)."""

    def init_helpers(self, module, index: ProjectIndex | None) -> None:
        self.index = index
        self.module_id = module_name(module.path)
        self.frames: list[Frame] = [Frame(self.module_id, None, {}, None, set())]
        self.inline_stack: list[str] = []
        self.super_frames = 0  # frames of inline_stack entered through `super().method(...)`
        self.import_stack: list = []

    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    def walk_in(self, frame: Frame, snip: Snippet, env, function: str) -> None:
        """Walk a function's body as `frame` says (inlined for a call, a subclass or a probe)."""
        self.enter(frame)
        saved, self.required_params = self.required_params, _required_params(snip.fdef)
        try:
            end = self.block(_walk_body(snip.fdef), env, function)
            if end is not None:
                self.function_end(end)
        finally:
            self.required_params = saved
            self.leave()

    def enter(self, frame: Frame) -> None:
        """Names in the callee's body resolve through the callee module's imports (`select`, `Q`, its models)."""
        self.frames.append(frame)
        self.inline_stack.append(frame.function_id)
        self.import_stack.append(self.module.imports)
        callee = self.index.files.get(frame.module) if self.index is not None else None
        if callee is not None and frame.module != self.module_id:
            self.module.imports = ImportTable(dict(callee.imports))

    def leave(self) -> None:
        self.frames.pop()
        self.inline_stack.pop()
        self.module.imports = self.import_stack.pop()

    # -- what names stand for

    def subst_node(self, node: cst.BaseExpression) -> cst.BaseExpression:
        """A callee's parameter -> the caller's argument expression (through every level of inlining)."""
        if isinstance(node, cst.Name) and len(self.frames) > 1:
            for frame in reversed(self.frames):
                rep = frame.subst.get(node.value)
                if rep is None:
                    return node
                node = rep
                if not isinstance(node, cst.Name):
                    return node
        return node

    def bound_model(self, node: cst.BaseExpression):
        """`cls` in a classmethod called as `Model.method()`, `self.model` / `self.resource_model` set by the class."""
        if self.index is None or self.frame.self_class is None:
            return None
        if self.frame.attr_models and isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
            found = self.frame.attr_models.get(node.attr.value)
            if found is not None:
                return found
        mod, qual = self.frame.self_class
        if isinstance(node, cst.Name) and node.value == "cls":
            return self.schema.model(qual.rsplit(".", 1)[-1])
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value in ("self", "cls"):
            found = self.index.class_attr(mod, qual, node.attr.value)
            if found is None:
                return None
            value = found[2].strip()
            name = value.rsplit(".", 1)[-1]
            if not name.isidentifier() or not name[:1].isupper():
                return None
            return self.schema.model(name)
        return None

    # -- calls

    def pass_through(self, node: cst.Call, env):
        """`with_options(select(Doc))`, where `with_options` is a project function that runs no query and returns its
        parameter refined (`return query.options(...)`): the statement handed in comes back and runs in the caller,
        with what the caller adds. Its value, when the argument is a query; None (and nothing evaluated) otherwise."""
        from tenantlint.adapters.values import QVal

        name = callee_name(node.func)
        if self.index is None or not name or name.split(".", 1)[0] in ("self", "cls", "super()") or name.split(".", 1)[0] in self.frame.local_names:
            return None
        if not any(isinstance(a.value, cst.Call) and _call_word(a.value) in _STATEMENT_WORDS for a in node.args):
            return None  # (most calls hand no statement built in place: decided without the index)
        r = self.index.resolve_call(self.frame.module, None, name)
        if r is None or r.id in self.index.query_functions or r.function.kind not in ("function", "staticmethod"):
            return None
        params = {p for p in (*r.function.params, *r.function.kwonly) if p}
        handed = _handed_back(r.function, params)
        if len(handed) != 1:
            return None
        bound = bind_arguments(r.function, node, False)[0]
        arg = bound.get(next(iter(handed)))
        if not isinstance(arg, cst.Call):
            return None
        value = self.expr(arg, env, assign=True)
        for a in node.args:
            if a.value is not arg:
                self.expr(a.value, env)
        return value if isinstance(value, QVal) else QVal(())

    def principal_method(self, method: str):
        """The method `method` of the project's user model (`AUTH_USER_MODEL`, or the model the schema takes as the
        user), when it runs queries: what `request.user.<method>()` runs."""
        if self.index.user_class is None:
            return None
        r = self.index.method(*self.index.user_class, method)
        return r if r is not None and r.id in self.index.query_functions else None

    def super_method(self, function_id: str, name: str):
        """What `super().name(...)` runs inside the method `function_id`: `name` of the nearest base after the class
        that defines that method (single chains; Python's MRO otherwise)."""
        module, _, qual = function_id.partition(":")
        owner = qual.rpartition(".")[0]
        return self.index.method(module, owner, name, bases_only=True) if owner else None

    def helper_call(self, node: cst.Call, env):
        from tenantlint.adapters.values import _SEQ, DictKeys, QVal, StarArgs

        if self.index is None:
            return None
        via_super = _super_call(node) and bool(self.frame.function_id) and self.frame.self_class is not None
        # a chain of `super()` calls is one method spread over the bases: it does not count as more levels
        if len(self.inline_stack) - self.super_frames >= MAX_DEPTH or self.super_frames > 4:
            return None
        name = callee_name(node.func)
        attr_models = None
        typed = False  # a method of a local of a known project class
        principal = False  # a method of the user model called on the requesting user
        if via_super:
            # `return super().filter_queryset(request, qs, view)`: the next base's version, with `self` still this object
            r = self.super_method(self.frame.function_id, node.func.attr.value)
            if r is None or r.id in self.inline_stack:
                return None
        elif name is not None and name.startswith("self.") and name.count(".") > 1 and self.frame.self_class is not None:
            # `self.repos.notes.by_author(pk)`: a method of the class the chain of attributes builds, judged here
            r = self.index.resolve_call(self.frame.self_class[0], self.frame.self_class[1], name)
            if r is None or r.id in self.inline_stack or r.id not in self.index.query_functions:
                return None
        elif name is None or name.split(".", 1)[0] in ("self", "cls", "super()"):
            attr_models = self.frame.attr_models
            if name is None or not name.startswith("self.") or name.count(".") != 1 or self.frame.self_class is None:
                return None
            # methods of the walked class are judged in their own bodies, except `self._query()` in a method of an
            # object built with a model, and `self._ids_for(slugs, Category)`: a method that queries the model passed
            r = self.index.method(*self.frame.self_class, name[5:])
            if r is None or r.id in self.inline_stack:
                return None
            passes_model = r.id in self.index.model_param_functions and any(self.model_named(a.value) is not None for a in node.args)
            if not passes_model and not (
                    attr_models and (r.id in self.index.query_functions or any(f"self.{a}" in (r.function.source or "") for a in attr_models))):
                return None
        else:
            # a local variable (a closure, a parameter) shadows a project function of its name
            r = None if name.split(".", 1)[0] in self.frame.local_names else self.index.resolve_call(self.frame.module, None, name)
            if r is None and isinstance(node.func, cst.Attribute) and (dotted_name(node.func.value) or "").endswith("request.user"):
                # `request.user.get_events_for_permission(...)`: a method of the project's user model, on the principal
                r = self.principal_method(node.func.attr.value)
                principal = r is not None
            if r is None and "." in name and name[:1].islower():
                # a local or parameter of a known project class (`service = UserService(repos)`, `repos: Repos`): the
                # method of that class, as the project index resolves it
                function = self.frame.function_id.partition(":")[2] if self.frame.function_id else self.function
                r = self.index.resolve_typed_call(self.frame.module, function, name)
                typed = r is not None
            if r is None or r.id in self.inline_stack or r.id not in self.index.query_functions:
                return None  # not project code, recursion, or a function that runs no query
        snip = snippet(r)
        if snip is None:
            return None
        self_class = self.frame.self_class
        if not via_super and (r.function.kind == "classmethod" or (r.function.kind == "method" and r.bound is not None and not _is_instance_call(node))):
            self_class = r.bound
        elif typed or principal:
            self_class = r.bound  # `service.reset()`: `self` in the method is the local's object
        if attr_models is None and not via_super and self.judged_clean(r, snip, self_class):
            for a in node.args:  # nothing the arguments can change: only they are left to judge
                self.expr(a.value, env)
            return QVal(())
        implicit = r.function.kind in ("method", "classmethod") and isinstance(node.func, cst.Attribute)
        bound, kwargs, varargs, defaults = bind_arguments(r.function, node, implicit)
        if principal and r.function.params and r.function.params[0] not in snip.assigned:
            bound[r.function.params[0]] = node.func.value  # `self` in the method is the requesting user
        assigned = snip.assigned
        callee_env, subst, mark_values = self.bind_parameters(bound, env, snip)
        for param, (extra, star) in kwargs.items():
            keys, values = set(), []
            for k, v in extra:
                self.expr(v, env)
                keys.add(k)
                held = self.held_keys(v, env) if hasattr(self, "held_keys") else v  # `pk=status_id`, a key held in a local
                if hasattr(self, "pinned_field"):
                    self.pinned_field(held, env)  # `pk=data["status_id"]` of a validator that checked it
                values.append((k, self.subst_node(held)))
            complete = star is None
            if star is not None:
                sv = self.expr(star, env, assign=True)
                if isinstance(sv, DictKeys):
                    keys |= set(sv.keys)
                    values.extend(sv.values)
                    complete = sv.complete
            callee_env[param] = DictKeys(frozenset(keys), tuple(values), complete)
        for param, passed in varargs.items():  # `*filter_args`: the caller's extra positional arguments
            for v in passed or ():
                self.expr(v, env)
            callee_env[param] = StarArgs(tuple(self.subst_node(v) for v in passed) if passed is not None else None)
        for param, default in r.function.defaults:
            if param in defaults and param not in assigned:
                node_default = _parsed_default(default)
                if node_default is not None:
                    subst[param] = node_default
        memo_key = None
        if not any(isinstance(v, QVal) for v in mark_values):
            # the same helper called with the same argument text judges the same: replay what it found
            memo_key = (type(self).__name__, len(self.inline_stack), r.id, self_class, tuple(sorted((a, m.name) for a, m in (attr_models or {}).items())),
                        tuple(sorted((p, _code(n)) for p, n in subst.items())),
                        # what the caller knows of an argument beyond its text: a key it holds, an id a validator checked
                        tuple(sorted((k, _code(v), id(v) in getattr(self, "pinned", ())) for k, v in callee_env.items() if k.startswith("__key__"))),
                        tuple(sorted((k, v) for k, v in callee_env.items() if k.startswith(("__ids__", "__columns__")))),
                        tuple(sorted(p for p, n in subst.items() if id(n) in getattr(self, "pinned", ()))),
                        tuple(sorted((p, tuple(sorted(d.keys)), tuple((_code(v), id(v) in getattr(self, "pinned", ())) for _, v in d.values), d.complete)
                                     for p, d in callee_env.items() if isinstance(d, DictKeys))),
                        tuple(sorted((p, tuple(_code(v) for v in d.values) if d.values is not None else None) for p, d in callee_env.items() if isinstance(d, StarArgs))))
            memo = _memo(self.schema)
            if memo_key in memo:
                for model, api, kind, observed, insert, via, guard in memo[memo_key]:
                    origin = self.new_origin(model, api, insert=insert)
                    origin.kind, origin.observed, origin.via, origin.anchor, origin.guard = kind, dict(observed), via, node, guard
                    origin.seq = next(_SEQ)  # it ran here: a check right after this statement guards it
                return QVal(())
        mark = len(self.origins)
        frame = Frame(r.file.module, self_class, subst, [], set(), r.id, inline=True, local_names=snip.local_names, attr_models=attr_models)
        self.super_frames += via_super
        try:
            self.walk_in(frame, snip, callee_env, self.function)
        finally:
            self.super_frames -= via_super
        # a query handed back refined (`return query.options(...)`) runs in the caller, with what the caller adds
        handed_back = {id(st.origin) for value in frame.returns if isinstance(value, QVal) for st in value.states}
        for value in mark_values:  # a query handed to a helper that never ran it: judged as it was
            if isinstance(value, QVal):
                for s in value.states:
                    if not s.origin.observed and id(s.origin) not in handed_back:
                        s.origin.observe(s.origin.kind or SiteKind.READ, s.term)
        short = r.function.qualname
        for origin, _ in self.origins[mark:]:
            if origin.via is None and origin.anchor is not None:
                origin.via = Via(r.file.rel, short, origin.anchor, snip)
            if not origin.api.startswith(f"{short}()"):
                origin.api = f"{short}() -> {origin.api}"
            origin.anchor = node
            origin.statement = None if self.frame.inline else self.current_statement
        states = []
        for value in frame.returns:
            if isinstance(value, QVal):
                for s in value.states:
                    if s not in states:
                        states.append(s)
        if memo_key is not None and not states:
            _memo(self.schema)[memo_key] = [(o.model, o.api, o.kind, dict(o.observed), o.insert, o.via, o.guard) for o, _ in self.origins[mark:]]
        return QVal(tuple(states))

    def bind_parameters(self, bound: dict, env, snip: Snippet) -> tuple:
        """(callee environment, substitutions, argument values): each argument is evaluated once in the caller; its
        value is bound to the parameter, and a simple expression stands for it where the callee does not reassign it."""
        callee_env = self.new_env()
        subst: dict = {}
        values = []
        for param, arg in bound.items():
            arg = self.subst_node(arg)
            if isinstance(arg, cst.Name) and f"__principal__{arg.value}" in env:
                arg = env[f"__principal__{arg.value}"]  # `owner = request.user; helper(owner)`: the helper is handed the principal
            value = self.expr(arg, env, assign=True)
            if value is not None:
                callee_env[param] = value
                values.append(value)
            held = env.get(f"__key__{arg.value}") if isinstance(arg, cst.Name) else None
            if hasattr(self, "pinned_field") and self.pinned_field(arg, env) and held is None:
                held = arg  # `helper(data["bulk_stories"])`: a list a validator checked, handed on
            if isinstance(held, (cst.Attribute, cst.Call, cst.Subscript, cst.Name)) and param not in snip.assigned:
                # `namespace = build_namespace(project); get_timeline(project, namespace)`: the helper is handed the key
                callee_env[f"__key__{param}"] = held
            if isinstance(arg, cst.Name) and param not in snip.assigned:
                for fact in ("__ids__", "__columns__"):  # `helper(ids)` with `ids` a list of one tenant's ids built here
                    if f"{fact}{arg.value}" in env:
                        callee_env[f"{fact}{param}"] = env[f"{fact}{arg.value}"]
            if param not in snip.assigned and simple_argument(arg):
                subst[param] = arg
        return callee_env, subst, values

    def queryset_method_call(self, node: cst.Call, method: str, base, env):
        """`Patient.objects.for_org(org)`: a method of the project's QuerySet or Manager class, walked with `self` the
        query it is called on; its result is the refined query. None when no one method of that name is found."""
        from tenantlint.adapters.values import QVal

        if self.index is None or len(self.inline_stack) >= MAX_DEPTH:
            return None
        found = self.index.queryset_methods(method)
        if len(found) != 1 or found[0].id in self.inline_stack:
            return None
        r = found[0]
        snip = snippet(r)
        if snip is None:
            return None
        bound = bind_arguments(r.function, node, True)[0]
        callee_env, subst, _ = self.bind_parameters(bound, env, snip)
        callee_env["self"] = base
        frame = Frame(r.file.module, r.bound, subst, [], set(), r.id, inline=True)
        self.walk_in(frame, snip, callee_env, self.function)
        states = [st for v in frame.returns if isinstance(v, QVal) for st in v.states]
        return QVal(tuple(dict.fromkeys(states)))  # empty when the method ran the query itself (count(), update())

    def guard_in_helper(self, stmt, name: str) -> tuple[str, str] | None:
        """`check_dataset_permission(dataset, user)` right after `dataset = <fetch>`: a project function handed the
        row that, among its first statements, leaves on a tenant mismatch of that parameter (`if dataset.tenant_id !=
        user.current_tenant_id: raise NoPermission`)."""
        if self.index is None or not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            return None
        small = stmt.body[0]
        # `check_access(row, user)`, `ok = check_access(...)`, or `return show(request, row)` handing the row on
        call = small.value if isinstance(small, (cst.Expr, cst.Assign, cst.Return)) else None
        if not isinstance(call, cst.Call):
            return None
        handed = self.row_parameter(call, name)
        if handed is None:
            return None
        callee, snip, param = handed
        for inner in _walk_body(snip.fdef)[:6]:
            found = self._mismatch_exit(inner, param)
            if found is not None:
                return f"{callee}() checks {found[0]}", found[1]
        return None

    def row_parameter(self, call: cst.Call, name: str) -> tuple[str, Snippet, str] | None:
        """(callee, its snippet, its parameter) when `call` hands the row held in `name` to a project function."""
        callee = callee_name(call.func)
        r = self.index.resolve_call(self.frame.module, None, callee) if callee and not callee.startswith(("self.", "cls.")) else None
        snip = snippet(r) if r is not None else None
        if snip is None:
            return None
        implicit = r.function.kind in ("method", "classmethod") and isinstance(call.func, cst.Attribute)
        bound = bind_arguments(r.function, call, implicit)[0]
        params = [p for p, arg in bound.items() if isinstance(arg, cst.Name) and arg.value == name]
        return (callee, snip, params[0]) if params else None

    def predicate_gate(self, stmt, following: list, name: str) -> tuple[str, str] | None:
        """`if can_access(user, obj): return obj` then `raise`, or `if not can_access(user, obj): raise`: a project
        predicate handed the row that answers False on a tenant mismatch (`if stream.realm_id !=
        user.realm_id: return False`, on the row or on a row read through it). The row leaves only when it holds."""
        if self.index is None or not isinstance(stmt, cst.If) or stmt.orelse is not None:
            return None
        test, negated = stmt.test, False
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, negated = test.expression, True
        if isinstance(test, cst.Await):
            test = test.expression
        if not isinstance(test, cst.Call) or not _exits(_body(stmt.body)):
            return None
        if not negated and not (following and _exits(following[:1])):
            return None  # `if can_access(...): return obj` must be followed by leaving: the row goes nowhere else
        handed = self.row_parameter(test, name)
        if handed is None:
            return None
        callee, snip, param = handed
        found = _tenant_mismatch_exit(snip.fdef, param, self.tenant_key_names())
        if found is None:
            return None
        return f"{callee}() answers False when {found}", ""

    def judged_clean(self, r: Resolved, snip: Snippet, self_class) -> bool:
        """The helper judged once on its own (parameters unknown): every query it runs or returns is restricted by
        something no argument can change. Then no call of it needs judging again (most calls of most helpers)."""
        from tenantlint.adapters.flow import S
        from tenantlint.adapters.values import QVal

        key = ("clean", type(self).__name__, len(self.inline_stack), r.id, self_class)
        memo = _memo(self.schema)
        if key in memo:
            return memo[key]
        # every parameter, self and cls included: the receiver comes from the caller too
        params = {p for p in (*r.function.params, *r.function.kwonly, r.function.kwarg, r.function.vararg) if p}
        saved, self.origins = self.origins, []
        frame = Frame(r.file.module, self_class, {}, [], set(), r.id, inline=True)
        try:
            self.walk_in(frame, snip, self.new_env(), self.function)
        finally:
            found, self.origins = self.origins, saved

        def fixed(term) -> bool:
            return term.status == S and not any(params.intersection(_WORDS.findall(p)) for p in term.predicates)

        # a model that comes from a parameter (`get_object_or_404(queryset, ...)`) is only known at the call, and a
        # statement handed in and back refined (`return query.options(...)`) goes on in the caller
        clean = not SYMBOLIC_QUERY.search(r.function.source or "") and r.id not in self.index.model_param_functions \
            and not _handed_back(r.function, params - {"self", "cls"})
        clean = clean and all(fixed(t) for o, _ in found for t in o.observed.values())
        clean = clean and all(fixed(st.term) for v in frame.returns if isinstance(v, QVal) for st in v.states)
        clean = clean and not any(o.insert for o, _ in found)
        memo[key] = clean
        return clean

    def inherited_method_walk(self, qualname: str, method: str):
        """Walk `method` as the class `qualname` inherits it from a base in another module (DRF's get_queryset() on a
        project base view): `self` is this class. Its own queries are reported in its module, so only the effect on
        this class's values stays. Returns the method's definition, or None when no project base defines it."""
        if self.index is None or self.frame.inline:
            return None
        r = self.index.method(self.module_id, qualname, method)
        if r is None or r.file.module == self.module_id:
            return None
        snip = snippet(r)
        if snip is None:
            return None
        saved, self.origins = self.origins, []
        self.enter(Frame(r.file.module, (self.module_id, qualname), {}, None, set(), r.id, inline=True))
        try:
            self.function_def(snip.fdef)
        finally:
            self.leave()
            self.origins = saved
        return snip.fdef

    _PACKAGE_BACKENDS = ("rest_framework.", "django_filters.", "rest_framework_filters.", "drf_spectacular.")

    def filter_backend_term(self, qualname: str, model, module: str | None = None) -> tuple | None:
        """DRF passes a viewset's queryset through `filter_queryset()`: a project backend in the view's
        `filter_backends` (or the settings' DEFAULT_FILTER_BACKENDS) whose `filter_queryset` restricts by tenant
        restricts the view's reads. (scoped?, text): scoped when one does, None when none is declared or all come
        from packages that filter by request parameters, unknown (False) when one cannot be read."""
        if self.index is None or model is None:
            return None
        names: list[tuple[str, str]] = []
        unknown = ""
        found = self.index.class_attr(module or self.module_id, qualname, "filter_backends")
        if found is not None:
            import ast

            file, _, value = found
            try:
                tree = ast.parse(value, mode="eval").body
            except SyntaxError:
                tree = None
            if isinstance(tree, (ast.List, ast.Tuple)):
                from tenantlint.index.summary import dotted as ast_dotted

                names = [(file.module, n) for n in (ast_dotted(e) for e in tree.elts) if n]
                built = [e for e in tree.elts if ast_dotted(e) is None]
                if built:  # `custom_filter_class(Backend, param="x")`: a class built by a call, not read
                    unread = ast.unparse(built[0])
                    unknown = unread if len(unread) <= 60 else unread[:57] + "..."
        else:
            names = [("", n) for n in self.index.setting_entry("REST_FRAMEWORK", "DEFAULT_FILTER_BACKENDS")]
        for module, name in names:
            qualified = name
            if module:
                imports = self.index.files[module].imports
                head, _, rest = name.partition(".")
                qualified = f"{imports[head]}.{rest}".rstrip(".") if head in imports else name
            if qualified.startswith(self._PACKAGE_BACKENDS):
                continue
            cls = self.index.class_named(module, name)
            r = self.index.method(cls[0], cls[1], "filter_queryset") if cls else None
            if r is None:
                unknown = unknown or name
                continue
            if self.backend_restricts(r, model):
                return True, f"{name}.filter_queryset"
        return (False, f"filter backend {unknown} cannot be read") if unknown else None

    def backend_restricts(self, r: Resolved, model) -> bool:
        from tenantlint.adapters.flow import NONE_TERM, S
        from tenantlint.adapters.values import Origin, QState, QVal

        key = ("backend", type(self).__name__, r.id, model.name)
        memo = _memo(self.schema)
        if key in memo:
            return memo[key]
        snip = snippet(r)
        params = [p for p in r.function.params[1:]]
        qs_param = "queryset" if "queryset" in params else (params[1] if len(params) > 1 else None)
        if snip is None or qs_param is None:
            memo[key] = False
            return False
        probe = Origin(model, "probe")
        env = self.new_env()
        env[qs_param] = QVal((QState(probe, NONE_TERM),))
        saved, self.origins = self.origins, []
        frame = Frame(r.file.module, (r.file.module, r.function.qualname.rpartition(".")[0]), {}, [], set(), r.id, inline=True)
        try:
            self.walk_in(frame, snip, env, self.function)
        finally:
            self.origins = saved
        states = [st for v in frame.returns if isinstance(v, QVal) for st in v.states if st.origin is probe]
        memo[key] = bool(states) and all(st.term.status == S for st in states)
        return memo[key]

    def judge_inherited_methods(self, node: cst.ClassDef, qualname: str) -> dict[str, list]:
        """`resource_model = Epic` on a subclass: each base method that uses `self.resource_model` is judged with it,
        and what it finds is reported at that assignment (the mixin's own body sees no model). Returns the origins
        each method walked started, by method name."""
        walked: dict[str, list] = {}
        if self.index is None or self.frame.inline:
            return walked
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        attrs: dict[str, cst.BaseExpression] = {}
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign):
                a = stmt.body[0]
                if len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Name) and isinstance(a.value, (cst.Name, cst.Attribute)):
                    if self.model_named(a.value) is not None:
                        attrs[a.targets[0].target.value] = a.value
        if not attrs:
            return walked
        chain = self.index.class_chain(self.module_id, qualname)
        for base_file, base in chain[1:]:
            for m in base.methods:
                r = self.index.method(self.module_id, qualname, m)
                if r is None or r.file.module != base_file.module or r.function.qualname != f"{base.qualname}.{m}":
                    continue  # overridden nearer the concrete class
                used = [a for a in attrs if f"self.{a}" in (r.function.source or "") or f"cls.{a}" in (r.function.source or "")]
                snip = snippet(r) if used else None
                if snip is None or r.id in self.inline_stack:
                    continue
                anchor = attrs[used[0]]
                mark = len(self.origins)
                self.walk_in(Frame(r.file.module, (self.module_id, qualname), {}, None, set(), r.id, inline=True), snip, self.new_env(), qualname)
                for origin, _ in self.origins[mark:]:
                    if origin.via is None and origin.anchor is not None:
                        origin.via = Via(r.file.rel, r.function.qualname, origin.anchor, snip)
                    origin.api = f"{qualname}.{m}() with {used[0]} = {origin.model.name}"
                    origin.anchor = anchor
                walked[m] = [o for o, _ in self.origins[mark:]]
                if m == "get_queryset" and self.origins[mark:] and hasattr(self, "apply_filter_backends"):
                    # a view's inherited get_queryset() passes through this view's filter backends, as its own would
                    self.apply_filter_backends([o for o, _ in self.origins[mark:]])
        return walked

    def judge_constructor_models(self, node: cst.ClassDef, qualname: str) -> None:
        """`Repository(session, ShoppingItem)` keeps its model in `self.model`: each method of the class that queries
        `self.model` is judged with a tenant-owned model the project builds it with, and reported in its own body
        (the class itself names no model). Objects built only with shared tables add nothing."""
        if self.index is None or self.frame.inline or not self.index.holds_constructor_binds(self.module_id, qualname):
            return
        models: dict[str, list] = {}
        for module, binds, _, _ in self.index.constructor_bindings(self.module_id, qualname):
            for attr, source in binds.items():
                info = self.schema.model_for(self.index.qualify(module, source.strip()))
                if info is not None and info.source in self.SOURCES and info.is_tenant_table and info not in models.setdefault(attr, []):
                    models[attr].append(info)
        # a model with the tenant column of its own first: the one a generic filter by that column would restrict
        models = {a: sorted(ms, key=lambda m: m.tenant.tenant_column is None) for a, ms in models.items() if ms}
        if not models:
            return
        summary = self.index.files.get(self.module_id)
        for stmt in (node.body.body if isinstance(node.body, cst.IndentedBlock) else ()):
            if not isinstance(stmt, cst.FunctionDef) or stmt.name.value == "__init__":
                continue
            fn = summary.functions.get(f"{qualname}.{stmt.name.value}") if summary is not None else None
            source = fn.source if fn is not None else None
            used = [a for a in models if source and f"self.{a}" in source]
            callers = self.index.callers(f"{self.module_id}:{qualname}.{stmt.name.value}")
            private = stmt.name.value.startswith("_") and not stmt.name.value.startswith("__")
            if not used or (private and callers and all(via_self for _, _, via_self in callers)):
                continue  # a private helper (`self._query()`): judged inside the methods that call it
            chosen = {a: models[a][0] for a in used}
            mark = len(self.origins)
            frame = self.frame
            saved = frame.attr_models
            frame.attr_models = chosen
            try:
                self.function_def(stmt)
            finally:
                frame.attr_models = saved
            kept = []
            for origin, function in self.origins[mark:]:
                if origin.model not in chosen.values():
                    continue  # a query on a model the method names itself: judged in the method's own walk
                attr = next(a for a in used if chosen[a] is origin.model)
                others = len(models[attr]) - 1
                more = f" (and {others} other tenant model{'s' if others != 1 else ''} it is built with)" if others else ""
                origin.api = f"{qualname}.{stmt.name.value}() with self.{attr} = {origin.model.name}{more}: {origin.api}"
                kept.append((origin, function))
            self.origins[mark:] = kept

    # -- reporting

    def moved_to_callers(self, function: str) -> bool:
        return self.index is not None and self.index.moved_to_callers(f"{self.module_id}:{function}", MAX_DEPTH)

    def related_of(self, origin) -> tuple:
        via = origin.via
        if via is None:
            return ()
        span = via.snippet.span(via.node)
        if span is None:
            return ()
        return ((via.rel, span, related_message(via.function)),)


_DEFAULTS: dict[str, cst.BaseExpression | None] = {}
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MEMO: dict = {"schema": None, "calls": {}}


def _memo(schema) -> dict:
    """Judgements of helper calls, per process and schema (a new run starts afresh)."""
    if _MEMO["schema"] is not schema:
        _MEMO["schema"], _MEMO["calls"] = schema, {}
    return _MEMO["calls"]


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _parsed_default(source: str) -> cst.BaseExpression | None:
    if source not in _DEFAULTS:
        try:
            _DEFAULTS[source] = cst.parse_expression(source)
        except (cst.ParserSyntaxError, RecursionError):
            _DEFAULTS[source] = None
    return _DEFAULTS[source]


def _is_instance_call(node: cst.Call) -> bool:
    """`obj.method()` on an instance (lower-case receiver) rather than `Model.method()` on the class."""
    func = node.func
    if not isinstance(func, cst.Attribute):
        return False
    name = dotted_name(func.value) or ""
    return not name.rsplit(".", 1)[-1][:1].isupper()


def _tenant_mismatch_exit(fdef: cst.FunctionDef, param: str, keys: frozenset[str]) -> str | None:
    """In a predicate's body, a top-level `if a.<key> != b.<key>: return False` (or raise) where `key` names a
    tenant (`realm_id`, `organization`) and `a` is the parameter or a local read through it (`stream =
    Stream.objects.get(id=message.recipient.type_id)`): the text of the comparison, else None."""
    derived = {param}
    for node in descendants(fdef.body):
        if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            if any(isinstance(n, cst.Name) and n.value in derived for n in descendants(node.value)):
                derived.add(node.targets[0].target.value)
    for stmt in _walk_body(fdef):
        if not isinstance(stmt, cst.If) or stmt.orelse is not None:
            continue
        test = stmt.test
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, (cst.NotEqual, cst.IsNot))):
            continue
        sides = (test.left, test.comparisons[0].comparator)
        if not all(isinstance(s, cst.Attribute) for s in sides) or sides[0].attr.value not in keys or sides[1].attr.value not in keys:
            continue
        roots = [(dotted_name(s) or "").split(".", 1)[0] for s in sides]
        if not any(r in derived for r in roots) or all(r in derived for r in roots):
            continue  # one side is the row (or read through it), the other something else (the user)
        body = _body(stmt.body)
        last = body[-1].body[-1] if body and body[-1].body else None
        if isinstance(last, cst.Raise) or (isinstance(last, cst.Return) and isinstance(last.value, cst.Name) and last.value.value in ("False", "None")):
            return " ".join(cst.Module(body=[]).code_for_node(test).split())
    return None


def _walk_body(fdef: cst.FunctionDef) -> list:
    return _body(fdef.body)


def param_names(fdef: cst.FunctionDef) -> set[str]:
    p = fdef.params
    names = {x.name.value for x in (*p.posonly_params, *p.params, *p.kwonly_params)}
    for star in (p.star_arg, p.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names


def _required_params(fdef: cst.FunctionDef) -> frozenset[str]:
    """Parameters every caller must pass (no default)."""
    p = fdef.params
    return frozenset(x.name.value for x in (*p.posonly_params, *p.params, *p.kwonly_params) if x.default is None)


def _assigned_names(fdef: cst.FunctionDef) -> set[str]:
    """Names the function assigns to: a parameter reassigned in the body no longer stands for its argument. Read from
    the statements alone (nested functions and classes included), never from expressions: a libcst visitor over
    every node was a fifth of a run."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = [fdef.body]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in node.body:
                if isinstance(small, cst.Assign):
                    found.update(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
                elif isinstance(small, (cst.AugAssign, cst.AnnAssign)) and isinstance(small.target, cst.Name):
                    if not isinstance(small, cst.AnnAssign) or small.value is not None:
                        found.add(small.target.value)
            continue
        if isinstance(node, cst.For) and isinstance(node.target, cst.Name):
            found.add(node.target.value)
        elif isinstance(node, cst.FunctionDef):
            found.add(node.name.value)  # a nested function shadows a module-level one of that name
        stack.extend(c for c in children(node) if not isinstance(c, cst.BaseExpression))
    return found
