"""Placeholder: CREATE TABLE in .sql files -> ModelFacts (sqlglot)."""
from __future__ import annotations

from tenantlint.types import ModelFacts


def facts_from_sql(text: str, path: str) -> tuple[list[ModelFacts], list[tuple[int, str]]]:
    """(facts, diagnostics as (line, message))."""
    return [], []
