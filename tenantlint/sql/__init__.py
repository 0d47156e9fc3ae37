"""SQL text to verdicts, with no framework: `parse` reads text into statements, `analyze` judges each reference to
a tenant table. Adapters (Python strings) and the engine (.sql files) feed it text; rules never see SQL."""
from __future__ import annotations

from dataclasses import dataclass

from tenantlint.sql.analyze import StatementAnalysis, TableVerdict
from tenantlint.sql.parse import Parsed, Statement, looks_like_query, parse_sql
from tenantlint.types import Schema

__all__ = ["JudgedStatement", "TableVerdict", "judge_text", "looks_like_query", "parse_sql"]


@dataclass(frozen=True, slots=True)
class JudgedStatement:
    statement: Statement
    verdicts: tuple[TableVerdict, ...]


def judge_text(text: str, schema: Schema, dialect: str = "postgres") -> tuple[list[JudgedStatement], Parsed]:
    """Every statement of `text` with the verdicts on its tenant-table references; `Parsed.error` says why the
    rest of the text could not be read."""
    parsed = parse_sql(text, dialect)
    out = []
    for st in parsed.statements:
        try:
            verdicts = StatementAnalysis(schema).run(st.tree)
        except RecursionError:
            verdicts = []
        out.append(JudgedStatement(st, tuple(verdicts)))
    return out, parsed
