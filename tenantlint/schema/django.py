"""Django models -> ModelFacts.

Reads class statements only (no imports are executed): fields, `Meta.db_table`, `Meta.abstract`,
`Meta.app_label`, foreign keys with their `related_name`. Whether a class is a model is decided
later, transitively, by `resolve.build_schema`; here a class is marked a root model when one of its
bases is Django's (or a well-known third-party) model base.
"""
from __future__ import annotations

import re
from typing import Iterable

import libcst as cst

from tenantlint.config import Config
from tenantlint.python_module import PythonModule, dotted_name, keyword_arg as _kwarg, string_value as _string
from tenantlint.types import Column, ModelFacts, Relation

# Bases that make a class a Django model without being declared in the project.
_ROOT_BASES = {
    "django.db.models.Model",
    "django.db.models.base.Model",
    "django.contrib.auth.models.AbstractUser",
    "django.contrib.auth.models.AbstractBaseUser",
    "django.contrib.auth.base_user.AbstractBaseUser",
    "django.contrib.auth.models.User",
    "django.contrib.auth.models.Group",
    "django.contrib.auth.models.PermissionsMixin",
    "django.contrib.sites.models.Site",
    "mptt.models.MPTTModel",
    "treebeard.mp_tree.MP_Node",
    "treebeard.ns_tree.NS_Node",
    "polymorphic.models.PolymorphicModel",
    "model_utils.models.TimeStampedModel",
    "model_utils.models.SoftDeletableModel",
    "django_extensions.db.models.TimeStampedModel",
}
_ROOT_PREFIXES = ("django.db.models", "django.contrib.", "mptt.", "treebeard.", "polymorphic.", "model_utils.", "django_extensions.")
_RELATION_FIELDS = {"ForeignKey", "OneToOneField", "ForeignObject", "ParentalKey", "TreeForeignKey"}
# `GenericForeignKey("content_type", "object_id")` names two fields of its own model: no column, no relation
_NOT_COLUMNS = {"GenericForeignKey"}


def _is_root_base(qualified: str) -> bool:
    if qualified in _ROOT_BASES:
        return True
    last = qualified.rsplit(".", 1)[-1]
    return qualified.startswith(_ROOT_PREFIXES) and (last.endswith("Model") or last.startswith("Abstract"))


def app_label_for(path: str) -> str | None:
    """`clinic/models.py` -> clinic; `zerver/models/realms.py` -> zerver; `apps/db/models/__init__.py` -> db."""
    parts = path.split("/")
    if "models" in parts[:-1]:
        i = len(parts) - 1 - parts[::-1].index("models", 1)
        return parts[i - 1] if i >= 1 else None
    if parts[-1] == "models.py" and len(parts) >= 2:
        return parts[-2]
    return parts[-2] if len(parts) >= 2 else None






def _true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _field_class(call: cst.Call) -> str | None:
    name = dotted_name(call.func)
    if name is None:
        return None
    return name.rsplit(".", 1)[-1]


# what marks a module of SQLAlchemy declarations, and an import of SQLAlchemy at any nesting level (as ImportTable reads)
_SQLALCHEMY_MARKERS = ("__tablename__", "mapped_column", "db.Column")
_SQLALCHEMY_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+(?:sqlalchemy|sqlmodel|flask_sqlalchemy)\b", re.MULTILINE)


class DjangoSchemaSource:
    name = "django"

    def wants(self, source: str) -> bool:
        # a Django model module imports Django or declares fields (`models.ForeignKey(...)`); "Model" alone is in
        # every pydantic schema module
        if "class " not in source:
            return False
        if "django" in source:
            return True
        # without Django, a module of SQLAlchemy declarations or imports is left to the SQLAlchemy source (as facts()
        # decides after parsing): a `models.` package of a SQLAlchemy project is in most of its modules' imports
        return "models." in source and not any(m in source for m in _SQLALCHEMY_MARKERS) and not _SQLALCHEMY_IMPORT.search(source)

    def facts(self, module: PythonModule, config: Config) -> Iterable[ModelFacts]:
        if not module.imports.imports_from("django") and (
            module.imports.imports_from("sqlalchemy", "sqlmodel", "flask_sqlalchemy")
            or any(marker in module.source for marker in _SQLALCHEMY_MARKERS)
        ):
            return  # SQLAlchemy models, read by the SQLAlchemy source
        if not module.imports.imports_from("django") and "models" not in module.path:
            # A class can derive from a project base model without importing django itself,
            # but only model modules do that in practice; others are skipped for speed.
            if not any(q.rsplit(".", 1)[-1].endswith("Model") for q in module.imports.names.values()):
                return
        default_app = app_label_for(module.path)
        for stmt in module.tree.body:
            if isinstance(stmt, cst.ClassDef):
                self.extra = []
                fact = self._class(stmt, module, default_app)
                if fact is not None:
                    yield fact
                    yield from self.extra  # many-to-many tables of this class

    def _class(self, node: cst.ClassDef, module: PythonModule, default_app: str | None) -> ModelFacts | None:
        bases: list[str] = []
        is_root = False
        for arg in node.bases:
            if arg.keyword is not None:
                continue
            qualified = module.imports.qualify(arg.value)
            if qualified is None and isinstance(arg.value, cst.Call):
                # a base built by a call (`history_model_factory(...)`): unknown, but the class is still read
                qualified = f"{module.imports.qualify(arg.value.func) or 'factory'}()"
            if qualified is None:
                continue
            bases.append(qualified)
            if _is_root_base(qualified):
                is_root = True
        if not bases:
            return None
        abstract = False
        db_table: str | None = None
        app = default_app
        columns: list[Column] = []
        relations: list[Relation] = []
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        derived: set[str] = set()
        scoped: list[str] = []
        scope_fields: list[str] = []  # "manager:field" for each path a ScopedManager filters by
        plain: list[str] = []
        generic: list[str] = []
        m2m: list[tuple[str, str]] = []
        declares_fields = False
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "save":
                derived |= _self_assignments(stmt)
        for stmt in body:
            if isinstance(stmt, cst.ClassDef) and stmt.name.value == "Meta":
                for target, value in _assignments(stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else ()):
                    if target == "abstract":
                        abstract = _true(value)
                    elif target == "db_table":
                        db_table = _string(value) or db_table
                    elif target == "app_label":
                        app = _string(value) or app
                continue
            for target, value in _assignments([stmt]):
                if not isinstance(value, cst.Call):
                    continue
                if (module.imports.qualify(value.func) or "").rsplit(".", 1)[-1] == "ScopedManager":
                    scoped.append(target)  # django-scopes: every query through it is filtered by the active scope
                    for arg in value.args:  # `ScopedManager(space="recipe__space")`: the field the path starts at
                        path = _string(arg.value) if arg.keyword is not None else None
                        if path:
                            scope_fields.append(f"{target}:{path.split('__', 1)[0]}")
                    continue
                callee = (module.imports.qualify(value.func) or "").rsplit(".", 1)[-1]
                if callee.endswith("Manager") or callee == "as_manager":
                    plain.append(target)  # replaces a scoped manager of the same name inherited from a base
                    continue
                cls = _field_class(value)
                if cls == "GenericForeignKey":
                    names = [_string(a.value) for a in value.args if a.keyword is None][:2]
                    ct_kw, fk_kw = _kwarg(value, "ct_field"), _kwarg(value, "fk_field")
                    ct = (_string(ct_kw) if ct_kw is not None else None) or (names[0] if names else None) or "content_type"
                    fk = (_string(fk_kw) if fk_kw is not None else None) or (names[1] if len(names) > 1 else None) or "object_id"
                    generic.append(f"{ct}:{fk}")
                    continue
                if cls is None or not (cls.endswith("Field") or cls in _RELATION_FIELDS or cls.endswith("Key")) or cls in _NOT_COLUMNS:
                    continue
                if (module.imports.qualify(value.func) or "").startswith("django.db.models."):
                    declares_fields = True
                null = _true(_kwarg(value, "null"))
                db_column = _string(_kwarg(value, "db_column"))
                if cls in _RELATION_FIELDS or cls.endswith("ForeignKey"):
                    to = _kwarg(value, "to")
                    if to is None:
                        positional = [a for a in value.args if a.keyword is None and a.star == ""]
                        to = positional[0].value if positional else None
                    target_name = _string(to) if to is not None else None
                    if target_name is None and to is not None:
                        dotted = dotted_name(to)
                        if dotted is not None:  # qualified through the imports: which app's model it is
                            target_name = "AUTH_USER_MODEL" if dotted.endswith("AUTH_USER_MODEL") else module.imports.qualify(to) or dotted
                    if target_name is None:
                        continue
                    related = _string(_kwarg(value, "related_name"))  # "%(class)s" is filled in per concrete model
                    relations.append(Relation(target, target_name, db_column or f"{target}_id", null, related))
                else:
                    columns.append(Column(db_column or target, null, target if db_column else None, _true(_kwarg(value, "unique")) or cls in ("UUIDField",) and _true(_kwarg(value, "primary_key")),
                                          many=cls.endswith("ManyToManyField")))
                    if cls == "ManyToManyField" and _kwarg(value, "through") is None:
                        to = _kwarg(value, "to") or next((a.value for a in value.args if a.keyword is None and a.star == ""), None)
                        m2m_target = _string(to) if to is not None else None
                        if m2m_target is None and to is not None:
                            dotted = dotted_name(to)
                            m2m_target = None if dotted is None else "AUTH_USER_MODEL" if dotted.endswith("AUTH_USER_MODEL") else dotted.rsplit(".", 1)[-1]
                        if m2m_target:
                            m2m.append((target, m2m_target))
        table = None if abstract else (db_table or (f"{app.lower()}_{node.name.value.lower()}" if app else node.name.value.lower()))
        for field, m2m_target in m2m if table else ():
            # the table Django creates for a many-to-many field: one row links two rows, owned through both ends
            owner = node.name.value
            other = m2m_target.rsplit(".", 1)[-1]
            left, right = (f"from_{owner.lower()}", f"to_{owner.lower()}") if other in ("self", owner) else (owner.lower(), other.lower())
            self.extra.append(ModelFacts(
                name=f"{owner}_{field}",
                table=f"{table}_{field}",
                source="django",
                path=module.path,
                line=_line_of(module, node),
                app=app,
                is_root_model=True,
                relations=(Relation(left, owner, f"{left}_id"), Relation(right, owner if other == "self" else m2m_target, f"{right}_id")),
                table_is_explicit=True,
                through_of=owner,
            ))
        return ModelFacts(
            name=node.name.value,
            table=table,
            source="django",
            path=module.path,
            line=_line_of(module, node),
            app=app,
            bases=tuple(bases),
            is_root_model=is_root,
            abstract=abstract,
            columns=tuple(columns),
            relations=tuple(relations),
            table_is_explicit=db_table is not None,
            derived=tuple(sorted(derived)),
            scoped_managers=tuple(scoped),
            scope_fields=tuple(scope_fields),
            plain_managers=tuple(plain),
            generic_keys=tuple(generic),
            declares_fields=declares_fields,
        )


def _assignments(statements) -> Iterable[tuple[str, cst.BaseExpression]]:
    for stmt in statements:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                yield small.targets[0].target.value, small.value
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
                yield small.target.value, small.value


def _self_assignments(func: cst.FunctionDef) -> set[str]:
    """`self.workspace = self.project.workspace` anywhere in save(): fields the model fills in itself."""
    found: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            t = node.target
            if isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name) and t.value.value == "self":
                found.add(t.attr.value)

    func.visit(Visitor())
    return found


def _line_of(module: PythonModule, node: cst.ClassDef) -> int:
    """Line of `class X` without resolving positions for the whole module: find it in the source text."""
    needle = f"class {node.name.value}"
    for i, line in enumerate(module.source.splitlines(), 1):
        stripped = line.lstrip()
        if stripped.startswith(needle) and stripped[len(needle): len(needle) + 1] in ("(", ":", " "):
            return i
    return 1


SOURCE = DjangoSchemaSource()
