"""What every Python schema source and adapter gets for one module: the tree, its import table, a name.

The import table replaces libcst's QualifiedNameProvider, which costs minutes on a large tree:
names are resolved only when an adapter asks, from the imports the module itself declares.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

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


def descendants(node: cst.CSTNode):
    """The node and every node below it (order not kept)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


def names_in(node: cst.CSTNode):
    """Every Name at or below the node."""
    return (n for n in descendants(node) if isinstance(n, cst.Name))


def _unique_in(text: str, code: str, lo: int, hi: int) -> int:
    """The offset of the one occurrence of `code` in text[lo:hi]; -1 when it occurs never or more than once."""
    start = text.find(code, lo, hi) if code else -1
    return start if start >= 0 and text.find(code, start + 1, hi) < 0 else -1


def operator_entry(path: str) -> str:
    """"operator command" for code that a Django management command runs: an operator, across tenants on purpose."""
    return "operator command" if "/management/commands/" in f"/{path}" else ""


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


@dataclass
class PythonModule:
    """One parsed Python file, shared by every schema source and adapter that looks at it."""

    path: str  # relative to the project root, forward slashes
    module_name: str  # dotted module name derived from the path ("clinic.models")
    source: str
    tree: cst.Module
    imports: ImportTable

    def span_of(self, node: cst.CSTNode, statement: cst.CSTNode | None = None, lines: tuple[int, int] | None = None):
        """Where a node is, found by its exact text when that text occurs once in the file, else once in the text of
        its (one-line) statement where that occurs once in the file or in `lines` (first, last: the function's);
        None otherwise. The engine finds anchors the same way. Used for related locations, which need a span up
        front."""
        from tenantlint.types import Span

        try:
            code = self.tree.code_for_node(node).strip()
        except Exception:
            return None
        text = self.source
        start = _unique_in(text, code, 0, len(text))
        regions = [(0, len(text))]
        if start < 0 and code and lines is not None:
            starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
            first, last = max(lines[0], 1), min(lines[1], len(starts))
            regions.append((starts[first - 1], starts[last] if last < len(starts) else len(text)))
        if start < 0 and code and isinstance(statement, cst.SimpleStatementLine):
            outer = self.tree.code_for_node(statement.with_changes(leading_lines=())).strip()
            for lo, hi in regions:
                at = _unique_in(text, outer, lo, hi) if outer else -1
                if at >= 0:
                    start = _unique_in(text, code, at, at + len(outer))
                    break
        elif start < 0 and code and len(regions) > 1:
            start = _unique_in(text, code, *regions[1])  # once in the function
        if not code or start < 0:
            return None

        def point(offset: int) -> tuple[int, int]:
            return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1

        return Span(*point(start), *point(start + len(code)))

    @classmethod
    def parse(cls, path: str, source: str) -> "PythonModule":
        tree = cst.parse_module(source)
        module_name = path[:-3].replace("/", ".") if path.endswith(".py") else path.replace("/", ".")
        if module_name.endswith(".__init__"):
            module_name = module_name[: -len(".__init__")] + ".__init__"
        return cls(path, module_name, source, tree, ImportTable.of(tree, module_name))
