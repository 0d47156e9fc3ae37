"""What every Python schema source and adapter gets for one module: the tree, its import table, a name.

The import table replaces libcst's QualifiedNameProvider, which costs minutes on a large tree:
names are resolved only when an adapter asks, from the imports the module itself declares.
"""
from __future__ import annotations

import bisect
import re
import warnings
import dataclasses
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, None for anything else."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def string_value(node: cst.BaseExpression | None) -> str | None:
    """The value of a plain string literal (or implicitly concatenated ones); None for anything else."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            with warnings.catch_warnings():  # an invalid escape in the checked code is not our warning to print
                warnings.simplefilter("ignore")
                value = node.evaluated_value
        except Exception:  # a malformed escape: not a string we can read
            return None
        return value if isinstance(value, str) else None
    return None


def short_code(node: cst.CSTNode | None, limit: int = 60) -> str:
    """A node's source on one line, cut to `limit` characters, for messages."""
    if node is None:
        return "?"
    try:
        text = " ".join(cst.Module(body=[]).code_for_node(node).split())
    except Exception:
        return "?"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def api_name(dotted: str) -> str:
    """`self.cursor.execute` -> `cursor.execute`, `app.Patient.objects.raw` -> `Patient.objects.raw`: the receiver
    and the method, as a reviewer would say it (a model's manager kept)."""
    parts = [p for p in dotted.split(".") if p not in ("self", "cls")]
    if len(parts) >= 3 and parts[-3][:1].isupper():
        return ".".join(parts[-3:])
    return ".".join(parts[-2:]) if parts else dotted


# libcst's `node.children` rebuilds (and re-validates) every child through a visitor; walks call it for every node,
# and it was a fifth of a run. children() reads the fields instead, in the order that visitor visits them, learnt
# once per node class and set of filled fields from one slow call (a child it cannot place keeps the slow call).
_CHILD_ORDER: dict[tuple, tuple[str, ...] | None] = {}
_NODE_FIELDS: dict[type, tuple[str, ...]] = {}
_UNLEARNT = object()


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """`node.children`, in the same order, without rebuilding the node."""
    cls = type(node)
    fields = _NODE_FIELDS.get(cls)
    if fields is None:
        fields = _NODE_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(node))
    filled = []
    for name in fields:
        v = getattr(node, name)
        if isinstance(v, cst.CSTNode) or isinstance(v, (tuple, list)) and any(isinstance(x, cst.CSTNode) for x in v):
            filled.append(name)
    key = (cls, tuple(filled))
    order = _CHILD_ORDER.get(key, _UNLEARNT)
    if order is _UNLEARNT:  # (an empty order is learnt too: a node with no children, such as a bare Name)
        order = _CHILD_ORDER[key] = _learn_order(node, filled)
    if order is None:
        return list(node.children)
    out: list[cst.CSTNode] = []
    for name in order:
        v = getattr(node, name)
        if isinstance(v, cst.CSTNode):
            out.append(v)
        else:
            out.extend(x for x in v if isinstance(x, cst.CSTNode))
    return out


def _learn_order(node: cst.CSTNode, filled: list[str]) -> tuple[str, ...] | None:
    """The filled fields in the order `node.children` returns their nodes; None when that order is not one of whole
    fields (a field's nodes interleaved with another's, a child held in no field)."""
    order: list[str] = []
    for child in node.children:
        owner = next((name for name in filled if getattr(node, name) is child
                      or isinstance(getattr(node, name), (tuple, list)) and any(x is child for x in getattr(node, name))), None)
        if owner is None:
            return None
        if order and order[-1] == owner:
            continue
        if owner in order:
            return None
        order.append(owner)
    return tuple(order) if set(order) == set(filled) else None


def descendants(node: cst.CSTNode):
    """The node and every node below it (order not kept)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(children(n))


def names_in(node: cst.CSTNode):
    """Every Name at or below the node."""
    return (n for n in descendants(node) if isinstance(n, cst.Name))


# what runs code an operator starts from a shell (a Django management command, a command-line command)
OPERATOR_COMMAND = "operator command"


def operator_entry(path: str) -> str:
    """"operator command" for code that a Django management command runs: an operator, across tenants on purpose."""
    return OPERATOR_COMMAND if "/management/commands/" in f"/{path}" else ""


def keyword_arg(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def _module_of(expr: cst.BaseExpression | None, level: int, package: str) -> str:
    name = dotted_name(expr) if expr is not None else ""
    if not level:
        return name or ""
    parts = package.split(".") if package else []
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    base = ".".join(parts)
    return ".".join(p for p in (base, name) if p)


@dataclass
class ImportTable:
    """Local name -> qualified name, from the module's own import statements (any nesting level)."""

    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, module: cst.Module, module_name: str = "") -> "ImportTable":
        package = module_name.rpartition(".")[0]
        table = cls()
        for node in _walk_imports(module):
            if isinstance(node, cst.Import):
                for alias in node.names:
                    full = dotted_name(alias.name) or ""
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        table.names[alias.asname.name.value] = full
                    else:
                        top = full.split(".")[0]
                        table.names[top] = top
            elif isinstance(node, cst.ImportFrom):
                mod = _module_of(node.module, len(node.relative), package)
                if isinstance(node.names, cst.ImportStar):
                    continue
                for alias in node.names:
                    name = dotted_name(alias.name) or ""
                    local = name
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        local = alias.asname.name.value
                    table.names[local] = f"{mod}.{name}" if mod else name
        return table

    def qualify(self, node: cst.BaseExpression) -> str | None:
        """Qualified name of a Name/Attribute chain, through the imports; the dotted text if not imported."""
        dotted = dotted_name(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if head in self.names:
            full = self.names[head]
            return f"{full}.{rest}" if rest else full
        return dotted

    def imports_from(self, *prefixes: str) -> bool:
        return any(q == p or q.startswith(p + ".") for q in self.names.values() for p in prefixes)


def _walk_imports(module: cst.Module):
    """Yield Import/ImportFrom nodes without a full visitor pass (imports sit in statement bodies)."""
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            yield node
            continue
        if isinstance(node, (cst.Module, cst.IndentedBlock)):
            stack.extend(reversed(node.body))
        elif isinstance(node, cst.SimpleStatementLine):
            stack.extend(node.body)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.If, cst.Try, cst.With, cst.For, cst.While, cst.Else, cst.ExceptHandler, cst.Finally)):
            body = getattr(node, "body", None)
            if body is not None:
                stack.append(body)
            for extra in ("orelse", "handlers", "finalbody"):
                val = getattr(node, extra, None)
                if val is None:
                    continue
                if isinstance(val, (list, tuple)):
                    stack.extend(val)
                else:
                    stack.append(val)


_NEWLINE = re.compile(r"\n")


class TextSpans:
    """The span of a node found by its source text: a text that occurs once in the file is where the node is.
    libcst renders a node nested in a block with its continuation lines indented relative to the node, so a
    multi-line text is matched with any indentation after each line break. Resolving libcst's positions for a whole
    module costs more than parsing it; it is done only when neither the node's text nor its statement's is unique."""

    def __init__(self, text: str, tree: cst.Module):
        self.text = text
        self.tree = tree
        self._line_starts: list[int] | None = None

    def of(self, node, statement=None, lines: tuple[int, int] | None = None):
        """Where `node` is, when its text occurs once in the file, or once in its statement's text and that text once
        in the file; failing that, the same within `lines` (first, last: the function the node is in). A
        parenthesized expression's span starts inside its parentheses, as libcst's positions do."""
        if getattr(node, "lpar", None):
            try:
                node = node.with_changes(lpar=(), rpar=())
            except cst.CSTValidationError:  # `()`: an empty tuple is its parentheses
                pass
        code = self._code(node)
        if not code:
            return None
        regions = [(0, len(self.text))]
        if lines is not None:
            self._point(0)  # the line starts
            first, last = max(lines[0], 1), min(lines[1], len(self._line_starts))
            regions.append((self._line_starts[first - 1], self._line_starts[last] if last < len(self._line_starts) else len(self.text)))
        outer = None
        if isinstance(statement, cst.SimpleStatementLine) and statement is not node:
            # a simple statement renders as written but for its leading comment lines; a compound one would render
            # its whole body: only the former is searched
            if statement.leading_lines:
                statement = statement.with_changes(leading_lines=())
            outer = self._code(statement)
        found = None
        for lo, hi in regions:
            found = self._unique(code, lo, hi)
            if found is None and outer:
                region = self._unique(outer, lo, hi)
                if region is not None:
                    found = self._unique(code, *region)
            if found is not None:
                break
        if found is None:
            return None
        from tenantlint.types import Span

        return Span(*self._point(found[0]), *self._point(found[1]))

    def _unique(self, code: str, lo: int, hi: int) -> tuple[int, int] | None:
        """(start, end) of the one occurrence of `code` in text[lo:hi], whatever the indentation of its continuation
        lines; None when it occurs never or more than once."""
        if "\n" not in code:
            start = self.text.find(code, lo, hi)
            if start < 0 or self.text.find(code, start + 1, hi) >= 0:
                return None
            return start, start + len(code)
        pattern = re.compile(r"[ \t\r]*\n[ \t]*".join(re.escape(line.strip()) for line in code.split("\n")))
        first = pattern.search(self.text, lo, hi)
        if first is None or pattern.search(self.text, first.start() + 1, hi) is not None:
            return None
        return first.start(), first.end()

    def _code(self, node) -> str:
        try:
            return self.tree.code_for_node(node).strip()
        except Exception:
            return ""

    def _point(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in _NEWLINE.finditer(self.text)]
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1


@dataclass
class PythonModule:
    """One parsed Python file, shared by every schema source and adapter that looks at it."""

    path: str  # relative to the project root, forward slashes
    module_name: str  # dotted module name derived from the path ("clinic.models")
    source: str
    tree: cst.Module
    imports: ImportTable
    # what an adapter that follows objects in hand learnt about the values handed to a raw SQL call, for the SQL adapter
    # to ask: id(call) -> judges, each `(expression, column) -> reason` ("" when the values are not one tenant's keys)
    key_judges: dict = field(default_factory=dict, repr=False, compare=False)
    # ids of the calls of project functions an adapter followed and judged here (inlined, or restricted whatever the
    # arguments): what they run was seen, for passes that ask whether a block calls something unseen (TL202)
    judged_calls: set = field(default_factory=set, repr=False, compare=False)

    @cached_property
    def spans(self) -> "TextSpans":
        """Where nodes of this module are, found by their text (see TextSpans)."""
        return TextSpans(self.source, self.tree)

    def span_of(self, node: cst.CSTNode, statement: cst.CSTNode | None = None, lines: tuple[int, int] | None = None):
        """Where a node is, found as the engine finds anchors (TextSpans.of); None when its text does not say. Used for
        related locations, which need a span up front."""
        return self.spans.of(node, statement, lines)

    @classmethod
    def parse(cls, path: str, source: str) -> "PythonModule":
        tree = cst.parse_module(source)
        module_name = path[:-3].replace("/", ".") if path.endswith(".py") else path.replace("/", ".")
        if module_name.endswith(".__init__"):
            module_name = module_name[: -len(".__init__")] + ".__init__"
        return cls(path, module_name, source, tree, ImportTable.of(tree, module_name))
