"""SQL text -> sqlglot statements, each with where it starts in the text; every distinct text is parsed once.

DB-API placeholders (`%s`, `%(name)s`, `:name`, `$1`, `?`) are read by sqlglot as they are. A text that does not
parse is an error with sqlglot's reason; the caller turns it into a TL002 note at the right place.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # opaque commands (SET LOCAL, GRANT) are not our business

# a statement that can read or write tenant rows starts with one of these words (after comments and parentheses)
_QUERY_START = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*|\(\s*)*(select|with|insert|update|delete|merge|values|table)\b", re.IGNORECASE | re.DOTALL)


def looks_like_query(text: str) -> bool:
    """The text is a statement worth parsing: SELECT / WITH / INSERT / UPDATE / DELETE / MERGE."""
    return bool(_QUERY_START.match(text))


@dataclass(frozen=True, slots=True)
class Statement:
    tree: exp.Expression
    line: int  # 1-based line of its first token in the text
    col: int  # 1-based column of its first token
    end_line: int
    end_col: int  # exclusive
    text: str


@dataclass(frozen=True, slots=True)
class Parsed:
    statements: tuple[Statement, ...]
    error: str | None = None  # why the text could not be read
    error_line: int = 1


@lru_cache(maxsize=4096)
def parse_sql(text: str, dialect: str = "postgres") -> Parsed:
    """Every statement of `text`; a statement that does not parse ends the list with an error."""
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(text)
    except (TokenError, ValueError) as exc:
        return Parsed((), _first_line(str(exc)), 1)
    chunks: list[list] = [[]]
    for tok in tokens:
        if tok.token_type.name == "SEMICOLON":
            chunks.append([])
        else:
            chunks[-1].append(tok)
    out: list[Statement] = []
    for chunk in chunks:
        if not chunk:
            continue
        start, end = chunk[0].start, chunk[-1].end + 1
        # a token's start is the offset of its text; comments before it belong to nothing
        piece = text[start:end]
        try:
            trees = sqlglot.parse(piece, read=dialect)
        except (ParseError, TokenError) as exc:
            return Parsed(tuple(out), _first_line(str(exc)), chunk[0].line)
        except RecursionError:
            return Parsed(tuple(out), "the statement is nested too deeply to read", chunk[0].line)
        line, col = _point(text, start)
        end_line, end_col = _point(text, end)
        for tree in trees:
            if tree is not None:
                out.append(Statement(tree, line, col, end_line, end_col, piece))
    return Parsed(tuple(out))


def _point(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "sqlglot could not read it"
    return re.sub(r"\x1b\[[0-9;]*m", "", line)[:200]
