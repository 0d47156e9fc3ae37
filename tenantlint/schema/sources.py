"""Schema sources: code or DDL -> ModelFacts.

Each Python source module exposes `SOURCE` with:
    name: str
    wants(source: str) -> bool
    facts(module: PythonModule, config: Config) -> Iterable[ModelFacts]
DDL is read by `tenantlint.schema.ddl.facts_from_sql(text, path)`.
"""
from __future__ import annotations

from typing import Iterable, Protocol

from tenantlint.config import Config
from tenantlint.python_module import PythonModule
from tenantlint.types import ModelFacts


class PythonSchemaSource(Protocol):
    name: str

    def wants(self, source: str) -> bool: ...

    def facts(self, module: PythonModule, config: Config) -> Iterable[ModelFacts]: ...


def python_sources() -> list[PythonSchemaSource]:
    from tenantlint.schema import django, sqlalchemy

    return [django.SOURCE, sqlalchemy.SOURCE]
