"""Turn the ModelFacts of every source into one Schema: inheritance, references, tenant ownership.

Framework-neutral: Django, SQLAlchemy and DDL facts meet here, and so will Prisma's.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Iterable

from tenantlint.config import Config
from tenantlint.types import Column, ModelFacts, ModelInfo, Relation, Schema, TenantTable

MAX_OWNERSHIP_HOPS = 3

# models of Django's own apps (`"contenttypes.ContentType"`, `"auth.Group"`): shared tables, never the project's
_DJANGO_CONTRIB_APPS = {"contenttypes", "auth", "sites", "admin", "sessions", "flatpages", "redirects"}


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _is_root(name: str, table: str, roots: set[str]) -> bool:
    low = name.lower()
    if low in roots:
        return True
    t = table.lower()
    return t in roots or (t.endswith("s") and t[:-1] in roots) or any(t.endswith("_" + r) for r in roots)


def _package_model_base(qualified: str) -> bool:
    """`ordered_model.models.OrderedModel`, `model_utils.models.TimeStampedModel`: a model base of an installed
    package (imported from a module, named like a model), which the project's files do not declare."""
    module, _, last = qualified.rpartition(".")
    return bool(module) and not module.startswith("django.") and f".{module}.".find(".models.") >= 0 and last.endswith("Model")


def build_schema(all_facts: Iterable[ModelFacts], config: Config, auth_user_model: str | None = None) -> Schema:
    facts_by_name: dict[str, list[ModelFacts]] = defaultdict(list)
    ddl_tables: dict[str, ModelFacts] = {}
    alters: list[ModelFacts] = []
    for f in all_facts:
        if f.source == "ddl":
            ddl_tables[(f.table or f.name).lower()] = f
        elif f.source == "ddl-alter":
            alters.append(f)  # ALTER TABLE in a later migration: merged into the CREATE below
        else:
            facts_by_name[f.name].append(f)
    for a in sorted(alters, key=lambda f: f.path):
        key = (a.table or a.name).lower()
        base = ddl_tables.get(key)
        if base is not None:
            ddl_tables[key] = replace(
                base,
                columns=base.columns + tuple(c for c in a.columns if c.name not in {x.name for x in base.columns}),
                relations=base.relations + a.relations,
            )

    def pick(name: str, near: ModelFacts | None = None) -> ModelFacts | None:
        cands = facts_by_name.get(_last(name))
        if not cands:
            return None
        if near is not None and len(cands) > 1:
            for c in cands:
                if c.path == near.path or (c.app and c.app == near.app):
                    return c
        return cands[0]

    # Which classes are models: a framework root base, or a base that is itself a model (fixpoint).
    is_model: dict[int, bool] = {}

    def model_check(f: ModelFacts, depth: int = 0) -> bool:
        key = id(f)
        if key in is_model:
            return is_model[key]
        is_model[key] = False  # cycle guard
        if f.through_of is not None:  # a many-to-many table exists when its model does
            owner = pick(f.through_of, f)
            is_model[key] = owner is not None and owner is not f and model_check(owner, depth + 1)
            return is_model[key]
        result = f.is_root_model or (f.source == "django" and f.declares_fields)
        if not result and depth < 20:
            for b in f.bases:
                base = pick(b, f)
                if base is None:
                    if f.source == "django" and _package_model_base(b):
                        result = True
                        break
                    continue
                if base is not f and model_check(base, depth + 1):
                    result = True
                    break
        is_model[key] = result
        return result

    def inherited(f: ModelFacts, seen: frozenset[int] = frozenset()) -> tuple[list[Column], list[Relation], str | None]:
        columns: dict[str, Column] = {}
        relations: dict[str, Relation] = {}
        table: str | None = None
        for b in reversed(f.bases):  # later bases first so that earlier bases win, like Python's MRO
            base = pick(b, f)
            if base is None or base is f or id(base) in seen:
                continue
            cols, rels, btable = inherited(base, seen | {id(f)})
            columns.update((c.name, c) for c in cols)
            relations.update((r.field, r) for r in rels)
            if btable and not base.abstract and base.table_is_explicit and f.source == "sqlalchemy":
                table = btable  # single-table inheritance: the subclass reads the base table
        columns.update((c.name, c) for c in f.columns)
        relations.update((r.field, r) for r in f.relations)
        return list(columns.values()), list(relations.values()), f.table if f.table_is_explicit else (table or f.table)

    def scope_fields_of(f: ModelFacts, depth: int = 0) -> set[str]:
        """"manager:field" of each scoped manager, from the nearest class that declares the manager."""
        out = set(f.scope_fields)
        own = {e.partition(":")[0] for e in out} | set(f.scoped_managers) | set(f.plain_managers)
        if depth < 10:
            for b in f.bases:
                base = pick(b, f)
                if base is not None and base is not f:
                    out |= {e for e in scope_fields_of(base, depth + 1) if e.partition(":")[0] not in own}
        return out

    def derived_of(f: ModelFacts, depth: int = 0, attr: str = "derived") -> set[str]:
        out = set(getattr(f, attr))
        if depth < 10:
            for b in f.bases:
                base = pick(b, f)
                if base is not None and base is not f:
                    inherited_names = derived_of(base, depth + 1, attr)
                    if attr == "scoped_managers":  # `objects = models.Manager()` in a subclass replaces a scoped one
                        inherited_names -= set(f.plain_managers)
                    out |= inherited_names
        return out

    models: dict[str, ModelInfo] = {}
    raw: dict[str, tuple[ModelFacts, list[Column], list[Relation], str]] = {}
    by_app: dict[str, str] = {}  # "app.model" (lower case) -> key in raw: two apps may each have an `Invoice`
    for name, cands in facts_by_name.items():
        # every candidate that is a model: a pydantic `Document` elsewhere must not hide the table `Document`
        for f in (c for c in cands if not c.abstract and model_check(c)):
            key = name if name not in raw else f"{f.app}.{name}" if f.app else None
            if key is None or key in raw:
                continue
            cols, rels, table = inherited(f)
            raw[key] = (f, cols, rels, table or name.lower())
            if f.app:
                by_app.setdefault(f"{f.app.lower()}.{name.lower()}", key)
    for key, f in ddl_tables.items():
        if any(t.lower() == key for (_, _, _, t) in raw.values()):
            continue  # a model already declares this table; its facts are richer
        raw[f.name] = (f, list(f.columns), list(f.relations), f.table or f.name)

    table_to_model = {t.lower(): n for n, (_, _, _, t) in raw.items()}
    name_to_model = {n.lower(): n for n in raw}
    user_model = (auth_user_model or "auth.User").split(".")[-1]
    unresolved: list[tuple[str, int, str]] = []

    def resolve_target(target: str, owner: str) -> str:
        if target == "self":
            return owner
        if target == "AUTH_USER_MODEL":  # settings.AUTH_USER_MODEL, read from the project's settings
            target = user_model
        t = target.split(".")
        # "app.Model" / "app.models.Model" / "Model" / "table" / "schema.table"; Django matches the model part
        # case-insensitively and a bare name in the model's own app first
        for seg in reversed(t[:-1]):
            key = by_app.get(f"{seg.lower()}.{t[-1].lower()}")
            if key is not None:
                return key
        if len(t) == 1 and raw[owner][0].app:
            key = by_app.get(f"{raw[owner][0].app.lower()}.{t[-1].lower()}")
            if key is not None:
                return key
        if t[-1] in raw:
            return t[-1]
        found = table_to_model.get(t[-1].lower()) or name_to_model.get(t[-1].lower())
        if found is None:
            f = raw[owner][0]
            if f.source == "django" and not (target == user_model and auth_user_model is None) and not target.startswith("django.") \
                    and not (len(t) == 2 and t[0].lower() in _DJANGO_CONTRIB_APPS):
                unresolved.append((f.path, f.line, f"{owner}: relation target '{target}' is not a model of this project"))
            return t[-1]
        return found

    roots = {r.lower() for r in config.tenant_roots}
    columns_cfg = {c.lower() for c in config.tenant_columns}
    forced = {t.lower() for t in config.tenant_tables}
    shared = {t.lower() for t in config.shared_tables}

    resolved_rels: dict[str, list[Relation]] = {}
    for name, (f, cols, rels, table) in raw.items():
        resolved_rels[name] = [
            Relation(r.field, resolve_target(r.target, name), r.column, r.nullable, r.related_name) for r in rels
        ]

    root_models = {n for n, (f, _, _, t) in raw.items() if _is_root(_last(n), t, roots)}
    for r in config.tenant_roots:
        root_models.add(r)  # a root may be declared outside the scanned tree (an installed package)

    # Direct ownership: a relation to a root model or a tenant column.
    tenant: dict[str, TenantTable] = {}
    for name, (f, cols, rels, table) in raw.items():
        if name in root_models:
            continue
        paths: list[tuple[str, ...]] = []
        nullables: list[bool] = []
        column: str | None = None
        via: list[str] = []
        for r in resolved_rels[name]:
            if r.target in root_models or r.target.lower() in roots or r.column.lower() in columns_cfg:
                paths.append((r.field,))
                nullables.append(r.nullable)
                column = column or r.column
                via.append(f"FK {r.field} -> {r.target}")
        for c in cols:
            if c.name.lower() in columns_cfg and not any(p == ((c.attr or c.name),) for p in paths):
                paths.append((c.attr or c.name,))
                nullables.append(c.nullable)
                column = column or c.name
                via.append(f"column {c.name}")
        if paths:
            tenant[name] = TenantTable(
                name=table,
                model=None if f.source == "ddl" else name,
                tenant_paths=tuple(paths),
                tenant_column=column,
                shared_when_null=all(nullables),
                source=f.source,
                path=f.path,
                line=f.line,
                via=", ".join(via),
            )

    # Ownership through a parent (Order -> Patient -> Organization), shortest path first.
    for _hop in range(MAX_OWNERSHIP_HOPS - 1):
        added: dict[str, TenantTable] = {}
        for name, (f, cols, rels, table) in raw.items():
            if name in tenant or name in root_models:
                continue
            paths = []
            via = []
            for r in resolved_rels[name]:
                parent = tenant.get(r.target)
                if parent is None or r.target == name or parent.shared_when_null or (r.nullable and r.field not in f.owner_via):
                    # a row of a shared catalogue, or an optional link (`acting_user`, `creator`),
                    # does not say whose this row is
                    continue
                for p in parent.tenant_paths:
                    paths.append((r.field, *p))
                via.append(f"via {r.field} -> {r.target}")
            if paths:
                added[name] = TenantTable(
                    name=table,
                    model=None if f.source == "ddl" else name,
                    tenant_paths=tuple(paths),
                    tenant_column=None,
                    shared_when_null=False,
                    source=f.source,
                    path=f.path,
                    line=f.line,
                    via=", ".join(via),
                )
        if not added:
            break
        tenant.update(added)

    # A directly owned row may also name its tenant through a required parent (a row carrying both workspace_id and
    # project_id: `project__workspace=ws` and `create(project=p)` name the tenant too).
    direct = dict(tenant)
    for name, tt in direct.items():
        if tt.tenant_column is None:
            continue
        extra: list[tuple[str, ...]] = []
        for r in resolved_rels[name]:
            parent = direct.get(r.target)
            if parent is None or r.nullable or r.target == name or parent.shared_when_null:
                continue
            extra.extend((r.field, *p) for p in parent.tenant_paths if len(p) < MAX_OWNERSHIP_HOPS)
        if extra:
            tenant[name] = replace(tt, tenant_paths=tt.tenant_paths + tuple(extra))

    for name, (f, cols, rels, table) in raw.items():
        if name not in tenant and (name.lower() in forced or table.lower() in forced):
            tenant[name] = TenantTable(table, name, (), None, False, "config", f.path, f.line, "declared in tenant-tables")

    reverse: dict[str, dict[str, str]] = defaultdict(dict)
    for name, (f, cols, rels, table) in raw.items():
        info = ModelInfo(
            name=name,
            table=table,
            source=f.source,
            path=f.path,
            line=f.line,
            columns=tuple(cols),
            relations=tuple(resolved_rels[name]),
            tenant=tenant.get(name),
            is_root=name in root_models,
            is_shared=name.lower() in shared or table.lower() in shared,
            derived=tuple(sorted(derived_of(f))),
            scoped_managers=tuple(sorted(_scoping(derived_of(f, attr="scoped_managers"), scope_fields_of(f), cols, rels))),
            generic_keys=tuple(sorted(derived_of(f, attr="generic_keys"))),
        )
        models[name] = info
        for r in resolved_rels[name]:
            if r.related_name == "+":
                continue
            accessor = (r.related_name or f"{name.lower()}_set").replace("%(class)s", name.lower()).replace("%(app_label)s", (f.app or "").lower())
            reverse[r.target][accessor] = name

    tables = {info.table.lower(): info for info in models.values()}
    diagnostics = tuple(
        f"tenant-tables names '{t}', which no model or CREATE TABLE declares"
        for t in config.tenant_tables
        if t.lower() not in {n.lower() for n in models} and t.lower() not in tables
    )
    for name, cands in facts_by_name.items():
        for f in cands:
            if f.source != "django" or f.abstract or model_check(f):
                continue
            # a class of a models module that declares field-like attributes, but whose bases could not be followed
            looks = "models" in f.path and bool(f.columns or f.relations)
            missing = [b for b in f.bases if pick(b, f) is None and not b.startswith(("django.", "rest_framework.", "typing.", "enum.", "pydantic.", "abc.", "dataclasses.", "marshmallow."))]
            if looks and missing:
                unresolved.append((f.path, f.line, f"class {f.name}: base {', '.join(missing)} could not be followed, so it is not read as a model"))
    return Schema(models=models, tables=tables, reverse={k: dict(v) for k, v in reverse.items()}, diagnostics=diagnostics,
                  unresolved=tuple(sorted(set(unresolved))), by_app=by_app, user_model=user_model if auth_user_model else "")


def _scoping(managers: set[str], fields: set[str], columns, relations) -> set[str]:
    """The scoped managers that can filter this model: a ScopedManager whose path starts at a field the model does not
    have (`ScopedManager(space="space")` on a model without `space`) makes every query fail inside a scope, so the
    model is only ever queried with scopes off: it is no scoped model."""
    have = {r.field for r in relations} | {c.attr or c.name for c in columns}
    starts: dict[str, set[str]] = {}
    for entry in fields:
        manager, _, field = entry.partition(":")
        starts.setdefault(manager, set()).add(field)
    return {m for m in managers if m not in starts or starts[m] <= have}
