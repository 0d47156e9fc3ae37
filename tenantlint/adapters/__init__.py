"""Adapters turn code written against one database API into framework-neutral QuerySites.

Each adapter module exposes `ADAPTER`, an object with:
    name: str
    wants(source: str) -> bool          cheap text test; False means the module is not parsed for this adapter
    applies(schema: Schema) -> bool     the project has tables of this adapter's kind (else it never runs)
    sites(module: PythonModule, schema: Schema, config: Config, index: ProjectIndex | None) -> Iterable[QuerySite]
        (the project index lets an adapter judge a project helper where it is called)
"""
from __future__ import annotations

from typing import Iterable, Protocol

from tenantlint.config import Config
from tenantlint.python_module import PythonModule
from tenantlint.types import QuerySite, Schema


class PythonAdapter(Protocol):
    name: str

    def wants(self, source: str) -> bool: ...

    def sites(self, module: PythonModule, schema: Schema, config: Config, index=None) -> Iterable[QuerySite]: ...


def python_adapters() -> list[PythonAdapter]:
    from tenantlint.adapters import django, sql_strings, sqlalchemy, supabase, tenant_context
    from tenantlint.adapters.django import choices

    return [django.ADAPTER, choices.ADAPTER, sqlalchemy.ADAPTER, supabase.ADAPTER, sql_strings.ADAPTER, tenant_context.ADAPTER]
