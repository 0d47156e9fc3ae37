"""Framework-neutral value objects shared by schema sources, adapters, rules and reporters.

Nothing here imports libcst or sqlglot: a TypeScript front end builds the same objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Hashable, Mapping


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A region of a file: 1-based lines, 1-based columns, end column exclusive."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int


# --- schema -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Relation:
    """A foreign key (or one-to-one) from one model/table to another, as written in code or DDL."""

    field: str  # attribute name in code ("organization"); the column name for DDL
    target: str  # as written: "Organization", "db.Workspace", "organizations", "self"
    column: str  # database column ("organization_id")
    nullable: bool = False
    related_name: str | None = None  # reverse accessor declared on the relation (Django related_name)


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # database column name
    nullable: bool = False
    attr: str | None = None  # attribute name in code when it differs from the column
    unique: bool = False  # one row per value: a lookup by it on the tenant root names one tenant
    many: bool = False  # a many-to-many field (Django): its name is a related manager, no column


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """What one schema source learnt about one class or table, before inheritance and ownership are resolved.

    `bases` name the classes as written; `is_root_model` says a base is the framework's model root
    (django `models.Model`, SQLAlchemy `DeclarativeBase`/`db.Model`, `SQLModel, table=True`) so that
    classes deriving from other models can be recognised transitively.
    """

    name: str  # class name, or table name for DDL
    table: str | None  # database table name; None when it must be derived (abstract / inherited)
    source: str  # "django", "sqlalchemy", "ddl", ...
    path: str
    line: int
    app: str | None = None  # Django app label, used for "app.Model" references
    bases: tuple[str, ...] = ()
    is_root_model: bool = False
    abstract: bool = False
    columns: tuple[Column, ...] = ()
    relations: tuple[Relation, ...] = ()
    table_is_explicit: bool = False  # Meta.db_table / __tablename__ given
    derived: tuple[str, ...] = ()  # fields the model's own code fills in when a row is saved (`self.workspace = ...` in save())
    scoped_managers: tuple[str, ...] = ()  # managers that filter by the tenant themselves (django-scopes ScopedManager)
    scope_fields: tuple[str, ...] = ()  # "manager:field": the field each ScopedManager's path starts at (`space` of space="space")
    plain_managers: tuple[str, ...] = ()  # other managers the class assigns: they replace inherited scoped ones
    generic_keys: tuple[str, ...] = ()  # "content_type:object_id" of each GenericForeignKey the class declares
    declares_fields: bool = False  # the body declares the framework's fields (`models.ForeignKey(...)`): a model whatever its bases
    owner_via: tuple[str, ...] = ()  # relations that carry the tenant even when nullable (an association_proxy of the tenant column)
    through_of: str | None = None  # the table Django creates for a many-to-many field of this model


@dataclass(frozen=True, slots=True)
class TenantTable:
    """A table whose rows belong to one tenant."""

    name: str  # database table name
    model: str | None  # class name in code, when a model declares it
    tenant_paths: tuple[tuple[str, ...], ...]  # relation paths to the tenant root: (("organization",),) or (("patient", "organization"),)
    tenant_column: str | None  # column that holds the tenant id directly ("organization_id"), if any
    shared_when_null: bool  # NULL tenant rows are shared by every tenant (a global catalogue)
    source: str
    path: str
    line: int
    via: str  # human-readable: "FK organization -> Organization", "column org_id", "via patient -> Patient"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Any model or table the schema knows about, tenant-owned or not (adapters need the relation graph)."""

    name: str
    table: str
    source: str
    path: str
    line: int
    columns: tuple[Column, ...]
    relations: tuple[Relation, ...]  # targets resolved to model names where possible
    tenant: TenantTable | None
    is_root: bool = False  # this model is a tenant root (Organization, Realm, ...)
    is_shared: bool = False  # declared shared in configuration: never flagged
    opaque: bool = False  # a target whose tables cannot be seen (a stored procedure called by RPC)
    derived: tuple[str, ...] = ()  # fields filled in by the model's own save(), inherited from bases
    scoped_managers: tuple[str, ...] = ()  # managers that add the tenant filter themselves, inherited from bases
    generic_keys: tuple[str, ...] = ()  # "content_type:object_id": the two fields of a GenericForeignKey, inherited too

    @property
    def is_tenant_table(self) -> bool:
        return self.tenant is not None and not self.is_shared


@dataclass(frozen=True)
class Schema:
    models: Mapping[str, ModelInfo]  # by class name (and by table name for DDL-only tables)
    tables: Mapping[str, ModelInfo]  # by lower-case database table name
    reverse: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # model -> {reverse accessor: source model}
    diagnostics: tuple[str, ...] = ()
    unresolved: tuple[tuple[str, int, str], ...] = ()  # (path, line, what): classes and relation targets not followed
    by_app: Mapping[str, str] = field(default_factory=dict)  # "app.model" (lower case) -> key in models
    user_model: str = ""  # the project's own user model (settings.AUTH_USER_MODEL), by class name

    def model(self, name: str) -> ModelInfo | None:
        return self.models.get(name)

    def model_for(self, qualified: str) -> ModelInfo | None:
        """A class named through its import (`billing.models.Invoice`): the model of that app when two apps each
        declare one of that name, else the model of that name."""
        parts = qualified.split(".")
        for seg in reversed(parts[:-1]):
            key = self.by_app.get(f"{seg.lower()}.{parts[-1].lower()}")
            if key is not None:
                return self.models.get(key)
        return self.models.get(parts[-1])

    def table(self, name: str) -> ModelInfo | None:
        return self.tables.get(name.lower().strip('"'))

    @property
    def tenant_tables(self) -> list[TenantTable]:
        seen: dict[str, TenantTable] = {}
        for info in self.tables.values():
            if info.tenant is not None:
                seen[info.tenant.name] = info.tenant
        return sorted(seen.values(), key=lambda t: t.name)


# --- query sites --------------------------------------------------------------------------------


class Scope(str, Enum):
    SCOPED = "scoped"  # a tenant predicate (or tenant value, for inserts) holds on every path
    UNSCOPED = "unscoped"  # no tenant predicate
    DEFEATED = "defeated"  # a tenant predicate exists but OR / NOT / exclude() defeats it
    GUARDED = "guarded"  # no tenant predicate, but the row is compared with the tenant right after and rejected
    UNKNOWN = "unknown"  # cannot tell statically (filter(**kwargs), dynamic table name, ...)


@dataclass(frozen=True, slots=True)
class Restriction:
    scope: Scope
    predicates: tuple[str, ...] = ()  # tenant predicates found, as source text ("organization=org")
    reason: str = ""  # why DEFEATED or UNKNOWN (or how SCOPED was established)


class SiteKind(str, Enum):
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    INSERT = "insert"
    TENANT_VALUE = "tenant-value"  # a value that scopes a query, binds a tenant context or is written as the tenant
    BYPASS = "bypass"  # row-level security switched off or bypassed (a role, a service key, scopes_disabled())
    SETTING = "setting"  # a tenant setting bound on a connection (SET app.x, set_config)
    REFERENCE = "reference"  # a write sets a key to a tenant-owned row (`food_id=...`); `model` is that row's model


@dataclass(frozen=True, slots=True)
class QuerySite:
    """One query on one table, as an adapter understood it.

    For INSERT sites the restriction says whether the tenant value is written
    (SCOPED = it is, UNSCOPED = it is not, UNKNOWN = **kwargs or similar).
    """

    kind: SiteKind
    table: ModelInfo | None  # None for sites about a value or a connection rather than a table
    restriction: Restriction
    api: str  # short description of the call for messages: "Patient.objects.get"
    anchor: Hashable  # front-end handle to the expression; the front end turns it into a Span on demand
    text: str  # normalized source text of the query (fingerprints)
    function: str  # enclosing function qualified name, "<module>" at top level
    span: Span | None = None  # filled by front ends that know positions up front
    statement: object = None  # the front end's node of the statement holding `anchor`: finds its span when its text repeats
    related: tuple[tuple[str, Span, str], ...] = ()  # (path, span, message): the helper query judged at this call
    entry: str = ""  # what runs this code when it is not a request: "operator command" (reported as a note)
    guard: str = ""  # for GUARDED: the check that rejects another tenant's row
    derived: bool = False  # its key is read from a row another finding reads unscoped: a note, that finding is the cause
    alias: str = ""  # the name the query gives the table when it differs from the table's (SQL `FROM clinic_order o`)
    value_source: str = ""  # TENANT_VALUE, REFERENCE: "request" (chosen by the caller) or "fallback" (a default tenant)
    cross_tenant: str = ""  # the code is declared to work across tenants (`cross-tenant`), with the reason
    filter_required: bool = True  # the table's mode asks each query for a tenant filter (mode filter or both)
    context_required: bool = False  # the table's mode asks each query to run in a tenant context (context or both)
    context_gap: str = ""  # context_required and no context: where the context-less path starts

    @property
    def target(self) -> str:
        """The table as messages name it: `clinic_order`, or `clinic_order (as o)`."""
        if self.table is None:
            return ""
        name = self.table.table
        return f"{name} (as {self.alias})" if self.alias and self.alias.lower() != name.lower() else name


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    name: str
    level: Level
    path: str  # relative to the project root, forward slashes
    span: Span
    message: str
    fingerprint: str = ""
    related: tuple[tuple[str, Span, str], ...] = ()  # (path, span, message)
    content_fingerprint: str = ""  # the fingerprint without the path: a baseline's second chance after a file moves


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """One query on a tenant table, for the audit inventory: every site, scoped or not."""

    path: str
    line: int
    column: int
    table: str
    model: str
    kind: str  # read, update, delete, insert
    status: str  # scoped, unscoped, defeated, unverifiable, guarded
    api: str
    function: str
    reason: str = ""  # why the status (the restriction's reason)
    rules: tuple[str, ...] = ()  # codes reported on this site
    suppressed: tuple[str, ...] = ()  # "TL101: reason" for each suppressed finding
    cross_tenant: str = ""
    context: str = ""  # "", "inside", or "outside: <where the context-less path starts>" (context mode)
