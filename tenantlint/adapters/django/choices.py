"""Relation choices a form, serializer or filter set builds from its `Meta` -> REFERENCE QuerySites (TL108).

A Django `ModelForm`, a DRF `ModelSerializer` and a django-filter `FilterSet` turn each foreign key named in
`Meta.fields` into a choice field whose queryset is the related model's default manager: every row of every tenant.
An id submitted for it is accepted when it names another tenant's row, so the saved row points at that tenant's
data (a form, a serializer), or the answer tells whether the id exists there (a filter set).

Not reported, field by field, when the project says otherwise:
* the class declares the field itself (`track = ModelChoiceFilter(queryset=...)`), whose query the other adapters
  judge where it is written;
* a method of the class, or of a project base, names the field (`self.fields["track"].queryset = ...`,
  `validate_track`, `clean_track`, an object-level `validate()` that reads `attrs["track"]`), or narrows every
  field's queryset in one loop; or a view that uses the class (`serializer_class = X`, `validator_class = X`)
  compares the chosen row's tenant (`if obj.status.project != obj.project: raise`,
  `validated_data["state"].project_id`);
* a serializer marks it read-only (`read_only_fields`, `extra_kwargs`), or the project never hands the serializer
  request data (no `X(data=...)`, no `form_class` / `validator_class`, no `serializer_class` of a view that creates
  or updates): it only renders rows;
* the related model has a django-scopes `ScopedManager` and the class is not declared inside `scopes_disabled()`:
  its choices then run in the request's scope. Declared inside `scopes_disabled()` (which the class needs, since
  the choices are built when it is declared), they are built unscoped, once, for every request.
"""
from __future__ import annotations

import re
from functools import cached_property
from typing import Iterable, Iterator

import libcst as cst

from tenantlint.adapters.django.querysets import tenant_relation_names
from tenantlint.adapters.django.views import creates_only
from tenantlint.config import Config
from tenantlint.python_module import PythonModule, dotted_name, operator_entry, string_value
from tenantlint.types import ModelInfo, QuerySite, Restriction, Schema, Scope, SiteKind

_KINDS = (("ModelSerializer", "serializer"), ("ModelForm", "form"), ("FilterSet", "filter set"))
_WANTS = re.compile(r"\bclass\s+Meta\b")
_BASES = re.compile(r"ModelSerializer|ModelForm|FilterSet|Validator|Form\b|Serializer\b")
_LOOP = re.compile(r"\.(?:queryset|limit_choices_to)\s*=")  # `field.queryset = field.queryset.filter(space=...)`


class ChoicesAdapter:
    name = "django-choices"

    def wants(self, source: str) -> bool:
        return bool(_WANTS.search(source) and _BASES.search(source))

    @staticmethod
    def needs_names(source: str) -> bool:
        return True

    def applies(self, schema: Schema) -> bool:
        return any(info.source == "django" for info in schema.models.values())

    def sites(self, module: PythonModule, schema: Schema, config: Config, index=None) -> Iterable[QuerySite]:
        return list(_Choices(module, schema, index).run())


class _Choices:
    def __init__(self, module: PythonModule, schema: Schema, index):
        self.module = module
        self.schema = schema
        self.index = index
        self.summary = index.by_rel.get(module.path) if index is not None else None

    def run(self) -> Iterator[QuerySite]:
        yield from self.block(self.module.tree.body, "", False)

    def block(self, stmts, prefix: str, unscoped: bool) -> Iterator[QuerySite]:
        """Classes declared at module level or in classes, inside `with` / `if` / `try` blocks (never in functions)."""
        for stmt in stmts:
            if isinstance(stmt, cst.ClassDef):
                qualname = f"{prefix}{stmt.name.value}"
                yield from self.class_def(stmt, qualname, unscoped)
                yield from self.block(_body(stmt), f"{qualname}.", unscoped)
            elif isinstance(stmt, cst.With):
                off = unscoped or any((dotted_name(i.item.func if isinstance(i.item, cst.Call) else i.item) or "").endswith("scopes_disabled") for i in stmt.items)
                yield from self.block(_body(stmt), prefix, off)
            elif isinstance(stmt, (cst.If, cst.Try)):
                yield from self.block(_body(stmt), prefix, unscoped)
                orelse = getattr(stmt, "orelse", None)
                if orelse is not None:
                    yield from self.block([orelse] if isinstance(orelse, cst.If) else _body(orelse), prefix, unscoped)

    def kind(self, node: cst.ClassDef, qualname: str) -> str | None:
        names = [dotted_name(b.value) or "" for b in node.bases]
        if self.index is not None and self.summary is not None:
            names += [b for _, c in self.index.class_chain(self.summary.module, qualname) for b in c.bases]
        for name in names:
            last = name.rsplit(".", 1)[-1]
            for suffix, kind in _KINDS:
                if last.endswith(suffix):
                    return kind
        return None

    def class_def(self, node: cst.ClassDef, qualname: str, unscoped: bool) -> Iterator[QuerySite]:
        meta = next((s for s in _body(node) if isinstance(s, cst.ClassDef) and s.name.value == "Meta"), None)
        if meta is None:
            return
        values = _assignments(meta)
        model_node = values.get("model")
        if model_node is None:
            return
        kind = self.kind(node, qualname)
        if kind is None:
            return
        if kind == "serializer" and self.index is not None and self.summary is not None and not self.index.takes_input(self.summary.module, qualname):
            return  # only rendered (`OrderSerializer(order).data`): its relation fields never receive an id
        model = self.schema.model_for(self.module.imports.qualify(model_node) or "")
        if model is None or model.source != "django":
            return
        fields = values.get("fields")
        exclude = set(_strings(values.get("exclude")))
        if fields is not None and string_value(fields) is None:
            chosen = [(string_value(el.value), el.value) for el in getattr(fields, "elements", ()) if string_value(el.value)]
        elif fields is not None and string_value(fields) == "__all__":
            chosen = [(r.field, fields) for r in model.relations if r.field not in exclude]
        elif fields is None and (kind == "serializer" or values.get("exclude") is not None):
            anchor = model_node  # every field of the model but the excluded ones
            chosen = [(r.field, anchor) for r in model.relations if r.field not in exclude]
        else:
            return
        read_only = set(_strings(values.get("read_only_fields")))
        if isinstance(values.get("read_only_fields"), cst.Name) and values["read_only_fields"].value == "fields":
            read_only |= {f for f, _ in chosen}  # `read_only_fields = fields`: every listed field
        extra = values.get("extra_kwargs")
        if isinstance(extra, cst.Dict):
            read_only |= {string_value(el.key) for el in extra.elements if isinstance(el, cst.DictElement)}
        declared = {t.target.value for s in _body(node) if isinstance(s, cst.SimpleStatementLine)
                    for small in s.body if isinstance(small, (cst.Assign, cst.AnnAssign))
                    for t in (small.targets if isinstance(small, cst.Assign) else [small]) if isinstance(t.target, cst.Name)}
        methods = self.method_sources(node, qualname)
        if any(_LOOP.search(src) for src in methods):
            return  # a base or the class narrows the choices of its fields itself
        views = self.index.holder_sources(self.summary.module, qualname) if self.index is not None and self.summary is not None else []
        tenant = "|".join(sorted(map(re.escape, self.tenant_names)))
        for field, anchor in chosen:
            if field in declared or field in read_only or any(f'"{field}"' in src or f"'{field}'" in src or f"_{field}(" in src for src in methods):
                continue
            # a view that uses the class compares the chosen row's tenant: `if obj.status.project != obj.project:`
            checked = re.compile(rf"(?:\.{re.escape(field)}|\[[\"']{re.escape(field)}[\"']\])\.(?:{tenant})(?:_id)?\s*[!=]=") if tenant else None
            if checked is not None and any(checked.search(src) for src in views):
                continue
            target = self.target(model, field)
            if target is None:
                root = self.root_target(model, field)
                if root is not None and kind != "filter set" and not self.set_by_users(node, qualname, field) and not self.creates_only(qualname):
                    reason = (f"the {kind} leaves the tenant `{field}` writable, a choice among every {root.name}: the caller "
                              f"picks the tenant the row is written to, or moved to on update")
                    yield QuerySite(SiteKind.TENANT_VALUE, None, Restriction(Scope.SCOPED, (field,), reason), f"{qualname}.Meta.fields", anchor,
                                    f"{qualname}.Meta\0{field}\0tenant", qualname, value_source="request", entry=operator_entry(self.module.path))
                continue
            if (target.scoped_managers and not unscoped) or (kind != "filter set" and self.set_by_users(node, qualname, field, assigned=False)):
                continue  # scoped by django-scopes; or the code that saves the row sets the field itself
            when = " (built when the class is declared, inside scopes_disabled())" if target.scoped_managers else ""
            effect = "the answer tells whether it exists there" if kind == "filter set" else "the saved row then points at that tenant's data"
            reason = (f"the {kind}'s choices for `{field}` are every {target.name} of every tenant{when}: "
                      f"an id of another tenant's {target.name} is accepted, and {effect}")
            yield QuerySite(SiteKind.REFERENCE, target, Restriction(Scope.UNSCOPED, (), reason), f"{qualname}.Meta.fields", anchor,
                            f"{qualname}.Meta\0{field}", qualname, value_source="request", entry=operator_entry(self.module.path))

    def creates_only(self, qualname: str) -> bool:
        """The class receives request data only in views that create rows, checking the user's permission on the new
        row first (views.creates_only): the tenant it names is where the user may create, and no row is moved."""
        if self.index is None or self.summary is None or self.index.built_by_name(self.summary.module, qualname):
            return False
        holders = self.index.holders(self.summary.module, qualname)
        return bool(holders) and all(creates_only(self.index, m, q) for m, q in holders)

    @cached_property
    def tenant_names(self) -> frozenset[str]:
        """The names a row's tenant goes by in this schema, without `_id` (the check's pattern adds it back)."""
        return frozenset(n.removesuffix("_id") for n in tenant_relation_names(self.schema, {"django"}))

    def target(self, model: ModelInfo, field: str) -> ModelInfo | None:
        """The tenant-owned model a foreign key or many-to-many field of `model` points at."""
        rel = next((r for r in model.relations if r.field == field), None)
        if rel is None and any(c.many and c.name == field for c in model.columns):
            through = self.schema.model(f"{model.name}_{field}")  # the table Django builds for the field
            rel = next((r for r in through.relations if r.field != model.name.lower()), None) if through is not None else None
        target = self.schema.model(rel.target) if rel is not None else None
        return target if target is not None and target.is_tenant_table else None

    def root_target(self, model: ModelInfo, field: str) -> ModelInfo | None:
        """The tenant root a foreign key of `model` points at (`project` on a project-owned row)."""
        rel = next((r for r in model.relations if r.field == field), None)
        target = self.schema.model(rel.target) if rel is not None else None
        return target if target is not None and target.is_root else None

    def set_by_users(self, node: cst.ClassDef, qualname: str, field: str, assigned: bool = True) -> bool:
        """Whether the class, or the code that uses it, sets the tenant itself: `serializer.save(project=...)`,
        `validated_data["project"] = ...`, `obj = form.save(commit=False)` then `obj.organization = ...`,
        `self.instance.organization = ...` in the form."""
        if self.index is None or self.summary is None:
            return True
        pattern = rf"\.save\([^)]*\b{re.escape(field)}(?:_id)?\s*=|\[[\"']{re.escape(field)}(?:_id)?[\"']\]\s*=(?!=)"
        if assigned:  # `obj = form.save(commit=False); obj.organization = ...`: the tenant, whatever else the code does
            pattern += rf"|\.{re.escape(field)}(?:_id)?\s*=(?!=)"
        sets = re.compile(pattern)
        sources = self.index.user_sources(self.summary.module, qualname) + self.method_sources(node, qualname)
        return any(sets.search(src) for src in sources)

    def method_sources(self, node: cst.ClassDef, qualname: str) -> list[str]:
        """The source of every method of the class and of its project bases."""
        out = [self.module.tree.code_for_node(s) for s in _body(node) if isinstance(s, cst.FunctionDef)]
        if self.index is not None and self.summary is not None:
            out += self.index.method_sources(self.summary.module, qualname, bases_only=True)
        return out


def _body(node) -> list:
    body = getattr(node, "body", None)
    return list(body.body) if isinstance(body, cst.IndentedBlock) else []


def _assignments(meta: cst.ClassDef) -> dict[str, cst.BaseExpression]:
    out = {}
    for s in _body(meta):
        if isinstance(s, cst.SimpleStatementLine):
            for small in s.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                    out[small.targets[0].target.value] = small.value
    return out


def _strings(node) -> list[str]:
    return [v for el in getattr(node, "elements", ()) if (v := string_value(getattr(el, "value", None))) is not None]


ADAPTER = ChoicesAdapter()
