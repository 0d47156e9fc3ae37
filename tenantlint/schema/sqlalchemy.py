"""SQLAlchemy (1.x `Column`, 2.0 `Mapped`/`mapped_column`), SQLModel, Flask-SQLAlchemy and Core `Table` -> ModelFacts.

Classes are read, never imported. A class deriving from `DeclarativeBase`, a `declarative_base()` result, `db.Model`
or `SQLModel` is a model root; mixins with columns are kept as abstract facts so that their columns reach the
models that inherit them (`class Document(TenantMixin, Base)`); whether a class is a model is decided later,
transitively, by `resolve.build_schema`.
"""
from __future__ import annotations

from typing import Iterable

import libcst as cst

from tenantlint.config import Config
from tenantlint.python_module import PythonModule, dotted_name, keyword_arg as _kwarg, string_value as _string
from tenantlint.types import Column, ModelFacts, Relation

_DECLARATIVE = {
    "sqlalchemy.orm.DeclarativeBase",
    "sqlalchemy.orm.DeclarativeBaseNoMeta",
    "sqlalchemy.orm.decl_api.DeclarativeBase",
    "sqlalchemy.orm.MappedAsDataclass",
    "sqlalchemy.ext.declarative.DeclarativeMeta",
}
_BASE_FACTORIES = {"declarative_base", "as_declarative"}
_COLUMN_CALLS = {"Column", "mapped_column", "Field", "column_property"}






def _bool(node: cst.BaseExpression | None) -> bool | None:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def _last(node: cst.BaseExpression) -> str:
    name = dotted_name(node) or ""
    return name.rsplit(".", 1)[-1]


def _annotation_nullable(ann: cst.BaseExpression | None) -> bool | None:
    """Mapped[Optional[X]] / Mapped[X | None] / Optional[X] -> True; Mapped[X] -> False; unknown -> None."""
    if ann is None:
        return None
    node = ann
    if isinstance(node, cst.Subscript) and _last(node.value) == "Mapped" and node.slice:
        inner = node.slice[0].slice
        node = inner.value if isinstance(inner, cst.Index) else None
    if node is None:
        return None
    if isinstance(node, cst.Subscript) and _last(node.value) == "Optional":
        return True
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return any(isinstance(side, cst.Name) and side.value == "None" for side in (node.left, node.right))
    if isinstance(node, cst.SimpleString):
        text = _string(node) or ""
        return "Optional[" in text or "None" in text
    return False


def _foreign_key_target(call: cst.Call) -> str | None:
    """ForeignKey("organizations.id") -> organizations; ForeignKey(Organization.id) -> Organization."""
    for a in call.args:
        if a.keyword is not None and a.keyword.value not in ("column",):
            continue
        s = _string(a.value)
        if s is not None:
            parts = s.split(".")
            return parts[-2] if len(parts) >= 2 else parts[0]
        dotted = dotted_name(a.value)
        if dotted and "." in dotted:
            return dotted.split(".")[-2]
        return None
    return None


_DECLARES = (
    "__tablename__", "__table_args__", "__mapper_args__", "__abstract__", "mapped_column", "Column(", "Table(",
    "db.Model", "DeclarativeBase", "declarative_base", "declarative_mixin", "declared_attr", "SQLModel", "relationship(",
    "Mapped[", "registry(", "association_proxy",
)

class SQLAlchemySchemaSource:
    name = "sqlalchemy"

    def wants(self, source: str) -> bool:
        # what declares a table; importing sqlalchemy to run queries (select, Session) declares none
        return any(marker in source for marker in _DECLARES)

    def facts(self, module: PythonModule, config: Config) -> Iterable[ModelFacts]:
        imports = module.imports
        if not (imports.imports_from("sqlalchemy", "sqlmodel", "flask_sqlalchemy") or "db.Model" in module.source or "Column(" in module.source or "mapped_column" in module.source):
            return
        local_bases: set[str] = set()
        for stmt in module.tree.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and isinstance(small.value, cst.Call):
                        func = _last(small.value.func)
                        if func in _BASE_FACTORIES and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                            name = small.targets[0].target.value
                            local_bases.add(name)
                            yield ModelFacts(name=name, table=None, source="sqlalchemy", path=module.path, line=_line(module, name), is_root_model=True, abstract=True)
                        elif func == "Table" and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                            fact = self._core_table(small.targets[0].target.value, small.value, module)
                            if fact is not None:
                                yield fact
            elif isinstance(stmt, cst.ClassDef):
                fact = self._class(stmt, module, local_bases, {c.lower() for c in config.tenant_columns})
                if fact is not None:
                    yield fact

    def _class(self, node: cst.ClassDef, module: PythonModule, local_bases: set[str], tenant_columns: set[str] = frozenset()) -> ModelFacts | None:
        bases: list[str] = []
        is_root = False
        declarative_base = False
        table_kw = False
        for arg in node.bases:
            if arg.keyword is not None:
                continue
            q = module.imports.qualify(arg.value) or ""
            bases.append(q)
            last = q.rsplit(".", 1)[-1]
            if q in _DECLARATIVE or last in ("DeclarativeBase", "DeclarativeBaseNoMeta"):
                is_root = declarative_base = True
            elif q.startswith("sqlmodel") and last == "SQLModel":
                is_root = True
            elif last == "Model" and (dotted_name(arg.value) or "").count(".") == 1:
                is_root = True  # db.Model (Flask-SQLAlchemy)
            elif q in local_bases:
                is_root = True
        for kw in node.keywords:
            if kw.keyword is not None and kw.keyword.value == "table":
                table_kw = _bool(kw.value) is True
        sqlmodel = any(b.startswith("sqlmodel") and b.endswith("SQLModel") for b in bases)
        table: str | None = None
        abstract = declarative_base or (sqlmodel and not table_kw)
        columns: list[Column] = []
        relations: list[Relation] = []
        owner_via: list[str] = []
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        for stmt in body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                target, value, ann = None, None, None
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                    target, value = small.targets[0].target.value, small.value
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    target, value, ann = small.target.value, small.value, small.annotation.annotation
                if target is None:
                    continue
                if target == "__tablename__":
                    table = _string(value) or table
                    continue
                if target == "__abstract__":
                    abstract = _bool(value) is True
                    continue
                if isinstance(value, cst.Call) and _last(value.func) == "association_proxy" and len(value.args) >= 2:
                    # group_id = association_proxy("shopping_list", "group_id"): the tenant is the parent's
                    rel, col = _string(value.args[0].value), _string(value.args[1].value)
                    if rel and col and col.lower() in tenant_columns:
                        owner_via.append(rel)
                    continue
                self._column(target, value, ann, columns, relations, sqlmodel)
        if not bases and not columns:
            return None
        if not bases and columns:
            abstract = True  # a mixin
        return ModelFacts(
            name=node.name.value,
            table=table if table else (None if abstract else node.name.value.lower()),
            source="sqlalchemy",
            path=module.path,
            line=_line(module, f"class {node.name.value}"),
            bases=tuple(bases),
            is_root_model=is_root,
            abstract=abstract,
            columns=tuple(columns),
            relations=tuple(relations),
            table_is_explicit=table is not None,
            owner_via=tuple(r.field for r in relations if any(r.field in (v, f"{v}_id") for v in owner_via)),
        )

    def _column(self, attr: str, value, ann, columns: list, relations: list, sqlmodel: bool) -> None:
        call = value if isinstance(value, cst.Call) else None
        kind = _last(call.func) if call is not None else None
        if call is not None and kind not in _COLUMN_CALLS:
            return
        if call is None:
            mapped = isinstance(ann, cst.Subscript) and _last(ann.value) == "Mapped" and value is None
            if not (mapped or (sqlmodel and ann is not None)) or attr.startswith("_"):
                return
            nullable = _annotation_nullable(ann)
            columns.append(Column(attr, bool(nullable)))
            return
        name = attr
        positional = [a.value for a in call.args if a.keyword is None]
        if positional and _string(positional[0]) is not None and kind in ("Column", "mapped_column"):
            name = _string(positional[0])
        explicit = _string(_kwarg(call, "name")) if kind != "Field" else _string(_kwarg(call, "sa_column_kwargs"))
        if explicit and kind != "Field":
            name = explicit
        nullable = _bool(_kwarg(call, "nullable"))
        primary = _bool(_kwarg(call, "primary_key")) is True
        if nullable is None:
            from_ann = _annotation_nullable(ann)
            if kind == "Column":
                nullable = not primary  # Core's default
            elif from_ann is not None:
                nullable = from_ann
            else:
                nullable = not primary if kind != "Field" else False
        if primary:
            nullable = False
        target = None
        for p in positional:
            if isinstance(p, cst.Call) and _last(p.func) == "ForeignKey":
                target = _foreign_key_target(p)
        fk = _string(_kwarg(call, "foreign_key"))
        if fk:
            target = fk.split(".")[-2] if "." in fk else fk
        unique = _bool(_kwarg(call, "unique")) is True  # a unique column (not the key): one row per value, install-wide
        columns.append(Column(name, nullable, attr if attr != name else None, unique=unique))
        if target:
            relations.append(Relation(attr, target, name, nullable))

    def _core_table(self, var: str, call: cst.Call, module: PythonModule) -> ModelFacts | None:
        positional = [a.value for a in call.args if a.keyword is None]
        if not positional or _string(positional[0]) is None:
            return None
        table = _string(positional[0])
        columns: list[Column] = []
        relations: list[Relation] = []
        for p in positional[1:]:
            if isinstance(p, cst.Call) and _last(p.func) == "Column":
                inner = [a.value for a in p.args if a.keyword is None]
                cname = _string(inner[0]) if inner else None
                if cname is None:
                    continue
                self._column(cname, p, None, columns, relations, False)
        return ModelFacts(
            name=var,
            table=table,
            source="sqlalchemy",
            path=module.path,
            line=_line(module, var),
            is_root_model=True,
            columns=tuple(columns),
            relations=tuple(relations),
            table_is_explicit=True,
        )


def _line(module: PythonModule, needle: str) -> int:
    for i, line in enumerate(module.source.splitlines(), 1):
        stripped = line.lstrip()
        if stripped.startswith(needle) and stripped[len(needle): len(needle) + 1] in ("(", ":", " ", "="):
            return i
    return 1


SOURCE = SQLAlchemySchemaSource()
