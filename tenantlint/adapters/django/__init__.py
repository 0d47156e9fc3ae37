"""Django ORM -> QuerySites.

A query *starts* where a model's manager, a related manager or `get_object_or_404` appears and is
*observed* where it runs or escapes (a terminal method, iteration, `return`, an argument). Between
the two it may be held in a local variable and refined in later statements; each function body is
walked once, statement by statement, with an environment that maps names to the possible states of
the queries they hold. Branches are walked separately and merged, so a filter applied on only one
path does not scope the query. A query is reported once, on the expression where it starts, with the
worst state it was observed in.

Tenant predicates are judged against the schema's tenant paths: `organization=org`,
`organization_id=...`, `patient__organization=org`, and a parent object that is itself tenant-owned
(`patient=patient`). `Q` objects combine with `&`, `|`, `~`; `exclude()` negates.

The walk is split by concern: `walk` (statements, branches, functions), `querysets` (managers, queryset methods,
inserts), `lookups` (filter arguments to tenant terms), `rows` (keys of rows in hand), `guards` (TL107
query-then-check), `views` (class-based views and DRF viewsets). `ModuleAnalysis` puts them together; the SQLAlchemy
and supabase adapters derive from it.
"""
from __future__ import annotations

from typing import Iterable

from tenantlint.adapters.django.guards import Guards
from tenantlint.adapters.django.lookups import Lookups
from tenantlint.adapters.django.querysets import Querysets
from tenantlint.adapters.django.rows import RowKeys
from tenantlint.adapters.django.views import ClassBasedViews
from tenantlint.adapters.django.vocabulary import _RUNTIME_MODEL
from tenantlint.adapters.django.walk import Walker
from tenantlint.config import Config
from tenantlint.python_module import PythonModule
from tenantlint.types import QuerySite, Schema


class ModuleAnalysis(ClassBasedViews, Guards, RowKeys, Lookups, Querysets, Walker):
    """One module's Django queries, walked function by function (see `walk.Walker`)."""

    SOURCES = frozenset({"django"})  # schema sources whose models this analysis understands


class DjangoAdapter:
    name = "django"

    def wants(self, source: str) -> bool:
        return any(
            s in source
            for s in (".objects", "_or_404", "queryset", ".filter(", ".all()", ".create(", ".exclude(", ".update(", ".delete(", "_set.", "_manager", ".get(")
        )

    @staticmethod
    def needs_names(source: str) -> bool:
        """A file that names no model of the schema is still judged when it queries a model picked at run time."""
        return not _RUNTIME_MODEL.search(source)

    def applies(self, schema: Schema) -> bool:
        """Whether the project has any table this adapter can judge (a Django project needs no SQLAlchemy pass)."""
        return any(info.source in ModuleAnalysis.SOURCES for info in schema.models.values())

    def sites(self, module: PythonModule, schema: Schema, config: Config, index=None) -> Iterable[QuerySite]:
        return ModuleAnalysis(module, schema, config, index).run()


ADAPTER = DjangoAdapter()
