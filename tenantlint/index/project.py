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

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from tenantlint.index.summary import ClassSummary, FileSummary, FunctionSummary

MAX_BASES_DEPTH = 8
# text that a function holding a query shows (any adapter): cheap, and only used to skip files
_QUERY_MARKS = (".objects", "_or_404", ".query", "select(", "update(", "delete(", "insert(", ".table(", ".from_(",
                "execute(", "session", "_set.", ".filter(", ".get(", ".create(", "queryset")


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


@dataclass
class ProjectIndex:
    files: dict[str, FileSummary] = field(default_factory=dict)  # by module name
    by_rel: dict[str, FileSummary] = field(default_factory=dict)
    _suffixes: dict[str, str | None] = field(default_factory=dict)  # dotted suffix -> module (None: ambiguous)
    _callers: dict[str, list[tuple[str, str, bool]]] = field(default_factory=lambda: defaultdict(list))  # id -> [(rel, caller qualname, through self/cls)]
    _callees: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # rel -> ids it calls
    unresolved: int = 0
    resolved: int = 0
    query_functions: set[str] = field(default_factory=set)  # ids of functions that run queries, themselves or through callees

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
        callees_of: dict[str, set[str]] = defaultdict(set)
        for s in index.files.values():
            for fn in s.functions.values():
                cls_name = fn.qualname.rpartition(".")[0] if fn.kind != "function" else None
                for call in fn.calls:
                    r = index.resolve_call(s.module, cls_name, call)
                    if r is None:
                        index.unresolved += 1
                        continue
                    index.resolved += 1
                    index._callers[r.id].append((s.rel, fn.qualname, call.split(".", 1)[0] in ("self", "cls")))
                    index._callees[s.rel].add(r.id)
                    callees_of[f"{s.module}:{fn.qualname}"].add(r.id)
                if fn.source and any(m in fn.source for m in _QUERY_MARKS):
                    index.query_functions.add(f"{s.module}:{fn.qualname}")
        changed = True
        while changed:  # a service that calls a query helper runs queries too
            changed = False
            for fid, callees in callees_of.items():
                if fid not in index.query_functions and callees & index.query_functions:
                    index.query_functions.add(fid)
                    changed = True
        return index

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

    def lookup(self, module: str, name: str) -> tuple[FileSummary, str] | None:
        """A name used in `module` -> (file, qualname of a function or class defined there), through imports."""
        s = self.files.get(module)
        if s is None:
            return None
        head, _, rest = name.partition(".")
        if head in s.functions or head in s.classes:
            return s, name
        q = s.imports.get(head)
        if q is None:
            return None
        full = f"{q}.{rest}" if rest else q
        found = self.split_qualified(full)
        if found is None:
            m = self.module(full)  # `import app.services as services`: the whole name is a module
            return None if m is None else (self.files[m], "")
        target, parts = found
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
        return None

    def method(self, module: str, cls: str, name: str) -> Resolved | None:
        for s, c in self.class_chain(module, cls):
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

    # -- calls

    def resolve_call(self, module: str, cls: str | None, callee: str) -> Resolved | None:
        """What `callee(...)` written in `module` (inside class `cls`) runs, when it is project code."""
        head, _, rest = callee.partition(".")
        if head in ("self", "cls") and cls is not None and rest and "." not in rest:
            return self.method(module, cls, rest)
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

    def calls_query_functions(self, rel: str) -> bool:
        return bool(self._callees.get(rel, set()) & self.query_functions)

    def callers(self, function_id: str) -> list[tuple[str, str, bool]]:
        return self._callers.get(function_id, [])

    def function(self, function_id: str) -> tuple[FileSummary, FunctionSummary] | None:
        module, _, qual = function_id.partition(":")
        s = self.files.get(module)
        if s is None or qual not in s.functions:
            return None
        return s, s.functions[qual]

    def dependency_digest(self, rel: str) -> str:
        """What a file's findings depend on in other files: the source of every helper it may inline (transitively)
        and which of its own functions have callers."""
        h = hashlib.sha256()
        s = self.by_rel.get(rel)
        if s is None:
            return ""
        todo = sorted(self._callees.get(rel, ()))
        seen: set[str] = set()
        while todo:
            fid = todo.pop()
            if fid in seen:
                continue
            seen.add(fid)
            found = self.function(fid)
            if found is None:
                continue
            target, fn = found
            h.update(f"{fid}\0{fn.line}\0{fn.source}\n".encode("utf-8", "surrogatepass"))
            for c, attrs in ((c.qualname, c.attrs) for c in target.classes.values()):
                if fid.partition(":")[2].startswith(c + "."):
                    h.update(repr((c, attrs, target.classes[c].bases)).encode("utf-8", "surrogatepass"))
            todo.extend(sorted(self._callees.get(target.rel, ())))
        for qual in sorted(s.functions):
            if self._callers.get(f"{s.module}:{qual}"):
                h.update(f"called {qual}\n".encode())
        for qual, c in sorted(s.classes.items()):  # inherited methods and attributes come from the bases' files
            for base_file, base in self.class_chain(s.module, qual)[1:]:
                h.update(repr((base_file.rel, base)).encode("utf-8", "surrogatepass"))
                for m in base.methods:
                    fn = base_file.functions.get(f"{base.qualname}.{m}")
                    if fn is not None:
                        h.update((fn.source or "").encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:16]
